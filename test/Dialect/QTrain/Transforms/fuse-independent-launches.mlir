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

// Other block sizes or host work between: apart. A launch with a
// workgroup buffer joins the one before it, keeping its buffer.
// CHECK-LABEL: func.func @apart
// CHECK-COUNT-2: gpu.launch blocks
// CHECK-NOT:     workgroup
// CHECK:         memref.store
// CHECK-NEXT:    arith.constant 2 : index
// CHECK-NEXT:    gpu.launch blocks{{.*}} workgroup(%{{.+}} : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT:     gpu.launch
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

// -----

// A fused kernel's parameters stay within CUDA's 4 KiB: three launches each
// reading ten rank-8 memrefs (152 bytes of descriptor each) make two
// launches, the first two fused (about 3.1 KiB), the third apart.
// CHECK-LABEL: func.func @parameter_bytes
// CHECK:         gpu.launch blocks(%{{.+}}) in (%{{.+}} = %[[C2:[a-z0-9_]+]],
// CHECK:         gpu.launch blocks(%{{.+}}) in (%{{.+}} = %c1,
// CHECK-NOT:     gpu.launch
func.func @parameter_bytes(%a0: memref<1x1x1x1x1x1x1x1xf32>, %a1: memref<1x1x1x1x1x1x1x1xf32>, %a2: memref<1x1x1x1x1x1x1x1xf32>, %a3: memref<1x1x1x1x1x1x1x1xf32>, %a4: memref<1x1x1x1x1x1x1x1xf32>, %a5: memref<1x1x1x1x1x1x1x1xf32>, %a6: memref<1x1x1x1x1x1x1x1xf32>, %a7: memref<1x1x1x1x1x1x1x1xf32>, %a8: memref<1x1x1x1x1x1x1x1xf32>, %a9: memref<1x1x1x1x1x1x1x1xf32>, %a10: memref<1x1x1x1x1x1x1x1xf32>, %a11: memref<1x1x1x1x1x1x1x1xf32>, %a12: memref<1x1x1x1x1x1x1x1xf32>, %a13: memref<1x1x1x1x1x1x1x1xf32>, %a14: memref<1x1x1x1x1x1x1x1xf32>, %a15: memref<1x1x1x1x1x1x1x1xf32>, %a16: memref<1x1x1x1x1x1x1x1xf32>, %a17: memref<1x1x1x1x1x1x1x1xf32>, %a18: memref<1x1x1x1x1x1x1x1xf32>, %a19: memref<1x1x1x1x1x1x1x1xf32>, %a20: memref<1x1x1x1x1x1x1x1xf32>, %a21: memref<1x1x1x1x1x1x1x1xf32>, %a22: memref<1x1x1x1x1x1x1x1xf32>, %a23: memref<1x1x1x1x1x1x1x1xf32>, %a24: memref<1x1x1x1x1x1x1x1xf32>, %a25: memref<1x1x1x1x1x1x1x1xf32>, %a26: memref<1x1x1x1x1x1x1x1xf32>, %a27: memref<1x1x1x1x1x1x1x1xf32>, %a28: memref<1x1x1x1x1x1x1x1xf32>, %a29: memref<1x1x1x1x1x1x1x1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %out0 = memref.alloc() : memref<256xf32>
  %out1 = memref.alloc() : memref<256xf32>
  %out2 = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v0 = memref.load %a0[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %v1 = memref.load %a1[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s1 = arith.addf %v0, %v1 : f32
    %v2 = memref.load %a2[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s2 = arith.addf %s1, %v2 : f32
    %v3 = memref.load %a3[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s3 = arith.addf %s2, %v3 : f32
    %v4 = memref.load %a4[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s4 = arith.addf %s3, %v4 : f32
    %v5 = memref.load %a5[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s5 = arith.addf %s4, %v5 : f32
    %v6 = memref.load %a6[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s6 = arith.addf %s5, %v6 : f32
    %v7 = memref.load %a7[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s7 = arith.addf %s6, %v7 : f32
    %v8 = memref.load %a8[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s8 = arith.addf %s7, %v8 : f32
    %v9 = memref.load %a9[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s9 = arith.addf %s8, %v9 : f32
    memref.store %s9, %out0[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v10 = memref.load %a10[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %v11 = memref.load %a11[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s11 = arith.addf %v10, %v11 : f32
    %v12 = memref.load %a12[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s12 = arith.addf %s11, %v12 : f32
    %v13 = memref.load %a13[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s13 = arith.addf %s12, %v13 : f32
    %v14 = memref.load %a14[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s14 = arith.addf %s13, %v14 : f32
    %v15 = memref.load %a15[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s15 = arith.addf %s14, %v15 : f32
    %v16 = memref.load %a16[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s16 = arith.addf %s15, %v16 : f32
    %v17 = memref.load %a17[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s17 = arith.addf %s16, %v17 : f32
    %v18 = memref.load %a18[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s18 = arith.addf %s17, %v18 : f32
    %v19 = memref.load %a19[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s19 = arith.addf %s18, %v19 : f32
    memref.store %s19, %out1[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v20 = memref.load %a20[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %v21 = memref.load %a21[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s21 = arith.addf %v20, %v21 : f32
    %v22 = memref.load %a22[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s22 = arith.addf %s21, %v22 : f32
    %v23 = memref.load %a23[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s23 = arith.addf %s22, %v23 : f32
    %v24 = memref.load %a24[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s24 = arith.addf %s23, %v24 : f32
    %v25 = memref.load %a25[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s25 = arith.addf %s24, %v25 : f32
    %v26 = memref.load %a26[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s26 = arith.addf %s25, %v26 : f32
    %v27 = memref.load %a27[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s27 = arith.addf %s26, %v27 : f32
    %v28 = memref.load %a28[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s28 = arith.addf %s27, %v28 : f32
    %v29 = memref.load %a29[%c0, %c0, %c0, %c0, %c0, %c0, %c0, %c0] : memref<1x1x1x1x1x1x1x1xf32>
    %s29 = arith.addf %s28, %v29 : f32
    memref.store %s29, %out2[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// A launch that depends on the one before it may still move up past it to
// join an earlier group it does not depend on (nor the launches it passes
// on it): %c's copy joins %a's fill, ahead of %b's, which reads %a.
// CHECK-LABEL: func.func @moves_up
// CHECK:         %[[A:.+]] = memref.alloc() : memref<256xf32>
// CHECK:         %[[B:.+]] = memref.alloc() : memref<256xf32>
// CHECK:         %[[C:.+]] = memref.alloc() : memref<256xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},
// CHECK:           memref.store %{{.+}}, %[[A]]
// CHECK:           memref.store %{{.+}}, %[[C]]
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}},
// CHECK:           memref.load %[[A]]
// CHECK:           memref.store %{{.+}}, %[[B]]
// CHECK-NOT:     gpu.launch
func.func @moves_up(%x: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  %c = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    memref.store %zero, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %c[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// A launch that nothing after it reads until a later launch of its shape
// moves down to join that one (an amax history's update, %h from %amax,
// past a GEMM-like kernel of another block size): past the allocation and
// its wait between them, and past tensor-core fences, which touch only the
// block's registers and shared memory.
// CHECK-LABEL: func.func @moves_down
// CHECK:         %[[H:.+]] = memref.alloc() : memref<256xf32>
// CHECK:         %[[Y:.+]] = memref.alloc() : memref<256xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}},{{.*}}threads({{.*}}) in ({{.*}} = %c128
// CHECK:           nvvm.wgmma.fence.aligned
// CHECK:           memref.store %{{.+}}, %[[Y]]
// CHECK:         gpu.alloc async
// CHECK:         gpu.wait
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},{{.*}}threads({{.*}}) in ({{.*}} = %c256
// CHECK:           memref.load %{{.+}}[] : memref<f32>
// CHECK:           memref.store %{{.+}}, %[[H]]
// CHECK:           memref.load %[[Y]]
// CHECK-NOT:     gpu.launch
func.func @moves_down(%amax: memref<f32>, %x: memref<256xf32>) -> memref<256xf32> {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %h = memref.alloc() : memref<256xf32>
  %y = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %amax[] : memref<f32>
    memref.store %v, %h[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    nvvm.wgmma.fence.aligned
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %y[%tx] : memref<256xf32>
    gpu.terminator
  }
  %t0 = gpu.wait async
  %z, %t1 = gpu.alloc async [%t0] () : memref<256xf32>
  gpu.wait [%t1]
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %y[%tx] : memref<256xf32>
    memref.store %v, %z[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %z : memref<256xf32>
}

// -----

// A launch that takes a buffer's address may read and write it through the
// pointer: it stays after the launch that writes %y, and the one that reads
// %y stays after it.
// CHECK-LABEL: func.func @pointer_taken
// CHECK-COUNT-3: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}},
func.func @pointer_taken(%x: memref<256xf32>, %addresses: memref<256xindex>, %z: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %y = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %y[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %p = memref.extract_aligned_pointer_as_index %y : memref<256xf32> -> index
    memref.store %p, %addresses[%tx] : memref<256xindex>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %y[%tx] : memref<256xf32>
    memref.store %v, %z[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// A launch moving up to an earlier group takes along the views it uses
// that are defined after that group's launch: %q quantizes %g with a scale
// seen through a view made after %amax's reduction, and joins it, past the
// history update that reads the amax.
// CHECK-LABEL: func.func @views_move_up
// CHECK:         %[[SCALE:.+]] = memref.collapse_shape
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c3{{.*}},
// CHECK:           memref.atomic_rmw maximumf
// CHECK:           memref.load %[[SCALE]][]
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}},
// CHECK:           memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<256xf32>
// CHECK-NOT:     gpu.launch
func.func @views_move_up(%g: memref<512xf32>, %scale1: memref<1xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %amax = memref.alloc() : memref<f32>
  %history = memref.alloc() : memref<256xf32>
  %q = memref.alloc() : memref<512xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %g[%tx] : memref<512xf32>
    %m = memref.atomic_rmw maximumf %v, %amax[] : (f32, memref<f32>) -> f32
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %amax[] : memref<f32>
    memref.store %v, %history[%tx] : memref<256xf32>
    gpu.terminator
  }
  %scale = memref.collapse_shape %scale1 [] : memref<1xf32> into memref<f32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %g[%tx] : memref<512xf32>
    %s = memref.load %scale[] : memref<f32>
    %r = arith.mulf %v, %s : f32
    memref.store %r, %q[%tx] : memref<512xf32>
    gpu.terminator
  }
  return
}

// -----

// A launch of another grid (a GEMM's 2-D one) joins no group, but an
// independent launch moves up past it (buffers allocated here: function
// arguments may alias each other): %b's copy joins %a's. In
// @reads_past_grid the later launch reads what the 2-D one writes, so
// %a's copy moves down past the 2-D launch to join it instead.
// CHECK-LABEL: func.func @past_a_2d_grid
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},
// CHECK:           memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<256xf32>
// CHECK:           memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<256xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c2{{.*}},
// CHECK-NOT:     gpu.launch
// CHECK-LABEL: func.func @reads_past_grid
// CHECK:         %[[G:.+]] = memref.alloc() : memref<2x256xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c2{{.*}},
// CHECK:           memref.store %{{.+}}, %[[G]]
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}},
// CHECK:           memref.load %[[G]]
// CHECK-NOT:     gpu.launch
func.func @past_a_2d_grid(%x: memref<256xf32>) -> (memref<256xf32>, memref<256xf32>) {
  %g = memref.alloc() : memref<2x256xf32>
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c2, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %g[%by, %tx] : memref<2x256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b : memref<256xf32>, memref<256xf32>
}

func.func @reads_past_grid(%x: memref<256xf32>) -> (memref<256xf32>, memref<256xf32>) {
  %g = memref.alloc() : memref<2x256xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c2, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %g[%by, %tx] : memref<2x256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %g[%c0, %tx] : memref<2x256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b : memref<256xf32>, memref<256xf32>
}

// -----

// A TMA GEMM's kernel reads its operand %q through a tensor map that host
// code made from %q's address (qtrainTensorMap), and waits on mbarriers
// in shared memory: those are all its accesses, so %b's copy moves up past
// it and the tensor map's making to join %a's. In @writes_tma_operand the
// later launch overwrites %q and stays after the GEMM.
// CHECK-LABEL: func.func @past_a_tma_copy
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},
// CHECK:         call @qtrainTensorMap
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} threads({{.*}}) in ({{.*}} = %c160{{.*}},
// CHECK-NOT:     gpu.launch
// CHECK-LABEL: func.func @writes_tma_operand
// CHECK-COUNT-3: gpu.launch blocks
func.func private @qtrainTensorMap(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64 attributes {qtrain.host_only}

func.func @past_a_tma_copy(%x: memref<256xf32>, %q: memref<64x64xi8>) -> (memref<256xf32>, memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c160 = arith.constant 160 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  %p = memref.extract_aligned_pointer_as_index %q : memref<64x64xi8> -> index
  %address = arith.index_castui %p : index to i64
  %i1 = arith.constant 1 : i64
  %i64 = arith.constant 64 : i64
  %map = call @qtrainTensorMap(%address, %i1, %i1, %i64, %i64, %i1, %i64, %i1, %i64, %i64, %i64) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c160, %sy = %c1, %sz = %c1) {
    %zero = arith.constant 0 : i32
    %one = arith.constant 1 : i32
    %barrier = llvm.mlir.zero : !llvm.ptr<3>
    %tile = llvm.addrspacecast %barrier : !llvm.ptr<3> to !llvm.ptr<7>
    nvvm.mbarrier.init %barrier, %one : !llvm.ptr<3>, i32
    %descriptor = llvm.inttoptr %map : i64 to !llvm.ptr
    nvvm.cp.async.bulk.tensor.shared.cluster.global %tile, %descriptor, %barrier, box[%zero, %zero] : !llvm.ptr<7>, !llvm.ptr
    nvvm.mbarrier.try_wait.parity %barrier, %zero, %zero : !llvm.ptr<3>, i32, i32
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b : memref<256xf32>, memref<256xf32>
}

func.func @writes_tma_operand(%x: memref<256xi8>, %q: memref<64x64xi8>) -> memref<256xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c160 = arith.constant 160 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xi8>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xi8>
    memref.store %v, %a[%tx] : memref<256xi8>
    gpu.terminator
  }
  %p = memref.extract_aligned_pointer_as_index %q : memref<64x64xi8> -> index
  %address = arith.index_castui %p : index to i64
  %i1 = arith.constant 1 : i64
  %i64 = arith.constant 64 : i64
  %map = call @qtrainTensorMap(%address, %i1, %i1, %i64, %i64, %i1, %i64, %i1, %i64, %i64, %i64) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c160, %sy = %c1, %sz = %c1) {
    %zero = arith.constant 0 : i32
    %barrier = llvm.mlir.zero : !llvm.ptr<3>
    %tile = llvm.addrspacecast %barrier : !llvm.ptr<3> to !llvm.ptr<7>
    %descriptor = llvm.inttoptr %map : i64 to !llvm.ptr
    nvvm.cp.async.bulk.tensor.shared.cluster.global %tile, %descriptor, %barrier, box[%zero, %zero] : !llvm.ptr<7>, !llvm.ptr
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xi8>
    memref.store %v, %q[%c0, %tx] : memref<64x64xi8>
    gpu.terminator
  }
  return %a : memref<256xi8>
}

// -----

// A cp.async copy reads the buffer its source address points into (and
// the kernel that takes the address may write it): %b's copy moves up past
// the kernel that copies %q, not one that writes %q.
// CHECK-LABEL: func.func @past_a_cp_async_copy
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} threads({{.*}}) in ({{.*}} = %c128{{.*}},
// CHECK:           nvvm.cp.async.shared.global
// CHECK-NOT:     gpu.launch
func.func @past_a_cp_async_copy(%x: memref<256xf32>) -> (memref<256xf32>, memref<256xf32>) {
  %q = memref.alloc() : memref<64x64xi8>
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
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
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %p = memref.extract_aligned_pointer_as_index %q : memref<64x64xi8> -> index
    %offset = arith.muli %tx, %c128 : index
    %row = arith.addi %p, %offset : index
    %address = arith.index_castui %row : index to i64
    %source = llvm.inttoptr %address : i64 to !llvm.ptr<1>
    %tile = llvm.mlir.zero : !llvm.ptr<3>
    nvvm.cp.async.shared.global %tile, %source, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
    nvvm.cp.async.commit.group
    nvvm.cp.async.wait.group 0
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b : memref<256xf32>, memref<256xf32>
}

// -----

// FP8 mma.sync has no NVVM op: the GEMM kernel calls the
// `llvm.nvvm.mma.*` intrinsic, which computes on registers only, so the
// kernel's accesses are its memref ops and %b's copy moves up past it to
// join %a's.
// CHECK-LABEL: func.func @past_an_mma_intrinsic
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}},
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c2{{.*}},
// CHECK:           llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"
// CHECK-NOT:     gpu.launch
func.func @past_an_mma_intrinsic(%x: memref<256xf32>, %w: memref<256xi32>) -> (memref<256xf32>, memref<256xf32>, memref<2x256xf32>) {
  %g = memref.alloc() : memref<2x256xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c2, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %word = memref.load %w[%tx] : memref<256xi32>
    %zero = arith.constant 0.0 : f32
    %d = llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"(%word, %word, %word, %word, %word, %word, %zero, %zero, %zero, %zero) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %e = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %e, %g[%by, %tx] : memref<2x256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  return %a, %b, %g : memref<256xf32>, memref<256xf32>, memref<2x256xf32>
}

// -----

// The flat interface's slices: each kernel reads a slice of one buffer and
// writes a slice of another (a parameter update into the flat results).
// `llvm.noalias` arguments are distinct memory, and static slices of one
// buffer overlap only where their elements do (here the second writes a
// 4x64 reshape of elements 256-511): one launch.
// CHECK-LABEL: func.func @disjoint_slices
// CHECK-COUNT-1: gpu.launch blocks
// CHECK-NOT:     gpu.launch blocks
func.func @disjoint_slices(%in: memref<512xf32> {llvm.noalias},
                           %out: memref<512xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %x0 = memref.subview %in[0] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1]>>
  %y0 = memref.subview %out[0] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1]>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x0[%tx] : memref<256xf32, strided<[1]>>
    memref.store %v, %y0[%tx] : memref<256xf32, strided<[1]>>
    gpu.terminator
  }
  %x1 = memref.subview %in[256] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1], offset: 256>>
  %y1 = memref.subview %out[256] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1], offset: 256>>
  %y1x = memref.expand_shape %y1 [[0, 1]] output_shape [4, 64] : memref<256xf32, strided<[1], offset: 256>> into memref<4x64xf32, strided<[64, 1], offset: 256>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %i = arith.divui %tx, %c64 : index
    %j = arith.remui %tx, %c64 : index
    %v = memref.load %x1[%tx] : memref<256xf32, strided<[1], offset: 256>>
    memref.store %v, %y1x[%i, %j] : memref<4x64xf32, strided<[64, 1], offset: 256>>
    gpu.terminator
  }
  return
}

// -----

// The same without `llvm.noalias`: the second kernel's read of %in may be
// the first one's write to %out: two launches.
// CHECK-LABEL: func.func @slices_of_arguments
// CHECK-COUNT-2: gpu.launch blocks
func.func @slices_of_arguments(%in: memref<512xf32>, %out: memref<512xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %x0 = memref.subview %in[0] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1]>>
  %y0 = memref.subview %out[0] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1]>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x0[%tx] : memref<256xf32, strided<[1]>>
    memref.store %v, %y0[%tx] : memref<256xf32, strided<[1]>>
    gpu.terminator
  }
  %x1 = memref.subview %in[256] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1], offset: 256>>
  %y1 = memref.subview %out[256] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1], offset: 256>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x1[%tx] : memref<256xf32, strided<[1], offset: 256>>
    memref.store %v, %y1[%tx] : memref<256xf32, strided<[1], offset: 256>>
    gpu.terminator
  }
  return
}

// -----

// Slices of one buffer whose extents share element 255 (the second writes
// elements 255-510, the first reads 0-255): two launches.
// CHECK-LABEL: func.func @overlapping_slices
// CHECK-COUNT-2: gpu.launch blocks
func.func @overlapping_slices(%buf: memref<512xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %a = memref.alloc() : memref<256xf32>
  %x0 = memref.subview %buf[0] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1]>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x0[%tx] : memref<256xf32, strided<[1]>>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  %y1 = memref.subview %buf[255] [256] [1] : memref<512xf32> to memref<256xf32, strided<[1], offset: 255>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %y1[%tx] : memref<256xf32, strided<[1], offset: 255>>
    gpu.terminator
  }
  return
}
