//===- BlockReductions.cpp - qtrain-block-reductions ----------------------===//
//
// A reduction to one element (every absmax, or the maximum of its partial
// results) becomes, by the generic GPU lowering, a kernel of one busy
// thread that loops over all the terms, each load waiting for the one
// before; a reduction to a few elements of many terms each (batch norm's
// statistics, per channel) a few such threads. This pass gives such
// reductions thread blocks instead: each thread combines a strided share
// of its point's terms (consecutive threads on consecutive terms), then
// each block combines its threads' values in shared memory, halving them
// at each barrier. A block alone on its point combines the result into
// the output; blocks sharing one element combine theirs with memory
// atomics (one block where no atomic combines exactly as the combiner
// does). Only combiners whose result does not depend on the order of the
// terms are reordered so.
//
// Reductions of one block each that do not depend on each other (a step's
// amax-history maxima under delayed scaling, ten to twenty of 16 terms)
// share one block and one tree, where the first of them was: each would
// otherwise be a global load, a tree and a global store after the one
// before, about a microsecond each.
// A reduction's initial value, where a fill just before it writes the
// whole output, is the fill's scalar: the fill goes, and so does the load.
//
//===----------------------------------------------------------------------===//

#include "LaunchFusion.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

#include <algorithm>

namespace mlir::qtrain {
#define GEN_PASS_DEF_BLOCKREDUCTIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using mlir::qtrain::combineAcrossLanes;
using mlir::qtrain::kWarpLanes;

namespace {

/// Threads of a block; a power of two (the tree halves it). Its warps.
constexpr int64_t kThreads = 256, kWarps = kThreads / kWarpLanes;
/// Terms for each block (16 a thread), and the most blocks (two for each
/// of an H100's multiprocessors, roughly: enough to fill the GPU, few
/// enough that their atomics do not queue long on one address).
constexpr int64_t kTermsPerBlock = 4096, kMaxBlocks = 256;
/// A reduction to several points gets a block for each where each has at
/// least a term for every thread (fewer: a thread each does better), and
/// at most this many points (more are parallel enough as threads).
constexpr int64_t kMinTermsPerPoint = kThreads, kMaxPoints = 65536;
/// Outputs of reductions sharing one block (a workgroup buffer of a value
/// for each thread each): 16 KiB of f32 scratch.
constexpr int64_t kMaxGroupOutputs = 16;

/// A reduction that blocks can reorder: its combiners, each one's operand
/// that is the term, the static ranges of its loops, its points (the
/// product of the parallel ranges) and terms per point.
struct BlockReduction {
  linalg::GenericOp op;
  SmallVector<Operation *> combiners;
  SmallVector<Value> terms;
  SmallVector<int64_t> ranges;
  int64_t points = 1, termsPerPoint = 1;
  /// Blocks on each point; more than one combine their results as `kind`.
  int64_t sharing = 1;
  std::optional<arith::AtomicRMWKind> kind;
  /// Each output's initial value where a fill just before the op writes
  /// all of the output (one of `fills`, which go: every element is
  /// written again), else null: the output holds it.
  SmallVector<Value> initials;
  SmallVector<Operation *> fills;

