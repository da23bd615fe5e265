// RUN: qtrain-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Formats
//===----------------------------------------------------------------------===//

// expected-error @+1 {{invalid integer format: integer formats have 2 to 16 bits, got 1}}
func.func @int_too_narrow() attributes {f = #qtrain.int<1, signed>} { return }

// -----

// expected-error @+1 {{invalid float format: formats are at most 16 bits wide, got 17}}
func.func @float_too_wide() attributes {f = #qtrain.float<exp = 8, man = 8>} { return }

// -----

// expected-error @+1 {{IEEE special values need at least one mantissa bit to encode NaN}}
func.func @ieee_without_mantissa() attributes {f = #qtrain.float<exp = 4, man = 0>} { return }

// -----

// expected-error @+1 {{largest exponent 135 exceeds f32's 127}}
func.func @float_beyond_f32() attributes {f = #qtrain.float<exp = 8, man = 3, bias = 120, specials = fn>} { return }

// -----

// expected-error @+1 {{smallest value 2^-202 is below f32's smallest subnormal 2^-149}}
func.func @float_below_f32() attributes {f = #qtrain.float<exp = 4, man = 3, bias = 200>} { return }

// -----

// expected-error @+1 {{unknown float format 'e4m3'; expected a format name such as f8E4M3FN or 'exp = ..., man = ...'}}
func.func @unknown_format_name() attributes {f = #qtrain.float<e4m3>} { return }

// -----

// expected-error @+1 {{exponent bits must be in [1, 8], got 9}}
func.func @too_many_exponent_bits() attributes {f = #qtrain.float<exp = 9, man = 2>} { return }

// -----

// expected-error @+1 {{unknown special-value convention 'nan_only'; expected ieee, fn, fnuz or finite_only}}
func.func @unknown_specials() attributes {f = #qtrain.float<exp = 4, man = 3, specials = nan_only>} { return }

// -----

// expected-error @+1 {{unknown float format field 'rounding'; expected bias, subnormals or specials}}
func.func @unknown_format_field() attributes {f = #qtrain.float<exp = 4, man = 3, rounding = 1>} { return }

// -----

// expected-error @+1 {{expected 'true' or 'false'}}
func.func @bad_subnormals() attributes {f = #qtrain.float<exp = 4, man = 3, subnormals = maybe>} { return }

// -----

//===----------------------------------------------------------------------===//
// Granularity and scaling
//===----------------------------------------------------------------------===//

// expected-error @+1 {{unknown granularity 'per_row'; expected per_tensor, per_channel or per_block}}
func.func @unknown_granularity() attributes {g = #qtrain.granularity<per_row>} { return }

// -----

// expected-error @+1 {{granularity axis must be non-negative, got -1}}
func.func @negative_axis() attributes {g = #qtrain.granularity<per_channel, axis = -1>} { return }

// -----

// expected-error @+1 {{block size must be positive, got 0}}
func.func @empty_blocks() attributes {g = #qtrain.granularity<per_block, axis = 0, size = 0>} { return }

// -----

// expected-error @+1 {{unknown scaling method 'max'; expected absmax, minmax, batch_minmax or pow2}}
func.func @unknown_method() attributes {s = #qtrain.scaling<max>} { return }

// -----

// expected-error @+1 {{batch_minmax scaling is per tensor only}}
func.func @batch_minmax_per_channel() attributes {s = #qtrain.scaling<batch_minmax, per_channel, axis = 1>} { return }

// -----

// expected-error @+1 {{only pow2 scaling has an exponent}}
func.func @absmax_with_exponent() attributes {s = #qtrain.scaling<absmax, exponent = 2>} { return }

// -----

// expected-error @+1 {{pow2 exponent must be in [-126, 127], got 200}}
func.func @pow2_out_of_range() attributes {s = #qtrain.scaling<pow2, exponent = 200>} { return }

// -----

// expected-error @+1 {{pow2 scaling needs 'exponent = k'}}
func.func @pow2_without_exponent() attributes {s = #qtrain.scaling<pow2>} { return }

// -----

//===----------------------------------------------------------------------===//
// round / quantize / dequantize
//===----------------------------------------------------------------------===//

func.func @stochastic_without_seed(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op stochastic rounding requires a seed operand}}
  %0 = qtrain.round %x to float<f8E5M2> rounding stochastic : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @seed_without_stochastic(%x: tensor<4xf32>, %seed: i64) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op a seed is only used by stochastic rounding, but rounding is nearest_even}}
  %0 = qtrain.round %x to float<f8E5M2> seed(%seed) : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @integer_native_overflow(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op integer formats have no special values; overflow must be 'saturate'}}
  %0 = qtrain.round %x to int<8, signed> overflow native : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @not_representable(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{'qtrain.round' op format #qtrain.float<f16> is not exactly representable in element type 'bf16'; round in f32 or add a scale}}
  %0 = qtrain.round %x to float<f16> : tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

func.func @zero_point_without_scale(%x: tensor<4xf32>, %zp: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op zero point requires a scale}}
  %0 = qtrain.round %x to int<8, unsigned> zero_point(%zp : tensor<f32>) : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @granularity_without_scale(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op granularity is given but there is no scale}}
  %0 = qtrain.round %x to int<8, signed> granularity <per_channel, axis = 0> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @zero_point_with_float_format(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op zero point requires an integer format; float formats are symmetric}}
  %0 = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) zero_point(%s : tensor<f32>) : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @axis_out_of_range(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.round' op scale granularity #qtrain.granularity<per_channel, axis = 2>: axis 2 is out of range for rank 2}}
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<8xf32>) granularity <per_channel, axis = 2> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @block_does_not_divide(%x: tensor<4x8xf32>, %s: tensor<4x2xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{block size 3 does not divide dimension 1 of size 8}}
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<4x2xf32>) granularity <per_block, axis = 1, size = 3> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @scale_shape_mismatch(%x: tensor<4x8xf32>, %s: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.round' op expected scale of shape [8] for #qtrain.granularity<per_channel, axis = 1>, got 'tensor<4xf32>'}}
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<4xf32>) granularity <per_channel, axis = 1> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @per_tensor_scale_shape(%x: tensor<4x8xf32>, %s: tensor<1xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.round' op expected scale of shape [] for #qtrain.granularity<per_tensor>, got 'tensor<1xf32>'}}
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<1xf32>) : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @zero_point_type(%x: tensor<4x8xf32>, %s: tensor<8xf32>, %zp: tensor<f32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.round' op zero point must have the same type as the scale, got 'tensor<f32>' and 'tensor<8xf32>'}}
  %0 = qtrain.round %x to int<8, unsigned> scale(%s : tensor<8xf32>) zero_point(%zp : tensor<f32>) granularity <per_channel, axis = 1> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @scale_not_f32(%x: tensor<4xf32>, %s: tensor<f16>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op operand #1 must be ranked tensor of 32-bit float values, but got 'tensor<f16>'}}
  %0 = qtrain.round %x to int<8, signed> scale(%s : tensor<f16>) : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @not_a_format(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected a numeric format such as float<f8E4M3FN> or int<8, signed>, got #qtrain<rounding upward>}}
  %0 = qtrain.round %x to #qtrain<rounding upward> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantize_storage_mismatch(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{'qtrain.quantize' op result element type 'i8' does not match the storage type 'f8E4M3FN' of format #qtrain.float<f8E4M3FN>}}
  %0 = qtrain.quantize %x to float<f8E4M3FN> : tensor<4xf32> -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @quantize_shape_mismatch(%x: tensor<4xf32>) -> tensor<5xi8> {
  // expected-error @+1 {{'qtrain.quantize' op result shape [5] differs from input shape [4]}}
  %0 = qtrain.quantize %x to int<8, signed> : tensor<4xf32> -> tensor<5xi8>
  return %0 : tensor<5xi8>
}

// -----

func.func @quantize_stochastic_without_seed(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{'qtrain.quantize' op stochastic rounding requires a seed operand}}
  %0 = qtrain.quantize %x to int<8, signed> rounding stochastic : tensor<4xf32> -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @dequantize_storage_mismatch(%q: tensor<4xi8>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.dequantize' op input element type 'i8' does not match the storage type 'i4' of format #qtrain.int<4, signed>}}
  %0 = qtrain.dequantize %q from int<4, signed> : tensor<4xi8> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @dequantize_shape_mismatch(%q: tensor<4xi8>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'qtrain.dequantize' op result shape [2, 2] differs from input shape [4]}}
  %0 = qtrain.dequantize %q from int<8, signed> : tensor<4xi8> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @dequantize_scale_shape(%q: tensor<4x8xi8>, %s: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.dequantize' op expected scale of shape [4, 2] for #qtrain.granularity<per_block, axis = 1, size = 4>, got 'tensor<4xf32>'}}
  %0 = qtrain.dequantize %q from int<8, signed> scale(%s : tensor<4xf32>) granularity <per_block, axis = 1, size = 4> : tensor<4x8xi8> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// compute_scale
//===----------------------------------------------------------------------===//

func.func @affine_float_format(%x: tensor<4xf32>) -> (tensor<f32>, tensor<f32>) {
  // expected-error @+1 {{'qtrain.compute_scale' op 'minmax' scaling is affine and needs an integer format, got #qtrain.float<f8E4M3FN>}}
  %0, %1 = qtrain.compute_scale %x for float<f8E4M3FN> using <minmax> : tensor<4xf32> -> tensor<f32>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

func.func @affine_without_zero_point(%x: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'qtrain.compute_scale' op 'minmax' scaling produces a zero point; expected a second result}}
  %0 = qtrain.compute_scale %x for int<8, unsigned> using <minmax> : tensor<4xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @symmetric_with_zero_point(%x: tensor<4xf32>) -> (tensor<f32>, tensor<f32>) {
  // expected-error @+1 {{'qtrain.compute_scale' op 'absmax' scaling is symmetric and has no zero point}}
  %0, %1 = qtrain.compute_scale %x for int<8, signed> using <absmax> : tensor<4xf32> -> tensor<f32>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

func.func @batch_minmax_scalar(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  // expected-error @+1 {{'qtrain.compute_scale' op 'batch_minmax' scaling needs a batch dimension (rank >= 1)}}
  %0, %1 = qtrain.compute_scale %x for int<8, unsigned> using <batch_minmax> : tensor<f32> -> tensor<f32>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

func.func @compute_scale_axis(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qtrain.compute_scale' op scaling #qtrain.scaling<absmax, per_channel, axis = 3>: axis 3 is out of range for rank 2}}
  %0 = qtrain.compute_scale %x for int<8, signed> using <absmax, per_channel, axis = 3> : tensor<4x8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @compute_scale_shape(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qtrain.compute_scale' op expected scale of shape [4] for #qtrain.scaling<absmax, per_channel, axis = 0>, got 'tensor<8xf32>'}}
  %0 = qtrain.compute_scale %x for int<8, signed> using <absmax, per_channel, axis = 0> : tensor<4x8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @compute_scale_zero_point_type(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<f32>) {
  // expected-error @+1 {{'qtrain.compute_scale' op zero point must have the same type as the scale}}
  %0, %1 = qtrain.compute_scale %x for int<8, unsigned> using <minmax, per_channel, axis = 0> : tensor<4x8xf32> -> tensor<4xf32>, tensor<f32>
  return %0, %1 : tensor<4xf32>, tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// qmatmul
//===----------------------------------------------------------------------===//

func.func @qmatmul_ranks(%a: tensor<4x8xi8>, %b: tensor<2x8x4xi8>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op operands must both be rank 2, or both rank 3 with a leading batch dimension; got ranks 2 and 3}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<2x8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_storage(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op rhs element type 'i8' does not match the storage type 'f8E4M3FN' of format #qtrain.float<f8E4M3FN>}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(float<f8E4M3FN>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_mixed_kinds(%a: tensor<4x8xi8>, %b: tensor<8x4xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op an integer format with a float format accumulates in f32, got 'i32'}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(float<f8E4M3FN>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xf8E4M3FN> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_int_accumulator(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op integer formats accumulate in i32 or i64, got 'f32'}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %s : tensor<f32>) accumulate f32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_float_accumulator(%a: tensor<4x8xf8E4M3FN>, %b: tensor<8x4xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op float formats accumulate in f32, f16 or bf16, got 'i32'}}
  %0 = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E4M3FN>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xf8E4M3FN>, tensor<8x4xf8E4M3FN> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_contraction(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op contraction dimensions differ: lhs has 8, rhs has 4}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed> transposed, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_batch(%a: tensor<2x4x8xi8>, %b: tensor<3x8x4xi8>, %s: tensor<f32>) -> tensor<2x4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op batch dimensions differ: 2 and 3}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<2x4x8xi8>, tensor<3x8x4xi8> -> tensor<2x4x4xf32>
  return %0 : tensor<2x4x4xf32>
}

// -----

func.func @qmatmul_result(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op expected result shape [4, 4], got 'tensor<4x8xf32>'}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @qmatmul_scale_on_contraction_axis(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>, %sk: tensor<8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op lhs scale must be per tensor or per channel along the free axis 0, got #qtrain.granularity<per_channel, axis = 1>}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %sk : tensor<8xf32> granularity <per_channel, axis = 1>) rhs(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_scale_shape(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>, %s: tensor<f32>, %s3: tensor<3xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op expected rhs scale of shape [4] for #qtrain.granularity<per_channel, axis = 1>, got 'tensor<3xf32>'}}
  %0 = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %s3 : tensor<3xf32> granularity <per_channel, axis = 1>) accumulate i32 : tensor<4x8xi8>, tensor<8x4xi8> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @qmatmul_float_zero_point(%a: tensor<4x8xf8E4M3FN>, %b: tensor<8x4xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op lhs zero point requires an integer format; float formats are symmetric}}
  %0 = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32> zero_point %s : tensor<f32>) rhs(float<f8E4M3FN>, scale %s : tensor<f32>) accumulate f32 : tensor<4x8xf8E4M3FN>, tensor<8x4xf8E4M3FN> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// qconv2d
//===----------------------------------------------------------------------===//

func.func @qconv_rank(%x: tensor<3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op input and filter must be rank 4, got ranks 3 and 4}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_channels(%x: tensor<1x4x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op input has 4 channels but the filter expects 3}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<1x4x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_strides(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op strides and dilations must have two entries each}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 strides [1, 1, 1] : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_zero_stride(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op strides and dilations must be positive}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 strides [0, 1] : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_padding(%x: tensor<1x3x4x4xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x2x2xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op padding must be four non-negative sizes: top, left, bottom, right}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 padding [1, 1] : tensor<1x3x4x4xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x2x2xf32>
  return %0 : tensor<1x8x2x2xf32>
}

// -----

func.func @qconv_padded_shape(%x: tensor<1x3x4x4xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x2x2xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op expected result shape [1, 8, 4, 3], got 'tensor<1x8x2x2xf32>'}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 padding [1, 0, 1, 1] : tensor<1x3x4x4xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x2x2xf32>
  return %0 : tensor<1x8x2x2xf32>
}

// -----

func.func @qconv_kernel_too_large(%x: tensor<1x3x4x4xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x1x1xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op the dilated kernel (5) is larger than the padded input (4) along spatial dimension 0}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 dilations [2, 2] : tensor<1x3x4x4xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x1x1xf32>
  return %0 : tensor<1x8x1x1xf32>
}

// -----

func.func @qconv_result(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x9x9xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op expected result shape [1, 8, 7, 7], got 'tensor<1x8x9x9xf32>'}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x9x9xf32>
  return %0 : tensor<1x8x9x9xf32>
}

// -----

func.func @qconv_filter_scale_axis(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>, %sc: tensor<3xf32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op filter scale must be per tensor or per channel along the free axis 0, got #qtrain.granularity<per_channel, axis = 1>}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %sc : tensor<3xf32> granularity <per_channel, axis = 1>) accumulate i32 : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_input_scale(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>, %s3: tensor<3xf32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op expected input scale of shape [] for #qtrain.granularity<per_tensor>, got 'tensor<3xf32>'}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s3 : tensor<3xf32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @qconv_transposed_filter_channels(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x3x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op input has 3 channels but the filter expects 8}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed> transposed, scale %s : tensor<f32>) accumulate i32 : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}

// -----

func.func @qmatmul_inexact_accumulator(%a: tensor<4x8xi16>, %b: tensor<8x4xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qtrain.qmatmul' op format #qtrain.float<dlfloat16> is not exactly representable in the accumulator type 'f16'}}
  %0 = qtrain.qmatmul %a, %b lhs(float<dlfloat16>, scale %s : tensor<f32>) rhs(float<f8E4M3FN>, scale %s : tensor<f32>) accumulate f16 : tensor<4x8xi16>, tensor<8x4xf8E4M3FN> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// expected-error @+1 {{argument #0 of role 'seed' has type 'tensor<4xf32>'; expected i64}}
func.func @seed_role(%s: tensor<4xf32> {qtrain.role = #qtrain<role seed>}) {
  return
}

// -----

// expected-error @+1 {{'qtrain.role' must be a #qtrain<role ...>, got "parameter"}}
func.func @string_role(%p: tensor<4xf32> {qtrain.role = "parameter"}) {
  return
}

// -----

// expected-error @+1 {{unknown qtrain argument attribute 'qtrain.param'}}
func.func @unknown_arg_attr(%p: tensor<4xf32> {qtrain.param}) {
  return
}

// -----

func.func @quantizer_no_spec(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.quantizer' op needs a forward or a backward spec}}
  %0 = qtrain.quantizer %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_weight_backward_alone(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'weight_backward' splits the backward rounding; it needs 'backward' too}}
  %0 = qtrain.quantizer %x weight_backward <float<bf16>, nearest_even> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_stochastic_without_seed(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{stochastic rounding requires a seed operand}}
  %0 = qtrain.quantizer %x backward <float<bf16>, stochastic> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_unused_seed(%x: tensor<4xf32>, %s: i64) -> tensor<4xf32> {
  // expected-error @+1 {{a seed is only used by stochastic rounding, which no spec uses}}
  %0 = qtrain.quantizer %x seed(%s) forward <float<bf16>, nearest_even> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_bad_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{forward scaling #qtrain.scaling<absmax, per_channel, axis = 2>: }}
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax, per_channel, axis = 2>> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @quantizer_unscaled_int_in_bf16(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{backward format #qtrain.float<f16> is not exactly representable in element type 'bf16'; round in f32 or add a scaling}}
  %0 = qtrain.quantizer %x backward <float<f16>, nearest_even> : tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

func.func @quant_spec_affine_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'minmax' scaling is affine and needs an integer format}}
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <minmax>> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quant_spec_bad_rounding(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unknown rounding mode 'nearest'}}
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @+1 {{'qtrain.gradient_of' must name the model function}}
func.func @gradient_of_string() attributes {qtrain.gradient_of = "f"} {
  return
}

// -----

func.func @layer_not_string() {
  // expected-error @+1 {{'qtrain.layer' must be a string naming the layer}}
  %c = arith.constant {qtrain.layer = 3 : i32} 0 : i32
  return
}

// -----

// expected-error @+1 {{unknown qtrain attribute 'qtrain.bogus'}}
func.func @unknown_attr() attributes {qtrain.bogus} {
  return
}

// -----

// expected-error @+1 {{'qtrain.init' must be a #qtrain<init ...>, got "ones"}}
func.func @init_string(%p: tensor<4xf32> {qtrain.init = "ones"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 of role 'learning_rate' has type 'tensor<2xf32>'; expected tensor<f32>}}
func.func @learning_rate_shape(%lr: tensor<2xf32> {qtrain.role = #qtrain<role learning_rate>}) {
  return
}

// -----

// expected-error @+1 {{'qtrain.saved_activation_bytes' must be an integer}}
func.func @saved_bytes_string() attributes {qtrain.saved_activation_bytes = "many"} {
  return
}

// -----

func.func @quant_spec_history_without_absmax(%x: tensor<4xf32>, %h: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{an amax history needs per-tensor 'absmax' scaling}}
  %0, %1 = qtrain.quantizer %x history(%h : tensor<4xf32>) forward <int<8, unsigned>, nearest_even, scaling <minmax>, history = 4> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quant_spec_history_per_channel(%x: tensor<4x2xf32>, %h: tensor<4xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{an amax history needs per-tensor 'absmax' scaling}}
  %0, %1 = qtrain.quantizer %x history(%h : tensor<4xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax, per_channel, axis = 0>, history = 4> : tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @quant_spec_negative_history(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{an amax history needs a positive length, got -2}}
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = -2> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_missing_history(%x: tensor<4xf32>, %h: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.quantizer' op needs one amax history per delayed spec (forward, backward, weight_backward order), of types 'tensor<4xf32>', 'tensor<8xf32>', got 'tensor<4xf32>'}}
  %0, %1 = qtrain.quantizer %x history(%h : tensor<4xf32>)
      forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 4>
      backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 8> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantizer_history_of_undelayed_spec(%x: tensor<4xf32>, %h: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.quantizer' op needs one amax history per delayed spec (forward, backward, weight_backward order), of types , got 'tensor<4xf32>'}}
  %0, %1 = qtrain.quantizer %x history(%h : tensor<4xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax>> : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @record_amax_dynamic_history(%x: tensor<4xf32>, %h: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'qtrain.record_amax' op needs a history of static, positive length, got 'tensor<?xf32>'}}
  %0 = qtrain.record_amax %x into %h : tensor<4xf32>, tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @record_amax_empty_history(%x: tensor<4xf32>, %h: tensor<0xf32>) -> tensor<0xf32> {
  // expected-error @+1 {{'qtrain.record_amax' op needs a history of static, positive length, got 'tensor<0xf32>'}}
  %0 = qtrain.record_amax %x into %h : tensor<4xf32>, tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @pack_odd(%codes: tensor<2x7xi8>) -> tensor<2x3xi8> {
  // expected-error @+1 {{'qtrain.pack' op packs pairs along the innermost dimension, which must be even in 'tensor<2x7xi8>'}}
  %p = qtrain.pack %codes : tensor<2x7xi8> -> tensor<2x3xi8>
  return %p : tensor<2x3xi8>
}

// -----

func.func @pack_shape(%codes: tensor<2x8xi8>) -> tensor<4x2xi8> {
  // expected-error @+1 {{'qtrain.pack' op expected packed bytes of shape 'tensor<2x4xi8>' for 'tensor<2x8xi8>', got 'tensor<4x2xi8>'}}
  %p = qtrain.pack %codes : tensor<2x8xi8> -> tensor<4x2xi8>
  return %p : tensor<4x2xi8>
}

// -----

func.func @unpack_dynamic(%bytes: tensor<?x4xi8>) -> tensor<?x8xi8> {
  // expected-error @+1 {{'qtrain.unpack' op needs static tensors of one rank (at least 1), got 'tensor<?x8xi8>' and 'tensor<?x4xi8>'}}
  %u = qtrain.unpack %bytes : tensor<?x4xi8> -> tensor<?x8xi8>
  return %u : tensor<?x8xi8>
}

// -----

// expected-error @+1 {{'qtrain.host_only' must be a unit attribute of a function declaration}}
func.func @host_only_with_body() attributes {qtrain.host_only} {
  return
}

// -----

// expected-error @+1 {{'qtrain.device_entry' must be a unit attribute of a public function with a body}}
func.func private @device_entry_private(%a: memref<4xf32>) attributes {qtrain.device_entry} {
  return
}


// -----

// expected-error @+1 {{'qtrain.device_entry' function returns a buffer; a device entry's callers pass the buffers it writes}}
func.func @device_entry_returns_buffer(%a: memref<4xf32>) -> memref<4xf32> attributes {qtrain.device_entry} {
  return %a : memref<4xf32>
}
