//===- TiledConvolutionTest.cpp - im2col in tiles, executed ---------------===//
//
// qtrain-vectorize-linalg tiles a convolution whose im2col matrix exceeds
// `im2col-bytes` along its batch, then its input channels (accumulating).
// A CNN's loss and qtrain-autodiff gradients (forward, input-gradient and
// filter-gradient convolutions, NCHW and NHWC, strided and padded) compiled
// with a 64-byte budget, which tiles every convolution down to one image
// and one channel, must equal those compiled with whole-convolution im2col
// matrices, which AutodiffGradientTest checks against finite differences.
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

constexpr const char *kModel = R"mlir(
#sq = affine_map<(d0, d1) -> (d0, d1)>
#all = affine_map<(d0, d1) -> ()>
func.func @cnn(%w1: tensor<3x2x3x3xf64> {qtrain.role = #qtrain<role parameter>},
               %w2: tensor<2x2x3x4xf64> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<4x2x7x7xf64> {qtrain.role = #qtrain<role parameter>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %c0 : f64
  } : tensor<4x2x7x7xf64> to tensor<4x2x9x9xf64>
  %e1 = tensor.empty() : tensor<4x3x4x4xf64>
  %z1 = linalg.fill ins(%c0 : f64) outs(%e1 : tensor<4x3x4x4xf64>) -> tensor<4x3x4x4xf64>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%p, %w1 : tensor<4x2x9x9xf64>, tensor<3x2x3x3xf64>) outs(%z1 : tensor<4x3x4x4xf64>) -> tensor<4x3x4x4xf64>
  %e2 = tensor.empty() : tensor<4x4x4x3xf64>
  %t = linalg.transpose ins(%c1 : tensor<4x3x4x4xf64>) outs(%e2 : tensor<4x4x4x3xf64>) permutation = [0, 2, 3, 1]
  %e3 = tensor.empty() : tensor<4x3x3x4xf64>
  %z3 = linalg.fill ins(%c0 : f64) outs(%e3 : tensor<4x3x3x4xf64>) -> tensor<4x3x3x4xf64>
  %c2 = linalg.conv_2d_nhwc_hwcf ins(%t, %w2 : tensor<4x4x4x3xf64>, tensor<2x2x3x4xf64>)
      outs(%z3 : tensor<4x3x3x4xf64>) -> tensor<4x3x3x4xf64>
  %flat = tensor.collapse_shape %c2 [[0], [1, 2, 3]] : tensor<4x3x3x4xf64> into tensor<4x36xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#sq, #all], iterator_types = ["reduction", "reduction"]}
      ins(%flat : tensor<4x36xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %o: f64):
    %h = math.tanh %a : f64
    %s = arith.addf %o, %h : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir";

/// The loss and the gradients of every argument, with im2col matrices of at
/// most `im2colBytes` (0: unbounded).
std::vector<double> lossAndGradients(int64_t im2colBytes,
                                     std::vector<double> &args) {
  mlir::qtrain::LowerToCPUOptions lowering;
  lowering.im2colBytes = im2colBytes;
  std::string error;
  auto jit = compileFlat(
      kModel,
      [](OpPassManager &pm) { pm.addPass(mlir::qtrain::createAutodiffPass()); },
      {"cnn_grad"}, error, {}, lowering);
  EXPECT_TRUE(jit) << error;
  if (!jit)
    return {};
  auto grad = jit->lookup<FlatFn<double>>("cnn_grad_flat");
  std::vector<double> out(1 + args.size());
  auto in = memref1D(args), res = memref1D(out);
  grad(&in, &res);
  return out;
}

TEST(TiledConvolution, TilesMatchWholeIm2Col) {
  std::vector<double> args(3 * 2 * 3 * 3 + 2 * 2 * 3 * 4 + 4 * 2 * 7 * 7);
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  for (double &a : args)
    a = normal(rng);
  std::vector<double> whole = lossAndGradients(0, args);
  std::vector<double> tiled = lossAndGradients(64, args);
  ASSERT_EQ(whole.size(), tiled.size());
  for (size_t i = 0; i < whole.size(); ++i)
    EXPECT_NEAR(tiled[i], whole[i], 1e-12 * (1 + std::fabs(whole[i])))
        << (i == 0 ? "loss" : "gradient element " + std::to_string(i - 1));
  // The gradients are not trivially zero.
  EXPECT_GT(std::fabs(whole[1]), 1e-6);
}

} // namespace
