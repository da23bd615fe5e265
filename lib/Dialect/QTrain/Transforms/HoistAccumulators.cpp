//===- HoistAccumulators.cpp - qtrain-hoist-accumulators ------------------===//
//
// `convert-linalg-to-parallel-loops` lowers a reduction to a loop over its
// terms that loads the output element, combines a term into it and stores
// it back, at every term: on a GPU each thread's next load waits for its
// store, and the loop's other loads are not hoisted past the store (they
// may alias it). This pass carries such an element in the loop's
// iter_args instead, loaded once before the loop and stored once after it.
//
// Upstream's scalar replacement (`affine-scalrep`) takes affine loads and
// stores only, and its subset hoisting (`hoistLoopInvariantSubsets`,
// `hoistRedundantVectorTransfers`) tensor subsets and vector transfers.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_HOISTACCUMULATORSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// A load and a store of one element at loop-invariant indices, the load
/// first, in a loop's body.
struct Accumulator {
  memref::LoadOp load;
  memref::StoreOp store;
};

/// Whether every memory access in `loop` but `accumulator`'s is known not
/// to touch its buffer (no alias), and no op has effects unknown.
bool onlyAccessOf(scf::ForOp loop, Accumulator accumulator,
                  AliasAnalysis &aliases) {
  Value buffer = accumulator.store.getMemRef();
  WalkResult result = loop.getBody()->walk([&](Operation *op) {
    if (op == accumulator.load || op == accumulator.store)
      return WalkResult::advance();
    if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance(); // its nested ops are visited
    auto effecting = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effecting)
      return WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> effects;
    effecting.getEffects(effects);
    for (const MemoryEffects::EffectInstance &effect : effects) {
      if (isa<MemoryEffects::Allocate, MemoryEffects::Free>(effect.getEffect()))
        continue;
      Value value = effect.getValue();
      if (!value || !aliases.alias(value, buffer).isNo())
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// An accumulator of `loop`'s body that nothing else in the loop may read
/// or write, if any.
std::optional<Accumulator> findAccumulator(scf::ForOp loop,
                                           AliasAnalysis &aliases) {
  Block *body = loop.getBody();
  for (auto store : body->getOps<memref::StoreOp>()) {
    Value buffer = store.getMemRef();
    if (!loop.isDefinedOutsideOfLoop(buffer) ||
        !llvm::all_of(store.getIndices(), [&](Value index) {
          return loop.isDefinedOutsideOfLoop(index);
        }))
      continue;
    memref::LoadOp load;
    for (Operation &op : *body) {
      if (&op == store.getOperation())
        break;
      auto candidate = dyn_cast<memref::LoadOp>(op);
      if (candidate && candidate.getMemRef() == buffer &&
          candidate.getIndices() == store.getIndices())
        load = candidate;
    }
    Accumulator accumulator{load, store};
    if (load && onlyAccessOf(loop, accumulator, aliases))
      return accumulator;
  }
  return std::nullopt;
}

/// Carries `accumulator`'s element in a new iter_arg of `loop`: one load
/// before it, one store after it. Returns the loop that replaces `loop`.
scf::ForOp hoist(RewriterBase &rewriter, scf::ForOp loop,
                 Accumulator accumulator) {
  rewriter.setInsertionPoint(loop);
  Value initial = memref::LoadOp::create(rewriter, accumulator.load.getLoc(),
                                         accumulator.load.getMemRef(),
                                         accumulator.load.getIndices());
  Value stored = accumulator.store.getValueToStore();
  FailureOr<LoopLikeOpInterface> widened = loop.replaceWithAdditionalYields(
      rewriter, initial, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument> carried) {
        rewriter.replaceAllUsesWith(accumulator.load.getResult(), carried[0]);
        return SmallVector<Value>{stored};
      });
  assert(succeeded(widened) && "scf.for takes more iter_args");
  auto widenedLoop = cast<scf::ForOp>(widened->getOperation());
  rewriter.setInsertionPointAfter(widenedLoop);
  memref::StoreOp::create(
      rewriter, accumulator.store.getLoc(), widenedLoop.getResults().back(),
      accumulator.store.getMemRef(), accumulator.store.getIndices());
  rewriter.eraseOp(accumulator.store);
  rewriter.eraseOp(accumulator.load);
  return widenedLoop;
}

struct HoistAccumulatorsPass
    : mlir::qtrain::impl::HoistAccumulatorsPassBase<HoistAccumulatorsPass> {
  void runOnOperation() override {
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    IRRewriter rewriter(&getContext());
    // Inner loops first: a hoisted inner accumulator's load and store may
    // make one of the loop around it.
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      while (std::optional<Accumulator> accumulator =
                 findAccumulator(loop, aliases))
        loop = hoist(rewriter, loop, *accumulator);
  }
};

} // namespace
