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
// not wait for it (on a GPU, a kernel each that depends on the producer's),
// and so is one that costs less to recompute in all its uses than to
// materialize and read back.
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

/// Whether `consumer` reads no element of an operand for several of its
/// output elements: each operand is a scalar or indexed by every parallel
/// loop (elementwise ops, reductions, whose operands may broadcast along the
/// reduced loops: a bias read by its layer's gradient), so that what is
/// fused into it runs once an element read. Not a contraction, which reads
/// each element of A for every column of its output, or an op broadcasting
/// along its output.
static bool readsNoOperandForSeveralOutputs(linalg::GenericOp consumer) {
  SmallVector<unsigned> parallelLoops;
  consumer.getParallelDims(parallelLoops);
  return llvm::all_of(consumer->getOpOperands(), [&](OpOperand &operand) {
    AffineMap map = consumer.getMatchingIndexingMap(&operand);
    return map.getNumResults() == 0 ||
           llvm::all_of(parallelLoops, [&](unsigned loop) {
             return map.isFunctionOfDim(loop);
           });
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
    return consumer.getNumReductionLoops() == 0 ||
           readsNoOperandForSeveralOutputs(consumer);
  return (anyUses || producer->hasOneUse()) &&
         consumer.getMatchingIndexingMap(operand).isPermutation();
}

/// What recomputing an elementwise `producer` in a consumer reads, in bits
/// an element: its operands read element by element (the rest broadcast),
/// against its one result's. None where the producer is no plain
/// elementwise op (a reduction, several results, an init that the body
/// reads, which upstream's fusion keeps as an extra result, or ops with
/// regions in its body).
struct RecomputeCost {
  unsigned fullSizeOperands = 0, operandBits = 0, widestOperandBits = 0,
           resultBits = 0;
};
static std::optional<RecomputeCost> recomputeCost(linalg::GenericOp producer) {
  if (producer.getNumReductionLoops() != 0 || producer->getNumResults() != 1 ||
      !producer.hasPureTensorSemantics() ||
      producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)))
    return std::nullopt;
  if (!llvm::all_of(producer.getBody()->without_terminator(),
                    [](Operation &op) { return op.getNumRegions() == 0; }))
    return std::nullopt;
  RecomputeCost cost;
  cost.resultBits = getElementTypeOrSelf(producer->getResult(0).getType())
                        .getIntOrFloatBitWidth();
  for (OpOperand *input : producer.getDpsInputOperands()) {
    if (!producer.getMatchingIndexingMap(input).isPermutation())
      continue;
    Type element = getElementTypeOrSelf(input->get().getType());
    if (!element.isIntOrFloat())
      return std::nullopt;
    unsigned bits = element.getIntOrFloatBitWidth();
    ++cost.fullSizeOperands;
    cost.operandBits += bits;
    cost.widestOperandBits = std::max(cost.widestOperandBits, bits);
  }
  return cost;
}

/// Whether `producer` costs no more to recompute in a consumer than to
/// read back: at most one operand read element by element, no wider than
/// its result. A consumer that recomputes it reads that operand instead of
/// the result: the same bytes, and no longer waits for the producer (an
/// epilogue's amax runs beside the epilogue on a GPU).
static bool isCheapToRecompute(linalg::GenericOp producer) {
  std::optional<RecomputeCost> cost = recomputeCost(producer);
  return cost && cost->fullSizeOperands <= 1 &&
         cost->widestOperandBits <= cost->resultBits;
}

/// Whether recomputing `producer` in each of its `uses` consumers, every
/// one of which would fuse it (and is elementwise or a reduction to one
/// element), reads no more than computing it once
/// (reading its operands, writing its result) and reading it back in each:
/// with two uses, a producer of two operands as wide as its result (the
/// backward pass's relu-gradient product, read by its amax and its
/// quantization) reads 4 elements' worth instead of moving 5. Nothing is
/// materialized, and the amax can reach the GEMM kernel's epilogue.
static bool isCheaperToRecomputeEverywhere(linalg::GenericOp producer,
                                           unsigned uses) {
  std::optional<RecomputeCost> cost = recomputeCost(producer);
  return cost && uses * cost->operandBits <= cost->operandBits +
                                                 cost->resultBits +
                                                 uses * cost->resultBits;
}

/// Whether `use`'s consumer is elementwise or a reduction to one element
/// (an amax), whose kernels take a recomputed producer without splitting
/// up: consumers that reduce rows (a softmax's) fuse into multi-result
/// kernels that a clone each would split.
static bool isMapOrWholeReduction(OpOperand *use) {
  auto consumer = cast<linalg::GenericOp>(use->getOwner());
  return consumer.getNumReductionLoops() == 0 ||
         consumer.getNumParallelLoops() == 0;
}

/// Makes elementwise ops that add into a filled init (the gradients that
/// autodiff accumulates into zeros) read the fill's value instead: each
/// output element is the fill's value where the body reads it. Such an op
/// then reads no init, so that it can be recomputed in its consumers
/// (upstream's fusion keeps an op that reads its init as an extra result),
/// and its buffer needs no fill.
static void readFillValuesDirectly(Operation *root) {
  root->walk([](linalg::GenericOp op) {
    if (op.getNumReductionLoops() != 0 || !op.hasPureTensorSemantics())
      return;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto fill = init.get().getDefiningOp<linalg::FillOp>();
      BlockArgument arg = op.getMatchingBlockArgument(&init);
      // Each element written once (a permutation), before which it holds
      // the fill's value. (A fill casts a value of another type; those
      // stay.)
      if (fill && !arg.use_empty() &&
          op.getMatchingIndexingMap(&init).isPermutation() &&
          fill.getInputs()[0].getType() == arg.getType())
        arg.replaceAllUsesWith(fill.getInputs()[0]);
    }
  });
}

/// Gives each consumer that a producer of several uses would fuse into a
/// clone of its own, so that the fusion leaves no extra results: scalar
/// producers and elementwise ones cheap to recompute (those uses that
/// fuse), and elementwise ones cheaper to recompute in every use than to
/// materialize (where every use fuses). Later producers first: their
/// clones add uses to earlier ones.
static void cloneProducersOfSeveralUses(Operation *root) {
  SmallVector<linalg::GenericOp> producers;
  root->walk([&](linalg::GenericOp op) {
    if ((isScalar(op) && op->getNumResults() == 1) || recomputeCost(op))
      producers.push_back(op);
  });
  for (linalg::GenericOp producer : llvm::reverse(producers)) {
    if (producer->hasOneUse())
      continue;
    SmallVector<OpOperand *> uses;
    unsigned allUses = 0;
    for (OpOperand &use : producer->getResult(0).getUses()) {
      ++allUses;
      if (shouldFuse(&use, /*anyUses=*/true))
        uses.push_back(&use);
    }
    bool clone =
        isScalar(producer) || isCheapToRecompute(producer) ||
        (uses.size() == allUses && llvm::all_of(uses, isMapOrWholeReduction) &&
         isCheaperToRecomputeEverywhere(producer, allUses));
    if (!clone)
      continue;
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
    readFillValuesDirectly(getOperation());
    cloneProducersOfSeveralUses(getOperation());
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) { return shouldFuse(operand); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
