// RUN: qtrain-opt %s -split-input-file -qtrain-k-major-gemm-operands | FileCheck %s

// A forward GEMM's k x n weight, quantized by an elementwise op that
// nothing else reads: the quantization writes it n x k instead (the k x n
// result, now unread, is dropped), and the GEMM reads B at (n, k).
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[T:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @forward_weight
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<32x48xf8E4M3FN>
// CHECK:         %[[Q:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[T]]], {{.+}}} ins(%{{.+}} : tensor<48x32xf32>) outs(%[[E]] : tensor<32x48xf8E4M3FN>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f8E4M3FN):
// CHECK-NEXT:      %[[T8:.+]] = arith.truncf %[[IN]] : f32 to f8E4M3FN
// CHECK-NEXT:      linalg.yield %[[T8]] : f8E4M3FN
// CHECK:         linalg.generic {indexing_maps = [#[[A]], #[[BT]], #{{.+}}], {{.+}}} ins(%{{.+}}, %[[Q]] : tensor<16x48xf8E4M3FN>, tensor<32x48xf8E4M3FN>)
#id = affine_map<(i, j) -> (i, j)>
func.func @forward_weight(%x: tensor<16x48xf8E4M3FN>, %w: tensor<48x32xf32>, %acc: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %e = tensor.empty() : tensor<48x32xf8E4M3FN>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<48x32xf32>) outs(%e : tensor<48x32xf8E4M3FN>) {
  ^bb0(%in: f32, %out: f8E4M3FN):
    %t = arith.truncf %in : f32 to f8E4M3FN
    linalg.yield %t : f8E4M3FN
  } -> tensor<48x32xf8E4M3FN>
  %y = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q : tensor<16x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>) outs(%acc : tensor<16x32xf32>) {
  ^bb0(%a: f8E4M3FN, %b: f8E4M3FN, %c: f32):
    %0 = arith.extf %a : f8E4M3FN to f32
    %1 = arith.extf %b : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// An activation that the forward GEMM reads m x k and the weight gradient
// k x m (k the batch), and an output gradient that the weight gradient
// reads k x n: the activation's quantization writes both layouts, the
// gradient's only the transposed one; the weight gradient reads A at
// (m, k) and B at (n, k). Two weight gradients of one activation share
// its one transposed copy.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[T:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @weight_gradients
// CHECK:         %[[X:.+]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[T]]], {{.+}} outs(%{{.+}}, %{{.+}} : tensor<64x32xbf16>, tensor<32x64xbf16>)
// CHECK:         %[[G:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[T]]], {{.+}} outs(%{{.+}} : tensor<16x64xbf16>)
// CHECK:         %[[FWD:.+]] = linalg.generic {{.+}} ins(%[[X]]#0, %{{.+}} : tensor<64x32xbf16>, tensor<16x32xbf16>)
// CHECK:         linalg.generic {indexing_maps = [#[[MK]], #[[NK]], #{{.+}}], {{.+}}} ins(%[[X]]#1, %[[G]] : tensor<32x64xbf16>, tensor<16x64xbf16>)
// CHECK:         linalg.generic {indexing_maps = [#[[MK]], #[[NK]], #{{.+}}], {{.+}}} ins(%[[X]]#1, %[[G]] : tensor<32x64xbf16>, tensor<16x64xbf16>)
#id = affine_map<(i, j) -> (i, j)>
#bf16_gemm = {indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @weight_gradients(%x: tensor<64x32xf32>, %g: tensor<64x16xf32>, %w: tensor<16x32xbf16>, %acc: tensor<64x16xf32>, %dw: tensor<32x16xf32>) -> (tensor<64x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>) {
  %e = tensor.empty() : tensor<64x32xbf16>
  %xq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x32xf32>) outs(%e : tensor<64x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<64x32xbf16>
  %eg = tensor.empty() : tensor<64x16xbf16>
  %gq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : tensor<64x16xf32>) outs(%eg : tensor<64x16xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<64x16xbf16>
  // The forward GEMM: x (m x k) times w stored n x k, both K-major already.
  %y = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xq, %w : tensor<64x32xbf16>, tensor<16x32xbf16>) outs(%acc : tensor<64x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %b : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<64x16xf32>
  %d1 = linalg.generic #bf16_gemm ins(%xq, %gq : tensor<64x32xbf16>, tensor<64x16xbf16>) outs(%dw : tensor<32x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %b : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<32x16xf32>
  %d2 = linalg.generic #bf16_gemm ins(%xq, %gq : tensor<64x32xbf16>, tensor<64x16xbf16>) outs(%dw : tensor<32x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %b : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<32x16xf32>
  return %y, %d1, %d2 : tensor<64x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>
}

