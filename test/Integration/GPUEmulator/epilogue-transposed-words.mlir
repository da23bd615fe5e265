// A GEMM epilogue whose map also stores its 8-bit result transposed (the
// next GEMM reads it k-major: qtrain-k-major-gemm-operands) stores it in
// 4-byte words of four rows that lanes assemble by shuffles, instead of a
// byte an element: q = E4M3(relu(A B + bias) / 0.25), 80x200 (partial
// tiles both ways), read transposed by the weight-gradient GEMM g = q^T X.
// The CPU lowering, the sm_90a kernels (TMA, and cp.async) and the sm_89
// ones must agree on every code and sum; the sums are numpy's too
// (epilogue-transposed-words.py). The operands are multiples of 1/4 and
// every sum is exact in f32.
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
// RUN: FileCheck %s --check-prefix=WORDS < %t.wgmma.mlir
// RUN: FileCheck %s --check-prefix=WORDS < %t.mma.mlir

// The first GEMM's kernel stores q in pairs of columns, and q^T (200x80)
// in words: two shuffles (lanes xor 8, xor 4) and one 4-byte store each.
// WORDS:     gpu.launch
// WORDS:       vector.store {{.+}} : memref<80x200xf8E4M3FN>, vector<2xf8E4M3FN>
// WORDS:       gpu.shuffle  xor %{{.+}}, %c8_i32{{[_0-9]*}}, %c32_i32{{[_0-9]*}} : i32
// WORDS:       vector.shuffle %{{.+}}, %{{.+}} [6, 7, 2, 3] : vector<4xi8>, vector<4xi8>
// WORDS:       gpu.shuffle  xor %{{.+}}, %c4_i32{{[_0-9]*}}, %c32_i32{{[_0-9]*}} : i32
// WORDS:       vector.shuffle %{{.+}}, %{{.+}} [5, 1, 7, 3] : vector<4xi8>, vector<4xi8>
// WORDS:       vector.store {{.+}} {alignment = 4 : i64} : memref<200x80xf8E4M3FN>, vector<4xf8E4M3FN>
// WORDS-NOT:   memref.store {{.+}} : memref<200x80xf8E4M3FN>
// WORDS:     gpu.terminator

