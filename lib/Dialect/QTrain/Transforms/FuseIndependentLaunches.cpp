//===- FuseIndependentLaunches.cpp - qtrain-fuse-independent-launches -----===//
//
// Consecutive kernels that do not depend on each other (the quantizations
// of a GEMM's two operands, an optimizer's updates of each parameter) need
// not wait for each other: one launch can run them all, its blocks split
// into ranges, one range a kernel ("horizontal fusion", as XLA does for
// its loop fusions). Each block runs one kernel's body with its block id
// made relative to that kernel's range, so the bodies are unchanged.
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_FUSEINDEPENDENTLAUNCHESPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// A launch the pass can fuse, with a constant one-dimensional grid: its
/// blocks and block size; else nothing.
struct Shape {
  int64_t blocks;
  SmallVector<int64_t, 3> threads;
};
std::optional<Shape> fusableShape(gpu::LaunchOp launch) {
  std::optional<int64_t> blocks = getConstantIntValue(launch.getGridSizeX());
  std::optional<SmallVector<int64_t, 3>> threads =
      mlir::qtrain::fusableBlockSize(launch);
  if (!blocks || !threads || getConstantIntValue(launch.getGridSizeY()) != 1 ||
      getConstantIntValue(launch.getGridSizeZ()) != 1)
    return std::nullopt;
  return Shape{*blocks, *threads};
}

/// A fused kernel takes every value its bodies use from outside as a
/// parameter; the parameters must fit the 4 KiB that every CUDA driver
/// accepts (newer ones take 32 KiB).
constexpr int64_t kParameterBytes = 4096;

/// The bytes of kernel parameters for the values `launches` use from
/// outside their bodies: a memref is passed as its descriptor (two pointers,
/// an offset, sizes and strides), anything else as 8 bytes or less.
int64_t parameterBytes(ArrayRef<gpu::LaunchOp> launches) {
  llvm::SetVector<Value> captured;
  for (gpu::LaunchOp launch : launches)
    getUsedValuesDefinedAbove(launch.getBody(), captured);
  int64_t bytes = 0;
  for (Value value : captured) {
    auto memref = dyn_cast<MemRefType>(value.getType());
    bytes += memref ? 8 * (3 + 2 * memref.getRank()) : 8;
  }
  return bytes;
}

/// One launch running `group`'s bodies, each on its range of blocks, at
/// `anchor` (after the ops before it, which may define what the bodies
/// use; members after it use only what is defined before it).
void fuse(ArrayRef<gpu::LaunchOp> group, ArrayRef<int64_t> blocks,
          Operation *anchor) {
  gpu::LaunchOp first = group.front();
  OpBuilder b(anchor);
  Location loc = first.getLoc();
  int64_t total = 0;
  for (int64_t count : blocks)
    total += count;
  Value gridX = arith::ConstantIndexOp::create(b, loc, total);
  auto fused = gpu::LaunchOp::create(
      b, loc, gridX, first.getGridSizeY(), first.getGridSizeZ(),
      first.getBlockSizeX(), first.getBlockSizeY(), first.getBlockSizeZ());
  Block &body = fused.getBody().front();
  b.setInsertionPointToStart(&body);
  Value blockId = fused.getBlockIds().x;
  int64_t start = 0;
  Value begin = arith::ConstantIndexOp::create(b, loc, 0);
  for (auto [index, count] : llvm::enumerate(blocks)) {
    gpu::LaunchOp launch = group[index];
    Value end = arith::ConstantIndexOp::create(b, loc, start + count);
    Value inRange = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, blockId,
                              begin),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, blockId, end));
    auto branch = scf::IfOp::create(b, loc, inRange);
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    // The body sees its own grid: block ids from 0, its block count.
    IRMapping mapping;
    Block &launchBody = launch.getBody().front();
    mlir::qtrain::mapLaunchArguments(launch, fused, mapping);
    mapping.map(launch.getBlockIds().x,
                arith::SubIOp::create(inside, loc, blockId, begin));
    mapping.map(launch.getGridSize().x,
                arith::ConstantIndexOp::create(inside, loc, count));
    for (Operation &op : launchBody.without_terminator())
      inside.clone(op, mapping);
    start += count;
    begin = end;
  }
  gpu::TerminatorOp::create(b, loc);
  for (gpu::LaunchOp launch : group)
    launch.erase();
}

/// Launches to run as one: their blocks and accesses, and where the fused
/// launch goes (the last member in program order that did not move up).
struct Group {
  SmallVector<gpu::LaunchOp> launches;
  SmallVector<int64_t> blocks;
  SmallVector<mlir::qtrain::Accesses> accesses;
  SmallVector<int64_t, 3> threads;
  Operation *anchor = nullptr;
};

