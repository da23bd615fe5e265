//===- Scales.cpp - compute_scale to linalg -------------------------------===//
//
// Min/max/amax reductions over each scale group, then an element-wise
// epilogue with the library's formulas (docs/numerics.md section 5); the
// amax-history update of delayed scaling. The
// batch mean of batch_minmax sums samples in order with an scf.for, because
// a vectorized reduction would reorder the additions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

namespace {

Value f32Const(OpBuilder &b, Location loc, float value) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(value));
}

/// Reduces `input` over every dimension except `groupDims` with one
/// accumulator per entry of `inits` (initial values); `combine` folds an f32
/// element into the accumulators.
SmallVector<Value> reduceGroups(
    PatternRewriter &rewriter, Location loc, Value input,
    ArrayRef<int64_t> groupDims, ArrayRef<float> inits,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        combine) {
  MLIRContext *ctx = rewriter.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<AffineExpr> groupExprs;
  SmallVector<OpFoldResult> groupSizes;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  for (int64_t dim : groupDims) {
    groupExprs.push_back(getAffineDimExpr(dim, ctx));
    groupSizes.push_back(sizes[dim]);
    iterators[dim] = utils::IteratorType::parallel;
  }
  SmallVector<Value> outs;
  for (float init : inits) {
    Value empty = tensor::EmptyOp::create(rewriter, loc, groupSizes,
                                          rewriter.getF32Type());
    outs.push_back(linalg::FillOp::create(rewriter, loc,
                                          f32Const(rewriter, loc, init), empty)
                       .getResult(0));
  }
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank)};
  maps.append(inits.size(), AffineMap::get(rank, 0, groupExprs, ctx));
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange(ValueRange(outs)), input, outs, maps, iterators,
      [&](OpBuilder &nested, Location l, ValueRange args) {
        ImplicitLocOpBuilder b(l, nested);
        NumericsIRBuilder numerics(b);
        linalg::YieldOp::create(
            b, combine(b, toF32(numerics, args[0]), args.drop_front()));
      });
  return SmallVector<Value>(generic.getResults());
}

