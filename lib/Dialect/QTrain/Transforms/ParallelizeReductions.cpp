//===- ParallelizeReductions.cpp - qtrain-parallelize-reductions ----------===//
//
// GPU kernels map an op's parallel loops to threads and run its reduction
// loops inside each thread. Reductions to few outputs (the absmax behind
// every per-tensor scale) are split into partial results over whole outer
// loops, and ops without parallel loops get a unit one so they run on the
// device. Upstream's linalg::splitReduction splits one reduction loop by a
// ratio through reshapes (and needs a single reduction loop dividing
// evenly); making existing outer loops parallel needs neither.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_PARALLELIZEREDUCTIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

// Below this many outputs a reduction is split; at most this many partial
// results (4 MiB of f32: a convolution's weight gradient, 3200 outputs of
// 4096 terms, splits its batch loop of 64); at least this many terms for
// each.
constexpr int64_t kFewOutputs = 4096, kMinTermsPerOutput = 4096,
                  kMaxPartials = 1 << 20, kMinTermsPerPartial = 32;

/// Splits a reduction whose outputs (one or several, each with its own
/// order-free combiner) are few and whose terms are many: outer reduction
/// loops become parallel in an op writing partial results, and a second op
/// combines the partials into the original outputs.
struct SplitReduction : OpRewritePattern<linalg::GenericOp> {
  SplitReduction(MLIRContext *context, bool wholeAtomicReductions)
      : OpRewritePattern(context),
        wholeAtomicReductions(wholeAtomicReductions) {}
  bool wholeAtomicReductions;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() == 0)
      return rewriter.notifyMatchFailure(op, "not a reduction on tensors");
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic loops");
    unsigned numOutputs = op.getNumDpsInits();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    ArrayRef<AffineMap> outMaps = ArrayRef(maps).take_back(numOutputs);
    SmallVector<Operation *> combiners;
    SmallVector<TypedAttr> neutrals;
    for (unsigned i = 0; i < numOutputs; ++i) {
      Operation *combiner = mlir::qtrain::orderFreeCombiner(op, i);
      std::optional<TypedAttr> neutral =
          combiner ? arith::getNeutralElement(combiner) : std::nullopt;
      if (!neutral || !outMaps[i].isProjectedPermutation() ||
          outMaps[i] != outMaps[0])
        return rewriter.notifyMatchFailure(op, "order matters");
      combiners.push_back(combiner);
      neutrals.push_back(*neutral);
    }

    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    int64_t outputs = 1, terms = 1;
    for (auto [range, iterator] : llvm::zip(ranges, iterators))
      (iterator == utils::IteratorType::parallel ? outputs : terms) *= range;
    if (outputs >= kFewOutputs || terms < kMinTermsPerOutput)
      return rewriter.notifyMatchFailure(op, "parallel enough");
    if (wholeAtomicReductions && outputs == 1 && numOutputs == 1 &&
        mlir::qtrain::atomicKind(combiners[0]))
      return rewriter.notifyMatchFailure(
          op, "one element, combined atomically by qtrain-block-reductions");
    SmallVector<unsigned> split;
    int64_t partials = outputs;
    for (auto [dim, iterator] : llvm::enumerate(iterators)) {
      if (iterator != utils::IteratorType::reduction)
        continue;
      if (partials * ranges[dim] > kMaxPartials ||
          terms / ranges[dim] < kMinTermsPerPartial)
        break;
      split.push_back(dim);
      partials *= ranges[dim];
      terms /= ranges[dim];
    }
    if (split.empty())
      return rewriter.notifyMatchFailure(op, "no outer loop to split");

    // Partial results: the outputs' dims, then the split loops.
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto outShape = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
    SmallVector<int64_t> partialShape(outShape);
    SmallVector<AffineExpr> partialExprs(outMaps[0].getResults());
    for (unsigned dim : split) {
      partialShape.push_back(ranges[dim]);
      partialExprs.push_back(getAffineDimExpr(dim, ctx));
      iterators[dim] = utils::IteratorType::parallel;
    }
    SmallVector<Value> partialInits;
    SmallVector<Type> partialTypes;
    for (auto [result, neutral] : llvm::zip(op.getResults(), neutrals)) {
      Type element = cast<RankedTensorType>(result.getType()).getElementType();
      Value empty =
          tensor::EmptyOp::create(rewriter, loc, partialShape, element);
      Value identity = arith::ConstantOp::create(rewriter, loc, neutral);
      partialInits.push_back(
          linalg::FillOp::create(rewriter, loc, identity, empty).getResult(0));
      partialTypes.push_back(partialInits.back().getType());
    }
    AffineMap partialMap =
        AffineMap::get(op.getNumLoops(), 0, partialExprs, ctx);
    for (AffineMap &map : MutableArrayRef(maps).take_back(numOutputs))
      map = partialMap;
    auto partial = linalg::GenericOp::create(rewriter, loc, partialTypes,
                                             op.getDpsInputs(), partialInits,
                                             maps, iterators);
    rewriter.cloneRegionBefore(op.getRegion(), partial.getRegion(),
                               partial.getRegion().end());

    // Combining them: loops over the outputs' dims, then the split ones.
    unsigned rank = outShape.size(), numLoops = rank + split.size();
    SmallVector<utils::IteratorType> combineIterators(
        numLoops, utils::IteratorType::reduction);
    std::fill_n(combineIterators.begin(), rank, utils::IteratorType::parallel);
    AffineMap all = rewriter.getMultiDimIdentityMap(numLoops);
    AffineMap outputDims =
        AffineMap::get(numLoops, 0,
                       llvm::map_to_vector(llvm::seq(rank),
                                           [&](unsigned d) -> AffineExpr {
                                             return getAffineDimExpr(d, ctx);
                                           }),
                       ctx);
    SmallVector<AffineMap> combineMaps(numOutputs, all);
    combineMaps.append(numOutputs, outputDims);
    auto combined = linalg::GenericOp::create(
        rewriter, loc, op.getResultTypes(), partial.getResults(),
        op.getDpsInits(), combineMaps, combineIterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> results;
          for (auto [i, combiner] : llvm::enumerate(combiners)) {
            BlockArgument out = op.getRegionOutputArgs()[i];
            IRMapping mapping;
            for (Value operand : combiner->getOperands())
              mapping.map(operand,
                          operand == out ? args[numOutputs + i] : args[i]);
            results.push_back(b.clone(*combiner, mapping)->getResult(0));
          }
          linalg::YieldOp::create(b, l, results);
        });
    rewriter.replaceOp(op, combined.getResults());
    return success();
  }
};

