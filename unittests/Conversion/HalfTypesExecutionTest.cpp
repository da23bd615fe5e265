//===- HalfTypesExecutionTest.cpp - Rounding f16/bf16 tensors -------------===//
//
// qtrain ops on f16 and bf16 tensors widen elements with the numerics
// decoder and narrow results with its encoder (never arith.extf/truncf). On
// every f16 and every bf16 value: round to a format the element type holds
// (exact), and a scaled round whose f32 result is narrowed with
// round-to-nearest-even, against the library and LLVM's APFloat.
//
//===----------------------------------------------------------------------===//

#include "KernelWriter.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "llvm/ADT/APFloat.h"
#include "gtest/gtest.h"

#include <cstring>

using namespace qtrain::numerics;
using namespace qtrain::testing;

namespace {

struct HalfCase {
  std::string type;
  const llvm::fltSemantics *semantics;
};

class HalfTypesExecutionTest : public ::testing::TestWithParam<HalfCase> {};

float widen(const llvm::fltSemantics &semantics, uint16_t bits) {
  llvm::APFloat value(semantics, llvm::APInt(16, bits));
  bool losesInfo;
  value.convert(llvm::APFloat::IEEEsingle(),
                llvm::RoundingMode::NearestTiesToEven, &losesInfo);
  return value.convertToFloat();
}

uint16_t narrow(const llvm::fltSemantics &semantics, float x) {
  llvm::APFloat value(x);
  bool losesInfo;
  value.convert(semantics, llvm::RoundingMode::NearestTiesToEven, &losesInfo);
  return uint16_t(value.bitcastToAPInt().getZExtValue());
}

TEST_P(HalfTypesExecutionTest, RoundAndScaledRound) {
  const HalfCase &c = GetParam();
  const int64_t n = 1 << 16;
  std::string data = "tensor<" + std::to_string(n) + "x" + c.type + ">";
  // Buffers of 16-bit patterns are passed as memrefs of the element type.
  KernelWriter k("kernel");
  std::string input = k.arg("x", {n}, c.type);
  k.line("%r = qtrain.round " + input + " to float<f8E4M3FN> : " + data);
  k.line("%s = arith.constant dense<0.375> : tensor<f32>");
  k.line("%q = qtrain.round " + input +
         " to int<8, signed> scale(%s : tensor<f32>) : " + data);
  k.output("rounded", "%r", {n}, c.type);
  k.output("scaled", "%q", {n}, c.type);
  std::string error;
  auto jit = JitModule::compile(k.str(), error);
  ASSERT_TRUE(jit) << error << "\n" << k.str();

  std::vector<uint16_t> x(n), rounded(n), scaled(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = uint16_t(i);
  auto xm = memref1D(x), rm = memref1D(rounded), sm = memref1D(scaled);
  using Ref = StridedMemRefType<uint16_t, 1> *;
  auto kernel = jit->lookup<void (*)(Ref, Ref, Ref)>("kernel");
  ASSERT_TRUE(kernel);
  kernel(&xm, &rm, &sm);

  Format e4m3 = *lookupFloatFormat("f8E4M3FN");
  Format int8 = IntFormat{8, true};
  for (int64_t i = 0; i < n; ++i) {
    float value = widen(*c.semantics, x[i]);
    float expectedRound = roundToFormat(e4m3, value, RoundingMode::NearestEven,
                                        OverflowMode::Saturate);
    uint16_t expected = narrow(*c.semantics, expectedRound);
    if (std::isnan(expectedRound))
      ASSERT_TRUE(std::isnan(widen(*c.semantics, rounded[i]))) << c.type;
    else
      ASSERT_EQ(rounded[i], expected)
          << c.type << " round of 0x" << std::hex << x[i];
    float expectedScaled = dequantizeValue(
        int8,
        quantizeValue(int8, value, 0.375f, 0.0f, RoundingMode::NearestEven,
                      OverflowMode::Saturate, 0),
        0.375f, 0.0f);
    ASSERT_EQ(scaled[i], narrow(*c.semantics, expectedScaled))
        << c.type << " scaled round of 0x" << std::hex << x[i];
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lowering, HalfTypesExecutionTest,
    ::testing::Values(HalfCase{"f16", &llvm::APFloat::IEEEhalf()},
                      HalfCase{"bf16", &llvm::APFloat::BFloat()}),
    [](const ::testing::TestParamInfo<HalfCase> &info) {
      return info.param.type;
    });

} // namespace
