//===- ScaledExecutionTest.cpp - Compiled scales and scaled quantization --===//
//
// compute_scale followed by a scaled, stochastically rounded quantize, for
// every scaling method and granularity: the compiled scales, zero points and
// codes must equal the numerics library's bit for bit.
//
//===----------------------------------------------------------------------===//

#include "KernelWriter.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Quantization.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace qtrain::numerics;
using namespace qtrain::testing;

namespace {

struct ScaledCase {
  std::string name;
  std::string formatSyntax, storage;
  Format format;
  std::string scalingSyntax; // the body of #qtrain.scaling<...>
  ScaleMethod method;
  Granularity granularity;
  std::string granularitySyntax; // empty for per tensor
  bool injectNaN = false;
  /// The data shape; an innermost extent that is a multiple of 64 takes the
  /// chunked stochastic-rounding layout.
  Shape shape = {6, 8, 16};
};

std::vector<ScaledCase> cases() {
  Format s8 = IntFormat{8, true}, u8 = IntFormat{8, false},
         s4 = IntFormat{4, true};
  Format e4m3 = *lookupFloatFormat("f8E4M3FN");
  Format hfp8 = *lookupFloatFormat("hfp8_e4m3");
  return {
      {"absmax_int8_tensor", "int<8, signed>", "i8", s8, "absmax",
       ScaleMethod::AbsMax, Granularity::perTensor(), ""},
      {"absmax_int8_channel1", "int<8, signed>", "i8", s8,
       "absmax, per_channel, axis = 1", ScaleMethod::AbsMax,
       Granularity::perChannel(1), "<per_channel, axis = 1>"},
      {"absmax_e4m3_channel0", "float<f8E4M3FN>", "f8E4M3FN", e4m3,
       "absmax, per_channel, axis = 0", ScaleMethod::AbsMax,
       Granularity::perChannel(0), "<per_channel, axis = 0>"},
      {"absmax_hfp8_block2", "float<hfp8_e4m3>", "i8", hfp8,
       "absmax, per_block, axis = 2, size = 4", ScaleMethod::AbsMax,
       Granularity::perBlock(2, 4), "<per_block, axis = 2, size = 4>"},
      {"absmax_e4m3_nan", "float<f8E4M3FN>", "f8E4M3FN", e4m3,
       "absmax, per_channel, axis = 0", ScaleMethod::AbsMax,
       Granularity::perChannel(0), "<per_channel, axis = 0>", true},
      {"minmax_uint8_tensor", "int<8, unsigned>", "i8", u8, "minmax",
       ScaleMethod::MinMax, Granularity::perTensor(), ""},
      {"minmax_uint8_channel2", "int<8, unsigned>", "i8", u8,
       "minmax, per_channel, axis = 2", ScaleMethod::MinMax,
       Granularity::perChannel(2), "<per_channel, axis = 2>"},
      {"minmax_int4_block0", "int<4, signed>", "i4", s4,
       "minmax, per_block, axis = 0, size = 3", ScaleMethod::MinMax,
       Granularity::perBlock(0, 3), "<per_block, axis = 0, size = 3>"},
      {"batch_minmax_uint8", "int<8, unsigned>", "i8", u8, "batch_minmax",
       ScaleMethod::BatchMinMax, Granularity::perTensor(), ""},
      {"pow2_int8_channel1", "int<8, signed>", "i8", s8,
       "pow2, per_channel, axis = 1, exponent = -5", ScaleMethod::PowerOfTwo,
       Granularity::perChannel(1), "<per_channel, axis = 1>"},
      {"chunked_absmax_int8_tensor",
       "int<8, signed>",
       "i8",
       s8,
       "absmax",
       ScaleMethod::AbsMax,
       Granularity::perTensor(),
       "",
       false,
       {3, 2, 128}},
      {"chunked_absmax_e4m3_channel1",
       "float<f8E4M3FN>",
       "f8E4M3FN",
       e4m3,
       "absmax, per_channel, axis = 1",
       ScaleMethod::AbsMax,
       Granularity::perChannel(1),
       "<per_channel, axis = 1>",
       false,
       {3, 2, 192}},
      {"chunked_minmax_uint8_channel0",
       "int<8, unsigned>",
       "i8",
       u8,
       "minmax, per_channel, axis = 0",
       ScaleMethod::MinMax,
       Granularity::perChannel(0),
       "<per_channel, axis = 0>",
       false,
       {2, 64}},
  };
}

class ScaledExecutionTest : public ::testing::TestWithParam<ScaledCase> {};

// Arguments in declaration order: x, seed, then the outputs.
using KernelFn = void (*)(StridedMemRefType<float, 1> *, int64_t,
                          StridedMemRefType<float, 1> *,
                          StridedMemRefType<float, 1> *,
                          StridedMemRefType<int32_t, 1> *);

TEST_P(ScaledExecutionTest, ScalesAndCodesMatchLibrary) {
  const ScaledCase &c = GetParam();
  Shape scaleShape;
  ASSERT_FALSE(getScaleShape(c.shape, c.granularity, scaleShape));
  bool affine = isAffine(c.method);

  KernelWriter k("kernel");
  std::string x = k.arg("x", c.shape, "f32");
  std::string scaleType = KernelWriter::tensorType(scaleShape, "f32");
  std::string dataType = KernelWriter::tensorType(c.shape, "f32");
  if (affine)
    k.line("%s, %z = qtrain.compute_scale " + x + " for " + c.formatSyntax +
           " using <" + c.scalingSyntax + "> : " + dataType + " -> " +
           scaleType + ", " + scaleType);
  else
    k.line("%s = qtrain.compute_scale " + x + " for " + c.formatSyntax +
           " using <" + c.scalingSyntax + "> : " + dataType + " -> " +
           scaleType);
  if (!affine)
    k.line("%z = arith.constant dense<0.0> : " + scaleType);
  std::string seed = k.scalar("seed", "i64");
  std::string granularity =
      c.granularitySyntax.empty() ? "" : " granularity " + c.granularitySyntax;
  std::string zeroPoint =
      affine ? " zero_point(%z : " + scaleType + ")" : std::string();
  std::string codesType = KernelWriter::tensorType(c.shape, c.storage);
  k.line("%q = qtrain.quantize " + x + " to " + c.formatSyntax +
         " scale(%s : " + scaleType + ")" + zeroPoint + granularity +
         " rounding stochastic seed(" + seed +
         ") {stream = 9 : i32} : " + dataType + " -> " + codesType);
  // Codes to i32.
  unsigned width = c.format.bitWidth();
  k.line("%e = tensor.empty() : " + KernelWriter::tensorType(c.shape, "i32"));
  std::string dims, parallel;
  for (size_t i = 0; i < c.shape.size(); ++i) {
    dims += (i ? ", d" : "d") + std::to_string(i);
    parallel += std::string(i ? ", " : "") + "\"parallel\"";
  }
  std::string id = "affine_map<(" + dims + ") -> (" + dims + ")>";
  k.line("%w = linalg.generic {indexing_maps = [" + id + ", " + id +
         "], iterator_types = [" + parallel + "]} ins(%q : " + codesType +
         ") outs(%e : " + KernelWriter::tensorType(c.shape, "i32") + ") {");
  k.line("^bb0(%in: " + c.storage + ", %out: i32):");
  std::string bits = "%in";
  if (c.storage[0] != 'i') {
    k.line("  %b = arith.bitcast %in : " + c.storage + " to i" +
           std::to_string(width));
    bits = "%b";
  }
  k.line("  %u = arith.extui " + bits + " : i" + std::to_string(width) +
         " to i32");
  k.line("  linalg.yield %u : i32");
  k.line("} -> " + KernelWriter::tensorType(c.shape, "i32"));
  k.output("scale", "%s", scaleShape, "f32");
  k.output("zp", "%z", scaleShape, "f32");
  k.output("codes", "%w", c.shape, "i32");
  std::string source = k.str();

  std::string error;
  auto jit = JitModule::compile(source, error);
  ASSERT_TRUE(jit) << error << "\n" << source;
  auto kernel = jit->lookup<KernelFn>("kernel");
  ASSERT_TRUE(kernel);

  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.5f, 2.0f);
  std::vector<float> data(numElements(c.shape));
  for (float &v : data)
    v = normal(rng);
  if (c.injectNaN)
    data[200] = NAN; // channel 1 of axis 0

