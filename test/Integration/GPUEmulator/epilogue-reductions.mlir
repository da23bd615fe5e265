// The tensor-core GEMM kernels compute the per-tensor scales of their
// outputs in their epilogues (each thread reduces the elements it writes and
// combines its result into the scale's range by a memory atomic), bit for
// bit as the CPU lowering computes them: the absmax of relu(r + bias) (the
// MLP's hidden layers) and of r. GEMMs with partial tiles of every kernel: B stored k x n (staged
// through registers), n x k (TMA copies; cp.async without them), 128x256
// tiles taken by one persistent block, a batched GEMM; and mma.sync's.
// The operands are small multiples of 1/4, so every sum is exact.
// RUN: qtrain-opt %s -qtrain-lower-to-cpu | %run_gpu_emulator | grep -v base@ > %t.cpu
// RUN: FileCheck %s < %t.cpu
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1" \
// RUN:   --mlir-print-ir-after=convert-low-precision-matmul-to-wgmma 2> %t.wgmma.mlir \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.sm_90a
// RUN: diff %t.cpu %t.sm_90a
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 wgmma-tma-loads=false" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.cp-async
// RUN: diff %t.cpu %t.cp-async
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_89 \
// RUN:   --mlir-print-ir-after=convert-low-precision-matmul-to-mma-sync 2> %t.mma.mlir \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.sm_89
// RUN: diff %t.cpu %t.sm_89
// Every reduction went into its GEMM's kernel: an atomic each, no
// reduction left to the GPU lowering's own kernels.
// RUN: FileCheck %s --check-prefix=FUSED < %t.wgmma.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mma.mlir
// FUSED-COUNT-4: memref.atomic_rmw maximumf
// FUSED-NOT:     memref.atomic_rmw
// FUSED-NOT:     "reduction"

// The scales' bits, as numpy computes them from the patterns: absmax 54.125
// / 448, 507.125 / 127, 1657.5 / 57344 (E5M2), 144.75 / 448.
// CHECK:      {{^}}[1039625655]
// CHECK-NEXT: {{^}}[1082101534]
// CHECK-NEXT: {{^}}[1022150949]
// CHECK-NEXT: {{^}}[1051028919]

func.func private @printMemrefI32(memref<*xi32>)

