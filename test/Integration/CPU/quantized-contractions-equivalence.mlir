// qtrain-quantize-contractions keeps what a training graph computes: GEMMs
// of rounded operands (fake quantization, the reference here) and the
// qtrain.qmatmul of their codes it makes give the same results, compiled
// and run on the CPU, up to the f32 rounding of products and sums (the
// scales are factored out of the sums; the 6 digits printed): FP8 forward
// and weight-gradient forms (transposed operands, a per-channel scale,
// stochastic rounding), a batched GEMM, unsigned int8 with zero points
// (INT8 training) and INT8's weight gradient (those codes times a bf16
// gradient copy, stochastically rounded). The activation gradient keeps its
// simulated GEMM: the weights' per-output-channel scale runs along its
// contraction dimension.
// RUN: %run_cpu > %t.simulated
// RUN: qtrain-opt %s -qtrain-quantize-contractions | qtrain-opt -qtrain-lower-to-cpu \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so \
// RUN:   > %t.codes
// RUN: %qtrain_python -m qtrain.compare_memrefs %t.simulated %t.codes --rtol 3e-5 | FileCheck %s --check-prefix=SAME
// SAME-COUNT-6: worst difference
// The other GEMMs really became qmatmuls.
// RUN: qtrain-opt %s -qtrain-quantize-contractions | FileCheck %s --check-prefix=CODES
// CODES: qtrain.qmatmul
// CODES: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CODES-COUNT-3: qtrain.qmatmul
// CODES:         qtrain.qmatmul {{.+}} lhs(int<8, unsigned> transposed, {{.+}} rhs(float<bf16>, {{.+}} accumulate f32
// CODES-NOT: linalg.matmul
// CODES-NOT: linalg.batch_matmul

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#nm = affine_map<(m, n, k) -> (n, m)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// sin(a * i + b * j + c) * amplitude: smooth, signed, not trivial.
func.func @wave(%a: f32, %b: f32, %c: f32, %amplitude: f32) -> tensor<48x48xf32> {
  %e = tensor.empty() : tensor<48x48xf32>
  %r = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%e : tensor<48x48xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %fi = arith.sitofp %i64 : i64 to f32
    %fj = arith.sitofp %j64 : i64 to f32
    %ai = arith.mulf %fi, %a : f32
    %bj = arith.mulf %fj, %b : f32
    %s = arith.addf %ai, %bj : f32
    %t = arith.addf %s, %c : f32
    %v = math.sin %t : f32
    %w = arith.mulf %v, %amplitude : f32
    linalg.yield %w : f32
  } -> tensor<48x48xf32>
  return %r : tensor<48x48xf32>
}

