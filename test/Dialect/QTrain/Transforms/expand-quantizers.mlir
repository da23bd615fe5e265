// RUN: qtrain-opt %s -split-input-file -qtrain-expand-quantizers | FileCheck %s

// A scaled forward spec becomes compute_scale + round; stochastic rounding
// keeps the seed and the stream.
// CHECK-LABEL: func.func @scaled(
// CHECK-SAME:    %[[X:.+]]: tensor<4x8xf32>, %[[SEED:.+]]: i64)
// CHECK:         %[[S:.+]], %[[ZP:.+]] = qtrain.compute_scale %[[X]] for int<8, unsigned> using <minmax> : tensor<4x8xf32> -> tensor<f32>, tensor<f32>
// CHECK:         %[[R:.+]] = qtrain.round %[[X]] to int<8, unsigned> scale(%[[S]] : tensor<f32>) zero_point(%[[ZP]] : tensor<f32>) rounding stochastic seed(%[[SEED]]) {stream = 8 : i32} : tensor<4x8xf32>
// CHECK:         return %[[R]]
func.func @scaled(%x: tensor<4x8xf32>, %seed: i64) -> tensor<4x8xf32> {
  %0 = qtrain.quantizer %x seed(%seed) forward <int<8, unsigned>, stochastic, scaling <minmax>>
                           backward <float<bf16>, nearest_even> {stream = 8 : i32} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Per-channel scales carry their granularity to the round.
// CHECK-LABEL: func.func @per_channel(
// CHECK:         %[[S:.+]] = qtrain.compute_scale %{{.+}} for float<f8E4M3FN> using <absmax, per_channel, axis = 1> : tensor<4x8xf32> -> tensor<8xf32>
// CHECK:         qtrain.round %{{.+}} to float<f8E4M3FN> scale(%[[S]] : tensor<8xf32>) granularity <per_channel, axis = 1> : tensor<4x8xf32>
func.func @per_channel(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax, per_channel, axis = 1>> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Unscaled specs round the values themselves; backward-only quantizers
// vanish.
// CHECK-LABEL: func.func @unscaled_and_backward_only(
// CHECK-SAME:    %[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[R:.+]] = qtrain.round %[[X]] to float<bf16> : tensor<4xf32>
// CHECK:         return %[[R]], %[[X]]
func.func @unscaled_and_backward_only(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = qtrain.quantizer %x forward <float<bf16>, nearest_even> : tensor<4xf32>
  %1 = qtrain.quantizer %x backward <float<f8E5M2>, nearest_even> : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Delayed scaling: the forward scale comes from the forward history, which
// records the input's amax; the backward history comes back unchanged.
// CHECK-LABEL: func.func @delayed(
// CHECK-SAME:    %[[X:.+]]: tensor<4x8xf32>, %[[HF:.+]]: tensor<16xf32>, %[[HB:.+]]: tensor<16xf32>)
// CHECK:         %[[S:.+]] = qtrain.compute_scale %[[HF]] for float<f8E4M3FN> using <absmax> : tensor<16xf32> -> tensor<f32>
// CHECK:         %[[R:.+]] = qtrain.round %[[X]] to float<f8E4M3FN> scale(%[[S]] : tensor<f32>) : tensor<4x8xf32>
// CHECK:         %[[NEXT:.+]] = qtrain.record_amax %[[X]] into %[[HF]] : tensor<4x8xf32>, tensor<16xf32>
// CHECK:         return %[[R]], %[[NEXT]], %[[HB]]
func.func @delayed(%x: tensor<4x8xf32>, %hf: tensor<16xf32>, %hb: tensor<16xf32>) -> (tensor<4x8xf32>, tensor<16xf32>, tensor<16xf32>) {
  %0, %1, %2 = qtrain.quantizer %x history(%hf, %hb : tensor<16xf32>, tensor<16xf32>)
      forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16>
      backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 16> : tensor<4x8xf32>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<16xf32>, tensor<16xf32>
}
