//===- ContractionExecutionTest.cpp - Compiled qmatmul/qconv2d ------------===//
//
// On the CPU, and on the GPU where there is one (tensor-core kernels for
// 8-bit GEMMs), integer contractions must equal an exact integer reference
// followed by the documented f32 epilogue, bit for bit. Float contractions are
// compared with an f64 reference on the dequantized operands, within a bound
// set by the accumulator's precision (their summation order is not specified).
//
//===----------------------------------------------------------------------===//

#include "Devices.h"
#include "KernelWriter.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "llvm/Support/MathExtras.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

using namespace qtrain::numerics;
using namespace qtrain::testing;

namespace {

/// An operand: format, op syntax, storage type, shape and random codes.
struct Operand {
  std::string syntax, storage;
  Format format = IntFormat{8, true};
  Shape shape;
  std::vector<int32_t> codes;
  std::vector<float> scale, zeroPoint; // per tensor or per channel

  float value(int64_t i) const { return decode(format, uint32_t(codes[i])); }
};

Operand makeOperand(const std::string &formatName, Shape shape, unsigned seed) {
  Operand o;
  if (formatName == "s8" || formatName == "u8") {
    bool isSigned = formatName == "s8";
    o.format = IntFormat{8, isSigned};
    o.syntax = isSigned ? "int<8, signed>" : "int<8, unsigned>";
    o.storage = "i8";
  } else {
    o.format = *lookupFloatFormat(formatName);
    o.syntax = "float<" + formatName + ">";
    // Formats without a builtin type of their name (hfp8_e4m3, dlfloat16)
    // are stored in integers of their width.
    bool builtin = std::any_of(namedFloatFormatsBegin(), namedFloatFormatsEnd(),
                               [&](const NamedFloatFormat &f) {
                                 return f.name == formatName && f.isBuiltin;
                               });
    o.storage =
        builtin ? formatName : "i" + std::to_string(o.format.bitWidth());
  }
  o.shape = std::move(shape);
  std::mt19937 rng(seed);
  uint32_t numCodes = 1u << o.format.bitWidth();
  for (int64_t i = 0; i < numElements(o.shape); ++i) {
    uint32_t code;
    // Finite values up to 2^32 (bf16's reach 2^128, and sums of their
    // products would overflow f32).
    do {
      code = rng() % numCodes;
    } while (!(std::fabs(decode(o.format, code)) <= 0x1p32f));
    o.codes.push_back(int32_t(code));
  }
  return o;
}

/// Kernel lines turning i32 codes into a storage tensor.
std::string storageFromCodes(KernelWriter &k, const std::string &name,
                             const Operand &o) {
  std::string codes = k.arg(name, o.shape, "i32");
  std::string id = "#id" + std::to_string(o.shape.size());
  std::string out = "%" + name + "_s";
  std::string parallel;
  for (size_t i = 0; i < o.shape.size(); ++i)
    parallel += std::string(i ? ", " : "") + "\"parallel\"";
  std::string storageType = KernelWriter::tensorType(o.shape, o.storage);
  k.line("%" + name + "_e = tensor.empty() : " + storageType);
  k.line(out + " = linalg.generic {indexing_maps = [" + id + ", " + id +
         "], iterator_types = [" + parallel + "]} ins(" + codes + " : " +
         KernelWriter::tensorType(o.shape, "i32") + ") outs(%" + name +
         "_e : " + storageType + ") {");
  k.line("^bb0(%in: i32, %out: " + o.storage + "):");
  std::string bits = "i" + std::to_string(o.format.bitWidth());
  k.line("  %t = arith.trunci %in : i32 to " + bits);
  if (o.storage != bits) {
    k.line("  %f = arith.bitcast %t : " + bits + " to " + o.storage);
    k.line("  linalg.yield %f : " + o.storage);
  } else {
    k.line("  linalg.yield %t : " + bits);
  }
  k.line("} -> " + storageType);
  return out;
}

const char *kMaps = "#id1 = affine_map<(d0) -> (d0)>\n"
                    "#id2 = affine_map<(d0, d1) -> (d0, d1)>\n"
                    "#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>\n"
                    "#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>\n";

/// The documented f32 epilogue of an integer contraction.
float epilogue(int64_t acc, int64_t sumA, int64_t sumB, int64_t k, float sa,
               float sb, const float *za, const float *zb) {
  float y = float(acc);
  if (zb)
    y = y - *zb * float(sumA);
  if (za)
    y = y - *za * float(sumB);
  if (za && zb)
    y = y + float(k) * *za * *zb;
  return y * sa * sb;
}

uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

/// Adds output `y` (`outShape`) to the kernel, compiles it for `target` and
/// runs it on the two operands' codes, scales and zero points (those they
/// have): kernel(a, b, scaleA, scaleB, [zeroA,] [zeroB,] y). Empty on
/// failure.
std::vector<float> compileAndRun(KernelWriter &k, const Shape &outShape,
                                 Operand &a, Operand &b, const Target &target) {
  k.output("y", "%result", outShape, "f32");
  std::string source = kMaps + k.str();
  std::string error;
  auto jit = JitModule::compile(source, error, target);
  if (!jit) {
    ADD_FAILURE() << error << "\n" << source;
    return {};
  }
  std::vector<float> y(numElements(outShape));
  auto am = memref1D(a.codes), bm = memref1D(b.codes);
  auto sam = memref1D(a.scale), sbm = memref1D(b.scale);
  auto zam = memref1D(a.zeroPoint), zbm = memref1D(b.zeroPoint);
  auto ym = memref1D(y);
  using Ref = StridedMemRefType<int32_t, 1> *;
  using FRef = StridedMemRefType<float, 1> *;
  bool za = !a.zeroPoint.empty(), zb = !b.zeroPoint.empty();
  if (za && zb)
    jit->lookup<void (*)(Ref, Ref, FRef, FRef, FRef, FRef, FRef)>("kernel")(
        &am, &bm, &sam, &sbm, &zam, &zbm, &ym);
  else if (za || zb)
    jit->lookup<void (*)(Ref, Ref, FRef, FRef, FRef, FRef)>("kernel")(
        &am, &bm, &sam, &sbm, za ? &zam : &zbm, &ym);
  else
    jit->lookup<void (*)(Ref, Ref, FRef, FRef, FRef)>("kernel")(&am, &bm, &sam,
                                                                &sbm, &ym);
  expectNoGPUError(target);
  return y;
}

/// How far a float contraction's result may be from the exact sum, per
/// unit of its magnitude (the sum of the terms' absolute values): each of
/// the K additions may lose half an ulp of the f32 (bf16) accumulator. FP8
/// tensor cores accumulate in fewer bits: on Hopper the products are exact
/// but the sums keep about 13 fraction bits and are truncated (an H100
/// gave errors of 2^-14 to 2^-12.5 of the result at K = 64 and 72, where
/// the f32 bound allows 2^-18), so the GPU's FP8 x FP8 contractions are
/// held to 2^-13 per 8 terms, still far under one misplaced term's share
/// (about 1/K of the magnitude).
double sumErrorPerMagnitude(int64_t k, llvm::StringRef acc, Device device,
                            llvm::StringRef lhsFormat,
                            llvm::StringRef rhsFormat) {
  auto isFP8 = [](llvm::StringRef format) {
    return format == "f8E4M3FN" || format == "f8E5M2";
  };
  double accumulator = double(k) * std::ldexp(1.0, acc == "f32" ? -24 : -8);
  if (device == Device::cuda && isFP8(lhsFormat) && isFP8(rhsFormat))
    return std::max(accumulator,
                    double(llvm::divideCeil(k, 8)) * std::ldexp(1.0, -13));
  return accumulator;
}

struct MatmulCase {
  std::string name, lhsFormat, rhsFormat, acc;
  int64_t batch, m, k, n;
  bool transposeLhs, transposeRhs, perChannelRhs, lhsZeroPoint, rhsZeroPoint;
};

class QMatmulExecutionTest
    : public ::testing::TestWithParam<std::tuple<MatmulCase, Device>> {};

TEST_P(QMatmulExecutionTest, MatchesReference) {
  const auto &c = std::get<0>(GetParam());
  Device device = std::get<1>(GetParam());
  std::string whyNot;
  std::optional<Target> target = targetOf(device, whyNot);
  if (!target)
    GTEST_SKIP() << whyNot;
  Shape lhsShape = c.transposeLhs ? Shape{c.k, c.m} : Shape{c.m, c.k};
  Shape rhsShape = c.transposeRhs ? Shape{c.n, c.k} : Shape{c.k, c.n};
  Shape outShape = {c.m, c.n};
  if (c.batch) {
    lhsShape.insert(lhsShape.begin(), c.batch);
    rhsShape.insert(rhsShape.begin(), c.batch);
    outShape.insert(outShape.begin(), c.batch);
  }
  Operand a = makeOperand(c.lhsFormat, lhsShape, 1);
  Operand b = makeOperand(c.rhsFormat, rhsShape, 2);
  a.scale = {0.03125f};
  b.scale =
      c.perChannelRhs ? std::vector<float>(c.n) : std::vector<float>{0.5f};
  for (int64_t j = 0; j < int64_t(b.scale.size()); ++j)
    b.scale[j] = 0.25f + 0.125f * float(j);
  if (c.lhsZeroPoint)
    a.zeroPoint = {-3.5f};
  if (c.rhsZeroPoint)
    b.zeroPoint = std::vector<float>(b.scale.size(), 12.25f);

  KernelWriter k("kernel");
  std::string av = storageFromCodes(k, "a", a),
              bv = storageFromCodes(k, "b", b);
  Shape bScaleShape = c.perChannelRhs ? Shape{c.n} : Shape{};
  std::string sa = k.arg("sa", {}, "f32");
  std::string sb = k.arg("sb", bScaleShape, "f32");
  std::string lhsExtra, rhsExtra;
  if (c.lhsZeroPoint)
    lhsExtra += " zero_point " + k.arg("za", {}, "f32") + " : tensor<f32>";
  std::string sbType = KernelWriter::tensorType(bScaleShape, "f32");
  if (c.rhsZeroPoint)
    rhsExtra +=
        " zero_point " + k.arg("zb", bScaleShape, "f32") + " : " + sbType;
  unsigned nAxis = (c.batch ? 1 : 0) + (c.transposeRhs ? 0 : 1);
  if (c.perChannelRhs)
    rhsExtra +=
        " granularity <per_channel, axis = " + std::to_string(nAxis) + ">";
  k.line("%result = qtrain.qmatmul " + av + ", " + bv + " lhs(" + a.syntax +
         (c.transposeLhs ? " transposed" : "") + ", scale " + sa +
         " : tensor<f32>" + lhsExtra + ") rhs(" + b.syntax +
         (c.transposeRhs ? " transposed" : "") + ", scale " + sb + " : " +
         sbType + rhsExtra + ") accumulate " + c.acc + " : " +
         KernelWriter::tensorType(lhsShape, a.storage) + ", " +
         KernelWriter::tensorType(rhsShape, b.storage) + " -> " +
         KernelWriter::tensorType(outShape, "f32"));
  std::vector<float> y = compileAndRun(k, outShape, a, b, *target);
  ASSERT_FALSE(y.empty());

  // Both integer: exact. Otherwise (float formats, or an integer one with a
  // float one) within the f32 rounding of the sums.
  bool isInt = a.format.isInt() && b.format.isInt();
  for (int64_t bi = 0; bi < std::max<int64_t>(c.batch, 1); ++bi) {
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        auto aIndex = [&](int64_t kk) {
          return bi * c.m * c.k +
                 (c.transposeLhs ? kk * c.m + i : i * c.k + kk);
        };
        auto bIndex = [&](int64_t kk) {
          return bi * c.k * c.n +
                 (c.transposeRhs ? j * c.k + kk : kk * c.n + j);
        };
        float sbj = b.scale[c.perChannelRhs ? j : 0];
        float got = y[(bi * c.m + i) * c.n + j];
        if (isInt) {
          int64_t acc = 0, sumA = 0, sumB = 0;
          for (int64_t kk = 0; kk < c.k; ++kk) {
            int64_t x = int64_t(a.value(aIndex(kk)));
            int64_t w = int64_t(b.value(bIndex(kk)));
            acc += x * w;
            sumA += x;
            sumB += w;
          }
          float expected = epilogue(
              acc, sumA, sumB, c.k, a.scale[0], sbj,
              c.lhsZeroPoint ? &a.zeroPoint[0] : nullptr,
              c.rhsZeroPoint ? &b.zeroPoint[c.perChannelRhs ? j : 0] : nullptr);
          ASSERT_EQ(bitsOf(got), bitsOf(expected))
              << c.name << " at " << bi << "," << i << "," << j << ": " << got
              << " vs " << expected;
        } else {
          // Zero points (of an integer operand) are subtracted after the
          // sum: acc - za * sum(b) - zb * sum(a) + K za zb, each term
          // rounded in f32.
          double za = c.lhsZeroPoint ? a.zeroPoint[0] : 0;
          double zb = c.rhsZeroPoint ? b.zeroPoint[c.perChannelRhs ? j : 0] : 0;
          double ref = 0, magnitude = 0;
          for (int64_t kk = 0; kk < c.k; ++kk) {
            double x = a.value(aIndex(kk)), w = b.value(bIndex(kk));
            ref += (x - za) * (w - zb);
            magnitude += std::fabs(x * w) + std::fabs(za * w) +
                         std::fabs(zb * x) + std::fabs(za * zb);
          }
          double scale = double(a.scale[0]) * sbj;
          double bound = (sumErrorPerMagnitude(c.k, c.acc, device, c.lhsFormat,
                                               c.rhsFormat) *
                              magnitude +
                          1e-30) *
                             scale +
                         std::fabs(ref * scale) * std::ldexp(1.0, -23);
          ASSERT_NEAR(got, ref * scale, bound)
              << c.name << " at " << bi << "," << i << "," << j;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lowering, QMatmulExecutionTest,
    ::testing::Combine(
        ::testing::Values(
            MatmulCase{"s8s8", "s8", "s8", "i32", 0, 5, 33, 7, false, false,
                       false, false, false},
            MatmulCase{"u8s8_zero_points_transposed_rhs", "u8", "s8", "i32", 0,
                       6, 40, 9, false, true, true, true, true},
            MatmulCase{"s8s8_batched_transposed_lhs_i64", "s8", "s8", "i64", 3,
                       4, 17, 5, true, false, true, false, false},
            MatmulCase{"e4m3_e5m2_f32", "f8E4M3FN", "f8E5M2", "f32", 0, 8, 64,
                       6, false, false, true, false, false},
            MatmulCase{"e4m3_bf16_batched", "f8E4M3FN", "f8E4M3FN", "bf16", 2,
                       3, 16, 4, false, true, false, false, false},
            // HFP8's activation gradient (f16 tensor cores on the GPU) and
            // its 16-bit first and last layers (tf32 tensor cores).
            MatmulCase{"e5m2_hfp8_transposed_rhs", "f8E5M2", "hfp8_e4m3", "f32",
                       0, 7, 48, 9, false, true, true, false, false},
            MatmulCase{"dlfloat16_transposed_lhs", "dlfloat16", "dlfloat16",
                       "f32", 0, 5, 37, 6, true, false, false, false, false},
            // INT8 training's weight gradient: the unsigned activation
            // with its zero point times the bf16 gradient copy (bf16
            // tensor cores on the GPU).
            MatmulCase{"u8_bf16_zero_point_transposed_lhs", "u8", "bf16", "f32",
                       0, 6, 41, 5, true, false, false, true, false}),
        ::testing::Values(Device::cpu, Device::cuda)),
    [](const auto &info) {
      return std::get<0>(info.param).name + "_" +
             deviceName(std::get<1>(info.param));
    });

struct ConvCase {
  std::string name, inputFormat, filterFormat, acc;
  bool nhwc, transposedFilter, perChannelFilter, inputZeroPoint,
      filterZeroPoint;
  int64_t n, c, h, w, f, kh, kw, stride, dilation;
};

class QConv2DExecutionTest
    : public ::testing::TestWithParam<std::tuple<ConvCase, Device>> {};

TEST_P(QConv2DExecutionTest, MatchesReference) {
  const auto &c = std::get<0>(GetParam());
  Device device = std::get<1>(GetParam());
  std::string whyNot;
  std::optional<Target> target = targetOf(device, whyNot);
  if (!target)
    GTEST_SKIP() << whyNot;
  int64_t oh = (c.h - c.dilation * (c.kh - 1) - 1) / c.stride + 1;
  int64_t ow = (c.w - c.dilation * (c.kw - 1) - 1) / c.stride + 1;
  Shape inputShape =
      c.nhwc ? Shape{c.n, c.h, c.w, c.c} : Shape{c.n, c.c, c.h, c.w};
  // Stored filter dims; a transposed filter swaps its two channel dims.
  int64_t outer = c.transposedFilter ? c.c : c.f;
  int64_t inner = c.transposedFilter ? c.f : c.c;
  Shape filterShape = c.nhwc ? Shape{c.kh, c.kw, inner, outer}
                             : Shape{outer, inner, c.kh, c.kw};
  Shape outShape = c.nhwc ? Shape{c.n, oh, ow, c.f} : Shape{c.n, c.f, oh, ow};
  Operand x = makeOperand(c.inputFormat, inputShape, 5);
  Operand wt = makeOperand(c.filterFormat, filterShape, 6);
  x.scale = {0.0625f};
  wt.scale =
      c.perChannelFilter ? std::vector<float>(c.f) : std::vector<float>{0.75f};
  for (int64_t j = 0; j < int64_t(wt.scale.size()); ++j)
    wt.scale[j] = 0.5f + 0.25f * float(j);
  if (c.inputZeroPoint)
    x.zeroPoint = {100.5f};
  if (c.filterZeroPoint)
    wt.zeroPoint = std::vector<float>(wt.scale.size(), -2.0f);

  KernelWriter k("kernel");
  std::string xv = storageFromCodes(k, "x", x),
              wv = storageFromCodes(k, "w", wt);
  Shape filterScaleShape = c.perChannelFilter ? Shape{c.f} : Shape{};
  std::string filterScaleType =
      KernelWriter::tensorType(filterScaleShape, "f32");
  std::string sx = k.arg("sx", {}, "f32");
  std::string sw = k.arg("sw", filterScaleShape, "f32");
  std::string inputExtra, filterExtra;
  if (c.inputZeroPoint)
    inputExtra = " zero_point " + k.arg("zx", {}, "f32") + " : tensor<f32>";
  if (c.filterZeroPoint)
    filterExtra = " zero_point " + k.arg("zw", filterScaleShape, "f32") +
                  " : " + filterScaleType;
  // The output-channel axis of the stored filter.
  int64_t fAxis =
      c.nhwc ? (c.transposedFilter ? 2 : 3) : (c.transposedFilter ? 1 : 0);
  if (c.perChannelFilter)
    filterExtra +=
        " granularity <per_channel, axis = " + std::to_string(fAxis) + ">";
  k.line("%result = qtrain.qconv2d " + xv + ", " + wv + " input(" + x.syntax +
         ", scale " + sx + " : tensor<f32>" + inputExtra + ") filter(" +
         wt.syntax + (c.transposedFilter ? " transposed" : "") + ", scale " +
         sw + " : " + filterScaleType + filterExtra + ") accumulate " + c.acc +
         (c.nhwc ? " layout nhwc_hwcf" : "") + " strides [" +
         std::to_string(c.stride) + ", " + std::to_string(c.stride) +
         "] dilations [" + std::to_string(c.dilation) + ", " +
         std::to_string(c.dilation) +
         "] : " + KernelWriter::tensorType(inputShape, x.storage) + ", " +
         KernelWriter::tensorType(filterShape, wt.storage) + " -> " +
         KernelWriter::tensorType(outShape, "f32"));
  std::vector<float> y = compileAndRun(k, outShape, x, wt, *target);
  ASSERT_FALSE(y.empty());

  auto linear = [](const Shape &shape, std::initializer_list<int64_t> index) {
    int64_t result = 0, dim = 0;
    for (int64_t i : index)
      result = result * shape[dim++] + i;
    return result;
  };
  auto inputAt = [&](int64_t n, int64_t ch, int64_t i, int64_t j) {
    return c.nhwc ? linear(inputShape, {n, i, j, ch})
                  : linear(inputShape, {n, ch, i, j});
  };
  auto filterAt = [&](int64_t f, int64_t ch, int64_t i, int64_t j) {
    int64_t o = c.transposedFilter ? ch : f, in = c.transposedFilter ? f : ch;
    return c.nhwc ? linear(filterShape, {i, j, in, o})
                  : linear(filterShape, {o, in, i, j});
  };
  bool isInt = x.format.isInt();
  int64_t kSize = c.c * c.kh * c.kw;
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t f = 0; f < c.f; ++f)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t acc = 0, sumX = 0, sumW = 0;
          double ref = 0, magnitude = 0;
          for (int64_t ch = 0; ch < c.c; ++ch)
            for (int64_t di = 0; di < c.kh; ++di)
              for (int64_t dj = 0; dj < c.kw; ++dj) {
                float xv =
                    x.value(inputAt(n, ch, i * c.stride + di * c.dilation,
                                    j * c.stride + dj * c.dilation));
                float wv = wt.value(filterAt(f, ch, di, dj));
                acc += int64_t(xv) * int64_t(wv);
                sumX += int64_t(xv);
                sumW += int64_t(wv);
                ref += double(xv) * wv;
                magnitude += std::fabs(double(xv) * wv);
              }
          float swf = wt.scale[c.perChannelFilter ? f : 0];
          float got = y[c.nhwc ? linear(outShape, {n, i, j, f})
                               : linear(outShape, {n, f, i, j})];
          if (isInt) {
            float expected = epilogue(
                acc, sumX, sumW, kSize, x.scale[0], swf,
                c.inputZeroPoint ? &x.zeroPoint[0] : nullptr,
                c.filterZeroPoint ? &wt.zeroPoint[c.perChannelFilter ? f : 0]
                                  : nullptr);
            ASSERT_EQ(bitsOf(got), bitsOf(expected))
                << c.name << " at " << n << "," << f << "," << i << "," << j;
          } else {
            double scale = double(x.scale[0]) * swf;
            double bound = sumErrorPerMagnitude(kSize, c.acc, device,
                                                c.inputFormat, c.filterFormat) *
                               magnitude * scale +
                           std::fabs(ref * scale) * std::ldexp(1.0, -23);
            ASSERT_NEAR(got, ref * scale, bound) << c.name;
          }
        }
}

INSTANTIATE_TEST_SUITE_P(
    Lowering, QConv2DExecutionTest,
    ::testing::Combine(
        ::testing::Values(
            ConvCase{"s8_nchw_stride2_per_channel", "s8", "s8", "i32", false,
                     false, true, false, false, 2, 3, 9, 9, 4, 3, 3, 2, 1},
            ConvCase{"u8s8_nhwc_dilation2_zero_points", "u8", "s8", "i32", true,
                     false, true, true, true, 1, 5, 7, 7, 6, 2, 3, 1, 2},
            ConvCase{"e4m3_nchw_transposed_filter", "f8E4M3FN", "f8E4M3FN",
                     "f32", false, true, true, false, false, 1, 8, 6, 6, 3, 3,
                     3, 1, 1},
            ConvCase{"e5m2_nhwc_transposed_filter", "f8E5M2", "f8E4M3FN", "f32",
                     true, true, false, false, false, 2, 4, 5, 5, 3, 2, 2, 1,
                     1},
            ConvCase{"hfp8_nchw_stride2", "hfp8_e4m3", "hfp8_e4m3", "f32",
                     false, false, true, false, false, 2, 3, 7, 7, 4, 3, 3, 2,
                     1}),
        ::testing::Values(Device::cpu, Device::cuda)),
    [](const auto &info) {
      return std::get<0>(info.param).name + "_" +
             deviceName(std::get<1>(info.param));
    });

} // namespace
