// RUN: qtrain-opt %s -split-input-file -qtrain-innermost-reductions | FileCheck %s

// A bias gradient: the sum over the batch (d0) of each channel (d1). The
// channel loop comes first; the input is read transposed in the new order.
// CHECK-DAG:   #[[TRANSPOSED:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG:   #[[FIRST:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @bias_gradient
// CHECK:         linalg.generic {indexing_maps = [#[[TRANSPOSED]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.+}} : memref<64x10xf32>) outs(%{{.+}} : memref<10xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[ACC]], %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[SUM]]
func.func @bias_gradient(%g: memref<64x10xf32>, %b: memref<10xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%g : memref<64x10xf32>) outs(%b : memref<10xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A weight gradient whose k comes first: parallel loops keep their order,
// k goes last; linalg.index follows its loop.
// CHECK-DAG:   #[[X:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG:   #[[DY:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[DW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @weight_gradient
// CHECK:         linalg.generic {indexing_maps = [#[[X]], #[[DY]], #[[DW]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK:           linalg.index 2 : index
func.func @weight_gradient(%x: memref<64x784xf32>, %dy: memref<64x256xf32>,
                           %dw: memref<784x256xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>,
                                   affine_map<(d0, d1, d2) -> (d0, d2)>,
                                   affine_map<(d0, d1, d2) -> (d1, d2)>],
                  iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%x, %dy : memref<64x784xf32>, memref<64x256xf32>)
      outs(%dw : memref<784x256xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %k = linalg.index 0 : index
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A named op with its reduction first is generalized, then reordered; one
// whose reductions come last (matmul) is left alone.
// CHECK-LABEL: func.func @named
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.+}} : memref<64x10xf32>) outs(%{{.+}} : memref<10xf32>)
// CHECK:         linalg.matmul
func.func @named(%g: memref<64x10xf32>, %b: memref<10xf32>,
                 %x: memref<4x8xf32>, %y: memref<8x2xf32>, %z: memref<4x2xf32>) {
  linalg.reduce ins(%g : memref<64x10xf32>) outs(%b : memref<10xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %s = arith.addf %acc, %in : f32
      linalg.yield %s : f32
    }
  linalg.matmul ins(%x, %y : memref<4x8xf32>, memref<8x2xf32>) outs(%z : memref<4x2xf32>)
  return
}
