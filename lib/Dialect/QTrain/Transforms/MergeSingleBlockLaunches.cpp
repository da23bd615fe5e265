//===- MergeSingleBlockLaunches.cpp - qtrain-merge-single-block-launches --===//
//
// Small reductions (the final step of every absmax, a loss's row sums) run
// as kernels of one thread block, often several in a row, each waiting for
// the one before. Within one block, a barrier orders them as well as a new
// launch does: bar.sync makes each thread's global and shared memory
// writes before it visible to the block's threads after it. So consecutive
// single-block launches of one block shape become one launch whose bodies
// are separated by gpu.barrier. A single-block launch also moves up past
// other launches to join an earlier one where it does not depend on them
// nor they on it (the copies of a shared initial value into each
// reduction's output, separated by the reductions).
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
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

void mergeInBlock(Block &block, AliasAnalysis &aliases,
                  DominanceInfo &dominance) {
  gpu::LaunchOp open; // the launch the next ones may join
  SmallVector<int64_t, 3> openShape;
  // The accesses of the other launches since `open`, which a launch
  // joining it must not depend on, nor they on it: it moves before them.
  SmallVector<mlir::qtrain::Accesses> passed;
  auto startAt = [&](gpu::LaunchOp launch,
                     std::optional<SmallVector<int64_t, 3>> shape) {
    open = shape ? launch : gpu::LaunchOp();
    if (shape)
      openShape = *shape;
    passed.clear();
  };
  auto mayPass = [&](gpu::LaunchOp launch) {
    if (passed.empty())
      return true;
    std::optional<mlir::qtrain::Accesses> mine =
        mlir::qtrain::accessesOf(launch);
    return mine &&
           llvm::all_of(passed, [&](const mlir::qtrain::Accesses &other) {
             return mlir::qtrain::independent(*mine, other, aliases, dominance);
           });
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
      std::optional<SmallVector<int64_t, 3>> shape = singleBlockShape(launch);
      if (open && shape && *shape == openShape &&
          mlir::qtrain::workgroupBytes(open) +
                  mlir::qtrain::workgroupBytes(launch) <=
              mlir::qtrain::kStaticSharedBytes &&
          mayPass(launch)) {
        // The ops between that are not launches (constants, views) may define
        // what `launch` uses: they go first.
        for (Operation *between = open->getNextNode(); between != launch;) {
          Operation *next = between->getNextNode();
          if (!isa<gpu::LaunchOp>(between))
            between->moveBefore(open);
          between = next;
        }
        appendBody(open, launch);
        continue;
      }
      // A one-block launch that cannot join is the next ones' to join;
      // later ones may move past other launches.
      if (shape)
        startAt(launch, shape);
      else if (open) {
        // Nothing moves past a launch whose accesses are unknown.
        if (std::optional<mlir::qtrain::Accesses> accesses =
                mlir::qtrain::accessesOf(launch))
          passed.push_back(std::move(*accesses));
        else
          startAt({}, std::nullopt);
      }
      continue;
    }
    // Constants and views between the launches; anything else the host
    // does must still see the first launch finished and the next not begun.
    if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0) {
      startAt({}, std::nullopt);
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          mergeInBlock(nested, aliases, dominance);
    }
  }
}

struct MergeSingleBlockLaunchesPass
    : mlir::qtrain::impl::MergeSingleBlockLaunchesPassBase<
          MergeSingleBlockLaunchesPass> {
  void runOnOperation() override {
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    DominanceInfo &dominance = getAnalysis<DominanceInfo>();
    for (Block &block : getOperation().getBody())
      mergeInBlock(block, aliases, dominance);
  }
};

} // namespace
