//===- AutodiffQuantizedTest.cpp - Straight-through gradients, executed --===//
//
// The gradient of a quantized graph is the gradient of its dequantized graph
// under the straight-through rule, with the gradients rounded as the
// quantizers' backward specs say. Each model is differentiated, compiled and
// run, and its gradients compared with sums written out in C++ over values
// the numerics library rounds.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

#include "qtrain/Numerics/Quantization.h"

using namespace mlir;
using namespace ::qtrain::testing;

namespace {

namespace num = ::qtrain::numerics;

/// `data` rounded onto int8 with absmax scales of `granularity`, by the
/// numerics library: the oracle of the straight-through tests.
std::vector<float>
fakeQuantizeInt8(const float *data, const num::Shape &shape,
                 num::Granularity granularity = num::Granularity::perTensor()) {
  num::Format int8 = num::IntFormat{8, true};
  num::Scales s = num::computeScales(data, shape, int8,
                                     num::ScaleMethod::AbsMax, granularity);
  num::QuantizeOptions options;
  options.granularity = granularity;
  std::vector<float> result(num::numElements(shape));
  num::roundTensor(data, shape, int8, s.scale.data(), nullptr, options,
                   result.data());
  return result;
}

/// The gradient of a quantized graph is the gradient of its dequantized
/// graph under the straight-through rule, with each gradient rounded as its
/// quantizer's backward specs say: here a bifurcation, bf16 for the
/// activation gradient and E5M2 for the weight gradient. The oracle is the
/// numerics library.
TEST(AutodiffQuantized, QuantizedMatmulIsStraightThroughWithBackwardRounding) {
  const int64_t M = 4, K = 8, N = 3;
  CompiledModel<float> model = compile<float>(R"mlir(
func.func @qlinear(%x: tensor<4x8xf32> {qtrain.role = #qtrain<role parameter>},
                   %w: tensor<8x3xf32> {qtrain.role = #qtrain<role parameter>},
                   %r: tensor<4x3xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %qx = qtrain.quantizer %x forward <int<8, signed>, nearest_even, scaling <absmax>> : tensor<4x8xf32>
  %qw = qtrain.quantizer %w forward <int<8, signed>, nearest_even, scaling <absmax, per_channel, axis = 1>> : tensor<8x3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.matmul ins(%qx, %qw : tensor<4x8xf32>, tensor<8x3xf32>) outs(%z : tensor<4x3xf32>) -> tensor<4x3xf32>
  %yq = qtrain.quantizer %y backward <float<bf16>, nearest_even> weight_backward <float<f8E5M2>, nearest_even> : tensor<4x3xf32>
  %p = arith.mulf %yq, %r : tensor<4x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
)mlir",
                                              "qlinear");
  ASSERT_TRUE(model.forward && model.gradient);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> args(M * K + K * N + M * N);
  for (float &a : args)
    a = normal(rng);
  const float *x = args.data(), *w = x + M * K, *r = w + K * N;

  auto roundTo = [&](const char *name) {
    std::vector<float> result(M * N);
    num::roundTensor(r, {M, N}, *num::lookupFloatFormat(name), nullptr, nullptr,
                     {}, result.data());
    return result;
  };
  std::vector<float> qx =
      fakeQuantizeInt8(x, {M, K}, num::Granularity::perTensor());
  std::vector<float> qw =
      fakeQuantizeInt8(w, {K, N}, num::Granularity::perChannel(1));
  std::vector<float> gyActivation = roundTo("bf16"),
                     gyWeight = roundTo("f8E5M2");

  std::vector<float> out = model.lossAndGradients(args);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      double expected = 0;
      for (int64_t n = 0; n < N; ++n)
        expected += double(gyActivation[m * N + n]) * qw[k * N + n];
      EXPECT_NEAR(out[1 + m * K + k], expected,
                  1e-5 * (1 + std::fabs(expected)))
          << "dL/dx[" << m << ", " << k << "]";
    }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      double expected = 0;
      for (int64_t m = 0; m < M; ++m)
        expected += double(qx[m * K + k]) * gyWeight[m * N + n];
      EXPECT_NEAR(out[1 + M * K + k * N + n], expected,
                  1e-5 * (1 + std::fabs(expected)))
          << "dL/dw[" << k << ", " << n << "]";
    }
}

/// qtrain.qmatmul on the codes of two qtrain.quantize ops (the rhs stored
/// transposed, with per-channel scales): its gradients are the products of
/// the output gradient with the other dequantized operand, sent straight
/// through the quantizes.
TEST(AutodiffQuantized, QMatmulOnCodesIsStraightThrough) {
  const int64_t M = 4, K = 8, N = 3;
  CompiledModel<float> model = compile<float>(R"mlir(
func.func @codes(%x: tensor<4x8xf32> {qtrain.role = #qtrain<role parameter>},
                 %w: tensor<3x8xf32> {qtrain.role = #qtrain<role parameter>},
                 %r: tensor<4x3xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %sx = qtrain.compute_scale %x for int<8, signed> using <absmax> : tensor<4x8xf32> -> tensor<f32>
  %qx = qtrain.quantize %x to int<8, signed> scale(%sx : tensor<f32>) : tensor<4x8xf32> -> tensor<4x8xi8>
  %sw = qtrain.compute_scale %w for int<8, signed> using <absmax, per_channel, axis = 0> : tensor<3x8xf32> -> tensor<3xf32>
  %qw = qtrain.quantize %w to int<8, signed> scale(%sw : tensor<3xf32>) granularity <per_channel, axis = 0> : tensor<3x8xf32> -> tensor<3x8xi8>
  %y = qtrain.qmatmul %qx, %qw lhs(int<8, signed>, scale %sx : tensor<f32>)
                               rhs(int<8, signed> transposed, scale %sw : tensor<3xf32> granularity <per_channel, axis = 0>)
                               accumulate i32 : tensor<4x8xi8>, tensor<3x8xi8> -> tensor<4x3xf32>
  %p = arith.mulf %y, %r : tensor<4x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
)mlir",
                                              "codes");
  ASSERT_TRUE(model.forward && model.gradient);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> args(M * K + N * K + M * N);
  for (float &a : args)
    a = normal(rng);
  const float *x = args.data(), *w = x + M * K, *r = w + N * K;
  std::vector<float> qx =
      fakeQuantizeInt8(x, {M, K}, num::Granularity::perTensor());
  std::vector<float> qw =
      fakeQuantizeInt8(w, {N, K}, num::Granularity::perChannel(0));

  std::vector<float> out = model.lossAndGradients(args);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      double expected = 0;
      for (int64_t n = 0; n < N; ++n)
        expected += double(r[m * N + n]) * qw[n * K + k];
      EXPECT_NEAR(out[1 + m * K + k], expected,
                  1e-5 * (1 + std::fabs(expected)))
          << "dL/dx[" << m << ", " << k << "]";
    }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      double expected = 0;
      for (int64_t m = 0; m < M; ++m)
        expected += double(qx[m * K + k]) * r[m * N + n];
      EXPECT_NEAR(out[1 + M * K + n * K + k], expected,
                  1e-5 * (1 + std::fabs(expected)))
          << "dL/dw[" << n << ", " << k << "]";
    }
}

/// qtrain.qconv2d on quantized codes, with strides `S`, dilations `D` and
/// the filter stored as `fchw` or, `transposed`, as `cfhw`: the input and
/// filter gradients are the convolution gradients of the dequantized
/// operands, written out here as sums over the output.
void checkQConv2D(int64_t S, int64_t D, bool transposed) {
  const int64_t C = 2, H = 7, F = 3, KS = 3;
  const int64_t OH = (H - D * (KS - 1) - 1) / S + 1;
  std::string x = "tensor<1x2x7x7xf32>", xq = "tensor<1x2x7x7xi8>";
  std::string w = transposed ? "tensor<2x3x3x3xf32>" : "tensor<3x2x3x3xf32>";
  std::string wq = transposed ? "tensor<2x3x3x3xi8>" : "tensor<3x2x3x3xi8>";
  std::string y =
      "tensor<1x3x" + std::to_string(OH) + "x" + std::to_string(OH) + "xf32>";
  std::string source = R"mlir(
func.func @qconv(%x: ${X} {qtrain.role = #qtrain<role parameter>},
                 %w: ${W} {qtrain.role = #qtrain<role parameter>},
                 %r: ${Y} {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %sx = qtrain.compute_scale %x for int<8, signed> using <absmax> : ${X} -> tensor<f32>
  %qx = qtrain.quantize %x to int<8, signed> scale(%sx : tensor<f32>) : ${X} -> ${XQ}
  %sw = qtrain.compute_scale %w for int<8, signed> using <absmax> : ${W} -> tensor<f32>
  %qw = qtrain.quantize %w to int<8, signed> scale(%sw : tensor<f32>) : ${W} -> ${WQ}
  %y = qtrain.qconv2d %qx, %qw input(int<8, signed>, scale %sx : tensor<f32>)
                               filter(int<8, signed> ${TRANSPOSED}, scale %sw : tensor<f32>)
                               accumulate i32 strides [${S}, ${S}] dilations [${D}, ${D}]
                               : ${XQ}, ${WQ} -> ${Y}
  %p = arith.mulf %y, %r : ${Y}
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : ${Y}) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
)mlir";
  for (auto [key, value] : {std::pair<std::string, std::string>{
                                "TRANSPOSED", transposed ? "transposed" : ""},
                            {"XQ", xq},
                            {"WQ", wq},
                            {"X", x},
                            {"W", w},
                            {"Y", y},
                            {"S", std::to_string(S)},
                            {"D", std::to_string(D)}}) {
    std::string token = "${" + key + "}";
    for (size_t at; (at = source.find(token)) != std::string::npos;)
      source.replace(at, token.size(), value);
  }
  CompiledModel<float> model = compile<float>(source, "qconv");
  ASSERT_TRUE(model.forward && model.gradient);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> args(C * H * H + F * C * KS * KS + F * OH * OH);
  for (float &a : args)
    a = normal(rng);
  const float *xs = args.data(), *ws = xs + C * H * H,
              *r = ws + F * C * KS * KS;
  std::vector<float> qx = fakeQuantizeInt8(xs, {1, C, H, H});
  std::vector<float> qw = fakeQuantizeInt8(ws, {F, C, KS, KS});
  std::vector<double> dx(C * H * H, 0.0), dw(F * C * KS * KS, 0.0);
  for (int64_t f = 0; f < F; ++f)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OH; ++ow)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t kh = 0; kh < KS; ++kh)
            for (int64_t kw = 0; kw < KS; ++kw) {
              double g = r[(f * OH + oh) * OH + ow];
              int64_t xi = (c * H + oh * S + kh * D) * H + ow * S + kw * D;
              int64_t wi =
                  ((transposed ? c * F + f : f * C + c) * KS + kh) * KS + kw;
              dx[xi] += g * qw[wi];
              dw[wi] += g * qx[xi];
            }
  std::vector<float> out = model.lossAndGradients(args);
  for (size_t i = 0; i < dx.size(); ++i)
    EXPECT_NEAR(out[1 + i], dx[i], 1e-5 * (1 + std::fabs(dx[i])))
        << "dL/dx element " << i;
  for (size_t i = 0; i < dw.size(); ++i)
    EXPECT_NEAR(out[1 + dx.size() + i], dw[i], 1e-5 * (1 + std::fabs(dw[i])))
        << "dL/dw element " << i;
}

TEST(AutodiffQuantized, QConv2DOnCodesIsStraightThrough) {
  checkQConv2D(/*S=*/2, /*D=*/1, /*transposed=*/false);
}

TEST(AutodiffQuantized, QConv2DDilatedWithTransposedFilter) {
  checkQConv2D(/*S=*/1, /*D=*/2, /*transposed=*/true);
  checkQConv2D(/*S=*/2, /*D=*/2, /*transposed=*/false);
}

} // namespace
