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
// before it, keeping its buffer (no barrier: the bodies touch nothing).
// CHECK-LABEL: func.func @apart
// CHECK-COUNT-3: gpu.launch
// CHECK-NOT:     gpu.barrier
// CHECK:         memref.store
// CHECK-NEXT:    gpu.launch {{.*}} workgroup(%{{.+}} : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
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

// -----

// A one-block launch moves up past a launch of several blocks to join the
// one-block launch before it where neither touches what the other writes
// (the second copy of an initial value, past the first reduction); one
// that reads what the launch between writes stays after it. The two
// copies write different buffers: no barrier between them.
// (Arguments may alias: the buffers are allocated here, as the pipeline's
// are by qtrain-gpu-host-buffers.)
// CHECK-LABEL: func.func @past_independent
// CHECK:         %[[INIT:.+]] = memref.alloc() : memref<1xf32>
// CHECK:         %[[OUT1:.+]] = memref.alloc() : memref<1xf32>
// CHECK:         %[[OUT2:.+]] = memref.alloc() : memref<1xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}
// CHECK:           memref.store %{{.+}}, %[[OUT1]]
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store %{{.+}}, %[[OUT2]]
// CHECK:           gpu.terminator
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c16
// CHECK:           memref.atomic_rmw maximumf %{{.+}}, %[[OUT1]]
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}
// CHECK:           memref.load %[[OUT1]]
// CHECK-NOT:     gpu.launch
func.func @past_independent(%x: memref<4096xf32>) {
  %init = memref.alloc() : memref<1xf32>
  %out1 = memref.alloc() : memref<1xf32>
  %out2 = memref.alloc() : memref<1xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %init[%c0] : memref<1xf32>
    memref.store %v, %out1[%c0] : memref<1xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c16, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<4096xf32>
    %m = memref.atomic_rmw maximumf %v, %out1[%c0] : (f32, memref<1xf32>) -> f32
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %init[%c0] : memref<1xf32>
    memref.store %v, %out2[%c0] : memref<1xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %out1[%c0] : memref<1xf32>
    memref.store %v, %out2[%c0] : memref<1xf32>
    gpu.terminator
  }
  return
}

// -----

// A one-block launch joins the earliest one-block launch it can move up to,
// not the nearest: %w's scale (independent of everything here) joins %x's,
// past the reduction of %x, the update of %x's history that reads it, and
// an allocation with its wait, without a barrier (they read, and write
// other buffers). (The earliest leaves later launches of several blocks
// free to fuse: qtrain-fuse-independent-launches.)
// CHECK-LABEL: func.func @joins_earliest
// CHECK:         gpu.alloc async
// CHECK:         gpu.wait
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}
// CHECK:           memref.store %{{.+}}, %[[SX:.+]][]
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store %{{.+}}, %[[SW:.+]][]
// CHECK:           gpu.terminator
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c16
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}
// CHECK:           memref.load %[[AMAX:.+]][]
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
// CHECK-NOT:     gpu.launch
func.func @joins_earliest(%x: memref<4096xf32>, %hx: memref<16xf32>, %hw: memref<16xf32>) {
  %sx = memref.alloc() : memref<f32>
  %amax = memref.alloc() : memref<f32>
  %newhx = memref.alloc() : memref<16xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%bsx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %hx[%c0] : memref<16xf32>
    memref.store %v, %sx[] : memref<f32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c16, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%bsx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<4096xf32>
    %m = memref.atomic_rmw maximumf %v, %amax[] : (f32, memref<f32>) -> f32
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%bsx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %amax[] : memref<f32>
    memref.store %v, %newhx[%c0] : memref<16xf32>
    gpu.terminator
  }
  %t0 = gpu.wait async
  %sw, %t1 = gpu.alloc async [%t0] () : memref<f32>
  gpu.wait [%t1]
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%bsx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %hw[%c0] : memref<16xf32>
    memref.store %v, %sw[] : memref<f32>
    gpu.terminator
  }
  return
}

// -----

// Bodies that write what a later one reads keep a barrier before it; the
// fills of two outputs (independent of each other) do not.
// CHECK-LABEL: func.func @barrier_where_dependent
// CHECK:         gpu.launch
// CHECK:           memref.store %{{.+}}, %[[A:[a-z0-9_]+]][]
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store %{{.+}}, %[[B:[a-z0-9_]+]][]
// CHECK-NEXT:    }
// CHECK-NEXT:      gpu.barrier
// CHECK:           memref.load %[[A]][]
// CHECK:           gpu.terminator
// CHECK-NOT:     gpu.launch
func.func @barrier_where_dependent(%out: memref<f32>) {
  %a = memref.alloc() : memref<f32>
  %b = memref.alloc() : memref<f32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      memref.store %zero, %a[] : memref<f32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      memref.store %zero, %b[] : memref<f32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      %v = memref.load %a[] : memref<f32>
      memref.store %v, %out[] : memref<f32>
    }
    gpu.terminator
  }
  return
}