/// Element-wise over equally shaped f32 tensors, producing `numResults` f32
/// tensors.
SmallVector<Value> mapGroups(
    PatternRewriter &rewriter, Location loc, ValueRange inputs,
    unsigned numResults,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ValueRange)> body) {
  auto type = cast<RankedTensorType>(inputs.front().getType());
  SmallVector<Value> outs;
  for (unsigned i = 0; i < numResults; ++i)
    outs.push_back(
        createTensor(rewriter, loc, inputs.front(), rewriter.getF32Type()));
  AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange(ValueRange(outs)), inputs, outs,
      SmallVector<AffineMap>(inputs.size() + numResults, identity),
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nested, Location l, ValueRange args) {
        ImplicitLocOpBuilder b(l, nested);
        linalg::YieldOp::create(b, body(b, args.take_front(inputs.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// The affine scale and zero point mapping [lo, hi] onto the integer format.
std::pair<Value, Value> affineFromRange(ImplicitLocOpBuilder &b,
                                        const num::IntFormat &format, Value lo,
                                        Value hi) {
  auto f = [&](float v) { return f32Const(b, b.getLoc(), v); };
  using FP = arith::CmpFPredicate;
  Value scale =
      arith::DivFOp::create(b, arith::SubFOp::create(b, hi, lo),
                            f(float(format.maxValue() - format.minValue())));
  scale = arith::SelectOp::create(
      b, arith::CmpFOp::create(b, FP::OEQ, scale, f(0.0f)), f(1.0f), scale);
  Value inverse = arith::DivFOp::create(b, f(1.0f), scale);
  Value zeroPoint = arith::SubFOp::create(
      b, f(float(format.minValue())), arith::MulFOp::create(b, lo, inverse));
  return {scale, zeroPoint};
}

/// An empty group leaves lo at +inf; the library then uses lo = hi = 0.
std::pair<Value, Value> emptyToZero(ImplicitLocOpBuilder &b, Value lo,
                                    Value hi) {
  Value empty = arith::CmpFOp::create(
      b, arith::CmpFPredicate::OEQ, lo,
      f32Const(b, b.getLoc(), std::numeric_limits<float>::infinity()));
  Value zero = f32Const(b, b.getLoc(), 0.0f);
  return {arith::SelectOp::create(b, empty, zero, lo),
          arith::SelectOp::create(b, empty, zero, hi)};
}

constexpr float kInf = std::numeric_limits<float>::infinity();

SmallVector<Value> minMaxCombine(ImplicitLocOpBuilder &b, Value x,
                                 ValueRange acc) {
  return {arith::MinimumFOp::create(b, acc[0], x),
          arith::MaximumFOp::create(b, acc[1], x)};
}

struct ComputeScaleOpLowering : OpRewritePattern<ComputeScaleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ComputeScaleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ScalingAttr scaling = op.getScaling();
    num::Format format = op.getFormat().getNumericFormat();
    num::Granularity granularity =
        scaling.getGranularity().getNumericGranularity();

    if (scaling.getMethod() == ScaleMethod::pow2) {
      RankedTensorType scaleType = op.getScale().getType();
      if (!scaleType.hasStaticShape())
        return op.emitOpError("pow2 scales of a dynamic shape are not "
                              "supported by the lowering");
      Value init = tensor::EmptyOp::create(rewriter, loc, scaleType.getShape(),
                                           rewriter.getF32Type());
      Value value =
          f32Const(rewriter, loc, std::ldexp(1.0f, scaling.getExponent()));
      rewriter.replaceOp(
          op, linalg::FillOp::create(rewriter, loc, value, init).getResult(0));
      return success();
    }

    if (scaling.getMethod() == ScaleMethod::batch_minmax)
      return lowerBatchMinMax(op, format.getInt(), rewriter);

    SmallVector<int64_t> groupDims;
    FailureOr<Value> input = expandForGranularity(rewriter, op, op.getInput(),
                                                  granularity, groupDims);
    if (failed(input))
      return failure();

    if (scaling.getMethod() == ScaleMethod::absmax) {
      SmallVector<Value> amax =
          reduceGroups(rewriter, loc, *input, groupDims, {0.0f},
                       [](ImplicitLocOpBuilder &b, Value x, ValueRange acc) {
                         return SmallVector<Value>{arith::MaximumFOp::create(
                             b, acc[0], math::AbsFOp::create(b, x))};
                       });
      float formatMax = float(format.maxMagnitude());
      SmallVector<Value> scale = mapGroups(
          rewriter, loc, amax, 1, [&](ImplicitLocOpBuilder &b, ValueRange v) {
            Value zero = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ,
                                               v[0], f32Const(b, loc, 0.0f));
            Value scaled =
                arith::DivFOp::create(b, v[0], f32Const(b, loc, formatMax));
            return SmallVector<Value>{arith::SelectOp::create(
                b, zero, f32Const(b, loc, 1.0f), scaled)};
          });
      rewriter.replaceOp(op, scale[0]);
      return success();
    }

    // minmax
    SmallVector<Value> range = reduceGroups(rewriter, loc, *input, groupDims,
                                            {kInf, -kInf}, minMaxCombine);
    SmallVector<Value> affine = mapGroups(
        rewriter, loc, range, 2, [&](ImplicitLocOpBuilder &b, ValueRange v) {
          auto [lo, hi] = emptyToZero(b, v[0], v[1]);
          auto [scale, zeroPoint] = affineFromRange(b, format.getInt(), lo, hi);
          return SmallVector<Value>{scale, zeroPoint};
        });
    rewriter.replaceOp(op, affine);
    return success();
  }

  /// Per-sample ranges, their means in sample order, then the affine map.
  /// The means and the map are one 0-d generic (a one-thread kernel on a
  /// GPU, where the loop alone would be host code waiting for the ranges).
  LogicalResult lowerBatchMinMax(ComputeScaleOp op,
                                 const num::IntFormat &format,
                                 PatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    SmallVector<Value> range = reduceGroups(rewriter, loc, op.getInput(), {0},
                                            {kInf, -kInf}, minMaxCombine);
    Value batch = tensor::DimOp::create(rewriter, loc, op.getInput(), 0);
    Value empty = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{},
                                          rewriter.getF32Type());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{empty.getType(), empty.getType()},
        ValueRange{}, ValueRange{empty, empty},
        SmallVector<AffineMap>(2, rewriter.getEmptyAffineMap()),
        ArrayRef<utils::IteratorType>{},
        [&](OpBuilder &nested, Location l, ValueRange) {
          ImplicitLocOpBuilder b(l, nested);
          Value zero = arith::ConstantIndexOp::create(b, 0);
          Value one = arith::ConstantIndexOp::create(b, 1);
          Value f0 = f32Const(b, l, 0.0f);
          // In sample order: a vectorized or split sum would reorder the
          // additions.
          auto loop = scf::ForOp::create(
              b, zero, batch, one, ValueRange{f0, f0},
              [&](OpBuilder &inner, Location il, Value i, ValueRange sums) {
                ImplicitLocOpBuilder ib(il, inner);
                Value lo = tensor::ExtractOp::create(ib, range[0], i);
                Value hi = tensor::ExtractOp::create(ib, range[1], i);
                std::tie(lo, hi) = emptyToZero(ib, lo, hi);
                scf::YieldOp::create(
                    ib, ValueRange{arith::AddFOp::create(ib, sums[0], lo),
                                   arith::AddFOp::create(ib, sums[1], hi)});
              });
          // An empty batch divides by 1.
          Value count = arith::UIToFPOp::create(
              b, b.getF32Type(),
              arith::IndexCastOp::create(
                  b, b.getI64Type(), arith::MaxUIOp::create(b, batch, one)));
          Value lo = arith::DivFOp::create(b, loop.getResult(0), count);
          Value hi = arith::DivFOp::create(b, loop.getResult(1), count);
          auto [scale, zeroPoint] = affineFromRange(b, format, lo, hi);
          linalg::YieldOp::create(b, ValueRange{scale, zeroPoint});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// The amax as compute_scale's absmax reduces it, made 0 unless finite,
/// in front of the history's first N - 1 entries. The new history is one
/// element-wise generic that reads the 0-d amax and the old history, so that
/// neither value leaves the device on a GPU: as tensor.extract / insert the
/// update was a host load and store around a shift kernel, two host waits a
/// tensor a step.
struct RecordAmaxOpLowering : OpRewritePattern<RecordAmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecordAmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value amax =
        reduceGroups(rewriter, loc, op.getInput(), {}, {0.0f},
                     [](ImplicitLocOpBuilder &b, Value x, ValueRange acc) {
                       return SmallVector<Value>{arith::MaximumFOp::create(
                           b, acc[0], math::AbsFOp::create(b, x))};
                     })[0];
    Value history = op.getHistory();
    RankedTensorType type = op.getHistory().getType();
    MLIRContext *ctx = rewriter.getContext();
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         rewriter.getF32Type());
    SmallVector<AffineMap> maps = {AffineMap::get(1, 0, {}, ctx),
                                   rewriter.getMultiDimIdentityMap(1)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, amax, init, maps, utils::IteratorType::parallel,
        [&](OpBuilder &nested, Location l, ValueRange args) {
          ImplicitLocOpBuilder b(l, nested);
          // amax >= 0, so `amax < inf` is false exactly for inf and NaN.
          Value finite = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT,
                                               args[0], f32Const(b, l, kInf));
          Value recorded =
              arith::SelectOp::create(b, finite, args[0], f32Const(b, l, 0.0f));
          // A history of one entry keeps nothing of the old one.
          if (type.getDimSize(0) == 1) {
            linalg::YieldOp::create(b, recorded);
            return;
          }
          Value i = linalg::IndexOp::create(b, 0);
          Value zero = arith::ConstantIndexOp::create(b, 0);
          Value first =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, i, zero);
          // Entry 0 reads entry 0 too (unused), so every read is in bounds.
          Value previous = arith::SelectOp::create(
              b, first, zero,
              arith::SubIOp::create(b, i,
                                    arith::ConstantIndexOp::create(b, 1)));
          Value kept = tensor::ExtractOp::create(b, history, previous);
          linalg::YieldOp::create(
              b, ValueRange{arith::SelectOp::create(b, first, recorded, kept)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::qtrain::populateQTrainScaleToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ComputeScaleOpLowering, RecordAmaxOpLowering>(
      patterns.getContext());
}
