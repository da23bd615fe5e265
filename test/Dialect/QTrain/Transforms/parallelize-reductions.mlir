// RUN: qtrain-opt %s -split-input-file -qtrain-parallelize-reductions | FileCheck %s
// With whole-atomic-reductions (qtrain-lower-to-nvvm's), the whole-tensor
// absmax stays one reduction, in its loop of one iteration, for
// qtrain-block-reductions' atomically combining blocks; reductions to
// several elements are split as before.
// RUN: qtrain-opt %s -split-input-file -qtrain-parallelize-reductions=whole-atomic-reductions=true \
// RUN:   | FileCheck %s --check-prefix=WHOLE
// WHOLE-LABEL: func.func @absmax
// WHOLE:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction", "reduction", "reduction"]} ins(%{{.+}} : tensor<64x8x24x24xf32>) outs(%{{.+}} : tensor<1xf32>)
// WHOLE-NOT:     tensor<64x8xf32>
// WHOLE-LABEL: func.func @per_channel
// WHOLE:         outs(%{{.+}} : tensor<16x64xi32>)

// An absmax over a whole tensor: the two outer loops become parallel (512
// partial maxima of 576 terms, into -inf), then the partials are combined
// into the original output in a loop of one iteration; the 0-d fill of the
// output gets its unit loop too.
// CHECK-DAG:   #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$OUTER:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG:   #[[$PARTIALS:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[$UNIT:.+]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @absmax
// CHECK-SAME:    (%[[X:.+]]: tensor<64x8x24x24xf32>)
// CHECK-DAG:     %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<f32>
// CHECK:         %[[E1:.+]] = tensor.expand_shape %[[E]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK:         %[[INIT:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[ZERO]] : f32) outs(%[[E1]] : tensor<1xf32>)
// CHECK:         %[[PE:.+]] = tensor.empty() : tensor<64x8xf32>
// CHECK:         %[[PF:.+]] = linalg.fill ins(%[[NEG_INF]] : f32) outs(%[[PE]] : tensor<64x8xf32>)
// CHECK:         %[[P:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$OUTER]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<64x8x24x24xf32>) outs(%[[PF]] : tensor<64x8xf32>)
// CHECK:           math.absf
// CHECK:           arith.maximumf
// CHECK:         %[[M:.+]] = linalg.generic {indexing_maps = [#[[$PARTIALS]], #[[$UNIT]]], iterator_types = ["parallel", "reduction", "reduction"]} ins(%[[P]] : tensor<64x8xf32>) outs(%[[INIT]] : tensor<1xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %[[OUT:.+]]: f32):
// CHECK-NEXT:      %[[MAX:.+]] = arith.maximumf %[[OUT]], %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[MAX]]
// CHECK:         %[[R:.+]] = tensor.collapse_shape %[[M]] [] : tensor<1xf32> into tensor<f32>
// CHECK:         return %[[R]]
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>
func.func @absmax(%x: tensor<64x8x24x24xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [#id4, #scalar4], iterator_types = ["reduction", "reduction", "reduction", "reduction"]} ins(%x : tensor<64x8x24x24xf32>) outs(%init : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %a = math.absf %in : f32
    %r = arith.maximumf %out, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %m : tensor<f32>
}

// -----

// Per-channel (axis 1) integer sums, and float sums marked reassoc: the
// outer reduction loop joins the channels as a parallel loop; partials
// follow the output's dimensions.
// CHECK-LABEL: func.func @per_channel
// CHECK:         linalg.fill ins(%{{.+}} : i32) outs(%{{.+}} : tensor<16x64xi32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}} : tensor<64x16x4096xi32>) outs(%{{.+}} : tensor<16x64xi32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.+}} : tensor<16x64xi32>) outs(%{{.+}} : tensor<16xi32>)
// CHECK:           arith.addi
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<16x64xf32>)
// CHECK:         linalg.generic {{.*}} outs(%{{.+}} : tensor<16x64xf32>)
// CHECK:         linalg.generic {{.*}} ins(%{{.+}} : tensor<16x64xf32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK:           arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
func.func @per_channel(%x: tensor<64x16x4096xi32>, %init: tensor<16xi32>, %y: tensor<64x16x4096xf32>, %finit: tensor<16xf32>) -> (tensor<16xi32>, tensor<16xf32>) {
  %s = linalg.generic {indexing_maps = [affine_map<(n, c, i) -> (n, c, i)>, affine_map<(n, c, i) -> (c)>], iterator_types = ["reduction", "parallel", "reduction"]} ins(%x : tensor<64x16x4096xi32>) outs(%init : tensor<16xi32>) {
  ^bb0(%in: i32, %out: i32):
    %r = arith.addi %out, %in : i32
    linalg.yield %r : i32
  } -> tensor<16xi32>
  %f = linalg.generic {indexing_maps = [affine_map<(n, c, i) -> (n, c, i)>, affine_map<(n, c, i) -> (c)>], iterator_types = ["reduction", "parallel", "reduction"]} ins(%y : tensor<64x16x4096xf32>) outs(%finit : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in fastmath<reassoc> : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  return %s, %f : tensor<16xi32>, tensor<16xf32>
}

// -----

// Left alone: a float sum without reassoc (its order is its value), a
// reduction with many outputs, one with few terms, and dynamic loops.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:     linalg.fill
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT:     linalg.generic
func.func @left_alone(%x: tensor<64x16x4096xf32>, %init: tensor<16xf32>, %w: tensor<8192x64xf32>, %winit: tensor<8192xf32>, %s: tensor<16x100xf32>, %d: tensor<?x16xf32>) -> (tensor<16xf32>, tensor<8192xf32>, tensor<16xf32>, tensor<16xf32>) {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c, i) -> (n, c, i)>, affine_map<(n, c, i) -> (c)>], iterator_types = ["reduction", "parallel", "reduction"]} ins(%x : tensor<64x16x4096xf32>) outs(%init : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%w : tensor<8192x64xf32>) outs(%winit : tensor<8192xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<8192xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(c, i) -> (c, i)>, affine_map<(c, i) -> (c)>], iterator_types = ["parallel", "reduction"]} ins(%s : tensor<16x100xf32>) outs(%init : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(i, c) -> (i, c)>, affine_map<(i, c) -> (c)>], iterator_types = ["reduction", "parallel"]} ins(%d : tensor<?x16xf32>) outs(%init : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  return %0, %1, %2, %3 : tensor<16xf32>, tensor<8192xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

// A convolution's weight gradient (3200 outputs of 64x8x8 terms): its
// batch loop becomes parallel, 204800 partial sums of 64 terms (a batched
// tensor-core GEMM on the GPU, where the whole sum ran on 4 blocks), then
// their sum. The next loop (8) would leave partials of 8 terms: not split.
// CHECK-LABEL: func.func @weight_gradient
// CHECK:         %[[PF:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x16x5x5x64xf32>)
// CHECK:         %[[P:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<8x64x12x12xbf16>, tensor<16x64x8x8xbf16>) outs(%[[PF]] : tensor<8x16x5x5x64xf32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<8x16x5x5x64xf32>) outs(%{{.+}} : tensor<8x16x5x5xf32>)
func.func @weight_gradient(%x: tensor<8x64x12x12xbf16>, %dy: tensor<16x64x8x8xbf16>,
                           %init: tensor<8x16x5x5xf32>) -> tensor<8x16x5x5xf32> {
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5, d3 + d6)>,
                       affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>,
                       affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %dy : tensor<8x64x12x12xbf16>, tensor<16x64x8x8xbf16>) outs(%init : tensor<8x16x5x5xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %m = arith.mulf %ae, %be : f32
    %s = arith.addf %acc, %m fastmath<reassoc> : f32
    linalg.yield %s : f32
  } -> tensor<8x16x5x5xf32>
  return %r : tensor<8x16x5x5xf32>
}
