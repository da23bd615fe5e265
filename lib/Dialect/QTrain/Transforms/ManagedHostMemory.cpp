//===- ManagedHostMemory.cpp - qtrain-managed-host-memory -----------------===//
//
// Kernels launched by host code read and write the host's buffers. Those
// must be memory the GPU can address: this pass makes every buffer of host
// code CUDA managed memory (`gpu.alloc host_shared`, cuMemAllocManaged in
// the runtime), which host code reads and writes as before once a launch
// has completed (launches are synchronous here).
//
// Callers keep the CPU ABI: public functions stage their memref arguments
// in managed copies (copied back before returning, so results written into
// arguments arrive) and return malloc'd buffers. Constants (memref.global)
// are copied into managed buffers where they are read.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_MANAGEDHOSTMEMORYPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

Value allocManaged(OpBuilder &b, Location loc, MemRefType type,
                   ValueRange dynamicSizes, ValueRange symbols = {}) {
  return gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(),
                              /*asyncDependencies=*/ValueRange(), dynamicSizes,
                              symbols, /*hostShared=*/true)
      .getMemref();
}

/// Frees a managed buffer. Upstream's GPU-to-LLVM lowering only converts
/// the async form of gpu.dealloc, so the free is issued on a stream of its
/// own and waited for, like the synchronous launches.
void freeManaged(OpBuilder &b, Location loc, Value memref) {
  auto tokenType = gpu::AsyncTokenType::get(b.getContext());
  Value stream =
      gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
  Value freed =
      gpu::DeallocOp::create(b, loc, tokenType, stream, memref).getAsyncToken();
  gpu::WaitOp::create(b, loc, Type(), freed);
}

SmallVector<Value> dynamicSizesOf(OpBuilder &b, Location loc, Value memref) {
  SmallVector<Value> sizes;
  auto type = cast<MemRefType>(memref.getType());
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      sizes.push_back(memref::DimOp::create(b, loc, memref, i));
  return sizes;
}

/// A managed copy of `source` (identity layout), made at the builder.
Value managedCopy(OpBuilder &b, Location loc, Value source) {
  auto type = cast<MemRefType>(source.getType());
  auto plain = MemRefType::get(type.getShape(), type.getElementType());
  Value copy = allocManaged(b, loc, plain, dynamicSizesOf(b, loc, source));
  memref::CopyOp::create(b, loc, source, copy);
  return copy;
}

/// Makes a managed copy of `value` at the builder and redirects the uses
/// `value` had before to it.
Value redirectToManagedCopy(OpBuilder &b, Value value, Location loc) {
  SmallVector<OpOperand *> uses =
      llvm::map_to_vector(value.getUses(), [](OpOperand &use) { return &use; });
  Value copy = managedCopy(b, loc, value);
  for (OpOperand *use : uses)
    use->set(copy);
  return copy;
}

struct ManagedHostMemoryPass
    : mlir::qtrain::impl::ManagedHostMemoryPassBase<ManagedHostMemoryPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](func::FuncOp func) {
      if (func.isExternal() || func->getParentOfType<gpu::GPUModuleOp>())
        return WalkResult::advance();
      return WalkResult(rewriteFunction(func));
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult rewriteFunction(func::FuncOp func) {
    OpBuilder b(func.getContext());
    SmallVector<Operation *> allocs, deallocs, globals;
    bool unsupported = false;
    func.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (isa<memref::AllocOp>(op))
        allocs.push_back(op);
      else if (isa<memref::DeallocOp>(op))
        deallocs.push_back(op);
      else if (isa<memref::GetGlobalOp>(op))
        globals.push_back(op);
      else if (isa<memref::AllocaOp>(op)) {
        // Kernels made later may read it, and cannot address host stacks.
        op->emitOpError("in host code of a GPU pipeline: kernels cannot "
                        "address the host stack; allocate with memref.alloc");
        unsupported = true;
      }
    });
    if (unsupported)
      return failure();

    for (Operation *op : allocs) {
      auto alloc = cast<memref::AllocOp>(op);
      b.setInsertionPoint(alloc);
      Value managed =
          allocManaged(b, alloc.getLoc(), alloc.getType(),
                       alloc.getDynamicSizes(), alloc.getSymbolOperands());
      alloc.replaceAllUsesWith(managed);
      alloc.erase();
    }
    for (Operation *op : deallocs) {
      auto dealloc = cast<memref::DeallocOp>(op);
      b.setInsertionPoint(dealloc);
      freeManaged(b, dealloc.getLoc(), dealloc.getMemref());
      dealloc.erase();
    }
    // Constants: managed copies made on entry (get_global has no
    // operands), freed before returning.
    Block &entry = func.getBody().front();
    SmallVector<Value> temporaries;
    for (Operation *op : globals) {
      auto global = cast<memref::GetGlobalOp>(op);
      global->moveBefore(&entry, entry.begin());
      b.setInsertionPointAfter(global);
      temporaries.push_back(
          redirectToManagedCopy(b, global.getResult(), global.getLoc()));
    }
    // Public functions keep the CPU ABI: arguments are staged in managed
    // copies and written back before returning; results leave in malloc'd
    // buffers.
    SmallVector<std::pair<Value, Value>> staged;
    if (func.isPublic()) {
      b.setInsertionPointToStart(&entry);
      for (BlockArgument arg : entry.getArguments()) {
        if (!isa<MemRefType>(arg.getType()) || arg.use_empty())
          continue;
        staged.push_back({arg, redirectToManagedCopy(b, arg, func.getLoc())});
      }
    }
    func.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      Location loc = ret.getLoc();
      SmallVector<Value> toFree;
      for (auto [arg, copy] : staged) {
        memref::CopyOp::create(b, loc, copy, arg);
        toFree.push_back(copy);
      }
      if (func.isPublic())
        for (OpOperand &operand : ret->getOpOperands()) {
          auto type = dyn_cast<MemRefType>(operand.get().getType());
          if (!type)
            continue;
          Value result = operand.get();
          Value host = memref::AllocOp::create(
              b, loc, MemRefType::get(type.getShape(), type.getElementType()),
              dynamicSizesOf(b, loc, result));
          memref::CopyOp::create(b, loc, result, host);
          // Returned buffers are owned (ownership-based deallocation
          // clones the others): managed, so freed here.
          toFree.push_back(result);
          operand.set(host);
        }
      llvm::append_range(toFree, temporaries);
      llvm::SmallPtrSet<Value, 8> freed;
      for (Value managed : toFree)
        if (freed.insert(managed).second)
          freeManaged(b, loc, managed);
    });
    return success();
  }
};

} // namespace
