//===- OptimizerTest.cpp - Compiled training steps of qtrain-optimizer ----===//
//
// One-parameter model `loss = sum(w * x)`, whose gradient is x: each step is
// compared with the update written out in C++ (the same f32 operations in
// the same order, with the numerics library for the master-weight
// rounding), and dynamic loss scaling is driven through an injected inf.
//
//===----------------------------------------------------------------------===//

#include "FlatModule.h"

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Numerics/Quantization.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace ::qtrain::testing;
using ::qtrain::runtime::memref1D;
namespace num = ::qtrain::numerics;

namespace {

const char *kLinear = R"mlir(
func.func @lin(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<4xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %p = arith.mulf %w, %x : tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
)mlir";

/// Compiles `@lin_step` built with the optimizer `options`.
std::unique_ptr<::qtrain::runtime::JitModule>
compileStep(const mlir::qtrain::OptimizerPassOptions &options) {
  std::string error;
  auto jit = compileFlat(
      kLinear,
      [&](OpPassManager &pm) {
        mlir::qtrain::AutodiffPassOptions autodiff;
        autodiff.lossScale = options.lossScaling;
        pm.addPass(mlir::qtrain::createAutodiffPass(autodiff));
        pm.addPass(mlir::qtrain::createOptimizerPass(options));
      },
      {"lin_step"}, error);
  EXPECT_TRUE(jit) << error;
  return jit;
}

std::vector<float>
roundTo(const std::vector<float> &x, const char *format,
        num::RoundingMode rounding = num::RoundingMode::NearestEven,
        uint64_t seed = 0, uint32_t stream = 0) {
  num::QuantizeOptions options;
  options.rounding = rounding;
  options.seed = seed;
  options.stream = stream;
  std::vector<float> result(x.size());
  num::roundTensor(x.data(), {int64_t(x.size())},
                   *num::lookupFloatFormat(format), nullptr, nullptr, options,
                   result.data());
  return result;
}

TEST(Optimizer, DynamicLossScalingSkipsBadStepsAndGrows) {
  mlir::qtrain::OptimizerPassOptions options;
  options.momentum = 0.9;
  options.lossScaling = true;
  options.growthInterval = 3;
  auto jit = compileStep(options);
  ASSERT_TRUE(jit);
  auto step = jit->lookup<FlatFn<float>>("lin_step_flat");
  ASSERT_TRUE(step);

  // Arguments: w[4], x[4], lr, v[4], scale, clean.
  // Results:   loss, w[4], v[4], scale, clean.
  std::vector<float> w = {0.5f, -1.25f, 2.0f, 0.75f}, v = {0.1f, 0, -0.2f, 0};
  float scale = 65536, clean = 0;
  const float lr = 0.125f;
  auto run = [&](const std::vector<float> &x) {
    std::vector<float> in;
    in.insert(in.end(), w.begin(), w.end());
    in.insert(in.end(), x.begin(), x.end());
    in.push_back(lr);
    in.insert(in.end(), v.begin(), v.end());
    in.push_back(scale);
    in.push_back(clean);
    std::vector<float> out(1 + 4 + 4 + 2);
    auto a = memref1D(in), r = memref1D(out);
    step(&a, &r);
    return out;
  };

  // An inf in the gradient: nothing moves, the scale halves.
  std::vector<float> out = run({1, 2, INFINITY, 4});
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out[1 + i], w[i]) << "weight " << i << " changed";
    EXPECT_EQ(out[5 + i], v[i]) << "momentum " << i << " changed";
  }
  EXPECT_EQ(out[9], 32768.0f);
  EXPECT_EQ(out[10], 0.0f);
  scale = out[9];

  // Clean steps update with the unscaled gradient; the third grows the
  // scale and restarts the count.
  std::vector<float> x = {1, -2, 0.5f, 3};
  for (int s = 1; s <= 3; ++s) {
    out = run(x);
    for (int i = 0; i < 4; ++i) {
      float vNew = 0.9f * v[i] + x[i];
      float wNew = w[i] - lr * vNew;
      EXPECT_FLOAT_EQ(out[5 + i], vNew) << "step " << s;
      EXPECT_FLOAT_EQ(out[1 + i], wNew) << "step " << s;
      v[i] = out[5 + i];
      w[i] = out[1 + i];
    }
    EXPECT_EQ(out[9], s == 3 ? 65536.0f : 32768.0f) << "step " << s;
    EXPECT_EQ(out[10], s == 3 ? 0.0f : float(s)) << "step " << s;
    scale = out[9];
    clean = out[10];
  }
}

