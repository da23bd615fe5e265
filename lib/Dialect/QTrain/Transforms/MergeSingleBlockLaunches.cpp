//===- MergeSingleBlockLaunches.cpp - qtrain-merge-single-block-launches --===//
//
// Small reductions (the final step of every absmax, a loss's row sums) run
// as kernels of one thread block, often several in a row, each waiting for
// the one before. Within one block, a barrier orders them as well as a new
// launch does: bar.sync makes each thread's global and shared memory
// writes before it visible to the block's threads after it. So consecutive
// single-block launches of one block shape become one launch whose bodies
// are separated by gpu.barrier.
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_MERGESINGLEBLOCKLAUNCHESPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// The block size of a launch of one block that the pass can merge, else
/// nothing.
std::optional<SmallVector<int64_t, 3>> singleBlockShape(gpu::LaunchOp launch) {
  for (Value size :
       {launch.getGridSizeX(), launch.getGridSizeY(), launch.getGridSizeZ()})
    if (getConstantIntValue(size) != 1)
      return std::nullopt;
  return mlir::qtrain::fusableBlockSize(launch);
}

/// Appends `next`'s body to `launch`'s after a barrier and erases `next`.
void appendBody(gpu::LaunchOp launch, gpu::LaunchOp next) {
  Block &body = launch.getBody().front();
  Block &nextBody = next.getBody().front();
  Operation *terminator = body.getTerminator();
  OpBuilder b(terminator);
  gpu::BarrierOp::create(b, next.getLoc());
  // The ids and sizes are the same values in both launches; each body
  // keeps its own workgroup buffers.
  IRMapping mapping;
  mlir::qtrain::mapLaunchArguments(next, launch, mapping);
  for (Operation &op : nextBody.without_terminator())
    b.clone(op, mapping);
  next.erase();
}

void mergeInBlock(Block &block) {
  gpu::LaunchOp open; // the launch the next ones may join
  SmallVector<int64_t, 3> openShape;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
      std::optional<SmallVector<int64_t, 3>> shape = singleBlockShape(launch);
      if (open && shape && *shape == openShape &&
          mlir::qtrain::workgroupBytes(open) +
                  mlir::qtrain::workgroupBytes(launch) <=
              mlir::qtrain::kStaticSharedBytes) {
        // The ops between (constants, views) may define what `launch`
        // uses: they go first.
        while (open->getNextNode() != launch)
          open->getNextNode()->moveBefore(open);
        appendBody(open, launch);
        continue;
      }
      open = shape ? launch : gpu::LaunchOp();
      if (shape)
        openShape = *shape;
      continue;
    }
    // Constants and views between the launches; anything else the host
    // does must still see the first launch finished and the next not begun.
    if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0) {
      open = {};
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          mergeInBlock(nested);
    }
  }
}

struct MergeSingleBlockLaunchesPass
    : mlir::qtrain::impl::MergeSingleBlockLaunchesPassBase<
          MergeSingleBlockLaunchesPass> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      mergeInBlock(block);
  }
};

} // namespace
