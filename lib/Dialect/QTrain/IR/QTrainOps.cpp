//===- QTrainOps.cpp - qtrain operations and verifiers --------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Numerics/Rounding.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

//===----------------------------------------------------------------------===//
// Custom assembly directives
//===----------------------------------------------------------------------===//

/// Formats are written without the `#qtrain.` prefix in op syntax
/// (`float<f8E4M3FN>`, `int<8, signed>`): a full dialect attribute directly
/// before the op's `:` would take the op's type as its own. A `#` attribute
/// (an alias, say) is accepted too.
static ParseResult parseNumericFormat(OpAsmParser &parser,
                                      NumericFormatAttrInterface &format) {
  format = parseShortNumericFormat(parser);
  return success(format != nullptr);
}

static void printNumericFormat(OpAsmPrinter &printer, Operation *,
                               NumericFormatAttrInterface format) {
  printShortNumericFormat(printer, format);
}

#define GET_OP_CLASSES
#include "qtrain/Dialect/QTrain/IR/QTrainOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared verification
//===----------------------------------------------------------------------===//

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string result = "[";
  llvm::raw_string_ostream os(result);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return result;
}

/// The granularity of a scale operand, per tensor when unspecified.
static num::Granularity granularityOf(GranularityAttr attr) {
  return attr ? attr.getNumericGranularity() : num::Granularity::perTensor();
}

/// Checks that `scale` (and `zeroPoint`) fit `granularity` on `dataType`.
/// `role` names the operand in messages ("" for the single-data ops).
static LogicalResult verifyScaleOperands(Operation *op, ShapedType dataType,
                                         Value scale, Value zeroPoint,
                                         const num::Format &format,
                                         GranularityAttr granularity,
                                         StringRef role = "") {
  std::string prefix = role.empty() ? "" : (role + " ").str();
  if (!scale) {
    if (zeroPoint)
      return op->emitOpError() << prefix << "zero point requires a scale";
    if (granularity)
      return op->emitOpError()
             << prefix << "granularity is given but there is no scale";
    return success();
  }
  if (zeroPoint && format.isFloat())
    return op->emitOpError()
           << prefix
           << "zero point requires an integer format; float formats are "
              "symmetric";

  num::Shape scaleShape;
  if (std::optional<std::string> error = num::getScaleShape(
          dataType.getShape().vec(), granularityOf(granularity), scaleShape))
    return op->emitOpError()
           << prefix << "scale granularity " << granularity << ": " << *error;
  auto scaleType = cast<ShapedType>(scale.getType());
  if (failed(verifyCompatibleShape(scaleType.getShape(), scaleShape)))
    return op->emitOpError()
           << "expected " << prefix << "scale of shape "
           << formatShape(scaleShape) << " for "
           << (granularity ? granularity
                           : GranularityAttr::getPerTensor(op->getContext()))
           << ", got " << scaleType;
  if (zeroPoint && zeroPoint.getType() != scale.getType())
    return op->emitOpError()
           << prefix
           << "zero point must have the same type as the "
              "scale, got "
           << zeroPoint.getType() << " and " << scale.getType();
  return success();
}

static LogicalResult verifyRounding(Operation *op, const num::Format &format,
                                    RoundingMode rounding, Value seed,
                                    OverflowMode overflow) {
  if (rounding == RoundingMode::stochastic && !seed)
    return op->emitOpError("stochastic rounding requires a seed operand");
  if (rounding != RoundingMode::stochastic && seed)
    return op->emitOpError() << "a seed is only used by stochastic rounding, "
                                "but rounding is "
                             << stringifyRoundingMode(rounding);
  if (format.isInt() && overflow == OverflowMode::native)
    return op->emitOpError("integer formats have no special values; overflow "
                           "must be 'saturate'");
  return success();
}

//===----------------------------------------------------------------------===//
// RoundOp
//===----------------------------------------------------------------------===//

