// RUN: qtrain-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(qtrain-merge-single-block-launches))' | FileCheck %s

// Three one-block launches of 256 threads: one launch, barriers between the
// bodies; the view between them (which the last uses) moves before it.
// CHECK-LABEL: func.func @three
// CHECK:         memref.collapse_shape
// CHECK-NEXT:    gpu.launch
// CHECK:           memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<64xf32>
// CHECK:           gpu.barrier
// CHECK:           memref.load %{{.+}}[%{{.+}}] : memref<64xf32>
// CHECK:           memref.store %{{.+}}, %{{.+}}[] : memref<f32>
// CHECK:           gpu.barrier
// CHECK:           memref.load %{{.+}}[] : memref<f32>
// CHECK:           gpu.terminator
// CHECK-NOT:     gpu.launch
func.func @three(%partials: memref<64xf32>, %out: memref<1xf32>, %copy: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %tx, %c64 : index
    scf.if %in {
      memref.store %zero, %partials[%tx] : memref<64xf32>
    }
    gpu.terminator
  }
  %scalar = memref.collapse_shape %out [] : memref<1xf32> into memref<f32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      %v = memref.load %partials[%c0] : memref<64xf32>
      memref.store %v, %scalar[] : memref<f32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      %v = memref.load %scalar[] : memref<f32>
      memref.store %v, %copy[] : memref<f32>
    }
    gpu.terminator
  }
  return
}

// -----

// Launches of several blocks, of other block sizes, or with host work
// between them stay apart; one with a workgroup buffer joins the launch
// before it, keeping its buffer.
// CHECK-LABEL: func.func @apart
// CHECK-COUNT-3: gpu.launch
// CHECK-NOT:     gpu.barrier
// CHECK:         memref.store
// CHECK-NEXT:    gpu.launch {{.*}} workgroup(%{{.+}} : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK:           gpu.barrier
// CHECK-NOT:     gpu.launch
func.func @apart(%a: memref<64xf32>, %host: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
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

// -----

// Workgroup buffers that would not fit 48 KiB together: apart.
// CHECK-LABEL: func.func @too_much_shared_memory
// CHECK-COUNT-2: gpu.launch
func.func @too_much_shared_memory() {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%a : memref<8192xf32, #gpu.address_space<workgroup>>) {
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%b : memref<8192xf32, #gpu.address_space<workgroup>>) {
    gpu.terminator
  }
  return
}
