// RUN: qtrain-opt %s -split-input-file | FileCheck %s
// Round trip through the generic form too.
// RUN: qtrain-opt %s -split-input-file -mlir-print-op-generic | qtrain-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @round_every_builtin_format
func.func @round_every_builtin_format(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: qtrain.round %{{.*}} to float<f16> : tensor<4xf32>
  %0 = qtrain.round %x to float<f16> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<bf16>
  %1 = qtrain.round %0 to float<bf16> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E5M2>
  %2 = qtrain.round %1 to float<f8E5M2> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E4M3>
  %3 = qtrain.round %2 to float<f8E4M3> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E3M4>
  %4 = qtrain.round %3 to float<f8E3M4> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E4M3FN>
  %5 = qtrain.round %4 to float<f8E4M3FN> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E4M3FNUZ>
  %6 = qtrain.round %5 to float<f8E4M3FNUZ> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E5M2FNUZ>
  %7 = qtrain.round %6 to float<f8E5M2FNUZ> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E4M3B11FNUZ>
  %8 = qtrain.round %7 to float<f8E4M3B11FNUZ> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f6E2M3FN>
  %9 = qtrain.round %8 to float<f6E2M3FN> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f6E3M2FN>
  %10 = qtrain.round %9 to float<f6E3M2FN> : tensor<4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f4E2M1FN>
  %11 = qtrain.round %10 to float<f4E2M1FN> : tensor<4xf32>
  return %11 : tensor<4xf32>
}

// -----

