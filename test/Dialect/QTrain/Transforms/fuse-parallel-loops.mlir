// RUN: qtrain-opt %s -split-input-file -qtrain-fuse-parallel-loops | FileCheck %s

// A reduction's fill and the reduction: one loop whose body stores the
// initial value and then runs the terms.
// CHECK-LABEL: func.func @fill_and_reduction
// CHECK:         %[[OUT:.+]] = memref.alloc
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      memref.store %{{.+}}, %[[OUT]][%[[I]]]
// CHECK-NEXT:      scf.for
// CHECK:             memref.load %[[OUT]][%[[I]]]
// CHECK-NOT:     scf.parallel
func.func @fill_and_reduction(%x: memref<64x784xf32>) -> memref<64xf32> {
  %out = memref.alloc() : memref<64xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c784 = arith.constant 784 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %out[%i] : memref<64xf32>
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c784 step %c1 {
      %acc = memref.load %out[%i] : memref<64xf32>
      %v = memref.load %x[%i, %k] : memref<64x784xf32>
      %m = arith.maximumf %acc, %v : f32
      memref.store %m, %out[%i] : memref<64xf32>
    }
  }
  return %out : memref<64xf32>
}

// -----

// The host code's synchronous gpu.alloc of the second loop's output (with
// its gpu.wait ops) moves above the first loop; the loops fuse.
// CHECK-LABEL: func.func @across_gpu_alloc
// CHECK:         %[[W:.+]] = gpu.wait async
// CHECK-NEXT:    %[[B:.+]], %[[T:.+]] = gpu.alloc async [%[[W]]] () : memref<64x256xf32>
// CHECK-NEXT:    gpu.wait [%[[T]]]
// CHECK-NEXT:    scf.parallel (%[[I:.+]], %[[J:.+]]) =
// CHECK:           memref.store %{{.+}}, %{{.+}}[%[[I]], %[[J]]]
// CHECK:           memref.store %{{.+}}, %[[B]][%[[I]], %[[J]]]
// CHECK-NOT:     scf.parallel
// CHECK:         return %[[B]]
func.func @across_gpu_alloc(%x: memref<64x256xf32>, %bias: memref<256xf32>,
                            %a: memref<64x256xf32>) -> memref<64x256xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %scale = arith.constant 0.5 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c256) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<64x256xf32>
    %s = arith.mulf %v, %scale : f32
    memref.store %s, %a[%i, %j] : memref<64x256xf32>
  }
  %w = gpu.wait async
  %b, %t = gpu.alloc async [%w] () : memref<64x256xf32>
  gpu.wait [%t]
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c256) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<64x256xf32>
    %c = memref.load %bias[%j] : memref<256xf32>
    %s = arith.addf %v, %c : f32
    memref.store %s, %b[%i, %j] : memref<64x256xf32>
  }
  return %b : memref<64x256xf32>
}

// -----

// A memref.alloc moves too; loops of other iteration spaces stay apart, and
// the allocation stops at the run's first loop.
// CHECK-LABEL: func.func @across_alloc
// CHECK:         memref.alloc() : memref<10xf32>
// CHECK-NEXT:    scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C64:.+]]) step
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C10:.+]]) step
// CHECK-NOT:     scf.parallel
func.func @across_alloc(%a: memref<64xf32>, %b: memref<10xf32>) -> memref<10xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %a[%i] : memref<64xf32>
  }
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    memref.store %zero, %b[%i] : memref<10xf32>
  }
  %c = memref.alloc() : memref<10xf32>
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    %v = memref.load %b[%i] : memref<10xf32>
    memref.store %v, %c[%i] : memref<10xf32>
  }
  return %c : memref<10xf32>
}

// -----

// A launch between two loops (a kernel made earlier: a tensor-core GEMM, a
// block reduction) keeps them apart; the allocation after it moves above
// both, as above loops.
// CHECK-LABEL: func.func @launch_between
// CHECK:         memref.alloc
// CHECK-NEXT:    scf.parallel
// CHECK:         gpu.launch
// CHECK:         scf.parallel
func.func @launch_between(%a: memref<64xf32>) -> memref<64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %a[%i] : memref<64xf32>
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%tx] : memref<64xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %a[%tx] : memref<64xf32>
    gpu.terminator
  }
  %b = memref.alloc() : memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<64xf32>
  }
  return %b : memref<64xf32>
}

// -----

// A second loop that reads the first one's output at another index must
// wait for all of it: no fusion.
// CHECK-LABEL: func.func @shifted_read
// CHECK:         scf.parallel
// CHECK:         scf.parallel
func.func @shifted_read(%a: memref<65xf32>, %b: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %a[%i] : memref<65xf32>
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %j = arith.addi %i, %c1 : index
    %v = memref.load %a[%j] : memref<65xf32>
    memref.store %v, %b[%i] : memref<64xf32>
  }
  return
}

// -----

// An allocation with a dynamic size stays where it is (the pass does not
// check where its size is computed).
// CHECK-LABEL: func.func @dynamic_alloc
// CHECK:         scf.parallel
// CHECK:         memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK-NEXT:    scf.parallel
func.func @dynamic_alloc(%a: memref<64xf32>, %n: index) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %a[%i] : memref<64xf32>
  }
  %b = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<?xf32>
  }
  return %b : memref<?xf32>
}
