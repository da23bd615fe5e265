// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg | FileCheck %s

// Rounding becomes one element-wise generic whose body is integer bit
// manipulation of the f32 input (no arith.truncf to small floats). Ties to
// even round the f32 bit pattern, and below the smallest normal add the
// magic constant 2^(emin - m + 23) = 2^14 for E4M3FN.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @round_e4m3
// CHECK-SAME: %[[X:.*]]: tensor<16xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<16xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel"]} ins(%[[X]] : tensor<16xf32>) outs(%[[INIT]] : tensor<16xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.bitcast %[[IN]] : f32 to i32
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: arith.truncf
// CHECK: %[[OUT:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: linalg.yield %[[OUT]] : f32
// CHECK: return %[[R]]
// CHECK-NOT: qtrain.
func.func @round_e4m3(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = qtrain.round %x to float<f8E4M3FN> : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// Other modes use the general encoder: normalize (ctlz for f32 subnormals),
// split at the format's quantum, round by mode.
// CHECK-LABEL: func.func @round_e4m3_toward_zero
// CHECK: linalg.generic
// CHECK: math.ctlz
// CHECK: arith.shrui
// CHECK-NOT: arith.truncf
func.func @round_e4m3_toward_zero(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = qtrain.round %x to float<f8E4M3FN> rounding toward_zero : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// Codes are truncated to the storage width and bitcast to the builtin float
// type; a per-channel scale is read through a projected map, as its inverse.
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[CH1:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID1:.*]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @quantize_per_channel
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>, %[[S:.*]]: tensor<8xf32>
// CHECK: %[[INV:.*]] = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[S]] : tensor<8xf32>)
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[CH1]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[INV]] : tensor<4x8xf32>, tensor<8xf32>) outs(%{{.*}} : tensor<4x8xf8E4M3FN>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[INVS:.*]]: f32, %{{.*}}: f8E4M3FN):
// CHECK: arith.mulf %[[IN]], %[[INVS]] : f32
// CHECK: %[[T:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK: %[[F:.*]] = arith.bitcast %[[T]] : i8 to f8E4M3FN
// CHECK: linalg.yield %[[F]] : f8E4M3FN
func.func @quantize_per_channel(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xf8E4M3FN> {
  %q = qtrain.quantize %x to float<f8E4M3FN> scale(%s : tensor<8xf32>) granularity <per_channel, axis = 1> : tensor<4x8xf32> -> tensor<4x8xf8E4M3FN>
  return %q : tensor<4x8xf8E4M3FN>
}

// -----

// Per-block data is split into [blocks, block size] so that every map is a
// projected permutation; stochastic rounding computes the element's linear
// index and runs Philox4x32-10 (10 rounds, two 32x32->64 products each).
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[BLOCK:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @quantize_per_block_stochastic
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 2, 32] : tensor<4x64xf32> into tensor<4x2x32xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[BLOCK]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[E]], %{{.*}} : tensor<4x2x32xf32>, tensor<4x2xf32>) outs(%{{.*}} : tensor<4x2x32xi8>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: linalg.index 2
// CHECK-COUNT-20: arith.extui %{{.*}} : i32 to i64
// CHECK: tensor.collapse_shape %[[G]] {{\[}}[0], [1, 2]] : tensor<4x2x32xi8> into tensor<4x64xi8>
func.func @quantize_per_block_stochastic(%x: tensor<4x64xf32>, %s: tensor<4x2xf32>, %seed: i64) -> tensor<4x64xi8> {
  %q = qtrain.quantize %x to float<hfp8_e4m3> scale(%s : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 32> rounding stochastic seed(%seed) : tensor<4x64xf32> -> tensor<4x64xi8>
  return %q : tensor<4x64xi8>
}

// -----

// Integer rounding works on the scaled value (ties to even: roundeven), and the zero
// point is added before and subtracted after.
// CHECK-LABEL: func.func @round_affine_int8
// CHECK: linalg.generic
// CHECK: %[[T:.*]] = arith.mulf
// CHECK: arith.addf %[[T]], %{{.*}} : f32
// CHECK: math.roundeven
// CHECK: %[[V:.*]] = arith.sitofp %{{.*}} : i32 to f32
// CHECK: %[[U:.*]] = arith.subf %[[V]], %{{.*}} : f32
// CHECK: arith.mulf %[[U]], %{{.*}} : f32
func.func @round_affine_int8(%x: tensor<8xf32>, %s: tensor<f32>, %zp: tensor<f32>) -> tensor<8xf32> {
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<f32>) zero_point(%zp : tensor<f32>) : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Dequantizing integer-stored codes widens them to i32; a bf16 result is
// rounded by the encoder, not arith.truncf.
// CHECK-LABEL: func.func @dequantize_to_bf16
// CHECK: linalg.generic
// CHECK: ^bb0(%[[IN:.*]]: i8, %{{.*}}: bf16):
// CHECK: arith.extui %[[IN]] : i8 to i32
// CHECK-NOT: arith.truncf
// CHECK: %[[H:.*]] = arith.trunci %{{.*}} : i32 to i16
// CHECK: arith.bitcast %[[H]] : i16 to bf16
func.func @dequantize_to_bf16(%q: tensor<8xi8>) -> tensor<8xbf16> {
  %0 = qtrain.dequantize %q from float<hfp8_e4m3> : tensor<8xi8> -> tensor<8xbf16>
  return %0 : tensor<8xbf16>
}

// -----

// Dynamic dimensions are supported for element-wise ops.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x8xf32>
// CHECK: tensor.empty(%[[D]]) : tensor<?x8xi8>
// CHECK: linalg.generic
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xi8> {
  %q = qtrain.quantize %x to int<8, signed> : tensor<?x8xf32> -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}
