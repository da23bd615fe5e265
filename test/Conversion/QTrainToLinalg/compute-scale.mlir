// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg | FileCheck %s

// absmax: a max-of-abs reduction over the non-channel dims, then
// scale = amax == 0 ? 1 : amax / 127.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @absmax_per_channel
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: %[[AMAX:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x8xf32>) outs(%[[ZERO]] : tensor<4xf32>)
// CHECK: %[[ABS:.*]] = math.absf
// CHECK: arith.maximumf %{{.*}}, %[[ABS]] : f32
// CHECK: linalg.generic {{.*}} ins(%[[AMAX]] : tensor<4xf32>)
// CHECK: arith.cmpf oeq
// CHECK: arith.divf
// CHECK: arith.select
func.func @absmax_per_channel(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %s = qtrain.compute_scale %x for int<8, signed> using <absmax, per_channel, axis = 0> : tensor<4x8xf32> -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// minmax per block: min and max in one reduction over the expanded data,
// then the affine scale and zero point in one epilogue.
// CHECK-LABEL: func.func @minmax_per_block
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 2, 4]
// CHECK: %[[RANGE:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[RANGE]]#0, %[[RANGE]]#1 : tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK: arith.subf
// CHECK: arith.divf
func.func @minmax_per_block(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %s, %z = qtrain.compute_scale %x for int<8, unsigned> using <minmax, per_block, axis = 1, size = 4> : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xf32>
  return %s, %z : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// batch_minmax: per-sample ranges, then their sums in sample order in an
// scf.for (a vectorized reduction would reorder the additions), inside a 0-d
// generic that yields the scale and zero point (one kernel on a GPU).
// CHECK-LABEL: func.func @batch_minmax
// CHECK: %[[RANGE:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: %[[AFFINE:.*]]:2 = linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}], iterator_types = []} outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:   %[[SUMS:.*]]:2 = scf.for
// CHECK:     tensor.extract %[[RANGE]]#0
// CHECK:     tensor.extract %[[RANGE]]#1
// CHECK:     scf.yield
// CHECK:   arith.divf %[[SUMS]]#0
// CHECK:   linalg.yield
// CHECK: return %[[AFFINE]]#0, %[[AFFINE]]#1
func.func @batch_minmax(%x: tensor<16x8xf32>) -> (tensor<f32>, tensor<f32>) {
  %s, %z = qtrain.compute_scale %x for int<8, unsigned> using <batch_minmax> : tensor<16x8xf32> -> tensor<f32>, tensor<f32>
  return %s, %z : tensor<f32>, tensor<f32>
}

// -----

// CHECK-LABEL: func.func @pow2
// CHECK: %[[C:.*]] = arith.constant 1.250000e-01 : f32
// CHECK: linalg.fill ins(%[[C]] : f32) outs(%{{.*}} : tensor<8xf32>)
func.func @pow2(%x: tensor<8x4xf32>) -> tensor<8xf32> {
  %s = qtrain.compute_scale %x for float<f8E4M3FN> using <pow2, per_channel, axis = 0, exponent = -3> : tensor<8x4xf32> -> tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// record_amax: the absmax reduction, then one element-wise generic (no
// host round trip for the amax on a GPU): entry 0 is the amax, 0 unless
// finite, entry i the history's entry i - 1.
// CHECK-LABEL: func.func @record_amax(
// CHECK-SAME:    %[[X:.+]]: tensor<4x8xf32>, %[[H:.+]]: tensor<16xf32>)
// CHECK:         %[[AMAX:.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[X]] : tensor<4x8xf32>)
// CHECK:           math.absf
// CHECK:           arith.maximumf
// CHECK:         %[[NEW:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[AMAX]] : tensor<f32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f32, %{{.+}}: f32):
// CHECK:           %[[INF:.+]] = arith.constant 0x7F800000 : f32
// CHECK:           %[[FINITE:.+]] = arith.cmpf olt, %[[A]], %[[INF]] : f32
// CHECK:           %[[V:.+]] = arith.select %[[FINITE]], %[[A]], %{{.+}} : f32
// CHECK:           %[[I:.+]] = linalg.index 0 : index
// CHECK:           %[[FIRST:.+]] = arith.cmpi eq, %[[I]], %[[C0:.+]] : index
// CHECK:           %[[PREV:.+]] = arith.subi %[[I]], %{{.+}} : index
// CHECK:           %[[AT:.+]] = arith.select %[[FIRST]], %[[C0]], %[[PREV]] : index
// CHECK:           %[[KEPT:.+]] = tensor.extract %[[H]][%[[AT]]] : tensor<16xf32>
// CHECK:           %[[R:.+]] = arith.select %[[FIRST]], %[[V]], %[[KEPT]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK:         return %[[NEW]]
func.func @record_amax(%x: tensor<4x8xf32>, %h: tensor<16xf32>) -> tensor<16xf32> {
  %0 = qtrain.record_amax %x into %h : tensor<4x8xf32>, tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// A history of one entry: the same generic, of one element, which does
// not read the old entry.
// CHECK-LABEL: func.func @record_amax_single(
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.+}} : tensor<f32>) outs(%{{.+}} : tensor<1xf32>)
// CHECK-NOT:       tensor.extract
// CHECK:           linalg.yield
func.func @record_amax_single(%x: tensor<4xf32>, %h: tensor<1xf32>) -> tensor<1xf32> {
  %0 = qtrain.record_amax %x into %h : tensor<4xf32>, tensor<1xf32>
  return %0 : tensor<1xf32>
}
