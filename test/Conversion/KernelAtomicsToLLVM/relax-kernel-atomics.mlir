// RUN: qtrain-opt %s -split-input-file -qtrain-relax-kernel-atomics | FileCheck %s

// An atomic in a kernel: a relaxed device-scope LLVM atomic on the
// element's address, the aligned pointer plus (offset + index * stride)
// elements of 4 bytes (the strided view's offset 2 and stride 3 count).
// CHECK-LABEL: func.func @in_kernel
// CHECK-SAME:      (%[[M:.+]]: memref<4xf32, strided<[3], offset: 2>>, %[[V:.+]]: f32, %[[I:.+]]: index)
// CHECK:         gpu.launch
// CHECK:           %{{.+}}, %[[OFFSET:.+]], %{{.+}}, %[[STRIDE:.+]] = memref.extract_strided_metadata %[[M]]
// CHECK:           %[[SCALED:.+]] = arith.muli %[[I]], %[[STRIDE]]
// CHECK:           %[[LINEAR:.+]] = arith.addi %[[OFFSET]], %[[SCALED]]
// CHECK:           %[[BYTES:.+]] = arith.muli %[[LINEAR]], %c4
// CHECK:           %[[ALIGNED:.+]] = memref.extract_aligned_pointer_as_index %[[M]]
// CHECK:           %[[ADDRESS:.+]] = arith.addi %[[ALIGNED]], %[[BYTES]]
// CHECK:           %[[I64:.+]] = arith.index_castui %[[ADDRESS]] : index to i64
// CHECK:           %[[P:.+]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr
// CHECK:           llvm.atomicrmw fmaximum %[[P]], %[[V]] syncscope("device") monotonic : !llvm.ptr, f32
// CHECK-NOT:       memref.atomic_rmw
func.func @in_kernel(%m: memref<4xf32, strided<[3], offset: 2>>, %v: f32, %i: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %w = %c1, %s = %c1) {
    %0 = memref.atomic_rmw maximumf %v, %m[%i] : (f32, memref<4xf32, strided<[3], offset: 2>>) -> f32
    gpu.terminator
  }
  return
}

// -----

// Every kind LLVM has: integer ones too, in a kernel already outlined.
// CHECK-LABEL: gpu.func @kinds
// CHECK:         llvm.atomicrmw add %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:         llvm.atomicrmw umax %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK:         llvm.atomicrmw fadd %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, f32
// CHECK:         llvm.atomicrmw fminimum %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, f32
gpu.module @kernels {
  gpu.func @kinds(%m: memref<2x2xi32>, %f: memref<f32>, %v: i32, %w: f32) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %0 = memref.atomic_rmw addi %v, %m[%c0, %c1] : (i32, memref<2x2xi32>) -> i32
    %1 = memref.atomic_rmw maxu %v, %m[%c1, %c0] : (i32, memref<2x2xi32>) -> i32
    %2 = memref.atomic_rmw addf %w, %f[] : (f32, memref<f32>) -> f32
    %3 = memref.atomic_rmw minimumf %w, %f[] : (f32, memref<f32>) -> f32
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
