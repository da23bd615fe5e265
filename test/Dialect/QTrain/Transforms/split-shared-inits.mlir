// RUN: qtrain-opt %s -split-input-file -qtrain-split-shared-inits | FileCheck %s

// Every writer of a shared empty tensor but the first gets its own, placed
// right before it; a shared fill is copied with a fresh empty tensor; ops
// that only read keep sharing.
// CHECK-LABEL: func.func @shared
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:    %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E]] : tensor<4xf32>)
// CHECK-NEXT:    %[[E1:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:    %[[A:.+]] = linalg.add ins(%{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>) outs(%[[E1]] : tensor<4xf32>)
// CHECK-NEXT:    %[[E2:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:    %[[B:.+]] = linalg.add ins(%[[A]], %[[Z]] : tensor<4xf32>, tensor<4xf32>) outs(%[[E2]] : tensor<4xf32>)
// CHECK-NEXT:    %[[C:.+]] = linalg.add ins(%[[B]], %{{.+}} : tensor<4xf32>, tensor<4xf32>) outs(%[[Z]] : tensor<4xf32>)
// CHECK-NEXT:    %[[E3:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:    %[[Z2:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E3]] : tensor<4xf32>)
// CHECK-NEXT:    linalg.add ins(%[[C]], %{{.+}} : tensor<4xf32>, tensor<4xf32>) outs(%[[Z2]] : tensor<4xf32>)
func.func @shared(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.add ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %b = linalg.add ins(%a, %z : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %c = linalg.add ins(%b, %x : tensor<4xf32>, tensor<4xf32>) outs(%z : tensor<4xf32>) -> tensor<4xf32>
  %d = linalg.add ins(%c, %x : tensor<4xf32>, tensor<4xf32>) outs(%z : tensor<4xf32>) -> tensor<4xf32>
  return %c, %d : tensor<4xf32>, tensor<4xf32>
}

// -----

// Loop inits count as writers; a copy for a use inside a loop goes before
// the loop, not into its body. An init with one writer is left alone.
// CHECK-LABEL: func.func @loops
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT:    %[[E1:.+]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT:    scf.for {{.+}} iter_args(%{{.+}} = %[[E]], %{{.+}} = %[[E1]])
// CHECK:         %[[E2:.+]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT:    scf.for
// CHECK:           linalg.add {{.+}} outs(%[[E2]] : tensor<8xf32>)
// CHECK-NOT:     tensor.empty
// CHECK:         return
func.func @loops(%x: tensor<8xf32>, %n: index) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e = tensor.empty() : tensor<8xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%a = %e, %b = %e) -> (tensor<8xf32>, tensor<8xf32>) {
    %s = linalg.add ins(%x, %a : tensor<8xf32>, tensor<8xf32>) outs(%a : tensor<8xf32>) -> tensor<8xf32>
    scf.yield %s, %b : tensor<8xf32>, tensor<8xf32>
  }
  %t = scf.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> (tensor<8xf32>) {
    %s = linalg.add ins(%x, %a : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) -> tensor<8xf32>
    scf.yield %s : tensor<8xf32>
  }
  return %r#0, %r#1, %t : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// Writers through reshapes of the init (0-d scales written by reductions
// that keep a unit dimension) each get a fresh init and reshape, so that
// bufferization does not reuse one buffer for all the scales, a reuse that
// orders every kernel writing a scale after every kernel reading the one
// before.
// CHECK-LABEL: func.func @through_reshapes
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<f32>
// CHECK-NEXT:    %[[X:.+]] = tensor.expand_shape %[[E]] [] output_shape [1]
// CHECK-NEXT:    %[[A:.+]] = linalg.generic {{.+}} outs(%[[X]] : tensor<1xf32>)
// CHECK:         %[[E1:.+]] = tensor.empty() : tensor<f32>
// CHECK-NEXT:    %[[X1:.+]] = tensor.expand_shape %[[E1]] [] output_shape [1]
// CHECK-NEXT:    %[[B:.+]] = linalg.generic {{.+}} outs(%[[X1]] : tensor<1xf32>)
// CHECK:         %[[R:.+]] = tensor.collapse_shape %[[B]]
// CHECK:         %[[E2:.+]] = tensor.empty() : tensor<f32>
// CHECK-NEXT:    linalg.generic {{.+}} ins(%[[R]] : tensor<f32>) outs(%[[E2]] : tensor<f32>)
#map = affine_map<(d0) -> (d0)>
#scalar = affine_map<() -> ()>
func.func @through_reshapes(%x: tensor<1xf32>) -> (tensor<1xf32>, tensor<1xf32>, tensor<f32>) {
  %e = tensor.empty() : tensor<f32>
  %x1 = tensor.expand_shape %e [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %a = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : tensor<1xf32>) outs(%x1 : tensor<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1xf32>
  %x2 = tensor.expand_shape %e [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %b = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%a : tensor<1xf32>) outs(%x2 : tensor<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  } -> tensor<1xf32>
  %r = tensor.collapse_shape %b [] : tensor<1xf32> into tensor<f32>
  %c = linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []}
      ins(%r : tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<f32>
  return %a, %b, %c : tensor<1xf32>, tensor<1xf32>, tensor<f32>
}

// -----

// A generic that only yields a scalar is a fill too (the zero that every
// absmax reduction of a step starts from): each writer gets its own, with
// its own empty tensor and reshape, instead of a copy of one buffer.
// CHECK-LABEL: func.func @generic_fill
// CHECK:         %[[C:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[F:.+]] = linalg.generic {{.+}} ins(%[[C]] : f32)
// CHECK:         %[[A:.+]] = linalg.generic {{.+}} outs(%[[F]] : tensor<1xf32>)
// CHECK:         %[[E1:.+]] = tensor.empty() : tensor<f32>
// CHECK-NEXT:    %[[X1:.+]] = tensor.expand_shape %[[E1]] [] output_shape [1]
// CHECK-NEXT:    %[[F1:.+]] = linalg.generic {{.+}} ins(%[[C]] : f32) outs(%[[X1]] : tensor<1xf32>)
// CHECK:         %[[B:.+]] = linalg.generic {{.+}} outs(%[[F1]] : tensor<1xf32>)
#map = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>
#rows = affine_map<(d0, d1) -> (d0, d1)>
#first = affine_map<(d0, d1) -> (d0)>
func.func @generic_fill(%x: tensor<1x8xf32>, %y: tensor<1x8xf32>) -> (tensor<1xf32>, tensor<1xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %x1 = tensor.expand_shape %e [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %fill = linalg.generic {indexing_maps = [#scalar, #map], iterator_types = ["parallel"]}
      ins(%zero : f32) outs(%x1 : tensor<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1xf32>
  %a = linalg.generic {indexing_maps = [#rows, #first], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<1x8xf32>) outs(%fill : tensor<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1xf32>
  %b = linalg.generic {indexing_maps = [#rows, #first], iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<1x8xf32>) outs(%fill : tensor<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1xf32>
  return %a, %b : tensor<1xf32>, tensor<1xf32>
}
