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

/// Appends `next`'s body to `launch`'s, after a barrier where `ordered`
/// (else the bodies touch other memory and may interleave), and erases
/// `next`.
void appendBody(gpu::LaunchOp launch, gpu::LaunchOp next, bool ordered) {
  Block &body = launch.getBody().front();
  Block &nextBody = next.getBody().front();
  Operation *terminator = body.getTerminator();
  OpBuilder b(terminator);
  if (ordered)
    gpu::BarrierOp::create(b, next.getLoc());
  // The ids and sizes are the same values in both launches; each body
  // keeps its own workgroup buffers.
  IRMapping mapping;
  mlir::qtrain::mapLaunchArguments(next, launch, mapping);
  for (Operation &op : nextBody.without_terminator())
    b.clone(op, mapping);
  next.erase();
}

/// A launch since the last host operation, with what it accesses (nothing
/// if unknown: no launch moves past it).
struct Passed {
  gpu::LaunchOp launch;
  std::optional<SmallVector<int64_t, 3>> shape; // if one block
  std::optional<mlir::qtrain::Accesses> accesses;
};

/// Merges `from`'s accesses into `into`'s (unknown if either is).
void addAccesses(std::optional<mlir::qtrain::Accesses> &into,
                 const std::optional<mlir::qtrain::Accesses> &from) {
  if (!into || !from) {
    into = std::nullopt;
    return;
  }
  llvm::append_range(into->reads, from->reads);
  llvm::append_range(into->writes, from->writes);
}

/// The earliest one-block launch of `shape` among `launches` that `launch`
/// (accessing `mine`) can move up to join: past the launches after it,
/// none of which may depend on it nor it on them (the last one it joins
/// whatever it accesses: a barrier orders them). The earliest leaves the
/// most launches after it free to be fused with others
/// (qtrain-fuse-independent-launches).
Passed *joinTarget(MutableArrayRef<Passed> launches, gpu::LaunchOp launch,
                   ArrayRef<int64_t> shape,
                   const std::optional<mlir::qtrain::Accesses> &mine,
                   AliasAnalysis &aliases, DominanceInfo &dominance) {
  Passed *target = nullptr;
  for (Passed &earlier : llvm::reverse(launches)) {
    if (earlier.shape && ArrayRef<int64_t>(*earlier.shape) == shape &&
        mlir::qtrain::workgroupBytes(earlier.launch) +
                mlir::qtrain::workgroupBytes(launch) <=
            mlir::qtrain::kStaticSharedBytes)
      target = &earlier;
    if (!mine || !earlier.accesses ||
        !mlir::qtrain::independent(*mine, *earlier.accesses, aliases,
                                   dominance))
      break;
  }
  return target;
}

void mergeInBlock(Block &block, AliasAnalysis &aliases,
                  DominanceInfo &dominance) {
  SmallVector<Passed> launches;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
      std::optional<SmallVector<int64_t, 3>> shape = singleBlockShape(launch);
      std::optional<mlir::qtrain::Accesses> mine =
          mlir::qtrain::accessesOf(launch);
      Passed *target =
          shape ? joinTarget(launches, launch, *shape, mine, aliases, dominance)
                : nullptr;
      if (!target) {
        launches.push_back({launch, shape, std::move(mine)});
        continue;
      }
      // The ops between that are not launches (constants, views, allocations)
      // may define what `launch` uses: they go first.
      for (Operation *between = target->launch->getNextNode();
           between != launch;) {
        Operation *next = between->getNextNode();
        if (!isa<gpu::LaunchOp>(between))
          between->moveBefore(target->launch);
        between = next;
      }
      bool ordered = !mine || !target->accesses ||
                     !mlir::qtrain::independent(*mine, *target->accesses,
                                                aliases, dominance);
      appendBody(target->launch, launch, ordered);
      addAccesses(target->accesses, mine);
      continue;
    }
    // Anything the host does but constants, views and allocations must
    // still see the launches before it finished and the next not begun.
    if (!mlir::qtrain::launchesMayPass(&op)) {
      launches.clear();
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
