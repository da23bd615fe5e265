//===- QTrainAttrs.cpp - qtrain attributes --------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

#include "qtrain/Dialect/QTrain/IR/QTrainEnums.cpp.inc"

#include "qtrain/Dialect/QTrain/IR/QTrainAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.cpp.inc"

void QTrainDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Enum conversions
//===----------------------------------------------------------------------===//

// The dialect enums list their cases in the library's order.
num::RoundingMode mlir::qtrain::toNumerics(RoundingMode mode) {
  return static_cast<num::RoundingMode>(mode);
}
num::OverflowMode mlir::qtrain::toNumerics(OverflowMode mode) {
  return static_cast<num::OverflowMode>(mode);
}
num::SpecialValues mlir::qtrain::toNumerics(SpecialValues specials) {
  return static_cast<num::SpecialValues>(specials);
}
num::ScaleMethod mlir::qtrain::toNumerics(ScaleMethod method) {
  return static_cast<num::ScaleMethod>(method);
}
SpecialValues mlir::qtrain::fromNumerics(num::SpecialValues specials) {
  return static_cast<SpecialValues>(specials);
}

static_assert(int(num::RoundingMode::Stochastic) ==
              int(RoundingMode::stochastic));
static_assert(int(num::OverflowMode::Native) == int(OverflowMode::native));
static_assert(int(num::SpecialValues::FiniteOnly) ==
              int(SpecialValues::finite_only));
static_assert(int(num::ScaleMethod::PowerOfTwo) == int(ScaleMethod::pow2));
static_assert(int(num::GranularityKind::PerBlock) ==
              int(GranularityKind::per_block));

FloatType mlir::qtrain::getBuiltinFloatType(MLIRContext *ctx,
                                            const num::FloatFormat &format) {
  std::optional<std::string_view> name = num::getFloatFormatName(format);
  if (!name)
    return {};
  return llvm::StringSwitch<std::function<FloatType()>>(
             llvm::StringRef(name->data(), name->size()))
      .Case("f16", [&] { return Float16Type::get(ctx); })
      .Case("bf16", [&] { return BFloat16Type::get(ctx); })
      .Case("f8E5M2", [&] { return Float8E5M2Type::get(ctx); })
      .Case("f8E4M3", [&] { return Float8E4M3Type::get(ctx); })
      .Case("f8E3M4", [&] { return Float8E3M4Type::get(ctx); })
      .Case("f8E4M3FN", [&] { return Float8E4M3FNType::get(ctx); })
      .Case("f8E4M3FNUZ", [&] { return Float8E4M3FNUZType::get(ctx); })
      .Case("f8E5M2FNUZ", [&] { return Float8E5M2FNUZType::get(ctx); })
      .Case("f8E4M3B11FNUZ", [&] { return Float8E4M3B11FNUZType::get(ctx); })
      .Case("f6E2M3FN", [&] { return Float6E2M3FNType::get(ctx); })
      .Case("f6E3M2FN", [&] { return Float6E3M2FNType::get(ctx); })
      .Case("f4E2M1FN", [&] { return Float4E2M1FNType::get(ctx); })
      .Default([] { return FloatType(); })();
}

std::optional<num::FloatFormat> mlir::qtrain::getFloatFormatOfType(Type type) {
  if (!isa<FloatType>(type))
    return std::nullopt;
  for (auto *named = num::namedFloatFormatsBegin();
       named != num::namedFloatFormatsEnd(); ++named)
    if (named->isBuiltin &&
        getBuiltinFloatType(type.getContext(), named->format) == type)
      return named->format;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// IntFormatAttr
//===----------------------------------------------------------------------===//

LogicalResult
IntFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      unsigned bits, Signedness signedness) {
  if (auto error =
          num::validate(num::IntFormat{bits, signedness == Signedness::Signed}))
    return emitError() << "invalid integer format: " << *error;
  return success();
}

num::Format IntFormatAttr::getNumericFormat() const {
  return num::IntFormat{getBits(), isSigned()};
}

Type IntFormatAttr::getStorageType() const {
  return IntegerType::get(getContext(), getBits());
}

//===----------------------------------------------------------------------===//
// FloatFormatAttr
//===----------------------------------------------------------------------===//

