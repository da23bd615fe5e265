// RUN: qtrain-opt %s -split-input-file -qtrain-range-batchnorm | FileCheck %s
// RUN: qtrain-opt %s -split-input-file '-qtrain-range-batchnorm=chunks=2 constant=reference' | FileCheck %s --check-prefix=CHUNKED
// RUN: qtrain-opt %s -split-input-file '-qtrain-range-batchnorm=chunks=3 constant=reference' | FileCheck %s --check-prefix=CHUNKED

// The variance and its rsqrt are replaced by the per-channel range of the
// centered values: 1 / (C(n) * (max - min) + 1e-5), C(4) = 1 / sqrt(2 ln 4).
// CHECK-LABEL: func.func @bn1d(
// CHECK-DAG:     arith.constant 0.60056120439322{{[0-9]*}} : f64
// CHECK-DAG:     arith.constant 1.000000e-05 : f64
// CHECK:         %[[XC:.+]] = linalg.generic {{.+}} ins(%arg0, %{{.+}} : tensor<4x3xf64>, tensor<3xf64>)
// CHECK-NOT:     math.rsqrt
// CHECK:         %[[MAX:.+]] = linalg.generic {{.+}}iterator_types = ["reduction", "parallel"]{{.*}} ins(%[[XC]] : tensor<4x3xf64>)
// CHECK:           arith.maximumf
// CHECK:         %[[MIN:.+]] = linalg.generic {{.+}}iterator_types = ["reduction", "parallel"]{{.*}} ins(%[[XC]] : tensor<4x3xf64>)
// CHECK:           arith.minimumf
// CHECK:         %[[RANGE:.+]] = arith.subf %[[MAX]], %[[MIN]] : tensor<3xf64>
// CHECK:         %[[INV:.+]] = linalg.generic {{.+}} ins(%[[RANGE]] : tensor<3xf64>)
// CHECK:           arith.mulf %{{.+}}, %{{.+}} : f64
// CHECK:           arith.addf
// CHECK:           arith.divf
// CHECK:         linalg.generic {{.+}} ins(%[[XC]], %[[INV]], %arg1, %arg2, %arg3 :

// Chunked: the batch of 4 is split in 2 chunks of 2 (with chunks=2, and
// with chunks=3, which does not divide 4), whose ranges are averaged, with
// the reference code's constant for n = 2 (and 1/2 for the mean):
// 0.5 * 0.35 * (1 + sqrt(pi ln 4)) / sqrt(2 ln 2) / 2.
// CHUNKED-LABEL: func.func @bn1d(
// CHUNKED-DAG:     arith.constant 0.2294053694794{{[0-9]*}} : f64
// CHUNKED:         %[[SPLIT:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2]] output_shape [2, 2, 3] : tensor<4x3xf64> into tensor<2x2x3xf64>
// CHUNKED:         %[[MAX:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}} ins(%[[SPLIT]] : tensor<2x2x3xf64>) outs(%{{.+}} : tensor<2x3xf64>)
// CHUNKED:         %[[MIN:.+]] = linalg.generic {{.+}} ins(%[[SPLIT]] : tensor<2x2x3xf64>) outs(%{{.+}} : tensor<2x3xf64>)
// CHUNKED:         %[[RANGES:.+]] = arith.subf %[[MAX]], %[[MIN]] : tensor<2x3xf64>
// CHUNKED:         linalg.generic {{.+}}iterator_types = ["reduction", "parallel"]{{.*}} ins(%[[RANGES]] : tensor<2x3xf64>) outs(%{{.+}} : tensor<3xf64>)
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
