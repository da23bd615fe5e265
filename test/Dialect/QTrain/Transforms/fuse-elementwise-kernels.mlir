// RUN: qtrain-opt %s -split-input-file -qtrain-fuse-elementwise-kernels | FileCheck %s

#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>

// A chain of elementwise ops (scale, then round to E4M3FN) is one op.
// CHECK-LABEL: func.func @chain
// CHECK:         %[[Q:.+]] = linalg.generic
// CHECK-SAME:      ins(%{{.+}} : tensor<64xf32>) outs(%{{.+}} : tensor<64xf8E4M3FN>)
// CHECK:           arith.mulf
// CHECK-NEXT:      arith.truncf
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[Q]]
func.func @chain(%x: tensor<64xf32>) -> tensor<64xf8E4M3FN> {
  %c = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %e8 = tensor.empty() : tensor<64xf8E4M3FN>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%s : tensor<64xf32>) outs(%e8 : tensor<64xf8E4M3FN>) {
  ^bb0(%in: f32, %out: f8E4M3FN):
    %0 = arith.truncf %in : f32 to f8E4M3FN
    linalg.yield %0 : f8E4M3FN
  } -> tensor<64xf8E4M3FN>
  return %q : tensor<64xf8E4M3FN>
}

// -----

#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>
#none = affine_map<() -> ()>

