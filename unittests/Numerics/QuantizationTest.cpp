//===- QuantizationTest.cpp - Scales and scaled quantization --------------===//

#include "Oracle.h"

#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace qtrain::numerics;
using namespace qtrain::numerics::testing;

namespace {

const Format kInt8 = IntFormat{8, true};
const Format kUInt8 = IntFormat{8, false};

TEST(ScaleShapeTest, Granularities) {
  Shape scaleShape;
  EXPECT_FALSE(getScaleShape({4, 6}, Granularity::perTensor(), scaleShape));
  EXPECT_EQ(scaleShape, Shape{});
  EXPECT_FALSE(getScaleShape({4, 6}, Granularity::perChannel(1), scaleShape));
  EXPECT_EQ(scaleShape, Shape{6});
  EXPECT_FALSE(getScaleShape({4, 6}, Granularity::perBlock(1, 3), scaleShape));
  EXPECT_EQ(scaleShape, (Shape{4, 2}));
  EXPECT_TRUE(getScaleShape({4, 6}, Granularity::perBlock(1, 4), scaleShape));
  EXPECT_TRUE(getScaleShape({4, 6}, Granularity::perChannel(2), scaleShape));
}

TEST(ComputeScalesTest, AbsMaxPerTensorAndChannel) {
  std::vector<float> data = {1, -2, 3, -4, 0, 0.5f};
  Scales s = computeScales(data.data(), {2, 3}, kInt8, ScaleMethod::AbsMax,
                           Granularity::perTensor());
  ASSERT_EQ(s.scale.size(), 1u);
  EXPECT_EQ(s.scale[0], 4.0f / 127.0f);
  EXPECT_TRUE(s.zeroPoint.empty());

  s = computeScales(data.data(), {2, 3}, *lookupFloatFormat("f8E4M3FN"),
                    ScaleMethod::AbsMax, Granularity::perChannel(0));
  EXPECT_EQ(s.scale, (std::vector<float>{3.0f / 448.0f, 4.0f / 448.0f}));

  s = computeScales(data.data(), {2, 3}, kInt8, ScaleMethod::AbsMax,
                    Granularity::perChannel(1));
  EXPECT_EQ(s.scale, (std::vector<float>{4.0f / 127, 2.0f / 127, 3.0f / 127}));
}

TEST(ComputeScalesTest, AbsMaxEdgeCases) {
  std::vector<float> zeros(4, 0.0f);
  Scales s = computeScales(zeros.data(), {4}, kInt8, ScaleMethod::AbsMax,
                           Granularity::perTensor());
  EXPECT_EQ(s.scale[0], 1.0f);
  std::vector<float> withNaN = {1, NAN, 2, 3};
  s = computeScales(withNaN.data(), {4}, kInt8, ScaleMethod::AbsMax,
                    Granularity::perTensor());
  EXPECT_TRUE(std::isnan(s.scale[0]));
}

TEST(ComputeScalesTest, PerBlock) {
  // Shape [2, 4], blocks of 2 along axis 1: scale shape [2, 2].
  std::vector<float> data = {1, -8, 2, 4, 16, 0, -32, 1};
  Scales s = computeScales(data.data(), {2, 4}, kInt8, ScaleMethod::AbsMax,
                           Granularity::perBlock(1, 2));
  EXPECT_EQ(s.scale, (std::vector<float>{8.0f / 127, 4.0f / 127, 16.0f / 127,
                                         32.0f / 127}));
  // Blocks along axis 0 of a [4, 2] tensor: scale shape [2, 2].
  s = computeScales(data.data(), {4, 2}, kInt8, ScaleMethod::AbsMax,
                    Granularity::perBlock(0, 2));
  EXPECT_EQ(s.scale, (std::vector<float>{2.0f / 127, 8.0f / 127, 32.0f / 127,
                                         1.0f / 127}));
}

TEST(ComputeScalesTest, MinMaxMapsRangeOntoCodes) {
  std::vector<float> data = {-1.0f, 0.5f, 3.0f, 2.0f};
  Scales s = computeScales(data.data(), {4}, kUInt8, ScaleMethod::MinMax,
                           Granularity::perTensor());
  EXPECT_EQ(s.scale[0], 4.0f / 255.0f);
  EXPECT_EQ(s.zeroPoint[0], 0.0f - (-1.0f) * (1.0f / (4.0f / 255.0f)));
  std::vector<uint32_t> codes(4);
  QuantizeOptions options;
  quantize(data.data(), {4}, kUInt8, s.scale.data(), s.zeroPoint.data(),
           options, codes.data());
  EXPECT_EQ(codes.front(), 0u); // min -> qmin
  EXPECT_EQ(codes[2], 255u);    // max -> qmax
  std::vector<float> back(4);
  dequantize(codes.data(), {4}, kUInt8, s.scale.data(), s.zeroPoint.data(),
             Granularity::perTensor(), back.data());
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(back[i], data[i], s.scale[0] / 2 + 1e-6f);
  // A constant tensor: scale 1, zero point puts the value on qmin.
  std::vector<float> same(3, 5.0f);
  s = computeScales(same.data(), {3}, kInt8, ScaleMethod::MinMax,
                    Granularity::perTensor());
  EXPECT_EQ(s.scale[0], 1.0f);
  EXPECT_EQ(s.zeroPoint[0], -128.0f - 5.0f);
}

TEST(ComputeScalesTest, BatchMinMaxAveragesPerSampleExtremes) {
  // Two samples: ranges [-1, 3] and [-3, 1]; means -2 and 2.
  std::vector<float> data = {-1, 0, 3, 1, -3, 0};
  Scales s = computeScales(data.data(), {2, 3}, kUInt8,
                           ScaleMethod::BatchMinMax, Granularity::perTensor());
  EXPECT_EQ(s.scale[0], 4.0f / 255.0f);
  EXPECT_EQ(s.zeroPoint[0], 0.0f - (-2.0f) * (1.0f / (4.0f / 255.0f)));
}

TEST(ComputeScalesTest, PowerOfTwo) {
  Scales s = computeScales(nullptr, {3, 3}, kInt8, ScaleMethod::PowerOfTwo,
                           Granularity::perChannel(0), -4);
  EXPECT_EQ(s.scale, (std::vector<float>(3, 0.0625f)));
}

TEST(QuantizeTest, PerChannelScalesApplyAlongTheAxis) {
  // [2, 3] with per-channel scales along axis 1.
  std::vector<float> data = {1, 2, 3, -1, -2, -3};
  std::vector<float> scale = {1.0f, 0.5f, 0.25f};
  std::vector<uint32_t> codes(6);
  QuantizeOptions options;
  options.granularity = Granularity::perChannel(1);
  quantize(data.data(), {2, 3}, kInt8, scale.data(), nullptr, options,
           codes.data());
  std::vector<int64_t> values;
  for (uint32_t c : codes)
    values.push_back(integerValue(kInt8.getInt(), c));
  EXPECT_EQ(values, (std::vector<int64_t>{1, 4, 12, -1, -4, -12}));
}

TEST(QuantizeTest, ScaledFloatFormatSaturates) {
  Format e4m3 = *lookupFloatFormat("f8E4M3FN");
  float scale = 0.5f;
  // 300 / 0.5 = 600 > 448: saturates to 448, dequantizes to 224.
  uint32_t code =
      quantizeValue(e4m3, 300.0f, scale, 0.0f, RoundingMode::NearestEven,
                    OverflowMode::Saturate, 0);
  EXPECT_EQ(code, 0x7Eu);
  EXPECT_EQ(dequantizeValue(e4m3, code, scale, 0.0f), 224.0f);
}

TEST(QuantizeTest, RoundTensorEqualsQuantizeThenDequantize) {
  std::vector<float> data = {0.1f, -0.7f, 2.5f, 100.0f};
  std::vector<float> scale = {0.05f};
  QuantizeOptions options;
  options.rounding = RoundingMode::Stochastic;
  options.seed = 9;
  std::vector<float> rounded(4), back(4);
  std::vector<uint32_t> codes(4);
  roundTensor(data.data(), {4}, kInt8, scale.data(), nullptr, options,
              rounded.data());
  quantize(data.data(), {4}, kInt8, scale.data(), nullptr, options,
           codes.data());
  dequantize(codes.data(), {4}, kInt8, scale.data(), nullptr,
             Granularity::perTensor(), back.data());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(bitsOf(rounded[i]), bitsOf(back[i]));
  EXPECT_EQ(back[3], 127 * 0.05f); // saturated
}

} // namespace
