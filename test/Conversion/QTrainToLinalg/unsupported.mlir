// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg -verify-diagnostics

// Inputs the lowering cannot handle are reported on the op.

func.func @dynamic_block_axis(%x: tensor<4x?xf32>, %s: tensor<4x?xf32>) -> tensor<4x?xi8> {
  // expected-error @+1 {{'qtrain.quantize' op per-block scales need a static size along axis 1 to be lowered}}
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<4x?xf32>) granularity <per_block, axis = 1, size = 8> : tensor<4x?xf32> -> tensor<4x?xi8>
  return %q : tensor<4x?xi8>
}

// -----

func.func @dynamic_conv(%x: tensor<?x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<?x8x7x7xf32> {
  // expected-error @+1 {{'qtrain.qconv2d' op convolutions with dynamic shapes are not supported by the lowering}}
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>) accumulate i32 : tensor<?x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<?x8x7x7xf32>
  return %0 : tensor<?x8x7x7xf32>
}

// -----

func.func @dynamic_pow2(%x: tensor<?x4xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'qtrain.compute_scale' op pow2 scales of a dynamic shape are not supported by the lowering}}
  %s = qtrain.compute_scale %x for int<8, signed> using <pow2, per_channel, axis = 0, exponent = 1> : tensor<?x4xf32> -> tensor<?xf32>
  return %s : tensor<?xf32>
}
