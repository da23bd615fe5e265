// The tensor-core GEMM kernels compute an elementwise op on their outputs in
// their epilogues (each thread applies it to the elements it writes and
// stores its results there), bit for bit as the CPU lowering computes it:
// relu(r + bias) rounded to E4M3 at a scale known before the GEMM (delayed
// scaling; with the absmax of relu(r + bias) beside it in the same
// epilogue), r rounded to bf16, and r rounded to E5M2 with stochastic
// rounding. GEMMs with partial tiles of every kernel: B stored k x n
// (staged through registers), n x k (TMA copies; cp.async without them),
// 128x256 tiles taken by one persistent block, a batched GEMM; and
// mma.sync's. The operands are small multiples of 1/4, so every sum is
// exact. Each result prints in full (the runs must agree on every code) and
// as the sum of its codes' bits, which numpy computes from the patterns.
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
// Every elementwise op on a GEMM's output went into its GEMM's kernel,
// which stores the op's results (the codes as i8 or i16, as the CPU
// lowering stores them) in pairs of columns, and no f32 sums: nothing else
// reads them. The first computes the absmax beside the codes.
// RUN: FileCheck %s --check-prefix=FUSED < %t.wgmma.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mma.mlir
// FUSED:     gpu.launch
// FUSED-NOT:   vector.store {{.+}} : memref<70x200xf32>
// FUSED:       vector.store {{.+}} : memref<70x200xi8>, vector<2xi8>
// FUSED:       memref.atomic_rmw maximumf
// FUSED:     gpu.terminator
// FUSED:     gpu.launch
// FUSED-NOT:   vector.store {{.+}} : memref<70x200xf32>
// FUSED:       vector.store {{.+}} : memref<70x200xi16>, vector<2xi16>
// FUSED:     gpu.terminator
// FUSED:     gpu.launch
// FUSED-NOT:   vector.store {{.+}} : memref<150x260xf32>
// FUSED:       vector.store {{.+}} : memref<150x260xi8>, vector<2xi8>
// FUSED:     gpu.terminator
// FUSED:     gpu.launch
// FUSED-NOT:   vector.store {{.+}} : memref<2x70x200xf32>
// FUSED:       vector.store {{.+}} : memref<2x70x200xi16>, vector<2xi16>
// FUSED:     gpu.terminator

// The sums of the codes' bits and the absmax's scale, as numpy computes them
// (epilogue-maps.py, which runs too; the stochastically rounded codes are checked against
// the CPU lowering's only).
// CHECK:      {{^}}[864149]
// CHECK-NEXT: {{^}}[1039625655]
// CHECK-NEXT: {{^}}[510451467]
// CHECK-NEXT: {{^}}[{{[0-9]+}}]
// CHECK-NEXT: {{^}}[1014397417]

func.func private @printMemrefI32(memref<*xi32>)

func.func @print(%t: tensor<?x?xi32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xi32> to memref<?x?xi32>
  %u = memref.cast %m : memref<?x?xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_scalar(%t: tensor<i32>) {
  %m = bufferization.to_buffer %t : tensor<i32> to memref<i32>
  %u = memref.cast %m : memref<i32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// The codes' bits, zero-extended.
func.func @bits8(%t: tensor<?x?xi8>) -> tensor<?x?xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %t, %c0 : tensor<?x?xi8>
  %cols = tensor.dim %t, %c1 : tensor<?x?xi8>
  %e = tensor.empty(%rows, %cols) : tensor<?x?xi32>
  %w = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<?x?xi8>) outs(%e : tensor<?x?xi32>) {
  ^bb0(%x: i8, %o: i32):
    %y = arith.extui %x : i8 to i32
    linalg.yield %y : i32
  } -> tensor<?x?xi32>
  return %w : tensor<?x?xi32>
}
func.func @bits16(%t: tensor<?x?xi16>) -> tensor<?x?xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %t, %c0 : tensor<?x?xi16>
  %cols = tensor.dim %t, %c1 : tensor<?x?xi16>
  %e = tensor.empty(%rows, %cols) : tensor<?x?xi32>
  %w = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<?x?xi16>) outs(%e : tensor<?x?xi32>) {
  ^bb0(%x: i16, %o: i32):
    %y = arith.extui %x : i16 to i32
    linalg.yield %y : i32
  } -> tensor<?x?xi32>
  return %w : tensor<?x?xi32>
}

