//===- LaunchFusion.cpp - What launches read and write --------------------===//
//
// The memory effects of gpu.launch bodies, by value, and whether two
// launches may run in either order (qtrain-fuse-independent-launches runs
// such launches as one; qtrain-merge-single-block-launches moves a
// one-block launch past them).
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using mlir::qtrain::Accesses;

std::optional<Accesses> mlir::qtrain::accessesOf(gpu::LaunchOp launch) {
  Accesses accesses;
  WalkResult walk = launch.getBody().walk([&](Operation *op) {
    // A barrier orders the block's accesses; it accesses nothing itself.
    if (isa<gpu::BarrierOp>(op))
      return WalkResult::advance();
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
      // A block's shared memory is its own: no other kernel sees it.
      if (auto type = dyn_cast<MemRefType>(value.getType());
          type && gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
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
