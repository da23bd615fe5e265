// Batch norm's per-channel statistics of an 8x4x32x32 activation, summed
// with plain arith.addf: the GPU pipelines reassociate them
// (qtrain-reassociate-float-sums), split each channel's 8192 terms into
// 256 partial sums of 32 (qtrain-parallelize-reductions) and combine each
// channel's partials in a block of its own (qtrain-block-reductions); the
// channels of a 4x4x16x16 slice (1024 terms, not split) are a block each. The terms are small integers, so every order of summation gives
// the exact sums, which the CPU pipeline (loop order) must print too. The
// first and last terms of each channel carry an extra 20 and 10 (c + 1):
// a share that missed them would show.
// RUN: qtrain-opt %s -qtrain-lower-to-cpu=vectorize=false | %run_gpu_emulator | FileCheck %s
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_90a | %run_gpu_emulator | FileCheck %s
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_89 | %run_gpu_emulator | FileCheck %s
// The channel blocks, as the GPU pipeline builds them (a warp's total a
// slot of each buffer, after shuffles):
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm=chip=sm_90a \
// RUN:   --mlir-print-ir-after=qtrain-block-reductions -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BLOCKS
// BLOCKS-LABEL: func.func private @statistics_gpu(
// BLOCKS:         gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) workgroup(%{{.+}} : memref<8xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<8xf32, #gpu.address_space<workgroup>>)
// BLOCKS-LABEL: func.func private @small_statistics_gpu(
// BLOCKS:         gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) workgroup(%{{.+}} : memref<8xf32, #gpu.address_space<workgroup>>)

// CHECK: [26,  39,  52,  58]
// CHECK: [33130,  33533,  34184,  34684]
// CHECK: [19,  15,  25,  21]

func.func private @printMemrefF32(memref<*xf32>)

func.func @print4(%t: tensor<4xf32>) {
  %m = bufferization.to_buffer %t : tensor<4xf32> to memref<4xf32>
  %u = memref.cast %m : memref<4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// x[n, c, h, w] = (3n + 5c + h + 2w) mod 7 - 3, plus 20 at (0, c, 0, 0)
// and 10 (c + 1) at (7, c, 31, 31).
func.func @activation() -> tensor<8x4x32x32xf32> {
  %e = tensor.empty() : tensor<8x4x32x32xf32>
  %x = linalg.generic {
      indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%e : tensor<8x4x32x32xf32>) {
  ^bb0(%o: f32):
    %n = linalg.index 0 : index
    %c = linalg.index 1 : index
    %h = linalg.index 2 : index
    %w = linalg.index 3 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c7 = arith.constant 7 : index
    %c31 = arith.constant 31 : index
    %n3 = arith.muli %n, %c3 : index
    %c5c = arith.muli %c, %c5 : index
    %w2 = arith.muli %w, %c2 : index
    %s0 = arith.addi %n3, %c5c : index
    %s1 = arith.addi %s0, %h : index
    %s2 = arith.addi %s1, %w2 : index
    %m = arith.remui %s2, %c7 : index
    %mi = arith.index_cast %m : index to i32
    %v0 = arith.sitofp %mi : i32 to f32
    %three = arith.constant 3.0 : f32
    %v = arith.subf %v0, %three : f32
    %hw = arith.addi %h, %w : index
    %first = arith.cmpi eq, %hw, %c0 : index
    %firstn = arith.cmpi eq, %n, %c0 : index
    %isfirst = arith.andi %first, %firstn : i1
    %twenty = arith.constant 20.0 : f32
    %zero = arith.constant 0.0 : f32
    %b0 = arith.select %isfirst, %twenty, %zero : f32
    %lasth = arith.cmpi eq, %h, %c31 : index
    %lastw = arith.cmpi eq, %w, %c31 : index
    %lastn = arith.cmpi eq, %n, %c7 : index
    %l0 = arith.andi %lasth, %lastw : i1
    %islast = arith.andi %l0, %lastn : i1
    %c1p = arith.addi %c, %c1 : index
    %ci = arith.index_cast %c1p : index to i32
    %cf = arith.sitofp %ci : i32 to f32
    %ten = arith.constant 10.0 : f32
    %tenc = arith.mulf %ten, %cf : f32
    %b1 = arith.select %islast, %tenc, %zero : f32
    %v1 = arith.addf %v, %b0 : f32
    %v2 = arith.addf %v1, %b1 : f32
    linalg.yield %v2 : f32
  } -> tensor<8x4x32x32xf32>
  return %x : tensor<8x4x32x32xf32>
}

func.func @statistics(%x: tensor<8x4x32x32xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r:2 = linalg.generic {
      indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>,
                       affine_map<(n, c, h, w) -> (c)>,
                       affine_map<(n, c, h, w) -> (c)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x : tensor<8x4x32x32xf32>) outs(%init, %init : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%in: f32, %sum: f32, %sumsq: f32):
    %a = arith.addf %sum, %in : f32
    %sq = arith.mulf %in, %in : f32
    %b = arith.addf %sumsq, %sq : f32
    linalg.yield %a, %b : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)
  return %r#0, %r#1 : tensor<4xf32>, tensor<4xf32>
}

// The channel sums of a 4x4x16x16 slice of x: 1024 terms a channel, not
// split.
func.func @small_statistics(%x: tensor<8x4x32x32xf32>) -> tensor<4xf32> {
  %slice = tensor.extract_slice %x[0, 0, 0, 0] [4, 4, 16, 16] [1, 1, 1, 1]
      : tensor<8x4x32x32xf32> to tensor<4x4x16x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>,
                       affine_map<(n, c, h, w) -> (c)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%slice : tensor<4x4x16x16xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %sum: f32):
    %a = arith.addf %sum, %in : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

func.func @main() {
  %x = call @activation() : () -> tensor<8x4x32x32xf32>
  %s, %q = call @statistics(%x) : (tensor<8x4x32x32xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  call @print4(%s) : (tensor<4xf32>) -> ()
  call @print4(%q) : (tensor<4xf32>) -> ()
  %t = call @small_statistics(%x) : (tensor<8x4x32x32xf32>) -> tensor<4xf32>
  call @print4(%t) : (tensor<4xf32>) -> ()
  return
}
