//===- BlockReductions.cpp - qtrain-block-reductions ----------------------===//
//
// A reduction to one element (every absmax, or the maximum of its partial
// results) becomes, by the generic GPU lowering, a kernel of one busy
// thread that loops over all the terms, each load waiting for the one
// before. This pass gives such reductions thread blocks instead: each
// thread combines a strided share of the terms (consecutive threads on
// consecutive terms), then each block combines its threads' values in
// shared memory, halving them at each barrier, and the blocks combine
// theirs into the output with memory atomics (one block where no atomic
// combines exactly as the combiner does). Only combiners whose result does
// not depend on the order of the terms are reordered so.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include <algorithm>

namespace mlir::qtrain {
#define GEN_PASS_DEF_BLOCKREDUCTIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// Threads of a block; a power of two (the tree halves it).
constexpr int64_t kThreads = 256;
/// Terms for each block (16 a thread), and the most blocks (two for each
/// of an H100's multiprocessors, roughly: enough to fill the GPU, few
/// enough that their atomics do not queue long on one address).
constexpr int64_t kTermsPerBlock = 4096, kMaxBlocks = 256;

/// A reduction to one element that a block can reorder: its combiner, the
/// combiner's operand that is the term, and the reduction's static ranges.
struct BlockReduction {
  linalg::GenericOp op;
  Operation *combiner;
  Value term;
  SmallVector<int64_t> ranges;
};

std::optional<BlockReduction> matchBlockReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (auto [range, iterator] : llvm::zip(ranges, op.getIteratorTypesArray()))
    if (ShapedType::isDynamic(range) ||
        (iterator == utils::IteratorType::parallel && range != 1))
      return std::nullopt;
  // Plain loads: each operand indexed by loops, not expressions of them;
  // a body that does not ask for its indices.
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return std::nullopt;
  if (!op.getBlock()->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  Operation *combiner = mlir::qtrain::orderFreeCombiner(op, 0);
  if (!combiner || !arith::getNeutralElement(combiner))
    return std::nullopt;
  Value out = op.getRegionOutputArgs()[0];
  Value term = combiner->getOperand(0) == out ? combiner->getOperand(1)
                                              : combiner->getOperand(0);
  return BlockReduction{op, combiner, term, ranges};
}

/// The combiner applied to `a` (in the place of the running value) and `b`
/// (in the place of the term).
Value combine(OpBuilder &b, const BlockReduction &reduction, Value acc,
              Value term) {
  linalg::GenericOp op = reduction.op; // op handles are values
  IRMapping mapping;
  mapping.map(op.getRegionOutputArgs()[0], acc);
  mapping.map(reduction.term, term);
  return b.clone(*reduction.combiner, mapping)->getResult(0);
}

/// Loads operand `operand` of the reduction at loop indices `ivs`.
Value load(OpBuilder &b, Location loc, const BlockReduction &reduction,
           OpOperand &operand, ArrayRef<Value> ivs) {
  linalg::GenericOp op = reduction.op;
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults())
    indices.push_back(ivs[cast<AffineDimExpr>(expr).getPosition()]);
  return memref::LoadOp::create(b, loc, operand.get(), indices);
}

