//===- QTrainFolds.cpp - qtrain folders and canonicalizations -------------===//
//
// Constant folding evaluates ops with the numerics library, so folded IR and
// compiled IR agree bit for bit. Round-trip simplifications fire only when the
// numerics library proves them exact over every code of the format.
//
// The patterns are written in C++ rather than DRR: their conditions depend on
// optional scale operands and on exhaustive format checks.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

/// Folding a splat with per-element results materializes every element;
/// beyond this many elements we leave the op to run at run time.
static constexpr int64_t kMaxExpandedFoldElements = 1 << 16;

//===----------------------------------------------------------------------===//
// Reading and writing constants
//===----------------------------------------------------------------------===//

/// The values of a constant float tensor as f32 (exact for f16 and bf16).
static std::optional<std::vector<float>> readFloats(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<float> values;
  values.reserve(dense.getNumElements());
  for (APFloat value : dense.getValues<APFloat>()) {
    bool losesInfo;
    value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
    values.push_back(value.convertToFloat());
  }
  return values;
}

/// The codes of a constant storage tensor (integer or builtin float).
static std::optional<std::vector<uint32_t>> readCodes(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<uint32_t> codes;
  codes.reserve(dense.getNumElements());
  if (isa<IntegerType>(dense.getElementType())) {
    for (const APInt &value : dense.getValues<APInt>())
      codes.push_back(uint32_t(value.getZExtValue()));
  } else {
    for (const APFloat &value : dense.getValues<APFloat>())
      codes.push_back(uint32_t(value.bitcastToAPInt().getZExtValue()));
  }
  return codes;
}

/// f32 values as a tensor of `type`, converting with round-to-nearest-even.
static DenseElementsAttr writeFloats(ShapedType type, ArrayRef<float> values) {
  if (type.getElementType().isF32())
    return DenseElementsAttr::get(type, values);
  const llvm::fltSemantics &semantics =
      cast<FloatType>(type.getElementType()).getFloatSemantics();
  SmallVector<APFloat> converted;
  converted.reserve(values.size());
  for (float value : values) {
    APFloat apValue(value);
    bool losesInfo;
    apValue.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
    converted.push_back(apValue);
  }
  return DenseElementsAttr::get(type, converted);
}

static DenseElementsAttr writeCodes(ShapedType type, ArrayRef<uint32_t> codes) {
  Type elementType = type.getElementType();
  unsigned width = elementType.getIntOrFloatBitWidth();
  if (isa<IntegerType>(elementType)) {
    SmallVector<APInt> values;
    for (uint32_t code : codes)
      values.emplace_back(width, code);
    return DenseElementsAttr::get(type, values);
  }
  const llvm::fltSemantics &semantics =
      cast<FloatType>(elementType).getFloatSemantics();
  SmallVector<APFloat> values;
  for (uint32_t code : codes)
    values.emplace_back(semantics, APInt(width, code));
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// Gathering constant operands
//===----------------------------------------------------------------------===//

/// Everything needed to evaluate a round/quantize/dequantize on constants.
struct ConstantEvaluation {
  num::Shape shape;
  std::vector<float> scale, zeroPoint;
  num::QuantizeOptions options;

  const float *scalePtr() const {
    return scale.empty() ? nullptr : scale.data();
  }
  const float *zeroPointPtr() const {
    return zeroPoint.empty() ? nullptr : zeroPoint.data();
  }
};

/// Reads an optional f32 operand's constant value; fails when the operand
/// exists but is not a constant.
static LogicalResult readOptional(Value operand, Attribute attr,
                                  std::vector<float> &out) {
  if (!operand)
    return success();
  std::optional<std::vector<float>> values = readFloats(attr);
  if (!values)
    return failure();
  out = std::move(*values);
  return success();
}

/// The evaluation set-up of an op whose data operand folds to `data`, or
/// nullopt if an operand is not constant or the result would be too large.
template <typename OpTy, typename AdaptorTy>
static std::optional<ConstantEvaluation>
prepareEvaluation(OpTy op, AdaptorTy adaptor, Attribute data) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(data);
  if (!dense)
    return std::nullopt;
  if (dense.isSplat() && dense.getNumElements() > kMaxExpandedFoldElements)
    return std::nullopt;
  ConstantEvaluation eval;
  eval.shape = dense.getType().getShape().vec();
  if (failed(readOptional(op.getScale(), adaptor.getScale(), eval.scale)) ||
      failed(readOptional(op.getZeroPoint(), adaptor.getZeroPoint(),
                          eval.zeroPoint)))
    return std::nullopt;
  if (GranularityAttr granularity = op.getGranularityAttr())
    eval.options.granularity = granularity.getNumericGranularity();
  return eval;
}