LogicalResult RoundOp::verify() {
  num::Format format = getFormat().getNumericFormat();
  if (failed(verifyScaleOperands(*this, getInput().getType(), getScale(),
                                 getZeroPoint(), format,
                                 getGranularityAttr())) ||
      failed(verifyRounding(*this, format, getRounding(), getSeed(),
                            getOverflow())))
    return failure();
  // Without a scale the rounded values are written back unchanged, so the
  // element type must hold every value of the format.
  Type elementType = getInput().getType().getElementType();
  std::optional<num::FloatFormat> elementFormat =
      getFloatFormatOfType(elementType);
  if (!getScale() && elementFormat &&
      !num::isGridSubset(format, *elementFormat, num::OverflowMode::Native))
    return emitOpError() << "format " << getFormat()
                         << " is not exactly representable in element type "
                         << elementType << "; round in f32 or add a scale";
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  num::Format format = getFormat().getNumericFormat();
  if (failed(verifyScaleOperands(*this, getInput().getType(), getScale(),
                                 getZeroPoint(), format,
                                 getGranularityAttr())) ||
      failed(verifyRounding(*this, format, getRounding(), getSeed(),
                            getOverflow())))
    return failure();
  auto resultType = cast<RankedTensorType>(getResult().getType());
  if (failed(verifyCompatibleShape(resultType.getShape(),
                                   getInput().getType().getShape())))
    return emitOpError() << "result shape "
                         << formatShape(resultType.getShape())
                         << " differs from input shape "
                         << formatShape(getInput().getType().getShape());
  Type storage = getFormat().getStorageType();
  if (resultType.getElementType() != storage)
    return emitOpError() << "result element type "
                         << resultType.getElementType()
                         << " does not match the storage type " << storage
                         << " of format " << getFormat();
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  num::Format format = getFormat().getNumericFormat();
  auto inputType = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyScaleOperands(*this, inputType, getScale(), getZeroPoint(),
                                 format, getGranularityAttr())))
    return failure();
  if (failed(verifyCompatibleShape(getResult().getType().getShape(),
                                   inputType.getShape())))
    return emitOpError() << "result shape "
                         << formatShape(getResult().getType().getShape())
                         << " differs from input shape "
                         << formatShape(inputType.getShape());
  Type storage = getFormat().getStorageType();
  if (inputType.getElementType() != storage)
    return emitOpError() << "input element type " << inputType.getElementType()
                         << " does not match the storage type " << storage
                         << " of format " << getFormat();
  return success();
}

//===----------------------------------------------------------------------===//
// ComputeScaleOp
//===----------------------------------------------------------------------===//

