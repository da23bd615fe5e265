//===- GPUHostBuffers.cpp - qtrain-gpu-host-buffers -----------------------===//
//
// Kernels launched by host code read and write the host's buffers. Those
// must be memory the GPU can address: this pass allocates every buffer of
// host code with gpu.alloc, as device memory (the host never touches the
// data between launches, so explicit copies stage the public functions'
// arguments and results) or as CUDA managed memory (memory=managed: the
// host may read it, pages migrate on first touch).
//
// Callers keep the CPU ABI: public functions stage their memref arguments
// in GPU buffers (those the body may write copied back before returning,
// so results written into arguments arrive) and return malloc'd buffers;
// except `qtrain.device_entry` functions, whose callers pass GPU buffers.
// Constants (memref.global) are copied into GPU buffers where they are read.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_GPUHOSTBUFFERSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using mlir::qtrain::GPUBufferMemory;

namespace {

/// Runs `build` (which makes one async GPU op after the token it is given
/// and returns its token) on a stream of its own and waits for it:
/// upstream's GPU-to-LLVM lowering converts only the async forms of
/// gpu.dealloc, gpu.memcpy and (device memory) gpu.alloc.
void waitFor(OpBuilder &b, Location loc,
             llvm::function_ref<Value(Value stream)> build) {
  auto tokenType = gpu::AsyncTokenType::get(b.getContext());
  Value stream =
      gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
  gpu::WaitOp::create(b, loc, Type(), build(stream));
}

Value allocate(OpBuilder &b, Location loc, GPUBufferMemory memory,
               MemRefType type, ValueRange dynamicSizes,
               ValueRange symbols = {}) {
  // Managed memory only has the synchronous form.
  if (memory == GPUBufferMemory::managed)
    return gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(),
                                /*asyncDependencies=*/ValueRange(),
                                dynamicSizes, symbols, /*hostShared=*/true)
        .getMemref();
  Value memref;
  waitFor(b, loc, [&](Value stream) {
    auto alloc = gpu::AllocOp::create(b, loc, type, stream.getType(), stream,
                                      dynamicSizes, symbols,
                                      /*hostShared=*/false);
    memref = alloc.getMemref();
    return alloc.getAsyncToken();
  });
  return memref;
}

void freeBuffer(OpBuilder &b, Location loc, Value memref) {
  waitFor(b, loc, [&](Value stream) {
    return gpu::DeallocOp::create(b, loc, stream.getType(), stream, memref)
        .getAsyncToken();
  });
}

/// Copies between host memory and a GPU buffer: gpu.memcpy for device
/// memory, memref.copy (a host loop over managed pages) otherwise.
void copyBuffer(OpBuilder &b, Location loc, GPUBufferMemory memory,
                Value source, Value target) {
  if (memory == GPUBufferMemory::managed) {
    memref::CopyOp::create(b, loc, source, target);
    return;
  }
  waitFor(b, loc, [&](Value stream) {
    return gpu::MemcpyOp::create(b, loc, stream.getType(), stream, target,
                                 source)
        .getAsyncToken();
  });
}

SmallVector<Value> dynamicSizesOf(OpBuilder &b, Location loc, Value memref) {
  SmallVector<Value> sizes;
  auto type = cast<MemRefType>(memref.getType());
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      sizes.push_back(memref::DimOp::create(b, loc, memref, i));
  return sizes;
}

/// A GPU buffer holding a copy of `source` (identity layout), made at the
/// builder.
Value gpuCopy(OpBuilder &b, Location loc, GPUBufferMemory memory,
              Value source) {
  auto type = cast<MemRefType>(source.getType());
  auto plain = MemRefType::get(type.getShape(), type.getElementType());
  Value copy = allocate(b, loc, memory, plain, dynamicSizesOf(b, loc, source));
  copyBuffer(b, loc, memory, source, copy);
  return copy;
}

/// Makes a GPU copy of `value` at the builder and redirects the uses
/// `value` had before to it.
Value redirectToGPUCopy(OpBuilder &b, GPUBufferMemory memory, Value value,
                        Location loc) {
  SmallVector<OpOperand *> uses =
      llvm::map_to_vector(value.getUses(), [](OpOperand &use) { return &use; });
  Value copy = gpuCopy(b, loc, memory, value);
  for (OpOperand *use : uses)
    use->set(copy);
  return copy;
}

/// Whether `op` reads or writes a buffer's elements itself.
bool accessesElements(Operation *op) {
  return isa<memref::LoadOp, memref::StoreOp, vector::LoadOp, vector::StoreOp,
             vector::TransferReadOp, vector::TransferWriteOp,
             vector::MaskedLoadOp, vector::MaskedStoreOp>(op);
}

