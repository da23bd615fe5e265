//===- DelayedScalingTest.cpp - Amax histories, executed ------------------===//
//
// A quantizer with delayed forward (E4M3) and backward (E5M2) scaling is
// differentiated, lowered and run; its roundings and the histories it
// returns are compared bit for bit with the numerics library, given the
// history the scale must come from.
//
//===----------------------------------------------------------------------===//

#include "FlatModule.h"

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Numerics/Quantization.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace mlir;
using ::qtrain::runtime::memref1D;
using namespace ::qtrain::testing;
namespace num = ::qtrain::numerics;

namespace {

constexpr int64_t kElements = 32, kHistory = 3;

// dL/dr is the forward rounding of x and dL/dx the backward rounding of r,
// so both roundings come out of the gradient function exactly.
constexpr const char *kModel = R"mlir(
func.func @scaled(%x: tensor<4x8xf32> {qtrain.role = #qtrain<role parameter>},
                  %r: tensor<4x8xf32> {qtrain.role = #qtrain<role parameter>},
                  %hf: tensor<3xf32> {qtrain.role = #qtrain<role state>},
                  %hb: tensor<3xf32> {qtrain.role = #qtrain<role state>})
    -> (tensor<f32>, tensor<3xf32>, tensor<3xf32>) {
  %c0 = arith.constant 0.0 : f32
  %y, %nf, %nb = qtrain.quantizer %x history(%hf, %hb : tensor<3xf32>, tensor<3xf32>)
      forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 3>
      backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 3>
      : tensor<4x8xf32>
  %p = arith.mulf %y, %r : tensor<4x8xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4x8xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l, %nf, %nb : tensor<f32>, tensor<3xf32>, tensor<3xf32>
}
)mlir";

struct Compiled {
  std::unique_ptr<::qtrain::runtime::JitModule> jit;
  FlatFn<float> forward = nullptr, gradient = nullptr;
};

Compiled compileModel() {
  Compiled c;
  std::string error;
  c.jit = compileFlat(
      kModel,
      [](OpPassManager &pm) { pm.addPass(mlir::qtrain::createAutodiffPass()); },
      {"scaled", "scaled_grad"}, error);
  EXPECT_TRUE(c.jit) << error;
  if (c.jit) {
    c.forward = c.jit->lookup<FlatFn<float>>("scaled_flat");
    c.gradient = c.jit->lookup<FlatFn<float>>("scaled_grad_flat");
  }
  return c;
}

/// `data` rounded onto `format` with the scale delayed scaling derives from
/// `history` (docs/numerics.md): its largest entry over the format's
/// largest value, 1 while the history is all zeros.
std::vector<float> roundWithHistory(const float *data, const char *format,
                                    const float *history) {
  num::Format f = *num::lookupFloatFormat(format);
  float amax = *std::max_element(history, history + kHistory);
  float scale = amax == 0 ? 1.0f : amax / float(f.maxMagnitude());
  std::vector<float> result(kElements);
  num::roundTensor(data, {kElements}, f, &scale, nullptr, {}, result.data());
  return result;
}

/// `history` with the amax of `data` pushed in front (0 unless finite).
std::vector<float> recorded(const float *data, const float *history) {
  float amax = 0;
  for (int64_t i = 0; i < kElements; ++i)
    amax = std::max(amax, std::fabs(data[i]));
  if (std::any_of(data, data + kElements,
                  [](float v) { return !std::isfinite(v); }))
    amax = 0;
  return {amax, history[0], history[1]};
}

struct Case {
  const char *name;
  std::vector<float> forwardHistory, backwardHistory;
  float poison; // written into x[5] when not 0
};

TEST(DelayedScaling, RoundsWithTheHistoryAndRecordsTheAmax) {
  Compiled c = compileModel();
  ASSERT_TRUE(c.forward && c.gradient);
  const float inf = std::numeric_limits<float>::infinity();
  for (const Case &test : {
           Case{"fresh histories scale by 1", {0, 0, 0}, {0, 0, 0}, 0},
           Case{"largest entry of each history",
                {0.5f, 3, 1},
                {0.01f, 0.2f, 0},
                0},
           Case{"inf is recorded as 0", {2, 0, 0}, {1, 1, 1}, inf},
           Case{"NaN is recorded as 0", {2, 0, 0}, {1, 1, 1}, NAN},
       }) {
    SCOPED_TRACE(test.name);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> args;
    for (int64_t i = 0; i < 2 * kElements; ++i)
      args.push_back(normal(rng));
    if (test.poison != 0)
      args[5] = test.poison;
    llvm::append_range(args, test.forwardHistory);
    llvm::append_range(args, test.backwardHistory);
    const float *x = args.data(), *r = x + kElements;
    const float *hf = r + kElements, *hb = hf + kHistory;

    std::vector<float> grad(1 + 2 * kElements + 2 * kHistory);
    auto in = memref1D(args), out = memref1D(grad);
    c.gradient(&in, &out);
    std::vector<float> dx(grad.begin() + 1, grad.begin() + 1 + kElements);
    std::vector<float> dr(grad.begin() + 1 + kElements,
                          grad.begin() + 1 + 2 * kElements);
    std::vector<float> nextForward(grad.end() - 2 * kHistory,
                                   grad.end() - kHistory);
    std::vector<float> nextBackward(grad.end() - kHistory, grad.end());
    std::vector<float> forwardRounding = roundWithHistory(x, "f8E4M3FN", hf);
    for (int64_t i = 0; i < kElements; ++i)
      if (!std::isnan(x[i]))
        EXPECT_EQ(dr[i], forwardRounding[i])
            << "forward rounding of x[" << i << "] = " << x[i];
    EXPECT_EQ(dx, roundWithHistory(r, "f8E5M2", hb)) << "backward rounding";
    EXPECT_EQ(nextForward, recorded(x, hf)) << "forward history";
    EXPECT_EQ(nextBackward, recorded(r, hb)) << "backward history";

    // The forward function (evaluation) sees no gradient: the backward
    // history comes back unchanged.
    std::vector<float> eval(1 + 2 * kHistory);
    auto evalOut = memref1D(eval);
    c.forward(&in, &evalOut);
    EXPECT_EQ(std::vector<float>(eval.begin() + 1, eval.begin() + 1 + kHistory),
              recorded(x, hf));
    EXPECT_EQ(std::vector<float>(eval.begin() + 1 + kHistory, eval.end()),
              std::vector<float>(hb, hb + kHistory));
  }
}

} // namespace
