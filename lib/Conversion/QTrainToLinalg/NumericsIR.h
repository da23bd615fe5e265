//===- NumericsIR.h - The numerics library as scalar IR ---------*- C++ -*-===//
//
// Emits arith/math IR computing exactly what qtrain::numerics computes: the
// same integer algorithm, written with selects instead of branches so that it
// vectorizes inside linalg.generic bodies. Every function here mirrors one in
// lib/Numerics; see docs/numerics.md for the rules.
//
// We do not lower through arith.truncf to small floats: in MLIR 22 it ignores
// its rounding mode and becomes one runtime call per element on CPUs.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_NUMERICSIR_H
#define QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_NUMERICSIR_H

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Numerics/Format.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::qtrain {

class NumericsIRBuilder {
public:
  explicit NumericsIRBuilder(ImplicitLocOpBuilder &builder,
                             NumericsTarget target = NumericsTarget::portable)
      : b(builder), target(target) {}

  /// encode(format, x): `x` is f32, the code is returned as i32.
  /// `randomBits` (i32) is only used by stochastic rounding.
  Value encode(const ::qtrain::numerics::Format &format, Value x,
               ::qtrain::numerics::RoundingMode rounding,
               ::qtrain::numerics::OverflowMode overflow, Value randomBits);

  /// decode(format, code): `code` is i32 (low bits hold the code), the value
  /// is returned as f32.
  Value decode(const ::qtrain::numerics::Format &format, Value code);

  /// The random bits of element `index` (i64) under `seed` (i64), as i32.
  Value stochasticBits(Value seed, uint32_t stream, Value index);
  /// Word `word` (i64, < 4) of Philox block `block` (i64): the same bits,
  /// for code that knows an element's block and word.
  Value stochasticBitsOfBlock(Value seed, uint32_t stream, Value block,
                              Value word);

  /// Converts a storage element (iN or a small float type) to its i32 code,
  /// and back.
  Value codeFromStorage(Value storage);
  Value storageFromCode(Value code, Type storageType);

  ImplicitLocOpBuilder &builder() { return b; }

  Value i32(int64_t value);
  Value i64(int64_t value);
  Value f32(float value);

private:
  Value encodeFloat(const ::qtrain::numerics::FloatFormat &format, Value x,
                    ::qtrain::numerics::RoundingMode rounding,
                    ::qtrain::numerics::OverflowMode overflow,
                    Value randomBits);
  /// Faster nearest-even path for formats whose normals and subnormal
  /// quantum are f32 normals; null if the format does not qualify.
  /// E4M3FN or E5M2 under nearest-even with saturation as a truncf of the
  /// clamped value (see usesFP8Truncf), or null.
  Value encodeFloatWithTruncf(const ::qtrain::numerics::FloatFormat &f, Value x,
                              ::qtrain::numerics::OverflowMode overflow);
  Value encodeFloatNearestEven(const ::qtrain::numerics::FloatFormat &format,
                               Value x,
                               ::qtrain::numerics::OverflowMode overflow);
  /// Faster stochastic path under the same conditions.
  Value encodeFloatStochastic(const ::qtrain::numerics::FloatFormat &format,
                              Value x,
                              ::qtrain::numerics::OverflowMode overflow,
                              Value randomBits);
  /// The parts of an f32 input that every float encoder needs.
  struct FloatInput {
    Value negative; // i1: the sign bit
    Value absBits;  // i32: the bits of |x|
    Value isNaN, isInf;
  };
  FloatInput splitFloatInput(Value x);
  /// The sign, overflow, infinity and NaN handling shared by the paths:
  /// `code` is the rounded magnitude code of |x|.
  Value finishFloatCode(const ::qtrain::numerics::FloatFormat &format,
                        Value code, const FloatInput &input,
                        ::qtrain::numerics::RoundingMode rounding,
                        ::qtrain::numerics::OverflowMode overflow);
  Value encodeInt(const ::qtrain::numerics::IntFormat &format, Value t,
                  ::qtrain::numerics::RoundingMode rounding, Value randomBits);
  Value decodeFloat(const ::qtrain::numerics::FloatFormat &format, Value code);
  Value decodeInt(const ::qtrain::numerics::IntFormat &format, Value code);

  ImplicitLocOpBuilder &b;
  NumericsTarget target;
};

} // namespace mlir::qtrain

#endif // QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_NUMERICSIR_H
