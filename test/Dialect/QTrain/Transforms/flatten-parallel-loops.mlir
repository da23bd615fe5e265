// RUN: qtrain-opt %s -split-input-file -qtrain-flatten-parallel-loops -canonicalize | FileCheck %s

// A 2-D loop becomes one loop over its 2048 iterations, row-major: the
// innermost index is the remainder, so consecutive iterations touch
// consecutive elements.
// CHECK-LABEL: func.func @two_d
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C32:.+]] = arith.constant 32 : index
// CHECK-DAG:     %[[N:.+]] = arith.constant 2048 : index
// CHECK:         scf.parallel (%[[K:.+]]) = (%[[C0]]) to (%[[N]]) step (%[[C1]]) {
// CHECK-NEXT:      %[[J:.+]] = arith.remsi %[[K]], %[[C32]] : index
// CHECK-NEXT:      %[[I:.+]] = arith.divsi %[[K]], %[[C32]] : index
// CHECK-NEXT:      memref.load %{{.+}}[%[[I]], %[[J]]] : memref<64x32xf32>
// CHECK-NOT:     scf.parallel
func.func @two_d(%m: memref<64x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c32) step (%c1, %c1) {
    %v = memref.load %m[%i, %j] : memref<64x32xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %m[%i, %j] : memref<64x32xf32>
  }
  return
}

// -----

// Dynamic bounds and a non-unit step: the trip count is the product of
// each dimension's, and the stepped index is rescaled.
// CHECK-LABEL: func.func @dynamic_3d
// CHECK-DAG:     %[[D0:.+]] = memref.dim %{{.+}}, %c0
// CHECK-DAG:     %[[D1:.+]] = memref.dim %{{.+}}, %c1
// CHECK-DAG:     %[[D2:.+]] = memref.dim %{{.+}}, %c2
// CHECK:         %[[T2:.+]] = affine.apply #{{.+}}()[%[[D2]]]
// CHECK:         %[[P:.+]] = arith.muli %[[D0]], %[[D1]] : index
// CHECK:         %[[N:.+]] = arith.muli %[[P]], %[[T2]] : index
// CHECK:         scf.parallel (%[[K:.+]]) = (%c0) to (%[[N]]) step (%c1) {
// CHECK-NEXT:      %[[R2:.+]] = arith.remsi %[[K]], %[[T2]]
// CHECK-NEXT:      %[[Q:.+]] = arith.divsi %[[K]], %[[T2]]
// CHECK-NEXT:      %[[R1:.+]] = arith.remsi %[[Q]], %[[D1]]
// CHECK-NEXT:      %[[R0:.+]] = arith.divsi %[[Q]], %[[D1]]
// CHECK-NEXT:      %[[I2:.+]] = affine.apply #{{.+}}(%[[R2]])
// CHECK-NEXT:      memref.load %{{.+}}[%[[R0]], %[[R1]], %[[I2]]]
func.func @dynamic_3d(%m: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %d0 = memref.dim %m, %c0 : memref<?x?x?xf32>
  %d1 = memref.dim %m, %c1 : memref<?x?x?xf32>
  %d2 = memref.dim %m, %c2 : memref<?x?x?xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%d0, %d1, %d2) step (%c1, %c1, %c2) {
    %v = memref.load %m[%i, %j, %k] : memref<?x?x?xf32>
    memref.store %v, %m[%i, %j, %k] : memref<?x?x?xf32>
  }
  return
}

// -----

// Only outermost loops are flattened: a nested loop is work inside one
// thread, and a 1-D loop has nothing to flatten.
// CHECK-LABEL: func.func @nested
// CHECK:         scf.parallel (%{{[^,]+}}) =
// CHECK-NEXT:      memref.load
// CHECK-NEXT:      scf.parallel (%{{.+}}, %{{.+}}) =
func.func @nested(%m: memref<64x32xf32>, %o: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %u = memref.load %o[%i] : memref<64xf32>
    scf.parallel (%j, %k) = (%c0, %c0) to (%c32, %c32) step (%c1, %c1) {
      memref.store %u, %m[%j, %k] : memref<64x32xf32>
    }
  }
  return
}

// -----

// Reducing loops keep their shape (upstream's collapse would drop the
// result).
// CHECK-LABEL: func.func @reduction
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = {{.+}} init
func.func @reduction(%m: memref<64x32xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %z = arith.constant 0.0 : f32
  %r = scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c32) step (%c1, %c1) init (%z) -> f32 {
    %v = memref.load %m[%i, %j] : memref<64x32xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}