LogicalResult ComputeScaleOp::verify() {
  num::Format format = getFormat().getNumericFormat();
  ScalingAttr scaling = getScaling();
  StringRef method = stringifyScaleMethod(scaling.getMethod());
  if (scaling.isAffine() && format.isFloat())
    return emitOpError() << "'" << method
                         << "' scaling is affine and needs an integer format, "
                            "got "
                         << getFormat();
  if (scaling.isAffine() && !getZeroPoint())
    return emitOpError() << "'" << method
                         << "' scaling produces a zero point; expected a "
                            "second result";
  if (!scaling.isAffine() && getZeroPoint())
    return emitOpError() << "'" << method
                         << "' scaling is symmetric and has no zero point";
  if (scaling.getMethod() == ScaleMethod::batch_minmax &&
      getInput().getType().getRank() < 1)
    return emitOpError("'batch_minmax' scaling needs a batch dimension (rank "
                       ">= 1)");
  num::Shape scaleShape;
  if (std::optional<std::string> error = num::getScaleShape(
          getInput().getType().getShape().vec(),
          scaling.getGranularity().getNumericGranularity(), scaleShape))
    return emitOpError() << "scaling " << scaling << ": " << *error;
  if (failed(
          verifyCompatibleShape(getScale().getType().getShape(), scaleShape)))
    return emitOpError() << "expected scale of shape "
                         << formatShape(scaleShape) << " for " << scaling
                         << ", got " << getScale().getType();
  if (getZeroPoint() && getZeroPoint().getType() != getScale().getType())
    return emitOpError("zero point must have the same type as the scale");
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

/// Integer formats accumulate in i32/i64, float formats in f32/f16/bf16,
/// and an integer format with a float one in f32, which holds every code of
/// the one (integer formats have at most 16 bits) and every value of the
/// other (float formats are f32 subsets).
static LogicalResult verifyAccumulator(Operation *op,
                                       NumericFormatAttrInterface lhsFormat,
                                       NumericFormatAttrInterface rhsFormat,
                                       Type accType) {
  bool lhsInt = lhsFormat.getNumericFormat().isInt();
  bool rhsInt = rhsFormat.getNumericFormat().isInt();
  if (lhsInt != rhsInt) {
    if (!accType.isF32())
      return op->emitOpError()
             << "an integer format with a float format accumulates in f32, "
                "got "
             << accType;
    return success();
  }
  if (lhsInt &&
      !(accType.isSignlessInteger(32) || accType.isSignlessInteger(64)))
    return op->emitOpError()
           << "integer formats accumulate in i32 or i64, got " << accType;
  if (!lhsInt && !(accType.isF32() || accType.isF16() || accType.isBF16()))
    return op->emitOpError()
           << "float formats accumulate in f32, f16 or bf16, got " << accType;
  // Operands widen exactly to the accumulator type.
  if (std::optional<num::FloatFormat> acc = getFloatFormatOfType(accType))
    for (NumericFormatAttrInterface format : {lhsFormat, rhsFormat})
      if (!num::isGridSubset(format.getNumericFormat(), *acc,
                             num::OverflowMode::Native))
        return op->emitOpError()
               << "format " << format << " is not exactly representable in "
               << "the accumulator type " << accType;
  return success();
}

static LogicalResult verifyStorage(Operation *op, StringRef role,
                                   ShapedType type,
                                   NumericFormatAttrInterface format) {
  Type storage = format.getStorageType();
  if (type.getElementType() != storage)
    return op->emitOpError()
           << role << " element type " << type.getElementType()
           << " does not match the storage type " << storage << " of format "
           << format;
  return success();
}

/// Scales of a contraction operand must factor out of the sum: per tensor, or
/// per channel along the operand's free axis.
static LogicalResult verifyContractionScale(Operation *op, StringRef role,
                                            GranularityAttr granularity,
                                            int64_t freeAxis) {
  if (!granularity || granularity.getKind() == GranularityKind::per_tensor)
    return success();
  if (granularity.getKind() == GranularityKind::per_channel &&
      granularity.getAxis() == freeAxis)
    return success();
  return op->emitOpError() << role << " scale must be per tensor or per "
                           << "channel along the free axis " << freeAxis
                           << ", got " << granularity;
}

static bool dimsDiffer(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

LogicalResult QMatmulOp::verify() {
  auto lhsType = cast<RankedTensorType>(getLhs().getType());
  auto rhsType = cast<RankedTensorType>(getRhs().getType());
  int64_t rank = lhsType.getRank();
  if (rank != rhsType.getRank() || (rank != 2 && rank != 3))
    return emitOpError() << "operands must both be rank 2, or both rank 3 "
                            "with a leading batch dimension; got ranks "
                         << rank << " and " << rhsType.getRank();
  if (failed(verifyStorage(*this, "lhs", lhsType, getLhsFormat())) ||
      failed(verifyStorage(*this, "rhs", rhsType, getRhsFormat())) ||
      failed(verifyAccumulator(*this, getLhsFormat(), getRhsFormat(),
                               getAccType())))
    return failure();

  int64_t b = rank - 2; // index of the first matrix dimension
  int64_t m = lhsType.getDimSize(b + (getTransposeLhs() ? 1 : 0));
  int64_t kLhs = lhsType.getDimSize(b + (getTransposeLhs() ? 0 : 1));
  int64_t kRhs = rhsType.getDimSize(b + (getTransposeRhs() ? 1 : 0));
  int64_t n = rhsType.getDimSize(b + (getTransposeRhs() ? 0 : 1));
  if (dimsDiffer(kLhs, kRhs))
    return emitOpError() << "contraction dimensions differ: lhs has " << kLhs
                         << ", rhs has " << kRhs;
  if (rank == 3 && dimsDiffer(lhsType.getDimSize(0), rhsType.getDimSize(0)))
    return emitOpError() << "batch dimensions differ: " << lhsType.getDimSize(0)
                         << " and " << rhsType.getDimSize(0);
  SmallVector<int64_t> expected;
  if (rank == 3)
    expected.push_back(lhsType.getDimSize(0));
  expected.append({m, n});
  if (failed(verifyCompatibleShape(getResult().getType().getShape(), expected)))
    return emitOpError() << "expected result shape " << formatShape(expected)
                         << ", got " << getResult().getType();

  if (failed(verifyContractionScale(*this, "lhs", getLhsGranularityAttr(),
                                    b + (getTransposeLhs() ? 1 : 0))) ||
      failed(verifyContractionScale(*this, "rhs", getRhsGranularityAttr(),
                                    b + (getTransposeRhs() ? 0 : 1))))
    return failure();
  return failure(
      failed(verifyScaleOperands(
          *this, lhsType, getLhsScale(), getLhsZeroPoint(),
          getLhsFormat().getNumericFormat(), getLhsGranularityAttr(), "lhs")) ||
      failed(verifyScaleOperands(
          *this, rhsType, getRhsScale(), getRhsZeroPoint(),
          getRhsFormat().getNumericFormat(), getRhsGranularityAttr(), "rhs")));
}

LogicalResult QConv2DOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto filterType = cast<RankedTensorType>(getFilter().getType());
  if (inputType.getRank() != 4 || filterType.getRank() != 4)
    return emitOpError() << "input and filter must be rank 4, got ranks "
                         << inputType.getRank() << " and "
                         << filterType.getRank();
  if (failed(verifyStorage(*this, "input", inputType, getInputFormat())) ||
      failed(verifyStorage(*this, "filter", filterType, getFilterFormat())) ||
      failed(verifyAccumulator(*this, getInputFormat(), getFilterFormat(),
                               getAccType())))
    return failure();
  ArrayRef<int64_t> strides = getStrides(), dilations = getDilations();
  if (strides.size() != 2 || dilations.size() != 2)
    return emitOpError("strides and dilations must have two entries each");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }))
    return emitOpError("strides and dilations must be positive");
  ArrayRef<int64_t> padding = getPadding();
  if (padding.size() != 4 ||
      llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return emitOpError("padding must be four non-negative sizes: top, left, "
                       "bottom, right");

  // Dimension positions: (batch, channel, height, width) for the input,
  // (output channel, input channel, kernel height, kernel width) for the
  // filter, (batch, output channel, height, width) for the result.
  bool nchw = getLayout() == ConvLayout::nchw_fchw;
  static constexpr int kIdentity[4] = {0, 1, 2, 3};
  static constexpr int kNhwc[4] = {0, 3, 1, 2};
  auto in = [&](int i) {
    return inputType.getDimSize(nchw ? kIdentity[i] : kNhwc[i]);
  };
  SmallVector<int64_t, 4> filterDims = getFilterDimPositions();
  auto flt = [&](int i) { return filterType.getDimSize(filterDims[i]); };
  if (dimsDiffer(in(1), flt(1)))
    return emitOpError() << "input has " << in(1)
                         << " channels but the filter expects " << flt(1);
  SmallVector<int64_t> spatial;
  for (int i = 0; i < 2; ++i) {
    int64_t size = in(2 + i), kernel = flt(2 + i);
    if (ShapedType::isDynamic(size) || ShapedType::isDynamic(kernel)) {
      spatial.push_back(ShapedType::kDynamic);
      continue;
    }
    size += padding[i] + padding[2 + i];
    int64_t extent = dilations[i] * (kernel - 1) + 1;
    if (extent > size)
      return emitOpError() << "the dilated kernel (" << extent
                           << ") is larger than the padded input (" << size
                           << ") along spatial dimension " << i;
    spatial.push_back((size - extent) / strides[i] + 1);
  }
  SmallVector<int64_t> expected =
      nchw ? SmallVector<int64_t>{in(0), flt(0), spatial[0], spatial[1]}
           : SmallVector<int64_t>{in(0), spatial[0], spatial[1], flt(0)};
  if (failed(verifyCompatibleShape(getResult().getType().getShape(), expected)))
    return emitOpError() << "expected result shape " << formatShape(expected)
                         << ", got " << getResult().getType();

  if (failed(verifyContractionScale(*this, "filter", getFilterGranularityAttr(),
                                    filterDims[0])))
    return failure();
  return failure(failed(verifyScaleOperands(*this, inputType, getInputScale(),
                                            getInputZeroPoint(),
                                            getInputFormat().getNumericFormat(),
                                            /*granularity=*/{}, "input")) ||
                 failed(verifyScaleOperands(
                     *this, filterType, getFilterScale(), getFilterZeroPoint(),
                     getFilterFormat().getNumericFormat(),
                     getFilterGranularityAttr(), "filter")));
}

