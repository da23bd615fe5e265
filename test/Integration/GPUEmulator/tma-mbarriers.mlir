// The emulator's mbarriers and TMA copies (MBarriers.cpp), as the
// warp-specialized wgmma kernels use them. A TMA copy lands when a thread
// waits for its mbarrier's phase, not before: read before, shared memory
// still holds its old bytes; rows outside the tensor are zeros.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts > %t.mlir
// RUN: %run_gpu_emulator -e copy_then_wait < %t.mlir | FileCheck %s --check-prefix=COPY
// A TMA copy into shared memory that an issued wgmma has not been waited
// for stops the program, as a cp.async does; so do a phase that never
// completes (an arrival short: a GPU would hang; the emulator waits
// QTRAIN_GPU_EMULATOR_HANG_SECONDS) and a barrier never initialized.
// RUN: not --crash %run_gpu_emulator -e copy_over_wgmma < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OVERWRITE
// RUN: env QTRAIN_GPU_EMULATOR_HANG_SECONDS=1 not --crash %run_gpu_emulator \
// RUN:   -e arrival_short < %t.mlir 2>&1 | FileCheck %s --check-prefix=HANG
// RUN: not --crash %run_gpu_emulator -e not_initialized < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNINITIALIZED

// Row 0 before the wait: the old 5s; after it, rows 3 and 4 of the 4x4
// tensor of 7s: 7s, then zeros (past its last row).
// COPY: [5,  5,  5,  5,  7,  7,  7,  7,  0,  0,  0,  0]
// OVERWRITE: qtrain GPU emulator: cp.async.bulk.tensor into shared memory that a wgmma still reads (issued, not yet waited for)
// HANG: qtrain GPU emulator: an mbarrier phase did not complete: its arrivals or transaction bytes are short (a GPU would hang)
// UNINITIALIZED: qtrain GPU emulator: mbarrier operation on an address that mbarrier.init did not initialize

!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
                     f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
!smem = memref<1024xi32, #gpu.address_space<workgroup>>

func.func private @printMemrefI32(memref<*xi32>)
func.func private @qtrainTensorMap(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64

// A 4x4 tensor of i32 7s, and its tensor map: boxes of 4 x 2 elements.
func.func private @sevens_map() -> i64 {
  %seven = arith.constant 7 : i32
  %t = memref.alloc() {alignment = 16 : i64} : memref<4x4xi32>
  %i0 = arith.constant 0 : index
  %i1 = arith.constant 1 : index
  %i4 = arith.constant 4 : index
  scf.for %r = %i0 to %i4 step %i1 {
    scf.for %c = %i0 to %i4 step %i1 {
      memref.store %seven, %t[%r, %c] : memref<4x4xi32>
    }
  }
  %p = memref.extract_aligned_pointer_as_index %t : memref<4x4xi32> -> index
  %address = arith.index_castui %p : index to i64
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c4 = arith.constant 4 : i64
  %c16 = arith.constant 16 : i64
  %map = call @qtrainTensorMap(%address, %c4, %c2, %c4, %c4, %c1, %c16, %c0, %c4, %c2)
      : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64
  return %map : i64
}

// The mbarrier at byte 2048 of shared memory, and the box's destination at
// byte 1024 (128-byte aligned).
func.func @copy_then_wait() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c12 = arith.constant 12 : index
  %c256 = arith.constant 256 : index
  %five = arith.constant 5 : i32
  %map = call @sevens_map() : () -> i64
  %out = memref.alloc() : memref<12xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    scf.for %i = %c0 to %c12 step %c1 {
      %j = arith.addi %i, %c256 : index
      memref.store %five, %smem[%j] : !smem
    }
    %base = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %base64 = arith.index_castui %base : index to i64
    %c1024 = arith.constant 1024 : i64
    %c2048 = arith.constant 2048 : i64
    %dst64 = arith.addi %base64, %c1024 : i64
    %bar64 = arith.addi %base64, %c2048 : i64
    %dst3 = llvm.inttoptr %dst64 : i64 to !llvm.ptr<3>
    %dst = llvm.addrspacecast %dst3 : !llvm.ptr<3> to !llvm.ptr<7>
    %bar = llvm.inttoptr %bar64 : i64 to !llvm.ptr<3>
    %desc = llvm.inttoptr %map : i64 to !llvm.ptr
    %one = arith.constant 1 : i32
    %bytes = arith.constant 32 : i32
    %zero = arith.constant 0 : i32
    %row = arith.constant 3 : i32
    %ticks = arith.constant 10000000 : i32
    nvvm.mbarrier.init %bar, %one : !llvm.ptr<3>, i32
    nvvm.fence.mbarrier.init
    nvvm.mbarrier.arrive.expect_tx %bar, %bytes : !llvm.ptr<3>, i32
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst, %desc, %bar, box[%zero, %row] : !llvm.ptr<7>, !llvm.ptr
    %c4 = arith.constant 4 : index
    scf.for %i = %c0 to %c4 step %c1 {
      %j = arith.addi %i, %c256 : index
      %v = memref.load %smem[%j] : !smem
      memref.store %v, %out[%i] : memref<12xi32>
    }
    nvvm.mbarrier.try_wait.parity %bar, %zero, %ticks : !llvm.ptr<3>, i32, i32
    %c8 = arith.constant 8 : index
    scf.for %i = %c0 to %c8 step %c1 {
      %j = arith.addi %i, %c256 : index
      %k = arith.addi %i, %c4 : index
      %v = memref.load %smem[%j] : !smem
      memref.store %v, %out[%k] : memref<12xi32>
    }
    gpu.terminator
  }
  %u = memref.cast %out : memref<12xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// One warpgroup's m64n64k32 wgmma on A at byte 0 and B at byte 2048