void lower(const BlockReduction &reduction) {
  linalg::GenericOp op = reduction.op;
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto index = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  Type type = reduction.combiner->getResult(0).getType();
  int64_t terms = 1;
  for (int64_t range : reduction.ranges)
    terms *= range;
  std::optional<arith::AtomicRMWKind> kind =
      mlir::qtrain::atomicKind(reduction.combiner);
  int64_t blocks =
      kind ? std::clamp<int64_t>(llvm::divideCeil(terms, kTermsPerBlock), 1,
                                 kMaxBlocks)
           : 1;
  Value one = index(b, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks > 1 ? index(b, blocks) : one, one,
                            one, index(b, kThreads), one, one);
  auto scratchType = MemRefType::get(
      {kThreads}, type, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
  Value scratch = launch.addWorkgroupAttribution(scratchType, loc);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value thread = launch.getThreadIds().x;
  Value zero = index(b, 0);

  // Each thread's share: terms t, t + 256 B, ... (t its index in the
  // launch, B the blocks) in the row-major order of the loops.
  Value first = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, index(b, kThreads)),
      thread);
  Value neutral = arith::ConstantOp::create(
      b, loc, *arith::getNeutralElement(reduction.combiner));
  auto loop =
      scf::ForOp::create(b, loc, first, index(b, terms),
                         index(b, blocks * kThreads), ValueRange{neutral});
  {
    OpBuilder inside = OpBuilder::atBlockBegin(loop.getBody());
    SmallVector<Value> ivs(reduction.ranges.size());
    Value rest = loop.getInductionVar();
    for (int64_t d = reduction.ranges.size() - 1; d >= 0; --d) {
      Value range = index(inside, reduction.ranges[d]);
      ivs[d] = arith::RemUIOp::create(inside, loc, rest, range);
      rest = arith::DivUIOp::create(inside, loc, rest, range);
    }
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands())
      mapping.map(op.getMatchingBlockArgument(input),
                  load(inside, loc, reduction, *input, ivs));
    mapping.map(op.getRegionOutputArgs()[0], loop.getRegionIterArg(0));
    for (Operation &bodyOp : op.getBlock()->without_terminator())
      inside.clone(bodyOp, mapping);
    Value next = mapping.lookup(op.getBlock()->getTerminator()->getOperand(0));
    scf::YieldOp::create(inside, loc, next);
  }
  memref::StoreOp::create(b, loc, loop.getResult(0), scratch, thread);
  gpu::BarrierOp::create(b, loc);

  // The tree: at each step the lower half combines the upper half in.
  for (int64_t half = kThreads / 2; half >= 1; half /= 2) {
    Value active = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         thread, index(b, half));
    auto branch = scf::IfOp::create(b, loc, active);
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    Value mine = memref::LoadOp::create(inside, loc, scratch, thread);
    Value other =
        memref::LoadOp::create(inside, loc, scratch,
                               ValueRange{arith::AddIOp::create(
                                   inside, loc, thread, index(inside, half))});
    memref::StoreOp::create(
        inside, loc, combine(inside, reduction, mine, other), scratch, thread);
    gpu::BarrierOp::create(b, loc);
  }

  // Thread 0 combines the block's value into the output: into its initial
  // value where the block is alone, atomically where blocks race.
  Value leader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, thread, zero);
  auto branch = scf::IfOp::create(b, loc, leader);
  {
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    Value output = op.getDpsInits()[0];
    SmallVector<Value> origin(cast<MemRefType>(output.getType()).getRank(),
                              zero);
    Value total = memref::LoadOp::create(inside, loc, scratch, zero);
    if (blocks > 1) {
      memref::AtomicRMWOp::create(inside, loc, *kind, total, output, origin);
    } else {
      Value initial = memref::LoadOp::create(inside, loc, output, origin);
      memref::StoreOp::create(inside, loc,
                              combine(inside, reduction, initial, total),
                              output, origin);
    }
  }
  gpu::TerminatorOp::create(b, loc);
  op.erase();
}

struct BlockReductionsPass
    : mlir::qtrain::impl::BlockReductionsPassBase<BlockReductionsPass> {
  void runOnOperation() override {
    SmallVector<BlockReduction> reductions;
    getOperation()->walk([&](linalg::GenericOp op) {
      // Host code only: kernels' own ops are already inside launches.
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<gpu::GPUModuleOp>())
        return;
      if (std::optional<BlockReduction> reduction = matchBlockReduction(op))
        reductions.push_back(*reduction);
    });
    for (const BlockReduction &reduction : reductions)
      lower(reduction);
  }
};

} // namespace