func.func @sum(%t: tensor<?x?xi32>) -> tensor<i32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<i32>
  %init = linalg.fill ins(%zero : i32) outs(%e : tensor<i32>) -> tensor<i32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%t : tensor<?x?xi32>) outs(%init : tensor<i32>) {
  ^bb0(%x: i32, %a: i32):
    %y = arith.addi %a, %x : i32
    linalg.yield %y : i32
  } -> tensor<i32>
  return %s : tensor<i32>
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
  %c5 = arith.constant 5 : index
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
  %quarter = arith.constant dense<0.25> : tensor<f32>
  %sixteen = arith.constant dense<16.0> : tensor<f32>
  %seed = arith.constant 1234 : i64

  // 70x96 x 96x200 (B k x n): relu(r + bias) in E4M3 at a scale known
  // before the GEMM, and its absmax's scale (the MLP's hidden layer with
  // delayed scaling).
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
  %q0 = qtrain.quantize %h0 to float<f8E4M3FN> scale(%quarter : tensor<f32>) : tensor<70x200xf32> -> tensor<70x200xf8E4M3FN>
  %s0 = qtrain.compute_scale %h0 for float<f8E4M3FN> using <absmax> : tensor<70x200xf32> -> tensor<f32>
  %q0i = arith.bitcast %q0 : tensor<70x200xf8E4M3FN> to tensor<70x200xi8>
  %q0d = tensor.cast %q0i : tensor<70x200xi8> to tensor<?x?xi8>
  %w0 = call @bits8(%q0d) : (tensor<?x?xi8>) -> tensor<?x?xi32>

  // 70x336 x (200x336)^T: r in bf16.
  %a2 = call @pattern(%c2, %c70, %c336) : (index, index, index) -> tensor<?x?xf32>
  %b2 = call @pattern(%c3, %c200, %c336) : (index, index, index) -> tensor<?x?xf32>
  %a2s = tensor.cast %a2 : tensor<?x?xf32> to tensor<70x336xf32>
  %b2s = tensor.cast %b2 : tensor<?x?xf32> to tensor<200x336xf32>
  %qa2 = qtrain.quantize %a2s to float<f8E4M3FN> : tensor<70x336xf32> -> tensor<70x336xf8E4M3FN>
  %qb2 = qtrain.quantize %b2s to float<f8E4M3FN> : tensor<200x336xf32> -> tensor<200x336xf8E4M3FN>
  %r2 = qtrain.qmatmul %qa2, %qb2 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<70x336xf8E4M3FN>, tensor<200x336xf8E4M3FN> -> tensor<70x200xf32>
  %e2 = tensor.empty() : tensor<70x200xbf16>
  %h2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r2 : tensor<70x200xf32>) outs(%e2 : tensor<70x200xbf16>) {
  ^bb0(%x: f32, %o: bf16):
    %y = arith.truncf %x : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<70x200xbf16>
  %h2i = arith.bitcast %h2 : tensor<70x200xbf16> to tensor<70x200xi16>
  %h2d = tensor.cast %h2i : tensor<70x200xi16> to tensor<?x?xi16>
  %w2 = call @bits16(%h2d) : (tensor<?x?xi16>) -> tensor<?x?xi32>

  // 150x1104 x (260x1104)^T (128x256 tiles): r in E5M2, rounded
  // stochastically (random bits keyed on each element's position).
  %a4 = call @pattern(%c7, %c150, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %b4 = call @pattern(%c8, %c260, %c1104) : (index, index, index) -> tensor<?x?xf32>
  %a4s = tensor.cast %a4 : tensor<?x?xf32> to tensor<150x1104xf32>
  %b4s = tensor.cast %b4 : tensor<?x?xf32> to tensor<260x1104xf32>
  %qa4 = qtrain.quantize %a4s to float<f8E4M3FN> : tensor<150x1104xf32> -> tensor<150x1104xf8E4M3FN>
  %qb4 = qtrain.quantize %b4s to float<f8E4M3FN> : tensor<260x1104xf32> -> tensor<260x1104xf8E4M3FN>
  %r4 = qtrain.qmatmul %qa4, %qb4 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<150x1104xf8E4M3FN>, tensor<260x1104xf8E4M3FN> -> tensor<150x260xf32>
  %q4 = qtrain.quantize %r4 to float<f8E5M2> scale(%sixteen : tensor<f32>) rounding stochastic seed(%seed) : tensor<150x260xf32> -> tensor<150x260xf8E5M2>
  %q4i = arith.bitcast %q4 : tensor<150x260xf8E5M2> to tensor<150x260xi8>
  %q4d = tensor.cast %q4i : tensor<150x260xi8> to tensor<?x?xi8>
  %w4 = call @bits8(%q4d) : (tensor<?x?xi8>) -> tensor<?x?xi32>

  // A batch of two 70x96 x (200x96)^T, in bf16.
  %a5 = call @pattern(%c9, %c140, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b5 = call @pattern(%c10, %c400, %c96) : (index, index, index) -> tensor<?x?xf32>
  %a5s = tensor.cast %a5 : tensor<?x?xf32> to tensor<140x96xf32>
  %b5s = tensor.cast %b5 : tensor<?x?xf32> to tensor<400x96xf32>
  %a5b = tensor.expand_shape %a5s [[0, 1], [2]] output_shape [2, 70, 96] : tensor<140x96xf32> into tensor<2x70x96xf32>
  %b5b = tensor.expand_shape %b5s [[0, 1], [2]] output_shape [2, 200, 96] : tensor<400x96xf32> into tensor<2x200x96xf32>
  %qa5 = qtrain.quantize %a5b to float<f8E4M3FN> : tensor<2x70x96xf32> -> tensor<2x70x96xf8E4M3FN>
  %qb5 = qtrain.quantize %b5b to float<f8E5M2> : tensor<2x200x96xf32> -> tensor<2x200x96xf8E5M2>
  %r5 = qtrain.qmatmul %qa5, %qb5 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<2x70x96xf8E4M3FN>, tensor<2x200x96xf8E5M2> -> tensor<2x70x200xf32>
  %e5 = tensor.empty() : tensor<2x70x200xbf16>
  %h5 = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r5 : tensor<2x70x200xf32>) outs(%e5 : tensor<2x70x200xbf16>) {
  ^bb0(%x: f32, %o: bf16):
    %y = arith.truncf %x : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<2x70x200xbf16>
  %h5i = arith.bitcast %h5 : tensor<2x70x200xbf16> to tensor<2x70x200xi16>
  %h5c = tensor.collapse_shape %h5i [[0, 1], [2]] : tensor<2x70x200xi16> into tensor<140x200xi16>
  %h5d = tensor.cast %h5c : tensor<140x200xi16> to tensor<?x?xi16>
  %w5 = call @bits16(%h5d) : (tensor<?x?xi16>) -> tensor<?x?xi32>

  %sum0 = call @sum(%w0) : (tensor<?x?xi32>) -> tensor<i32>
  call @print_scalar(%sum0) : (tensor<i32>) -> ()
  %s0i = arith.bitcast %s0 : tensor<f32> to tensor<i32>
  call @print_scalar(%s0i) : (tensor<i32>) -> ()
  %sum2 = call @sum(%w2) : (tensor<?x?xi32>) -> tensor<i32>
  call @print_scalar(%sum2) : (tensor<i32>) -> ()
  %sum4 = call @sum(%w4) : (tensor<?x?xi32>) -> tensor<i32>
  call @print_scalar(%sum4) : (tensor<i32>) -> ()
  %sum5 = call @sum(%w5) : (tensor<?x?xi32>) -> tensor<i32>
  call @print_scalar(%sum5) : (tensor<i32>) -> ()
  call @print(%w0) : (tensor<?x?xi32>) -> ()
  call @print(%w2) : (tensor<?x?xi32>) -> ()
  call @print(%w4) : (tensor<?x?xi32>) -> ()
  call @print(%w5) : (tensor<?x?xi32>) -> ()
  return
}