// Formats without a builtin type, and the spelled-out form: a format equal to
// a named one prints by its name.
// CHECK-LABEL: func.func @round_spelled_out_formats
func.func @round_spelled_out_formats(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: to float<hfp8_e4m3>
  %0 = qtrain.round %x to float<exp = 4, man = 3, bias = 11, specials = finite_only> : tensor<4xf32>
  // CHECK: to float<dlfloat16>
  %1 = qtrain.round %0 to float<dlfloat16> : tensor<4xf32>
  // CHECK: to float<f8E4M3FN>
  %2 = qtrain.round %1 to float<exp = 4, man = 3, specials = fn> : tensor<4xf32>
  // CHECK: to float<exp = 3, man = 2, bias = 5, subnormals = false, specials = fnuz>
  %3 = qtrain.round %2 to float<exp = 3, man = 2, bias = 5, subnormals = false, specials = fnuz> : tensor<4xf32>
  // CHECK: to float<exp = 5, man = 1>
  %4 = qtrain.round %3 to float<exp = 5, man = 1, bias = 15> : tensor<4xf32>
  // CHECK: to int<4, unsigned>
  %5 = qtrain.round %4 to int<4, unsigned> : tensor<4xf32>
  // A full attribute (or an alias of one) is accepted where a format goes.
  // CHECK: to int<8, signed>
  %6 = qtrain.round %5 to #qtrain.int<8, signed> rounding toward_zero : tensor<4xf32>
  return %6 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @round_options
func.func @round_options(%x: tensor<8x4xf32>, %s: tensor<8xf32>, %zp: tensor<8xf32>, %seed: i64) -> (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xbf16>) {
  // CHECK: qtrain.round %{{.*}} to int<8, unsigned> scale(%{{.*}} : tensor<8xf32>) zero_point(%{{.*}} : tensor<8xf32>) granularity <per_channel, axis = 0> rounding stochastic seed(%{{.*}}) {stream = 7 : i32} : tensor<8x4xf32>
  %0 = qtrain.round %x to int<8, unsigned> scale(%s : tensor<8xf32>) zero_point(%zp : tensor<8xf32>) granularity <per_channel, axis = 0> rounding stochastic seed(%seed) {stream = 7 : i32} : tensor<8x4xf32>
  // CHECK: qtrain.round %{{.*}} to float<f8E5M2> rounding upward overflow native : tensor<8x4xf32>
  %1 = qtrain.round %x to float<f8E5M2> rounding upward overflow native : tensor<8x4xf32>
  %b = arith.truncf %x : tensor<8x4xf32> to tensor<8x4xbf16>
  // CHECK: qtrain.round %{{.*}} to float<f8E4M3FN> : tensor<8x4xbf16>
  %2 = qtrain.round %b to float<f8E4M3FN> : tensor<8x4xbf16>
  return %0, %1, %2 : tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xbf16>
}

// -----

// CHECK-LABEL: func.func @quantize_dequantize
func.func @quantize_dequantize(%x: tensor<4x64xf32>, %s: tensor<f32>, %sb: tensor<4x2xf32>) -> (tensor<4x64xf32>, tensor<4x64xf16>) {
  // CHECK: %[[Q:.*]] = qtrain.quantize %{{.*}} to float<f8E4M3FN> scale(%{{.*}} : tensor<f32>) : tensor<4x64xf32> -> tensor<4x64xf8E4M3FN>
  %q = qtrain.quantize %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x64xf32> -> tensor<4x64xf8E4M3FN>
  // CHECK: qtrain.dequantize %[[Q]] from float<f8E4M3FN> scale(%{{.*}} : tensor<f32>) : tensor<4x64xf8E4M3FN> -> tensor<4x64xf32>
  %d = qtrain.dequantize %q from float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x64xf8E4M3FN> -> tensor<4x64xf32>
  // Formats without a builtin type are stored as integers of their width.
  // CHECK: qtrain.quantize %{{.*}} to float<hfp8_e4m3> scale(%{{.*}} : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 32> : tensor<4x64xf32> -> tensor<4x64xi8>
  %h = qtrain.quantize %x to float<hfp8_e4m3> scale(%sb : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 32> : tensor<4x64xf32> -> tensor<4x64xi8>
  // CHECK: qtrain.dequantize %{{.*}} from float<hfp8_e4m3> scale(%{{.*}} : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 32> : tensor<4x64xi8> -> tensor<4x64xf16>
  %hd = qtrain.dequantize %h from float<hfp8_e4m3> scale(%sb : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 32> : tensor<4x64xi8> -> tensor<4x64xf16>
  // CHECK: qtrain.quantize %{{.*}} to int<4, signed> : tensor<4x64xf32> -> tensor<4x64xi4>
  %i4 = qtrain.quantize %x to int<4, signed> : tensor<4x64xf32> -> tensor<4x64xi4>
  return %d, %hd : tensor<4x64xf32>, tensor<4x64xf16>
}

// -----

// Dynamic dimensions are allowed; the checks that need them are skipped.
// CHECK-LABEL: func.func @dynamic_shapes
func.func @dynamic_shapes(%x: tensor<?x16xf32>, %s: tensor<?xf32>) -> tensor<?x16xi8> {
  // CHECK: qtrain.quantize %{{.*}} to int<8, signed> scale(%{{.*}} : tensor<?xf32>) granularity <per_channel, axis = 0> : tensor<?x16xf32> -> tensor<?x16xi8>
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<?xf32>) granularity <per_channel, axis = 0> : tensor<?x16xf32> -> tensor<?x16xi8>
  return %q : tensor<?x16xi8>
}

// -----

// CHECK-LABEL: func.func @compute_scale
func.func @compute_scale(%x: tensor<16x32xf32>) -> (tensor<16xf32>, tensor<f32>, tensor<f32>, tensor<16x2xf32>, tensor<16x2xf32>, tensor<f32>) {
  // CHECK: qtrain.compute_scale %{{.*}} for float<f8E4M3FN> using <absmax, per_channel, axis = 0> : tensor<16x32xf32> -> tensor<16xf32>
  %0 = qtrain.compute_scale %x for float<f8E4M3FN> using <absmax, per_channel, axis = 0> : tensor<16x32xf32> -> tensor<16xf32>
  // CHECK: qtrain.compute_scale %{{.*}} for int<8, unsigned> using <batch_minmax> : tensor<16x32xf32> -> tensor<f32>, tensor<f32>
  %1, %2 = qtrain.compute_scale %x for int<8, unsigned> using <batch_minmax> : tensor<16x32xf32> -> tensor<f32>, tensor<f32>
  // CHECK: qtrain.compute_scale %{{.*}} for int<8, signed> using <minmax, per_block, axis = 1, size = 16> : tensor<16x32xf32> -> tensor<16x2xf32>, tensor<16x2xf32>
  %3, %4 = qtrain.compute_scale %x for int<8, signed> using <minmax, per_block, axis = 1, size = 16> : tensor<16x32xf32> -> tensor<16x2xf32>, tensor<16x2xf32>
  // CHECK: qtrain.compute_scale %{{.*}} for float<f8E5M2> using <pow2, exponent = -4> : tensor<16x32xf32> -> tensor<f32>
  %5 = qtrain.compute_scale %x for float<f8E5M2> using <pow2, exponent = -4> : tensor<16x32xf32> -> tensor<f32>
  return %0, %1, %2, %3, %4, %5 : tensor<16xf32>, tensor<f32>, tensor<f32>, tensor<16x2xf32>, tensor<16x2xf32>, tensor<f32>
}

// -----

// CHECK-LABEL: func.func @qmatmul
func.func @qmatmul(%a: tensor<4x8xi8>, %b: tensor<16x8xi8>, %sa: tensor<f32>, %sb: tensor<16xf32>, %za: tensor<f32>,
                   %a8: tensor<2x8x4xf8E4M3FN>, %b8: tensor<2x8x16xf8E5M2>) -> (tensor<4x16xf32>, tensor<2x4x16xbf16>) {
  // CHECK: qtrain.qmatmul %{{.*}}, %{{.*}} lhs(int<8, unsigned>, scale %{{.*}} : tensor<f32> zero_point %{{.*}} : tensor<f32>) rhs(int<8, signed> transposed, scale %{{.*}} : tensor<16xf32> granularity <per_channel, axis = 0>) accumulate i32 : tensor<4x8xi8>, tensor<16x8xi8> -> tensor<4x16xf32>
  %0 = qtrain.qmatmul %a, %b lhs(int<8, unsigned>, scale %sa : tensor<f32> zero_point %za : tensor<f32>)
                             rhs(int<8, signed> transposed, scale %sb : tensor<16xf32> granularity <per_channel, axis = 0>)
                             accumulate i32 : tensor<4x8xi8>, tensor<16x8xi8> -> tensor<4x16xf32>
  // Mixed FP8 formats, as in a backward GEMM, batched, with a transposed lhs.
  // CHECK: qtrain.qmatmul %{{.*}}, %{{.*}} lhs(float<f8E4M3FN> transposed, scale %{{.*}} : tensor<f32>) rhs(float<f8E5M2>, scale %{{.*}} : tensor<f32>) accumulate f32 : tensor<2x8x4xf8E4M3FN>, tensor<2x8x16xf8E5M2> -> tensor<2x4x16xbf16>
  %1 = qtrain.qmatmul %a8, %b8 lhs(float<f8E4M3FN> transposed, scale %sa : tensor<f32>)
                               rhs(float<f8E5M2>, scale %sa : tensor<f32>)
                               accumulate f32 : tensor<2x8x4xf8E4M3FN>, tensor<2x8x16xf8E5M2> -> tensor<2x4x16xbf16>
  return %0, %1 : tensor<4x16xf32>, tensor<2x4x16xbf16>
}

// -----

// CHECK-LABEL: func.func @qconv2d
func.func @qconv2d(%x: tensor<1x3x9x9xf8E4M3FN>, %w: tensor<8x3x3x3xf8E4M3FN>, %s: tensor<f32>, %sw: tensor<8xf32>,
                   %xi: tensor<2x10x10x4xi8>, %wi: tensor<3x3x4x16xi8>, %swi: tensor<16xf32>) -> (tensor<1x8x4x4xf32>, tensor<2x2x2x16xf32>) {
  // CHECK: qtrain.qconv2d %{{.*}}, %{{.*}} input(float<f8E4M3FN>, scale %{{.*}} : tensor<f32>) filter(float<f8E4M3FN>, scale %{{.*}} : tensor<8xf32> granularity <per_channel, axis = 0>) accumulate f32 strides [2, 2] : tensor<1x3x9x9xf8E4M3FN>, tensor<8x3x3x3xf8E4M3FN> -> tensor<1x8x4x4xf32>
  %0 = qtrain.qconv2d %x, %w input(float<f8E4M3FN>, scale %s : tensor<f32>)
                             filter(float<f8E4M3FN>, scale %sw : tensor<8xf32> granularity <per_channel, axis = 0>)
                             accumulate f32 strides [2, 2] : tensor<1x3x9x9xf8E4M3FN>, tensor<8x3x3x3xf8E4M3FN> -> tensor<1x8x4x4xf32>
  // CHECK: qtrain.qconv2d %{{.*}}, %{{.*}} input(int<8, signed>, scale %{{.*}} : tensor<f32>) filter(int<8, signed>, scale %{{.*}} : tensor<16xf32> granularity <per_channel, axis = 3>) accumulate i32 layout nhwc_hwcf strides [4, 4] dilations [2, 2] : tensor<2x10x10x4xi8>, tensor<3x3x4x16xi8> -> tensor<2x2x2x16xf32>
  %1 = qtrain.qconv2d %xi, %wi input(int<8, signed>, scale %s : tensor<f32>)
                               filter(int<8, signed>, scale %swi : tensor<16xf32> granularity <per_channel, axis = 3>)
                               accumulate i32 layout nhwc_hwcf strides [4, 4] dilations [2, 2] : tensor<2x10x10x4xi8>, tensor<3x3x4x16xi8> -> tensor<2x2x2x16xf32>
  // CHECK: qtrain.qconv2d %{{.*}}, %{{.*}} input(int<8, signed>, scale %{{.*}} : tensor<f32> zero_point %{{.*}} : tensor<f32>) filter(int<8, signed>, scale %{{.*}} : tensor<16xf32> granularity <per_channel, axis = 3>) accumulate i32 layout nhwc_hwcf padding [1, 0, 2, 1] : tensor<2x10x10x4xi8>, tensor<3x3x4x16xi8> -> tensor<2x11x9x16xf32>
  %2 = qtrain.qconv2d %xi, %wi input(int<8, signed>, scale %s : tensor<f32> zero_point %s : tensor<f32>)
                               filter(int<8, signed>, scale %swi : tensor<16xf32> granularity <per_channel, axis = 3>)
                               accumulate i32 layout nhwc_hwcf padding [1, 0, 2, 1] : tensor<2x10x10x4xi8>, tensor<3x3x4x16xi8> -> tensor<2x11x9x16xf32>
  return %0, %1 : tensor<1x8x4x4xf32>, tensor<2x2x2x16xf32>
}

// -----

// Attributes on their own, as recipes and other dialects carry them.
// CHECK-LABEL: func.func @attributes
// CHECK-SAME: formats = [#qtrain.float<f8E4M3FN>, #qtrain.int<8, signed>, #qtrain.float<exp = 2, man = 0, specials = finite_only>]
// CHECK-SAME: granularities = [#qtrain.granularity<per_tensor>, #qtrain.granularity<per_channel, axis = 1>, #qtrain.granularity<per_block, axis = 0, size = 32>]
// CHECK-SAME: modes = [#qtrain<rounding stochastic>, #qtrain<overflow native>, #qtrain<conv_layout nhwc_hwcf>]
// CHECK-SAME: scalings = [#qtrain.scaling<absmax>, #qtrain.scaling<minmax, per_channel, axis = 0>, #qtrain.scaling<pow2, exponent = 3>]
func.func @attributes() attributes {
  formats = [#qtrain.float<f8E4M3FN>, #qtrain.int<8, signed>, #qtrain.float<exp = 2, man = 0, bias = 1, specials = finite_only>],
  granularities = [#qtrain.granularity<per_tensor>, #qtrain.granularity<per_channel, axis = 1>, #qtrain.granularity<per_block, axis = 0, size = 32>],
  modes = [#qtrain<rounding stochastic>, #qtrain<overflow native>, #qtrain<conv_layout nhwc_hwcf>],
  scalings = [#qtrain.scaling<absmax, per_tensor>, #qtrain.scaling<minmax, per_channel, axis = 0>, #qtrain.scaling<pow2, exponent = 3>]
} {
  return
}

// -----

// The input-gradient convolution reads the forward filter transposed.
// CHECK-LABEL: func.func @qconv2d_transposed_filter
// CHECK: filter(float<f8E4M3FN> transposed, scale %{{.*}} : tensor<3xf32> granularity <per_channel, axis = 1>)
func.func @qconv2d_transposed_filter(%dy: tensor<1x8x9x9xf8E5M2>, %w: tensor<8x3x3x3xf8E4M3FN>, %s: tensor<f32>, %sw: tensor<3xf32>) -> tensor<1x3x7x7xf32> {
  %0 = qtrain.qconv2d %dy, %w input(float<f8E5M2>, scale %s : tensor<f32>)
                              filter(float<f8E4M3FN> transposed, scale %sw : tensor<3xf32> granularity <per_channel, axis = 1>)
                              accumulate f32 : tensor<1x8x9x9xf8E5M2>, tensor<8x3x3x3xf8E4M3FN> -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}

// -----

// Quantizers: forward and backward specs, bifurcation, seeds.
// CHECK-LABEL: func.func @quantizers
// CHECK: qtrain.quantizer %{{.*}} forward <float<f8E4M3FN>, nearest_even, scaling <absmax>> backward <float<f8E5M2>, nearest_even, scaling <absmax>> : tensor<4x8xf32>
// CHECK: qtrain.quantizer %{{.*}} seed(%{{.*}}) backward <int<8, signed>, stochastic, scaling <minmax>> weight_backward <float<bf16>, nearest_even> {stream = 4 : i32} : tensor<4x8xf32>
// CHECK: qtrain.quantizer %{{.*}} forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> : tensor<4x8xf32>
// CHECK: qtrain.quantizer %{{.*}} forward <float<f8E4M3FN>, nearest_even, scaling <absmax, per_channel, axis = 1>> : tensor<4x8xf32>
func.func @quantizers(%x: tensor<4x8xf32>, %seed: i64) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
                           backward <float<f8E5M2>, nearest_even, scaling <absmax>> : tensor<4x8xf32>
  %1 = qtrain.quantizer %x seed(%seed) backward <int<8, signed>, stochastic, scaling <minmax>>
                           weight_backward <float<bf16>, nearest_even> {stream = 4 : i32} : tensor<4x8xf32>
  %2 = qtrain.quantizer %x forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> : tensor<4x8xf32>
  %3 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax, per_channel, axis = 1>> : tensor<4x8xf32>
  return %0, %1, %2, %3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Delayed scaling: a history per delayed spec, updated histories as
// results; record_amax pushes an amax onto a history.
// CHECK-LABEL: func.func @delayed_scaling
// CHECK: %{{.*}}, %{{.*}}:2 = qtrain.quantizer %{{.*}} history(%{{.*}}, %{{.*}} : tensor<16xf32>, tensor<8xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16> backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 8> : tensor<4x8xf32>
// CHECK: qtrain.record_amax %{{.*}} into %{{.*}} : tensor<4x8xbf16>, tensor<16xf32>
func.func @delayed_scaling(%x: tensor<4x8xf32>, %y: tensor<4x8xbf16>, %h: tensor<16xf32>, %g: tensor<8xf32>)
    -> (tensor<4x8xf32>, tensor<16xf32>, tensor<8xf32>, tensor<16xf32>) {
  %0, %1, %2 = qtrain.quantizer %x history(%h, %g : tensor<16xf32>, tensor<8xf32>)
      forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16>
      backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 8> : tensor<4x8xf32>
  %3 = qtrain.record_amax %y into %h : tensor<4x8xbf16>, tensor<16xf32>
  return %0, %1, %2, %3 : tensor<4x8xf32>, tensor<16xf32>, tensor<8xf32>, tensor<16xf32>
}

// -----

// 4-bit codes packed two per byte and back.
// CHECK-LABEL: func.func @packing
// CHECK: %[[P:.*]] = qtrain.pack %{{.*}} : tensor<2x8xi8> -> tensor<2x4xi8>
// CHECK: qtrain.unpack %[[P]] : tensor<2x4xi8> -> tensor<2x8xi8>
func.func @packing(%codes: tensor<2x8xi8>) -> tensor<2x8xi8> {
  %p = qtrain.pack %codes : tensor<2x8xi8> -> tensor<2x4xi8>
  %u = qtrain.unpack %p : tensor<2x4xi8> -> tensor<2x8xi8>
  return %u : tensor<2x8xi8>
}
