// sm_90a's warpgroup GEMMs compute the CPU lowering's results: FP8 GEMMs
// with N = 200 (64- or 128-column tiles, a partial second one), M = 70 or
// 150, and one of 150 x 260 (128x256 tiles). The operands are small
// multiples of 1/4, exact in E4M3 and E5M2, so every sum is exact and the
// results are equal, not just close.
// - B stored k x n (K = 96): its quantization also stores it n x k
//   (qtrain-k-major-gemm-operands), which TMA copies as below; without
//   that pass (k-major-gemm-operands=false), staged through registers in
//   two stages of two 32-byte chunks of k (two steps, the second half past
//   K).
// - B stored n x k is copied by a producer warp's TMA copies (by default)
//   or every thread's cp.async into stages of dynamic shared memory, four
//   chunks (128 bytes of k) a step: K = 80 (one step, mostly past K,
//   zero-filled: three stages), K = 336 (three steps, the last partly past
//   K: five stages) on 64x128 tiles and on 128x128 tiles of two warpgroups
//   (M = 150, the second block's second warpgroup entirely past M); K = 1104
//   on 128x256 tiles (nine steps in four stages: they wrap around twice),
//   which a GPU of one multiprocessor takes for 150 x 260; a batched GEMM
//   (2 x 70 x 200, K = 96: three-dimensional tensor maps, the batch index
//   the boxes' third coordinate).
// RUN: qtrain-opt %s -qtrain-lower-to-cpu | %run_gpu_emulator > %t.cpu.raw
// RUN: grep -v base@ %t.cpu.raw > %t.cpu
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1" > %t.sm_90a.mlir
// RUN: %run_gpu_emulator < %t.sm_90a.mlir | grep -v base@ > %t.sm_90a
// RUN: diff %t.cpu %t.sm_90a
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 k-major-gemm-operands=false" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.k-by-n
// RUN: diff %t.cpu %t.k-by-n
// The TMA kernels' tiles are swizzled in a k-step's bytes of a row: 128 by
// default; with the static 48 KiB of shared memory only, k-steps of one
// chunk, 32 bytes (the cp.async kernels keep k-steps of two chunks in four
// stages on 64x128 tiles, K = 336: six steps, wrapping, and of one chunk in
// six stages on 128x128 tiles, also for N = 260); in half of the 227 KiB,
// 64 bytes (two chunks on 128x128 tiles): the same results.
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 wgmma-shared-memory-bytes=49152" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.static
// RUN: diff %t.cpu %t.static
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 wgmma-shared-memory-bytes=116224" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.half
// RUN: diff %t.cpu %t.half
// The TMA kernels whose shared memory leaves no room for a second block
// (K = 336 and 1104) are persistent: with one multiprocessor one block takes
// all tiles, its stages and mbarrier phases going on from tile to tile;
// with three, blocks take every third tile; without persistence
// (wgmma-persistent-blocks=false), a block a tile: the same results.
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=3" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.three
// RUN: diff %t.cpu %t.three
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 wgmma-persistent-blocks=false" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.block-a-tile
// RUN: diff %t.cpu %t.block-a-tile
// With cp.async copies (wgmma-tma-loads=false), the same results.
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1 wgmma-tma-loads=false" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.cp-async
// RUN: diff %t.cpu %t.cp-async
// Without 128-row tiles (the pipeline's wgmma-two-warpgroups=false), the
// M = 150 GEMMs run on 64xN tiles: the same results.
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a wgmma-two-warpgroups=false" \
// RUN:   | %run_gpu_emulator | grep -v base@ > %t.one-warpgroup
// RUN: diff %t.cpu %t.one-warpgroup
// sm_89's and sm_80's mma.sync kernels too: cp.async in four stages of one
// 32-byte chunk for B stored n x k (K = 80: three steps; K = 336: eleven,
// the stages wrapping around), registers otherwise.
// RUN: for chip in sm_89 sm_80; do \
// RUN:   qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=$chip | %run_gpu_emulator \
// RUN:     | grep -v base@ > %t.$chip && diff %t.cpu %t.$chip || exit 1; done
// RUN: FileCheck %s < %t.cpu.raw
// The kernels, by default: four wgmmas a k-step in each TMA kernel, all
// six (n = 128, and n = 256 for N = 260; 2 TMA copies a step, a box of
// 128 bytes of k by the tile's rows of A and of B, three-dimensional in
// the batched one); dynamic shared memory of three, three, five, five,
// four and three stages, each with 1152 bytes more (up to 16 mbarriers and 1024
// bytes to align the stages).
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator="chip=sm_90a multiprocessors=1" \
// RUN:   --mlir-print-ir-before=emulate-gpu-launches-on-cpu \
// RUN:   --mlir-print-ir-after=emulate-gpu-launches-on-cpu \
// RUN:   2> %t.emulated.mlir > /dev/null
// RUN: grep -c "func.call @qtrain_emulate_wgmma(.*%c128_i64" %t.emulated.mlir | FileCheck %s --check-prefix=N128
// RUN: grep -c "func.call @qtrain_emulate_wgmma(.*%c256_i64" %t.emulated.mlir | FileCheck %s --check-prefix=N256
// RUN: grep -o "dynamic_shared_memory_size %c[0-9]*_i32" %t.emulated.mlir | FileCheck %s --check-prefix=DYNAMIC
// N128: {{^}}20{{$}}
// N256: {{^}}4{{$}}
// RUN: grep -c "nvvm.cp.async.bulk.tensor.shared.cluster.global" %t.emulated.mlir | FileCheck %s --check-prefix=TMA
// RUN: grep -c "func.call @qtrain_emulate_tma_load" %t.emulated.mlir | FileCheck %s --check-prefix=TMA
// RUN: grep -c "box\[%[0-9a-z_]*, %[0-9a-z_]*, %[0-9a-z_]*\]" %t.emulated.mlir | FileCheck %s --check-prefix=BATCHED
// TMA: {{^}}12{{$}}
// BATCHED: {{^}}2{{$}}
// DYNAMIC: dynamic_shared_memory_size %c74880_i32
// DYNAMIC-NEXT: dynamic_shared_memory_size %c74880_i32
// DYNAMIC-NEXT: dynamic_shared_memory_size %c124032_i32
// DYNAMIC-NEXT: dynamic_shared_memory_size %c164992_i32
// DYNAMIC-NEXT: dynamic_shared_memory_size %c197760_i32
// DYNAMIC-NEXT: dynamic_shared_memory_size %c74880_i32
// DYNAMIC-NOT: dynamic_shared_memory_size

