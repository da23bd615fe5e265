//===- Rounding.cpp - Encode and decode values of a format ----------------===//
//
// The integer algorithm here is the reference the lowerings reproduce in IR:
// no host floating-point rounding is involved in float encodes, so the result
// does not depend on the host's rounding mode or FMA contraction.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Numerics/Rounding.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace qtrain::numerics {

namespace {

uint32_t bitsOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

float floatOf(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

constexpr uint32_t kF32QuietNaN = 0x7FC00000u;

uint32_t signBit(const FloatFormat &f) {
  return uint32_t(1) << (f.expBits + f.manBits);
}

uint32_t allOnesExponent(const FloatFormat &f) {
  return ((uint32_t(1) << f.expBits) - 1) << f.manBits;
}

uint32_t withSign(const FloatFormat &f, uint32_t magnitude, bool negative) {
  return magnitude | (negative ? signBit(f) : 0);
}

/// Whether to step the magnitude one quantum away from zero, given the
/// discarded bits `discarded` (d bits wide) and the parity of the code
/// toward zero.
bool roundsAway(RoundingMode rounding, bool negative, uint64_t discarded,
                unsigned d, bool keptCodeIsOdd, uint32_t randomBits) {
  switch (rounding) {
  case RoundingMode::NearestEven:
  case RoundingMode::NearestAway: {
    if (d == 0 || d > 62)
      return false;
    uint64_t half = uint64_t(1) << (d - 1);
    if (rounding == RoundingMode::NearestAway)
      return discarded >= half;
    return discarded > half || (discarded == half && keptCodeIsOdd);
  }
  case RoundingMode::TowardZero:
    return false;
  case RoundingMode::Upward:
    return discarded != 0 && !negative;
  case RoundingMode::Downward:
    return discarded != 0 && negative;
  case RoundingMode::Stochastic: {
    // floor(frac * 2^32) with frac = discarded / 2^d.
    uint64_t scaled = d <= 32        ? discarded << (32 - d)
                      : d - 32 >= 64 ? 0
                                     : discarded >> (d - 32);
    return scaled > randomBits;
  }
  }
  return false;
}

} // namespace

uint32_t maxFiniteCode(const FloatFormat &f, bool negative) {
  return withSign(f, f.maxFiniteMagnitudeCode(), negative);
}

uint32_t nanCode(const FloatFormat &f, bool negative) {
  switch (f.specials) {
  case SpecialValues::IEEE: // quiet NaN: top mantissa bit set
    return withSign(f, allOnesExponent(f) | (uint32_t(1) << (f.manBits - 1)),
                    negative);
  case SpecialValues::FN:
    return withSign(f, signBit(f) - 1, negative);
  case SpecialValues::FNUZ:
    return signBit(f);
  case SpecialValues::FiniteOnly:
    return maxFiniteCode(f, negative);
  }
  return 0;
}

uint32_t infinityCode(const FloatFormat &f, bool negative,
                      OverflowMode overflow) {
  if (overflow == OverflowMode::Saturate)
    return maxFiniteCode(f, negative);
  if (f.hasInf())
    return withSign(f, allOnesExponent(f), negative);
  return nanCode(f, negative);
}

uint32_t overflowCode(const FloatFormat &f, bool negative,
                      RoundingMode rounding, OverflowMode overflow) {
  bool towardInfinity = rounding == RoundingMode::NearestEven ||
                        rounding == RoundingMode::NearestAway ||
                        rounding == RoundingMode::Stochastic ||
                        (rounding == RoundingMode::Upward && !negative) ||
                        (rounding == RoundingMode::Downward && negative);
  if (overflow == OverflowMode::Saturate || !towardInfinity ||
      f.specials == SpecialValues::FiniteOnly)
    return maxFiniteCode(f, negative);
  return infinityCode(f, negative, OverflowMode::Native);
}

uint32_t encode(const FloatFormat &f, float x, RoundingMode rounding,
                OverflowMode overflow, uint32_t randomBits) {
  uint32_t bits = bitsOf(x);
  bool negative = bits >> 31;
  uint32_t absBits = bits & 0x7FFFFFFFu;
  if (absBits > 0x7F800000u)
    return nanCode(f, negative);
  if (absBits == 0x7F800000u)
    return infinityCode(f, negative, overflow);
  if (absBits == 0)
    return f.hasNegativeZero() ? withSign(f, 0, negative) : 0;

  // |x| = sig * 2^(e - 23) with sig normalized to 24 bits.
  uint32_t biasedExp = absBits >> 23;
  uint32_t sig = absBits & 0x7FFFFFu;
  int e;
  if (biasedExp == 0) {
    int shift = __builtin_clz(sig) - 8;
    sig <<= shift;
    e = -126 - shift;
  } else {
    sig |= 0x800000u;
    e = int(biasedExp) - 127;
  }

  // Exponent of the grid spacing (quantum) around |x|. Below the smallest
  // normal the spacing is that of the first normal binade with subnormals,
  // and the whole of [0, 2^emin] without.
  const int m = int(f.manBits);
  const int emin = f.minNormalExponent();
  int quantumExp = e >= emin ? e - m : f.subnormals ? emin - m : emin;
  unsigned d = unsigned(quantumExp - (e - 23)); // bits below the quantum
  uint64_t kept = d >= 32 ? 0 : uint64_t(sig) >> d;
  uint64_t discarded = d >= 32 ? sig : sig & ((uint64_t(1) << d) - 1);

  // Codes are (exponent field - 1) << m plus the quantum count: the count
  // carries into the exponent when it reaches 2^(m+1), and gives the
  // subnormal encoding when the exponent field is 0. Below the smallest
  // normal of a format without subnormals the only codes are 0 and 1 << m.
  bool flushRange = e < emin && !f.subnormals;
  int64_t base = flushRange ? 0 : int64_t(std::max(e, emin) + f.bias - 1) << m;
  // Ties go to the even code (the mantissa's last bit, or the exponent's
  // when there are no mantissa bits).
  bool keptCodeIsOdd = (base + int64_t(kept)) & 1;
  uint64_t magnitude = kept + roundsAway(rounding, negative, discarded, d,
                                         keptCodeIsOdd, randomBits);
  if (magnitude == 0)
    return f.hasNegativeZero() ? withSign(f, 0, negative) : 0;
  int64_t code = flushRange ? int64_t(1) << m : base + int64_t(magnitude);
  if (code > int64_t(f.maxFiniteMagnitudeCode()))
    return overflowCode(f, negative, rounding, overflow);
  return withSign(f, uint32_t(code), negative);
}

uint32_t encode(const IntFormat &f, float t, RoundingMode rounding,
                uint32_t randomBits) {
  uint32_t mask = f.bits >= 32 ? ~0u : (uint32_t(1) << f.bits) - 1;
  if (std::isnan(t))
    return 0;
  const float lo = float(f.minValue()), hi = float(f.maxValue());
  int64_t value;
  if (t >= hi) {
    value = f.maxValue();
  } else if (t <= lo) {
    value = f.minValue();
  } else {
    bool negative = std::signbit(t);
    float a = std::fabs(t);
    float k = std::floor(a);
    float frac = a - k; // exact: a and k share the integer bits
    bool away;
    switch (rounding) {
    case RoundingMode::NearestEven:
      away = frac > 0.5f || (frac == 0.5f && std::fmod(k, 2.0f) == 1.0f);
      break;
    case RoundingMode::NearestAway:
      away = frac >= 0.5f;
      break;
    case RoundingMode::TowardZero:
      away = false;
      break;
    case RoundingMode::Upward:
      away = frac > 0 && !negative;
      break;
    case RoundingMode::Downward:
      away = frac > 0 && negative;
      break;
    case RoundingMode::Stochastic:
      // frac * 2^32 is exact; the conversion truncates, i.e. floors.
      away = uint64_t(frac * 4294967296.0f) > randomBits;
      break;
    }
    int64_t magnitude = int64_t(k) + (away ? 1 : 0);
    value = std::clamp<int64_t>(negative ? -magnitude : magnitude, f.minValue(),
                                f.maxValue());
  }
  return uint32_t(value) & mask;
}

uint32_t encode(const Format &f, float x, RoundingMode rounding,
                OverflowMode overflow, uint32_t randomBits) {
  return f.isFloat() ? encode(f.getFloat(), x, rounding, overflow, randomBits)
                     : encode(f.getInt(), x, rounding, randomBits);
}

float decode(const FloatFormat &f, uint32_t code) {
  const unsigned m = f.manBits;
  const uint32_t sign = signBit(f);
  code &= (sign << 1) - 1;
  bool negative = code & sign;
  uint32_t magnitude = code & (sign - 1);
  uint32_t expField = magnitude >> m;
  uint32_t mantissa = magnitude & ((uint32_t(1) << m) - 1);
  uint32_t signBits = negative ? 0x80000000u : 0;
  switch (f.specials) {
  case SpecialValues::FNUZ:
    if (code == sign)
      return floatOf(kF32QuietNaN);
    break;
  case SpecialValues::IEEE:
    if (expField == (uint32_t(1) << f.expBits) - 1)
      return floatOf(signBits | (mantissa ? kF32QuietNaN : 0x7F800000u));
    break;
  case SpecialValues::FN:
    if (magnitude == sign - 1)
      return floatOf(signBits | kF32QuietNaN);
    break;
  case SpecialValues::FiniteOnly:
    break;
  }
  double value;
  if (expField == 0) // subnormal; a format without subnormals reads it as 0
    value = f.subnormals
                ? std::ldexp(double(mantissa), f.minNormalExponent() - int(m))
                : 0.0;
  else
    value = std::ldexp(double((uint32_t(1) << m) | mantissa),
                       int(expField) - f.bias - int(m));
  // Exact: validate() guarantees every value is an f32.
  return negative ? -float(value) : float(value);
}

int64_t integerValue(const IntFormat &f, uint32_t code) {
  uint64_t mask = (uint64_t(1) << f.bits) - 1;
  uint64_t raw = code & mask;
  if (f.isSigned && (raw >> (f.bits - 1)))
    return int64_t(raw) - int64_t(uint64_t(1) << f.bits);
  return int64_t(raw);
}

float decode(const IntFormat &f, uint32_t code) {
  return float(integerValue(f, code));
}

float decode(const Format &f, uint32_t code) {
  return f.isFloat() ? decode(f.getFloat(), code) : decode(f.getInt(), code);
}

float roundToFormat(const Format &f, float x, RoundingMode rounding,
                    OverflowMode overflow, uint32_t randomBits) {
  return decode(f, encode(f, x, rounding, overflow, randomBits));
}

bool isGridSubset(const Format &inner, const Format &outer,
                  OverflowMode outerOverflow) {
  uint32_t numCodes = uint32_t(1) << inner.bitWidth();
  for (uint32_t code = 0; code < numCodes; ++code) {
    float value = decode(inner, code);
    float again =
        roundToFormat(outer, value, RoundingMode::NearestEven, outerOverflow);
    if (bitsOf(again) != bitsOf(value))
      return false;
  }
  return true;
}

bool hasCanonicalEncodings(const Format &f) {
  uint32_t numCodes = uint32_t(1) << f.bitWidth();
  for (uint32_t code = 0; code < numCodes; ++code)
    if (encode(f, decode(f, code), RoundingMode::NearestEven,
               OverflowMode::Native) != code)
      return false;
  return true;
}

} // namespace qtrain::numerics
