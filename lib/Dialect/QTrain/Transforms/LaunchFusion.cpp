//===- LaunchFusion.cpp - What launches read and write --------------------===//
//
// The memory effects of gpu.launch bodies, by value, and whether two
// launches may run in either order (qtrain-fuse-independent-launches runs
// such launches as one; qtrain-merge-single-block-launches moves a
// one-block launch past them).
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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
/// shared-memory fragment loads. A GEMM kernel built from them reads and
/// writes global memory through memref ops only.
bool touchesOnlyTheBlock(Operation *op) {
  return isa<NVVM::WgmmaMmaAsyncOp, NVVM::WgmmaFenceAlignedOp,
             NVVM::WgmmaGroupSyncAlignedOp, NVVM::WgmmaWaitGroupSyncOp,
             NVVM::FenceProxyOp, NVVM::MmaOp, NVVM::LdMatrixOp>(op);
}

} // namespace

std::optional<Accesses> mlir::qtrain::accessesOf(gpu::LaunchOp launch) {
  Accesses accesses;
  WalkResult walk = launch.getBody().walk([&](Operation *op) {
    // A barrier orders the block's accesses; it accesses nothing itself.
    if (isa<gpu::BarrierOp>(op) || touchesOnlyTheBlock(op))
      return WalkResult::advance();
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
      if (isa<MemoryEffects::Allocate, MemoryEffects::Free>(
              instance.getEffect()))
        continue;
      Value value = instance.getValue();
      if (!value)
        return WalkResult::interrupt();
      if (isWorkgroupMemory(value.getType()))
        continue;
      if (isa<MemoryEffects::Write>(instance.getEffect()))
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

/// Whether two buffers the bodies access may overlap: alias analysis, and
/// one more fact it does not use: memory allocated after a buffer was
/// defined, while that buffer is still in use (a later kernel accesses it),
/// is other memory. (Local alias analysis cannot tell a function call's
/// results from the buffers allocated after the call.)
bool mayOverlap(Value a, Value b, AliasAnalysis &aliases,
                DominanceInfo &dominance) {
  if (aliases.alias(a, b).isNo())
    return false;
  Value baseA = viewedBuffer(a), baseB = viewedBuffer(b);
  if (baseA == baseB)
    return true;
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
