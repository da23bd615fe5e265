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
// takes it.
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
/// plain for the tensor-core kernels), else a producer of one use whose
/// elements the consumer's loops visit one each.
static bool shouldFuse(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer)
    return false;
  if (isScalar(producer))
    return consumer.getNumReductionLoops() == 0 || readsOperandsOnce(consumer);
  return producer->hasOneUse() &&
         consumer.getMatchingIndexingMap(operand).isPermutation();
}

/// Gives each consumer that a scalar producer of several uses would fuse
/// into a clone of its own, so that the fusion leaves no extra results.
/// Later producers first: their clones add uses to earlier ones.
static void cloneScalarProducers(Operation *root) {
  SmallVector<linalg::GenericOp> scalars;
  root->walk([&](linalg::GenericOp op) {
    if (isScalar(op) && op->getNumResults() == 1)
      scalars.push_back(op);
  });
  for (linalg::GenericOp producer : llvm::reverse(scalars)) {
    if (producer->hasOneUse())
      continue;
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : producer->getResult(0).getUses())
      if (shouldFuse(&use))
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
    cloneScalarProducers(getOperation());
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
