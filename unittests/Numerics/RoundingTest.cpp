//===- RoundingTest.cpp - Encode/decode against independent oracles -------===//

#include "Oracle.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Rounding.h"

#include "gtest/gtest.h"

#include <cfloat>
#include <random>

using namespace qtrain::numerics;
using namespace qtrain::numerics::testing;

namespace {

/// Every f16 and every bf16 value, as f32 (exact).
const std::vector<float> &allHalfInputs() {
  static const std::vector<float> inputs = [] {
    std::vector<float> result;
    for (const llvm::fltSemantics *semantics :
         {&llvm::APFloat::IEEEhalf(), &llvm::APFloat::BFloat()})
      for (uint32_t bits = 0; bits < 0x10000; ++bits)
        result.push_back(apfloatDecode(*semantics, bits));
    return result;
  }();
  return inputs;
}

/// Edge cases of `f`: every grid point, every midpoint between neighbours and
/// the f32 values next to it, the first overflow, specials, f32 extremes.
std::vector<float> edgeInputs(const FloatFormat &f) {
  std::vector<float> result = {0.0f,
                               -0.0f,
                               INFINITY,
                               -INFINITY,
                               NAN,
                               -NAN,
                               FLT_MIN,
                               FLT_MAX,
                               FLT_TRUE_MIN,
                               1e-45f,
                               std::nextafter(FLT_MIN, 0.0f)};
  std::vector<GridPoint> grid = finiteGrid(f);
  double ulpAtMax = std::ldexp(1.0, f.maxExponent() - int(f.manBits));
  grid.push_back({grid.back().value + ulpAtMax, 0}); // first value past max
  for (size_t i = 0; i + 1 < grid.size(); ++i) {
    float lo = float(grid[i].value),
          mid = float((grid[i].value + grid[i + 1].value) / 2);
    for (float v :
         {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      result.push_back(v);
      result.push_back(-v);
    }
  }
  result.push_back(float(2 * grid.back().value));
  return result;
}

/// 1M random f32 inputs: a quarter with uniformly random bits, the rest with
/// exponents around the format's range.
std::vector<float> randomInputs(const FloatFormat &f, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<float> result;
  result.reserve(1 << 20);
  int lowExp = std::max(-149, f.minNormalExponent() - int(f.manBits) - 4);
  int highExp = std::min(127, f.maxExponent() + 2);
  std::uniform_int_distribution<int> exponent(lowExp, highExp);
  while (result.size() < (1u << 20)) {
    uint32_t bits = rng();
    if (result.size() % 4 != 0) {
      int e = exponent(rng);
      uint32_t biased = e < -126 ? 0 : uint32_t(e + 127);
      bits = (bits & 0x807FFFFFu) | (biased << 23);
      if (biased == 0) // f32 subnormal of roughly the right size
        bits = (bits & 0x80000000u) |
               ((bits & 0x7FFFFFu) >> std::min(22, -126 - e));
    }
    result.push_back(floatOf(bits));
  }
  return result;
}

/// The largest finite code of `f` with the sign of x.
uint32_t maxCode(const FloatFormat &f, bool negative) {
  return f.maxFiniteMagnitudeCode() |
         (negative ? 1u << (f.expBits + f.manBits) : 0);
}

/// Compares encode() with APFloat under both overflow rules. Saturation is
/// derived from APFloat's result: whatever became inf (or NaN from a non-NaN
/// input) must be the largest finite value instead.
void checkAgainstAPFloat(const NamedFloatFormat &named, float x,
                         RoundingMode mode) {
  const FloatFormat &f = named.format;
  const llvm::fltSemantics &semantics = *semanticsFor(named.name);
  uint32_t native = encode(f, x, mode, OverflowMode::Native);
  uint32_t saturated = encode(f, x, mode, OverflowMode::Saturate);
  bool negative = std::signbit(x);
  if (f.specials == SpecialValues::FiniteOnly && !std::isfinite(x)) {
    // APFloat has no defined result here; the spec says saturate.
    ASSERT_EQ(native, maxCode(f, negative)) << named.name << " x=" << x;
    ASSERT_EQ(saturated, maxCode(f, negative)) << named.name << " x=" << x;
    return;
  }
  uint32_t expected = apfloatEncode(semantics, x, mode);
  float expectedValue = apfloatDecode(semantics, expected);
  auto describe = [&] {
    return std::string(named.name) + " " + std::string(stringify(mode)) +
           " x=" + std::to_string(x) + " bits=" + std::to_string(bitsOf(x));
  };
  if (std::isnan(expectedValue)) {
    // NaN payloads are not propagated: the result is the canonical NaN of
    // the input's sign (FNUZ has one unsigned NaN).
    float ours = decode(f, native);
    ASSERT_TRUE(std::isnan(ours)) << describe();
    if (f.specials != SpecialValues::FNUZ)
      ASSERT_EQ(std::signbit(ours), std::signbit(expectedValue)) << describe();
  } else {
    ASSERT_EQ(native, expected) << describe();
  }
  bool overflowed = std::isinf(expectedValue) ||
                    (std::isnan(expectedValue) && !std::isnan(x));
  if (overflowed)
    ASSERT_EQ(saturated, maxCode(f, negative)) << describe();
  else if (!std::isnan(x))
    ASSERT_EQ(saturated, native) << describe();
}

class APFloatComparisonTest
    : public ::testing::TestWithParam<NamedFloatFormat> {};

std::vector<NamedFloatFormat> allNamedFormats() {
  return std::vector<NamedFloatFormat>(namedFloatFormatsBegin(),
                                       namedFloatFormatsEnd());
}

TEST_P(APFloatComparisonTest, ExhaustiveHalfInputs) {
  for (RoundingMode mode : kDeterministicModes)
    for (float x : allHalfInputs())
      checkAgainstAPFloat(GetParam(), x, mode);
}

TEST_P(APFloatComparisonTest, EdgeInputs) {
  for (RoundingMode mode : kDeterministicModes)
    for (float x : edgeInputs(GetParam().format))
      checkAgainstAPFloat(GetParam(), x, mode);
}

TEST_P(APFloatComparisonTest, MillionRandomInputs) {
  std::vector<float> inputs = randomInputs(GetParam().format, 20261122);
  for (RoundingMode mode : kDeterministicModes)
    for (float x : inputs)
      checkAgainstAPFloat(GetParam(), x, mode);
}

INSTANTIATE_TEST_SUITE_P(Numerics, APFloatComparisonTest,
                         ::testing::ValuesIn(builtinNamedFormats()),
                         formatParamName);

/// The grid oracle covers every format, including those APFloat cannot
/// express: finite inputs up to the first value past the largest finite one.
class GridOracleTest : public ::testing::TestWithParam<NamedFloatFormat> {};

void checkAgainstGrid(const FloatFormat &f, const std::vector<float> &inputs) {
  std::vector<GridPoint> grid = finiteGrid(f);
  double max = grid.back().value;
  for (RoundingMode mode : kDeterministicModes) {
    for (float x : inputs) {
      if (!std::isfinite(x) || std::fabs(x) > max)
        continue;
      double expected = gridRound(grid, x, mode);
      float ours = roundToFormat(f, x, mode, OverflowMode::Saturate);
      if (expected == 0.0 && !f.hasNegativeZero())
        expected = 0.0; // FNUZ: no -0
      ASSERT_EQ(bitsOf(ours), bitsOf(float(expected)))
          << toString(f) << " " << stringify(mode) << " x=" << x;
    }
  }
}

TEST_P(GridOracleTest, HalfAndEdgeInputs) {
  checkAgainstGrid(GetParam().format, allHalfInputs());
  checkAgainstGrid(GetParam().format, edgeInputs(GetParam().format));
}

INSTANTIATE_TEST_SUITE_P(Numerics, GridOracleTest,
                         ::testing::ValuesIn(allNamedFormats()),
                         formatParamName);

TEST(GridOracleTest, UnnamedFormats) {
  for (FloatFormat f :
       {FloatFormat{3, 2, 5, false, SpecialValues::FNUZ},
        FloatFormat{5, 2, 15, true, SpecialValues::FiniteOnly},
        FloatFormat{4, 3, 11, false, SpecialValues::FN},
        FloatFormat{2, 0, 1, true, SpecialValues::FiniteOnly}}) {
    ASSERT_FALSE(validate(f)) << toString(f);
    checkAgainstGrid(f, allHalfInputs());
    checkAgainstGrid(f, edgeInputs(f));
  }
}

TEST(RoundingTest, OverflowOfFormatsWithoutBuiltinType) {
  FloatFormat hfp8 = *lookupFloatFormat("hfp8_e4m3");
  for (OverflowMode overflow : {OverflowMode::Native, OverflowMode::Saturate}) {
    EXPECT_EQ(roundToFormat(hfp8, 31.0f, RoundingMode::NearestEven, overflow),
              30.0f);
    EXPECT_EQ(roundToFormat(hfp8, -1e9f, RoundingMode::Upward, overflow),
              -30.0f);
    EXPECT_EQ(roundToFormat(hfp8, INFINITY, RoundingMode::TowardZero, overflow),
              30.0f);
    EXPECT_EQ(roundToFormat(hfp8, -NAN, RoundingMode::NearestEven, overflow),
              -30.0f);
  }
  // No subnormals: below the smallest normal 2^-30 there is only 0.
  FloatFormat dlfloat = *lookupFloatFormat("dlfloat16");
  float minNormal = std::ldexp(1.0f, -30);
  EXPECT_EQ(roundToFormat(dlfloat, minNormal * 0.5f, RoundingMode::NearestEven,
                          OverflowMode::Saturate),
            0.0f);
  EXPECT_EQ(roundToFormat(dlfloat, minNormal * 0.51f, RoundingMode::NearestEven,
                          OverflowMode::Saturate),
            minNormal);
  EXPECT_EQ(roundToFormat(dlfloat, minNormal * 0.01f, RoundingMode::Upward,
                          OverflowMode::Saturate),
            minNormal);
}

// Vectors from PyTorch's c10 converters (seed-methods.md 4.2), which use
// non-saturating round-to-nearest-even, i.e. our native rule.
TEST(RoundingTest, C10Vectors) {
  FloatFormat e4m3 = *lookupFloatFormat("f8E4M3FN");
  FloatFormat e5m2 = *lookupFloatFormat("f8E5M2");
  auto rne = [](const FloatFormat &f, float x) {
    return encode(f, x, RoundingMode::NearestEven, OverflowMode::Native);
  };
  EXPECT_EQ(rne(e4m3, 448.0f), 0x7Eu);
  EXPECT_EQ(rne(e4m3, 456.0f), 0x7Eu);
  EXPECT_EQ(rne(e4m3, 464.0f), 0x7Eu);
  EXPECT_EQ(rne(e4m3, 464.5f), 0x7Fu);
  EXPECT_EQ(rne(e4m3, 480.0f), 0x7Fu);
  EXPECT_EQ(rne(e4m3, std::ldexp(1.0f, -9)), 0x01u);
  EXPECT_EQ(rne(e4m3, std::ldexp(1.0f, -10)), 0x00u);
  EXPECT_EQ(rne(e4m3, 0.00097657f), 0x01u);
  EXPECT_EQ(rne(e5m2, 57344.0f), 0x7Bu);
  EXPECT_EQ(rne(e5m2, 61439.0f), 0x7Bu);
  EXPECT_EQ(rne(e5m2, 61440.0f), 0x7Cu);
  EXPECT_EQ(rne(e5m2, 65536.0f), 0x7Cu);
  EXPECT_EQ(rne(e5m2, std::ldexp(1.0f, -16)), 0x01u);
  EXPECT_EQ(rne(e5m2, std::ldexp(1.0f, -17)), 0x00u);
  EXPECT_EQ(
      encode(e4m3, 1000.0f, RoundingMode::NearestEven, OverflowMode::Saturate),
      0x7Eu);
  EXPECT_EQ(encode(e4m3, -INFINITY, RoundingMode::NearestEven,
                   OverflowMode::Saturate),
            0xFEu);
}

TEST(RoundingTest, IntegerFormatsAgainstLibm) {
  for (IntFormat f : {IntFormat{8, true}, IntFormat{8, false},
                      IntFormat{4, true}, IntFormat{16, true}}) {
    for (float x : allHalfInputs()) {
      for (RoundingMode mode : kDeterministicModes) {
        double expected;
        if (std::isnan(x)) {
          expected = 0;
        } else {
          double r = mode == RoundingMode::NearestEven   ? std::nearbyint(x)
                     : mode == RoundingMode::NearestAway ? std::round(x)
                     : mode == RoundingMode::TowardZero  ? std::trunc(x)
                     : mode == RoundingMode::Upward      ? std::ceil(x)
                                                         : std::floor(x);
          expected = std::clamp(r, double(f.minValue()), double(f.maxValue()));
        }
        ASSERT_EQ(decode(f, encode(f, x, mode)), float(expected))
            << "bits " << f.bits << " " << stringify(mode) << " x=" << x;
      }
    }
  }
  EXPECT_EQ(encode(IntFormat{8, true}, -3.0f, RoundingMode::NearestEven),
            0xFDu);
}

TEST(RoundingTest, GridSubsets) {
  auto named = [](const char *name) -> Format {
    return *lookupFloatFormat(name);
  };
  const OverflowMode native = OverflowMode::Native;
  EXPECT_TRUE(isGridSubset(named("f8E4M3FN"), named("f16"), native));
  EXPECT_TRUE(isGridSubset(named("f8E5M2"), named("f16"), native));
  EXPECT_TRUE(isGridSubset(named("f8E5M2"), named("bf16"), native));
  // Saturation would turn E5M2's infinities into bf16's largest value.
  EXPECT_FALSE(
      isGridSubset(named("f8E5M2"), named("bf16"), OverflowMode::Saturate));
  EXPECT_FALSE(isGridSubset(named("f8E5M2"), named("f8E4M3FN"), native));
  EXPECT_FALSE(isGridSubset(named("f16"), named("bf16"), native));
  // FNUZ's smallest subnormal 2^-10 is below E4M3FN's 2^-9.
  EXPECT_FALSE(isGridSubset(named("f8E4M3FNUZ"), named("f8E4M3FN"), native));
  // E4M3FN has -0 and FNUZ has none.
  EXPECT_FALSE(isGridSubset(named("f8E4M3FN"), named("f8E4M3FNUZ"), native));
  EXPECT_TRUE(isGridSubset(IntFormat{4, true}, IntFormat{8, true}, native));
  EXPECT_FALSE(isGridSubset(IntFormat{8, true}, IntFormat{8, false}, native));
  EXPECT_FALSE(isGridSubset(IntFormat{8, true}, named("f8E4M3FN"), native));
  EXPECT_TRUE(isGridSubset(IntFormat{8, true}, named("f16"), native));
}

TEST(RoundingTest, CanonicalEncodings) {
  EXPECT_TRUE(hasCanonicalEncodings(*lookupFloatFormat("f8E4M3FN")));
  EXPECT_TRUE(hasCanonicalEncodings(*lookupFloatFormat("f8E4M3FNUZ")));
  EXPECT_TRUE(hasCanonicalEncodings(*lookupFloatFormat("f4E2M1FN")));
  EXPECT_FALSE(hasCanonicalEncodings(*lookupFloatFormat("f8E5M2"))); // NaNs
  EXPECT_FALSE(hasCanonicalEncodings(*lookupFloatFormat("dlfloat16")));
  EXPECT_TRUE(hasCanonicalEncodings(IntFormat{8, true}));
}

} // namespace
