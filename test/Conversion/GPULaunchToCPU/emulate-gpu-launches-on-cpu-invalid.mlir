// RUN: qtrain-opt %s -split-input-file -emulate-gpu-launches-on-cpu -verify-diagnostics

// An MMA the emulator does not compute (m8n8k4) is an error, not a wrong
// result.
func.func @unknown_mma(%a: vector<2xf16>, %c: f32) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{cannot emulate llvm.nvvm.mma.m8n8k4.row.col.f32.f32}}
    %d = llvm.call_intrinsic "llvm.nvvm.mma.m8n8k4.row.col.f32.f32"(%a, %a, %c, %c, %c, %c, %c, %c, %c, %c)
        : (vector<2xf16>, vector<2xf16>, f32, f32, f32, f32, f32, f32, f32, f32)
        -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    gpu.terminator
  }
  return
}

// -----

func.func @unsupported_nvvm_op(%out: memref<32xi32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{'nvvm.read.ptx.sreg.laneid' op cannot be emulated on the CPU}}
    %lane = nvvm.read.ptx.sreg.laneid : i32
    memref.store %lane, %out[%tx] : memref<32xi32>
    gpu.terminator
  }
  return
}

// -----

func.func @async_launch() {
  %c1 = arith.constant 1 : index
  %token = gpu.wait async
  // expected-error @+1 {{cannot emulate asynchronous launches or clusters}}
  %done = gpu.launch async [%token]
             blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return
}

// -----

func.func @dynamic_shared_memory_of_unknown_size(%bytes: i32) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{cannot emulate dynamic shared memory of a non-constant size}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %bytes {
    gpu.terminator
  }
  return
}

// -----

// scale-d zero (D = A * B, the accumulators ignored) is not emulated.
!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
                     f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
func.func @wgmma_scale_zero(%descA: i64, %descB: i64, %init: !acc) {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xvector<4xi32>, #gpu.address_space<workgroup>>) {
    // expected-error @+1 {{cannot emulate this wgmma (K-major operands in workgroup memory, m64, scales of one only)}}
    %d = nvvm.wgmma.mma_async %descA, %descB, %init,
           #nvvm.shape<m = 64, n = 64, k = 32>,
           D [<f32>, #nvvm.wgmma_scale_out<zero>],
           A [<e4m3>, #nvvm.wgmma_scale_in<one>, <row>],
           B [<e4m3>, #nvvm.wgmma_scale_in<one>, <col>] : !acc -> !acc
    gpu.terminator
  }
  return
}

// -----

// Index elements have no size until lowered.
func.func @index_workgroup_buffer() {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{cannot emulate workgroup buffer of type 'memref<4xindex, #gpu.address_space<workgroup>>'}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%buf : memref<4xindex, #gpu.address_space<workgroup>>) {
    gpu.barrier
    gpu.terminator
  }
  return
}

// -----

func.func @host_memset(%buf: memref<16xf32>, %v: f32) {
  // expected-error @+1 {{'gpu.memset' op cannot be emulated on the CPU}}
  gpu.memset %buf, %v : memref<16xf32>, f32
  return
}

// -----

// ldmatrix of other shapes, element types or transposed: an error.
func.func @transposed_ldmatrix(%out: memref<32xi32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<256xi32, #gpu.address_space<workgroup>> -> index
    %at = arith.index_castui %base : index to i64
    %ptr = llvm.inttoptr %at : i64 to !llvm.ptr<3>
    // expected-error @+1 {{cannot emulate this ldmatrix (m8n8 b16 rows in workgroup memory only)}}
    %w = nvvm.ldmatrix %ptr {num = 1 : i32, layout = #nvvm.mma_layout<col>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>, eltType = #nvvm.ld_st_matrix_elt_type<b16>} : (!llvm.ptr<3>) -> i32
    memref.store %w, %out[%tx] : memref<32xi32>
    gpu.terminator
  }
  return
}

// -----

// mbarrier and TMA forms the kernels do not use: an error, not an
// approximation.
func.func @predicated_mbarrier_init(%p: i1) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<256xi32, #gpu.address_space<workgroup>> -> index
    %at = arith.index_castui %base : index to i64
    %bar = llvm.inttoptr %at : i64 to !llvm.ptr<3>
    %one = arith.constant 1 : i32
    // expected-error @+1 {{cannot emulate this form (no predicate but an arrival's, no arrival count or used result)}}
    nvvm.mbarrier.init %bar, %one, predicate = %p : !llvm.ptr<3>, i32, i1
    gpu.terminator
  }
  return
}

// -----

func.func @multicast_tma(%map: i64, %mask: i16) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<256xi32, #gpu.address_space<workgroup>> -> index
    %at = arith.index_castui %base : index to i64
    %bar = llvm.inttoptr %at : i64 to !llvm.ptr<3>
    %dst = llvm.inttoptr %at : i64 to !llvm.ptr<7>
    %desc = llvm.inttoptr %map : i64 to !llvm.ptr
    %zero = arith.constant 0 : i32
    // expected-error @+1 {{cannot emulate this TMA copy (tiles of 1 to 3 dimensions into one block's shared memory only)}}
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst, %desc, %bar, box[%zero, %zero] multicast_mask = %mask : !llvm.ptr<7>, !llvm.ptr
    gpu.terminator
  }
  return
}

// -----

// Shuffles of 32-bit values over whole warps only (qtrain's reductions').
func.func @narrow_shuffle(%x: f32) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %one = arith.constant 1 : i32
    %width = arith.constant 16 : i32
    // expected-error @+1 {{cannot emulate a shuffle but of 32-bit values over warps of 32 lanes}}
    %s, %v = gpu.shuffle xor %x, %one, %width : f32
    gpu.terminator
  }
  return
}