// CHECK:      {{^}}[991598]
// CHECK-NEXT: {{^}}[-249832]

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

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
  %c48 = arith.constant 48 : index
  %c80 = arith.constant 80 : index
  %c96 = arith.constant 96 : index
  %c200 = arith.constant 200 : index
  %one = arith.constant dense<1.0> : tensor<f32>
  %quarter = arith.constant dense<0.25> : tensor<f32>

  %a = call @pattern(%c0, %c80, %c96) : (index, index, index) -> tensor<?x?xf32>
  %b = call @pattern(%c1, %c96, %c200) : (index, index, index) -> tensor<?x?xf32>
  %bias2 = call @pattern(%c2, %c1, %c200) : (index, index, index) -> tensor<?x?xf32>
  %x = call @pattern(%c3, %c80, %c48) : (index, index, index) -> tensor<?x?xf32>
  %as = tensor.cast %a : tensor<?x?xf32> to tensor<80x96xf32>
  %bs = tensor.cast %b : tensor<?x?xf32> to tensor<96x200xf32>
  %bias2s = tensor.cast %bias2 : tensor<?x?xf32> to tensor<1x200xf32>
  %bias = tensor.collapse_shape %bias2s [[0, 1]] : tensor<1x200xf32> into tensor<200xf32>
  %xs = tensor.cast %x : tensor<?x?xf32> to tensor<80x48xf32>
  %qa = qtrain.quantize %as to float<f8E4M3FN> : tensor<80x96xf32> -> tensor<80x96xf8E4M3FN>
  %qb = qtrain.quantize %bs to float<f8E4M3FN> : tensor<96x200xf32> -> tensor<96x200xf8E4M3FN>
  %qx = qtrain.quantize %xs to float<f8E4M3FN> : tensor<80x48xf32> -> tensor<80x48xf8E4M3FN>
  %r = qtrain.qmatmul %qa, %qb lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<80x96xf8E4M3FN>, tensor<96x200xf8E4M3FN> -> tensor<80x200xf32>
  %e = tensor.empty() : tensor<80x200xf32>
  %h = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r, %bias : tensor<80x200xf32>, tensor<200xf32>) outs(%e : tensor<80x200xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    %zero = arith.constant 0.0 : f32
    %y = arith.maximumf %s, %zero : f32
    linalg.yield %y : f32
  } -> tensor<80x200xf32>
  %q = qtrain.quantize %h to float<f8E4M3FN> scale(%quarter : tensor<f32>) : tensor<80x200xf32> -> tensor<80x200xf8E4M3FN>
  // g = q^T x: q read k x m (k = the 80 rows), as a weight gradient.
  %g = qtrain.qmatmul %q, %qx lhs(float<f8E4M3FN> transposed, scale %quarter : tensor<f32>) rhs(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<80x200xf8E4M3FN>, tensor<80x48xf8E4M3FN> -> tensor<200x48xf32>

  // q's codes' bits and g's values, summed (exact), then in full.
  %qi = arith.bitcast %q : tensor<80x200xf8E4M3FN> to tensor<80x200xi8>
  %zero = arith.constant 0 : i32
  %e0 = tensor.empty() : tensor<i32>
  %init = linalg.fill ins(%zero : i32) outs(%e0 : tensor<i32>) -> tensor<i32>
  %sum = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%qi : tensor<80x200xi8>) outs(%init : tensor<i32>) {
  ^bb0(%v: i8, %s: i32):
    %w = arith.extui %v : i8 to i32
    %t = arith.addi %s, %w : i32
    linalg.yield %t : i32
  } -> tensor<i32>
  // g is a multiple of 1/64 (codes of q: quarters): 64 g summed as
  // integers.
  %gsum = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%g : tensor<200x48xf32>) outs(%init : tensor<i32>) {
  ^bb0(%v: f32, %s: i32):
    %c64f = arith.constant 64.0 : f32
    %w = arith.mulf %v, %c64f : f32
    %wi = arith.fptosi %w : f32 to i32
    %t = arith.addi %s, %wi : i32
    linalg.yield %t : i32
  } -> tensor<i32>
  %summ = bufferization.to_buffer %sum : tensor<i32> to memref<i32>
  %sumu = memref.cast %summ : memref<i32> to memref<*xi32>
  call @printMemrefI32(%sumu) : (memref<*xi32>) -> ()
  %gsumm = bufferization.to_buffer %gsum : tensor<i32> to memref<i32>
  %gsumu = memref.cast %gsumm : memref<i32> to memref<*xi32>
  call @printMemrefI32(%gsumu) : (memref<*xi32>) -> ()
  %qm = bufferization.to_buffer %qi : tensor<80x200xi8> to memref<80x200xi8>
  %qw = memref.alloc() : memref<80x200xi32>
  scf.for %i = %c0 to %c80 step %c1 {
    scf.for %j = %c0 to %c200 step %c1 {
      %v = memref.load %qm[%i, %j] : memref<80x200xi8>
      %w = arith.extui %v : i8 to i32
      memref.store %w, %qw[%i, %j] : memref<80x200xi32>
    }
  }
  %qu = memref.cast %qw : memref<80x200xi32> to memref<*xi32>
  call @printMemrefI32(%qu) : (memref<*xi32>) -> ()
  %gm = bufferization.to_buffer %g : tensor<200x48xf32> to memref<200x48xf32>
  %gu = memref.cast %gm : memref<200x48xf32> to memref<*xf32>
  call @printMemrefF32(%gu) : (memref<*xf32>) -> ()
  return
}
