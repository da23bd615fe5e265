//===- StochasticTest.cpp - Philox and stochastic rounding ----------------===//

#include "Oracle.h"

#include "qtrain/Numerics/Philox.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "gtest/gtest.h"

#include <cmath>
#include <set>

using namespace qtrain::numerics;
using namespace qtrain::numerics::testing;

namespace {

// Known-answer vectors from Random123's kat_vectors.
TEST(PhiloxTest, KnownAnswers) {
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                       {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PhiloxTest, StochasticBitsKeying) {
  uint64_t seed = 0x0123456789abcdefull;
  PhiloxKey key = {0x89abcdef, 0x01234567};
  // Element 64c + 16w + j takes word w of block 16c + j: elements 1, 17, 33
  // and 49 share block 1; element 64 + 5 starts chunk 1 (block 16 + 5).
  PhiloxCounter block1 = philox4x32({1, 0, 7, 0}, key);
  for (unsigned w = 0; w < 4; ++w)
    EXPECT_EQ(stochasticBits(seed, 7, 16 * w + 1), block1[w]);
  EXPECT_EQ(stochasticBits(seed, 7, 64 + 5), philox4x32({21, 0, 7, 0}, key)[0]);
  EXPECT_NE(stochasticBits(seed, 7, 0), stochasticBits(seed, 8, 0));
  EXPECT_NE(stochasticBits(seed, 7, 0), stochasticBits(seed + 1, 7, 0));
  // The high half of the block index reaches the counter.
  uint64_t index = (uint64_t(1) << 38) + 3; // block 2^36 + 3
  EXPECT_EQ(stochasticBits(seed, 7, index),
            philox4x32({3, 16, 7, 0}, key)[0]);
}

// The exact rule: away from zero iff floor(frac * 2^32) > r.
TEST(StochasticRoundingTest, ThresholdIsExact) {
  FloatFormat e4m3 = *lookupFloatFormat("f8E4M3FN");
  const RoundingMode sr = RoundingMode::Stochastic;
  const OverflowMode sat = OverflowMode::Saturate;
  // 1.0625 lies halfway between 1 and 1.125: frac * 2^32 = 2^31.
  EXPECT_EQ(roundToFormat(e4m3, 1.0625f, sr, sat, 0x7FFFFFFFu), 1.125f);
  EXPECT_EQ(roundToFormat(e4m3, 1.0625f, sr, sat, 0x80000000u), 1.0f);
  EXPECT_EQ(roundToFormat(e4m3, -1.0625f, sr, sat, 0u), -1.125f);
  // Grid points never move.
  EXPECT_EQ(roundToFormat(e4m3, 1.125f, sr, sat, 0u), 1.125f);
  IntFormat s8{8, true};
  EXPECT_EQ(decode(s8, encode(s8, 2.25f, sr, 0x3FFFFFFFu)), 3.0f);
  EXPECT_EQ(decode(s8, encode(s8, 2.25f, sr, 0x40000000u)), 2.0f);
  EXPECT_EQ(decode(s8, encode(s8, -2.25f, sr, 0u)), -3.0f);
}

/// Statistics over many elements of one value: only the two neighbours
/// appear and the mean is unbiased within 5 standard errors.
void checkUnbiased(const Format &format, float x, float lo, float hi) {
  constexpr int64_t n = 200000;
  std::vector<float> data(n, x), rounded(n);
  QuantizeOptions options;
  options.rounding = RoundingMode::Stochastic;
  options.seed = 42;
  options.stream = 3;
  roundTensor(data.data(), {n}, format, nullptr, nullptr, options,
              rounded.data());
  double sum = 0;
  for (float r : rounded) {
    ASSERT_TRUE(r == lo || r == hi)
        << toString(format) << " x=" << x << " gave " << r;
    sum += r;
  }
  double p = (double(x) - lo) / (double(hi) - lo);
  double standardError = (double(hi) - lo) * std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(sum / n, x, 5 * standardError + 1e-12)
      << toString(format) << " x=" << x;
}

TEST(StochasticRoundingTest, Unbiased) {
  Format e4m3 = *lookupFloatFormat("f8E4M3FN");
  Format e5m2 = *lookupFloatFormat("f8E5M2");
  checkUnbiased(e4m3, 1.1f, 1.0f, 1.125f);
  checkUnbiased(e4m3, -300.0f, -320.0f, -288.0f);
  checkUnbiased(e4m3, 0.003f, 0.001953125f, 0.00390625f); // subnormals
  checkUnbiased(e5m2, 1e-5f, 0.0f, std::ldexp(1.0f, -16));
  checkUnbiased(IntFormat{8, true}, -7.3f, -8.0f, -7.0f);
  checkUnbiased(*lookupFloatFormat("bf16"), 1.001f, 1.0f, 1.0078125f);
}

TEST(StochasticRoundingTest, ReproducibleAndSeedDependent) {
  constexpr int64_t n = 4096;
  std::vector<float> data(n);
  for (int64_t i = 0; i < n; ++i)
    data[i] = std::sin(float(i)) * 3.0f;
  Format e5m2 = *lookupFloatFormat("f8E5M2");
  QuantizeOptions options;
  options.rounding = RoundingMode::Stochastic;
  options.seed = 1234;
  std::vector<uint32_t> a(n), b(n), c(n), d(n);
  quantize(data.data(), {n}, e5m2, nullptr, nullptr, options, a.data());
  quantize(data.data(), {n}, e5m2, nullptr, nullptr, options, b.data());
  EXPECT_EQ(a, b);
  options.seed = 1235;
  quantize(data.data(), {n}, e5m2, nullptr, nullptr, options, c.data());
  EXPECT_NE(a, c);
  options.seed = 1234;
  options.stream = 1;
  quantize(data.data(), {n}, e5m2, nullptr, nullptr, options, d.data());
  EXPECT_NE(a, d);
}

} // namespace
