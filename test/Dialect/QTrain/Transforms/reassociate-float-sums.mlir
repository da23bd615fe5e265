// RUN: qtrain-opt %s -split-input-file -qtrain-reassociate-float-sums | FileCheck %s

// Batch norm's mean: the sum over (d0, d2, d3) of each channel.
// CHECK-LABEL: func.func @channel_sum
// CHECK:         ^bb0(%[[IN:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      arith.addf %[[ACC]], %[[IN]] fastmath<reassoc> : f32
func.func @channel_sum(%x: tensor<64x8x24x24xf32>) -> tensor<8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %sum = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                       affine_map<(d0, d1, d2, d3) -> (d1)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x : tensor<64x8x24x24xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %sum : tensor<8xf32>
}

// -----

// The terms' arithmetic keeps its flags; only the combiner is marked, and
// its other flags stay. A product is marked too; a maximum needs nothing.
// CHECK-LABEL: func.func @combiners_only
// CHECK:         ^bb0(%[[IN:.+]]: f32, %[[MEAN:.+]]: f32, %[[SQ:.+]]: f32, %[[PROD:.+]]: f32, %[[MAX:.+]]: f32):
// CHECK-NEXT:      %[[D:.+]] = arith.subf %[[IN]], %[[MEAN]] : f32
// CHECK-NEXT:      %[[D2:.+]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK-NEXT:      %[[S:.+]] = arith.addf %[[SQ]], %[[D2]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      %[[P:.+]] = arith.mulf %[[PROD]], %[[IN]] fastmath<reassoc> : f32
// CHECK-NEXT:      %[[M:.+]] = arith.maximumf %[[MAX]], %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[S]], %[[P]], %[[M]]
func.func @combiners_only(%x: tensor<64x10xf32>, %mean: tensor<10xf32>,
                          %i: tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) {
  %r:3 = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d1)>,
                       affine_map<(d0, d1) -> (d1)>,
                       affine_map<(d0, d1) -> (d1)>,
                       affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%x, %mean : tensor<64x10xf32>, tensor<10xf32>)
      outs(%i, %i, %i : tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) {
  ^bb0(%in: f32, %m: f32, %sq: f32, %prod: f32, %max: f32):
    %d = arith.subf %in, %m : f32
    %d2 = arith.mulf %d, %d : f32
    %s = arith.addf %sq, %d2 fastmath<contract> : f32
    %p = arith.mulf %prod, %in : f32
    %mx = arith.maximumf %max, %in : f32
    linalg.yield %s, %p, %mx : f32, f32, f32
  } -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return %r#0, %r#1, %r#2 : tensor<10xf32>, tensor<10xf32>, tensor<10xf32>
}

// -----

// Without reduction loops an add is no sum: left alone, on buffers too.
// CHECK-LABEL: func.func @elementwise
// CHECK:         arith.addf %{{.+}}, %{{.+}} : f32
// CHECK-NOT:     reassoc
func.func @elementwise(%a: memref<16xf32>, %b: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                   affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%a : memref<16xf32>) outs(%b : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An output that is not a reduction of its running value (it is
// overwritten by each term) has no combiner to mark.
// CHECK-LABEL: func.func @last_term
// CHECK:         arith.addf %{{.+}}, %{{.+}} : f32
// CHECK-NOT:     reassoc
func.func @last_term(%x: tensor<64x10xf32>, %i: tensor<10xf32>) -> tensor<10xf32> {
  %one = arith.constant 1.0 : f32
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<64x10xf32>) outs(%i : tensor<10xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %one : f32
    linalg.yield %s : f32
  } -> tensor<10xf32>
  return %r : tensor<10xf32>
}