  int64_t numScales = std::max<int64_t>(1, numElements(scaleShape));
  std::vector<float> scale(numScales), zp(numScales);
  std::vector<int32_t> codes(data.size());
  auto dm = memref1D(data), sm = memref1D(scale), zm = memref1D(zp);
  auto cm = memref1D(codes);
  const int64_t seedValue = 77;
  kernel(&dm, seedValue, &sm, &zm, &cm);

  Scales expected = computeScales(data.data(), c.shape, c.format, c.method,
                                  c.granularity, -5);
  auto same = [](float a, float b) {
    uint32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return x == y || (std::isnan(a) && std::isnan(b));
  };
  for (int64_t i = 0; i < numScales; ++i) {
    ASSERT_TRUE(same(scale[i], expected.scale[i]))
        << c.name << " scale " << i << ": " << scale[i] << " vs "
        << expected.scale[i];
    if (affine)
      ASSERT_TRUE(same(zp[i], expected.zeroPoint[i]))
          << c.name << " zero point " << i;
  }
  QuantizeOptions options;
  options.rounding = RoundingMode::Stochastic;
  options.seed = seedValue;
  options.stream = 9;
  options.granularity = c.granularity;
  std::vector<uint32_t> expectedCodes(data.size());
  quantize(data.data(), c.shape, c.format, expected.scale.data(),
           affine ? expected.zeroPoint.data() : nullptr, options,
           expectedCodes.data());
  for (size_t i = 0; i < data.size(); ++i)
    ASSERT_EQ(uint32_t(codes[i]), expectedCodes[i])
        << c.name << " element " << i << " x=" << data[i];
}

INSTANTIATE_TEST_SUITE_P(Lowering, ScaledExecutionTest,
                         ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ScaledCase> &info) {
                           return info.param.name;
                         });

} // namespace