SmallVector<int64_t, 4> QConv2DOp::getFilterDimPositions() {
  // fchw: F C KH KW; hwcf: KH KW C F. Transposed filters swap F and C.
  SmallVector<int64_t, 4> positions = getLayout() == ConvLayout::nchw_fchw
                                          ? SmallVector<int64_t, 4>{0, 1, 2, 3}
                                          : SmallVector<int64_t, 4>{3, 2, 0, 1};
  if (getTransposeFilter())
    std::swap(positions[0], positions[1]);
  return positions;
}

//===----------------------------------------------------------------------===//
// QuantizerOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizerOp::verify() {
  if (getWeightBackward() && !getBackward())
    return emitOpError("'weight_backward' splits the backward rounding; it "
                       "needs 'backward' too");
  if (!getForward() && !getBackward())
    return emitOpError("needs a forward or a backward spec");
  RankedTensorType type = getInput().getType();
  bool stochastic = false;
  for (auto [name, spec] :
       {std::pair<StringRef, QuantSpecAttr>{"forward", getForwardAttr()},
        {"backward", getBackwardAttr()},
        {"weight_backward", getWeightBackwardAttr()}}) {
    if (!spec)
      continue;
    stochastic |= spec.isStochastic();
    if (ScalingAttr scaling = spec.getScaling()) {
      num::Shape scaleShape;
      if (std::optional<std::string> error = num::getScaleShape(
              type.getShape().vec(),
              scaling.getGranularity().getNumericGranularity(), scaleShape))
        return emitOpError()
               << name << " scaling " << scaling << ": " << *error;
      continue;
    }
    std::optional<num::FloatFormat> elementFormat =
        getFloatFormatOfType(type.getElementType());
    if (elementFormat &&
        !num::isGridSubset(spec.getFormat().getNumericFormat(), *elementFormat,
                           num::OverflowMode::Native))
      return emitOpError() << name << " format " << spec.getFormat()
                           << " is not exactly representable in element type "
                           << type.getElementType()
                           << "; round in f32 or add a scaling";
  }
  if (stochastic && !getSeed())
    return emitOpError("stochastic rounding requires a seed operand");
  if (!stochastic && getSeed())
    return emitOpError("a seed is only used by stochastic rounding, which no "
                       "spec uses");
  SmallVector<Type> expected;
  for (QuantSpecAttr spec : getSpecs())
    if (spec && spec.isDelayed())
      expected.push_back(spec.getHistoryType());
  if (TypeRange(getHistories().getTypes()) != TypeRange(expected))
    return emitOpError("needs one amax history per delayed spec (forward, "
                       "backward, weight_backward order), of types ")
           << expected << ", got " << getHistories().getTypes();
  return success();
}

