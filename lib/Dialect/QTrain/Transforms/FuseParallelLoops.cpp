//===- FuseParallelLoops.cpp - qtrain-fuse-parallel-loops -----------------===//
//
// Upstream's naivelyFuseParallelOps fuses adjacent scf.parallel loops of one
// iteration space, but any op with side effects between two loops keeps
// them apart, and the allocation of a loop's output buffer always stands
// before it. Allocations of static size move up past the loops (and the
// kernels already made) before them, which cannot use a buffer allocated
// later; then upstream fuses.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_FUSEPARALLELLOOPSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// The ops of an allocation of static size that may move as one: a
/// memref.alloc, or a gpu.alloc with the `gpu.wait async` that is its only
/// dependency and the `gpu.wait` on its token (the host code's synchronous
/// allocation). Empty for any other op.
SmallVector<Operation *, 3> staticAllocation(Operation *op) {
  if (auto alloc = dyn_cast<memref::AllocOp>(op))
    return alloc->getNumOperands() == 0 ? SmallVector<Operation *, 3>{op}
                                        : SmallVector<Operation *, 3>{};
  auto alloc = dyn_cast<gpu::AllocOp>(op);
  if (!alloc || !alloc.getDynamicSizes().empty() ||
      !alloc.getSymbolOperands().empty())
    return {};
  SmallVector<Operation *, 3> group;
  for (Value dependency : alloc.getAsyncDependencies()) {
    auto wait = dependency.getDefiningOp<gpu::WaitOp>();
    if (!wait || !wait.getAsyncDependencies().empty() ||
        !dependency.hasOneUse() || wait->getBlock() != op->getBlock())
      return {};
    group.push_back(wait);
  }
  group.push_back(op);
  if (Value token = alloc.getAsyncToken()) {
    if (!token.hasOneUse())
      return {};
    auto wait = dyn_cast<gpu::WaitOp>(*token.getUsers().begin());
    if (!wait || wait.getAsyncToken() || wait->getBlock() != op->getBlock())
      return {};
    group.push_back(wait);
  }
  return group;
}

/// Moves each static allocation of `block` above the run of scf.parallel
/// loops and gpu.launch ops (and side-effect-free ops without regions)
/// that precedes it.
void hoistAllocationsAboveLoops(Block &block) {
  // The first op of the current run, null outside one.
  Operation *runStart = nullptr;
  SmallVector<Operation *> ops =
      llvm::to_vector(llvm::make_pointer_range(block));
  DenseSet<Operation *> moved;
  for (Operation *op : ops) {
    if (moved.contains(op))
      continue;
    // Kernels already made (block reductions) precede new buffers alike.
    if (isa<scf::ParallelOp, gpu::LaunchOp>(op)) {
      if (!runStart)
        runStart = op;
      continue;
    }
    // Views and index arithmetic; and a `gpu.wait async`, which starts an
    // allocation group or gives the next op with side effects a stream.
    if ((isMemoryEffectFree(op) && op->getNumRegions() == 0) ||
        (isa<gpu::WaitOp>(op) && !op->use_empty()))
      continue;
    SmallVector<Operation *, 3> group = staticAllocation(op);
    if (group.empty()) {
      runStart = nullptr;
      continue;
    }
    if (!runStart)
      continue;
    for (Operation *member : group) {
      member->moveBefore(runStart);
      moved.insert(member);
    }
  }
}

struct FuseParallelLoopsPass
    : mlir::qtrain::impl::FuseParallelLoopsPassBase<FuseParallelLoopsPass> {
  void runOnOperation() override {
    getOperation()->walk(
        [](Block *block) { hoistAllocationsAboveLoops(*block); });
    // As upstream's scf-parallel-loop-fusion pass does.
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    auto mayAlias = [&](Value a, Value b) {
      return !aliases.alias(a, b).isNo();
    };
    getOperation()->walk([&](Operation *op) {
      for (Region &region : op->getRegions())
        scf::naivelyFuseParallelOps(region, mayAlias);
    });
  }
};

} // namespace
