// RUN: qtrain-opt %s -split-input-file -canonicalize | FileCheck %s

// Constant folding uses the numerics library: ties to even, saturation,
// subnormals (1.5 * 2^-9 ties to 2^-8) and -0 of E4M3FN.
// CHECK-LABEL: func.func @fold_round_constant
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, 1.250000e+00, 4.480000e+02, 4.480000e+02, -0.000000e+00, 3.125000e-01, 0.000000e+00, 3.906250e-03]> : tensor<8xf32>
// CHECK-NOT: qtrain.round
// CHECK: return %[[C]]
func.func @fold_round_constant() -> tensor<8xf32> {
  %c = arith.constant dense<[1.0625, 1.1875, 449.0, 1000.0, -0.0, 0.3, 0.0009765625, 0.0029296875]> : tensor<8xf32>
  %0 = qtrain.round %c to float<f8E4M3FN> : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Native overflow: E4M3FN has no inf, so 1000 becomes NaN; E5M2 overflows to
// inf, except toward zero.
// CHECK-LABEL: func.func @fold_round_native_overflow
// CHECK-DAG: arith.constant dense<[4.480000e+02, 0x7FC00000]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[0x7F800000, 0xFF800000]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[5.734400e+04, -5.734400e+04]> : tensor<2xf32>
func.func @fold_round_native_overflow() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %c = arith.constant dense<[449.0, 1000.0]> : tensor<2xf32>
  %0 = qtrain.round %c to float<f8E4M3FN> overflow native : tensor<2xf32>
  %big = arith.constant dense<[1.0e6, -1.0e6]> : tensor<2xf32>
  %1 = qtrain.round %big to float<f8E5M2> overflow native : tensor<2xf32>
  %2 = qtrain.round %big to float<f8E5M2> rounding toward_zero overflow native : tensor<2xf32>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Scaled integer rounding with per-channel scales: 2.4 / 0.5 rounds to 5
// (2.5), -1000 / 0.5 saturates to -128 (-64); the second round, with scale 1,
// takes 2.5 to 2 (ties to even).
// CHECK-LABEL: func.func @fold_round_scaled
// CHECK: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [1.270000e+02, -6.400000e+01]]> : tensor<2x2xf32>
func.func @fold_round_scaled() -> tensor<2x2xf32> {
  %c = arith.constant dense<[[1.2, 2.4], [1000.0, -1000.0]]> : tensor<2x2xf32>
  %s = arith.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %0 = qtrain.round %c to int<8, signed> scale(%s : tensor<2xf32>) granularity <per_channel, axis = 1> : tensor<2x2xf32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %1 = qtrain.round %0 to int<8, signed> scale(%one : tensor<f32>) : tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// Stochastic rounding folds when the seed is a constant; either neighbour may
// come out (the exact bits are tested against the library in the unit tests).
// CHECK-LABEL: func.func @fold_round_stochastic
// CHECK: arith.constant dense<[{{1.000000e\+00|1.125000e\+00}}, 2.000000e+00]> : tensor<2xf32>
// CHECK-NOT: qtrain.round
func.func @fold_round_stochastic() -> tensor<2xf32> {
  %c = arith.constant dense<[1.1, 2.0]> : tensor<2xf32>
  %seed = arith.constant 42 : i64
  %0 = qtrain.round %c to float<f8E4M3FN> rounding stochastic seed(%seed) : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @no_fold_unknown_seed
// CHECK: qtrain.round
func.func @no_fold_unknown_seed(%seed: i64) -> tensor<2xf32> {
  %c = arith.constant dense<[1.1, 2.0]> : tensor<2xf32>
  %0 = qtrain.round %c to float<f8E4M3FN> rounding stochastic seed(%seed) : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @no_fold_unknown_scale
// CHECK: qtrain.round
func.func @no_fold_unknown_scale(%s: tensor<f32>) -> tensor<2xf32> {
  %c = arith.constant dense<[1.1, 2.0]> : tensor<2xf32>
  %0 = qtrain.round %c to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// bf16 data is rounded in f32 and written back exactly.
// CHECK-LABEL: func.func @fold_round_bf16
// CHECK: arith.constant dense<[1.000000e+00, 1.250000e+00]> : tensor<2xbf16>
func.func @fold_round_bf16() -> tensor<2xbf16> {
  %c = arith.constant dense<[1.0625, 1.1875]> : tensor<2xbf16>
  %0 = qtrain.round %c to float<f8E4M3FN> : tensor<2xbf16>
  return %0 : tensor<2xbf16>
}

// -----

// CHECK-LABEL: func.func @fold_quantize_dequantize_constants
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.250000e+00, 4.480000e+02, -0.000000e+00]> : tensor<4xf8E4M3FN>
// CHECK-DAG: arith.constant dense<[-128, -1, 3, 127]> : tensor<4xi8>
// CHECK-DAG: arith.constant dense<[-1.000000e+00, 5.000000e-01, 3.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<[2.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK-NOT: qtrain.
func.func @fold_quantize_dequantize_constants() -> (tensor<4xf8E4M3FN>, tensor<4xi8>, tensor<4xf32>, tensor<2xf32>) {
  %c = arith.constant dense<[1.0625, 1.1875, 449.0, -0.0]> : tensor<4xf32>
  %0 = qtrain.quantize %c to float<f8E4M3FN> : tensor<4xf32> -> tensor<4xf8E4M3FN>
  %s = arith.constant dense<0.5> : tensor<f32>
  %d = arith.constant dense<[-500.0, -0.5, 1.5, 500.0]> : tensor<4xf32>
  %1 = qtrain.quantize %d to int<8, signed> scale(%s : tensor<f32>) : tensor<4xf32> -> tensor<4xi8>
  // Unsigned codes [0, 3, 8, 6] with scale 0.5 and zero point 2.
  %codes = arith.constant dense<[0, 3, 8, 6]> : tensor<4xi8>
  %zp = arith.constant dense<2.0> : tensor<f32>
  %2 = qtrain.dequantize %codes from int<8, unsigned> scale(%s : tensor<f32>) zero_point(%zp : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  // hfp8_e4m3 codes (bias 11): 0x60 has exponent field 12, 2^(12-11) = 2;
  // 0xD8 is negative with exponent field 11, -2^0.
  %h = arith.constant dense<[0x60, 0xD8]> : tensor<2xi8>
  %3 = qtrain.dequantize %h from float<hfp8_e4m3> : tensor<2xi8> -> tensor<2xf32>
  return %0, %1, %2, %3 : tensor<4xf8E4M3FN>, tensor<4xi8>, tensor<4xf32>, tensor<2xf32>
}

// -----

// round(round(x, A), B) == round(x, A) when B holds every value of A.
// CHECK-LABEL: func.func @fold_nested_round
// CHECK-SAME: %[[X:.*]]: tensor<4xf32>
// CHECK: %[[R:.*]] = qtrain.round %[[X]] to float<f8E4M3FN> : tensor<4xf32>
// CHECK-NOT: qtrain.round
// CHECK: return %[[R]], %[[R]]
func.func @fold_nested_round(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %seed = arith.constant 1 : i64
  %0 = qtrain.round %x to float<f8E4M3FN> : tensor<4xf32>
  %1 = qtrain.round %0 to float<f16> : tensor<4xf32>
  // Grid points never move, stochastic rounding included.
  %2 = qtrain.round %0 to float<f8E4M3FN> rounding stochastic seed(%seed) : tensor<4xf32>
  return %1, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Lossy or unproven nestings stay: f16 then E4M3 double-rounds, E5M2's inf
// would saturate in bf16, and scales may not round-trip exactly.
// CHECK-LABEL: func.func @keep_lossy_nested_round
// CHECK-COUNT-8: qtrain.round
func.func @keep_lossy_nested_round(%x: tensor<4xf32>, %s: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = qtrain.round %x to float<f16> : tensor<4xf32>
  %1 = qtrain.round %0 to float<f8E4M3FN> : tensor<4xf32>
  %2 = qtrain.round %x to float<f8E5M2> overflow native : tensor<4xf32>
  %3 = qtrain.round %2 to float<bf16> : tensor<4xf32>
  %4 = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4xf32>
  %5 = qtrain.round %4 to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4xf32>
  %6 = qtrain.round %x to float<f8E4M3FN> : tensor<4xf32>
  %7 = qtrain.round %6 to float<f8E4M3FNUZ> : tensor<4xf32>
  return %1, %3, %5, %7 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @fold_nested_round_native
// CHECK-COUNT-1: qtrain.round
// CHECK-NOT: qtrain.round
func.func @fold_nested_round_native(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qtrain.round %x to float<f8E5M2> overflow native : tensor<4xf32>
  %1 = qtrain.round %0 to float<bf16> overflow native : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// quantize(dequantize(q)) == q when every code survives the trip.
// CHECK-LABEL: func.func @fold_requantize
// CHECK-SAME: %[[Q:[^:]*]]: tensor<4xf8E4M3FN>, %[[I:[^:]*]]: tensor<4xi8>
// CHECK-NOT: qtrain.
// CHECK: return %[[Q]], %[[I]]
func.func @fold_requantize(%q: tensor<4xf8E4M3FN>, %i: tensor<4xi8>) -> (tensor<4xf8E4M3FN>, tensor<4xi8>) {
  %0 = qtrain.dequantize %q from float<f8E4M3FN> : tensor<4xf8E4M3FN> -> tensor<4xbf16>
  %1 = qtrain.quantize %0 to float<f8E4M3FN> : tensor<4xbf16> -> tensor<4xf8E4M3FN>
  %2 = qtrain.dequantize %i from int<8, signed> : tensor<4xi8> -> tensor<4xf32>
  %3 = qtrain.quantize %2 to int<8, signed> rounding toward_zero : tensor<4xf32> -> tensor<4xi8>
  return %1, %3 : tensor<4xf8E4M3FN>, tensor<4xi8>
}

// -----

// Kept: E5M2 has several NaN codes, its infinities would saturate, int16
// does not fit bf16, and scaled trips are not exact in general.
// CHECK-LABEL: func.func @keep_lossy_requantize
// CHECK-COUNT-4: qtrain.quantize
func.func @keep_lossy_requantize(%q: tensor<4xf8E5M2>, %i: tensor<4xi16>, %j: tensor<4xi8>, %s: tensor<f32>) -> (tensor<4xf8E5M2>, tensor<4xf8E5M2>, tensor<4xi16>, tensor<4xi8>) {
  %0 = qtrain.dequantize %q from float<f8E5M2> : tensor<4xf8E5M2> -> tensor<4xf32>
  %1 = qtrain.quantize %0 to float<f8E5M2> overflow native : tensor<4xf32> -> tensor<4xf8E5M2>
  %2 = qtrain.quantize %0 to float<f8E5M2> : tensor<4xf32> -> tensor<4xf8E5M2>
  %3 = qtrain.dequantize %i from int<16, signed> : tensor<4xi16> -> tensor<4xbf16>
  %4 = qtrain.quantize %3 to int<16, signed> : tensor<4xbf16> -> tensor<4xi16>
  %5 = qtrain.dequantize %j from int<8, signed> scale(%s : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  %6 = qtrain.quantize %5 to int<8, signed> scale(%s : tensor<f32>) : tensor<4xf32> -> tensor<4xi8>
  return %1, %2, %4, %6 : tensor<4xf8E5M2>, tensor<4xf8E5M2>, tensor<4xi16>, tensor<4xi8>
}

// -----

// dequantize(quantize(x)) is round(x) when the codes have no other use.
// CHECK-LABEL: func.func @dequantize_of_quantize
// CHECK-SAME: %[[X:[^:]*]]: tensor<4xf32>, %[[S:[^:]*]]: tensor<f32>, %[[SEED:[^:]*]]: i64
// CHECK: %[[R:.*]] = qtrain.round %[[X]] to int<8, signed> scale(%[[S]] : tensor<f32>) rounding stochastic seed(%[[SEED]]) {stream = 2 : i32} : tensor<4xf32>
// CHECK: return %[[R]]
func.func @dequantize_of_quantize(%x: tensor<4xf32>, %s: tensor<f32>, %seed: i64) -> tensor<4xf32> {
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<f32>) rounding stochastic seed(%seed) {stream = 2 : i32} : tensor<4xf32> -> tensor<4xi8>
  %d = qtrain.dequantize %q from int<8, signed> scale(%s : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @keep_dequantize_of_quantize
// CHECK-NOT: qtrain.round
// CHECK: qtrain.quantize
// CHECK: qtrain.dequantize
// CHECK: qtrain.quantize
// CHECK: qtrain.dequantize
// CHECK-NOT: qtrain.round
func.func @keep_dequantize_of_quantize(%x: tensor<4xf32>, %s: tensor<f32>, %t: tensor<f32>) -> (tensor<4xf32>, tensor<4xi8>, tensor<4xf32>) {
  // The codes are used elsewhere.
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<f32>) : tensor<4xf32> -> tensor<4xi8>
  %d = qtrain.dequantize %q from int<8, signed> scale(%s : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  // Different scales.
  %q2 = qtrain.quantize %x to int<8, signed> scale(%s : tensor<f32>) : tensor<4xf32> -> tensor<4xi8>
  %d2 = qtrain.dequantize %q2 from int<8, signed> scale(%t : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  return %d, %q, %d2 : tensor<4xf32>, tensor<4xi8>, tensor<4xf32>
}
