//===- Elementwise.cpp - round/quantize/dequantize to linalg --------------===//
//
// Each op becomes one element-wise linalg.generic (plus a tiny one computing
// 1 / scale per group) whose body is the numerics library's arithmetic:
//   t = x * (1 / scale) + zero_point;  code = encode(t);
//   y = (decode(code) - zero_point) * scale.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

namespace {

/// The per-group operands of a scaled conversion, in body order:
/// scale, 1 / scale, zero point (each only if present).
struct ScaleOperands {
  Value scale, inverse, zeroPoint;

  /// `keepScale` is false for quantize, which only multiplies by 1 / scale.
  static ScaleOperands build(PatternRewriter &rewriter, Location loc,
                             Value scale, Value zeroPoint,
                             bool keepScale = true) {
    ScaleOperands result{keepScale ? scale : Value(), Value(), zeroPoint};
    if (!scale)
      return result;
    // 1 / scale once per group, rounded to f32, as the library does.
    Value init = createTensor(rewriter, loc, scale, rewriter.getF32Type());
    auto type = cast<RankedTensorType>(scale.getType());
    AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
    result.inverse =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), scale, init,
            SmallVector<AffineMap>{identity, identity},
            SmallVector<utils::IteratorType>(type.getRank(),
                                             utils::IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              Value one = arith::ConstantFloatOp::create(b, l, b.getF32Type(),
                                                         APFloat(1.0f));
              linalg::YieldOp::create(
                  b, l, arith::DivFOp::create(b, l, one, args[0]).getResult());
            })
            .getResult(0);
    return result;
  }

  SmallVector<Value> operands() const {
    SmallVector<Value> values;
    for (Value v : {scale, inverse, zeroPoint})
      if (v)
        values.push_back(v);
    return values;
  }

  /// The body values matching operands().
  struct Elements {
    Value scale, inverse, zeroPoint;
  };
  Elements elements(ValueRange values) const {
    Elements e;
    unsigned next = 0;
    if (scale)
      e.scale = values[next++];
    if (inverse)
      e.inverse = values[next++];
    if (zeroPoint)
      e.zeroPoint = values[next++];
    return e;
  }
};

/// t = x * (1 / scale) + zero point; the code of t in `format`.
Value emitQuantize(NumericsIRBuilder &numerics, ImplicitLocOpBuilder &b,
                   const num::Format &format, Value x,
                   const ScaleOperands::Elements &e, num::RoundingMode rounding,
                   num::OverflowMode overflow, Value randomBits) {
  Value t = toF32(numerics, x);
  if (e.inverse)
    t = arith::MulFOp::create(b, t, e.inverse);
  if (e.zeroPoint && format.isInt())
    t = arith::AddFOp::create(b, t, e.zeroPoint);
  return numerics.encode(format, t, rounding, overflow, randomBits);
}

/// (decode(code) - zero point) * scale, in f32.
Value emitDequantize(NumericsIRBuilder &numerics, ImplicitLocOpBuilder &b,
                     const num::Format &format, Value code,
                     const ScaleOperands::Elements &e) {
  Value v = numerics.decode(format, code);
  if (e.zeroPoint && format.isInt())
    v = arith::SubFOp::create(b, v, e.zeroPoint);
  if (e.scale)
    v = arith::MulFOp::create(b, v, e.scale);
  return v;
}

/// Replaces `op` by the lowered value, or fails if lowering failed.
LogicalResult replaceOrFail(PatternRewriter &rewriter, Operation *op,
                            FailureOr<Value> lowered) {
  if (failed(lowered))
    return failure();
  rewriter.replaceOp(op, *lowered);
  return success();
}

num::Granularity granularityOf(GranularityAttr attr) {
  return attr ? attr.getNumericGranularity() : num::Granularity::perTensor();
}

