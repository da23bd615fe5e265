//===- VectorizeLinalg.cpp - Tile and vectorize lowered qtrain code -------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_VECTORIZELINALGPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// Tile sizes: one vector along the innermost dimension (four for the
/// reduction of a two-operand contraction), 1 elsewhere. Partial tiles of
/// parallel dimensions become masked transfers. Masked reductions do not
/// lower on CPU, so an innermost reduction that the vector does not divide
/// takes the largest power of two dividing its static extent instead (and
/// is left scalar if that is 1 or the extent is dynamic).
std::optional<SmallVector<int64_t>> tileSizes(linalg::LinalgOp op,
                                              int64_t width) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> sizes(numLoops, 1);
  bool reduction =
      linalg::isReductionIterator(op.getIteratorTypesArray().back());
  int64_t size =
      reduction && op.getNumDpsInputs() == 2 && op.getNumReductionLoops() == 1
          ? 4 * width
          : width;
  int64_t extent = op.getStaticLoopRanges().back();
  if (!ShapedType::isDynamic(extent) && extent % size == 0) {
    sizes.back() = size;
    return sizes;
  }
  // Masked f16/bf16 loads and stores legalize to soft-float conversions on
  // x86 (__truncsfbf2), so those ops only take unmasked vectors.
  bool halfTypes = llvm::any_of(op->getOperandTypes(), [](Type type) {
    Type element = getElementTypeOrSelf(type);
    return element.isF16() || element.isBF16();
  });
  if (!reduction && !halfTypes) {
    sizes.back() = size;
    return sizes;
  }
  if (ShapedType::isDynamic(extent))
    return std::nullopt;
  while (size > 1 && extent % size != 0)
    size /= 2;
  if (size == 1)
    return std::nullopt;
  sizes.back() = size;
  return sizes;
}

/// Whether every result of `op` is combined by an f32 add that may be
/// reassociated (fastmath<reassoc>), as float contractions are.
bool hasReassociableAdds(linalg::LinalgOp op) {
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  return op.getNumReductionLoops() > 0 &&
         llvm::all_of(yield.getOperands(), [](Value v) {
           auto add = v.getDefiningOp<arith::AddFOp>();
           return add && bitEnumContainsAll(add.getFastmath(),
                                            arith::FastMathFlags::reassoc);
         });
}

/// Lowers the reductions vectorization created in `loop` to vector.reduction
/// marked reassociable: linalg::vectorize drops the combiner's fast-math
/// flags, and an ordered f32 reduction is a chain of scalar adds.
void markReductionsReassociable(Operation *loop) {
  RewritePatternSet patterns(loop->getContext());
  vector::populateVectorMultiReductionLoweringPatterns(
      patterns, vector::VectorMultiReductionLowering::InnerReduction);
  (void)applyPatternsGreedily(loop, std::move(patterns));
  loop->walk([](vector::ReductionOp reduction) {
    if (reduction.getKind() == vector::CombiningKind::ADD &&
        isa<FloatType>(reduction.getType()))
      reduction.setFastmath(arith::FastMathFlags::reassoc);
  });
}

/// Fills are left to LLVM (memset for zeros): as loops they would hide
/// from qtrain-split-shared-inits, and CSE merges identical ones.
bool shouldVectorize(linalg::LinalgOp op) {
  return !isa<linalg::FillOp>(op) && op.hasPureTensorSemantics() &&
         op.getNumLoops() > 0 &&
         llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
           return map.isProjectedPermutation();
         });
}

/// Whether every operand that reads loop `dim` reads it as its last
/// (contiguous) dimension, so one vector along `dim` is a plain load.
bool isContiguousEverywhere(linalg::LinalgOp op, unsigned dim) {
  return llvm::all_of(op.getIndexingMapsArray(), [&](AffineMap map) {
    if (!map.isFunctionOfDim(dim))
      return true;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    return last && last.getPosition() == dim;
  });
}

/// The loop to vectorize along: the innermost one if every operand reads it
/// contiguously, else the output's last dimension (a matmul `C[m, n] +=
/// A[m, k] * B[k, n]` becomes broadcast-multiply-adds along n), else any
/// such loop (the reduction of `dX = dY * W^T`), else the innermost.
unsigned pickInnermostLoop(linalg::LinalgOp op) {
  unsigned last = op.getNumLoops() - 1;
  if (isContiguousEverywhere(op, last))
    return last;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (out.getNumResults() > 0)
    if (auto dim = dyn_cast<AffineDimExpr>(out.getResults().back()))
      if (isContiguousEverywhere(op, dim.getPosition()))
        return dim.getPosition();
  for (unsigned d = 0; d < last; ++d)
    if (isContiguousEverywhere(op, d))
      return d;
  return last;
}

