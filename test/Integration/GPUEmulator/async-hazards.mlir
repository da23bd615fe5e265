// The emulator times asynchronous operations so that missing waits show
// (AsyncOperations.cpp). A cp.async lands at the wait that completes it:
// read before, shared memory still holds its old bytes.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts > %t.mlir
// RUN: %run_gpu_emulator -e copy_then_wait < %t.mlir | FileCheck %s --check-prefix=COPY
// A cp.async into shared memory that an issued wgmma has not been waited
// for stops the program (the wgmma may still be reading it), and so does a
// thread that ends with a wgmma or a copy it did not wait for.
// RUN: not --crash %run_gpu_emulator -e overwrite_before_wgmma_wait < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OVERWRITE
// RUN: %run_gpu_emulator -e overwrite_after_wgmma_wait < %t.mlir | FileCheck %s --check-prefix=WAITED
// RUN: not --crash %run_gpu_emulator -e wgmma_not_waited < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=WGMMA-NOT-WAITED
// RUN: not --crash %run_gpu_emulator -e copy_not_waited < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=COPY-NOT-WAITED

// Before the wait: the old 0; after it: the copied 7.
// COPY: [0,  7]
// OVERWRITE: qtrain GPU emulator: cp.async into shared memory that a wgmma still reads (issued, not yet waited for)
// WAITED: [7]
// WGMMA-NOT-WAITED: qtrain GPU emulator: a thread ended with wgmma groups it did not wait for
// COPY-NOT-WAITED: qtrain GPU emulator: a thread ended with cp.async copies it did not wait for

!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
                     f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
!smem = memref<1024xi32, #gpu.address_space<workgroup>>

func.func private @printMemrefI32(memref<*xi32>)

func.func private @sevens() -> memref<4xi32> {
  %seven = arith.constant 7 : i32
  %src = memref.alloc() : memref<4xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %seven, %src[%i] : memref<4xi32>
  }
  return %src : memref<4xi32>
}

func.func @copy_then_wait() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  %src = call @sevens() : () -> memref<4xi32>
  %out = memref.alloc() : memref<2xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    memref.store %zero, %smem[%c0] : !smem
    gpu.barrier
    %base_0 = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %dst64_0 = arith.index_castui %base_0 : index to i64
    %dst_0 = llvm.inttoptr %dst64_0 : i64 to !llvm.ptr<3>
    %from_0 = memref.extract_aligned_pointer_as_index %src : memref<4xi32> -> index
    %from64_0 = arith.index_castui %from_0 : index to i64
    %generic_0 = llvm.inttoptr %from64_0 : i64 to !llvm.ptr
    %global_0 = llvm.addrspacecast %generic_0 : !llvm.ptr to !llvm.ptr<1>
    nvvm.cp.async.shared.global %dst_0, %global_0, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
    nvvm.cp.async.commit.group
    %before = memref.load %smem[%c0] : !smem
    nvvm.cp.async.wait.group 0
    %after = memref.load %smem[%c0] : !smem
    memref.store %before, %out[%c0] : memref<2xi32>
    memref.store %after, %out[%c1] : memref<2xi32>
    gpu.terminator
  }
  %u = memref.cast %out : memref<2xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// One warpgroup's m64n64k32 wgmma on A at byte 0 and B at byte 2048 of