/// Whether `op` runs in a kernel: in the body of a linalg op (each becomes
/// one: a gathered read, such as an amax history's shifted entry, is a load
/// there) or of a launch.
bool inKernel(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (isa<linalg::LinalgOp, gpu::LaunchOp>(parent))
      return true;
    if (isa<FunctionOpInterface>(parent))
      return false;
  }
  return false;
}

/// `memref` if it has a dimension, else a 1-element view of it.
Value asOneElement(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() > 0)
    return memref;
  // The result type (its layout keeps a strided source's offset) is
  // inferred.
  return memref::ExpandShapeOp::create(b, loc, ArrayRef<int64_t>{1}, memref,
                                       ArrayRef<ReassociationIndices>{});
}

/// Who uses a buffer of host code: host code itself (element accesses, and
/// functions without a body, such as the runner's printMemref), kernels
/// (linalg ops, which become kernels); and whether anyone reads or writes
/// its elements.
struct BufferUses {
  bool host = false, kernels = false;
  bool reads = false, writes = false;
  /// Returned from a function: its callers free it, as a GPU buffer.
  bool returned = false;
};

/// Records the reads and writes of `value`'s elements by `user`, an op
/// that the flow of usesOf does not follow; ops that do not declare their
/// effects may do both.
void recordAccesses(Operation *user, Value value, BufferUses &uses) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(user);
  if (!effects) {
    uses.reads = uses.writes = true;
    return;
  }
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffectsOnValue(value, instances);
  for (const MemoryEffects::EffectInstance &instance : instances) {
    uses.reads |= isa<MemoryEffects::Read>(instance.getEffect());
    uses.writes |= isa<MemoryEffects::Write>(instance.getEffect());
  }
}

/// The uses of `buffer` and of everything it flows into: its views, the
/// arguments of the functions it is passed to, the results of the calls it
/// is returned from and of the loops and branches that yield it.
BufferUses usesOf(Value buffer) {
  BufferUses uses;
  SmallVector<Value> worklist = {buffer};
  llvm::DenseSet<Value> seen = {buffer};
  auto flowsInto = [&](Value value) {
    if (seen.insert(value).second)
      worklist.push_back(value);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      unsigned index = use.getOperandNumber();
      if (accessesElements(user) && !inKernel(user)) {
        uses.host = true;
        recordAccesses(user, value, uses);
      } else if (isa<linalg::LinalgOp>(user) || inKernel(user)) {
        uses.kernels = true;
        recordAccesses(user, value, uses);
      } else if (isa<ViewLikeOpInterface>(user)) {
        for (Value result : user->getResults())
          flowsInto(result);
      } else if (auto call = dyn_cast<func::CallOp>(user)) {
        // Not cached: the pass adds functions as it goes.
        auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
            call, call.getCalleeAttr());
        if (!callee || callee.isExternal())
          uses.host = uses.reads = uses.writes = true;
        else
          flowsInto(callee.getArgument(index));
      } else if (isa<func::ReturnOp>(user)) {
        uses.returned = true;
        auto func = user->getParentOfType<func::FuncOp>();
        auto module = func->getParentOfType<ModuleOp>();
        if (auto calls = SymbolTable::getSymbolUses(func, module))
          for (const SymbolTable::SymbolUse &symbolUse : *calls)
            if (auto call = dyn_cast<func::CallOp>(symbolUse.getUser()))
              flowsInto(call.getResult(index));
      } else if (isa<scf::YieldOp>(user)) {
        Operation *parent = user->getParentOp();
        flowsInto(parent->getResult(index));
        if (auto loop = dyn_cast<scf::ForOp>(parent))
          flowsInto(loop.getRegionIterArgs()[index]);
      } else if (auto loop = dyn_cast<scf::ForOp>(user)) {
        if (index >= loop.getNumControlOperands()) {
          unsigned arg = index - loop.getNumControlOperands();
          flowsInto(loop.getRegionIterArgs()[arg]);
          flowsInto(loop.getResult(arg));
        }
      } else {
        recordAccesses(user, value, uses);
      }
    }
  }
  return uses;
}

