// RUN: qtrain-opt %s -split-input-file -qtrain-hoist-accumulators | FileCheck %s

// A bias gradient's sum over the batch, one output a thread: the running
// sum is loaded once, carried, and stored once.
// CHECK-LABEL: func.func @bias_gradient
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      memref.store %{{.+}}, %[[SUM:.+]][%[[I]]]
// CHECK-NEXT:      %[[S0:.+]] = memref.load %[[SUM]][%[[I]]]
// CHECK-NEXT:      %[[R:.+]] = scf.for %{{.+}} = {{.+}} iter_args(%[[S:.+]] = %[[S0]]) -> (f32) {
// CHECK-NEXT:        %[[T:.+]] = memref.load %{{.+}}[%{{.+}}, %[[I]]] : memref<64x10xf32>
// CHECK-NEXT:        %[[N:.+]] = arith.addf %[[S]], %[[T]] : f32
// CHECK-NEXT:        scf.yield %[[N]] : f32
// CHECK-NEXT:      }
// CHECK-NEXT:      memref.store %[[R]], %[[SUM]][%[[I]]]
func.func @bias_gradient(%g: memref<64x10xf32>) -> memref<10xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %sum = memref.alloc() : memref<10xf32>
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    memref.store %zero, %sum[%i] : memref<10xf32>
    scf.for %k = %c0 to %c64 step %c1 {
      %t = memref.load %g[%k, %i] : memref<64x10xf32>
      %s = memref.load %sum[%i] : memref<10xf32>
      %n = arith.addf %s, %t : f32
      memref.store %n, %sum[%i] : memref<10xf32>
    }
    scf.reduce
  }
  return %sum : memref<10xf32>
}

// -----

// Two reduction loops (a filter gradient's batch and pixels): the inner
// loop's load and store, once hoisted, are the outer loop's accumulator.
// CHECK-LABEL: func.func @nested
// CHECK:         %[[S0:.+]] = memref.load %[[SUM:.+]][%{{.+}}]
// CHECK-NEXT:    %[[R:.+]] = scf.for {{.+}} iter_args(%[[A:.+]] = %[[S0]]) -> (f32) {
// CHECK-NEXT:      %[[R2:.+]] = scf.for {{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (f32) {
// CHECK:             scf.yield
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[R2]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.store %[[R]], %[[SUM]]
func.func @nested(%g: memref<8x9x4xf32>, %i: index) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %sum = memref.alloc() : memref<4xf32>
  scf.for %b = %c0 to %c8 step %c1 {
    scf.for %p = %c0 to %c9 step %c1 {
      %t = memref.load %g[%b, %p, %i] : memref<8x9x4xf32>
      %s = memref.load %sum[%i] : memref<4xf32>
      %n = arith.addf %s, %t : f32
      memref.store %n, %sum[%i] : memref<4xf32>
    }
  }
  return %sum : memref<4xf32>
}

// -----

// The terms' buffer may be the sum's (both arguments): the loop stays as it
// is.
// CHECK-LABEL: func.func @may_alias
// CHECK:         scf.for
// CHECK-NEXT:      memref.load
// CHECK-NEXT:      memref.load
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      memref.store
// CHECK-NEXT:    }
func.func @may_alias(%g: memref<64x10xf32>, %sum: memref<10xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c1 {
    %t = memref.load %g[%k, %i] : memref<64x10xf32>
    %s = memref.load %sum[%i] : memref<10xf32>
    %n = arith.addf %s, %t : f32
    memref.store %n, %sum[%i] : memref<10xf32>
  }
  return
}

// -----

// An index that changes with the loop, another access of the buffer, and a
// call of unknown effects each keep their loop as it is.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:     iter_args
// CHECK:         return
func.func private @unknown()
func.func @left_alone(%g: memref<64xf32>) -> memref<64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %sum = memref.alloc() : memref<64xf32>
  scf.for %k = %c0 to %c64 step %c1 {
    %s = memref.load %sum[%k] : memref<64xf32>
    %t = memref.load %g[%k] : memref<64xf32>
    %n = arith.addf %s, %t : f32
    memref.store %n, %sum[%k] : memref<64xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %s = memref.load %sum[%c0] : memref<64xf32>
    %o = memref.load %sum[%c1] : memref<64xf32>
    %n = arith.addf %s, %o : f32
    memref.store %n, %sum[%c0] : memref<64xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %s = memref.load %sum[%c0] : memref<64xf32>
    func.call @unknown() : () -> ()
    %t = memref.load %g[%k] : memref<64xf32>
    %n = arith.addf %s, %t : f32
    memref.store %n, %sum[%c0] : memref<64xf32>
  }
  return %sum : memref<64xf32>
}
