//===- LaunchFusion.cpp - What launches read and write --------------------===//
//
// The memory effects of gpu.launch bodies (and of other host ops), by
// value, and whether two launches may run in either order
// (qtrain-fuse-independent-launches runs such launches as one;
// qtrain-merge-single-block-launches moves a one-block launch past them).
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using mlir::qtrain::Accesses;

namespace {

/// Whether `type` is a block's shared memory, which no other kernel sees.
bool isWorkgroupMemory(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(memref);
}

/// NVVM ops (which declare no memory effects) that touch only the block's
/// registers and shared memory: the tensor-core MMAs, their fences and the
/// shared-memory fragment loads; and the warp MMAs that the NVVM dialect
/// has no op for (FP8 mma.sync), called as `llvm.nvvm.mma.*` intrinsics,
/// registers in, registers out. A GEMM kernel built from them reads and
/// writes global memory through memref ops only.
bool touchesOnlyTheBlock(Operation *op) {
  if (isa<NVVM::WgmmaMmaAsyncOp, NVVM::WgmmaFenceAlignedOp,
          NVVM::WgmmaGroupSyncAlignedOp, NVVM::WgmmaWaitGroupSyncOp,
          NVVM::FenceProxyOp, NVVM::MmaOp, NVVM::LdMatrixOp>(op))
    return true;
  if (auto call = dyn_cast<LLVM::CallIntrinsicOp>(op))
    return call.getIntrin().starts_with("llvm.nvvm.mma.");
  // Other NVVM ops whose pointers all point into shared memory, of the
  // block or its cluster (mbarriers), or that take none (the waits and
  // commits of asynchronous copies, fences).
  if (!isa<NVVM::NVVMDialect>(op->getDialect()) || op->getNumRegions() != 0)
    return false;
  return llvm::all_of(op->getOperandTypes(), [](Type type) {
    auto pointer = dyn_cast<LLVM::LLVMPointerType>(type);
    return !pointer ||
           pointer.getAddressSpace() ==
               unsigned(NVVM::NVVMMemorySpace::Shared) ||
           pointer.getAddressSpace() ==
               unsigned(NVVM::NVVMMemorySpace::SharedCluster);
  });
}

/// The buffer whose address `value` (an integer or a pointer) is, through
/// casts and added offsets: the source of a
/// memref.extract_aligned_pointer_as_index; null for any other value.
Value addressedBuffer(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto pointer = dyn_cast<memref::ExtractAlignedPointerAsIndexOp>(def))
      return pointer.getSource();
    if (isa<LLVM::IntToPtrOp, LLVM::AddrSpaceCastOp, arith::IndexCastOp,
            arith::IndexCastUIOp, arith::ExtUIOp>(def)) {
      value = def->getOperand(0);
    } else if (auto element = dyn_cast<LLVM::GEPOp>(def)) {
      value = element.getBase();
    } else if (auto sum = dyn_cast<arith::AddIOp>(def)) {
      if (Value buffer = addressedBuffer(sum.getLhs()))
        return buffer;
      value = sum.getRhs();
    } else {
      return {};
    }
  }
  return {};
}

/// The buffer that a TMA copy through `map` reads: the one whose address
/// host code passed to qtrainTensorMap (TensorMap.h); null if unknown.
Value tensorMapBuffer(Value map) {
  auto pointer = map.getDefiningOp<LLVM::IntToPtrOp>();
  auto call =
      pointer ? pointer.getArg().getDefiningOp<func::CallOp>() : func::CallOp();
  if (!call || call.getCallee() != mlir::qtrain::kTensorMapFunction ||
      call.getNumOperands() == 0)
    return {};
  return addressedBuffer(call.getOperand(0));
}

} // namespace