// (no-swizzle descriptors), committed, not waited for; then thread 0
// copies a box into A by TMA.
func.func @copy_over_wgmma() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %map = call @sevens_map() : () -> i64
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
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %c4096 = arith.constant 4096 : i64
      %bar64 = arith.addi %base64, %c4096 : i64
      %bar = llvm.inttoptr %bar64 : i64 to !llvm.ptr<3>
      %dst3 = llvm.inttoptr %base64 : i64 to !llvm.ptr<3>
      %dst = llvm.addrspacecast %dst3 : !llvm.ptr<3> to !llvm.ptr<7>
      %desc = llvm.inttoptr %map : i64 to !llvm.ptr
      %one = arith.constant 1 : i32
      %zero = arith.constant 0 : i32
      nvvm.mbarrier.init %bar, %one : !llvm.ptr<3>, i32
      nvvm.cp.async.bulk.tensor.shared.cluster.global %dst, %desc, %bar, box[%zero, %zero] : !llvm.ptr<7>, !llvm.ptr
    }
    nvvm.wgmma.wait.group.sync.aligned 0
    gpu.terminator
  }
  return
}

// Two arrivals expected, one made.
func.func @arrival_short() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    %base = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %base64 = arith.index_castui %base : index to i64
    %bar = llvm.inttoptr %base64 : i64 to !llvm.ptr<3>
    %two = arith.constant 2 : i32
    %zero = arith.constant 0 : i32
    %ticks = arith.constant 10000000 : i32
    nvvm.mbarrier.init %bar, %two : !llvm.ptr<3>, i32
    nvvm.mbarrier.arrive %bar : !llvm.ptr<3>
    nvvm.mbarrier.try_wait.parity %bar, %zero, %ticks : !llvm.ptr<3>, i32, i32
    gpu.terminator
  }
  return
}

func.func @not_initialized() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    %base = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %base64 = arith.index_castui %base : index to i64
    %c8 = arith.constant 8 : i64
    %at = arith.addi %base64, %c8 : i64
    %bar = llvm.inttoptr %at : i64 to !llvm.ptr<3>
    nvvm.mbarrier.arrive %bar : !llvm.ptr<3>
    gpu.terminator
  }
  return
}
