//===- LaunchFusion.h - Putting gpu.launch bodies together ------*- C++ -*-===//
//
// Shared by qtrain-merge-single-block-launches and
// qtrain-fuse-independent-launches, which put several launches' bodies in
// one launch: each body keeps its own workgroup (shared) buffers, and
// together they must fit a block's static shared memory; and whether two
// launches may run in either order (LaunchFusion.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H

#include "qtrain/Runtime/TensorMap.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qtrain {

/// The static shared memory a block may have.
constexpr int64_t kStaticSharedBytes = 48 * 1024;

/// The constant block size of a synchronous launch that has no dynamic
/// shared memory, private memory or cluster (what the two passes can put
/// together), else nothing.
inline std::optional<SmallVector<int64_t, 3>>
fusableBlockSize(gpu::LaunchOp launch) {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      launch.getDynamicSharedMemorySize() || launch.hasClusterSize() ||
      launch.getNumPrivateAttributions() != 0)
    return std::nullopt;
  SmallVector<int64_t, 3> size;
  for (Value dimension : {launch.getBlockSizeX(), launch.getBlockSizeY(),
                          launch.getBlockSizeZ()}) {
    std::optional<int64_t> constant = getConstantIntValue(dimension);
    if (!constant)
      return std::nullopt;
    size.push_back(*constant);
  }
  return size;
}

/// The bytes of `launch`'s workgroup buffers.
inline int64_t workgroupBytes(gpu::LaunchOp launch) {
  int64_t bytes = 0;
  for (BlockArgument buffer : launch.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    bytes += type.getNumElements() *
             llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  }
  return bytes;
}

/// Maps `from`'s launch arguments (ids and sizes) to `into`'s, and gives
/// `into` a copy of each of `from`'s workgroup buffers.
inline void mapLaunchArguments(gpu::LaunchOp from, gpu::LaunchOp into,
                               IRMapping &mapping) {
  unsigned count = gpu::LaunchOp::kNumConfigRegionAttributes;
  mapping.map(from.getBody().getArguments().take_front(count),
              into.getBody().getArguments().take_front(count));
  for (BlockArgument buffer : from.getWorkgroupAttributions())
    mapping.map(buffer,
                into.addWorkgroupAttribution(cast<MemRefType>(buffer.getType()),
                                             buffer.getLoc()));
}

/// Whether launches may move past `op`, a host operation between them:
/// constants and views (no memory effects, no regions), allocations and
/// the waits for them (the launches are still synchronous here, so a wait
/// orders nothing else; a buffer allocated between two launches is not one
/// the earlier of them uses), and the making of a TMA tensor map, which
/// encodes a buffer's address, not its contents. Copies, frees and other
/// calls end a run.
inline bool launchesMayPass(Operation *op) {
  if (isa<gpu::AllocOp, gpu::WaitOp>(op))
    return true;
  if (auto call = dyn_cast<func::CallOp>(op))
    return call.getCallee() == kTensorMapFunction;
  return isMemoryEffectFree(op) && op->getNumRegions() == 0;
}

/// The memory a launch's body reads and writes, by the values its ops name
/// in their effects (workgroup memory left out: no other kernel sees it).
struct Accesses {
  SmallVector<Value> reads, writes;
};

/// The accesses of `op` and the ops nested in it (a launch's body); a
/// free counts as a write. Nothing if some effect names no value.
std::optional<Accesses> accessesOf(Operation *op);

/// Whether two launches may run in either order: neither writes what the
/// other reads or writes, by alias analysis and one more fact it does not
/// use: memory allocated after a buffer was defined, while that buffer is
/// still in use, is other memory.
bool independent(const Accesses &a, const Accesses &b, AliasAnalysis &aliases,
                 DominanceInfo &dominance);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H