  int64_t blocks() const { return points * sharing; }
};

/// The scalar that `op` writes into every element of `out`, where `op` is
/// a fill of it: linalg.fill, or a linalg.generic of parallel loops whose
/// body yields its one input, a scalar.
Value filledValue(Operation *op, Value out) {
  Type element = cast<MemRefType>(out.getType()).getElementType();
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    Value value = fill.getInputs()[0];
    return fill.getOutputs()[0] == out && value.getType() == element ? value
                                                                     : Value();
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumReductionLoops() != 0 || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getDpsInits()[0] != out ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isPermutation() ||
      generic.getBlock()->getOperations().size() != 1)
    return {};
  OpOperand *input = generic.getDpsInputOperand(0);
  Value yielded = generic.getBlock()->getTerminator()->getOperand(0);
  return !isa<ShapedType>(input->get().getType()) &&
                 input->get().getType() == element &&
                 yielded == generic.getMatchingBlockArgument(input)
             ? input->get()
             : Value();
}

/// Finds the fills of `reduction`'s outputs among the ops just before it,
/// looking past allocations and ops without memory effects.
void findFills(BlockReduction &reduction) {
  unsigned numOutputs = reduction.combiners.size();
  reduction.initials.assign(numOutputs, Value());
  for (Operation *op = reduction.op->getPrevNode(); op;
       op = op->getPrevNode()) {
    bool found = false;
    for (unsigned i = 0; i < numOutputs && !found; ++i) {
      if (reduction.initials[i])
        continue;
      if (Value value = filledValue(op, reduction.op.getDpsInits()[i])) {
        reduction.initials[i] = value;
        reduction.fills.push_back(op);
        found = true;
      }
    }
    if (!found && !isa<gpu::AllocOp, memref::AllocOp>(op) &&
        !(isMemoryEffectFree(op) && op->getNumRegions() == 0))
      return;
  }
}

std::optional<BlockReduction> matchBlockReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return std::nullopt;
  BlockReduction reduction;
  reduction.op = op;
  reduction.ranges = op.getStaticLoopRanges();
  for (auto [range, iterator] :
       llvm::zip(reduction.ranges, op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(range))
      return std::nullopt;
    (iterator == utils::IteratorType::parallel ? reduction.points
                                               : reduction.termsPerPoint) *=
        range;
  }
  if (reduction.points > 1 && (reduction.termsPerPoint < kMinTermsPerPoint ||
                               reduction.points > kMaxPoints))
    return std::nullopt;
  // Outputs indexed by parallel loops alone (each block's point); a body
  // that does not ask for its indices.
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  // Each point's own output elements: the output map names every
  // parallel loop.
  AffineMap outMap = maps[op.getNumDpsInputs()];
  if (!outMap.isProjectedPermutation() ||
      outMap.getNumResults() != op.getNumParallelLoops() ||
      llvm::any_of(outMap.getResults(),
                   [&](AffineExpr e) {
                     return iterators[cast<AffineDimExpr>(e).getPosition()] !=
                            utils::IteratorType::parallel;
                   }) ||
      !op.getBlock()->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  // Every output at the block's point, each combined in any order.
  unsigned numOutputs = op.getNumDpsInits();
  for (unsigned i = 0; i < numOutputs; ++i) {
    Operation *combiner = mlir::qtrain::orderFreeCombiner(op, i);
    if (!combiner || !arith::getNeutralElement(combiner) ||
        maps[op.getNumDpsInputs() + i] != maps[op.getNumDpsInputs()])
      return std::nullopt;
    Value out = op.getRegionOutputArgs()[i];
    reduction.combiners.push_back(combiner);
    reduction.terms.push_back(combiner->getOperand(0) == out
                                  ? combiner->getOperand(1)
                                  : combiner->getOperand(0));
  }
  // One output element: blocks share its terms and combine atomically,
  // where an atomic combines as the combiner does. Several points: a block
  // each. A block alone on its point stores its result, over a fill just
  // before, which may then go.
  if (reduction.points == 1 && numOutputs == 1)
    reduction.kind = mlir::qtrain::atomicKind(reduction.combiners[0]);
  if (reduction.kind)
    reduction.sharing = std::clamp<int64_t>(
        llvm::divideCeil(reduction.termsPerPoint, kTermsPerBlock), 1,
        kMaxBlocks);
  if (reduction.sharing == 1)
    findFills(reduction);
  else
    reduction.initials.assign(numOutputs, Value());
  return reduction;
}

/// Combiner `i` applied to `acc` (in the place of the running value) and
/// `term`.
Value combine(OpBuilder &b, const BlockReduction &reduction, unsigned i,
              Value acc, Value term) {
  linalg::GenericOp op = reduction.op; // op handles are values
  IRMapping mapping;
  mapping.map(op.getRegionOutputArgs()[i], acc);
  mapping.map(reduction.terms[i], term);
  return b.clone(*reduction.combiners[i], mapping)->getResult(0);
}

/// The indices of operand `operand` of `op` at loop indices `ivs`.
SmallVector<Value> indicesOf(OpBuilder &b, Location loc, linalg::GenericOp op,
                             OpOperand &operand, ArrayRef<Value> ivs) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      indices.push_back(ivs[dim.getPosition()]);
    else
      indices.push_back(affine::AffineApplyOp::create(
          b, loc, AffineMap::get(map.getNumDims(), 0, expr), ivs));
  }
  return indices;
}

