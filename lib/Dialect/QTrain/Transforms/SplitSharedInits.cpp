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

/// Whether `value` is a `tensor.empty`, or a reshape of one.
static bool isEmpty(Value value) {
  Operation *op = value.getDefiningOp();
  while (op && isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
    op = op->getOperand(0).getDefiningOp();
  return op && isa<tensor::EmptyOp>(op);
}

/// A `tensor.empty`, or a fill of one (`linalg.fill`, or a `linalg.generic`
/// that only yields a scalar: the fills that lowering 0-d and broadcast
/// ops leaves).
static bool isInit(Operation *op) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
      linalgOp.getNumDpsInits() != 1 || !isEmpty(linalgOp.getDpsInits()[0]))
    return false;
  if (isa<linalg::FillOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && linalg::isaFillOpInterface(generic);
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

/// A fresh copy of `value`, an empty tensor or reshapes of one.
static Value cloneEmpty(OpBuilder &b, Value value) {
  Operation *op = value.getDefiningOp();
  if (isa<tensor::EmptyOp>(op))
    return b.clone(*op)->getResult(0);
  Value source = cloneEmpty(b, op->getOperand(0));
  Operation *reshape = b.clone(*op);
  reshape->setOperand(0, source);
  return reshape->getResult(0);
}

/// A fresh copy of the init `op` (a fill gets a fresh empty tensor too).
static Value cloneInit(OpBuilder &b, Operation *op) {
  auto fill = dyn_cast<linalg::LinalgOp>(op);
  if (!fill)
    return b.clone(*op)->getResult(0);
  Value empty = cloneEmpty(b, fill.getDpsInits()[0]);
  Operation *copy = b.clone(*op);
  cast<linalg::LinalgOp>(copy).getDpsInitsMutable()[0].set(empty);
  return copy->getResult(0);
}

/// A use that writes into the init, through the reshapes (`chain`, from
/// the init outwards) that view it: a 0-d init is written through a 1-d
/// expand_shape by reductions that keep a unit dimension.
struct Writer {
  Operation *at; // the op of the init's block that holds the writer
  OpOperand *use;
  SmallVector<Operation *, 2> chain;
};

static void collectWriters(Value value, Block *block,
                           SmallVector<Operation *, 2> &chain,
                           SmallVector<Writer> &writers) {
  for (OpOperand &use : value.getUses()) {
    Operation *owner = use.getOwner();
    // Reshapes of static shape in the init's block, cloned before writers.
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(owner) &&
        owner->getNumOperands() == 1 && owner->getBlock() == block) {
      chain.push_back(owner);
      collectWriters(owner->getResult(0), block, chain, writers);
      chain.pop_back();
    } else if (isWrittenInto(use)) {
      if (Operation *at = block->findAncestorOpInBlock(*owner))
        writers.push_back({at, &use, chain});
    }
  }
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
      // Writers in program order: the first keeps the init, the others get
      // a copy (and of the reshapes they write through) right before the
      // op of the init's block that holds them, so their buffers are not
      // live any earlier.
      SmallVector<Writer> writers;
      SmallVector<Operation *, 2> chain;
      collectWriters(init->getResult(0), init->getBlock(), chain, writers);
      if (writers.size() < 2)
        continue;
      llvm::sort(writers, [&](const Writer &x, const Writer &y) {
        return std::make_pair(order.lookup(x.use->getOwner()),
                              x.use->getOperandNumber()) <
               std::make_pair(order.lookup(y.use->getOwner()),
                              y.use->getOperandNumber());
      });
      for (Writer &writer : llvm::drop_begin(writers)) {
        b.setInsertionPoint(writer.at);
        Value fresh = cloneInit(b, init);
        for (Operation *reshape : writer.chain) {
          Operation *copy = b.clone(*reshape);
          copy->setOperand(0, fresh);
          fresh = copy->getResult(0);
        }
        writer.use->set(fresh);
      }
    }
  }
};
} // namespace
