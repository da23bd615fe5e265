//===- QTrainAttrs.h - qtrain attributes ------------------------*- C++ -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_H
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Quantization.h"

#include "qtrain/Dialect/QTrain/IR/QTrainEnums.h.inc"

#include "qtrain/Dialect/QTrain/IR/QTrainAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h.inc"

namespace mlir::qtrain {

/// Conversions between the dialect's enums and the numerics library's.
::qtrain::numerics::RoundingMode toNumerics(RoundingMode mode);
::qtrain::numerics::OverflowMode toNumerics(OverflowMode mode);
::qtrain::numerics::SpecialValues toNumerics(SpecialValues specials);
::qtrain::numerics::ScaleMethod toNumerics(ScaleMethod method);
SpecialValues fromNumerics(::qtrain::numerics::SpecialValues specials);

/// The builtin float type whose semantics equal `format`, if any.
FloatType getBuiltinFloatType(MLIRContext *context,
                              const ::qtrain::numerics::FloatFormat &format);

/// The inverse: the format of a builtin float type that is a named format
/// (f16, bf16, the f8/f6/f4 types); nullopt for other types, f32 included.
std::optional<::qtrain::numerics::FloatFormat> getFloatFormatOfType(Type type);

/// Formats in op and nested-attribute syntax, without the `#qtrain.`
/// prefix: `float<f8E4M3FN>`, `int<8, signed>` (a `#` attribute is
/// accepted too). Returns null after reporting an error.
NumericFormatAttrInterface parseShortNumericFormat(AsmParser &parser);
void printShortNumericFormat(AsmPrinter &printer,
                             NumericFormatAttrInterface format);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_H
