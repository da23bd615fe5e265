//===- LaunchFusion.h - Putting gpu.launch bodies together ------*- C++ -*-===//
//
// Shared by qtrain-merge-single-block-launches and
// qtrain-fuse-independent-launches, which put several launches' bodies in
// one launch: each body keeps its own workgroup (shared) buffers, and
// together they must fit a block's static shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::qtrain {

/// The static shared memory a block may have.
constexpr int64_t kStaticSharedBytes = 48 * 1024;

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

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_LAUNCHFUSION_H