/// The indices, in the row-major order of `dims` (loops of `ranges`), of
/// the `linear`-th point; the other loops' entries are left.
void delinearize(OpBuilder &b, Location loc, Value linear,
                 ArrayRef<int64_t> ranges, ArrayRef<unsigned> dims,
                 MutableArrayRef<Value> ivs) {
  for (unsigned d : llvm::reverse(dims)) {
    Value range = arith::ConstantIndexOp::create(b, loc, ranges[d]);
    ivs[d] = arith::RemUIOp::create(b, loc, linear, range);
    linear = arith::DivUIOp::create(b, loc, linear, range);
  }
}

/// Thread `first`'s share of `reduction`'s terms at point `ivs` (its
/// reduction loops' entries left): terms first, first + `stride`, ... in
/// the row-major order of the reduction loops, combined from each
/// combiner's neutral element. A loop; a branch where a thread has at most
/// one term.
SmallVector<Value> shareOf(OpBuilder &b, Location loc,
                           const BlockReduction &reduction,
                           ArrayRef<unsigned> reductionDims,
                           ArrayRef<Value> ivs, Value first, int64_t stride) {
  linalg::GenericOp op = reduction.op;
  SmallVector<Value> neutrals;
  for (Operation *combiner : reduction.combiners)
    neutrals.push_back(
        arith::ConstantOp::create(b, loc, *arith::getNeutralElement(combiner)));
  // The body at linear term `term`, combined into `accumulators`.
  auto combineTerm = [&](OpBuilder &inside, Value term,
                         ValueRange accumulators) {
    SmallVector<Value> termIvs(ivs);
    delinearize(inside, loc, term, reduction.ranges, reductionDims, termIvs);
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands())
      mapping.map(
          op.getMatchingBlockArgument(input),
          memref::LoadOp::create(inside, loc, input->get(),
                                 indicesOf(inside, loc, op, *input, termIvs)));
    mapping.map(op.getRegionOutputArgs(), accumulators);
    for (Operation &bodyOp : op.getBlock()->without_terminator())
      inside.clone(bodyOp, mapping);
    scf::YieldOp::create(
        inside, loc,
        llvm::map_to_vector(op.getBlock()->getTerminator()->getOperands(),
                            [&](Value v) { return mapping.lookup(v); }));
  };
  Value count = arith::ConstantIndexOp::create(b, loc, reduction.termsPerPoint);
  if (reduction.termsPerPoint > stride) {
    auto loop = scf::ForOp::create(
        b, loc, first, count, arith::ConstantIndexOp::create(b, loc, stride),
        neutrals);
    OpBuilder inside = OpBuilder::atBlockBegin(loop.getBody());
    combineTerm(inside, loop.getInductionVar(), loop.getRegionIterArgs());
    return SmallVector<Value>(loop.getResults());
  }
  // At most one term a thread: no loop-carried chain to wait on, so the
  // loads of a block's several reductions may all be in flight at once.
  Value holds =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, first, count);
  auto branch = scf::IfOp::create(b, loc, TypeRange(ValueRange(neutrals)),
                                  holds, /*withElseRegion=*/true);
  OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
  combineTerm(inside, first, neutrals);
  inside.setInsertionPointToStart(branch.elseBlock());
  scf::YieldOp::create(inside, loc, neutrals);
  return SmallVector<Value>(branch.getResults());
}

/// Whether `value` is defined before `position` (in its block, or in a
/// region around it), or may be by moving the ops it comes from there:
/// allocations and ops without memory effects, of operands that are or
/// may be. Those ops go into `moved`, each after those it needs.
bool availableBefore(Value value, Operation *position,
                     SmallVectorImpl<Operation *> &moved) {
  // Block arguments and values of enclosing blocks are there before any
  // op of the block that uses them.
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != position->getBlock() ||
      def->isBeforeInBlock(position) || llvm::is_contained(moved, def))
    return true;
  if (!isa<gpu::AllocOp, memref::AllocOp>(def) &&
      !(isMemoryEffectFree(def) && def->getNumRegions() == 0))
    return false;
  for (Value operand : def->getOperands())
    if (!availableBefore(operand, position, moved))
      return false;
  moved.push_back(def);
  return true;
}

