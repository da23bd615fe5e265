//===- FuseElementwiseKernels.cpp - qtrain-fuse-elementwise-kernels -------===//
//
// Upstream's elementwise fusion (linalg-fuse-elementwise-ops) fuses an
// elementwise producer into any consumer, contractions included, where it
// would be recomputed for every element of the output that reads it, and
// hides the GEMM's operands from the tensor-core kernels; a producer with
// other uses stays and becomes an extra result of the fused op. Its
// patterns take a control function; this pass gives them one that fuses
// where each producer element is computed once, or where the producer is a
// scalar computation (scales from an amax), cloned for each consumer that
// takes it. An elementwise producer of several uses that costs no more to
// recompute than to read back is cloned likewise, so that its consumers do
// not wait for it (on a GPU, a kernel each that depends on the producer's).
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_FUSEELEMENTWISEKERNELSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

/// A generic op without loops: scalar arithmetic on 0-d tensors.
static bool isScalar(linalg::GenericOp op) {
  return op.getNumLoops() == 0 && op.hasPureTensorSemantics();
}

/// Whether `consumer` reads every element of each operand with loops once
/// (elementwise ops, whole reductions), so that what is fused into it runs
/// once an element: not a contraction or a broadcast.
static bool readsOperandsOnce(linalg::GenericOp consumer) {
  return llvm::all_of(consumer->getOpOperands(), [&](OpOperand &operand) {
    AffineMap map = consumer.getMatchingIndexingMap(&operand);
    return map.getNumResults() == 0 || map.isPermutation();
  });
}

/// Whether to fuse `operand`'s producer into its consumer: a scalar
/// producer into any consumer but a contraction (recomputing a few scalar
/// operations an element costs less than a launch; contractions stay
/// plain for the tensor-core kernels), else a producer of one use (or of
/// any, `anyUses`, for one cloned per use) whose elements the consumer's
/// loops visit one each.
static bool shouldFuse(OpOperand *operand, bool anyUses = false) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer)
    return false;
  if (isScalar(producer))
    return consumer.getNumReductionLoops() == 0 || readsOperandsOnce(consumer);
  return (anyUses || producer->hasOneUse()) &&
         consumer.getMatchingIndexingMap(operand).isPermutation();
}

/// Whether `producer` is an elementwise op that costs no more to recompute
/// in a consumer than to read back: at most one operand read element by
/// element (the rest broadcast), no wider than its one result, and a body
/// of plain arithmetic. A consumer that recomputes it reads that operand
/// instead of the result: the same bytes, and no longer waits for the
/// producer (an epilogue's amax runs beside the epilogue on a GPU).
static bool isCheapToRecompute(linalg::GenericOp producer) {
  // An init that the body reads is one more operand, and upstream's fusion
  // keeps it as an extra result.
  if (producer.getNumReductionLoops() != 0 || producer->getNumResults() != 1 ||
      !producer.hasPureTensorSemantics() ||
      producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)))
    return false;
  unsigned resultBits = getElementTypeOrSelf(producer->getResult(0).getType())
                            .getIntOrFloatBitWidth();
  unsigned fullSize = 0;
  for (OpOperand *input : producer.getDpsInputOperands()) {
    if (!producer.getMatchingIndexingMap(input).isPermutation())
      continue;
    Type element = getElementTypeOrSelf(input->get().getType());
    if (++fullSize > 1 || !element.isIntOrFloat() ||
        element.getIntOrFloatBitWidth() > resultBits)
      return false;
  }
  return llvm::all_of(producer.getBody()->without_terminator(),
                      [](Operation &op) { return op.getNumRegions() == 0; });
}

/// Gives each consumer that a producer of several uses would fuse into a
/// clone of its own, so that the fusion leaves no extra results: scalar
/// producers, and elementwise ones cheap to recompute. Later producers
/// first: their clones add uses to earlier ones.
static void cloneProducersOfSeveralUses(Operation *root) {
  SmallVector<linalg::GenericOp> producers;
  root->walk([&](linalg::GenericOp op) {
    if ((isScalar(op) && op->getNumResults() == 1) || isCheapToRecompute(op))
      producers.push_back(op);
  });
  for (linalg::GenericOp producer : llvm::reverse(producers)) {
    if (producer->hasOneUse())
      continue;
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : producer->getResult(0).getUses())
      if (shouldFuse(&use, /*anyUses=*/true))
        uses.push_back(&use);
    for (OpOperand *use : uses) {
      OpBuilder b(use->getOwner());
      use->set(b.clone(*producer)->getResult(0));
    }
    if (producer->use_empty())
      producer->erase();
  }
}

namespace {
struct FuseElementwiseKernelsPass
    : mlir::qtrain::impl::FuseElementwiseKernelsPassBase<
          FuseElementwiseKernelsPass> {
  void runOnOperation() override {
    cloneProducersOfSeveralUses(getOperation());
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) { return shouldFuse(operand); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
