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
// be factored out of the sums), an integer format times a float one, a
// nonzero init, and a body that is not a plain multiply-add.
// CHECK-LABEL: func.func @not_quantized
// CHECK-NOT:     qtrain.qmatmul
// CHECK-COUNT-4: linalg.matmul
// CHECK:         linalg.generic
// CHECK-NOT:     qtrain.qmatmul
func.func @not_quantized(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>, %s: tensor<f32>, %sk: tensor<8xf32>, %init: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x8xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<8x2xf32>
  %y1 = linalg.matmul ins(%rx, %w : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %rk = qtrain.round %x to float<f8E4M3FN> scale(%sk : tensor<8xf32>) granularity <per_channel, axis = 1> : tensor<4x8xf32>
  %y2 = linalg.matmul ins(%rk, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %ri = qtrain.round %x to int<8, signed> scale(%s : tensor<f32>) : tensor<4x8xf32>
  %y3 = linalg.matmul ins(%ri, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y4 = linalg.matmul ins(%rx, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%rx, %rw : tensor<4x8xf32>, tensor<8x2xf32>) outs(%fill : tensor<4x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %q = arith.mulf %p, %p : f32
    %r = arith.addf %acc, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x2xf32>
  return %y1, %y2, %y3, %y4, %y5 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}