/// Adds the rounding options of a round or quantize op; fails when the seed
/// of stochastic rounding is not a constant.
template <typename OpTy, typename AdaptorTy>
static LogicalResult addRoundingOptions(OpTy op, AdaptorTy adaptor,
                                        ConstantEvaluation &eval) {
  eval.options.rounding = toNumerics(op.getRounding());
  eval.options.overflow = toNumerics(op.getOverflow());
  eval.options.stream = op.getStream();
  if (!op.getSeed())
    return success();
  auto seed = dyn_cast_or_null<IntegerAttr>(adaptor.getSeed());
  if (!seed)
    return failure();
  eval.options.seed = seed.getValue().getZExtValue();
  return success();
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult RoundOp::fold(FoldAdaptor adaptor) {
  num::Format format = getFormat().getNumericFormat();
  // round(round(x, A), B) == round(x, A) when rounding to B returns every
  // value A produces unchanged.
  if (auto inner = getInput().getDefiningOp<RoundOp>())
    if (!getScale() && !inner.getScale() &&
        num::isGridSubset(inner.getFormat().getNumericFormat(), format,
                          toNumerics(getOverflow())))
      return inner.getResult();

  std::optional<ConstantEvaluation> eval =
      prepareEvaluation(*this, adaptor, adaptor.getInput());
  if (!eval || failed(addRoundingOptions(*this, adaptor, *eval)))
    return {};
  std::optional<std::vector<float>> input = readFloats(adaptor.getInput());
  if (!input)
    return {};
  std::vector<float> result(input->size());
  num::roundTensor(input->data(), eval->shape, format, eval->scalePtr(),
                   eval->zeroPointPtr(), eval->options, result.data());
  return writeFloats(getType(), result);
}

OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  num::Format format = getFormat().getNumericFormat();
  // quantize(dequantize(q)) == q without scales, when every code survives the
  // trip: the format has one encoding per value, the dequantized type holds
  // every value, and this op's overflow rule keeps them (inf under
  // saturation would not).
  if (auto dequantize = getInput().getDefiningOp<DequantizeOp>()) {
    std::optional<num::FloatFormat> floatFormat =
        getFloatFormatOfType(dequantize.getType().getElementType());
    if (!getScale() && !dequantize.getScale() &&
        dequantize.getFormat() == getFormat() &&
        dequantize.getInput().getType() == getType() &&
        num::hasCanonicalEncodings(format) &&
        num::isGridSubset(format, format, toNumerics(getOverflow())) &&
        (!floatFormat ||
         num::isGridSubset(format, *floatFormat, num::OverflowMode::Native)))
      return dequantize.getInput();
  }

  std::optional<ConstantEvaluation> eval =
      prepareEvaluation(*this, adaptor, adaptor.getInput());
  if (!eval || failed(addRoundingOptions(*this, adaptor, *eval)))
    return {};
  std::optional<std::vector<float>> input = readFloats(adaptor.getInput());
  if (!input)
    return {};
  std::vector<uint32_t> codes(input->size());
  num::quantize(input->data(), eval->shape, format, eval->scalePtr(),
                eval->zeroPointPtr(), eval->options, codes.data());
  return writeCodes(cast<ShapedType>(getType()), codes);
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  std::optional<ConstantEvaluation> eval =
      prepareEvaluation(*this, adaptor, adaptor.getInput());
  if (!eval)
    return {};
  std::optional<std::vector<uint32_t>> codes = readCodes(adaptor.getInput());
  if (!codes)
    return {};
  std::vector<float> result(codes->size());
  num::dequantize(codes->data(), eval->shape, getFormat().getNumericFormat(),
                  eval->scalePtr(), eval->zeroPointPtr(),
                  eval->options.granularity, result.data());
  return writeFloats(getType(), result);
}

//===----------------------------------------------------------------------===//
// Canonicalization
//===----------------------------------------------------------------------===//

namespace {
/// dequantize(quantize(x)) -> round(x): the same arithmetic in one op, when
/// the codes have no other use.
struct DequantizeOfQuantizeToRound : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto quantize = op.getInput().getDefiningOp<QuantizeOp>();
    if (!quantize || !quantize->hasOneUse())
      return rewriter.notifyMatchFailure(op, "input is not a single-use "
                                             "quantize");
    if (quantize.getFormat() != op.getFormat() ||
        quantize.getScale() != op.getScale() ||
        quantize.getZeroPoint() != op.getZeroPoint() ||
        quantize.getGranularityAttr() != op.getGranularityAttr() ||
        quantize.getInput().getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "not the inverse of the quantize");
    rewriter.replaceOpWithNewOp<RoundOp>(
        op, op.getType(), quantize.getInput(), quantize.getScale(),
        quantize.getZeroPoint(), quantize.getSeed(), quantize.getFormatAttr(),
        quantize.getRoundingAttr(), quantize.getOverflowAttr(),
        quantize.getGranularityAttr(), quantize.getStreamAttr());
    return success();
  }
};
} // namespace

void DequantizeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<DequantizeOfQuantizeToRound>(context);
}
