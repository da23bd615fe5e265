//===- Oracle.h - Independent oracles for the numerics tests ----*- C++ -*-===//
//
// Two oracles that share no code with the library: LLVM's APFloat for the
// formats that have fltSemantics, and a brute-force search over every value
// of a format for the others.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_UNITTESTS_NUMERICS_ORACLE_H
#define QTRAIN_UNITTESTS_NUMERICS_ORACLE_H

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Rounding.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringSwitch.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

namespace qtrain::numerics::testing {

inline uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
inline float floatOf(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

/// APFloat's semantics for a builtin format name.
inline const llvm::fltSemantics *semanticsFor(std::string_view name) {
  using llvm::APFloat;
  return llvm::StringSwitch<const llvm::fltSemantics *>(
             llvm::StringRef(name.data(), name.size()))
      .Case("f16", &APFloat::IEEEhalf())
      .Case("bf16", &APFloat::BFloat())
      .Case("f8E5M2", &APFloat::Float8E5M2())
      .Case("f8E4M3", &APFloat::Float8E4M3())
      .Case("f8E3M4", &APFloat::Float8E3M4())
      .Case("f8E4M3FN", &APFloat::Float8E4M3FN())
      .Case("f8E4M3FNUZ", &APFloat::Float8E4M3FNUZ())
      .Case("f8E5M2FNUZ", &APFloat::Float8E5M2FNUZ())
      .Case("f8E4M3B11FNUZ", &APFloat::Float8E4M3B11FNUZ())
      .Case("f6E2M3FN", &APFloat::Float6E2M3FN())
      .Case("f6E3M2FN", &APFloat::Float6E3M2FN())
      .Case("f4E2M1FN", &APFloat::Float4E2M1FN())
      .Default(nullptr);
}

inline llvm::RoundingMode toAPFloat(RoundingMode mode) {
  switch (mode) {
  case RoundingMode::NearestEven:
    return llvm::RoundingMode::NearestTiesToEven;
  case RoundingMode::NearestAway:
    return llvm::RoundingMode::NearestTiesToAway;
  case RoundingMode::TowardZero:
    return llvm::RoundingMode::TowardZero;
  case RoundingMode::Upward:
    return llvm::RoundingMode::TowardPositive;
  case RoundingMode::Downward:
    return llvm::RoundingMode::TowardNegative;
  case RoundingMode::Stochastic:
    break;
  }
  return llvm::RoundingMode::Invalid;
}

inline const RoundingMode kDeterministicModes[] = {
    RoundingMode::NearestEven, RoundingMode::NearestAway,
    RoundingMode::TowardZero, RoundingMode::Upward, RoundingMode::Downward};

/// APFloat's conversion of `x`, as a code.
inline uint32_t apfloatEncode(const llvm::fltSemantics &semantics, float x,
                              RoundingMode mode) {
  llvm::APFloat value(x);
  bool losesInfo;
  value.convert(semantics, toAPFloat(mode), &losesInfo);
  return uint32_t(value.bitcastToAPInt().getZExtValue());
}

inline float apfloatDecode(const llvm::fltSemantics &semantics, uint32_t code) {
  unsigned width = llvm::APFloat::getSizeInBits(semantics);
  llvm::APFloat value(semantics, llvm::APInt(width, code));
  bool losesInfo;
  value.convert(llvm::APFloat::IEEEsingle(),
                llvm::RoundingMode::NearestTiesToEven, &losesInfo);
  return value.convertToFloat();
}

/// A finite non-negative value of a format and its magnitude code.
struct GridPoint {
  double value;
  uint32_t code;
  bool operator<(const GridPoint &o) const { return value < o.value; }
};

/// The sorted finite non-negative values of a float format, by brute force
/// over its codes with the format definition (not the library's decoder).
/// Codes a format never produces (subnormal codes without subnormals) are
/// left out.
inline std::vector<GridPoint> finiteGrid(const FloatFormat &f) {
  std::vector<GridPoint> values;
  uint32_t magnitudeCodes = uint32_t(1) << (f.expBits + f.manBits);
  for (uint32_t code = 0; code < magnitudeCodes; ++code) {
    uint32_t e = code >> f.manBits, m = code & ((1u << f.manBits) - 1);
    bool topExponent = e == (1u << f.expBits) - 1;
    if (f.specials == SpecialValues::IEEE && topExponent)
      continue;
    if (f.specials == SpecialValues::FN && code == magnitudeCodes - 1)
      continue;
    if (e == 0 && m != 0 && !f.subnormals)
      continue;
    double v = e == 0 ? std::ldexp(double(m), 1 - f.bias - int(f.manBits))
                      : std::ldexp(double((1u << f.manBits) | m),
                                   int(e) - f.bias - int(f.manBits));
    values.push_back({v, code});
  }
  std::sort(values.begin(), values.end());
  return values;
}

/// Rounds a finite |x| <= max onto `grid` by the definition of each mode;
/// returns the signed result. A tie goes to the point whose code is even,
/// and to the smaller one when both are (0 and the smallest normal of a
/// format without subnormals).
inline double gridRound(const std::vector<GridPoint> &grid, double x,
                        RoundingMode mode) {
  double a = std::fabs(x);
  bool negative = std::signbit(x);
  auto it = std::upper_bound(grid.begin(), grid.end(), GridPoint{a, 0});
  double lo = (it - 1)->value;
  if (lo == a || it == grid.end())
    return negative ? -lo : lo;
  double hi = it->value;
  bool loIsEven = (it - 1)->code % 2 == 0 || it->code % 2 != 0;
  double r;
  switch (mode) {
  case RoundingMode::NearestEven:
    r = a - lo < hi - a ? lo : a - lo > hi - a ? hi : (loIsEven ? lo : hi);
    break;
  case RoundingMode::NearestAway:
    r = a - lo < hi - a ? lo : hi;
    break;
  case RoundingMode::TowardZero:
    r = lo;
    break;
  case RoundingMode::Upward:
    r = negative ? lo : hi;
    break;
  case RoundingMode::Downward:
    r = negative ? hi : lo;
    break;
  default:
    r = lo;
  }
  return negative ? -r : r;
}

/// The named formats that have an MLIR builtin type (and APFloat semantics).
inline std::vector<NamedFloatFormat> builtinNamedFormats() {
  std::vector<NamedFloatFormat> result;
  for (auto *it = namedFloatFormatsBegin(); it != namedFloatFormatsEnd(); ++it)
    if (it->isBuiltin)
      result.push_back(*it);
  return result;
}

/// Test names for parameterized tests over named formats.
inline std::string
formatParamName(const ::testing::TestParamInfo<NamedFloatFormat> &info) {
  return std::string(info.param.name);
}

} // namespace qtrain::numerics::testing

#endif // QTRAIN_UNITTESTS_NUMERICS_ORACLE_H