TEST(Optimizer, HybridFP8WeightPlusResidual) {
  mlir::qtrain::OptimizerPassOptions options;
  options.momentum = 0.5;
  options.weightDecay = 0.01;
  options.masterWeights = mlir::qtrain::MasterWeights::f8PlusResidual;
  auto jit = compileStep(options);
  ASSERT_TRUE(jit);
  auto step = jit->lookup<FlatFn<float>>("lin_step_flat");
  ASSERT_TRUE(step);

  // Arguments: w[4], x[4], lr, v[4], r[4]. Results: loss, w, v, r.
  std::vector<float> w = roundTo({0.5f, -1.25f, 2.0f, 0.75f}, "hfp8_e4m3");
  std::vector<float> r = {0.001f, -0.002f, 0, 0.0004f}, v = {0.1f, 0, -0.2f, 0};
  r = roundTo(r, "dlfloat16");
  std::vector<float> x = {1, -2, 0.5f, 3};
  const float lr = 0.01f;
  std::vector<float> in;
  for (auto *part : {&w, &x})
    in.insert(in.end(), part->begin(), part->end());
  in.push_back(lr);
  for (auto *part : {&v, &r})
    in.insert(in.end(), part->begin(), part->end());
  std::vector<float> out(1 + 12);
  auto a = memref1D(in), res = memref1D(out);
  step(&a, &res);

  std::vector<float> master(4), vNew(4);
  for (int i = 0; i < 4; ++i) {
    float m = w[i] + r[i];
    float g = x[i] + 0.01f * m;
    vNew[i] = 0.5f * v[i] + g;
    master[i] = m - lr * vNew[i];
  }
  std::vector<float> wNew = roundTo(master, "hfp8_e4m3");
  std::vector<float> rest(4);
  for (int i = 0; i < 4; ++i)
    rest[i] = master[i] - wNew[i];
  std::vector<float> rNew = roundTo(rest, "dlfloat16");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out[1 + i], wNew[i]) << "weight " << i;
    EXPECT_EQ(out[5 + i], vNew[i]) << "momentum " << i;
    EXPECT_EQ(out[9 + i], rNew[i]) << "residual " << i;
    EXPECT_NE(out[1 + i], master[i]) << "the 8-bit weight alone is inexact";
  }
}

TEST(Optimizer, SixteenBitMasterWeightsRoundStochastically) {
  mlir::qtrain::OptimizerPassOptions options;
  options.momentum = 0;
  options.masterWeights = mlir::qtrain::MasterWeights::f16Stochastic;
  auto jit = compileStep(options);
  ASSERT_TRUE(jit);
  auto step = jit->lookup<FlatFnWithSeed<float>>("lin_step_flat");
  ASSERT_TRUE(step);

  // Arguments: w[4], x[4], lr, v[4] (and the seed). Results: loss, w, v.
  std::vector<float> w = {0.5f, -1.25f, 2.0f, 0.75f}, x = {1, -2, 0.5f, 3};
  const float lr = 0.001f;
  std::vector<float> in = w;
  in.insert(in.end(), x.begin(), x.end());
  in.push_back(lr);
  in.insert(in.end(), 4, 0.0f);
  for (int64_t seed : {1, 2, 3}) {
    std::vector<float> out(9);
    auto a = memref1D(in), res = memref1D(out);
    step(&a, &res, seed);
    std::vector<float> master(4);
    for (int i = 0; i < 4; ++i)
      master[i] = w[i] - lr * (0.0f * 0.0f + x[i]);
    std::vector<float> expected =
        roundTo(master, "dlfloat16", num::RoundingMode::Stochastic,
                uint64_t(seed), 1u << 24);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(out[1 + i], expected[i]) << "seed " << seed << " weight " << i;
  }
}

} // namespace
