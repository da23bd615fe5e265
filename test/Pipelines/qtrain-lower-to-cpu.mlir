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

// -----

// A result that aliases an argument is copied by buffer deallocation; the
// copy (bufferization.clone) is lowered too.
// CHECK-LABEL: llvm.func @returns_updated_argument
// CHECK-NOT: bufferization.
// CHECK: llvm.return
func.func @returns_updated_argument(%x: tensor<8x128xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<8x128xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%p: f32, %acc: f32):
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