/// The ops to move before `position` for `reduction` to run there (the
/// makings of its operands, of the values its body uses from above and of
/// its initial values); nothing if one cannot move.
std::optional<SmallVector<Operation *>>
hoistedFor(const BlockReduction &reduction, Operation *position) {
  SetVector<Value> used;
  getUsedValuesDefinedAbove(reduction.op->getRegions(), used);
  used.insert(reduction.op->operand_begin(), reduction.op->operand_end());
  for (Value initial : reduction.initials)
    if (initial)
      used.insert(initial);
  SmallVector<Operation *> moved;
  for (Value value : used)
    if (!availableBefore(value, position, moved))
      return std::nullopt;
  return moved;
}

/// A block's value of one output of one of its reductions.
struct Slot {
  const BlockReduction *reduction;
  unsigned output;
  Value scratch;            // its workgroup buffer, if it needs one
  SmallVector<Value> point; // the block's loop indices
  Value value;              // the thread's share, then (shuffles) total
};

/// A block alone on a point of fewer terms than threads (an amax history's
/// 16) has values only in the threads that hold terms; the others hold the
/// neutral element. The first halving step `reduction` needs.
int64_t treeTop(const BlockReduction &reduction) {
  int64_t holding = reduction.sharing == 1
                        ? std::min(reduction.termsPerPoint, kThreads)
                        : kThreads;
  return int64_t(llvm::PowerOf2Ceil(holding)) / 2;
}

/// Combines each slot's values across the block by warp shuffles (and,
/// where `top` reaches past a warp, through each slot's buffer of a value
/// a warp), leaving slot j's total in the value of thread j.
void combineByShuffles(OpBuilder &b, Location loc, MutableArrayRef<Slot> slots,
                       Value thread, int64_t top) {
  auto index = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  // Thread j finally combines slot j's total into its output, so the
  // totals must reach threads 0 to (slots - 1).
  int64_t leaders = int64_t(llvm::PowerOf2Ceil(slots.size()));
  // A butterfly over each warp from lane distance `from` down leaves
  // every lane below 2 `from` with the total of those lanes.
  auto butterfly = [&](int64_t from) {
    SmallVector<Value> values =
        llvm::map_to_vector(slots, [](Slot &s) { return s.value; });
    combineAcrossLanes(b, loc, values, from,
                       [&](OpBuilder &b, unsigned i, Value mine, Value other) {
                         Slot &s = slots[i];
                         return combine(b, *s.reduction, s.output, mine, other);
                       });
    for (auto [s, value] : llvm::zip(slots, values))
      s.value = value;
  };
  butterfly(std::max(std::min(top, kWarpLanes / 2), leaders / 2));
  if (top >= kWarpLanes) {
    // Several warps hold terms: lane 0 of each stores the warp's total,
    // and each warp combines the warps' totals (lanes past the last warp
    // holding the neutral element).
    Value lane = arith::RemUIOp::create(b, loc, thread, index(b, kWarpLanes));
    Value warp = arith::DivUIOp::create(b, loc, thread, index(b, kWarpLanes));
    auto first = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                              index(b, 0)));
    OpBuilder inside = OpBuilder::atBlockBegin(first.thenBlock());
    for (Slot &s : slots)
      memref::StoreOp::create(inside, loc, s.value, s.scratch, warp);
    gpu::BarrierOp::create(b, loc);
    Value holds = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, lane,
                                        index(b, kWarps));
    for (Slot &s : slots) {
      auto load = scf::IfOp::create(b, loc, TypeRange(s.value.getType()), holds,
                                    /*withElseRegion=*/true);
      inside.setInsertionPointToStart(load.thenBlock());
      scf::YieldOp::create(
          inside, loc,
          ValueRange(memref::LoadOp::create(inside, loc, s.scratch, lane)));
      inside.setInsertionPointToStart(load.elseBlock());
      scf::YieldOp::create(
          inside, loc,
          ValueRange(arith::ConstantOp::create(
              inside, loc,
              *arith::getNeutralElement(s.reduction->combiners[s.output]))));
      s.value = load.getResult(0);
    }
    butterfly(std::max(kWarps / 2, leaders / 2));
  }
}

