//===- Format.h - Low-precision numeric formats -----------------*- C++ -*-===//
//
// Plain C++ description of the integer and floating-point formats qtrain
// rounds to. This header has no MLIR dependency: the dialect, the folders, the
// lowering tests and the runtime all use it as the single source of truth.
// The semantics are specified in docs/numerics.md.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_NUMERICS_FORMAT_H
#define QTRAIN_NUMERICS_FORMAT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qtrain::numerics {

/// How the encodings with an all-ones exponent (or the 0x80 code) are used.
enum class SpecialValues : uint8_t {
  /// IEEE 754: all-ones exponent holds +-inf (zero mantissa) and NaNs.
  IEEE,
  /// "FN": no infinities; only the all-ones code (per sign) is NaN.
  FN,
  /// "FNUZ": no infinities, no negative zero; the code 0b1000...0 is NaN.
  FNUZ,
  /// No NaN, no infinity: every code is a finite number.
  FiniteOnly,
};

enum class RoundingMode : uint8_t {
  NearestEven,
  NearestAway,
  TowardZero,
  Upward,
  Downward,
  Stochastic,
};

enum class OverflowMode : uint8_t {
  /// Out-of-range results (and infinities) become the largest finite value.
  Saturate,
  /// The format's own behaviour (as LLVM APFloat): inf where the format has
  /// infinities, NaN where it only has NaN.
  Native,
};

/// A sign-magnitude binary floating-point format with `expBits` exponent bits
/// and `manBits` explicit mantissa bits.
struct FloatFormat {
  unsigned expBits = 0;
  unsigned manBits = 0;
  int bias = 0;
  bool subnormals = true;
  SpecialValues specials = SpecialValues::IEEE;

  unsigned bitWidth() const { return 1 + expBits + manBits; }
  bool hasInf() const { return specials == SpecialValues::IEEE; }
  bool hasNaN() const { return specials != SpecialValues::FiniteOnly; }
  bool hasNegativeZero() const { return specials != SpecialValues::FNUZ; }
  /// Exponent of the smallest normal number.
  int minNormalExponent() const { return 1 - bias; }
  /// Exponent of the largest finite number.
  int maxExponent() const;
  /// Code (without sign) of the largest finite magnitude.
  uint32_t maxFiniteMagnitudeCode() const;
  double maxFinite() const;
  double minNormal() const;
  /// Smallest positive value (the smallest subnormal, or the smallest normal
  /// when the format has no subnormals).
  double minPositive() const;

  /// The IEEE-like default bias 2^(e-1) - 1.
  static int defaultBias(unsigned expBits) { return (1 << (expBits - 1)) - 1; }

  friend bool operator==(const FloatFormat &a, const FloatFormat &b) {
    return a.expBits == b.expBits && a.manBits == b.manBits &&
           a.bias == b.bias && a.subnormals == b.subnormals &&
           a.specials == b.specials;
  }
  friend bool operator!=(const FloatFormat &a, const FloatFormat &b) {
    return !(a == b);
  }
};

/// A two's-complement (signed) or plain binary (unsigned) integer format.
struct IntFormat {
  unsigned bits = 0;
  bool isSigned = true;

  int64_t minValue() const {
    return isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  }
  int64_t maxValue() const {
    return isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  }
  friend bool operator==(const IntFormat &a, const IntFormat &b) {
    return a.bits == b.bits && a.isSigned == b.isSigned;
  }
  friend bool operator!=(const IntFormat &a, const IntFormat &b) {
    return !(a == b);
  }
};

/// Either an integer or a floating-point format.
class Format {
public:
  Format(IntFormat f) : isFloatFormat(false), intFormat(f) {}
  Format(FloatFormat f) : isFloatFormat(true), floatFormat(f) {}

  bool isFloat() const { return isFloatFormat; }
  bool isInt() const { return !isFloatFormat; }
  const FloatFormat &getFloat() const { return floatFormat; }
  const IntFormat &getInt() const { return intFormat; }
  unsigned bitWidth() const {
    return isFloatFormat ? floatFormat.bitWidth() : intFormat.bits;
  }
  /// The largest finite value of a float format; the largest value of an
  /// integer format (2^(b-1)-1 signed, so int8's -128 stays unused by
  /// absmax scales, 2^b-1 unsigned).
  double maxMagnitude() const;

  friend bool operator==(const Format &a, const Format &b) {
    if (a.isFloatFormat != b.isFloatFormat)
      return false;
    return a.isFloatFormat ? a.floatFormat == b.floatFormat
                           : a.intFormat == b.intFormat;
  }
  friend bool operator!=(const Format &a, const Format &b) { return !(a == b); }

private:
  bool isFloatFormat;
  IntFormat intFormat{};
  FloatFormat floatFormat{};
};

/// Returns an error message if `f` is not a format qtrain supports (see
/// docs/numerics.md: at most 16 bits, every value exactly representable in
/// f32), or std::nullopt if it is valid.
std::optional<std::string> validate(const FloatFormat &f);
std::optional<std::string> validate(const IntFormat &f);

/// Named float formats: MLIR's builtin small-float type names (f16, bf16,
/// f8E4M3FN, ...) and the formats that have no builtin type (hfp8_e4m3,
/// dlfloat16). `isBuiltin` is true when MLIR has a type of the same name.
struct NamedFloatFormat {
  std::string_view name;
  FloatFormat format;
  bool isBuiltin;
};
/// All named formats, in a fixed order.
const NamedFloatFormat *namedFloatFormatsBegin();
const NamedFloatFormat *namedFloatFormatsEnd();
std::optional<FloatFormat> lookupFloatFormat(std::string_view name);
/// The name of `f` if it is one of the named formats.
std::optional<std::string_view> getFloatFormatName(const FloatFormat &f);

std::string_view stringify(SpecialValues s);
std::string_view stringify(RoundingMode r);
std::string_view stringify(OverflowMode o);
std::string toString(const Format &f);

} // namespace qtrain::numerics

#endif // QTRAIN_NUMERICS_FORMAT_H