LogicalResult QuantizerOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  llvm::append_range(types, adaptor.getHistories().getTypes());
  return success();
}

std::array<QuantSpecAttr, 3> QuantizerOp::getSpecs() {
  return {getForwardAttr(), getBackwardAttr(), getWeightBackwardAttr()};
}

std::pair<Value, Value> QuantizerOp::getHistory(unsigned direction) {
  std::array<QuantSpecAttr, 3> specs = getSpecs();
  if (!specs[direction] || !specs[direction].isDelayed())
    return {};
  unsigned index =
      llvm::count_if(ArrayRef(specs).take_front(direction),
                     [](QuantSpecAttr s) { return s && s.isDelayed(); });
  return {getHistories()[index], getNewHistories()[index]};
}

//===----------------------------------------------------------------------===//
// RecordAmaxOp
//===----------------------------------------------------------------------===//

LogicalResult RecordAmaxOp::verify() {
  RankedTensorType type = getHistory().getType();
  if (!type.hasStaticShape() || type.getDimSize(0) < 1)
    return emitOpError("needs a history of static, positive length, got ")
           << type;
  return success();
}

Value QuantizerOp::buildRounding(OpBuilder &builder, Location loc, Value x,
                                 QuantSpecAttr spec, Value seed, int32_t stream,
                                 Value history) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = builder.getContext();
  Value scale, zeroPoint;
  GranularityAttr granularity;
  if (spec.isDelayed()) {
    // History entries are amaxes, so absmax over them is the largest one.
    // The scale is known from the start (the history is an argument): made
    // there, the codes can be made as soon as their value, by the kernel
    // that computes it (see qtrain-quantize-contractions).
    OpBuilder::InsertionGuard guard(builder);
    if (auto argument = dyn_cast<BlockArgument>(history))
      builder.setInsertionPointToStart(argument.getOwner());
    auto scaleType = RankedTensorType::get({}, builder.getF32Type());
    scale = ComputeScaleOp::create(builder, loc, scaleType, Type(), history,
                                   spec.getFormat(), spec.getScaling())
                .getScale();
  } else if (ScalingAttr scaling = spec.getScaling()) {
    num::Shape scaleShape;
    (void)num::getScaleShape(type.getShape().vec(),
                             scaling.getGranularity().getNumericGranularity(),
                             scaleShape);
    auto scaleType = RankedTensorType::get(scaleShape, builder.getF32Type());
    // Computed where x is made: the kernel computing x can reduce it.
    OpBuilder::InsertionGuard guard(builder);
    Operation *producer = x.getDefiningOp();
    if (producer && producer->getBlock() == builder.getInsertionBlock())
      builder.setInsertionPointAfter(producer);
    auto compute = ComputeScaleOp::create(
        builder, loc, scaleType, scaling.isAffine() ? scaleType : Type(), x,
        spec.getFormat(), scaling);
    scale = compute.getScale();
    zeroPoint = compute.getZeroPoint();
    if (scaling.getGranularity().getKind() != GranularityKind::per_tensor)
      granularity = scaling.getGranularity();
  }
  return RoundOp::create(builder, loc, type, x, scale, zeroPoint,
                         spec.isStochastic() ? seed : Value(), spec.getFormat(),
                         RoundingModeAttr::get(ctx, spec.getRounding()),
                         OverflowModeAttr::get(ctx, OverflowMode::saturate),
                         granularity, builder.getI32IntegerAttr(stream));
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

/// `codes` holds twice as many elements as `bytes` along the innermost
/// dimension, and as many along every other.
static LogicalResult verifyPacking(Operation *op, RankedTensorType codes,
                                   RankedTensorType bytes) {
  if (!codes.hasStaticShape() || !bytes.hasStaticShape() ||
      codes.getRank() == 0 || codes.getRank() != bytes.getRank())
    return op->emitOpError("needs static tensors of one rank (at least 1), "
                           "got ")
           << codes << " and " << bytes;
  SmallVector<int64_t> expected(codes.getShape());
  if (expected.back() % 2 != 0)
    return op->emitOpError("packs pairs along the innermost dimension, "
                           "which must be even in ")
           << codes;
  expected.back() /= 2;
  if (bytes.getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError("expected packed bytes of shape ")
           << RankedTensorType::get(expected, bytes.getElementType()) << " for "
           << codes << ", got " << bytes;
  return success();
}

LogicalResult PackOp::verify() {
  return verifyPacking(*this, getInput().getType(), getResult().getType());
}

LogicalResult UnpackOp::verify() {
  return verifyPacking(*this, getResult().getType(), getInput().getType());
}
