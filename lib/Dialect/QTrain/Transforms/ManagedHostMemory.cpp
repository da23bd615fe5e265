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
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> hostFunctions;
    module.walk([&](func::FuncOp func) {
      if (!func.isExternal() && !func->getParentOfType<gpu::GPUModuleOp>())
        hostFunctions.push_back(func);
    });
    for (func::FuncOp func : hostFunctions)
      if (failed(rewriteFunction(func)))
        return signalPassFailure();
    SymbolTable symbols(module);
    auto tradesBuffers = [](func::FuncOp func) {
      FunctionType type = func.getFunctionType();
      return llvm::any_of(type.getInputs(), llvm::IsaPred<MemRefType>) ||
             llvm::any_of(type.getResults(), llvm::IsaPred<MemRefType>);
    };
    for (func::FuncOp func : hostFunctions)
      if (func.isPublic() && tradesBuffers(func))
        keepHostCallingConvention(func, symbols);
  }

  /// Public functions keep the CPU calling convention: `func` becomes a
  /// wrapper that stages its memref arguments in managed copies, calls the
  /// body (now a private `<name>_managed`, which the module's own calls
  /// call directly, trading managed buffers), writes the arguments back and
  /// returns the results in malloc'd buffers.
  void keepHostCallingConvention(func::FuncOp func, SymbolTable &symbols) {
    OpBuilder b(func);
    auto body = cast<func::FuncOp>(b.clone(*func));
    body.setName((func.getName() + "_managed").str());
    body.setPrivate();
    body->removeAttr("llvm.emit_c_interface");
    symbols.insert(body); // renames on a clash
    if (failed(SymbolTable::replaceAllSymbolUses(func, body.getSymNameAttr(),
                                                 func->getParentOp())))
      llvm_unreachable("func.call uses are replaceable");

    func.eraseBody();
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Location loc = func.getLoc();
    SmallVector<Value> args;
    SmallVector<std::pair<Value, Value>> staged;
    for (BlockArgument arg : entry->getArguments()) {
      bool used = !body.getArgument(arg.getArgNumber()).use_empty();
      if (!isa<MemRefType>(arg.getType()) || !used) {
        args.push_back(arg);
        continue;
      }
      args.push_back(managedCopy(b, loc, arg));
      staged.push_back({arg, args.back()});
    }
    auto call = func::CallOp::create(b, loc, body, args);
    SmallVector<Value> results, toFree;
    for (auto [arg, copy] : staged) {
      memref::CopyOp::create(b, loc, copy, arg);
      toFree.push_back(copy);
    }
    for (Value result : call.getResults()) {
      auto type = dyn_cast<MemRefType>(result.getType());
      if (!type) {
        results.push_back(result);
        continue;
      }
      Value host = memref::AllocOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          dynamicSizesOf(b, loc, result));
      memref::CopyOp::create(b, loc, result, host);
      results.push_back(host);
      // Results are owned by the caller (ownership-based deallocation
      // clones the others): managed, so freed here.
      toFree.push_back(result);
    }
    for (Value managed : toFree)
      freeManaged(b, loc, managed);
    func::ReturnOp::create(b, loc, results);
  }

  LogicalResult rewriteFunction(func::FuncOp func) {
    OpBuilder b(func.getContext());
    SmallVector<Operation *> allocs, deallocs, globals, copies;
    bool unsupported = false;
    func.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (isa<memref::CopyOp>(op))
        copies.push_back(op);
      else if (isa<memref::AllocOp>(op))
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

    // The program's copies (inserted slices, clones) move data between
    // buffers that kernels write: as linalg.copy they become kernels too,
    // where memref.copy would run on the host and pull the pages over.
    for (Operation *op : copies) {
      auto copy = cast<memref::CopyOp>(op);
      b.setInsertionPoint(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
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
    if (!temporaries.empty())
      func.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        for (Value managed : temporaries)
          freeManaged(b, ret.getLoc(), managed);
      });
    return success();
  }
};

} // namespace