// A scale computed from an amax (a scalar op) used by two elementwise ops:
// each gets its own copy of the division, and the amax reduction stays.
// CHECK-LABEL: func.func @scalar_producer
// CHECK:         %[[AMAX:.+]] = linalg.generic {{.+}} iterator_types = ["reduction"]
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[AMAX]] : tensor<64xf32>, tensor<f32>)
// CHECK:           arith.divf
// CHECK:           arith.mulf
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[AMAX]] : tensor<64xf32>, tensor<f32>)
// CHECK:           arith.divf
// CHECK:           arith.addf
// CHECK-NOT:     linalg.generic
func.func @scalar_producer(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %zero = arith.constant 0.0 : f32
  %c448 = arith.constant 448.0 : f32
  %e0 = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %amax = linalg.generic {indexing_maps = [#id, #scalar], iterator_types = ["reduction"]}
      ins(%x : tensor<64xf32>) outs(%init : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %a, %out : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %scale = linalg.generic {indexing_maps = [#none, #none], iterator_types = []}
      ins(%amax : tensor<f32>) outs(%e0 : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %c448, %in : f32
    linalg.yield %d : f32
  } -> tensor<f32>
  %e = tensor.empty() : tensor<64xf32>
  %y = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]}
      ins(%x, %scale : tensor<64xf32>, tensor<f32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.mulf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %z = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]}
      ins(%x, %scale : tensor<64xf32>, tensor<f32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.addf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  return %y, %z : tensor<64xf32>, tensor<64xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>

// An elementwise producer of several uses that costs no more to recompute
// than to read back (one operand read element by element, no wider than
// its result) is fused into each consumer, which reads that operand
// instead: no consumer waits for another kernel (an epilogue's amax runs
// beside it on a GPU). One that a reduction over all of it reads once is
// fused into it (the amax of scaled values).
// CHECK-LABEL: func.func @two_uses
// CHECK-SAME:    %[[X:.+]]: tensor<64xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[X]] : tensor<64xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         linalg.generic {{.+}} ins(%[[X]] : tensor<64xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.subf
// CHECK-NOT:     linalg.generic
// CHECK-LABEL: func.func @into_reduction
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction"]} ins(%{{.+}} : tensor<64xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.maximumf
// CHECK-NOT:     linalg.generic
func.func @two_uses(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %c = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%s : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%s : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.subf %in, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  return %a, %b : tensor<64xf32>, tensor<64xf32>
}

func.func @into_reduction(%x: tensor<64xf32>) -> tensor<f32> {
  %c = arith.constant 2.0 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %e0 = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %amax = linalg.generic {indexing_maps = [#id, #scalar], iterator_types = ["reduction"]}
      ins(%s : tensor<64xf32>) outs(%init : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  return %amax : tensor<f32>
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#none = affine_map<() -> ()>

// Contractions reuse their operands' elements: a rounded operand stays a
// tensor of codes that the tensor-core kernels read, and a scalar operand
// of the product is not folded into it either. A broadcast row (a bias)
// is not fused into the elementwise op that reads it for every row.
// CHECK-LABEL: func.func @contraction
// CHECK:         %[[CODES:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<4x8xf32>) outs(%{{.+}} : tensor<4x8xf8E4M3FN>)
// CHECK:         %[[SCALE:.+]] = linalg.generic {{.+}} iterator_types = []
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[CODES]], %{{.+}}, %[[SCALE]] :
// CHECK-LABEL: func.func @broadcast
// CHECK:         %[[ROW:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<8xf32>)
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[ROW]] : tensor<4x8xf32>, tensor<8xf32>)
func.func @contraction(%x: tensor<4x8xf32>, %w: tensor<8x2xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<4x8xf8E4M3FN>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e8 : tensor<4x8xf8E4M3FN>) {
  ^bb0(%in: f32, %out: f8E4M3FN):
    %0 = arith.truncf %in : f32 to f8E4M3FN
    linalg.yield %0 : f8E4M3FN
  } -> tensor<4x8xf8E4M3FN>
  %e0 = tensor.empty() : tensor<f32>
  %scale = linalg.generic {indexing_maps = [#none, #none], iterator_types = []}
      ins(%s : tensor<f32>) outs(%e0 : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  } -> tensor<f32>
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.generic {indexing_maps = [#a, #b, affine_map<(m, n, k) -> ()>, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %w, %scale : tensor<4x8xf8E4M3FN>, tensor<8x2xf8E4M3FN>, tensor<f32>) outs(%init : tensor<4x2xf32>) {
  ^bb0(%p: f8E4M3FN, %r: f8E4M3FN, %t: f32, %acc: f32):
    %0 = arith.extf %p : f8E4M3FN to f32
    %1 = arith.extf %r : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.mulf %2, %t : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  } -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

func.func @broadcast(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %e1 = tensor.empty() : tensor<8xf32>
  %row = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%b : tensor<8xf32>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %row : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %0 = arith.addf %in, %r : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>

// Producers of several uses that would cost more to recompute stay ops of
// their own, read by their consumers: three operands read element by
// element and three uses (recomputing reads 9 elements' worth, computing
// once moves 3 + 1 + 3: %sum), an operand wider than the result where a
// use (the return) does not fuse it (%narrow), a body that reads its init,
// which is no fill (%acc).
// CHECK-LABEL: func.func @stay
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK:           arith.addf
// CHECK-COUNT-3: linalg.generic {{.+}} ins(%[[SUM]] : tensor<64xf32>)
// CHECK:         %[[NARROW:.+]] = linalg.generic
// CHECK:           arith.truncf
// CHECK-COUNT-2: linalg.generic {{.+}} ins(%[[NARROW]] : tensor<64xbf16>)
// CHECK:         %[[ACC:.+]] = linalg.generic
// CHECK:           arith.addf
// CHECK-COUNT-2: linalg.generic {{.+}} ins(%[[ACC]] : tensor<64xf32>)
func.func @stay(%x: tensor<64xf32>, %y: tensor<64xf32>, %z: tensor<64xf32>)
    -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xbf16>,
        tensor<64xbf16>, tensor<64xbf16>, tensor<64xf32>, tensor<64xf32>) {
  %e = tensor.empty() : tensor<64xf32>
  %eh = tensor.empty() : tensor<64xbf16>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel"]}
      ins(%x, %y, %z : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.addf %0, %c : f32
    linalg.yield %1 : f32
  } -> tensor<64xf32>
  %s1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%sum : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.absf %in : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %s2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%sum : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.negf %in : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %s3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%sum : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %narrow = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%eh : tensor<64xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  } -> tensor<64xbf16>
  %n1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%narrow : tensor<64xbf16>) outs(%eh : tensor<64xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %0 = math.absf %in : bf16
    linalg.yield %0 : bf16
  } -> tensor<64xbf16>
  %n2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%narrow : tensor<64xbf16>) outs(%eh : tensor<64xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %0 = arith.negf %in : bf16
    linalg.yield %0 : bf16
  } -> tensor<64xbf16>
  %acc = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%y : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %a1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%acc : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.absf %in : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  %a2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%acc : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.negf %in : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  return %s1, %s2, %s3, %narrow, %n1, %n2, %a1, %a2 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xbf16>, tensor<64xbf16>, tensor<64xbf16>, tensor<64xf32>, tensor<64xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>
#all = affine_map<(d0) -> ()>

// A producer of two operands read element by element, with two uses that
// both fuse it (an amax and a quantization, the backward pass's relu
// gradient): recomputing it in each reads 4 elements' worth, computing it
// once moves 5, so each consumer recomputes it and it is not
// materialized. Its body added into a zero fill (autodiff's gradient
// accumulation): it reads the fill's value instead.
// CHECK-LABEL: func.func @recompute_everywhere
// CHECK-SAME:      (%[[X:.+]]: tensor<64xf32>, %[[Y:.+]]: tensor<64xf32>)
// CHECK:         %[[ZERO:.+]] = arith.constant 0.0
// CHECK:         %[[AMAX:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[Y]] : tensor<64xf32>, tensor<64xf32>)
// CHECK:           %[[P:.+]] = arith.mulf
// CHECK-NEXT:      %[[P0:.+]] = arith.addf %[[P]], %[[ZERO]]
// CHECK-NEXT:      math.absf %[[P0]]
// CHECK:         linalg.generic {{.+}} ins(%[[X]], %[[Y]], %[[AMAX]] : tensor<64xf32>, tensor<64xf32>, tensor<f32>)
// CHECK:           arith.mulf
// CHECK-NEXT:      arith.addf %{{.+}}, %[[ZERO]]
// CHECK:           arith.truncf
// CHECK-NOT:     linalg.generic
func.func @recompute_everywhere(%x: tensor<64xf32>, %y: tensor<64xf32>) -> (tensor<f32>, tensor<64xf8E5M2>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %p = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%x, %y : tensor<64xf32>, tensor<64xf32>) outs(%zeros : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<64xf32>
  %e0 = tensor.empty() : tensor<f32>
  %m0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %amax = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction"]}
      ins(%p : tensor<64xf32>) outs(%m0 : tensor<f32>) {
  ^bb0(%in: f32, %m: f32):
    %0 = math.absf %in : f32
    %1 = arith.maximumf %m, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<f32>
  %eq = tensor.empty() : tensor<64xf8E5M2>
  %q = linalg.generic {indexing_maps = [#id, #all, #id], iterator_types = ["parallel"]}
      ins(%p, %amax : tensor<64xf32>, tensor<f32>) outs(%eq : tensor<64xf8E5M2>) {
  ^bb0(%in: f32, %s: f32, %out: f8E5M2):
    %0 = arith.divf %in, %s : f32
    %1 = arith.truncf %0 : f32 to f8E5M2
    linalg.yield %1 : f8E5M2
  } -> tensor<64xf8E5M2>
  return %amax, %q : tensor<f32>, tensor<64xf8E5M2>
}

// -----

// A scalar producer (a scale) goes into a reduction whose operands broadcast
// along its reduced loop only (a bias gradient reading the layer's bias for
// its relu mask): each element read computes it once, as in an elementwise
// op, and the reduction no longer waits for the scale's own kernel.
// CHECK-LABEL: func.func @scalar_into_bias_gradient
// CHECK-NOT:     iterator_types = []
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]} ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<f32>)
// CHECK:           arith.divf
// CHECK:           arith.cmpf
// CHECK-NOT:     linalg.generic
func.func @scalar_into_bias_gradient(%g: tensor<4x8xf32>, %h: tensor<4x8xf32>, %bias: tensor<8xf32>, %amax: tensor<f32>) -> tensor<8xf32> {
  %zero = arith.constant 0.0 : f32
  %c448 = arith.constant 448.0 : f32
  %e0 = tensor.empty() : tensor<f32>
  %scale = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%amax : tensor<f32>) outs(%e0 : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.divf %in, %c448 : f32
    linalg.yield %0 : f32
  } -> tensor<f32>
  %e = tensor.empty() : tensor<8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %db = linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (n)>], iterator_types = ["reduction", "parallel"]}
      ins(%g, %h, %bias, %scale : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<f32>) outs(%init : tensor<8xf32>) {
  ^bb0(%gi: f32, %hi: f32, %b: f32, %s: f32, %acc: f32):
    %0 = arith.mulf %hi, %s : f32
    %1 = arith.addf %0, %b : f32
    %2 = arith.cmpf ogt, %1, %zero : f32
    %3 = arith.select %2, %gi, %zero : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  } -> tensor<8xf32>
  return %db : tensor<8xf32>
}