// shared memory (no-swizzle descriptors: leading byte offset 128, stride
// 256), committed; then, unless `pending_before`, waited for, and a
// barrier; a cp.async into A if `copy`; then, unless `pending_after`,
// waited for.
func.func private @wgmma_and_copy(%copy: i1, %pending_before: i1,
                                  %pending_after: i1) -> memref<1xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %src = call @sevens() : () -> memref<4xi32>
  %out = memref.alloc() : memref<1xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    %base = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %base64 = arith.index_castui %base : index to i64
    %window = arith.constant 262143 : i64
    %c4 = arith.constant 4 : i64
    %offsets = arith.constant 68720001024 : i64
    %b_offset = arith.constant 2048 : i64
    %a_addr = arith.andi %base64, %window : i64
    %a_enc = arith.shrui %a_addr, %c4 : i64
    %desc_a = arith.ori %a_enc, %offsets : i64
    %b_at = arith.addi %base64, %b_offset : i64
    %b_addr = arith.andi %b_at, %window : i64
    %b_enc = arith.shrui %b_addr, %c4 : i64
    %desc_b = arith.ori %b_enc, %offsets : i64
    %init = llvm.mlir.zero : !acc
    gpu.barrier
    nvvm.wgmma.fence.aligned
    %d = nvvm.wgmma.mma_async %desc_a, %desc_b, %init,
           #nvvm.shape<m = 64, n = 64, k = 32>,
           D [<f32>, #nvvm.wgmma_scale_out<one>],
           A [<e4m3>, #nvvm.wgmma_scale_in<one>, <row>],
           B [<e4m3>, #nvvm.wgmma_scale_in<one>, <col>] : !acc -> !acc
    nvvm.wgmma.commit.group.sync.aligned
    scf.if %pending_before {
    } else {
      nvvm.wgmma.wait.group.sync.aligned 0
    }
    // Every warp's wait, not just this thread's, frees what the wgmma reads.
    gpu.barrier
    scf.if %copy {
      %base_1 = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %dst64_1 = arith.index_castui %base_1 : index to i64
    %dst_1 = llvm.inttoptr %dst64_1 : i64 to !llvm.ptr<3>
    %from_1 = memref.extract_aligned_pointer_as_index %src : memref<4xi32> -> index
    %from64_1 = arith.index_castui %from_1 : index to i64
    %generic_1 = llvm.inttoptr %from64_1 : i64 to !llvm.ptr
    %global_1 = llvm.addrspacecast %generic_1 : !llvm.ptr to !llvm.ptr<1>
    nvvm.cp.async.shared.global %dst_1, %global_1, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
      nvvm.cp.async.commit.group
      nvvm.cp.async.wait.group 0
    }
    scf.if %pending_after {
    } else {
      nvvm.wgmma.wait.group.sync.aligned 0
    }
    %first = memref.load %smem[%c0] : !smem
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      memref.store %first, %out[%c0] : memref<1xi32>
    }
    gpu.terminator
  }
  return %out : memref<1xi32>
}

func.func @overwrite_before_wgmma_wait() {
  %true = arith.constant true
  %false = arith.constant false
  %out = call @wgmma_and_copy(%true, %true, %false) : (i1, i1, i1) -> memref<1xi32>
  return
}

// Waited for first, the copy is fine: its 7 lands.
func.func @overwrite_after_wgmma_wait() {
  %true = arith.constant true
  %false = arith.constant false
  %out = call @wgmma_and_copy(%true, %false, %false) : (i1, i1, i1) -> memref<1xi32>
  %u = memref.cast %out : memref<1xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @wgmma_not_waited() {
  %false = arith.constant false
  %true = arith.constant true
  %out = call @wgmma_and_copy(%false, %true, %true) : (i1, i1, i1) -> memref<1xi32>
  return
}

func.func @copy_not_waited() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %src = call @sevens() : () -> memref<4xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    %base_2 = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %dst64_2 = arith.index_castui %base_2 : index to i64
    %dst_2 = llvm.inttoptr %dst64_2 : i64 to !llvm.ptr<3>
    %from_2 = memref.extract_aligned_pointer_as_index %src : memref<4xi32> -> index
    %from64_2 = arith.index_castui %from_2 : index to i64
    %generic_2 = llvm.inttoptr %from64_2 : i64 to !llvm.ptr
    %global_2 = llvm.addrspacecast %generic_2 : !llvm.ptr to !llvm.ptr<1>
    nvvm.cp.async.shared.global %dst_2, %global_2, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
    nvvm.cp.async.commit.group
    gpu.barrier
    gpu.terminator
  }
  return
}
