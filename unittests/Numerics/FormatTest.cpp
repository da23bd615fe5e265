//===- FormatTest.cpp - Format definitions against APFloat ----------------===//

#include "Oracle.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Rounding.h"

#include "gtest/gtest.h"

using namespace qtrain::numerics;
using namespace qtrain::numerics::testing;

namespace {

class BuiltinFormatTest : public ::testing::TestWithParam<NamedFloatFormat> {};

// Every code decodes to APFloat's value of the same bits.
TEST_P(BuiltinFormatTest, DecodeEveryCodeLikeAPFloat) {
  const NamedFloatFormat &named = GetParam();
  const llvm::fltSemantics *semantics = semanticsFor(named.name);
  ASSERT_NE(semantics, nullptr);
  ASSERT_EQ(named.format.bitWidth(), llvm::APFloat::getSizeInBits(*semantics));
  for (uint32_t code = 0; code < (1u << named.format.bitWidth()); ++code) {
    float ours = decode(named.format, code);
    float theirs = apfloatDecode(*semantics, code);
    if (std::isnan(theirs)) {
      EXPECT_TRUE(std::isnan(ours)) << "code " << code;
      continue;
    }
    EXPECT_EQ(bitsOf(ours), bitsOf(theirs))
        << named.name << " code 0x" << std::hex << code << ": " << ours
        << " vs " << theirs;
  }
}

TEST_P(BuiltinFormatTest, LimitsLikeAPFloat) {
  const NamedFloatFormat &named = GetParam();
  const llvm::fltSemantics &semantics = *semanticsFor(named.name);
  using llvm::APFloat;
  auto toDouble = [](APFloat v) {
    bool losesInfo;
    v.convert(APFloat::IEEEdouble(), llvm::RoundingMode::NearestTiesToEven,
              &losesInfo);
    return v.convertToDouble();
  };
  EXPECT_EQ(named.format.maxFinite(), toDouble(APFloat::getLargest(semantics)));
  EXPECT_EQ(named.format.minNormal(),
            toDouble(APFloat::getSmallestNormalized(semantics)));
  EXPECT_EQ(named.format.minPositive(),
            toDouble(APFloat::getSmallest(semantics)));
  EXPECT_EQ(named.format.hasInf(), APFloat::semanticsHasInf(semantics));
  EXPECT_EQ(named.format.hasNaN(), APFloat::semanticsHasNaN(semantics));
  EXPECT_EQ(named.format.hasNegativeZero(),
            APFloat::semanticsHasSignedRepr(semantics) &&
                APFloat::semanticsHasZero(semantics) &&
                !(named.format.specials == SpecialValues::FNUZ));
  EXPECT_FALSE(validate(named.format).has_value());
}

INSTANTIATE_TEST_SUITE_P(Numerics, BuiltinFormatTest,
                         ::testing::ValuesIn(builtinNamedFormats()),
                         formatParamName);

TEST(FormatTest, NamedFormatsWithoutBuiltinType) {
  FloatFormat hfp8 = *lookupFloatFormat("hfp8_e4m3");
  EXPECT_EQ(hfp8.maxFinite(), 30.0); // 1.875 * 2^4
  EXPECT_EQ(hfp8.minNormal(), std::ldexp(1.0, -10));
  EXPECT_EQ(hfp8.minPositive(), std::ldexp(1.0, -13));
  EXPECT_FALSE(hfp8.hasNaN());
  EXPECT_TRUE(hfp8.hasNegativeZero());

  FloatFormat dlfloat = *lookupFloatFormat("dlfloat16");
  EXPECT_EQ(dlfloat.minPositive(), std::ldexp(1.0, -30));
  EXPECT_EQ(dlfloat.maxFinite(), std::ldexp(2.0 - std::ldexp(1.0, -9), 32));
  EXPECT_EQ(getFloatFormatName(dlfloat), std::string_view("dlfloat16"));
}

TEST(FormatTest, IntegerRanges) {
  IntFormat s8{8, true}, u4{4, false};
  EXPECT_EQ(s8.minValue(), -128);
  EXPECT_EQ(s8.maxValue(), 127);
  EXPECT_EQ(u4.minValue(), 0);
  EXPECT_EQ(u4.maxValue(), 15);
  EXPECT_EQ(integerValue(s8, 0xFF), -1);
  EXPECT_EQ(integerValue(u4, 0xF), 15);
}

TEST(FormatTest, ValidationRejectsUnsupportedFormats) {
  EXPECT_TRUE(validate(FloatFormat{9, 3, 255, true, SpecialValues::IEEE}));
  EXPECT_TRUE(validate(FloatFormat{5, 11, 15, true, SpecialValues::IEEE}));
  EXPECT_TRUE(validate(FloatFormat{4, 0, 7, true, SpecialValues::IEEE}));
  // Values beyond f32: 2^(254 - 120) and 2^(1 - 200 - 3).
  EXPECT_TRUE(validate(FloatFormat{8, 3, -120, true, SpecialValues::FN}));
  EXPECT_TRUE(validate(FloatFormat{8, 3, 200, true, SpecialValues::FN}));
  EXPECT_TRUE(validate(IntFormat{1, true}));
  EXPECT_TRUE(validate(IntFormat{17, false}));
  EXPECT_FALSE(validate(IntFormat{16, false}));
  EXPECT_FALSE(validate(FloatFormat{8, 7, 127, true, SpecialValues::IEEE}));
}

} // namespace