/// Moves the loop `pickInnermostLoop` chose to the innermost position
/// (generalizing named ops). Returns the op to tile.
linalg::LinalgOp interchangeForVectors(RewriterBase &rewriter,
                                       linalg::LinalgOp op) {
  unsigned innermost = pickInnermostLoop(op);
  unsigned last = op.getNumLoops() - 1;
  if (innermost == last)
    return op;
  rewriter.setInsertionPoint(op);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return op;
    generic = *generalized;
  }
  SmallVector<unsigned> order;
  for (unsigned d = 0; d <= last; ++d)
    if (d != innermost)
      order.push_back(d);
  order.push_back(innermost);
  FailureOr<linalg::GenericOp> interchanged =
      linalg::interchangeGenericOp(rewriter, generic, order);
  return succeeded(interchanged) ? linalg::LinalgOp(*interchanged)
                                 : linalg::LinalgOp(generic);
}

/// The largest divisor of `extent` that is at most `limit` (at least 1).
int64_t largestDivisorAtMost(int64_t extent, int64_t limit) {
  for (int64_t d = std::min(extent, std::max<int64_t>(limit, 1)); d > 1; --d)
    if (extent % d == 0)
      return d;
  return 1;
}

/// Tiles the 2-D convolution `conv` along its batch dimension, then along
/// its input channels (a reduction: each tile accumulates into the output),
/// so that the im2col matrix of one tile takes at most `budget` bytes where
/// tiles of one image and one channel allow it. Tile sizes divide the
/// extents, so tiles keep static shapes. Returns the convolution to
/// rewrite: the tile, or `conv` itself when it fits (or on failure).
///
/// Without this, the im2col matrix of a whole batch is live at once: the
/// input-gradient convolution of a LeNet at batch 1024 gathers 236 MB.
Operation *boundIm2Col(RewriterBase &rewriter, linalg::LinalgOp conv,
                       int64_t budget) {
  FailureOr<linalg::ConvolutionDimensions> dims =
      linalg::inferConvolutionDims(conv);
  if (budget <= 0 || failed(dims) || dims->batch.size() != 1 ||
      dims->inputChannel.size() != 1 || !conv.hasPureTensorSemantics())
    return conv;
  SmallVector<int64_t> ranges = conv.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return conv;
  // im2col holds batch x input channels x filter window x output image.
  auto inputType =
      cast<ShapedType>(conv.getDpsInputOperand(0)->get().getType());
  int64_t perPair = inputType.getElementTypeBitWidth() / 8;
  for (unsigned d : llvm::concat<unsigned>(dims->filterLoop, dims->outputImage))
    perPair *= ranges[d];
  unsigned batch = dims->batch.front(), channel = dims->inputChannel.front();
  if (perPair * ranges[batch] * ranges[channel] <= budget)
    return conv;
  SmallVector<int64_t> sizes(ranges.size(), 0);
  sizes[batch] =
      largestDivisorAtMost(ranges[batch], budget / (perPair * ranges[channel]));
  if (sizes[batch] == 1)
    sizes[channel] = largestDivisorAtMost(ranges[channel], budget / perPair);
  rewriter.setInsertionPoint(conv);
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), sizes));
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(conv.getOperation()), options);
  if (failed(tiled) || tiled->tiledOps.size() != 1)
    return conv;
  rewriter.replaceOp(conv, tiled->replacements);
  return tiled->tiledOps.front();
}

struct VectorizeLinalgPass
    : mlir::qtrain::impl::VectorizeLinalgPassBase<VectorizeLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    // Convolutions become an im2col gather and a matmul-shaped contraction,
    // which vectorizes like any other (upstream rewriteInIm2Col), tile by
    // tile where the gather of the whole convolution would be large.
    {
      IRRewriter rewriter(&getContext());
      SmallVector<Operation *> convs;
      getOperation()->walk([&](Operation *op) {
        if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp>(op))
          convs.push_back(op);
      });
      for (Operation *op : convs) {
        op = boundIm2Col(rewriter, cast<linalg::LinalgOp>(op), im2colBytes);
        rewriter.setInsertionPoint(op);
        if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(op))
          (void)linalg::rewriteInIm2Col(rewriter, conv);
        else
          (void)linalg::rewriteInIm2Col(rewriter,
                                        cast<linalg::Conv2DNhwcHwcfOp>(op));
      }
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (shouldVectorize(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      op = interchangeForVectors(rewriter, op);
      std::optional<SmallVector<int64_t>> maybeSizes =
          tileSizes(op, vectorWidth);
      if (!maybeSizes)
        continue; // left to scalar loops
      SmallVector<int64_t> sizes = *maybeSizes;
      rewriter.setInsertionPoint(op);
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // left to scalar loops
      bool reassociable = hasReassociableAdds(op);
      rewriter.replaceOp(op, tiled->replacements);
      for (Operation *tile : tiled->tiledOps) {
        rewriter.setInsertionPoint(tile);
        FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
            rewriter, tile, sizes, SmallVector<bool>(sizes.size(), false));
        if (failed(vectorized))
          continue;
        rewriter.replaceOp(tile, vectorized->replacements);
        if (reassociable && !tiled->loops.empty())
          markReductionsReassociable(tiled->loops.front());
      }
    }

    // Tiles are vector<1x...x1xN>: masks become masked transfers, and the
    // leading unit dimensions are dropped, because several element-wise
    // ops (math.ctlz, for one) only convert to LLVM on 1-D
    // vectors. Masks go first: canonicalizing a vector.mask region can move
    // a second op into it (MLIR 22).
    RewritePatternSet patterns(&getContext());
    vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
