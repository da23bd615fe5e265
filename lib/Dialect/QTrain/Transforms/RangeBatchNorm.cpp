//===- RangeBatchNorm.cpp - qtrain-range-batchnorm ------------------------===//
//
// Finds the inverse standard deviation of decomposed batch normalizations
// (the form is documented in Passes.td) and replaces it by the inverse of
// the scaled range of the centered values.
//
//===----------------------------------------------------------------------===//

#include "BatchNormMatch.h"

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::qtrain {
#define GEN_PASS_DEF_RANGEBATCHNORMPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

/// A generic reducing `input` (read through `inputMap`) into a zero-rank or
/// channel tensor `initType` with the kept dimensions `outMap`, combining
/// with `combine` from `init`.
template <typename CombineOp>
static Value reduce(OpBuilder &b, Location loc, Value input, AffineMap inputMap,
                    AffineMap outMap, RankedTensorType type, double init) {
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  Value initValue = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type.getElementType(), init));
  Value filled = linalg::FillOp::create(b, loc, initValue, empty).getResult(0);
  SmallVector<utils::IteratorType> iterators;
  for (unsigned d = 0; d < inputMap.getNumDims(); ++d)
    iterators.push_back(outMap.isFunctionOfDim(d)
                            ? utils::IteratorType::parallel
                            : utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, type, input, filled, ArrayRef<AffineMap>{inputMap, outMap},
             iterators,
             [](OpBuilder &nb, Location nl, ValueRange args) {
               Value r = CombineOp::create(nb, nl, args[1], args[0]);
               linalg::YieldOp::create(nb, nl, r);
             })
      .getResult(0);
}

namespace {
struct RangeBatchNormPass
    : mlir::qtrain::impl::RangeBatchNormPassBase<RangeBatchNormPass> {
  using RangeBatchNormPassBase::RangeBatchNormPassBase;

  void runOnOperation() override;
  LogicalResult rewrite(BatchNormMatch bn);
};
} // namespace

LogicalResult RangeBatchNormPass::rewrite(BatchNormMatch bn) {
  linalg::GenericOp sumOp = bn.sumOfSquares;
  auto type = cast<RankedTensorType>(bn.centered.getType());
  AffineMap outMap = sumOp.getMatchingIndexingMap(sumOp.getDpsInitOperand(0));
  unsigned channel = cast<AffineDimExpr>(outMap.getResult(0)).getPosition();
  int64_t n = type.getNumElements() / type.getDimSize(channel);
  Location loc = bn.inverseStd.getLoc();
  OpBuilder b(bn.inverseStd);
  Type element = type.getElementType();
  auto channelType = cast<RankedTensorType>(bn.inverseStd.getResultTypes()[0]);
  MLIRContext *ctx = &getContext();

  // The largest divisor of the batch not above `chunks`: a model's
  // training and evaluation functions have different batches.
  int64_t k = std::max<int64_t>(chunks, 1);
  if (channel != 0)
    while (type.getDimSize(0) % k != 0)
      --k;
  else
    k = 1;
  Value range;
  if (k == 1) {
    AffineMap id = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
    AffineMap out =
        AffineMap::get(type.getRank(), 0, getAffineDimExpr(channel, ctx), ctx);
    Value max = reduce<arith::MaximumFOp>(b, loc, bn.centered, id, out,
                                          channelType, -INFINITY);
    Value min = reduce<arith::MinimumFOp>(b, loc, bn.centered, id, out,
                                          channelType, INFINITY);
    range = arith::SubFOp::create(b, loc, max, min);
  } else {
    // Split the batch: [N, ...] -> [k, N / k, ...].
    SmallVector<int64_t> shape = {k, type.getDimSize(0) / k};
    shape.append(type.getShape().begin() + 1, type.getShape().end());
    SmallVector<ReassociationIndices> groups = {{0, 1}};
    for (int64_t d = 2; d <= type.getRank(); ++d)
      groups.push_back({d});
    Value split = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(shape, element), bn.centered, groups);
    unsigned rank = shape.size();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap out = AffineMap::get(
        rank, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(channel + 1, ctx)},
        ctx);
    auto perChunk =
        RankedTensorType::get({k, channelType.getDimSize(0)}, element);
    Value max =
        reduce<arith::MaximumFOp>(b, loc, split, id, out, perChunk, -INFINITY);
    Value min =
        reduce<arith::MinimumFOp>(b, loc, split, id, out, perChunk, INFINITY);
    Value ranges = arith::SubFOp::create(b, loc, max, min);
    AffineMap chunkMap = AffineMap::getMultiDimIdentityMap(2, ctx);
    AffineMap channelMap = AffineMap::get(2, 0, getAffineDimExpr(1, ctx), ctx);
    // The mean over chunks: the 1 / chunks joins C(n) below.
    range = reduce<arith::AddFOp>(b, loc, ranges, chunkMap, channelMap,
                                  channelType, 0.0);
    n /= k;
  }

  double c = 1.0 / std::sqrt(2.0 * std::log(double(n))) / double(k);
  if (constant == RangeConstant::reference)
    c *= 0.5 * 0.35 * (1.0 + std::sqrt(M_PI * std::log(4.0)));
  // inv = 1 / (C(n) * range + epsilon)
  Value empty =
      tensor::EmptyOp::create(b, loc, channelType.getShape(), element);
  AffineMap id1 = AffineMap::getMultiDimIdentityMap(1, ctx);
  Value inverse =
      linalg::GenericOp::create(
          b, loc, channelType, range, empty, ArrayRef<AffineMap>{id1, id1},
          utils::IteratorType::parallel,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            auto k = [&](double v) {
              return arith::ConstantOp::create(nb, nl,
                                               nb.getFloatAttr(element, v));
            };
            Value scaled = arith::MulFOp::create(nb, nl, args[0], k(c));
            Value shifted = arith::AddFOp::create(nb, nl, scaled, k(epsilon));
            Value inv = arith::DivFOp::create(nb, nl, k(1.0), shifted);
            linalg::YieldOp::create(nb, nl, inv);
          })
          .getResult(0);
  bn.inverseStd.getResult(0).replaceAllUsesWith(inverse);
  return success();
}

void RangeBatchNormPass::runOnOperation() {
  func::FuncOp func = getOperation();
  OpPassManager pm(func::FuncOp::getOperationName());
  pm.addPass(createConvertElementwiseToLinalgPass());
  if (failed(runPipeline(pm, func)))
    return signalPassFailure();
  SmallVector<BatchNormMatch> matches;
  func.walk([&](linalg::GenericOp op) {
    if (std::optional<BatchNormMatch> m = matchBatchNorm(op))
      matches.push_back(*m);
  });
  for (BatchNormMatch bn : matches)
    if (failed(rewrite(bn)))
      return signalPassFailure();
  // The variance computations are dead now; an empty pattern set erases
  // them.
  if (failed(applyPatternsGreedily(func, RewritePatternSet(&getContext()))))
    return signalPassFailure();
}