/// An op without parallel loops computes its 0-d results in a loop of one
/// iteration (dimension 0 of expanded outputs), so it becomes a kernel.
struct AddUnitParallelLoop : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumParallelLoops() != 0)
      return rewriter.notifyMatchFailure(op, "has parallel loops");
    if (!llvm::all_of(op.getResultTypes(), [](Type type) {
          return cast<RankedTensorType>(type).getRank() == 0;
        }))
      return rewriter.notifyMatchFailure(op, "not 0-d results");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    SmallVector<Value> inits;
    SmallVector<Type> unitTypes;
    for (Value init : op.getDpsInits()) {
      auto unitType = RankedTensorType::get(
          {1}, cast<RankedTensorType>(init.getType()).getElementType());
      inits.push_back(tensor::ExpandShapeOp::create(
          rewriter, loc, unitType, init, ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)}));
      unitTypes.push_back(unitType);
    }
    // Loop 0 is the new one; the old loops shift by one.
    unsigned numLoops = op.getNumLoops() + 1;
    SmallVector<AffineMap> maps;
    for (AffineMap map : op.getIndexingMapsArray())
      maps.push_back(map.shiftDims(1));
    for (AffineMap &map : MutableArrayRef(maps).take_back(inits.size()))
      map = AffineMap::get(numLoops, 0, getAffineDimExpr(0, ctx), ctx);
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel};
    llvm::append_range(iterators, op.getIteratorTypesArray());
    auto unit = linalg::GenericOp::create(
        rewriter, loc, unitTypes, op.getDpsInputs(), inits, maps, iterators);
    rewriter.inlineRegionBefore(op.getRegion(), unit.getRegion(),
                                unit.getRegion().end());
    SmallVector<Value> results;
    for (auto [result, type] :
         llvm::zip(unit.getResults(), op.getResultTypes()))
      results.push_back(tensor::CollapseShapeOp::create(
          rewriter, loc, type, result, ArrayRef<ReassociationIndices>{}));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// A 0-d fill is a generic without loops, then gets its unit loop.
struct GeneralizeScalarFill : OpRewritePattern<linalg::FillOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::FillOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    if (!op.hasPureTensorSemantics() || !type || type.getRank() != 0)
      return rewriter.notifyMatchFailure(op, "not a 0-d fill of a tensor");
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

struct ParallelizeReductionsPass
    : mlir::qtrain::impl::ParallelizeReductionsPassBase<
          ParallelizeReductionsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Splits first: a split reduction's 0-d combination gets the unit loop.
    patterns.add<SplitReduction>(&getContext(), wholeAtomicReductions);
    patterns.add<AddUnitParallelLoop, GeneralizeScalarFill>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