// Corners, as numpy computes them.
// CHECK: sizes = [70, 200]
// CHECK-NEXT: {{^\[\[}}31.6875, -69.6875, 21.25,
// CHECK: , 39.1875{{\]\]}}
// CHECK: sizes = [70, 200]
// CHECK-NEXT: {{^\[\[}}47.4375, -60.5625, 76.875,
// CHECK: , -46.5625{{\]\]}}
// CHECK: sizes = [70, 200]
// CHECK-NEXT: {{^\[\[}}341.75, -251.938, 187.125,
// CHECK: , -229.812{{\]\]}}
// CHECK: sizes = [150, 200]
// CHECK-NEXT: {{^\[\[}}190.875, -252.25, 333.125,
// CHECK: , -124.562{{\]\]}}
// CHECK: sizes = [150, 260]
// CHECK-NEXT: {{^\[\[}}1104.25, -827.75, 620.062,
// CHECK: , -622.562{{\]\]}}
// CHECK: sizes = [2, 70, 200]

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<70x200xf32>) {
  %m = bufferization.to_buffer %t : tensor<70x200xf32> to memref<70x200xf32>
  %u = memref.cast %m : memref<70x200xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print_tall(%t: tensor<150x200xf32>) {
  %m = bufferization.to_buffer %t : tensor<150x200xf32> to memref<150x200xf32>
  %u = memref.cast %m : memref<150x200xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print_batched(%t: tensor<2x70x200xf32>) {
  %m = bufferization.to_buffer %t : tensor<2x70x200xf32> to memref<2x70x200xf32>
  %u = memref.cast %m : memref<2x70x200xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print_wide(%t: tensor<150x260xf32>) {
  %m = bufferization.to_buffer %t : tensor<150x260xf32> to memref<150x260xf32>
  %u = memref.cast %m : memref<150x260xf32> to memref<*xf32>
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
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c336 = arith.constant 336 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c150 = arith.constant 150 : index
  %one = arith.constant dense<1.0> : tensor<f32>
  %a0 = call @pattern(%c0, %c70, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b0 = call @pattern(%c5, %c96, %c200) : (index, index, index) -> tensor<?x?xf32>
  %a1 = call @pattern(%c11, %c70, %c80) : (index, index, index) -> tensor<?x?xf32>
  %b1 = call @pattern(%c13, %c200, %c80) : (index, index, index) -> tensor<?x?xf32>
  %a2 = call @pattern(%c2, %c70, %c336) : (index, index, index) -> tensor<?x?xf32>
  %b2 = call @pattern(%c3, %c200, %c336) : (index, index, index) -> tensor<?x?xf32>
  %a3 = call @pattern(%c4, %c150, %c336) : (index, index, index) -> tensor<?x?xf32>
  %b3 = call @pattern(%c6, %c200, %c336) : (index, index, index) -> tensor<?x?xf32>
  %a3s = tensor.cast %a3 : tensor<?x?xf32> to tensor<150x336xf32>
  %b3s = tensor.cast %b3 : tensor<?x?xf32> to tensor<200x336xf32>
  %qa3 = qtrain.quantize %a3s to float<f8E4M3FN> : tensor<150x336xf32> -> tensor<150x336xf8E4M3FN>
  %qb3 = qtrain.quantize %b3s to float<f8E5M2> : tensor<200x336xf32> -> tensor<200x336xf8E5M2>
  %a0s = tensor.cast %a0 : tensor<?x?xf32> to tensor<70x96xf32>
  %b0s = tensor.cast %b0 : tensor<?x?xf32> to tensor<96x200xf32>
  %a1s = tensor.cast %a1 : tensor<?x?xf32> to tensor<70x80xf32>
  %b1s = tensor.cast %b1 : tensor<?x?xf32> to tensor<200x80xf32>
  %a2s = tensor.cast %a2 : tensor<?x?xf32> to tensor<70x336xf32>
  %b2s = tensor.cast %b2 : tensor<?x?xf32> to tensor<200x336xf32>
  %qa2 = qtrain.quantize %a2s to float<f8E4M3FN> : tensor<70x336xf32> -> tensor<70x336xf8E4M3FN>
  %qb2 = qtrain.quantize %b2s to float<f8E4M3FN> : tensor<200x336xf32> -> tensor<200x336xf8E4M3FN>
  %qa0 = qtrain.quantize %a0s to float<f8E4M3FN> : tensor<70x96xf32> -> tensor<70x96xf8E4M3FN>
  %qb0 = qtrain.quantize %b0s to float<f8E4M3FN> : tensor<96x200xf32> -> tensor<96x200xf8E4M3FN>
  %qa1 = qtrain.quantize %a1s to float<f8E4M3FN> : tensor<70x80xf32> -> tensor<70x80xf8E4M3FN>
  %qb1 = qtrain.quantize %b1s to float<f8E5M2> : tensor<200x80xf32> -> tensor<200x80xf8E5M2>
  %r0 = qtrain.qmatmul %qa0, %qb0 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<70x96xf8E4M3FN>, tensor<96x200xf8E4M3FN> -> tensor<70x200xf32>
  %r1 = qtrain.qmatmul %qa1, %qb1 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<70x80xf8E4M3FN>, tensor<200x80xf8E5M2> -> tensor<70x200xf32>
  %r2 = qtrain.qmatmul %qa2, %qb2 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<70x336xf8E4M3FN>, tensor<200x336xf8E4M3FN> -> tensor<70x200xf32>
  call @print(%r0) : (tensor<70x200xf32>) -> ()
  call @print(%r1) : (tensor<70x200xf32>) -> ()
  call @print(%r2) : (tensor<70x200xf32>) -> ()
  %r3 = qtrain.qmatmul %qa3, %qb3 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<150x336xf8E4M3FN>, tensor<200x336xf8E5M2> -> tensor<150x200xf32>
  call @print_tall(%r3) : (tensor<150x200xf32>) -> ()
  %c7 = arith.constant 7 : index
  %c8 = arith.constant 8 : index
  %c260 = arith.constant 260 : index
  %c1104 = arith.constant 1104 : index
  %a4 = call @pattern(%c7, %c150, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %b4 = call @pattern(%c8, %c260, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %a4s = tensor.cast %a4 : tensor<?x?xf32> to tensor<150x1104xf32>
  %b4s = tensor.cast %b4 : tensor<?x?xf32> to tensor<260x1104xf32>
  %qa4 = qtrain.quantize %a4s to float<f8E4M3FN> : tensor<150x1104xf32> -> tensor<150x1104xf8E4M3FN>
  %qb4 = qtrain.quantize %b4s to float<f8E4M3FN> : tensor<260x1104xf32> -> tensor<260x1104xf8E4M3FN>
  %r4 = qtrain.qmatmul %qa4, %qb4 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<150x1104xf8E4M3FN>, tensor<260x1104xf8E4M3FN> -> tensor<150x260xf32>
  call @print_wide(%r4) : (tensor<150x260xf32>) -> ()
  %c9 = arith.constant 9 : index
  %c10 = arith.constant 10 : index
  %c140 = arith.constant 140 : index
  %c400 = arith.constant 400 : index
  %a5 = call @pattern(%c9, %c140, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b5 = call @pattern(%c10, %c400, %c96) : (index, index, index) -> tensor<?x?xf32>
  %a5s = tensor.cast %a5 : tensor<?x?xf32> to tensor<140x96xf32>
  %b5s = tensor.cast %b5 : tensor<?x?xf32> to tensor<400x96xf32>
  %a5b = tensor.expand_shape %a5s [[0, 1], [2]] output_shape [2, 70, 96] : tensor<140x96xf32> into tensor<2x70x96xf32>
  %b5b = tensor.expand_shape %b5s [[0, 1], [2]] output_shape [2, 200, 96] : tensor<400x96xf32> into tensor<2x200x96xf32>
  %qa5 = qtrain.quantize %a5b to float<f8E4M3FN> : tensor<2x70x96xf32> -> tensor<2x70x96xf8E4M3FN>
  %qb5 = qtrain.quantize %b5b to float<f8E5M2> : tensor<2x200x96xf32> -> tensor<2x200x96xf8E5M2>
  %r5 = qtrain.qmatmul %qa5, %qb5 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<2x70x96xf8E4M3FN>, tensor<2x200x96xf8E5M2> -> tensor<2x70x200xf32>
  call @print_batched(%r5) : (tensor<2x70x200xf32>) -> ()
  return
}
