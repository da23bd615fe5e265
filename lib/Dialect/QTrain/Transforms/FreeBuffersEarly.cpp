//===- FreeBuffersEarly.cpp - qtrain-free-buffers-early -------------------===//
//
// Why not upstream: ownership-based buffer deallocation places frees at the
// end of the block by design (it reasons about ownership, not liveness), and
// MLIR 22 has no pass that moves them to the last use.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_FREEBUFFERSEARLYPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

/// The last op of `alloc`'s block that uses the buffer or a view of it, or
/// null when a use may alias it in another way or lies in another block.
static Operation *findLastUse(memref::AllocOp alloc,
                              memref::DeallocOp dealloc) {
  Block *block = alloc->getBlock();
  Operation *last = alloc;
  SmallVector<Value> worklist = {alloc.getResult()};
  while (!worklist.empty()) {
    Value buffer = worklist.pop_back_val();
    for (Operation *user : buffer.getUsers()) {
      if (user == dealloc)
        continue;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return nullptr;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user)) {
        if (view.getViewSource() != buffer)
          return nullptr;
        worklist.push_back(user->getResult(0));
      } else if (llvm::any_of(user->getResultTypes(),
                              llvm::IsaPred<BaseMemRefType>)) {
        return nullptr;
      }
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  }
  return last;
}

namespace {
struct FreeBuffersEarlyPass
    : mlir::qtrain::impl::FreeBuffersEarlyPassBase<FreeBuffersEarlyPass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk([&](memref::DeallocOp op) { deallocs.push_back(op); });
    for (memref::DeallocOp dealloc : deallocs) {
      auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != dealloc->getBlock())
        continue;
      if (Operation *last = findLastUse(alloc, dealloc))
        dealloc->moveAfter(last);
    }
  }
};
} // namespace
