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
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
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
/// A reduction to several points gets a block for each where each has at
/// least a term for every thread (fewer: a thread each does better), and
/// at most this many points (more are parallel enough as threads).
constexpr int64_t kMinTermsPerPoint = kThreads, kMaxPoints = 65536;

/// A reduction that blocks can reorder: its combiners, each one's operand
/// that is the term, the static ranges of its loops, its points (the
/// product of the parallel ranges) and terms per point.
struct BlockReduction {
  linalg::GenericOp op;
  SmallVector<Operation *> combiners;
  SmallVector<Value> terms;
  SmallVector<int64_t> ranges;
  int64_t points = 1, termsPerPoint = 1;
};

std::optional<BlockReduction> matchBlockReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return std::nullopt;
  BlockReduction reduction{op, {}, {}, op.getStaticLoopRanges()};
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
  AffineMap outMap = maps[op.getNumDpsInputs()];
  if (!outMap.isProjectedPermutation() ||
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

void lower(const BlockReduction &reduction) {
  linalg::GenericOp op = reduction.op;
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto index = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  unsigned numOutputs = reduction.combiners.size();
  SmallVector<unsigned> parallelDims, reductionDims;
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    (iterator == utils::IteratorType::parallel ? parallelDims : reductionDims)
        .push_back(d);
  // One output element: blocks share its terms and combine atomically,
  // where an atomic combines as the combiner does. Several points: a block
  // each, alone on it.
  std::optional<arith::AtomicRMWKind> kind =
      reduction.points == 1 && numOutputs == 1
          ? mlir::qtrain::atomicKind(reduction.combiners[0])
          : std::nullopt;
  int64_t sharing =
      kind ? std::clamp<int64_t>(
                 llvm::divideCeil(reduction.termsPerPoint, kTermsPerBlock), 1,
                 kMaxBlocks)
           : 1;
  int64_t blocks = reduction.points * sharing;
  Value one = index(b, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks > 1 ? index(b, blocks) : one, one,
                            one, index(b, kThreads), one, one);
  SmallVector<Value> scratch;
  for (Operation *combiner : reduction.combiners)
    scratch.push_back(launch.addWorkgroupAttribution(
        MemRefType::get({kThreads}, combiner->getResult(0).getType(),
                        MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(
                            b.getContext(), gpu::AddressSpace::Workgroup)),
        loc));
  b.setInsertionPointToStart(&launch.getBody().front());
  Value thread = launch.getThreadIds().x;
  Value block = launch.getBlockIds().x;
  Value zero = index(b, 0);

  // The block's point (its index, row-major over the parallel loops), and
  // each thread's share of the point's terms: terms t, t + 256 S, ... (t
  // its index among the S blocks sharing the point) in the row-major order
  // of the reduction loops.
  SmallVector<Value> ivs(reduction.ranges.size(), zero);
  Value first = thread;
  if (sharing > 1)
    first = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, block, index(b, kThreads)),
        thread);
  else if (reduction.points > 1)
    delinearize(b, loc, block, reduction.ranges, parallelDims, ivs);
  SmallVector<Value> neutrals;
  for (Operation *combiner : reduction.combiners)
    neutrals.push_back(
        arith::ConstantOp::create(b, loc, *arith::getNeutralElement(combiner)));
  auto loop =
      scf::ForOp::create(b, loc, first, index(b, reduction.termsPerPoint),
                         index(b, sharing * kThreads), neutrals);
  {
    OpBuilder inside = OpBuilder::atBlockBegin(loop.getBody());
    SmallVector<Value> termIvs(ivs);
    delinearize(inside, loc, loop.getInductionVar(), reduction.ranges,
                reductionDims, termIvs);
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands())
      mapping.map(
          op.getMatchingBlockArgument(input),
          memref::LoadOp::create(inside, loc, input->get(),
                                 indicesOf(inside, loc, op, *input, termIvs)));
    mapping.map(op.getRegionOutputArgs(), loop.getRegionIterArgs());
    for (Operation &bodyOp : op.getBlock()->without_terminator())
      inside.clone(bodyOp, mapping);
    scf::YieldOp::create(
        inside, loc,
        llvm::map_to_vector(op.getBlock()->getTerminator()->getOperands(),
                            [&](Value v) { return mapping.lookup(v); }));
  }
  for (unsigned i = 0; i < numOutputs; ++i)
    memref::StoreOp::create(b, loc, loop.getResult(i), scratch[i], thread);
  gpu::BarrierOp::create(b, loc);

  // The tree: at each step the lower half combines the upper half in. A
  // block alone on a point of fewer terms than threads (an amax history's
  // 16) starts at the threads that hold terms: the others hold the
  // neutral element, and each step is a barrier.
  int64_t holding =
      sharing == 1 ? std::min(reduction.termsPerPoint, kThreads) : kThreads;
  for (int64_t half = int64_t(llvm::PowerOf2Ceil(holding)) / 2; half >= 1;
       half /= 2) {
    Value active = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         thread, index(b, half));
    auto branch = scf::IfOp::create(b, loc, active);
    OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
    Value partner =
        arith::AddIOp::create(inside, loc, thread, index(inside, half));
    for (unsigned i = 0; i < numOutputs; ++i) {
      Value mine = memref::LoadOp::create(inside, loc, scratch[i], thread);
      Value other = memref::LoadOp::create(inside, loc, scratch[i], partner);
      memref::StoreOp::create(inside, loc,
                              combine(inside, reduction, i, mine, other),
                              scratch[i], thread);
    }
    gpu::BarrierOp::create(b, loc);
  }

  // Thread 0 combines the block's values into the outputs: into their
  // initial values where a block is alone on its point, atomically where
  // blocks share it.
  Value leader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, thread, zero);
  auto branch = scf::IfOp::create(b, loc, leader);
  OpBuilder inside = OpBuilder::atBlockBegin(branch.thenBlock());
  for (unsigned i = 0; i < numOutputs; ++i) {
    OpOperand &output = op.getDpsInitsMutable()[i];
    SmallVector<Value> at = indicesOf(inside, loc, op, output, ivs);
    Value total = memref::LoadOp::create(inside, loc, scratch[i], zero);
    if (sharing > 1) {
      memref::AtomicRMWOp::create(inside, loc, *kind, total, output.get(), at);
    } else {
      Value initial = memref::LoadOp::create(inside, loc, output.get(), at);
      memref::StoreOp::create(inside, loc,
                              combine(inside, reduction, i, initial, total),
                              output.get(), at);
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
