// RUN: qtrain-opt %s -split-input-file -qtrain-quantize-contractions | FileCheck %s

// A GEMM of two rounded operands multiplies their codes: each round becomes
// a quantize with the same rounding (seed, stream, scale, granularity), the
// scales go to the qmatmul, and the layer name stays on it.
// CHECK-LABEL: func.func @forward
// CHECK-SAME:    (%[[X:.+]]: tensor<64x32xf32>, %[[W:.+]]: tensor<32x16xf32>, %[[SX:.+]]: tensor<f32>, %[[SW:.+]]: tensor<16xf32>, %[[SEED:.+]]: i64)
// CHECK-NOT:     qtrain.round
// CHECK:         %[[QX:.+]] = qtrain.quantize %[[X]] to float<f8E4M3FN> scale(%[[SX]] : tensor<f32>) rounding stochastic seed(%[[SEED]]) {stream = 3 : i32} : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>
// CHECK:         %[[QW:.+]] = qtrain.quantize %[[W]] to float<f8E4M3FN> scale(%[[SW]] : tensor<16xf32>) granularity <per_channel, axis = 1> {stream = 4 : i32} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>
// CHECK:         %[[Y:.+]] = qtrain.qmatmul %[[QX]], %[[QW]] lhs(float<f8E4M3FN>, scale %[[SX]] : tensor<f32>) rhs(float<f8E4M3FN>, scale %[[SW]] : tensor<16xf32> granularity <per_channel, axis = 1>) accumulate f32 {qtrain.layer = "fc1"} : tensor<64x32xf8E4M3FN>, tensor<32x16xf8E4M3FN> -> tensor<64x16xf32>
// CHECK:         return %[[Y]]
func.func @forward(%x: tensor<64x32xf32>, %w: tensor<32x16xf32>, %sx: tensor<f32>, %sw: tensor<16xf32>, %seed: i64) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x16xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%sx : tensor<f32>) rounding stochastic seed(%seed) {stream = 3 : i32} : tensor<64x32xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<16xf32>) granularity <per_channel, axis = 1> {stream = 4 : i32} : tensor<32x16xf32>
  %y = linalg.matmul {qtrain.layer = "fc1"} ins(%rx, %rw : tensor<64x32xf32>, tensor<32x16xf32>) outs(%fill : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}

// -----

// Backward GEMMs as autodiff writes them: the activation gradient g * w^T
// (the lhs is whichever operand holds the result's rows; w is read n x k:
// transposed) and the weight gradient x^T * g (x read k x m: transposed).
// CHECK-LABEL: func.func @backward
// CHECK:         qtrain.qmatmul %{{.+}}, %{{.+}} lhs(float<f8E5M2>, scale %{{.+}} : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %{{.+}} : tensor<f32>) accumulate f32 : tensor<64x16xf8E5M2>, tensor<32x16xf8E4M3FN> -> tensor<64x32xf32>
// CHECK:         qtrain.qmatmul %{{.+}}, %{{.+}} lhs(float<f8E4M3FN> transposed, scale %{{.+}} : tensor<f32>) rhs(float<f8E5M2>, scale %{{.+}} : tensor<f32>) accumulate f32 : tensor<64x32xf8E4M3FN>, tensor<64x16xf8E5M2> -> tensor<32x16xf32>
func.func @backward(%x: tensor<64x32xf32>, %w: tensor<32x16xf32>, %g: tensor<64x16xf32>, %s: tensor<f32>) -> (tensor<64x32xf32>, tensor<32x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x32xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x32xf32>) -> tensor<64x32xf32>
  %e2 = tensor.empty() : tensor<32x16xf32>
  %fill2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<32x16xf32>) -> tensor<32x16xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<64x32xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<32x16xf32>
  %rg = qtrain.round %g to float<f8E5M2> scale(%s : tensor<f32>) : tensor<64x16xf32>
  %dx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%rw, %rg : tensor<32x16xf32>, tensor<64x16xf32>) outs(%fill : tensor<64x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<64x32xf32>
  %dw = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2, d1)>], iterator_types = ["reduction", "parallel", "parallel"]} ins(%rx, %rg : tensor<64x32xf32>, tensor<64x16xf32>) outs(%fill2 : tensor<32x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<32x16xf32>
  return %dx, %dw : tensor<64x32xf32>, tensor<32x16xf32>
}

// -----

