// RUN: qtrain-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(qtrain-fuse-independent-launches))' | FileCheck %s

// Two kernels writing their own new buffers from the same input: one launch
// of 2 + 3 blocks; each body runs on its range with its own block ids and
// block count.
// CHECK-LABEL: func.func @two_quantizations
// CHECK:         %[[A:.+]] = memref.alloc() : memref<512xf32>
// CHECK:         %[[B:.+]] = memref.alloc() : memref<768xf32>
// CHECK:         %[[C5:.+]] = arith.constant 5 : index
// CHECK-NEXT:    gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C5]],
// CHECK-DAG:       %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:       %[[C2:.+]] = arith.constant 2 : index
// CHECK:           %[[GE0:.+]] = arith.cmpi uge, %[[BX]], %[[C0]]
// CHECK:           %[[LT2:.+]] = arith.cmpi ult, %[[BX]], %[[C2]]
// CHECK:           %[[IN0:.+]] = arith.andi %[[GE0]], %[[LT2]]
// CHECK:           scf.if %[[IN0]] {
// CHECK:             %[[R0:.+]] = arith.subi %[[BX]], %[[C0]]
// CHECK:             arith.muli %[[R0]]
// CHECK:             memref.store %{{.+}}, %[[A]]
// CHECK:           }
// CHECK:           %[[C5B:.+]] = arith.constant 5 : index
// CHECK:           %[[GE2:.+]] = arith.cmpi uge, %[[BX]], %[[C2]]
// CHECK:           %[[LT5:.+]] = arith.cmpi ult, %[[BX]], %[[C5B]]
// CHECK:           %[[IN1:.+]] = arith.andi %[[GE2]], %[[LT5]]
// CHECK:           scf.if %[[IN1]] {
// CHECK:             %[[R1:.+]] = arith.subi %[[BX]], %[[C2]]
// CHECK:             %[[G1:.+]] = arith.constant 3 : index
// CHECK:             arith.muli %[[R1]]
// CHECK:             arith.cmpi ult, %{{.+}}, %[[G1]]
// CHECK:             memref.store %{{.+}}, %[[B]]
// CHECK:           }
// CHECK:           gpu.terminator
// CHECK-NOT:     gpu.launch
func.func @two_quantizations(%x: memref<768xf32>) -> (memref<512xf32>, memref<768xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<512xf32>
  %b = memref.alloc() : memref<768xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    %v = memref.load %x[%i] : memref<768xf32>
    memref.store %v, %a[%i] : memref<512xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c3, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    %last = arith.cmpi ult, %bx, %gx : index
    scf.if %last {
      %v = memref.load %x[%i] : memref<768xf32>
      memref.store %v, %b[%i] : memref<768xf32>
    }
    gpu.terminator
  }
  return %a, %b : memref<512xf32>, memref<768xf32>
}

// -----

// The second kernel reads what the first writes: two launches.
// CHECK-LABEL: func.func @dependent
// CHECK-COUNT-2: gpu.launch blocks
func.func @dependent(%x: memref<256xf32>) -> memref<256xf32> {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %b : memref<256xf32>
}

// -----

// Writes into function arguments may alias each other's reads: two
// launches.
// CHECK-LABEL: func.func @arguments
// CHECK-COUNT-2: gpu.launch blocks
func.func @arguments(%x: memref<256xf32>, %y: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %y[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %x[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// Buffers allocated after a call do not overlap its result, which the
// kernels still read (alias analysis alone cannot tell): one launch.
// CHECK-LABEL: func.func @after_call
// CHECK:         call @produce
// CHECK:         gpu.launch blocks(%{{.+}}) in (%{{.+}} = %[[C2:[a-z0-9_]+]],
// CHECK-NOT:     gpu.launch
func.func private @produce(memref<256xf32>) -> memref<256xf32>
func.func @after_call(%x: memref<256xf32>) -> (memref<256xf32>, memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %r = call @produce(%x) : (memref<256xf32>) -> memref<256xf32>
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %r[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %r[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b : memref<256xf32>, memref<256xf32>
}

// -----

// Other block sizes, shared memory, or host work between: apart.
// CHECK-LABEL: func.func @apart
// CHECK-COUNT-4: gpu.launch blocks
func.func @apart(%x: memref<256xf32>, %host: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  memref.store %zero, %host[%c0] : memref<1xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1)
             workgroup(%shared : memref<128xf32, #gpu.address_space<workgroup>>) {
    gpu.terminator
  }
  return
}
