// RUN: qtrain-opt %s -split-input-file -qtrain-relax-kernel-atomics -allow-unregistered-dialect | FileCheck %s

// An atomic in a kernel: a relaxed device-scope LLVM atomic on the
// element's address, the aligned pointer plus (offset + index * stride)
// elements of 4 bytes (the strided view's offset 2 and stride 3 count).
// CHECK-LABEL: func.func @in_kernel
// CHECK-SAME:      (%[[M:.+]]: memref<4xi32, strided<[3], offset: 2>>, %[[V:.+]]: i32, %[[I:.+]]: index)
// CHECK:         gpu.launch
// CHECK:           %{{.+}}, %[[OFFSET:.+]], %{{.+}}, %[[STRIDE:.+]] = memref.extract_strided_metadata %[[M]]
// CHECK:           %[[SCALED:.+]] = arith.muli %[[I]], %[[STRIDE]]
// CHECK:           %[[LINEAR:.+]] = arith.addi %[[OFFSET]], %[[SCALED]]
// CHECK:           %[[BYTES:.+]] = arith.muli %[[LINEAR]], %c4
// CHECK:           %[[ALIGNED:.+]] = memref.extract_aligned_pointer_as_index %[[M]]
// CHECK:           %[[ADDRESS:.+]] = arith.addi %[[ALIGNED]], %[[BYTES]]
// CHECK:           %[[I64:.+]] = arith.index_castui %[[ADDRESS]] : index to i64
// CHECK:           %[[P:.+]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr
// CHECK:           llvm.atomicrmw add %[[P]], %[[V]] syncscope("device") monotonic : !llvm.ptr, i32
// CHECK-NOT:       memref.atomic_rmw
func.func @in_kernel(%m: memref<4xi32, strided<[3], offset: 2>>, %v: i32, %i: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %w = %c1, %s = %c1) {
    %0 = memref.atomic_rmw addi %v, %m[%i] : (i32, memref<4xi32, strided<[3], offset: 2>>) -> i32
    gpu.terminator
  }
  return
}

// -----

// Float max: one integer atomic on the bits, signed max where the sign is
// clear, unsigned min where it is set, NaNs made +NaN first; the old
// value back as a float.
// CHECK-LABEL: func.func @float_max
// CHECK-SAME:      (%[[M:.+]]: memref<4xf32>, %[[V:.+]]: f32, %[[I:.+]]: index)
// CHECK:         gpu.launch
// CHECK:           %[[P:.+]] = llvm.inttoptr
// CHECK:           %[[BITS:.+]] = arith.bitcast %[[V]] : f32 to i32
// CHECK:           %[[NAN:.+]] = arith.cmpf uno, %[[V]], %[[V]] : f32
// CHECK:           %[[QNAN:.+]] = arith.constant 2143289344 : i32
// CHECK:           %[[CANONICAL:.+]] = arith.select %[[NAN]], %[[QNAN]], %[[BITS]] : i32
// CHECK:           %[[SIGN:.+]] = arith.cmpi slt, %[[CANONICAL]], %{{.+}} : i32
// CHECK:           %[[OLD:.+]] = scf.if %[[SIGN]] -> (i32) {
// CHECK:             %[[A:.+]] = llvm.atomicrmw umin %[[P]], %[[CANONICAL]] syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:             scf.yield %[[A]] : i32
// CHECK:           } else {
// CHECK:             %[[B:.+]] = llvm.atomicrmw max %[[P]], %[[CANONICAL]] syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:             scf.yield %[[B]] : i32
// CHECK:           }
// CHECK:           %[[F:.+]] = arith.bitcast %[[OLD]] : i32 to f32
// CHECK:           "test.use"(%[[F]])
func.func @float_max(%m: memref<4xf32>, %v: f32, %i: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %w = %c1, %s = %c1) {
    %0 = memref.atomic_rmw maximumf %v, %m[%i] : (f32, memref<4xf32>) -> f32
    "test.use"(%0) : (f32) -> ()
    gpu.terminator
  }
  return
}

// -----

// Float min on f64: the mirror image (signed min, unsigned max), NaNs made
// -NaN (0xFFF8000000000000) first.
// CHECK-LABEL: func.func @double_min
// CHECK:         gpu.launch
// CHECK:           %[[BITS:.+]] = arith.bitcast %{{.+}} : f64 to i64
// CHECK:           %[[QNAN:.+]] = arith.constant -2251799813685248 : i64
// CHECK:           %[[CANONICAL:.+]] = arith.select %{{.+}}, %[[QNAN]], %[[BITS]] : i64
// CHECK:           scf.if
// CHECK:             llvm.atomicrmw umax %{{.+}}, %[[CANONICAL]] syncscope("device") monotonic : !llvm.ptr, i64
// CHECK:           } else {
// CHECK:             llvm.atomicrmw min %{{.+}}, %[[CANONICAL]] syncscope("device") monotonic : !llvm.ptr, i64
func.func @double_min(%m: memref<f64>, %v: f64) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %w = %c1, %s = %c1) {
    %0 = memref.atomic_rmw minimumf %v, %m[] : (f64, memref<f64>) -> f64
    gpu.terminator
  }
  return
}

// -----

// Every kind LLVM has: integer ones too, in a kernel already outlined;
// max/min of f16 (no integer trick: 16-bit atomics) and the NaN-ignoring
// maxnumf as LLVM's float atomics.
// CHECK-LABEL: gpu.func @kinds
// CHECK:         llvm.atomicrmw add %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:         llvm.atomicrmw umax %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:         llvm.atomicrmw fadd %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, f32
// CHECK:         llvm.atomicrmw fminimum %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, f16
// CHECK:         llvm.atomicrmw fmax %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, f32
gpu.module @kernels {
  gpu.func @kinds(%m: memref<2x2xi32>, %f: memref<f32>, %h: memref<f16>, %v: i32, %w: f32, %x: f16) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %0 = memref.atomic_rmw addi %v, %m[%c0, %c1] : (i32, memref<2x2xi32>) -> i32
    %1 = memref.atomic_rmw maxu %v, %m[%c1, %c0] : (i32, memref<2x2xi32>) -> i32
    %2 = memref.atomic_rmw addf %w, %f[] : (f32, memref<f32>) -> f32
    %3 = memref.atomic_rmw minimumf %x, %h[] : (f16, memref<f16>) -> f16
    %4 = memref.atomic_rmw maxnumf %w, %f[] : (f32, memref<f32>) -> f32
    gpu.return
  }
}

// -----

// Host code, and kinds LLVM has no atomic for, are left to upstream.
// CHECK-LABEL: func.func @left_alone
// CHECK:         memref.atomic_rmw addf
// CHECK:         gpu.launch
// CHECK:           memref.atomic_rmw mulf
func.func @left_alone(%m: memref<4xf32>, %v: f32, %i: index) {
  %c1 = arith.constant 1 : index
  %0 = memref.atomic_rmw addf %v, %m[%i] : (f32, memref<4xf32>) -> f32
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %w = %c1, %s = %c1) {
    %1 = memref.atomic_rmw mulf %v, %m[%i] : (f32, memref<4xf32>) -> f32
    gpu.terminator
  }
  return
}