std::optional<Accesses> mlir::qtrain::accessesOf(Operation *root) {
  Accesses accesses;
  WalkResult walk = root->walk([&](Operation *op) {
    // A barrier orders the block's accesses; it accesses nothing itself.
    // Nor do the host ops that launches may pass (a tensor map's making
    // reads a buffer's address, not its contents).
    if (isa<gpu::BarrierOp>(op) || touchesOnlyTheBlock(op) ||
        mlir::qtrain::launchesMayPass(op))
      return WalkResult::advance();
    // Asynchronous copies into shared memory read the buffer behind their
    // source pointer or tensor map.
    if (auto copy = dyn_cast<NVVM::CpAsyncOp>(op)) {
      Value buffer = addressedBuffer(copy.getSrc());
      if (!buffer)
        return WalkResult::interrupt();
      accesses.reads.push_back(buffer);
      return WalkResult::advance();
    }
    if (auto copy =
            dyn_cast<NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp>(op)) {
      Value buffer = tensorMapBuffer(copy.getTmaDescriptor());
      if (!buffer)
        return WalkResult::interrupt();
      accesses.reads.push_back(buffer);
      return WalkResult::advance();
    }
    // A pointer into a buffer may be read and written through (cp.async).
    if (auto pointer = dyn_cast<memref::ExtractAlignedPointerAsIndexOp>(op)) {
      if (!isWorkgroupMemory(pointer.getSource().getType())) {
        accesses.reads.push_back(pointer.getSource());
        accesses.writes.push_back(pointer.getSource());
      }
      return WalkResult::advance();
    }
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects) {
      // Ops without the interface are fine if their nested ops say it all.
      return op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
                     isMemoryEffectFree(op)
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances) {
      // A new buffer is no other op's memory; a freed one is written, in
      // that nothing may use it after.
      if (isa<MemoryEffects::Allocate>(instance.getEffect()))
        continue;
      Value value = instance.getValue();
      if (!value)
        return WalkResult::interrupt();
      if (isWorkgroupMemory(value.getType()))
        continue;
      if (isa<MemoryEffects::Write, MemoryEffects::Free>(instance.getEffect()))
        accesses.writes.push_back(value);
      else
        accesses.reads.push_back(value);
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  return accesses;
}

namespace {

/// What `value` is a view of, through any chain of views.
Value viewedBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// The elements of its buffer that `view` may touch, [first, last] counted
/// from the buffer's aligned pointer, where `view` has a static strided
/// layout and comes from the buffer through views that keep the aligned
/// pointer and the element type (subviews, reshapes, casts; not
/// memref.view, whose byte shift moves the pointer).
std::optional<std::pair<int64_t, int64_t>> staticExtent(Value view) {
  auto type = dyn_cast<MemRefType>(view.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() == 0)
    return std::nullopt;
  for (Value v = view; Operation *def = v.getDefiningOp();) {
    if (!isa<ViewLikeOpInterface>(def))
      break;
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::CastOp>(def))
      return std::nullopt;
    v = cast<ViewLikeOpInterface>(def).getViewSource();
    if (cast<MemRefType>(v.getType()).getElementType() != type.getElementType())
      return std::nullopt;
  }
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  int64_t first = offset, last = offset;
  for (auto [size, stride] : llvm::zip(type.getShape(), strides))
    (stride < 0 ? first : last) += (size - 1) * stride;
  return std::make_pair(first, last);
}

/// Whether `a` and `b` are distinct arguments of a function that promises
/// they do not overlap (`llvm.noalias`, as the flat interface's buffers).
bool distinctNoAliasArguments(Value a, Value b) {
  auto argA = dyn_cast<BlockArgument>(a), argB = dyn_cast<BlockArgument>(b);
  if (!argA || !argB || argA == argB || argA.getOwner() != argB.getOwner() ||
      !argA.getOwner()->isEntryBlock())
    return false;
  auto func = dyn_cast<FunctionOpInterface>(argA.getOwner()->getParentOp());
  StringRef noAlias = LLVM::LLVMDialect::getNoAliasAttrName();
  return func && func.getArgAttr(argA.getArgNumber(), noAlias) &&
         func.getArgAttr(argB.getArgNumber(), noAlias);
}

/// Whether two buffers the bodies access may overlap: alias analysis, and
/// facts it does not use: memory allocated after a buffer was defined,
/// while that buffer is still in use (a later kernel accesses it), is other
/// memory (local alias analysis cannot tell a function call's results from
/// the buffers allocated after the call); static views of one buffer
/// overlap only where their extents do (the flat interface's slices); and
/// `llvm.noalias` arguments are distinct memory.
bool mayOverlap(Value a, Value b, AliasAnalysis &aliases,
                DominanceInfo &dominance) {
  if (aliases.alias(a, b).isNo())
    return false;
  Value baseA = viewedBuffer(a), baseB = viewedBuffer(b);
  if (baseA == baseB) {
    std::optional<std::pair<int64_t, int64_t>> extentA = staticExtent(a),
                                               extentB = staticExtent(b);
    return !extentA || !extentB ||
           (extentA->first <= extentB->second &&
            extentB->first <= extentA->second);
  }
  if (distinctNoAliasArguments(baseA, baseB))
    return false;
  auto allocatedAfter = [&](Value fresh, Value older) {
    Operation *alloc = fresh.getDefiningOp();
    return alloc && isa<gpu::AllocOp, memref::AllocOp>(alloc) &&
           dominance.properlyDominates(older, alloc);
  };
  return !allocatedAfter(baseA, baseB) && !allocatedAfter(baseB, baseA);
}

} // namespace

bool mlir::qtrain::independent(const Accesses &a, const Accesses &b,
                               AliasAnalysis &aliases,
                               DominanceInfo &dominance) {
  auto overlap = [&](ArrayRef<Value> writes, const Accesses &other) {
    for (Value written : writes)
      for (ArrayRef<Value> list :
           {ArrayRef(other.reads), ArrayRef(other.writes)})
        for (Value used : list)
          if (mayOverlap(written, used, aliases, dominance))
            return true;
    return false;
  };
  return !overlap(a.writes, b) && !overlap(b.writes, a);
}
