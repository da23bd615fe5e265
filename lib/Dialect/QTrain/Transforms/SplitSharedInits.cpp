//===- SplitSharedInits.cpp - qtrain-split-shared-inits -------------------===//
//
// One-shot bufferization gives a tensor that several ops write into one
// buffer and copies it for every other writer, so a `tensor.empty` (or a
// zero fill of one) shared by many ops becomes one buffer held from its
// first to its last writer plus a full copy per writer. CSE creates such
// sharing from identical inits, and the upstream remedy (empty-tensor
// elimination) only covers inits that end in an insert_slice. This pass
// undoes it just before bufferization: each writer gets its own init.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_SPLITSHAREDINITSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

/// A `tensor.empty`, or a `linalg.fill` of one.
static bool isInit(Operation *op) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  auto fill = dyn_cast<linalg::FillOp>(op);
  return fill && fill.hasPureTensorSemantics() &&
         fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
}

/// Whether `use` hands its tensor to an op that writes into it: the init of
/// a destination-style op or of a loop's iteration arguments.
static bool isWrittenInto(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(owner))
    return dps.isDpsInit(&use);
  if (auto loop = dyn_cast<LoopLikeOpInterface>(owner))
    return llvm::is_contained(loop.getInitsMutable(), use);
  return false;
}

/// A fresh copy of the init `op` (a fill gets a fresh empty tensor too).
static Value cloneInit(OpBuilder &b, Operation *op) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  if (!fill)
    return b.clone(*op)->getResult(0);
  Value empty = b.clone(*fill.getOutputs()[0].getDefiningOp())->getResult(0);
  return linalg::FillOp::create(b, fill.getLoc(), fill.getInputs(), empty)
      .getResult(0);
}

namespace {
struct SplitSharedInitsPass
    : mlir::qtrain::impl::SplitSharedInitsPassBase<SplitSharedInitsPass> {
  void runOnOperation() override {
    // Program order (pre-order), to find each init's first writer.
    DenseMap<Operation *, unsigned> order;
    SmallVector<Operation *> inits;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      order[op] = order.size();
      if (isInit(op))
        inits.push_back(op);
    });
    OpBuilder b(&getContext());
    for (Operation *init : inits) {
      // Writers in program order, each with the op of the init's block that
      // holds it: the first keeps the init, the others get a copy right
      // before that op, so their buffers are not live any earlier.
      Block *block = init->getBlock();
      SmallVector<std::pair<Operation *, OpOperand *>> writers;
      for (OpOperand &use : init->getResult(0).getUses())
        if (isWrittenInto(use))
          if (Operation *at = block->findAncestorOpInBlock(*use.getOwner()))
            writers.push_back({at, &use});
      if (writers.size() < 2)
        continue;
      llvm::sort(writers, [&](auto &x, auto &y) {
        return std::make_pair(order.lookup(x.second->getOwner()),
                              x.second->getOperandNumber()) <
               std::make_pair(order.lookup(y.second->getOwner()),
                              y.second->getOperandNumber());
      });
      for (auto [at, use] : llvm::drop_begin(writers)) {
        b.setInsertionPoint(at);
        use->set(cloneInit(b, init));
      }
    }
  }
};
} // namespace
