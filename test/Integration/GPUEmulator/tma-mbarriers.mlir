// The emulator's mbarriers and TMA copies (MBarriers.cpp), as the
// warp-specialized wgmma kernels use them. A TMA copy lands when a thread
// waits for its mbarrier's phase, not before: read before, shared memory
// still holds its old bytes; rows outside the tensor are zeros.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts > %t.mlir
// RUN: %run_gpu_emulator -e copy_then_wait < %t.mlir | FileCheck %s --check-prefix=COPY
// A box of 128-byte rows swizzled in 128 bytes: 16-byte unit c of row r
// lands at unit c ^ (r % 8) of its row; a swizzled box must start on its
// 8-row atom (1024 bytes here).
// RUN: %run_gpu_emulator -e swizzled_copy < %t.mlir | FileCheck %s --check-prefix=SWIZZLED
// RUN: not --crash %run_gpu_emulator -e swizzled_copy_misaligned < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MISALIGNED
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
// Rows 1 and 3 of the shared box: (row 1: units 1 0 3 2 5 4 7 6; row 3:
// units 3 2 1 0 7 6 5 4; the tensor's element (r, c) is 100 r + c).
// SWIZZLED: [104,  105,  106,  107,  100,  101,  102,  103,  112,  113,  114,  115,  108,  109,  110,  111,  120,  121,  122,  123,  116,  117,  118,  119,  128,  129,  130,  131,  124,  125,  126,  127,
// SWIZZLED-SAME: 312,  313,  314,  315,  308,  309,  310,  311,  304,  305,  306,  307,  300,  301,  302,  303,  328,  329,  330,  331,  324,  325,  326,  327,  320,  321,  322,  323,  316,  317,  318,  319]
// MISALIGNED: qtrain GPU emulator: swizzled cp.async.bulk.tensor into shared memory not aligned to its swizzle atom (8 rows)
// OVERWRITE: qtrain GPU emulator: cp.async.bulk.tensor into shared memory that a wgmma still reads (issued, not yet waited for)
// HANG: qtrain GPU emulator: an mbarrier phase did not complete: its arrivals or transaction bytes are short (a GPU would hang)
// UNINITIALIZED: qtrain GPU emulator: mbarrier operation on an address that mbarrier.init did not initialize

!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
                     f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
!smem = memref<1024xi32, #gpu.address_space<workgroup>>

func.func private @printMemrefI32(memref<*xi32>)
func.func private @qtrainTensorMap(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64

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
  %map = call @qtrainTensorMap(%address, %c4, %c2, %c4, %c4, %c1, %c16, %c0, %c4, %c2, %c0)
      : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64
  return %map : i64
}

// An 8 x 32 tensor of i32 (rows of 128 bytes), element (r, c) 100 r + c, and
// its tensor map: boxes of its 8 rows, swizzled in 128 bytes.
func.func private @hundreds_map() -> i64 {
  %t = memref.alloc() {alignment = 16 : i64} : memref<8x32xi32>
  %i0 = arith.constant 0 : index
  %i1 = arith.constant 1 : index
  %i8 = arith.constant 8 : index
  %i32 = arith.constant 32 : index
  %i100 = arith.constant 100 : index
  scf.for %r = %i0 to %i8 step %i1 {
    scf.for %c = %i0 to %i32 step %i1 {
      %r100 = arith.muli %r, %i100 : index
      %v = arith.addi %r100, %c : index
      %w = arith.index_cast %v : index to i32
      memref.store %w, %t[%r, %c] : memref<8x32xi32>
    }
  }
  %p = memref.extract_aligned_pointer_as_index %t : memref<8x32xi32> -> index
  %address = arith.index_castui %p : index to i64
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  %c32 = arith.constant 32 : i64
  %c128 = arith.constant 128 : i64
  %map = call @qtrainTensorMap(%address, %c4, %c2, %c32, %c8, %c1, %c128, %c0, %c32, %c8, %c128)
      : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64
  return %map : i64
}

// Copies the swizzled box to byte `at` of shared memory (its mbarrier at
// byte 3072) and prints rows 1 and 3 of it.
func.func private @copy_swizzled_to(%at: i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c96 = arith.constant 96 : index
  %map = call @hundreds_map() : () -> i64
  %out = memref.alloc() : memref<64xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : !smem) {
    %base = memref.extract_aligned_pointer_as_index %smem : !smem -> index
    %base64 = arith.index_castui %base : index to i64
    %c3072 = arith.constant 3072 : i64
    %dst64 = arith.addi %base64, %at : i64
    %bar64 = arith.addi %base64, %c3072 : i64
    %dst3 = llvm.inttoptr %dst64 : i64 to !llvm.ptr<3>
    %dst = llvm.addrspacecast %dst3 : !llvm.ptr<3> to !llvm.ptr<7>
    %bar = llvm.inttoptr %bar64 : i64 to !llvm.ptr<3>
    %desc = llvm.inttoptr %map : i64 to !llvm.ptr
    %one = arith.constant 1 : i32
    %bytes = arith.constant 1024 : i32
    %zero = arith.constant 0 : i32
    %ticks = arith.constant 10000000 : i32
    nvvm.mbarrier.init %bar, %one : !llvm.ptr<3>, i32
    nvvm.fence.mbarrier.init
    nvvm.mbarrier.arrive.expect_tx %bar, %bytes : !llvm.ptr<3>, i32
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst, %desc, %bar, box[%zero, %zero] : !llvm.ptr<7>, !llvm.ptr
    nvvm.mbarrier.try_wait.parity %bar, %zero, %ticks : !llvm.ptr<3>, i32, i32
    %at_index = arith.index_castui %at : i64 to index
    %c4 = arith.constant 4 : index
    %first = arith.divui %at_index, %c4 : index
    scf.for %i = %c0 to %c32 step %c1 {
      %row1 = arith.addi %first, %c32 : index
      %j1 = arith.addi %row1, %i : index
      %v1 = memref.load %smem[%j1] : !smem
      memref.store %v1, %out[%i] : memref<64xi32>
      %row3 = arith.addi %first, %c96 : index
      %j3 = arith.addi %row3, %i : index
      %v3 = memref.load %smem[%j3] : !smem
      %k3 = arith.addi %i, %c32 : index
      memref.store %v3, %out[%k3] : memref<64xi32>
    }
    gpu.terminator
  }
  %u = memref.cast %out : memref<64xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @swizzled_copy() {
  %c1024 = arith.constant 1024 : i64
  call @copy_swizzled_to(%c1024) : (i64) -> ()
  return
}

func.func @swizzled_copy_misaligned() {
  %c512 = arith.constant 512 : i64
  call @copy_swizzled_to(%c512) : (i64) -> ()
  return
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
