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

bool shouldVectorize(linalg::LinalgOp op) {
  return op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
         llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
           return map.isProjectedPermutation();
         });
}

struct VectorizeLinalgPass
    : mlir::qtrain::impl::VectorizeLinalgPassBase<VectorizeLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (shouldVectorize(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
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
