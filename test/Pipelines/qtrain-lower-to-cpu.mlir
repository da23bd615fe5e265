// RUN: qtrain-opt %s -split-input-file -qtrain-lower-to-cpu | FileCheck %s
// RUN: qtrain-opt %s -split-input-file -qtrain-lower-to-cpu="vectorize=false" | FileCheck %s

// The pipeline ends in the LLVM dialect: nothing of qtrain, linalg, tensor,
// memref or arith is left.
// CHECK-LABEL: llvm.func @quantize_and_matmul
// CHECK-NOT: qtrain.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: arith.
// CHECK: llvm.return
func.func @quantize_and_matmul(%x: tensor<8x16xf32>, %w: tensor<16x4xi8>, %seed: i64) -> tensor<8x4xf32> {
  %s = qtrain.compute_scale %x for int<8, signed> using <absmax> : tensor<8x16xf32> -> tensor<f32>
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<f32>) rounding stochastic seed(%seed) : tensor<8x16xf32> -> tensor<8x16xi8>
  %c = arith.constant dense<0.5> : tensor<f32>
  %y = qtrain.qmatmul %q, %w lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed>, scale %c : tensor<f32>) accumulate i32 : tensor<8x16xi8>, tensor<16x4xi8> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

// CHECK-LABEL: llvm.func @fp8_storage
// CHECK-NOT: qtrain.
// CHECK: llvm.return
func.func @fp8_storage(%x: tensor<64xf32>) -> tensor<64xf8E4M3FN> {
  %q = qtrain.quantize %x to float<f8E4M3FN> : tensor<64xf32> -> tensor<64xf8E4M3FN>
  return %q : tensor<64xf8E4M3FN>
}
