// A contraction of f32 operands read as tf32 (arith.truncf: round to nearest
// even) rounds them in the tensor-core kernel too: the tensor cores' reading
// of low mantissa bits is unspecified, and the emulator drops them. A: 1 +
// 3 * 2^-12 rounds up to 1 + 2^-10 (dropping gives 1); A': 1 + 3 * 2^-11, a
// tie, rounds to the even 1 + 2^-9; B = 1. K = 16: 16 + 2^-6 = 16.015625
// and 16 + 2^-5 = 16.03125 (dropping would give 16 and 16.015625).
// RUN: qtrain-opt %s -convert-arith-to-apfloat -qtrain-lower-to-cpu=vectorize=false \
// RUN:   | %run_gpu_emulator > %t.cpu
// RUN: FileCheck %s < %t.cpu
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_89 > %t.sm_89.mlir
// RUN: %run_gpu_emulator < %t.sm_89.mlir | FileCheck %s
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_90a | %run_gpu_emulator | FileCheck %s
// The GEMM (one function, called twice) is a tensor-core kernel of 8 warp
// MMAs.
// RUN: grep -c "llvm.call @qtrain_emulate_mma_sync(" %t.sm_89.mlir | FileCheck %s --check-prefix=MMA
// MMA: {{^}}8{{$}}

// CHECK-COUNT-16: [16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156, 16.0156]
// CHECK-COUNT-16: [16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312, 16.0312]

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<16x12xf32>) {
  %m = bufferization.to_buffer %t : tensor<16x12xf32> to memref<16x12xf32>
  %u = memref.cast %m : memref<16x12xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @tf32_gemm(%a: tensor<16x16xf32>, %b: tensor<16x12xf32>) -> tensor<16x12xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<16x12xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x12xf32>) -> tensor<16x12xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<16x16xf32>, tensor<16x12xf32>) outs(%init : tensor<16x12xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %xt = arith.truncf %x : f32 to tf32
    %yt = arith.truncf %y : f32 to tf32
    %xe = arith.extf %xt : tf32 to f32
    %ye = arith.extf %yt : tf32 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x12xf32>
  return %r : tensor<16x12xf32>
}

func.func @main() {
  %up = arith.constant dense<1.000732421875> : tensor<16x16xf32>
  %tie = arith.constant dense<1.00146484375> : tensor<16x16xf32>
  %one = arith.constant dense<1.0> : tensor<16x12xf32>
  %r0 = func.call @tf32_gemm(%up, %one) : (tensor<16x16xf32>, tensor<16x12xf32>) -> tensor<16x12xf32>
  %r1 = func.call @tf32_gemm(%tie, %one) : (tensor<16x16xf32>, tensor<16x12xf32>) -> tensor<16x12xf32>
  call @print(%r0) : (tensor<16x12xf32>) -> ()
  call @print(%r1) : (tensor<16x12xf32>) -> ()
  return
}