func.func @print_bits(%t: tensor<f32>) {
  %i = arith.bitcast %t : tensor<f32> to tensor<i32>
  %m = bufferization.to_buffer %i : tensor<i32> to memref<i32>
  %u = memref.cast %m : memref<i32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
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
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c7 = arith.constant 7 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %c10 = arith.constant 10 : index
  %c70 = arith.constant 70 : index
  %c96 = arith.constant 96 : index
  %c140 = arith.constant 140 : index
  %c150 = arith.constant 150 : index
  %c200 = arith.constant 200 : index
  %c260 = arith.constant 260 : index
  %c336 = arith.constant 336 : index
  %c400 = arith.constant 400 : index
  %c1104 = arith.constant 1104 : index
  %one = arith.constant dense<1.0> : tensor<f32>

  // 70x96 x 96x200 (B k x n), relu(r + bias): the MLP's hidden layer.
  %a0 = call @pattern(%c0, %c70, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b0 = call @pattern(%c5, %c96, %c200) : (index, index, index) -> tensor<?x?xf32>
  %bias2 = call @pattern(%c1, %c1, %c200) : (index, index, index) -> tensor<?x?xf32>
  %a0s = tensor.cast %a0 : tensor<?x?xf32> to tensor<70x96xf32>
  %b0s = tensor.cast %b0 : tensor<?x?xf32> to tensor<96x200xf32>
  %bias2s = tensor.cast %bias2 : tensor<?x?xf32> to tensor<1x200xf32>
  %bias = tensor.collapse_shape %bias2s [[0, 1]] : tensor<1x200xf32> into tensor<200xf32>
  %qa0 = qtrain.quantize %a0s to float<f8E4M3FN> : tensor<70x96xf32> -> tensor<70x96xf8E4M3FN>
  %qb0 = qtrain.quantize %b0s to float<f8E4M3FN> : tensor<96x200xf32> -> tensor<96x200xf8E4M3FN>
  %r0 = qtrain.qmatmul %qa0, %qb0 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<70x96xf8E4M3FN>, tensor<96x200xf8E4M3FN> -> tensor<70x200xf32>
  %e0 = tensor.empty() : tensor<70x200xf32>
  %h0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r0, %bias : tensor<70x200xf32>, tensor<200xf32>) outs(%e0 : tensor<70x200xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %zero = arith.constant 0.0 : f32
    %y = arith.maximumf %s, %zero : f32
    linalg.yield %y : f32
  } -> tensor<70x200xf32>
  %s0 = qtrain.compute_scale %h0 for float<f8E4M3FN> using <absmax> : tensor<70x200xf32> -> tensor<f32>
  call @print_bits(%s0) : (tensor<f32>) -> ()

  // 70x336 x (200x336)^T: absmax of r, for a signed 8-bit scale.
  %a2 = call @pattern(%c2, %c70, %c336) : (index, index, index) -> tensor<?x?xf32>
  %b2 = call @pattern(%c3, %c200, %c336) : (index, index, index) -> tensor<?x?xf32>
  %a2s = tensor.cast %a2 : tensor<?x?xf32> to tensor<70x336xf32>
  %b2s = tensor.cast %b2 : tensor<?x?xf32> to tensor<200x336xf32>
  %qa2 = qtrain.quantize %a2s to float<f8E4M3FN> : tensor<70x336xf32> -> tensor<70x336xf8E4M3FN>
  %qb2 = qtrain.quantize %b2s to float<f8E4M3FN> : tensor<200x336xf32> -> tensor<200x336xf8E4M3FN>
  %r2 = qtrain.qmatmul %qa2, %qb2 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<70x336xf8E4M3FN>, tensor<200x336xf8E4M3FN> -> tensor<70x200xf32>
  %s2 = qtrain.compute_scale %r2 for int<8, signed> using <absmax> : tensor<70x200xf32> -> tensor<f32>
  call @print_bits(%s2) : (tensor<f32>) -> ()

  // 150x1104 x (260x1104)^T: 128x256 tiles.
  %a4 = call @pattern(%c7, %c150, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %b4 = call @pattern(%c8, %c260, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %a4s = tensor.cast %a4 : tensor<?x?xf32> to tensor<150x1104xf32>
  %b4s = tensor.cast %b4 : tensor<?x?xf32> to tensor<260x1104xf32>
  %qa4 = qtrain.quantize %a4s to float<f8E4M3FN> : tensor<150x1104xf32> -> tensor<150x1104xf8E4M3FN>
  %qb4 = qtrain.quantize %b4s to float<f8E4M3FN> : tensor<260x1104xf32> -> tensor<260x1104xf8E4M3FN>
  %r4 = qtrain.qmatmul %qa4, %qb4 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<150x1104xf8E4M3FN>, tensor<260x1104xf8E4M3FN> -> tensor<150x260xf32>
  %s4 = qtrain.compute_scale %r4 for float<f8E5M2> using <absmax> : tensor<150x260xf32> -> tensor<f32>
  call @print_bits(%s4) : (tensor<f32>) -> ()

  // A batch of two 70x96 x (200x96)^T.
  %a5 = call @pattern(%c9, %c140, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b5 = call @pattern(%c10, %c400, %c96) : (index, index, index) -> tensor<?x?xf32>
  %a5s = tensor.cast %a5 : tensor<?x?xf32> to tensor<140x96xf32>
  %b5s = tensor.cast %b5 : tensor<?x?xf32> to tensor<400x96xf32>
  %a5b = tensor.expand_shape %a5s [[0, 1], [2]] output_shape [2, 70, 96] : tensor<140x96xf32> into tensor<2x70x96xf32>
  %b5b = tensor.expand_shape %b5s [[0, 1], [2]] output_shape [2, 200, 96] : tensor<400x96xf32> into tensor<2x200x96xf32>
  %qa5 = qtrain.quantize %a5b to float<f8E4M3FN> : tensor<2x70x96xf32> -> tensor<2x70x96xf8E4M3FN>
  %qb5 = qtrain.quantize %b5b to float<f8E5M2> : tensor<2x200x96xf32> -> tensor<2x200x96xf8E5M2>
  %r5 = qtrain.qmatmul %qa5, %qb5 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<2x70x96xf8E4M3FN>, tensor<2x200x96xf8E5M2> -> tensor<2x70x200xf32>
  %s5 = qtrain.compute_scale %r5 for float<f8E4M3FN> using <absmax> : tensor<2x70x200xf32> -> tensor<f32>
  call @print_bits(%s5) : (tensor<f32>) -> ()
  return
}