func.func @print(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %c1 = arith.constant 0.37 : f32
  %c2 = arith.constant 1.13 : f32
  %c3 = arith.constant 0.5 : f32
  %amp = arith.constant 3.0 : f32
  %small = arith.constant 0.01 : f32
  %x = call @wave(%c1, %c2, %c3, %amp) : (f32, f32, f32, f32) -> tensor<48x48xf32>
  %w = call @wave(%c2, %c1, %c1, %amp) : (f32, f32, f32, f32) -> tensor<48x48xf32>
  %g = call @wave(%c3, %c1, %c2, %small) : (f32, f32, f32, f32) -> tensor<48x48xf32>
  %seed = arith.constant 1234 : i64
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<48x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<48x48xf32>) -> tensor<48x48xf32>

  // Forward: E4M3FN activations (absmax) times E4M3FN weights with a
  // per-output-channel scale (axis 1, the free dimension of k x n).
  %sx = qtrain.compute_scale %x for float<f8E4M3FN> using <absmax> : tensor<48x48xf32> -> tensor<f32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%sx : tensor<f32>) : tensor<48x48xf32>
  %sw = qtrain.compute_scale %w for float<f8E4M3FN> using <absmax, per_channel, axis = 1> : tensor<48x48xf32> -> tensor<48xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<48xf32>) granularity <per_channel, axis = 1> {stream = 4 : i32} : tensor<48x48xf32>
  %y = linalg.matmul ins(%rx, %rw : tensor<48x48xf32>, tensor<48x48xf32>) outs(%fill : tensor<48x48xf32>) -> tensor<48x48xf32>
  %y_ = tensor.cast %y : tensor<48x48xf32> to tensor<?x?xf32>
  call @print(%y_) : (tensor<?x?xf32>) -> ()

  // Backward: E5M2 gradients with stochastic rounding; the activation
  // gradient g * w^T (w read n x k) and the weight gradient x^T * g, whose
  // result is stored transposed.
  %sg = qtrain.compute_scale %g for float<f8E5M2> using <absmax> : tensor<48x48xf32> -> tensor<f32>
  %rg = qtrain.round %g to float<f8E5M2> scale(%sg : tensor<f32>) rounding stochastic seed(%seed) {stream = 9 : i32} : tensor<48x48xf32>
  %dx = linalg.generic {indexing_maps = [#nk, #mk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%rw, %rg : tensor<48x48xf32>, tensor<48x48xf32>) outs(%fill : tensor<48x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<48x48xf32>
  %dx_ = tensor.cast %dx : tensor<48x48xf32> to tensor<?x?xf32>
  call @print(%dx_) : (tensor<?x?xf32>) -> ()
  %dw = linalg.generic {indexing_maps = [#km, #kn, #nm], iterator_types = ["parallel", "parallel", "reduction"]} ins(%rx, %rg : tensor<48x48xf32>, tensor<48x48xf32>) outs(%fill : tensor<48x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %b, %a : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<48x48xf32>
  %dw_ = tensor.cast %dw : tensor<48x48xf32> to tensor<?x?xf32>
  call @print(%dw_) : (tensor<?x?xf32>) -> ()

  // Batched: two 24x48 by 48x24 products.
  %bx = tensor.expand_shape %rx [[0, 1], [2]] output_shape [2, 24, 48] : tensor<48x48xf32> into tensor<2x24x48xf32>
  %wt = tensor.extract_slice %w[0, 0] [48, 48] [1, 1] : tensor<48x48xf32> to tensor<48x48xf32>
  %bw0 = tensor.expand_shape %wt [[0, 1], [2]] output_shape [2, 24, 48] : tensor<48x48xf32> into tensor<2x24x48xf32>
  %sbw = qtrain.compute_scale %bw0 for float<f8E4M3FN> using <absmax> : tensor<2x24x48xf32> -> tensor<f32>
  %bw = qtrain.round %bw0 to float<f8E4M3FN> scale(%sbw : tensor<f32>) : tensor<2x24x48xf32>
  %bsx = qtrain.compute_scale %bx for float<f8E4M3FN> using <absmax> : tensor<2x24x48xf32> -> tensor<f32>
  %brx = qtrain.round %bx to float<f8E4M3FN> scale(%bsx : tensor<f32>) : tensor<2x24x48xf32>
  %be = tensor.empty() : tensor<2x24x24xf32>
  %bfill = linalg.fill ins(%zero : f32) outs(%be : tensor<2x24x24xf32>) -> tensor<2x24x24xf32>
  %by = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%brx, %bw : tensor<2x24x48xf32>, tensor<2x24x48xf32>) outs(%bfill : tensor<2x24x24xf32>) -> tensor<2x24x24xf32>
  %by2 = tensor.collapse_shape %by [[0, 1], [2]] : tensor<2x24x24xf32> into tensor<48x24xf32>
  %by_ = tensor.cast %by2 : tensor<48x24xf32> to tensor<?x?xf32>
  call @print(%by_) : (tensor<?x?xf32>) -> ()

  // INT8 training's forward: unsigned codes with zero points (min/max).
  %ux, %zx = qtrain.compute_scale %x for int<8, unsigned> using <minmax> : tensor<48x48xf32> -> tensor<f32>, tensor<f32>
  %qx = qtrain.round %x to int<8, unsigned> scale(%ux : tensor<f32>) zero_point(%zx : tensor<f32>) : tensor<48x48xf32>
  %uw, %zw = qtrain.compute_scale %w for int<8, unsigned> using <minmax> : tensor<48x48xf32> -> tensor<f32>, tensor<f32>
  %qw = qtrain.round %w to int<8, unsigned> scale(%uw : tensor<f32>) zero_point(%zw : tensor<f32>) rounding stochastic seed(%seed) {stream = 5 : i32} : tensor<48x48xf32>
  %iy = linalg.matmul ins(%qx, %qw : tensor<48x48xf32>, tensor<48x48xf32>) outs(%fill : tensor<48x48xf32>) -> tensor<48x48xf32>
  %iy_ = tensor.cast %iy : tensor<48x48xf32> to tensor<?x?xf32>
  call @print(%iy_) : (tensor<?x?xf32>) -> ()

  // INT8 training's weight gradient: the 8-bit activation (k x m) times the
  // bf16 gradient copy, stochastically rounded.
  %bg = qtrain.round %g to float<bf16> rounding stochastic seed(%seed) {stream = 11 : i32} : tensor<48x48xf32>
  %iw = linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%qx, %bg : tensor<48x48xf32>, tensor<48x48xf32>) outs(%fill : tensor<48x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<48x48xf32>
  %iw_ = tensor.cast %iw : tensor<48x48xf32> to tensor<?x?xf32>
  call @print(%iw_) : (tensor<?x?xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>)