FloatFormatAttr FloatFormatAttr::get(MLIRContext *context,
                                     const num::FloatFormat &format) {
  return get(context, format.expBits, format.manBits, format.bias,
             format.subnormals, fromNumerics(format.specials));
}

static num::FloatFormat makeFloatFormat(unsigned expBits, unsigned manBits,
                                        int bias, bool subnormals,
                                        SpecialValues specials) {
  return num::FloatFormat{expBits, manBits, bias, subnormals,
                          toNumerics(specials)};
}

LogicalResult
FloatFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        unsigned expBits, unsigned manBits, int bias,
                        bool subnormals, SpecialValues specials) {
  if (auto error = num::validate(
          makeFloatFormat(expBits, manBits, bias, subnormals, specials)))
    return emitError() << "invalid float format: " << *error;
  return success();
}

num::Format FloatFormatAttr::getNumericFormat() const {
  return makeFloatFormat(getExpBits(), getManBits(), getBias(), getSubnormals(),
                         getSpecials());
}

Type FloatFormatAttr::getStorageType() const {
  num::FloatFormat format = getNumericFormat().getFloat();
  if (FloatType builtin = getBuiltinFloatType(getContext(), format))
    return builtin;
  return IntegerType::get(getContext(), format.bitWidth());
}

/// `<name>` or `<exp = E, man = M [, bias = B] [, subnormals = true|false]
/// [, specials = S]>`.
Attribute FloatFormatAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  StringRef word;
  if (parser.parseLess())
    return {};
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&word))
    return {};
  if (word != "exp") {
    std::optional<num::FloatFormat> named =
        num::lookupFloatFormat(std::string_view(word.data(), word.size()));
    if (!named) {
      parser.emitError(loc) << "unknown float format '" << word
                            << "'; expected a format name such as "
                               "f8E4M3FN or 'exp = ..., man = ...'";
      return {};
    }
    if (parser.parseGreater())
      return {};
    return FloatFormatAttr::get(ctx, *named);
  }

  unsigned expBits = 0, manBits = 0;
  if (parser.parseEqual() || parser.parseInteger(expBits) ||
      parser.parseComma() || parser.parseKeyword("man") ||
      parser.parseEqual() || parser.parseInteger(manBits))
    return {};
  if (expBits < 1 || expBits > 8) {
    parser.emitError(loc) << "exponent bits must be in [1, 8], got " << expBits;
    return {};
  }
  int bias = num::FloatFormat::defaultBias(expBits);
  bool subnormals = true;
  SpecialValues specials = SpecialValues::ieee;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "bias") {
      if (parser.parseInteger(bias))
        return {};
    } else if (key == "subnormals") {
      StringRef value;
      if (parser.parseKeyword(&value))
        return {};
      if (value != "true" && value != "false") {
        parser.emitError(keyLoc, "expected 'true' or 'false'");
        return {};
      }
      subnormals = value == "true";
    } else if (key == "specials") {
      StringRef value;
      if (parser.parseKeyword(&value))
        return {};
      std::optional<SpecialValues> parsed = symbolizeSpecialValues(value);
      if (!parsed) {
        parser.emitError(keyLoc)
            << "unknown special-value convention '" << value
            << "'; expected ieee, fn, fnuz or finite_only";
        return {};
      }
      specials = *parsed;
    } else {
      parser.emitError(keyLoc) << "unknown float format field '" << key
                               << "'; expected bias, subnormals or specials";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return FloatFormatAttr::getChecked([&] { return parser.emitError(loc); }, ctx,
                                     expBits, manBits, bias, subnormals,
                                     specials);
}

void FloatFormatAttr::print(AsmPrinter &printer) const {
  num::FloatFormat format = getNumericFormat().getFloat();
  if (std::optional<std::string_view> name = num::getFloatFormatName(format)) {
    printer << "<" << StringRef(name->data(), name->size()) << ">";
    return;
  }
  printer << "<exp = " << getExpBits() << ", man = " << getManBits();
  if (getBias() != num::FloatFormat::defaultBias(getExpBits()))
    printer << ", bias = " << getBias();
  if (!getSubnormals())
    printer << ", subnormals = false";
  if (getSpecials() != SpecialValues::ieee)
    printer << ", specials = " << stringifySpecialValues(getSpecials());
  printer << ">";
}

