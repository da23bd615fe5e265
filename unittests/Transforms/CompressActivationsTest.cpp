//===- CompressActivationsTest.cpp - Approximate activations, executed ----===//
//
// A batch-norm + ReLU unit `relu(c * i * g + b)` whose inputs are
// parameters (`c` through a copy, so that the forward half owns it), under
// qtrain-compress-activations. The loss adds `sum(c^2)/2`,
// whose gradient reads `c` in the backward half, so the gradient with
// respect to `c` exposes the decoded values: with `r = 0` it is exactly
// `c~`, and with `r = 1` it is `c~` plus the ReLU mask times `i * g`. The
// decoded values are checked against the documented window and bins, the
// recovered mask against the exact one, and the other gradients against
// the formulas evaluated on the decoded values.
//
// A post-activation residual block `r = relu(c * i * g + b + skip)` under
// the same pass, with the loss `sum(r^2)/2 + t sum(c^2)/2`: the gradient
// with respect to `c` is `m r~ i g` (t = 0) plus `c~` (t = 1), which
// exposes the decoded output r~ and mask m, checked against the output's
// codes (bin centres on [0, amax] per channel, 0 exactly where r = 0).
//
//===----------------------------------------------------------------------===//

#include "FlatModule.h"

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir;
using ::qtrain::runtime::memref1D;
using namespace ::qtrain::testing;

