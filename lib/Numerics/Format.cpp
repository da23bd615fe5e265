//===- Format.cpp - Low-precision numeric formats -------------------------===//

#include "qtrain/Numerics/Format.h"

#include <cmath>
#include <iterator>

namespace qtrain::numerics {

int FloatFormat::maxExponent() const {
  // IEEE reserves the all-ones exponent for inf/NaN; the other conventions
  // use it for finite values (FN only loses its all-ones mantissa to NaN).
  int topField = (1 << expBits) - 1;
  if (specials == SpecialValues::IEEE)
    --topField;
  return topField - bias;
}

uint32_t FloatFormat::maxFiniteMagnitudeCode() const {
  uint32_t allOnes = (uint32_t(1) << (expBits + manBits)) - 1;
  switch (specials) {
  case SpecialValues::IEEE:
    return allOnes - (uint32_t(1) << manBits); // exponent all-ones minus one
  case SpecialValues::FN:
    return allOnes - 1;
  case SpecialValues::FNUZ:
  case SpecialValues::FiniteOnly:
    return allOnes;
  }
  return allOnes;
}

double FloatFormat::maxFinite() const {
  uint32_t code = maxFiniteMagnitudeCode();
  double mantissa = 1.0 + double(code & ((1u << manBits) - 1)) /
                              double(uint64_t(1) << manBits);
  return std::ldexp(mantissa, maxExponent());
}

double FloatFormat::minNormal() const {
  return std::ldexp(1.0, minNormalExponent());
}

double FloatFormat::minPositive() const {
  return subnormals ? std::ldexp(1.0, minNormalExponent() - int(manBits))
                    : minNormal();
}

double Format::maxMagnitude() const {
  return isFloatFormat ? floatFormat.maxFinite() : double(intFormat.maxValue());
}

std::optional<std::string> validate(const FloatFormat &f) {
  if (f.expBits < 1 || f.expBits > 8)
    return "exponent bits must be in [1, 8], got " + std::to_string(f.expBits);
  if (f.bitWidth() > 16)
    return "formats are at most 16 bits wide, got " +
           std::to_string(f.bitWidth());
  if (f.specials == SpecialValues::IEEE && f.manBits == 0)
    return "IEEE special values need at least one mantissa bit to encode NaN";
  if (f.specials == SpecialValues::IEEE && f.expBits < 2)
    return "IEEE special values need at least two exponent bits";
  // Every value must be exactly representable in f32, the type all qtrain
  // arithmetic happens in.
  if (f.maxExponent() > 127)
    return "largest exponent " + std::to_string(f.maxExponent()) +
           " exceeds f32's 127";
  int smallest = f.minNormalExponent() - (f.subnormals ? int(f.manBits) : 0);
  if (smallest < -149)
    return "smallest value 2^" + std::to_string(smallest) +
           " is below f32's smallest subnormal 2^-149";
  return std::nullopt;
}

std::optional<std::string> validate(const IntFormat &f) {
  if (f.bits < 2 || f.bits > 16)
    return "integer formats have 2 to 16 bits, got " + std::to_string(f.bits);
  return std::nullopt;
}

namespace {
constexpr FloatFormat makeFloat(unsigned e, unsigned m, int bias,
                                SpecialValues s, bool subnormals = true) {
  return FloatFormat{e, m, bias, subnormals, s};
}
using SV = SpecialValues;
// The builtin entries mirror LLVM's fltSemantics of the same name; the unit
// tests check every code against APFloat.
const NamedFloatFormat kNamedFormats[] = {
    {"f16", makeFloat(5, 10, 15, SV::IEEE), true},
    {"bf16", makeFloat(8, 7, 127, SV::IEEE), true},
    {"f8E5M2", makeFloat(5, 2, 15, SV::IEEE), true},
    {"f8E4M3", makeFloat(4, 3, 7, SV::IEEE), true},
    {"f8E3M4", makeFloat(3, 4, 3, SV::IEEE), true},
    {"f8E4M3FN", makeFloat(4, 3, 7, SV::FN), true},
    {"f8E4M3FNUZ", makeFloat(4, 3, 8, SV::FNUZ), true},
    {"f8E5M2FNUZ", makeFloat(5, 2, 16, SV::FNUZ), true},
    {"f8E4M3B11FNUZ", makeFloat(4, 3, 11, SV::FNUZ), true},
    {"f6E2M3FN", makeFloat(2, 3, 1, SV::FiniteOnly), true},
    {"f6E3M2FN", makeFloat(3, 2, 3, SV::FiniteOnly), true},
    {"f4E2M1FN", makeFloat(2, 1, 1, SV::FiniteOnly), true},
    // HFP8 forward format (Sun et al. 2019): 1-4-3 with bias 11, all
    // exponents finite.
    {"hfp8_e4m3", makeFloat(4, 3, 11, SV::FiniteOnly), false},
    // IBM DLFloat 1-6-9: bias 31, no subnormals, all exponents finite.
    {"dlfloat16", makeFloat(6, 9, 31, SV::FiniteOnly, false), false},
};
} // namespace

const NamedFloatFormat *namedFloatFormatsBegin() {
  return std::begin(kNamedFormats);
}
const NamedFloatFormat *namedFloatFormatsEnd() {
  return std::end(kNamedFormats);
}

std::optional<FloatFormat> lookupFloatFormat(std::string_view name) {
  for (const NamedFloatFormat &named : kNamedFormats)
    if (named.name == name)
      return named.format;
  return std::nullopt;
}

std::optional<std::string_view> getFloatFormatName(const FloatFormat &f) {
  for (const NamedFloatFormat &named : kNamedFormats)
    if (named.format == f)
      return named.name;
  return std::nullopt;
}

std::string_view stringify(SpecialValues s) {
  switch (s) {
  case SpecialValues::IEEE:
    return "ieee";
  case SpecialValues::FN:
    return "fn";
  case SpecialValues::FNUZ:
    return "fnuz";
  case SpecialValues::FiniteOnly:
    return "finite_only";
  }
  return "?";
}

std::string_view stringify(RoundingMode r) {
  switch (r) {
  case RoundingMode::NearestEven:
    return "nearest_even";
  case RoundingMode::NearestAway:
    return "nearest_away";
  case RoundingMode::TowardZero:
    return "toward_zero";
  case RoundingMode::Upward:
    return "upward";
  case RoundingMode::Downward:
    return "downward";
  case RoundingMode::Stochastic:
    return "stochastic";
  }
  return "?";
}

std::string_view stringify(OverflowMode o) {
  return o == OverflowMode::Saturate ? "saturate" : "native";
}

std::string toString(const Format &f) {
  if (f.isInt())
    return std::string(f.getInt().isSigned ? "int" : "uint") +
           std::to_string(f.getInt().bits);
  const FloatFormat &ff = f.getFloat();
  if (auto name = getFloatFormatName(ff))
    return std::string(*name);
  return "e" + std::to_string(ff.expBits) + "m" + std::to_string(ff.manBits) +
         "_bias" + std::to_string(ff.bias) + "_" +
         std::string(stringify(ff.specials)) +
         (ff.subnormals ? "" : "_nosubnormals");
}

} // namespace qtrain::numerics