/// Combines each slot's values across the block in its buffer of a value a
/// thread, leaving slot j's total in its element 0.
void combineInTree(OpBuilder &b, Location loc, ArrayRef<Slot> slots,
                   Value thread, int64_t top) {
  auto index = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  // The tree: at each step the lower half combines the upper half in,
  // each step a barrier; slots whose terms are all in the lower half
  // sit it out.
  for (const Slot &s : slots)
    memref::StoreOp::create(b, loc, s.value, s.scratch, thread);
  gpu::BarrierOp::create(b, loc);
  for (int64_t half = top; half >= 1; half /= 2) {
    Value active = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         thread, index(b, half));
    auto branch = scf::IfOp::create(b, loc, active);
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    Value partner =
        arith::AddIOp::create(inside, loc, thread, index(inside, half));
    for (const Slot &s : slots) {
      if (treeTop(*s.reduction) < half)
        continue;
      Value mine = memref::LoadOp::create(inside, loc, s.scratch, thread);
      Value other = memref::LoadOp::create(inside, loc, s.scratch, partner);
      memref::StoreOp::create(
          inside, loc, combine(inside, *s.reduction, s.output, mine, other),
          s.scratch, thread);
    }
    gpu::BarrierOp::create(b, loc);
  }
}

/// Lowers `group`, reductions that may run together (one, or several of
/// one block each), into one launch where the first of them was.
void lower(ArrayRef<BlockReduction> group) {
  Operation *position = group.front().op;
  for (const BlockReduction &reduction : group.drop_front()) {
    std::optional<SmallVector<Operation *>> moved =
        hoistedFor(reduction, position);
    for (Operation *op : *moved)
      op->moveBefore(position);
  }
  MLIRContext *context = position->getContext();
  SmallVector<Location> locations;
  for (const BlockReduction &reduction : group)
    locations.push_back(reduction.op->getLoc());
  Location loc = Builder(context).getFusedLoc(locations);
  OpBuilder b(position);
  auto index = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  int64_t blocks = group.size() == 1 ? group.front().blocks() : 1;
  Value one = index(b, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks > 1 ? index(b, blocks) : one, one,
                            one, index(b, kThreads), one, one);
  int64_t top = 0;
  for (const BlockReduction &reduction : group)
    top = std::max(top, treeTop(reduction));
  // Warps combine 32-bit values by shuffles (f32 and i32 combiners, the
  // ones qtrain's reductions have; shfl.sync moves 32 bits), others in a
  // shared-memory tree.
  bool shuffled = true;
  for (const BlockReduction &reduction : group)
    for (Operation *combiner : reduction.combiners) {
      Type type = combiner->getResult(0).getType();
      shuffled &= type.isF32() || type.isInteger(32);
    }
  // Each output of each reduction is a slot: a workgroup buffer of a value
  // for each thread (the tree), for each warp (shuffles across warps) or
  // none (one warp holds all terms).
  int64_t scratchSize = !shuffled ? kThreads : top >= kWarpLanes ? kWarps : 0;
  SmallVector<Slot> slots;
  for (const BlockReduction &reduction : group)
    for (auto [i, combiner] : llvm::enumerate(reduction.combiners)) {
      Value scratch;
      if (scratchSize > 0)
        scratch = launch.addWorkgroupAttribution(
            MemRefType::get({scratchSize}, combiner->getResult(0).getType(),
                            MemRefLayoutAttrInterface(),
                            gpu::AddressSpaceAttr::get(
                                context, gpu::AddressSpace::Workgroup)),
            loc);
      slots.push_back({&reduction, unsigned(i), scratch, {}, {}});
    }
  b.setInsertionPointToStart(&launch.getBody().front());
  Value thread = launch.getThreadIds().x;
  Value block = launch.getBlockIds().x;
  Value zero = index(b, 0);

  // Each block's point (its index, row-major over the parallel loops), and
  // each thread's share of the point's terms: terms t, t + 256 S, ... (t
  // its index among the S blocks sharing the point) in the row-major order
  // of the reduction loops.
  auto slot = slots.begin();
  for (const BlockReduction &reduction : group) {
    SmallVector<unsigned> parallelDims, reductionDims;
    linalg::GenericOp op = reduction.op; // op handles are values
    for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      (iterator == utils::IteratorType::parallel ? parallelDims : reductionDims)
          .push_back(d);
    SmallVector<Value> ivs(reduction.ranges.size(), zero);
    Value first = thread;
    if (reduction.sharing > 1)
      first = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, block, index(b, kThreads)),
          thread);
    else if (reduction.points > 1)
      delinearize(b, loc, block, reduction.ranges, parallelDims, ivs);
    for (Value value : shareOf(b, loc, reduction, reductionDims, ivs, first,
                               reduction.sharing * kThreads)) {
      slot->point = ivs;
      (slot++)->value = value;
    }
  }

  if (shuffled)
    combineByShuffles(b, loc, slots, thread, top);
  else
    combineInTree(b, loc, slots, thread, top);

  // Thread j combines slot j's total into its output (so that the slots'
  // loads of initial values are in flight together): into the initial
  // value where a block is alone on its point, atomically where blocks
  // share it.
  for (auto [j, s] : llvm::enumerate(slots)) {
    Value leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         thread, index(b, j));
    auto branch = scf::IfOp::create(b, loc, leader);
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    const BlockReduction &reduction = *s.reduction;
    linalg::GenericOp op = reduction.op;
    OpOperand &output = op.getDpsInitsMutable()[s.output];
    SmallVector<Value> at = indicesOf(inside, loc, op, output, s.point);
    Value total = shuffled
                      ? s.value
                      : memref::LoadOp::create(inside, loc, s.scratch, zero);
    if (reduction.sharing > 1) {
      memref::AtomicRMWOp::create(inside, loc, *reduction.kind, total,
                                  output.get(), at);
      continue;
    }
    Value initial = reduction.initials[s.output];
    if (!initial)
      initial = memref::LoadOp::create(inside, loc, output.get(), at);
    memref::StoreOp::create(
        inside, loc, combine(inside, reduction, s.output, initial, total),
        output.get(), at);
  }
  gpu::TerminatorOp::create(b, loc);
  for (const BlockReduction &reduction : group) {
    reduction.op->erase();
    for (Operation *fill : reduction.fills)
      fill->erase();
  }
}