/// Whether every value `launch`'s body uses from outside is defined before
/// `anchor`, so that the body may run there, or can be: views and constants
/// defined after it (of values that are or can be) move up before it.
bool defineUsesBefore(gpu::LaunchOp launch, Operation *anchor,
                      DominanceInfo &dominance) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  // Defining ops to move, each after those of its operands.
  llvm::SetVector<Operation *> moving;
  std::function<bool(Value)> canDefine = [&](Value value) {
    if (dominance.properlyDominates(value, anchor))
      return true;
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != anchor->getBlock() ||
        !isMemoryEffectFree(def) || def->getNumRegions() != 0)
      return false;
    if (moving.contains(def))
      return true;
    if (!llvm::all_of(def->getOperands(), canDefine))
      return false;
    moving.insert(def);
    return true;
  };
  if (!llvm::all_of(captured, canDefine))
    return false;
  for (Operation *def : moving)
    def->moveBefore(anchor);
  return true;
}

void fuseInBlock(Block &block, AliasAnalysis &aliases,
                 DominanceInfo &dominance) {
  // The groups since the host last did anything with effects: a launch
  // may join any of them that it can move up to, past the later ones.
  SmallVector<Group, 4> window;
  auto flush = [&] {
    for (Group &group : window)
      if (group.launches.size() > 1)
        fuse(group.launches, group.blocks, group.anchor);
    window.clear();
  };
  auto fits = [&](const Group &group, gpu::LaunchOp launch) {
    SmallVector<gpu::LaunchOp> joined(group.launches);
    joined.push_back(launch);
    int64_t shared = 0;
    for (gpu::LaunchOp member : joined)
      shared += mlir::qtrain::workgroupBytes(member);
    return parameterBytes(joined) <= kParameterBytes &&
           shared <= mlir::qtrain::kStaticSharedBytes;
  };
  SmallVector<Operation *> ops =
      llvm::to_vector(llvm::make_pointer_range(block));
  for (Operation *op : ops) {
    auto launch = dyn_cast<gpu::LaunchOp>(op);
    if (!launch) {
      // Anything the host does but constants, views and allocations must
      // still see the first launches finished.
      if (!mlir::qtrain::launchesMayPass(op)) {
        flush();
        for (Region &region : op->getRegions())
          for (Block &nested : region)
            fuseInBlock(nested, aliases, dominance);
      }
      continue;
    }
    std::optional<mlir::qtrain::Accesses> uses =
        mlir::qtrain::accessesOf(launch);
    if (!uses) {
      // Nothing may move past a launch whose accesses are unknown.
      flush();
      continue;
    }
    std::optional<Shape> shape = fusableShape(launch);
    if (!shape) {
      // A launch of another grid (a GEMM's 2-D one) joins no group, but
      // those that do not depend on it, nor it on them, may move past it.
      window.push_back({{launch}, {0}, {std::move(*uses)}, {}, launch});
      continue;
    }
    // The earliest group it may join: independent of that group's members
    // and of every later group's, whose launches it moves up past.
    auto independentOf = [&](const Group &group) {
      return llvm::all_of(
          group.accesses, [&](const mlir::qtrain::Accesses &other) {
            return mlir::qtrain::independent(*uses, other, aliases, dominance);
          });
    };
    std::optional<size_t> target;
    for (size_t i = window.size(); i-- > 0;) {
      if (!independentOf(window[i]))
        break;
      Group &group = window[i];
      if (group.threads == shape->threads && fits(group, launch) &&
          (i + 1 == window.size() ||
           defineUsesBefore(launch, group.anchor, dominance)))
        target = i;
    }
    // Else a group it does not depend on (nor that on it) that can move
    // down to it, past the later groups: it depends on none of them, nor
    // they on it (a small kernel that only a much later one reads, such as
    // an amax history's update, joins the next kernel of its shape).
    if (!target) {
      auto independentGroups = [&](const Group &a, const Group &b) {
        return llvm::all_of(a.accesses, [&](const mlir::qtrain::Accesses &x) {
          return llvm::all_of(b.accesses, [&](const mlir::qtrain::Accesses &y) {
            return mlir::qtrain::independent(x, y, aliases, dominance);
          });
        });
      };
      for (size_t i = window.size(); i-- > 0;) {
        Group &group = window[i];
        if (group.threads != shape->threads || !fits(group, launch) ||
            !independentOf(group) ||
            !llvm::all_of(llvm::drop_begin(window, i + 1),
                          [&](const Group &later) {
                            return independentGroups(group, later);
                          }))
          continue;
        std::rotate(window.begin() + i, window.begin() + i + 1, window.end());
        target = window.size() - 1;
        break;
      }
    }
    if (!target) {
      window.push_back({{}, {}, {}, shape->threads, launch});
      target = window.size() - 1;
    } else if (*target + 1 == window.size()) {
      window.back().anchor = launch;
    }
    Group &group = window[*target];
    group.launches.push_back(launch);
    group.blocks.push_back(shape->blocks);
    group.accesses.push_back(std::move(*uses));
  }
  flush();
}

struct FuseIndependentLaunchesPass
    : mlir::qtrain::impl::FuseIndependentLaunchesPassBase<
          FuseIndependentLaunchesPass> {
  void runOnOperation() override {
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    DominanceInfo &dominance = getAnalysis<DominanceInfo>();
    for (Block &block : getOperation().getBody())
      fuseInBlock(block, aliases, dominance);
  }
};

} // namespace
