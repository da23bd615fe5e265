//===- AutodiffGradientTest.cpp - qtrain-autodiff against differences ----===//
//
// Each model is differentiated by qtrain-autodiff, compiled with the CPU
// pipeline, and its gradient compared with central finite differences of
// the compiled forward function, in f64, at random arguments. The models
// together use every float op family qtrain-autodiff supports;
// AutodiffQuantizedTest.cpp covers the qtrain ops.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

using namespace mlir;
using namespace ::qtrain::testing;

namespace {

TEST(AutodiffGradient, MatmulBiasActivationsAndSquaredSum) {
  checkGradients(R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> ()>
func.func @mlp(%w: tensor<4x3xf64> {qtrain.role = #qtrain<role parameter>},
               %b: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<5x4xf64> {qtrain.role = #qtrain<role input>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<5x3xf64>
  %z = linalg.fill ins(%c0 : f64) outs(%e : tensor<5x3xf64>) -> tensor<5x3xf64>
  %mm = linalg.matmul ins(%x, %w : tensor<5x4xf64>, tensor<4x3xf64>) outs(%z : tensor<5x3xf64>) -> tensor<5x3xf64>
  %h = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<5x3xf64>, tensor<3xf64>) outs(%e : tensor<5x3xf64>) {
  ^bb0(%a: f64, %bb: f64, %o: f64):
    %s = arith.addf %a, %bb : f64
    %r = arith.maximumf %s, %c0 : f64
    %t = math.tanh %s : f64
    %u = arith.addf %r, %t : f64
    linalg.yield %u : f64
  } -> tensor<5x3xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction", "reduction"]}
      ins(%h : tensor<5x3xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %o: f64):
    %sq = arith.mulf %a, %a : f64
    %s = arith.addf %o, %sq : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir",
                 "mlp");
}

TEST(AutodiffGradient, SoftmaxCrossEntropyWithMaxReduction) {
  checkGradients(R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>
#all = affine_map<(d0, d1) -> ()>
func.func @ce(%z: tensor<4x5xf64> {qtrain.role = #qtrain<role parameter>},
              %y: tensor<4x5xf64> {qtrain.role = #qtrain<role label>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %ninf = arith.constant 0xFFF0000000000000 : f64
  %quarter = arith.constant 0.25 : f64
  %e4 = tensor.empty() : tensor<4xf64>
  %minit = linalg.fill ins(%ninf : f64) outs(%e4 : tensor<4xf64>) -> tensor<4xf64>
  %m = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<4x5xf64>) outs(%minit : tensor<4xf64>) {
  ^bb0(%a: f64, %o: f64):
    %r = arith.maximumf %a, %o : f64
    linalg.yield %r : f64
  } -> tensor<4xf64>
  %sinit = linalg.fill ins(%c0 : f64) outs(%e4 : tensor<4xf64>) -> tensor<4xf64>
  %s = linalg.generic {indexing_maps = [#id, #col, #col], iterator_types = ["parallel", "reduction"]}
      ins(%z, %m : tensor<4x5xf64>, tensor<4xf64>) outs(%sinit : tensor<4xf64>) {
  ^bb0(%a: f64, %mm: f64, %o: f64):
    %d = arith.subf %a, %mm : f64
    %x = math.exp %d : f64
    %r = arith.addf %o, %x : f64
    linalg.yield %r : f64
  } -> tensor<4xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#id, #id, #col, #col, #all], iterator_types = ["reduction", "reduction"]}
      ins(%z, %y, %m, %s : tensor<4x5xf64>, tensor<4x5xf64>, tensor<4xf64>, tensor<4xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %lab: f64, %mm: f64, %ss: f64, %o: f64):
    %lg = math.log %ss : f64
    %lse = arith.addf %lg, %mm : f64
    %d = arith.subf %lse, %a : f64
    %t = arith.mulf %lab, %d : f64
    %tq = arith.mulf %t, %quarter : f64
    %r = arith.addf %o, %tq : f64
    linalg.yield %r : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir",
                 "ce");
}

TEST(AutodiffGradient, ConvolutionsPaddingAndMaxPoolingNCHW) {
  checkGradients(R"mlir(
#chan = affine_map<(d0, d1, d2, d3) -> (d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#sq = affine_map<(d0, d1) -> (d0, d1)>
#all = affine_map<(d0, d1) -> ()>
func.func @cnn(%w1: tensor<3x2x3x3xf64> {qtrain.role = #qtrain<role parameter>},
               %b1: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
               %w2: tensor<4x3x2x2xf64> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<2x2x6x6xf64> {qtrain.role = #qtrain<role input>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %ninf = arith.constant 0xFFF0000000000000 : f64
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %c0 : f64
  } : tensor<2x2x6x6xf64> to tensor<2x2x8x8xf64>
  %e1 = tensor.empty() : tensor<2x3x6x6xf64>
  %z1 = linalg.fill ins(%c0 : f64) outs(%e1 : tensor<2x3x6x6xf64>) -> tensor<2x3x6x6xf64>
  %c1 = linalg.conv_2d_nchw_fchw ins(%p, %w1 : tensor<2x2x8x8xf64>, tensor<3x2x3x3xf64>)
      outs(%z1 : tensor<2x3x6x6xf64>) -> tensor<2x3x6x6xf64>
  %a1 = linalg.generic {indexing_maps = [#id4, #chan, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c1, %b1 : tensor<2x3x6x6xf64>, tensor<3xf64>) outs(%e1 : tensor<2x3x6x6xf64>) {
  ^bb0(%a: f64, %bb: f64, %o: f64):
    %s = arith.addf %a, %bb : f64
    %r = arith.maximumf %s, %c0 : f64
    linalg.yield %r : f64
  } -> tensor<2x3x6x6xf64>
  %win = tensor.empty() : tensor<2x2xf64>
  %ep = tensor.empty() : tensor<2x3x3x3xf64>
  %zp = linalg.fill ins(%ninf : f64) outs(%ep : tensor<2x3x3x3xf64>) -> tensor<2x3x3x3xf64>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%a1, %win : tensor<2x3x6x6xf64>, tensor<2x2xf64>) outs(%zp : tensor<2x3x3x3xf64>) -> tensor<2x3x3x3xf64>
  %e2 = tensor.empty() : tensor<2x4x1x1xf64>
  %z2 = linalg.fill ins(%c0 : f64) outs(%e2 : tensor<2x4x1x1xf64>) -> tensor<2x4x1x1xf64>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%mp, %w2 : tensor<2x3x3x3xf64>, tensor<4x3x2x2xf64>) outs(%z2 : tensor<2x4x1x1xf64>) -> tensor<2x4x1x1xf64>
  %flat = tensor.collapse_shape %c2 [[0], [1, 2, 3]] : tensor<2x4x1x1xf64> into tensor<2x4xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#sq, #all], iterator_types = ["reduction", "reduction"]}
      ins(%flat : tensor<2x4xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %o: f64):
    %t = math.tanh %a : f64
    %s = arith.addf %o, %t : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir",
                 "cnn");
}

// Strides and dilations together, in both layouts; the second accumulates
// into an initial value the first computed.
TEST(AutodiffGradient, DilatedStridedConvolutions) {
  checkGradients(R"mlir(
func.func @dilated(%w1: tensor<3x2x3x3xf64> {qtrain.role = #qtrain<role parameter>},
                   %w2: tensor<3x3x2x2xf64> {qtrain.role = #qtrain<role parameter>},
                   %x1: tensor<1x2x9x9xf64> {qtrain.role = #qtrain<role parameter>},
                   %x2: tensor<1x7x7x2xf64> {qtrain.role = #qtrain<role input>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %e1 = tensor.empty() : tensor<1x3x3x3xf64>
  %z1 = linalg.fill ins(%c0 : f64) outs(%e1 : tensor<1x3x3x3xf64>) -> tensor<1x3x3x3xf64>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<2> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x1, %w1 : tensor<1x2x9x9xf64>, tensor<3x2x3x3xf64>) outs(%z1 : tensor<1x3x3x3xf64>) -> tensor<1x3x3x3xf64>
  %t1 = math.tanh %c1 : tensor<1x3x3x3xf64>
  %acc = linalg.transpose ins(%t1 : tensor<1x3x3x3xf64>) outs(%e1 : tensor<1x3x3x3xf64>) permutation = [0, 2, 3, 1]
  %init2 = tensor.extract_slice %acc[0, 0, 0, 0] [1, 3, 3, 2] [1, 1, 1, 1] : tensor<1x3x3x3xf64> to tensor<1x3x3x2xf64>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%x2, %w2 : tensor<1x7x7x2xf64>, tensor<3x3x2x2xf64>) outs(%init2 : tensor<1x3x3x2xf64>) -> tensor<1x3x3x2xf64>
  %sq = arith.mulf %c2, %c2 : tensor<1x3x3x2xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.reduce ins(%sq : tensor<1x3x3x2xf64>) outs(%lz : tensor<f64>) dimensions = [0, 1, 2, 3]
    (%a: f64, %o: f64) {
      %s = arith.addf %a, %o : f64
      linalg.yield %s : f64
    }
  return %l : tensor<f64>
}
)mlir",
                 "dilated");
}

TEST(AutodiffGradient, ConvolutionBatchNormAndSumPoolingNHWC) {
  checkGradients(R"mlir(
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#all4 = affine_map<(d0, d1, d2, d3) -> ()>
func.func @bn(%w: tensor<3x3x2x3xf64> {qtrain.role = #qtrain<role parameter>},
              %gamma: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
              %beta: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
              %x: tensor<2x5x5x2xf64> {qtrain.role = #qtrain<role input>},
              %r: tensor<2x1x1x3xf64> {qtrain.role = #qtrain<role input>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %n = arith.constant 0.055555555555555556 : f64
  %eps = arith.constant 1.0e-5 : f64
  %e = tensor.empty() : tensor<2x3x3x3xf64>
  %z = linalg.fill ins(%c0 : f64) outs(%e : tensor<2x3x3x3xf64>) -> tensor<2x3x3x3xf64>
  %y = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x5x5x2xf64>, tensor<3x3x2x3xf64>)
      outs(%z : tensor<2x3x3x3xf64>) -> tensor<2x3x3x3xf64>
  %ec = tensor.empty() : tensor<3xf64>
  %zc = linalg.fill ins(%c0 : f64) outs(%ec : tensor<3xf64>) -> tensor<3xf64>
  %sum = linalg.generic {indexing_maps = [#id4, #chan], iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%y : tensor<2x3x3x3xf64>) outs(%zc : tensor<3xf64>) {
  ^bb0(%a: f64, %o: f64):
    %s = arith.addf %o, %a : f64
    linalg.yield %s : f64
  } -> tensor<3xf64>
  %ns = linalg.fill ins(%n : f64) outs(%ec : tensor<3xf64>) -> tensor<3xf64>
  %mean = arith.mulf %sum, %ns : tensor<3xf64>
  %xc = linalg.generic {indexing_maps = [#id4, #chan, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %mean : tensor<2x3x3x3xf64>, tensor<3xf64>) outs(%e : tensor<2x3x3x3xf64>) {
  ^bb0(%a: f64, %m: f64, %o: f64):
    %s = arith.subf %a, %m : f64
    linalg.yield %s : f64
  } -> tensor<2x3x3x3xf64>
  %sq = linalg.generic {indexing_maps = [#id4, #chan], iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%xc : tensor<2x3x3x3xf64>) outs(%zc : tensor<3xf64>) {
  ^bb0(%a: f64, %o: f64):
    %p = arith.mulf %a, %a : f64
    %s = arith.addf %o, %p : f64
    linalg.yield %s : f64
  } -> tensor<3xf64>
  %var = arith.mulf %sq, %ns : tensor<3xf64>
  %inv = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%var : tensor<3xf64>) outs(%ec : tensor<3xf64>) {
  ^bb0(%v: f64, %o: f64):
    %ve = arith.addf %v, %eps : f64
    %i = math.rsqrt %ve : f64
    linalg.yield %i : f64
  } -> tensor<3xf64>
  %yn = linalg.generic {indexing_maps = [#id4, #chan, #chan, #chan, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %inv, %gamma, %beta : tensor<2x3x3x3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<2x3x3x3xf64>) {
  ^bb0(%a: f64, %i: f64, %g: f64, %b: f64, %o: f64):
    %t = arith.mulf %a, %i : f64
    %u = arith.mulf %t, %g : f64
    %v = arith.addf %u, %b : f64
    linalg.yield %v : f64
  } -> tensor<2x3x3x3xf64>
  %win = tensor.empty() : tensor<2x2xf64>
  %ep = tensor.empty() : tensor<2x1x1x3xf64>
  %zp = linalg.fill ins(%c0 : f64) outs(%ep : tensor<2x1x1x3xf64>) -> tensor<2x1x1x3xf64>
  %pool = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%yn, %win : tensor<2x3x3x3xf64>, tensor<2x2xf64>) outs(%zp : tensor<2x1x1x3xf64>) -> tensor<2x1x1x3xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#id4, #id4, #all4], iterator_types = ["reduction", "reduction", "reduction", "reduction"]}
      ins(%pool, %r : tensor<2x1x1x3xf64>, tensor<2x1x1x3xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %p = arith.mulf %a, %b : f64
    %s = arith.addf %o, %p : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir",
                 "bn");
}

TEST(AutodiffGradient, ScalarMathOfBodies) {
  checkGradients(R"mlir(
#id = affine_map<(d0) -> (d0)>
#all = affine_map<(d0) -> ()>
func.func @zoo(%p: tensor<6xf64> {qtrain.role = #qtrain<role parameter>},
               %q: tensor<6xf64> {qtrain.role = #qtrain<role parameter>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %c1 = arith.constant 1.0 : f64
  %c3 = arith.constant 1.5 : f64
  %e = tensor.empty() : tensor<6xf64>
  %v = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%p, %q : tensor<6xf64>, tensor<6xf64>) outs(%e : tensor<6xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %a2 = arith.mulf %a, %a : f64
    %a21 = arith.addf %a2, %c1 : f64
    %sq = math.sqrt %a21 : f64
    %ab = math.absf %b : f64
    %ab1 = arith.addf %ab, %c1 : f64
    %lg = math.log %ab1 : f64
    %l1p = math.log1p %ab : f64
    %pw = math.powf %ab1, %c3 : f64
    %pw2 = math.powf %sq, %b : f64
    %er = math.erf %a : f64
    %em = math.expm1 %b : f64
    %dv = arith.divf %lg, %sq : f64
    %ng = arith.negf %pw : f64
    %mn = arith.minimumf %a, %b : f64
    %cmp = arith.cmpf olt, %a, %b : f64
    %sel = arith.select %cmp, %er, %em : f64
    %t0 = arith.addf %dv, %ng : f64
    %t1 = arith.subf %t0, %mn : f64
    %t2 = arith.addf %t1, %sel : f64
    %t3 = arith.addf %t2, %pw2 : f64
    %t4 = arith.addf %t3, %l1p : f64
    %h = arith.mulf %t4, %t4 : f64
    linalg.yield %h : f64
  } -> tensor<6xf64>
  %w = arith.mulf %v, %p : tensor<6xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction"]}
      ins(%w : tensor<6xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %o: f64):
    %s = arith.addf %o, %a : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir",
                 "zoo");
}

TEST(AutodiffGradient, ReshapesSlicesTransposeBroadcastAndBatchMatmul) {
  checkGradients(R"mlir(
func.func @shapes(%a: tensor<12xf64> {qtrain.role = #qtrain<role parameter>},
                  %b: tensor<2x4x3xf64> {qtrain.role = #qtrain<role parameter>},
                  %c: tensor<3xf64> {qtrain.role = #qtrain<role parameter>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %a3 = tensor.expand_shape %a [[0, 1, 2]] output_shape [2, 3, 2] : tensor<12xf64> into tensor<2x3x2xf64>
  %et = tensor.empty() : tensor<2x2x3xf64>
  %t = linalg.transpose ins(%a3 : tensor<2x3x2xf64>) outs(%et : tensor<2x2x3xf64>) permutation = [0, 2, 1]
  %sl = tensor.extract_slice %b[0, 1, 0] [2, 3, 3] [1, 1, 1] : tensor<2x4x3xf64> to tensor<2x3x3xf64>
  %eb = tensor.empty() : tensor<2x2x3xf64>
  %zb = linalg.fill ins(%c0 : f64) outs(%eb : tensor<2x2x3xf64>) -> tensor<2x2x3xf64>
  %bm = linalg.batch_matmul ins(%t, %sl : tensor<2x2x3xf64>, tensor<2x3x3xf64>) outs(%zb : tensor<2x2x3xf64>) -> tensor<2x2x3xf64>
  %cb = linalg.broadcast ins(%c : tensor<3xf64>) outs(%eb : tensor<2x2x3xf64>) dimensions = [0, 1]
  %prod = arith.mulf %bm, %cb : tensor<2x2x3xf64>
  %ins = tensor.insert_slice %sl into %b[0, 0, 0] [2, 3, 3] [1, 1, 1] : tensor<2x3x3xf64> into tensor<2x4x3xf64>
  %top = tensor.extract_slice %ins[0, 2, 0] [2, 2, 3] [1, 1, 1] : tensor<2x4x3xf64> to tensor<2x2x3xf64>
  %sum = arith.addf %prod, %top : tensor<2x2x3xf64>
  %sq = arith.mulf %sum, %sum : tensor<2x2x3xf64>
  %flat = tensor.collapse_shape %sq [[0, 1, 2]] : tensor<2x2x3xf64> into tensor<12xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.reduce ins(%flat : tensor<12xf64>) outs(%lz : tensor<f64>) dimensions = [0]
    (%x: f64, %acc: f64) {
      %s = arith.addf %x, %acc : f64
      linalg.yield %s : f64
    }
  return %l : tensor<f64>
}
)mlir",
                 "shapes");
}

/// A batch norm over the batch of a [4, 3] tensor, in the decomposed form
/// qtrain-range-batchnorm recognizes, times fixed weights.
const char *kBatchNorm1D = R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> ()>
func.func @bn1d(%x: tensor<4x3xf64> {qtrain.role = #qtrain<role parameter>},
                %gamma: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
                %beta: tensor<3xf64> {qtrain.role = #qtrain<role parameter>},
                %r: tensor<4x3xf64> {qtrain.role = #qtrain<role input>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %quarter = arith.constant 0.25 : f64
  %eps = arith.constant 1.0e-5 : f64
  %ec = tensor.empty() : tensor<3xf64>
  %zc = linalg.fill ins(%c0 : f64) outs(%ec : tensor<3xf64>) -> tensor<3xf64>
  %sum = linalg.generic {indexing_maps = [#id, #chan], iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<4x3xf64>) outs(%zc : tensor<3xf64>) {
  ^bb0(%a: f64, %o: f64):
    %s = arith.addf %o, %a : f64
    linalg.yield %s : f64
  } -> tensor<3xf64>
  %e = tensor.empty() : tensor<4x3xf64>
  %xc = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum : tensor<4x3xf64>, tensor<3xf64>) outs(%e : tensor<4x3xf64>) {
  ^bb0(%a: f64, %s: f64, %o: f64):
    %m = arith.mulf %s, %quarter : f64
    %d = arith.subf %a, %m : f64
    linalg.yield %d : f64
  } -> tensor<4x3xf64>
  %sq = linalg.generic {indexing_maps = [#id, #chan], iterator_types = ["reduction", "parallel"]}
      ins(%xc : tensor<4x3xf64>) outs(%zc : tensor<3xf64>) {
  ^bb0(%a: f64, %o: f64):
    %p = arith.mulf %a, %a : f64
    %s = arith.addf %o, %p : f64
    linalg.yield %s : f64
  } -> tensor<3xf64>
  %inv = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%sq : tensor<3xf64>) outs(%ec : tensor<3xf64>) {
  ^bb0(%v: f64, %o: f64):
    %var = arith.mulf %v, %quarter : f64
    %ve = arith.addf %var, %eps : f64
    %i = math.rsqrt %ve : f64
    linalg.yield %i : f64
  } -> tensor<3xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l = linalg.generic {indexing_maps = [#id, #chan, #chan, #chan, #id, #all], iterator_types = ["reduction", "reduction"]}
      ins(%xc, %inv, %gamma, %beta, %r : tensor<4x3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<4x3xf64>) outs(%lz : tensor<f64>) {
  ^bb0(%a: f64, %i: f64, %g: f64, %b: f64, %w: f64, %o: f64):
    %t = arith.mulf %a, %i : f64
    %u = arith.mulf %t, %g : f64
    %v = arith.addf %u, %b : f64
    %p = arith.mulf %v, %w : f64
    %s = arith.addf %o, %p : f64
    linalg.yield %s : f64
  } -> tensor<f64>
  return %l : tensor<f64>
}
)mlir";

/// Range BN with `chunks` chunks of the batch, in double, from the formula.
double rangeBatchNormLoss(const std::vector<double> &args, int64_t chunks,
                          double constant) {
  const int64_t N = 4, C = 3;
  const double *x = args.data(), *gamma = x + N * C, *beta = gamma + C,
               *r = beta + C;
  double loss = 0;
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0;
    for (int64_t n = 0; n < N; ++n)
      mean += x[n * C + c] / N;
    double range = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      double hi = -INFINITY, lo = INFINITY;
      for (int64_t n = k * N / chunks; n < (k + 1) * N / chunks; ++n) {
        hi = std::max(hi, x[n * C + c] - mean);
        lo = std::min(lo, x[n * C + c] - mean);
      }
      range += (hi - lo) / chunks;
    }
    double perChunk = double(N / chunks);
    double inv =
        1 / (constant / std::sqrt(2 * std::log(perChunk)) * range + 1e-5);
    for (int64_t n = 0; n < N; ++n)
      loss += ((x[n * C + c] - mean) * inv * gamma[c] + beta[c]) * r[n * C + c];
  }
  return loss;
}

TEST(AutodiffGradient, RangeBatchNormMatchesItsFormulaAndDifferences) {
  const double reference = 0.5 * 0.35 * (1 + std::sqrt(M_PI * std::log(4.0)));
  for (auto [chunks, constant] :
       {std::pair<int64_t, mlir::qtrain::RangeConstant>{
            1, mlir::qtrain::RangeConstant::paper},
        {2, mlir::qtrain::RangeConstant::reference}}) {
    SCOPED_TRACE("chunks " + std::to_string(chunks));
    PassAdder rangeBN = [chunks = chunks,
                         constant = constant](OpPassManager &pm) {
      mlir::qtrain::RangeBatchNormPassOptions options;
      options.chunks = chunks;
      options.constant = constant;
      pm.addNestedPass<func::FuncOp>(
          mlir::qtrain::createRangeBatchNormPass(options));
    };
    checkGradients(kBatchNorm1D, "bn1d", rangeBN);

    CompiledModel<double> model =
        compile<double>(kBatchNorm1D, "bn1d", rangeBN);
    ASSERT_TRUE(model.forward);
    std::mt19937 rng(3);
    std::normal_distribution<double> normal;
    std::vector<double> args(model.numArgs);
    for (double &a : args)
      a = normal(rng);
    double c = constant == mlir::qtrain::RangeConstant::paper ? 1 : reference;
    EXPECT_NEAR(model.loss(args), rangeBatchNormLoss(args, chunks, c), 1e-9);
  }
}

/// Where a max or min is not differentiable, several elements are equal to
/// it: they share its gradient evenly (as torch.amax does), in reductions
/// and in max poolings. Range BN of quantized values, which saturate at the
/// quantization bounds, depends on this.
TEST(AutodiffGradient, TiesOfAMaxShareItsGradient) {
  CompiledModel<double> model = compile<double>(R"mlir(
func.func @ties(%x: tensor<2x4xf64> {qtrain.role = #qtrain<role parameter>},
                %p: tensor<1x1x4x4xf64> {qtrain.role = #qtrain<role parameter>}) -> tensor<f64> {
  %c0 = arith.constant 0.0 : f64
  %inf = arith.constant 0x7FF0000000000000 : f64
  %ninf = arith.constant 0xFFF0000000000000 : f64
  %er = tensor.empty() : tensor<2xf64>
  %lo = linalg.fill ins(%inf : f64) outs(%er : tensor<2xf64>) -> tensor<2xf64>
  %min = linalg.reduce ins(%x : tensor<2x4xf64>) outs(%lo : tensor<2xf64>) dimensions = [1]
    (%a: f64, %acc: f64) {
      %m = arith.minimumf %a, %acc : f64
      linalg.yield %m : f64
    }
  %win = tensor.empty() : tensor<2x2xf64>
  %ep = tensor.empty() : tensor<1x1x2x2xf64>
  %hi = linalg.fill ins(%ninf : f64) outs(%ep : tensor<1x1x2x2xf64>) -> tensor<1x1x2x2xf64>
  %pool = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%p, %win : tensor<1x1x4x4xf64>, tensor<2x2xf64>) outs(%hi : tensor<1x1x2x2xf64>) -> tensor<1x1x2x2xf64>
  %le = tensor.empty() : tensor<f64>
  %lz = linalg.fill ins(%c0 : f64) outs(%le : tensor<f64>) -> tensor<f64>
  %l1 = linalg.reduce ins(%min : tensor<2xf64>) outs(%lz : tensor<f64>) dimensions = [0]
    (%a: f64, %acc: f64) {
      %s = arith.addf %a, %acc : f64
      linalg.yield %s : f64
    }
  %l = linalg.reduce ins(%pool : tensor<1x1x2x2xf64>) outs(%l1 : tensor<f64>) dimensions = [0, 1, 2, 3]
    (%a: f64, %acc: f64) {
      %s = arith.addf %a, %acc : f64
      linalg.yield %s : f64
    }
  return %l : tensor<f64>
}
)mlir",
                                                "ties");
  ASSERT_TRUE(model.forward && model.gradient);
  std::vector<double> args = {1, 0, 0, 2, // row minimum 0, twice
                              5, 4, 4, 4, // row minimum 4, three times
                              // 4x4 input of the pooling: windows of 2x2
                              2, 2, 0, 1, //
                              2, 1, 3, 0, //
                              7, 7, 5, 6, //
                              7, 7, 6, 6};
  std::vector<double> out = model.lossAndGradients(args);
  const double third = 1.0 / 3;
  std::vector<double> expected = {
      0,     0.5,   0.5,   0,     //
      0,     third, third, third, //
      third, third, 0,     0,     // window maxima 2 (three times), 3,
      third, 0,     1,     0,     //
      0.25,  0.25,  0,     third, // 7 (four times), 6 (three times)
      0.25,  0.25,  third, third};
  ASSERT_EQ(out.size(), 1 + expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_DOUBLE_EQ(out[1 + i], expected[i]) << "gradient element " << i;
}

} // namespace
