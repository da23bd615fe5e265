// RUN: qtrain-opt %s -split-input-file -qtrain-verify-lowered -verify-diagnostics | FileCheck %s

func.func @left_over(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qtrain.round' op was not lowered}}
  %0 = qtrain.round %x to float<f8E4M3FN> : tensor<4xf32>
  // expected-error @+1 {{'qtrain.quantize' op was not lowered}}
  %1 = qtrain.quantize %0 to int<8, signed> : tensor<4xf32> -> tensor<4xi8>
  return %0 : tensor<4xf32>
}

// -----

// Upstream IR passes unchanged.
// CHECK-LABEL: func.func @lowered
// CHECK: arith.addf
func.func @lowered(%x: f32) -> f32 {
  %0 = arith.addf %x, %x : f32
  return %0 : f32
}
