// sm_90a's warpgroup GEMMs with 64x128 tiles (N >= 128) and two shared-memory
// stages compute the CPU lowering's results: FP8 GEMMs with N = 200 (a
// partial second tile), K = 96 (three steps: both stages, each twice but
// one) and K = 80 (a partial last step), B stored k x n and n x k. The
// operands are small multiples of 1/4, exact in E4M3, so every sum is exact
// and the results are equal, not just close.
// RUN: qtrain-opt %s -qtrain-lower-to-cpu | %run_gpu_emulator > %t.cpu.raw
// RUN: grep -v base@ %t.cpu.raw > %t.cpu
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_90a > %t.sm_90a.mlir
// RUN: %run_gpu_emulator < %t.sm_90a.mlir | grep -v base@ > %t.sm_90a
// RUN: diff %t.cpu %t.sm_90a
// RUN: FileCheck %s < %t.cpu.raw
// Both GEMMs are 64x128-tile warpgroup MMAs (n = 128 in the emulator call).
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_90a \
// RUN:   --mlir-print-ir-after=emulate-gpu-launches-on-cpu 2>&1 >/dev/null \
// RUN:   | grep -c "func.call @qtrain_emulate_wgmma(.*%c128_i64" | FileCheck %s --check-prefix=WIDE
// WIDE: {{^}}2{{$}}

// Corners, as numpy computes them.
// CHECK: sizes = [70, 200]
// CHECK-NEXT: {{^\[\[}}31.6875, -69.6875, 21.25,
// CHECK: , 39.1875{{\]\]}}
// CHECK: sizes = [70, 200]
// CHECK-NEXT: {{^\[\[}}47.4375, -60.5625, 76.875,
// CHECK: , -46.5625{{\]\]}}

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<70x200xf32>) {
  %m = bufferization.to_buffer %t : tensor<70x200xf32> to memref<70x200xf32>
  %u = memref.cast %m : memref<70x200xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// ((7i + 3j + salt) mod 17 - 8) / 4: -2 to 2 in quarters.
func.func @pattern(%salt: index, %rows: index, %cols: index) -> tensor<?x?xf32> {
  %t = tensor.generate %rows, %cols {
  ^bb0(%i: index, %j: index):
    %c7 = arith.constant 7 : index
    %c3 = arith.constant 3 : index
    %c17 = arith.constant 17 : index
    %a = arith.muli %i, %c7 : index
    %b = arith.muli %j, %c3 : index
    %ab = arith.addi %a, %b : index
    %h = arith.addi %ab, %salt : index
    %m = arith.remui %h, %c17 : index
    %m64 = arith.index_cast %m : index to i64
    %f = arith.sitofp %m64 : i64 to f32
    %c8 = arith.constant 8.0 : f32
    %quarter = arith.constant 0.25 : f32
    %centered = arith.subf %f, %c8 : f32
    %v = arith.mulf %centered, %quarter : f32
    tensor.yield %v : f32
  } : tensor<?x?xf32>
  return %t : tensor<?x?xf32>
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c5 = arith.constant 5 : index
  %c11 = arith.constant 11 : index
  %c13 = arith.constant 13 : index
  %c70 = arith.constant 70 : index
  %c80 = arith.constant 80 : index
  %c96 = arith.constant 96 : index
  %c200 = arith.constant 200 : index
  %one = arith.constant dense<1.0> : tensor<f32>
  %a0 = call @pattern(%c0, %c70, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b0 = call @pattern(%c5, %c96, %c200) : (index, index, index) -> tensor<?x?xf32>
  %a1 = call @pattern(%c11, %c70, %c80) : (index, index, index) -> tensor<?x?xf32>
  %b1 = call @pattern(%c13, %c200, %c80) : (index, index, index) -> tensor<?x?xf32>
  %a0s = tensor.cast %a0 : tensor<?x?xf32> to tensor<70x96xf32>
  %b0s = tensor.cast %b0 : tensor<?x?xf32> to tensor<96x200xf32>
  %a1s = tensor.cast %a1 : tensor<?x?xf32> to tensor<70x80xf32>
  %b1s = tensor.cast %b1 : tensor<?x?xf32> to tensor<200x80xf32>
  %qa0 = qtrain.quantize %a0s to float<f8E4M3FN> : tensor<70x96xf32> -> tensor<70x96xf8E4M3FN>
  %qb0 = qtrain.quantize %b0s to float<f8E4M3FN> : tensor<96x200xf32> -> tensor<96x200xf8E4M3FN>
  %qa1 = qtrain.quantize %a1s to float<f8E4M3FN> : tensor<70x80xf32> -> tensor<70x80xf8E4M3FN>
  %qb1 = qtrain.quantize %b1s to float<f8E5M2> : tensor<200x80xf32> -> tensor<200x80xf8E5M2>
  %r0 = qtrain.qmatmul %qa0, %qb0 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<70x96xf8E4M3FN>, tensor<96x200xf8E4M3FN> -> tensor<70x200xf32>
  %r1 = qtrain.qmatmul %qa1, %qb1 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<70x80xf8E4M3FN>, tensor<200x80xf8E5M2> -> tensor<70x200xf32>
  call @print(%r0) : (tensor<70x200xf32>) -> ()
  call @print(%r1) : (tensor<70x200xf32>) -> ()
  return
}