// Unsigned int8 with zero points accumulates in i32 when K * 255 * 255
// fits, else in i64 (here K is dynamic). A round without a scale gets
// scale 1, and a rounded value used elsewhere keeps its round.
// CHECK-LABEL: func.func @int8
// CHECK:         %[[RX:.+]] = qtrain.round %{{.+}} to int<8, unsigned>
// CHECK-NOT:     qtrain.round
// CHECK:         qtrain.qmatmul {{.+}} lhs(int<8, unsigned>, scale %{{.+}} : tensor<f32> zero_point %{{.+}} : tensor<f32>) rhs(int<8, unsigned>, scale %{{.+}} : tensor<f32> zero_point %{{.+}} : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x2xi8> -> tensor<4x2xf32>
// CHECK-NOT:     qtrain.round
// CHECK:         %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         qtrain.qmatmul {{.+}} lhs(int<8, signed>, scale %[[ONE]] : tensor<f32>) rhs(int<8, signed>, scale %[[ONE]] : tensor<f32>) accumulate i64 : tensor<4x?xi8>, tensor<?x2xi8> -> tensor<4x2xf32>
// CHECK:         return %{{.+}}, %{{.+}}, %[[RX]]
func.func @int8(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>, %s: tensor<f32>, %z: tensor<f32>, %a: tensor<4x?xf32>, %b: tensor<?x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %rx = qtrain.round %x to int<8, unsigned> scale(%s : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<4x8xf32>
  %rw = qtrain.round %w to int<8, unsigned> scale(%s : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<8x2xf32>
  %y = linalg.matmul ins(%rx, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %ra = qtrain.round %a to int<8, signed> : tensor<4x?xf32>
  %rb = qtrain.round %b to int<8, signed> : tensor<?x2xf32>
  %y2 = linalg.matmul ins(%ra, %rb : tensor<4x?xf32>, tensor<?x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y, %y2, %rx : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x8xf32>
}

// -----

// Left alone: an operand that is not rounded, a scale along k (it cannot
// be factored out of the sums), a nonzero init, and a body that is not a
// plain multiply-add.
// CHECK-LABEL: func.func @not_quantized
// CHECK-NOT:     qtrain.qmatmul
// CHECK-COUNT-3: linalg.matmul
// CHECK:         linalg.generic
// CHECK-NOT:     qtrain.qmatmul
func.func @not_quantized(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>, %s: tensor<f32>, %sk: tensor<8xf32>, %init: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x8xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<8x2xf32>
  %y1 = linalg.matmul ins(%rx, %w : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %rk = qtrain.round %x to float<f8E4M3FN> scale(%sk : tensor<8xf32>) granularity <per_channel, axis = 1> : tensor<4x8xf32>
  %y2 = linalg.matmul ins(%rk, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y4 = linalg.matmul ins(%rx, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%rx, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %q = arith.mulf %p, %p : f32
    %r = arith.addf %acc, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x2xf32>
  return %y1, %y2, %y4, %y5 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// An integer format times a float one (INT8 training's weight gradient:
// the unsigned 8-bit activation, with its zero point, times the bf16
// gradient copy) contracts their codes in f32.
// CHECK-LABEL: func.func @int8_times_bf16
// CHECK-SAME:    (%[[A:.+]]: tensor<8x4xf32>, %[[G:.+]]: tensor<8x2xf32>, %[[S:.+]]: tensor<f32>, %[[Z:.+]]: tensor<f32>)
// CHECK-DAG:     %[[QA:.+]] = qtrain.quantize %[[A]] to int<8, unsigned> scale(%[[S]] : tensor<f32>) zero_point(%[[Z]] : tensor<f32>) : tensor<8x4xf32> -> tensor<8x4xi8>
// CHECK-DAG:     %[[QG:.+]] = qtrain.quantize %[[G]] to float<bf16> : tensor<8x2xf32> -> tensor<8x2xbf16>
// CHECK:         qtrain.qmatmul %[[QA]], %[[QG]] lhs(int<8, unsigned> transposed, scale %[[S]] : tensor<f32> zero_point %[[Z]] : tensor<f32>) rhs(float<bf16>, scale %{{.+}} : tensor<f32>) accumulate f32 : tensor<8x4xi8>, tensor<8x2xbf16> -> tensor<4x2xf32>
// CHECK-NOT:     linalg.matmul
func.func @int8_times_bf16(%a: tensor<8x4xf32>, %g: tensor<8x2xf32>, %s: tensor<f32>, %z: tensor<f32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %ra = qtrain.round %a to int<8, unsigned> scale(%s : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<8x4xf32>
  %rg = qtrain.round %g to float<bf16> : tensor<8x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>] ins(%ra, %rg : tensor<8x4xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// A convolution of rounded operands convolves their codes: strides,
// dilations, the per-output-channel filter scale and the layer name carry
// over (linalg's memoized maps do not).
// CHECK-LABEL: func.func @conv_forward
// CHECK-SAME:    (%[[X:.+]]: tensor<2x3x9x9xf32>, %[[W:.+]]: tensor<4x3x3x3xf32>, %[[SX:.+]]: tensor<f32>, %[[SW:.+]]: tensor<4xf32>)
// CHECK:         %[[QX:.+]] = qtrain.quantize %[[X]] to float<f8E4M3FN> scale(%[[SX]] : tensor<f32>) : tensor<2x3x9x9xf32> -> tensor<2x3x9x9xf8E4M3FN>
// CHECK:         %[[QW:.+]] = qtrain.quantize %[[W]] to float<f8E4M3FN> scale(%[[SW]] : tensor<4xf32>) granularity <per_channel, axis = 0> {stream = 4 : i32}
// CHECK:         %[[Y:.+]] = qtrain.qconv2d %[[QX]], %[[QW]] input(float<f8E4M3FN>, scale %[[SX]] : tensor<f32>) filter(float<f8E4M3FN>, scale %[[SW]] : tensor<4xf32> granularity <per_channel, axis = 0>) accumulate f32 strides [2, 2] dilations [1, 2] {qtrain.layer = "conv1"} : tensor<2x3x9x9xf8E4M3FN>, tensor<4x3x3x3xf8E4M3FN> -> tensor<2x4x4x3xf32>
// CHECK-NOT:     qtrain.round
// CHECK:         return %[[Y]]
func.func @conv_forward(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %sx: tensor<f32>, %sw: tensor<4xf32>) -> tensor<2x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x4x3xf32>) -> tensor<2x4x4x3xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%sx : tensor<f32>) : tensor<2x3x9x9xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<4xf32>) granularity <per_channel, axis = 0> {stream = 4 : i32} : tensor<4x3x3x3xf32>
  %y = linalg.conv_2d_nchw_fchw {qtrain.layer = "conv1", strides = dense<2> : tensor<2xi64>, dilations = dense<[1, 2]> : tensor<2xi64>} ins(%rx, %rw : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%fill : tensor<2x4x4x3xf32>) -> tensor<2x4x4x3xf32>
  return %y : tensor<2x4x4x3xf32>
}

// -----

// Backward convolutions as autodiff writes them: the activation gradient
// convolves the zero-padded gradient with the flipped, channel-swapped
// weights, the weight gradient two transposes. The moves are replayed on
// the codes (padding with code 0), and the moved roundings disappear.
// CHECK:       #[[$FLIP:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func.func @conv_backward
// CHECK:         %[[QG:.+]] = qtrain.quantize %{{.+}} to float<f8E5M2> {{.*}}rounding stochastic {{.*}}-> tensor<2x4x4x4xf8E5M2>
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<2x4x8x8xf8E5M2>
// CHECK:         %[[Z:.+]] = arith.constant 0.000000e+00 : f8E5M2
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%[[Z]] : f8E5M2) outs(%[[E]] : tensor<2x4x8x8xf8E5M2>)
// CHECK:         %[[PAD:.+]] = tensor.insert_slice %[[QG]] into %[[ZEROS]][0, 0, 2, 2] [2, 4, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[QW:.+]] = qtrain.quantize %{{.+}} to float<f8E4M3FN> {{.*}}-> tensor<4x3x3x3xf8E4M3FN>
// CHECK:         %[[FLIP:.+]] = linalg.generic {indexing_maps = [#[[$FLIP]], #{{.+}}], {{.*}} ins(%[[QW]] : tensor<4x3x3x3xf8E4M3FN>) outs(%{{.+}} : tensor<3x4x3x3xf8E4M3FN>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f8E4M3FN, %{{.+}}: f8E4M3FN):
// CHECK-NEXT:      linalg.yield %[[IN]] : f8E4M3FN
// CHECK:         %[[DX:.+]] = qtrain.qconv2d %[[PAD]], %[[FLIP]] input(float<f8E5M2>, {{.*}}) filter(float<f8E4M3FN>, {{.*}}) accumulate f32 : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xf8E4M3FN> -> tensor<2x3x6x6xf32>
// CHECK:         %[[QX:.+]] = qtrain.quantize %{{.+}} -> tensor<2x3x6x6xf8E4M3FN>
// CHECK:         %[[XT:.+]] = linalg.transpose ins(%[[QX]] : tensor<2x3x6x6xf8E4M3FN>) outs(%{{.+}} : tensor<3x2x6x6xf8E4M3FN>) permutation = [1, 0, 2, 3]
// CHECK:         %[[QG2:.+]] = qtrain.quantize %{{.+}} to float<f8E5M2> {{.*}}-> tensor<2x4x4x4xf8E5M2>
// CHECK:         %[[GT:.+]] = linalg.transpose ins(%[[QG2]] : tensor<2x4x4x4xf8E5M2>) outs(%{{.+}} : tensor<4x2x4x4xf8E5M2>) permutation = [1, 0, 2, 3]
// CHECK:         %[[DW:.+]] = qtrain.qconv2d %[[XT]], %[[GT]] {{.*}} : tensor<3x2x6x6xf8E4M3FN>, tensor<4x2x4x4xf8E5M2> -> tensor<3x4x3x3xf32>
// CHECK-NOT:     qtrain.round
// CHECK-NOT:     linalg.conv
// CHECK:         return %[[DX]], %[[DW]]
#flip = affine_map<(c, f, kh, kw) -> (f, c, 2 - kh, 2 - kw)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @conv_backward(%x: tensor<2x3x6x6xf32>, %w: tensor<4x3x3x3xf32>, %g: tensor<2x4x4x4xf32>, %s: tensor<f32>, %seed: i64) -> (tensor<2x3x6x6xf32>, tensor<3x4x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<2x3x6x6xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x3x3x3xf32>
  %rg = qtrain.round %g to float<f8E5M2> scale(%s : tensor<f32>) rounding stochastic seed(%seed) : tensor<2x4x4x4xf32>
  %pe = tensor.empty() : tensor<2x4x8x8xf32>
  %pz = linalg.fill ins(%zero : f32) outs(%pe : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %padded = tensor.insert_slice %rg into %pz[0, 0, 2, 2] [2, 4, 4, 4] [1, 1, 1, 1] : tensor<2x4x4x4xf32> into tensor<2x4x8x8xf32>
  %fe = tensor.empty() : tensor<3x4x3x3xf32>
  %flipped = linalg.generic {indexing_maps = [#flip, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rw : tensor<4x3x3x3xf32>) outs(%fe : tensor<3x4x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x4x3x3xf32>
  %dxe = tensor.empty() : tensor<2x3x6x6xf32>
  %dxz = linalg.fill ins(%zero : f32) outs(%dxe : tensor<2x3x6x6xf32>) -> tensor<2x3x6x6xf32>
  %dx = linalg.conv_2d_nchw_fchw ins(%padded, %flipped : tensor<2x4x8x8xf32>, tensor<3x4x3x3xf32>) outs(%dxz : tensor<2x3x6x6xf32>) -> tensor<2x3x6x6xf32>
  %xte = tensor.empty() : tensor<3x2x6x6xf32>
  %xt = linalg.transpose ins(%rx : tensor<2x3x6x6xf32>) outs(%xte : tensor<3x2x6x6xf32>) permutation = [1, 0, 2, 3]
  %gte = tensor.empty() : tensor<4x2x4x4xf32>
  %gt = linalg.transpose ins(%rg : tensor<2x4x4x4xf32>) outs(%gte : tensor<4x2x4x4xf32>) permutation = [1, 0, 2, 3]
  %dwz = linalg.fill ins(%zero : f32) outs(%fe : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  %dw = linalg.conv_2d_nchw_fchw ins(%xt, %gt : tensor<3x2x6x6xf32>, tensor<4x2x4x4xf32>) outs(%dwz : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  return %dx, %dw : tensor<2x3x6x6xf32>, tensor<3x4x3x3xf32>
}

// -----

// INT8 in nhwc/hwcf: zero points carry over, the accumulator is i32.
// CHECK-LABEL: func.func @conv_int8_nhwc
// CHECK:         qtrain.qconv2d {{.*}} input(int<8, unsigned>, scale %{{.+}} : tensor<f32> zero_point %{{.+}} : tensor<f32>) filter(int<8, signed>, scale %{{.+}} : tensor<4xf32> granularity <per_channel, axis = 3>) accumulate i32 layout nhwc_hwcf : tensor<2x9x9x3xi8>, tensor<3x3x3x4xi8> -> tensor<2x7x7x4xf32>
func.func @conv_int8_nhwc(%x: tensor<2x9x9x3xf32>, %w: tensor<3x3x3x4xf32>, %s: tensor<f32>, %z: tensor<f32>, %sw: tensor<4xf32>) -> tensor<2x7x7x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x7x7x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<2x7x7x4xf32>) -> tensor<2x7x7x4xf32>
  %rx = qtrain.round %x to int<8, unsigned> scale(%s : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<2x9x9x3xf32>
  %rw = qtrain.round %w to int<8, signed> scale(%sw : tensor<4xf32>) granularity <per_channel, axis = 3> : tensor<3x3x3x4xf32>
  %y = linalg.conv_2d_nhwc_hwcf ins(%rx, %rw : tensor<2x9x9x3xf32>, tensor<3x3x3x4xf32>) outs(%fill : tensor<2x7x7x4xf32>) -> tensor<2x7x7x4xf32>
  return %y : tensor<2x7x7x4xf32>
}

// -----

// Left alone: an input scale per channel (qconv2d's is per tensor), a
// filter scale along its input channels, and a per-channel rounding moved
// by a transpose. Contracted: zeros padding an asymmetric rounding (no
// code: the padding becomes qconv2d's own), and int8 times bf16 (in f32).
// CHECK-LABEL: func.func @conv_not_quantized
// CHECK-NOT:     qtrain.qconv2d
// CHECK-COUNT-3: linalg.conv_2d_nchw_fchw
// CHECK:         %[[XA:.+]] = qtrain.quantize %{{.+}} to int<8, unsigned> {{.+}} zero_point
// CHECK-NOT:     tensor.insert_slice %[[XA]]
// CHECK:         qtrain.qconv2d %[[XA]], {{.+}} zero_point {{.+}} accumulate i32 padding [1, 1, 1, 1] : tensor<2x3x6x6xi8>, tensor<4x3x3x3xi8> -> tensor<2x4x6x6xf32>
// CHECK:         qtrain.qconv2d {{.+}} input(int<8, signed>, {{.+}} filter(float<bf16>, {{.+}} accumulate f32
func.func @conv_not_quantized(%x: tensor<2x3x6x6xf32>, %w: tensor<4x3x3x3xf32>, %s: tensor<f32>, %s3: tensor<3xf32>, %z: tensor<f32>) -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<3x4x4x4xf32>, tensor<2x4x6x6xf32>, tensor<2x4x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x3x3x3xf32>
  %xc = qtrain.round %x to float<f8E4M3FN> scale(%s3 : tensor<3xf32>) granularity <per_channel, axis = 1> : tensor<2x3x6x6xf32>
  %y1 = linalg.conv_2d_nchw_fchw ins(%xc, %rw : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32>) outs(%fill : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<2x3x6x6xf32>
  %wc = qtrain.round %w to float<f8E4M3FN> scale(%s3 : tensor<3xf32>) granularity <per_channel, axis = 1> : tensor<4x3x3x3xf32>
  %y2 = linalg.conv_2d_nchw_fchw ins(%rx, %wc : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32>) outs(%fill : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %xe = tensor.empty() : tensor<3x2x6x6xf32>
  %xt = linalg.transpose ins(%xc : tensor<2x3x6x6xf32>) outs(%xe : tensor<3x2x6x6xf32>) permutation = [1, 0, 2, 3]
  %we = tensor.empty() : tensor<4x2x3x3xf32>
  %r2 = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<2x3x6x6xf32>
  %w2 = tensor.extract_slice %r2[0, 0, 0, 0] [2, 2, 3, 3] [1, 1, 1, 1] : tensor<2x3x6x6xf32> to tensor<2x2x3x3xf32>
  %w2e = tensor.empty() : tensor<4x2x3x3xf32>
  %w2f = linalg.fill ins(%zero : f32) outs(%w2e : tensor<4x2x3x3xf32>) -> tensor<4x2x3x3xf32>
  %wt = tensor.insert_slice %w2 into %w2f[0, 0, 0, 0] [2, 2, 3, 3] [1, 1, 1, 1] : tensor<2x2x3x3xf32> into tensor<4x2x3x3xf32>
  %e3 = tensor.empty() : tensor<3x4x4x4xf32>
  %fill3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<3x4x4x4xf32>) -> tensor<3x4x4x4xf32>
  %y3 = linalg.conv_2d_nchw_fchw ins(%xt, %wt : tensor<3x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%fill3 : tensor<3x4x4x4xf32>) -> tensor<3x4x4x4xf32>
  %xa = qtrain.round %x to int<8, unsigned> scale(%s : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<2x3x6x6xf32>
  %pe = tensor.empty() : tensor<2x3x8x8xf32>
  %pz = linalg.fill ins(%zero : f32) outs(%pe : tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %xp = tensor.insert_slice %xa into %pz[0, 0, 1, 1] [2, 3, 6, 6] [1, 1, 1, 1] : tensor<2x3x6x6xf32> into tensor<2x3x8x8xf32>
  %wi = qtrain.round %w to int<8, signed> scale(%s : tensor<f32>) : tensor<4x3x3x3xf32>
  %e4 = tensor.empty() : tensor<2x4x6x6xf32>
  %fill4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %y4 = linalg.conv_2d_nchw_fchw ins(%xp, %wi : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%fill4 : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %wb = qtrain.round %w to float<bf16> : tensor<4x3x3x3xf32>
  %xi = qtrain.round %x to int<8, signed> scale(%s : tensor<f32>) : tensor<2x3x6x6xf32>
  %y5 = linalg.conv_2d_nchw_fchw ins(%xi, %wb : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32>) outs(%fill : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  return %y1, %y2, %y3, %y4, %y5 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<3x4x4x4xf32>, tensor<2x4x6x6xf32>, tensor<2x4x4x4xf32>
}

// -----

// The codes of a value a linalg op computes (a hidden layer's relu) are
// made just after that op, before the ops that follow it there (the amax
// history's record), so that the GEMM producing the value can compute them
// in its epilogue; those of an argument (the weight) at the GEMM.
// CHECK-LABEL: func.func @codes_where_made
// CHECK-SAME:    (%[[X:.+]]: tensor<64x32xf32>, %[[W:.+]]: tensor<32x16xf32>, %[[S:.+]]: tensor<f32>, %[[H:.+]]: tensor<16xf32>)
// CHECK:         %[[RELU:.+]] = linalg.generic
// CHECK-NEXT:      ^bb0
// CHECK:         %[[QX:.+]] = qtrain.quantize %[[RELU]] to float<f8E4M3FN>
// CHECK-NEXT:    qtrain.record_amax %[[RELU]] into %[[H]]
// CHECK:         %[[QW:.+]] = qtrain.quantize %[[W]] to float<f8E4M3FN>
// CHECK-NEXT:    qtrain.qmatmul %[[QX]], %[[QW]]
// A scale computed from the value after it is made: the codes come after it.
// CHECK-LABEL: func.func @codes_after_their_scale
// CHECK:         %[[RELU:.+]] = linalg.generic
// CHECK:         %[[S:.+]] = qtrain.compute_scale %[[RELU]]
// CHECK:         qtrain.quantize %[[RELU]] to float<f8E4M3FN> scale(%[[S]] : tensor<f32>)
func.func @codes_where_made(%x: tensor<64x32xf32>, %w: tensor<32x16xf32>, %s: tensor<f32>, %history: tensor<16xf32>) -> (tensor<64x16xf32>, tensor<16xf32>) {
  %zero = arith.constant 0.0 : f32
  %ex = tensor.empty() : tensor<64x32xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<64x32xf32>) outs(%ex : tensor<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<64x32xf32>
  %rx = qtrain.round %relu to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<64x32xf32>
  %new = qtrain.record_amax %relu into %history : tensor<64x32xf32>, tensor<16xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<32x16xf32>
  %e = tensor.empty() : tensor<64x16xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %y = linalg.matmul ins(%rx, %rw : tensor<64x32xf32>, tensor<32x16xf32>) outs(%fill : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %y, %new : tensor<64x16xf32>, tensor<16xf32>
}
func.func @codes_after_their_scale(%x: tensor<64x32xf32>, %w: tensor<32x16xf32>, %sw: tensor<f32>) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ex = tensor.empty() : tensor<64x32xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<64x32xf32>) outs(%ex : tensor<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<64x32xf32>
  %s = qtrain.compute_scale %relu for float<f8E4M3FN> using <absmax> : tensor<64x32xf32> -> tensor<f32>
  %rx = qtrain.round %relu to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<64x32xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<f32>) : tensor<32x16xf32>
  %e = tensor.empty() : tensor<64x16xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %y = linalg.matmul ins(%rx, %rw : tensor<64x32xf32>, tensor<32x16xf32>) outs(%fill : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}