/// Whether `next` may join `group` (reductions of one block each, which
/// run where the first of them is), being of one block too: it is in the
/// same block of ops, the group's outputs fit its limit, what it reads and
/// writes may be made before the group, and it may move up past every op
/// after the group's first (none writes what the other reads or writes;
/// its own fills go).
bool mayJoin(ArrayRef<BlockReduction> group, const BlockReduction &next,
             AliasAnalysis &aliases, DominanceInfo &dominance) {
  Operation *position = group.front().op;
  if (position->getBlock() != next.op->getBlock())
    return false;
  size_t outputs = next.combiners.size();
  for (const BlockReduction &reduction : group)
    outputs += reduction.combiners.size();
  if (outputs > kMaxGroupOutputs || !hoistedFor(next, position))
    return false;
  std::optional<mlir::qtrain::Accesses> own = mlir::qtrain::accessesOf(next.op);
  if (!own)
    return false;
  for (Operation *op = position; op != next.op; op = op->getNextNode()) {
    if (mlir::qtrain::launchesMayPass(op) || llvm::is_contained(next.fills, op))
      continue;
    std::optional<mlir::qtrain::Accesses> passed = mlir::qtrain::accessesOf(op);
    if (!passed ||
        !mlir::qtrain::independent(*passed, *own, aliases, dominance))
      return false;
  }
  return true;
}

struct BlockReductionsPass
    : mlir::qtrain::impl::BlockReductionsPassBase<BlockReductionsPass> {
  void runOnOperation() override {
    std::vector<BlockReduction> reductions;
    getOperation()->walk([&](linalg::GenericOp op) {
      // Host code only: kernels' own ops are already inside launches.
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<gpu::GPUModuleOp>())
        return;
      if (std::optional<BlockReduction> reduction = matchBlockReduction(op))
        reductions.push_back(*reduction);
    });
    // Reductions of several blocks alone; those of one block in groups, in
    // program order: one that may not join the open group closes it and
    // opens the next.
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    DominanceInfo &dominance = getAnalysis<DominanceInfo>();
    std::vector<std::vector<BlockReduction>> groups;
    std::vector<BlockReduction> open;
    for (BlockReduction &reduction : reductions) {
      if (reduction.blocks() != 1) {
        groups.push_back({reduction});
        continue;
      }
      if (!open.empty() && !mayJoin(open, reduction, aliases, dominance)) {
        groups.push_back(std::move(open));
        open.clear();
      }
      open.push_back(reduction);
    }
    if (!open.empty())
      groups.push_back(std::move(open));
    for (ArrayRef<BlockReduction> group : groups)
      lower(group);
  }
};

} // namespace