// -----

// Left as they are: an operand that no elementwise op produces (a function
// argument: transposing it would be a kernel of its own), one whose rows
// along k would not be whole 16-byte granules (K = 10 bytes), one produced
// by a reduction, and a contraction the tensor cores would not take (f32
// operands).
// CHECK-LABEL: func.func @left_alone
// CHECK:         ins(%arg0, %arg1 : tensor<16x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>)
// CHECK:         %[[Q10:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<10x32xf8E4M3FN>)
// CHECK:         ins(%arg3, %[[Q10]] : tensor<16x10xf8E4M3FN>, tensor<10x32xf8E4M3FN>)
// CHECK:         %[[QR:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<48x32xf8E4M3FN>)
// CHECK:         ins(%arg0, %[[QR]] : tensor<16x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>)
// CHECK:         %[[QF:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<48x32xf32>)
// CHECK:         ins(%arg6, %[[QF]] : tensor<16x48xf32>, tensor<48x32xf32>)
// CHECK-NOT:     tensor.empty
// CHECK:         return
#id = affine_map<(i, j) -> (i, j)>
#fp8_gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @left_alone(%x: tensor<16x48xf8E4M3FN>, %w: tensor<48x32xf8E4M3FN>, %acc: tensor<16x32xf32>,
                      %x10: tensor<16x10xf8E4M3FN>, %w10: tensor<10x32xf32>,
                      %w3: tensor<2x48x32xf32>, %xf: tensor<16x48xf32>, %wf: tensor<48x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) {
  %y = linalg.generic #fp8_gemm ins(%x, %w : tensor<16x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>) outs(%acc : tensor<16x32xf32>) {
  ^bb0(%a: f8E4M3FN, %b: f8E4M3FN, %c: f32):
    %0 = arith.extf %a : f8E4M3FN to f32
    %1 = arith.extf %b : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<16x32xf32>
  %e10 = tensor.empty() : tensor<10x32xf8E4M3FN>
  %q10 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w10 : tensor<10x32xf32>) outs(%e10 : tensor<10x32xf8E4M3FN>) {
  ^bb0(%in: f32, %out: f8E4M3FN):
    %t = arith.truncf %in : f32 to f8E4M3FN
    linalg.yield %t : f8E4M3FN
  } -> tensor<10x32xf8E4M3FN>
  %y10 = linalg.generic #fp8_gemm ins(%x10, %q10 : tensor<16x10xf8E4M3FN>, tensor<10x32xf8E4M3FN>) outs(%acc : tensor<16x32xf32>) {
  ^bb0(%a: f8E4M3FN, %b: f8E4M3FN, %c: f32):
    %0 = arith.extf %a : f8E4M3FN to f32
    %1 = arith.extf %b : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<16x32xf32>
  // The largest of two weights, element by element, as a reduction.
  %er = tensor.empty() : tensor<48x32xf8E4M3FN>
  %qr = linalg.generic {indexing_maps = [affine_map<(r, i, j) -> (r, i, j)>, affine_map<(r, i, j) -> (i, j)>], iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%w3 : tensor<2x48x32xf32>) outs(%er : tensor<48x32xf8E4M3FN>) {
  ^bb0(%in: f32, %out: f8E4M3FN):
    %t = arith.truncf %in : f32 to f8E4M3FN
    %m = arith.maximumf %t, %out : f8E4M3FN
    linalg.yield %m : f8E4M3FN
  } -> tensor<48x32xf8E4M3FN>
  %yr = linalg.generic #fp8_gemm ins(%x, %qr : tensor<16x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>) outs(%acc : tensor<16x32xf32>) {
  ^bb0(%a: f8E4M3FN, %b: f8E4M3FN, %c: f32):
    %0 = arith.extf %a : f8E4M3FN to f32
    %1 = arith.extf %b : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<16x32xf32>
  %ef = tensor.empty() : tensor<48x32xf32>
  %qf = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%wf : tensor<48x32xf32>) outs(%ef : tensor<48x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<48x32xf32>
  %yf = linalg.generic #fp8_gemm ins(%xf, %qf : tensor<16x48xf32>, tensor<48x32xf32>) outs(%acc : tensor<16x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %2 = arith.mulf %a, %b : f32
    %3 = arith.addf %c, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<16x32xf32>
  return %y, %y10, %yr, %yf : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>
}