struct GPUHostBuffersPass
    : mlir::qtrain::impl::GPUHostBuffersPassBase<GPUHostBuffersPass> {
  using Base::Base;

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
    for (func::FuncOp func : hostFunctions) {
      if (!func.isPublic() || !tradesBuffers(func))
        continue;
      if (!func->hasAttr(
              mlir::qtrain::QTrainDialect::getDeviceEntryAttrName())) {
        keepHostCallingConvention(func, symbols);
        continue;
      }
      // Its callers pass GPU buffers: device memory, which its host code
      // must not touch.
      for (BlockArgument arg : func.getArguments())
        if (isa<MemRefType>(arg.getType()) && usesOf(arg).host) {
          func.emitError()
              << "argument " << arg.getArgNumber() << " of a '"
              << mlir::qtrain::QTrainDialect::getDeviceEntryAttrName()
              << "' function is read or written by host code; "
                 "its callers pass device memory";
          return signalPassFailure();
        }
    }
  }

  /// Public functions keep the CPU calling convention: `func` becomes a
  /// wrapper that stages its memref arguments in GPU buffers, calls the
  /// body (now a private `<name>_gpu`, which the module's own calls call
  /// directly, trading GPU buffers), copies back the arguments it may
  /// write and returns the results in malloc'd buffers.
  void keepHostCallingConvention(func::FuncOp func, SymbolTable &symbols) {
    OpBuilder b(func);
    auto body = cast<func::FuncOp>(b.clone(*func));
    body.setName((func.getName() + "_gpu").str());
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
    // (argument, its GPU copy, whether the body writes it).
    SmallVector<std::tuple<Value, Value, bool>> staged;
    for (BlockArgument arg : entry->getArguments()) {
      bool used = !body.getArgument(arg.getArgNumber()).use_empty();
      if (!isa<MemRefType>(arg.getType()) || !used) {
        args.push_back(arg);
        continue;
      }
      // An argument that the body's host code reads itself is managed.
      // One it writes is copied in too: its other elements go back.
      BufferUses uses = usesOf(body.getArgument(arg.getArgNumber()));
      args.push_back(
          gpuCopy(b, loc, uses.host ? GPUBufferMemory::managed : memory, arg));
      staged.push_back({arg, args.back(), uses.writes});
    }
    auto call = func::CallOp::create(b, loc, body, args);
    SmallVector<Value> results, toFree;
    for (auto [arg, copy, written] : staged) {
      // Only what the body may have changed goes back.
      if (written)
        copyBuffer(b, loc, memory, copy, arg);
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
      copyBuffer(b, loc, memory, result, host);
      results.push_back(host);
      // Results are owned by the caller (ownership-based deallocation
      // clones the others): GPU buffers, so freed here.
      toFree.push_back(result);
    }
    for (Value buffer : toFree)
      freeBuffer(b, loc, buffer);
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
    // A 0-d copy is a 1-element one: linalg ops without loops would stay
    // host code, reading device memory.
    for (Operation *op : copies) {
      auto copy = cast<memref::CopyOp>(op);
      b.setInsertionPoint(copy);
      linalg::CopyOp::create(b, copy.getLoc(),
                             asOneElement(b, copy.getLoc(), copy.getSource()),
                             asOneElement(b, copy.getLoc(), copy.getTarget()));
      copy.erase();
    }
    // Device memory: buffers that only host code reads and writes (the
    // pointer and flag lists of ownership-based deallocation) stay host
    // memory, unless a function returns them (its callers free results
    // with gpu.dealloc); those that kernels use too (scalars a host loop
    // reduces) are managed, which both can read.
    llvm::SmallPtrSet<Value, 8> hostBuffers;
    for (Operation *op : allocs) {
      auto alloc = cast<memref::AllocOp>(op);
      BufferUses uses = usesOf(alloc.getResult());
      if (memory == GPUBufferMemory::device && uses.host && !uses.kernels &&
          !uses.returned) {
        hostBuffers.insert(alloc.getResult());
        continue;
      }
      b.setInsertionPoint(alloc);
      Value buffer = allocate(
          b, alloc.getLoc(), uses.host ? GPUBufferMemory::managed : memory,
          alloc.getType(), alloc.getDynamicSizes(), alloc.getSymbolOperands());
      alloc.replaceAllUsesWith(buffer);
      alloc.erase();
    }
    for (Operation *op : deallocs) {
      auto dealloc = cast<memref::DeallocOp>(op);
      if (hostBuffers.contains(dealloc.getMemref()))
        continue;
      b.setInsertionPoint(dealloc);
      freeBuffer(b, dealloc.getLoc(), dealloc.getMemref());
      dealloc.erase();
    }
    // Constants: GPU copies made on entry (get_global has no operands),
    // freed before returning.
    Block &entry = func.getBody().front();
    SmallVector<Value> temporaries;
    for (Operation *op : globals) {
      auto global = cast<memref::GetGlobalOp>(op);
      global->moveBefore(&entry, entry.begin());
      b.setInsertionPointAfter(global);
      temporaries.push_back(
          redirectToGPUCopy(b, memory, global.getResult(), global.getLoc()));
    }
    if (!temporaries.empty())
      func.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        for (Value buffer : temporaries)
          freeBuffer(b, ret.getLoc(), buffer);
      });
    return success();
  }
};

} // namespace