/// Shared by round and quantize: everything about rounding one element.
template <typename OpTy> struct RoundingConfig {
  num::Format format;
  num::RoundingMode rounding;
  num::OverflowMode overflow;
  Value seed;
  uint32_t stream;

  explicit RoundingConfig(OpTy op)
      : format(op.getFormat().getNumericFormat()),
        rounding(toNumerics(op.getRounding())),
        overflow(toNumerics(op.getOverflow())), seed(op.getSeed()),
        stream(op.getStream()) {}

  std::optional<StochasticKey> key() const {
    if (rounding != num::RoundingMode::Stochastic)
      return std::nullopt;
    return StochasticKey{seed, stream};
  }
};

struct RoundOpLowering : OpRewritePattern<RoundOp> {
  RoundOpLowering(MLIRContext *context, NumericsTarget target)
      : OpRewritePattern<RoundOp>(context), target(target) {}
  NumericsTarget target;

  LogicalResult matchAndRewrite(RoundOp op,
                                PatternRewriter &rewriter) const override {
    RoundingConfig<RoundOp> config(op);
    ScaleOperands scales = ScaleOperands::build(
        rewriter, op.getLoc(), op.getScale(), op.getZeroPoint());
    Type elementType = op.getType().getElementType();
    return replaceOrFail(
        rewriter, op,
        buildElementwise(
            rewriter, op, op.getInput(), scales.operands(),
            granularityOf(op.getGranularityAttr()), elementType, config.key(),
            [&](ImplicitLocOpBuilder &b, Value x, ValueRange group,
                Value randomBits) {
              NumericsIRBuilder numerics(b, target);
              ScaleOperands::Elements e = scales.elements(group);
              Value code =
                  emitQuantize(numerics, b, config.format, x, e,
                               config.rounding, config.overflow, randomBits);
              Value v = emitDequantize(numerics, b, config.format, code, e);
              return fromF32(numerics, v, elementType);
            }));
  }
};

struct QuantizeOpLowering : OpRewritePattern<QuantizeOp> {
  QuantizeOpLowering(MLIRContext *context, NumericsTarget target)
      : OpRewritePattern<QuantizeOp>(context), target(target) {}
  NumericsTarget target;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    RoundingConfig<QuantizeOp> config(op);
    ScaleOperands scales = ScaleOperands::build(
        rewriter, op.getLoc(), op.getScale(), op.getZeroPoint(),
        /*keepScale=*/false);
    Type storageType = op.getFormat().getStorageType();
    return replaceOrFail(
        rewriter, op,
        buildElementwise(
            rewriter, op, op.getInput(), scales.operands(),
            granularityOf(op.getGranularityAttr()), storageType, config.key(),
            [&](ImplicitLocOpBuilder &b, Value x, ValueRange group,
                Value randomBits) {
              NumericsIRBuilder numerics(b, target);
              Value code = emitQuantize(numerics, b, config.format, x,
                                        scales.elements(group), config.rounding,
                                        config.overflow, randomBits);
              return numerics.storageFromCode(code, storageType);
            }));
  }
};

struct DequantizeOpLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    num::Format format = op.getFormat().getNumericFormat();
    ScaleOperands scales = ScaleOperands::build(
        rewriter, op.getLoc(), op.getScale(), op.getZeroPoint());
    Type elementType = op.getType().getElementType();
    return replaceOrFail(
        rewriter, op,
        buildElementwise(rewriter, op, op.getInput(), scales.operands(),
                         granularityOf(op.getGranularityAttr()), elementType,
                         /*key=*/std::nullopt,
                         [&](ImplicitLocOpBuilder &b, Value storage,
                             ValueRange group, Value) {
                           NumericsIRBuilder numerics(b);
                           Value v =
                               emitDequantize(numerics, b, format,
                                              numerics.codeFromStorage(storage),
                                              scales.elements(group));
                           return fromF32(numerics, v, elementType);
                         }));
  }
};

} // namespace

void mlir::qtrain::populateQTrainElementwiseToLinalgPatterns(
    RewritePatternSet &patterns, NumericsTarget target) {
  patterns.add<RoundOpLowering, QuantizeOpLowering>(patterns.getContext(),
                                                    target);
  patterns.add<DequantizeOpLowering>(patterns.getContext());
}
