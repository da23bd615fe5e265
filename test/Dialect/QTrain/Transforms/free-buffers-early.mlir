// RUN: qtrain-opt %s -split-input-file -qtrain-free-buffers-early | FileCheck %s

// Each dealloc moves to just after the last use of its buffer.
// CHECK-LABEL: func.func @chain(
// CHECK:         %[[A:.+]] = memref.alloc()
// CHECK:         linalg.copy ins(%arg0 : memref<16xf32>) outs(%[[A]] : memref<16xf32>)
// CHECK:         %[[B:.+]] = memref.alloc()
// CHECK:         linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[B]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         linalg.copy ins(%[[B]] : memref<16xf32>) outs(%arg1 : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    return
func.func @chain(%x: memref<16xf32>, %y: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  linalg.copy ins(%b : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// Uses through views and inside loops count, at the op of the block that
// holds them.
// CHECK-LABEL: func.func @views_and_loops(
// CHECK:         %[[A:.+]] = memref.alloc()
// CHECK:         %[[V:.+]] = memref.subview %[[A]]
// CHECK:         scf.for
// CHECK:           memref.load %[[V]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         linalg.copy ins(%arg0
func.func @views_and_loops(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %v = memref.subview %a[8] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 8>>
  scf.for %i = %c0 to %c8 step %c1 {
    %e = memref.load %v[%i] : memref<8xf32, strided<[1], offset: 8>>
    memref.store %e, %y[%i] : memref<16xf32>
  }
  linalg.copy ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  return
}

// -----

// A buffer that another op may alias (a select of buffers) keeps its
// dealloc where it is.
// CHECK-LABEL: func.func @may_alias(
// CHECK:         arith.select
// CHECK:         linalg.copy
// CHECK-NEXT:    memref.dealloc
// CHECK-NEXT:    return
func.func @may_alias(%x: memref<16xf32>, %y: memref<16xf32>, %c: i1) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %s = arith.select %c, %a, %x : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  return
}