namespace {

constexpr int64_t N = 2, C = 3, H = 2, W = 8, kSize = N * C * H * W;

constexpr const char *kModel = R"mlir(
#full = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @unit(%param: tensor<2x3x2x8xf32> {qtrain.role = #qtrain<role parameter>},
                %i: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                %g: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                %b: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                %r: tensor<2x3x2x8xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<2x3x2x8xf32>
  // The unit's input is computed (from the parameter), as a model's
  // centered values are, so the forward half owns it.
  %c = linalg.generic {indexing_maps = [#full, #full],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%param : tensor<2x3x2x8xf32>) outs(%e : tensor<2x3x2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %y = arith.negf %n : f32
    linalg.yield %y : f32
  } -> tensor<2x3x2x8xf32>
  %a = linalg.generic {indexing_maps = [#full, #chan, #chan, #chan, #full],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %i, %g, %b : tensor<2x3x2x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      outs(%e : tensor<2x3x2x8xf32>) {
  ^bb0(%x: f32, %ii: f32, %gg: f32, %bb: f32, %o: f32):
    %t = arith.mulf %x, %ii : f32
    %u = arith.mulf %t, %gg : f32
    %v = arith.addf %u, %bb : f32
    %y = arith.maximumf %v, %c0 : f32
    linalg.yield %y : f32
  } -> tensor<2x3x2x8xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l1 = linalg.generic {indexing_maps = [#full, #full, affine_map<(n, c, h, w) -> ()>],
                        iterator_types = ["reduction", "reduction", "reduction", "reduction"]}
      ins(%a, %r : tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>) outs(%lz : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %l = linalg.reduce ins(%c : tensor<2x3x2x8xf32>) outs(%l1 : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%x: f32, %acc: f32) {
      %p = arith.mulf %x, %x : f32
      %q = arith.mulf %p, %half : f32
      %s = arith.addf %q, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
)mlir";

class CompressActivationsTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(CompressActivationsTest, DecodedValuesMaskAndGradients) {
  const int64_t bits = GetParam(), levels = int64_t(1) << bits;
  std::string error;
  auto jit = compileFlat(
      kModel,
      [&](OpPassManager &pm) {
        pm.addPass(mlir::qtrain::createAutodiffPass());
        mlir::qtrain::CompressActivationsPassOptions options;
        options.bits = bits;
        pm.addPass(mlir::qtrain::createCompressActivationsPass(options));
      },
      {"unit_grad"}, error);
  ASSERT_TRUE(jit) << error;
  auto grad = jit->lookup<FlatFn<float>>("unit_grad_flat");
  ASSERT_TRUE(grad);

  // Per channel: inverse deviations, scales (one negative) and shifts that
  // move the window (the third past 3 - D, where s = 1).
  const float inverse[C] = {0.5f, 1.0f, 2.0f}, scale[C] = {1.5f, -0.75f, 1.0f},
              shift[C] = {0.3f, 0.8f, 3.5f};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> args(2 * kSize + 3 * C);
  float *c = args.data(), *r = c + kSize + 3 * C;
  for (int64_t k = 0; k < kSize; ++k) {
    int64_t ch = (k / (H * W)) % C;
    // Standardized values x = c * i, a few of them far outside [-3, 3).
    float x = normal(rng) * (k % 7 == 0 ? 3.0f : 1.0f);
    c[k] = x / inverse[ch];
  }
  std::copy(inverse, inverse + C, c + kSize);
  std::copy(scale, scale + C, c + kSize + C);
  std::copy(shift, shift + C, c + kSize + 2 * C);

  auto run = [&](float rValue) {
    std::fill(r, r + kSize, rValue);
    std::vector<float> out(1 + kSize + 3 * C);
    auto in = memref1D(args), res = memref1D(out);
    grad(&in, &res);
    return out;
  };
  std::vector<float> plain = run(0.0f), masked = run(1.0f);

  const double bin = 6.0 / double(levels);
  double dInverse[C] = {}, dScale[C] = {}, dShift[C] = {};
  for (int64_t k = 0; k < kSize; ++k) {
    int64_t ch = (k / (H * W)) % C;
    double offset = double(shift[ch]) / scale[ch];
    double s = std::max(1.0, double(levels / 2) - std::floor(offset / bin));
    double v = double(c[k]) * inverse[ch] + offset;
    double decoded = double(plain[1 + k]);
    double vDecoded = decoded * inverse[ch] + offset;
    // The window of v is [-s D, (2^K - s) D): inside, within half a bin;
    // outside, the centre of the end bin.
    double low = -s * bin, high = (double(levels) - s) * bin;
    double expected = v < low ? low + bin / 2 : v > high ? high - bin / 2 : v;
    EXPECT_NEAR(vDecoded, expected, bin / 2 + 1e-5)
        << bits << "-bit code of element " << k << " (v = " << v << ")";
    // Away from bin edges, where f32 rounding may pick either side.
    bool nearEdge = std::fabs(v / bin - std::round(v / bin)) < 1e-4;
    if (v > low && v < high && !nearEdge)
      EXPECT_NEAR(std::round(vDecoded / bin - 0.5), std::floor(v / bin - 1e-6),
                  1e-9)
          << "bin centre of element " << k;
    // The ReLU mask recovered from the codes is the exact one.
    bool exactMask = double(c[k]) * inverse[ch] * scale[ch] + shift[ch] > 0;
    double extra = double(masked[1 + k]) - decoded;
    EXPECT_EQ(extra != 0.0, exactMask) << "ReLU mask of element " << k;
    if (exactMask)
      EXPECT_NEAR(extra, double(inverse[ch]) * scale[ch], 1e-5);
    // The other gradients, from the decoded values.
    if (exactMask) {
      dInverse[ch] += decoded * scale[ch];
      dScale[ch] += decoded * inverse[ch];
      dShift[ch] += 1.0;
    }
  }
  for (int64_t ch = 0; ch < C; ++ch) {
    auto tolerance = [](double expected) {
      return 1e-4 * (1 + std::fabs(expected));
    };
    EXPECT_NEAR(masked[1 + kSize + ch], dInverse[ch], tolerance(dInverse[ch]))
        << "dL/di of channel " << ch;
    EXPECT_NEAR(masked[1 + kSize + C + ch], dScale[ch], tolerance(dScale[ch]))
        << "dL/dg of channel " << ch;
    EXPECT_NEAR(masked[1 + kSize + 2 * C + ch], dShift[ch], 1e-4)
        << "dL/db of channel " << ch;
  }
}

constexpr const char *kResidualModel = R"mlir(
#full = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>
#all = affine_map<(n, c, h, w) -> ()>
func.func @block(%param: tensor<2x3x2x8xf32> {qtrain.role = #qtrain<role parameter>},
                 %i: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                 %g: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                 %b: tensor<3xf32> {qtrain.role = #qtrain<role parameter>},
                 %skip: tensor<2x3x2x8xf32> {qtrain.role = #qtrain<role input>},
                 %t: tensor<f32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<2x3x2x8xf32>
  %c = linalg.generic {indexing_maps = [#full, #full],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%param : tensor<2x3x2x8xf32>) outs(%e : tensor<2x3x2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %y = arith.negf %n : f32
    linalg.yield %y : f32
  } -> tensor<2x3x2x8xf32>
  %a = linalg.generic {indexing_maps = [#full, #chan, #chan, #chan, #full],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %i, %g, %b : tensor<2x3x2x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      outs(%e : tensor<2x3x2x8xf32>) {
  ^bb0(%x: f32, %ii: f32, %gg: f32, %bb: f32, %o: f32):
    %p = arith.mulf %x, %ii : f32
    %u = arith.mulf %p, %gg : f32
    %v = arith.addf %u, %bb : f32
    linalg.yield %v : f32
  } -> tensor<2x3x2x8xf32>
  %r = linalg.generic {indexing_maps = [#full, #full, #full],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %skip : tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>) outs(%e : tensor<2x3x2x8xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %v = arith.addf %x, %s : f32
    %y = arith.maximumf %v, %c0 : f32
    linalg.yield %y : f32
  } -> tensor<2x3x2x8xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l1 = linalg.reduce ins(%r : tensor<2x3x2x8xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%x: f32, %acc: f32) {
      %p = arith.mulf %x, %x : f32
      %q = arith.mulf %p, %half : f32
      %s = arith.addf %q, %acc : f32
      linalg.yield %s : f32
    }
  %l = linalg.generic {indexing_maps = [#full, #all, #all],
                       iterator_types = ["reduction", "reduction", "reduction", "reduction"]}
      ins(%c, %t : tensor<2x3x2x8xf32>, tensor<f32>) outs(%l1 : tensor<f32>) {
  ^bb0(%x: f32, %tt: f32, %acc: f32):
    %p = arith.mulf %x, %x : f32
    %q = arith.mulf %p, %half : f32
    %w = arith.mulf %q, %tt : f32
    %s = arith.addf %acc, %w : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %l : tensor<f32>
}
)mlir";

TEST_P(CompressActivationsTest, ResidualOutputCodesMaskAndGradients) {
  const int64_t bits = GetParam(), levels = int64_t(1) << bits;
  std::string error;
  auto jit = compileFlat(
      kResidualModel,
      [&](OpPassManager &pm) {
        pm.addPass(mlir::qtrain::createAutodiffPass());
        mlir::qtrain::CompressActivationsPassOptions options;
        options.bits = bits;
        pm.addPass(mlir::qtrain::createCompressActivationsPass(options));
      },
      {"block_grad"}, error);
  ASSERT_TRUE(jit) << error;
  auto grad = jit->lookup<FlatFn<float>>("block_grad_flat");
  ASSERT_TRUE(grad);

  const float inverse[C] = {0.5f, 1.0f, 2.0f}, scale[C] = {1.5f, -0.75f, 1.0f},
              shift[C] = {0.3f, 0.8f, -0.5f};
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> args(2 * kSize + 3 * C + 1);
  float *c = args.data(), *skip = c + kSize + 3 * C;
  for (int64_t k = 0; k < kSize; ++k) {
    int64_t ch = (k / (H * W)) % C;
    c[k] = normal(rng) * (k % 7 == 0 ? 3.0f : 1.0f) / inverse[ch];
    skip[k] = normal(rng);
  }
  std::copy(inverse, inverse + C, c + kSize);
  std::copy(scale, scale + C, c + kSize + C);
  std::copy(shift, shift + C, c + kSize + 2 * C);

  auto run = [&](float t) {
    args.back() = t;
    std::vector<float> out(1 + kSize + 3 * C);
    auto in = memref1D(args), res = memref1D(out);
    grad(&in, &res);
    return out;
  };
  std::vector<float> outputOnly = run(0.0f), withCentered = run(1.0f);

  // The exact output as the forward half computes it, and its per-channel
  // code step amax / (2^K - 1).
  std::vector<float> exact(kSize);
  float amax[C] = {};
  for (int64_t k = 0; k < kSize; ++k) {
    int64_t ch = (k / (H * W)) % C;
    float a = c[k] * inverse[ch] * scale[ch] + shift[ch];
    exact[k] = std::max(a + skip[k], 0.0f);
    amax[ch] = std::max(amax[ch], exact[k]);
  }
  double dInverse[C] = {}, dScale[C] = {}, dShift[C] = {};
  for (int64_t k = 0; k < kSize; ++k) {
    int64_t ch = (k / (H * W)) % C;
    double step = double(amax[ch]) / double(levels - 1);
    // The gradient with respect to c is m r~ i g, then c~ on top.
    double decoded = double(outputOnly[1 + k]) / (inverse[ch] * scale[ch]);
    double centered = double(withCentered[1 + k]) - outputOnly[1 + k];
    // The mask recovered from the codes is the exact one.
    EXPECT_EQ(outputOnly[1 + k] != 0.0f, exact[k] > 0.0f)
        << bits << "-bit residual mask of element " << k;
    if (exact[k] == 0.0f)
      continue;
    // Nonzero outputs decode to the centre of their bin, within half a step.
    EXPECT_NEAR(decoded, exact[k], step / 2 + 1e-5)
        << bits << "-bit output of element " << k;
    double bin = decoded / step + 0.5;
    EXPECT_NEAR(bin, std::round(bin), 1e-3) << "bin centre of element " << k;
    EXPECT_GE(std::round(bin), 1.0);
    EXPECT_LE(std::round(bin), double(levels - 1));
    // The batch norm's gradients, from the decoded values.
    dInverse[ch] += decoded * centered * scale[ch];
    dScale[ch] += decoded * centered * inverse[ch];
    dShift[ch] += decoded;
  }
  for (int64_t ch = 0; ch < C; ++ch) {
    auto tolerance = [](double expected) {
      return 1e-4 * (1 + std::fabs(expected));
    };
    EXPECT_NEAR(outputOnly[1 + kSize + ch], dInverse[ch],
                tolerance(dInverse[ch]))
        << "dL/di of channel " << ch;
    EXPECT_NEAR(outputOnly[1 + kSize + C + ch], dScale[ch],
                tolerance(dScale[ch]))
        << "dL/dg of channel " << ch;
    EXPECT_NEAR(outputOnly[1 + kSize + 2 * C + ch], dShift[ch],
                tolerance(dShift[ch]))
        << "dL/db of channel " << ch;
  }
}

INSTANTIATE_TEST_SUITE_P(Bits, CompressActivationsTest, ::testing::Values(4, 8),
                         [](const ::testing::TestParamInfo<int64_t> &info) {
                           return std::to_string(info.param) + "bit";
                         });

} // namespace