//===----------------------------------------------------------------------===//
// GranularityAttr
//===----------------------------------------------------------------------===//

LogicalResult
GranularityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        GranularityKind kind, int64_t axis, int64_t blockSize) {
  if (axis < 0)
    return emitError() << "granularity axis must be non-negative, got " << axis;
  if (kind == GranularityKind::per_block && blockSize < 1)
    return emitError() << "block size must be positive, got " << blockSize;
  if (kind != GranularityKind::per_block && blockSize != 0)
    return emitError() << "only per_block granularity has a block size";
  if (kind == GranularityKind::per_tensor && axis != 0)
    return emitError() << "per_tensor granularity has no axis";
  return success();
}

GranularityAttr GranularityAttr::getPerTensor(MLIRContext *context) {
  return get(context, GranularityKind::per_tensor, 0, 0);
}

num::Granularity GranularityAttr::getNumericGranularity() const {
  return num::Granularity{static_cast<num::GranularityKind>(getKind()),
                          getAxis(), getBlockSize()};
}

GranularityAttr GranularityAttr::parseBody(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef word;
  if (parser.parseKeyword(&word))
    return {};
  std::optional<GranularityKind> kind = symbolizeGranularityKind(word);
  if (!kind) {
    parser.emitError(loc) << "unknown granularity '" << word
                          << "'; expected per_tensor, per_channel or "
                             "per_block";
    return {};
  }
  int64_t axis = 0, blockSize = 0;
  if (*kind != GranularityKind::per_tensor &&
      (parser.parseComma() || parser.parseKeyword("axis") ||
       parser.parseEqual() || parser.parseInteger(axis)))
    return {};
  if (*kind == GranularityKind::per_block &&
      (parser.parseComma() || parser.parseKeyword("size") ||
       parser.parseEqual() || parser.parseInteger(blockSize)))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *kind, axis, blockSize);
}

void GranularityAttr::printBody(AsmPrinter &printer) const {
  printer << stringifyGranularityKind(getKind());
  if (getKind() != GranularityKind::per_tensor)
    printer << ", axis = " << getAxis();
  if (getKind() == GranularityKind::per_block)
    printer << ", size = " << getBlockSize();
}

Attribute GranularityAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  GranularityAttr attr = parseBody(parser);
  if (!attr || parser.parseGreater())
    return {};
  return attr;
}

void GranularityAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printBody(printer);
  printer << ">";
}

//===----------------------------------------------------------------------===//
// ScalingAttr
//===----------------------------------------------------------------------===//

LogicalResult ScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ScaleMethod method,
                                  GranularityAttr granularity, int exponent) {
  if (!granularity)
    return emitError() << "scaling needs a granularity";
  if (method == ScaleMethod::batch_minmax &&
      granularity.getKind() != GranularityKind::per_tensor)
    return emitError() << "batch_minmax scaling is per tensor only";
  if (method != ScaleMethod::pow2 && exponent != 0)
    return emitError() << "only pow2 scaling has an exponent";
  if (exponent < -126 || exponent > 127)
    return emitError() << "pow2 exponent must be in [-126, 127], got "
                       << exponent;
  return success();
}

/// `<method [, granularity] [, exponent = k]>`.
Attribute ScalingAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SMLoc loc = parser.getCurrentLocation();
  StringRef word;
  if (parser.parseLess() || parser.parseKeyword(&word))
    return {};
  std::optional<ScaleMethod> method = symbolizeScaleMethod(word);
  if (!method) {
    parser.emitError(loc) << "unknown scaling method '" << word
                          << "'; expected absmax, minmax, batch_minmax or "
                             "pow2";
    return {};
  }
  GranularityAttr granularity = GranularityAttr::getPerTensor(ctx);
  int exponent = 0;
  bool hasExponent = false;
  while (succeeded(parser.parseOptionalComma())) {
    if (succeeded(parser.parseOptionalKeyword("exponent"))) {
      if (parser.parseEqual() || parser.parseInteger(exponent))
        return {};
      hasExponent = true;
      continue;
    }
    granularity = GranularityAttr::parseBody(parser);
    if (!granularity)
      return {};
  }
  if (parser.parseGreater())
    return {};
  if (*method == ScaleMethod::pow2 && !hasExponent) {
    parser.emitError(loc, "pow2 scaling needs 'exponent = k'");
    return {};
  }
  return getChecked([&] { return parser.emitError(loc); }, ctx, *method,
                    granularity, exponent);
}

void ScalingAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyScaleMethod(getMethod());
  if (getGranularity().getKind() != GranularityKind::per_tensor) {
    printer << ", ";
    getGranularity().printBody(printer);
  }
  if (getMethod() == ScaleMethod::pow2)
    printer << ", exponent = " << getExponent();
  printer << ">";
}

//===----------------------------------------------------------------------===//
// Short format syntax
//===----------------------------------------------------------------------===//

// A full dialect attribute directly before an op's `:` would take the op's
// type as its own, hence the short form in op syntax.
NumericFormatAttrInterface
mlir::qtrain::parseShortNumericFormat(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute attr;
  StringRef kind;
  if (succeeded(parser.parseOptionalKeyword(&kind, {"int", "float"}))) {
    attr = kind == "int" ? IntFormatAttr::parse(parser, Type())
                         : FloatFormatAttr::parse(parser, Type());
    if (!attr)
      return {};
  } else if (parser.parseAttribute(attr)) {
    return {};
  }
  auto format = dyn_cast<NumericFormatAttrInterface>(attr);
  if (!format)
    parser.emitError(loc) << "expected a numeric format such as "
                             "float<f8E4M3FN> or int<8, signed>, got "
                          << attr;
  return format;
}

void mlir::qtrain::printShortNumericFormat(AsmPrinter &printer,
                                           NumericFormatAttrInterface format) {
  if (auto intFormat = dyn_cast<IntFormatAttr>(format)) {
    printer << "int";
    intFormat.print(printer);
    return;
  }
  printer << "float";
  cast<FloatFormatAttr>(format).print(printer);
}

//===----------------------------------------------------------------------===//
// QuantSpecAttr
//===----------------------------------------------------------------------===//

LogicalResult
QuantSpecAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      NumericFormatAttrInterface format, RoundingMode rounding,
                      ScalingAttr scaling, int64_t history) {
  if (!format)
    return emitError() << "a quantizer spec needs a format";
  if (scaling && scaling.isAffine() && format.getNumericFormat().isFloat())
    return emitError() << "'" << stringifyScaleMethod(scaling.getMethod())
                       << "' scaling is affine and needs an integer format";
  if (history < 0)
    return emitError() << "an amax history needs a positive length, got "
                       << history;
  if (history > 0 &&
      (!scaling || scaling.getMethod() != ScaleMethod::absmax ||
       scaling.getGranularity().getKind() != GranularityKind::per_tensor))
    return emitError() << "an amax history needs per-tensor 'absmax' scaling";
  return success();
}

RankedTensorType QuantSpecAttr::getHistoryType() const {
  return RankedTensorType::get({getHistory()}, Float32Type::get(getContext()));
}

/// `<format, rounding [, scaling <...> [, history = N]]>`.
Attribute QuantSpecAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess())
    return {};
  NumericFormatAttrInterface format = parseShortNumericFormat(parser);
  StringRef word;
  if (!format || parser.parseComma() || parser.parseKeyword(&word))
    return {};
  std::optional<RoundingMode> rounding = symbolizeRoundingMode(word);
  if (!rounding) {
    parser.emitError(loc) << "unknown rounding mode '" << word << "'";
    return {};
  }
  ScalingAttr scaling;
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("scaling"))
      return {};
    scaling = dyn_cast_or_null<ScalingAttr>(ScalingAttr::parse(parser, Type()));
    if (!scaling)
      return {};
  }
  int64_t history = 0;
  if (succeeded(parser.parseOptionalComma()) &&
      (parser.parseKeyword("history") || parser.parseEqual() ||
       parser.parseInteger(history)))
    return {};
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    format, *rounding, scaling, history);
}

void QuantSpecAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printShortNumericFormat(printer, getFormat());
  printer << ", " << stringifyRoundingMode(getRounding());
  if (getScaling()) {
    printer << ", scaling ";
    getScaling().print(printer);
  }
  if (isDelayed())
    printer << ", history = " << getHistory();
  printer << ">";
}
