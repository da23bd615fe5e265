// RUN: qtrain-opt %s -split-input-file -emulate-gpu-launches-on-cpu -cse | FileCheck %s
// RUN: qtrain-opt %s -split-input-file \
// RUN:   -emulate-gpu-launches-on-cpu=guard-device-memory=false -cse \
// RUN:   | FileCheck %s --check-prefix=UNGUARDED

// Threads that never meet run one after another: loops over the grid (z, y,
// x outermost to innermost) and over the block, ids from the loops.
// CHECK-LABEL: func.func @independent_threads
// CHECK-SAME:    (%[[OUT:.+]]: memref<?xindex>, %[[GRID:.+]]: index)
// CHECK-NOT:     gpu.
// CHECK:         scf.for %[[BZ:.+]] = %c0 to %c1 step %c1
// CHECK-NEXT:      scf.for %[[BY:.+]] = %c0 to %c1 step %c1
// CHECK-NEXT:        scf.for %[[BX:.+]] = %c0 to %[[GRID]] step %c1
// CHECK:               scf.for %[[TZ:.+]] = %c0 to %c1 step %c1
// CHECK-NEXT:            scf.for %[[TY:.+]] = %c0 to %c1 step %c1
// CHECK-NEXT:              scf.for %[[TX:.+]] = %c0 to %c64 step %c1
// CHECK-NEXT:                scf.execute_region {
// CHECK-NEXT:                  %[[BASE:.+]] = arith.muli %[[BX]], %c64
// CHECK-NEXT:                  %[[I:.+]] = arith.addi %[[BASE]], %[[TX]]
// CHECK-NEXT:                  memref.store %[[I]], %[[OUT]][%[[I]]]
// CHECK-NEXT:                  scf.yield
func.func @independent_threads(%out: memref<?xindex>, %grid: index) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %grid, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    memref.store %i, %out[%i] : memref<?xindex>
    gpu.terminator
  }
  return
}

// -----

// Threads that meet at barriers run at once, one OpenMP thread each, with
// the block's workgroup buffers carved from one allocation aligned to the
// 2^18-byte shared window (offsets 16-byte aligned; the first buffer,
// unused, goes), freed after the block.
// CHECK-LABEL: func.func @barrier
// CHECK:         scf.for %[[BX:.+]] = %c0 to %c4 step %c1
// CHECK:           %[[ARENA:.+]] = memref.alloc() {alignment = 262144 : i64} : memref<272xi8>
// CHECK:           %[[SECOND:.+]] = memref.view %[[ARENA]][%c16][] : memref<272xi8> to memref<64xf32>
// CHECK:           omp.parallel num_threads(%c64_i32 : i32) {
// CHECK:             %[[ID:.+]] = func.call @qtrain_emulate_thread_id(%c64_i64) : (i64) -> i64
// CHECK:             %[[TID:.+]] = arith.index_cast %[[ID]] : i64 to index
// CHECK:             %[[TX:.+]] = arith.remui %[[TID]], %c64
// CHECK:             scf.execute_region {
// CHECK:               memref.store %{{.+}}, %[[SECOND]][%[[TX]]]
// CHECK-NEXT:          omp.barrier
// CHECK:               memref.load %[[SECOND]]
// CHECK:               scf.yield
// CHECK:             omp.terminator
// CHECK-NOT:       memref.alloc
// CHECK:           memref.dealloc %[[ARENA]]
// CHECK:       func.func private @qtrain_emulate_thread_id(i64) -> i64
func.func @barrier(%out: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
             workgroup(%small : memref<3xf32, #gpu.address_space<workgroup>>,
                       %shared : memref<64xf32, #gpu.address_space<workgroup>>) {
    %v = arith.index_cast %tx : index to i32
    %f = arith.sitofp %v : i32 to f32
    memref.store %f, %shared[%tx] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %c63 = arith.constant 63 : index
    %j = arith.subi %c63, %tx : index
    %g = memref.load %shared[%j] : memref<64xf32, #gpu.address_space<workgroup>>
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    memref.store %g, %out[%i] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// Dynamic shared memory of a constant size follows the workgroup buffers
// in the block's arena, 16-byte aligned; views of it lose the workgroup
// address space, as the buffers do.
// CHECK-LABEL: func.func @dynamic_shared_memory
// CHECK:           %[[ARENA:.+]] = memref.alloc() {alignment = 262144 : i64} : memref<1040xi8>
// CHECK:           omp.parallel
// CHECK:               %[[DYNAMIC:.+]] = memref.view %[[ARENA]][%c16][%c1024] : memref<1040xi8> to memref<?xi8>
// CHECK-NEXT:          %[[WORDS:.+]] = memref.view %[[DYNAMIC]][%c0][] : memref<?xi8> to memref<256xi32>
// CHECK:               memref.store %{{.+}}, %[[WORDS]][%{{.+}}] : memref<256xi32>
// CHECK-NEXT:          omp.barrier
// CHECK:               memref.load %[[WORDS]][%{{.+}}] : memref<256xi32>
func.func @dynamic_shared_memory(%out: memref<256xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %bytes = arith.constant 1024 : i32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %bytes
             workgroup(%small : memref<3xf32, #gpu.address_space<workgroup>>) {
    %dynamic = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %words = memref.view %dynamic[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<256xi32, #gpu.address_space<workgroup>>
    %v = arith.index_cast %tx : index to i32
    memref.store %v, %words[%tx] : memref<256xi32, #gpu.address_space<workgroup>>
    gpu.barrier
    %c255 = arith.constant 255 : index
    %j = arith.subi %c255, %tx : index
    %w = memref.load %words[%j] : memref<256xi32, #gpu.address_space<workgroup>>
    memref.store %w, %out[%tx] : memref<256xi32>
    gpu.terminator
  }
  return
}

// -----

// Warp MMAs: each thread puts the 10 registers of each MMA (f16 pairs and
// f32 bits as i32) in its scratch row, 14 words an MMA, the block meets,
// the emulator computes each warp's D (m16n8k16, f16 x f16 into f32) from
// its rows, the block meets again, and D comes back from words 10-13 of
// each MMA's slot. Consecutive MMAs (with only extractions of their results
// between them) share the two barriers; the extractions move after them.
// CHECK-LABEL: func.func @mma_sync
// CHECK:         %[[SCRATCH:.+]] = memref.alloc(%c32, %c28) : memref<?x?xi32>
// CHECK:         omp.parallel
// CHECK:           %[[TID:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK:           %[[A0:.+]] = llvm.bitcast %{{.+}} : vector<2xf16> to i32
// CHECK:           memref.store %[[A0]], %[[SCRATCH]][%[[TID]], %c0]
// CHECK-COUNT-5:   memref.store %{{.+}}, %[[SCRATCH]][%[[TID]], %c{{[1-5]}}]
// CHECK:           %[[C0:.+]] = llvm.bitcast %{{.+}} : f32 to i32
// CHECK:           memref.store %[[C0]], %[[SCRATCH]][%[[TID]], %c6]
// CHECK-COUNT-3:   memref.store
// CHECK-NOT:       omp.barrier
// CHECK:           memref.store %{{.+}}, %[[SCRATCH]][%[[TID]], %c14]
// CHECK-COUNT-9:   memref.store
// CHECK-NEXT:      omp.barrier
// CHECK:           func.call @qtrain_emulate_mma_sync(%[[SCRATCH]], %{{.+}}, %c0_i64, %c16_i64, %c4_i64, %c4_i64, %c7_i64)
// CHECK:           func.call @qtrain_emulate_mma_sync(%[[SCRATCH]], %{{.+}}, %c14_i64, %c16_i64, %c4_i64, %c4_i64, %c7_i64)
// CHECK-NEXT:      omp.barrier
// CHECK:           memref.load %[[SCRATCH]][%[[TID]], %c10]
// CHECK:           memref.load %[[SCRATCH]][%[[TID]], %c24]
// CHECK:           llvm.extractvalue
// CHECK:           llvm.extractvalue
// CHECK-NOT:       llvm.call_intrinsic
// CHECK:       func.func private @qtrain_emulate_mma_sync(memref<?x?xi32>, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
func.func @mma_sync(%a: vector<2xf16>, %b: vector<2xf16>, %c: f32, %out: memref<32xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %d = llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"(%a, %a, %a, %a, %b, %b, %c, %c, %c, %c)
        : (vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, f32, f32, f32, f32)
        -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    %e = llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"(%b, %b, %b, %b, %a, %a, %c, %c, %c, %c)
        : (vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, f32, f32, f32, f32)
        -> !llvm.struct<(f32, f32, f32, f32)>
    %e0 = llvm.extractvalue %e[0] : !llvm.struct<(f32, f32, f32, f32)>
    %sum = arith.addf %d0, %e0 : f32
    memref.store %sum, %out[%tx] : memref<32xf32>
    gpu.terminator
  }
  return
}

// -----

// A warpgroup MMA reads shared memory through its descriptors: the emulator
// gets the shared window's base and size, the descriptors, n, k and the
// types (e4m3 x e5m2 into f32), and each thread's n / 2 accumulators in its
// row; the fences go, the commit and the wait track the shared memory the
// MMA reads (AsyncOperations.cpp), and each thread checks at the end that
// it waited for its MMAs.
// CHECK-LABEL: func.func @wgmma
// CHECK:         %[[ARENA:.+]] = memref.alloc() {alignment = 262144 : i64} : memref<4096xi8>
// CHECK:         memref.alloc(%c128, %c32) : memref<?x?xi32>
// CHECK:         omp.parallel
// CHECK-NOT:       nvvm.
// CHECK:           %[[PTR:.+]] = memref.extract_aligned_pointer_as_index %[[ARENA]]
// CHECK:           %[[BASE:.+]] = arith.index_cast %[[PTR]] : index to i64
// CHECK:           func.call @qtrain_emulate_wgmma(%{{.+}}, %{{.+}}, %[[BASE]], %c4096_i64, %{{.+}}, %{{.+}}, %c64_i64, %c32_i64, %c0_i64, %c1_i64, %c7_i64)
// CHECK:           func.call @qtrain_emulate_wgmma_commit() : () -> ()
// CHECK-NEXT:      func.call @qtrain_emulate_wgmma_wait(%c0_i64) : (i64) -> ()
// CHECK:           func.call @qtrain_emulate_async_exit() : () -> ()
// CHECK-NEXT:      scf.yield
// CHECK-NOT:       nvvm.
// CHECK:       func.func private @qtrain_emulate_wgmma(memref<?x?xi32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
                     f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
func.func @wgmma(%descA: i64, %descB: i64, %init: !acc, %out: memref<128xf32>) {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xvector<4xi32>, #gpu.address_space<workgroup>>) {
    nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
    gpu.barrier
    nvvm.wgmma.fence.aligned
    %d = nvvm.wgmma.mma_async %descA, %descB, %init,
           #nvvm.shape<m = 64, n = 64, k = 32>,
           D [<f32>, #nvvm.wgmma_scale_out<one>],
           A [<e4m3>, #nvvm.wgmma_scale_in<one>, <row>],
           B [<e5m2>, #nvvm.wgmma_scale_in<one>, <col>] : !acc -> !acc
    nvvm.wgmma.commit.group.sync.aligned
    nvvm.wgmma.wait.group.sync.aligned 0
    %d0 = llvm.extractvalue %d[0] : !acc
    memref.store %d0, %out[%tx] : memref<128xf32>
    gpu.terminator
  }
  return
}

// -----

// Consecutive ldmatrix ops share one exchange: each thread stores its row
// addresses (low and high words) in its scratch row, meets its block at a
// barrier, calls the emulator once an op (which takes the warp's lanes'
// addresses and writes the thread's words after them), meets it again and
// reads its words back.
// CHECK-LABEL: func.func @ldmatrix
// CHECK:         memref.alloc(%c32, %c12) : memref<?x?xi32>
// CHECK:         omp.parallel
// CHECK-NOT:       nvvm.
// CHECK:           %[[ADDRESS:.+]] = llvm.ptrtoint %{{.+}} : !llvm.ptr<3> to i64
// CHECK-NEXT:      %[[LOW:.+]] = arith.trunci %[[ADDRESS]] : i64 to i32
// CHECK:           memref.store %[[LOW]], %{{.+}}[%{{.+}}, %c0]
// CHECK:           memref.store %{{.+}}, %{{.+}}[%{{.+}}, %c3]
// CHECK-NEXT:      omp.barrier
// CHECK:           func.call @qtrain_emulate_ldmatrix(%{{.+}}, %{{.+}}, %c2_i64, %c0_i64, %c4_i64, %{{.+}}, %c4096_i64)
// CHECK:           func.call @qtrain_emulate_ldmatrix(%{{.+}}, %{{.+}}, %c2_i64, %c1_i64, %c4_i64, %{{.+}}, %c4096_i64)
// CHECK-NEXT:      omp.barrier
// CHECK:           memref.load %{{.+}}[%{{.+}}, %c4] : memref<?x?xi32>
// CHECK-NOT:       nvvm.
// CHECK:       func.func private @qtrain_emulate_ldmatrix(memref<?x?xi32>, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
func.func @ldmatrix(%out: memref<32xi32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<1024xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<1024xi32, #gpu.address_space<workgroup>> -> index
    %row = arith.muli %tx, %c4 : index
    %at = arith.addi %base, %row : index
    %at64 = arith.index_castui %at : index to i64
    %ptr = llvm.inttoptr %at64 : i64 to !llvm.ptr<3>
    %m0 = nvvm.ldmatrix %ptr {num = 4 : i32, layout = #nvvm.mma_layout<row>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>, eltType = #nvvm.ld_st_matrix_elt_type<b16>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
    %m1 = nvvm.ldmatrix %ptr {num = 4 : i32, layout = #nvvm.mma_layout<row>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>, eltType = #nvvm.ld_st_matrix_elt_type<b16>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
    %w0 = llvm.extractvalue %m0[0] : !llvm.struct<(i32, i32, i32, i32)>
    %w1 = llvm.extractvalue %m1[3] : !llvm.struct<(i32, i32, i32, i32)>
    %w = arith.addi %w0, %w1 : i32
    memref.store %w, %out[%tx] : memref<32xi32>
    gpu.terminator
  }
  return
}

// -----

// cp.async becomes the emulator's copy queue (AsyncOperations.cpp): each copy
// with its byte addresses, size and source size (the size itself where it
// has none), the commit group and the wait with its count; each thread
// checks at the end that it waited for all its copies.
// CHECK-LABEL: func.func @async_copies
// CHECK:         omp.parallel
// CHECK-NOT:       nvvm.
// CHECK:           %[[SIZE:.+]] = arith.extui %{{.+}} : i32 to i64
// CHECK-NEXT:      %[[DST:.+]] = llvm.ptrtoint %{{.+}} : !llvm.ptr<3> to i64
// CHECK-NEXT:      %[[SRC:.+]] = llvm.ptrtoint %{{.+}} : !llvm.ptr<1> to i64
// CHECK-NEXT:      func.call @qtrain_emulate_cp_async(%[[DST]], %[[SRC]], %c16_i64, %[[SIZE]]) : (i64, i64, i64, i64) -> ()
// CHECK:           func.call @qtrain_emulate_cp_async(%{{.+}}, %{{.+}}, %c8_i64, %c8_i64)
// CHECK-NEXT:      func.call @qtrain_emulate_cp_async_commit() : () -> ()
// CHECK:           func.call @qtrain_emulate_cp_async_wait(%c0_i64) : (i64) -> ()
// CHECK:           func.call @qtrain_emulate_async_exit() : () -> ()
// CHECK-NEXT:      scf.yield
// CHECK-NOT:       nvvm.
func.func @async_copies(%src: !llvm.ptr<1>, %size: i32) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<128xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<128xi32, #gpu.address_space<workgroup>> -> index
    %address = arith.index_castui %base : index to i64
    %dst = llvm.inttoptr %address : i64 to !llvm.ptr<3>
    nvvm.cp.async.shared.global %dst, %src, 16, cache = cg, %size : !llvm.ptr<3>, !llvm.ptr<1>, i32
    nvvm.cp.async.shared.global %dst, %src, 8, cache = ca : !llvm.ptr<3>, !llvm.ptr<1>
    nvvm.cp.async.commit.group
    nvvm.cp.async.wait.group 0
    gpu.barrier
    gpu.terminator
  }
  return
}

// -----

// Host code: managed buffers are host buffers, registered with the guard
// (open to the host: device=false), and the waits and async tokens go. A
// copy is device code (host code may not touch device memory).
// CHECK-LABEL: func.func @managed_memory
// CHECK-NEXT:    %[[BUF:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT:    %[[ADDRESS:.+]] = memref.extract_aligned_pointer_as_index %[[BUF]]
// CHECK-NEXT:    %[[ADDRESS64:.+]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK-NEXT:    %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-NEXT:    %[[FALSE:.+]] = arith.constant false
// CHECK-NEXT:    call @qtrain_emulate_gpu_alloc(%[[ADDRESS64]], %[[ZERO]], %[[FALSE]])
// CHECK-NEXT:    call @qtrain_emulate_device_begin()
// CHECK-NEXT:    memref.copy %{{.+}}, %[[BUF]]
// CHECK-NEXT:    call @qtrain_emulate_device_end()
// CHECK-NEXT:    call @qtrain_emulate_gpu_free(%[[ADDRESS64]])
// CHECK-NEXT:    memref.dealloc %[[BUF]]
// CHECK-NEXT:    return
// UNGUARDED-LABEL: func.func @managed_memory
// UNGUARDED-NEXT:    %[[BUF:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// UNGUARDED-NEXT:    memref.copy %{{.+}}, %[[BUF]]
// UNGUARDED-NEXT:    memref.dealloc %[[BUF]]
// UNGUARDED-NEXT:    return
func.func @managed_memory(%n: index, %src: memref<?xf32>) {
  %buf = gpu.alloc host_shared (%n) : memref<?xf32>
  gpu.memcpy %buf, %src : memref<?xf32>, memref<?xf32>
  %stream = gpu.wait async
  %freed = gpu.dealloc async [%stream] %buf : memref<?xf32>
  gpu.wait [%freed]
  return
}

// -----

// Device buffers: whole pages of their own (at least one), page-aligned,
// registered with the guard, which closes them to host code; kernels open
// them.
// CHECK-LABEL: func.func @device_memory
// CHECK-SAME:    (%[[N:.+]]: index)
// CHECK:         %[[BYTES:.+]] = arith.muli %c8, %[[N]]
// CHECK:         %[[PLUS:.+]] = arith.addi %[[BYTES]], %c4096
// CHECK-NEXT:    %[[PAGES:.+]] = arith.divui %[[PLUS]], %c4096
// CHECK-NEXT:    %[[ROUNDED:.+]] = arith.muli %[[PAGES]], %c4096
// CHECK-NEXT:    %[[RAW:.+]] = memref.alloc(%[[ROUNDED]]) {alignment = 4096 : i64} : memref<?xi8>
// CHECK-NEXT:    %[[ADDRESS:.+]] = memref.extract_aligned_pointer_as_index %[[RAW]]
// CHECK-NEXT:    %[[ADDRESS64:.+]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK-NEXT:    %[[ROUNDED64:.+]] = arith.index_cast %[[ROUNDED]] : index to i64
// CHECK-NEXT:    %[[TRUE:.+]] = arith.constant true
// CHECK-NEXT:    call @qtrain_emulate_gpu_alloc(%[[ADDRESS64]], %[[ROUNDED64]], %[[TRUE]])
// CHECK:         %[[BUF:.+]] = memref.view %[[RAW]][%c0][%[[N]]] : memref<?xi8> to memref<?xi64>
// CHECK-NEXT:    call @qtrain_emulate_device_begin()
// CHECK:           memref.store %{{.+}}, %[[BUF]]
// CHECK:         call @qtrain_emulate_device_end()
// CHECK:         call @qtrain_emulate_gpu_free
// CHECK-NEXT:    memref.dealloc %[[BUF]]
// UNGUARDED-LABEL: func.func @device_memory
// UNGUARDED-NOT:   call
// UNGUARDED:       memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xi64>
// UNGUARDED-NOT:   call
// UNGUARDED:       return
func.func @device_memory(%n: index) {
  %c1 = arith.constant 1 : index
  %stream = gpu.wait async
  %buf, %made = gpu.alloc async [%stream] (%n) : memref<?xi64>
  gpu.wait [%made]
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = arith.constant 7 : i64
    memref.store %v, %buf[%tx] : memref<?xi64>
    gpu.terminator
  }
  %s2 = gpu.wait async
  %freed = gpu.dealloc async [%s2] %buf : memref<?xi64>
  gpu.wait [%freed]
  return
}

// -----

// Host code's own frees are checked not to free a GPU buffer.
// CHECK-LABEL: func.func @host_free
// CHECK-NEXT:    %[[BUF:.+]] = memref.alloc()
// CHECK-NEXT:    %[[ADDRESS:.+]] = memref.extract_aligned_pointer_as_index %[[BUF]]
// CHECK-NEXT:    %[[ADDRESS64:.+]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK-NEXT:    call @qtrain_emulate_host_free(%[[ADDRESS64]])
// CHECK-NEXT:    memref.dealloc %[[BUF]]
// UNGUARDED-LABEL: func.func @host_free
// UNGUARDED-NEXT:    memref.alloc()
// UNGUARDED-NEXT:    memref.dealloc
func.func @host_free() {
  %buf = memref.alloc() : memref<4xf32>
  memref.dealloc %buf : memref<4xf32>
  return
}

// -----

// mbarrier operations and TMA copies become calls into the emulator
// library with i64 operands (addresses, sign-extended coordinates), a
// predicated arrival a call in an scf.if; the mbarrier-init fence goes.
// CHECK-LABEL: func.func @mbarriers_and_tma
// CHECK:         omp.parallel
// CHECK:           func.call @qtrain_emulate_mbarrier_init(%[[BAR:.+]], %{{.+}}) : (i64, i64) -> ()
// CHECK-NOT:       fence
// CHECK:           func.call @qtrain_emulate_mbarrier_arrive_expect_tx(%[[BAR]], %{{.+}}) : (i64, i64) -> ()
// CHECK:           %[[ROW:.+]] = arith.extsi %c3_i32 : i32 to i64
// CHECK:           func.call @qtrain_emulate_tma_load(%{{.+}}, %{{.+}}, %[[BAR]], %c2_i64, %{{.+}}, %[[ROW]], %c0_i64) : (i64, i64, i64, i64, i64, i64, i64) -> ()
// CHECK:           func.call @qtrain_emulate_mbarrier_wait(%[[BAR]], %{{.+}}) : (i64, i64) -> ()
// CHECK:           scf.if %{{.+}} {
// CHECK-NEXT:        func.call @qtrain_emulate_mbarrier_arrive_expect_tx(%[[BAR]], %{{.+}}) : (i64, i64) -> ()
// CHECK-NEXT:      }
// CHECK:           func.call @qtrain_emulate_mbarrier_arrive(%[[BAR]]) : (i64) -> ()
func.func @mbarriers_and_tma(%map: i64, %p: i1) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<256xi32, #gpu.address_space<workgroup>>) {
    %base = memref.extract_aligned_pointer_as_index %smem : memref<256xi32, #gpu.address_space<workgroup>> -> index
    %at = arith.index_castui %base : index to i64
    %bar = llvm.inttoptr %at : i64 to !llvm.ptr<3>
    %dst = llvm.inttoptr %at : i64 to !llvm.ptr<7>
    %desc = llvm.inttoptr %map : i64 to !llvm.ptr
    %one = arith.constant 1 : i32
    %zero = arith.constant 0 : i32
    %row = arith.constant 3 : i32
    %bytes = arith.constant 64 : i32
    %ticks = arith.constant 10000000 : i32
    nvvm.mbarrier.init %bar, %one : !llvm.ptr<3>, i32
    nvvm.fence.mbarrier.init
    nvvm.mbarrier.arrive.expect_tx %bar, %bytes : !llvm.ptr<3>, i32
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst, %desc, %bar, box[%zero, %row] : !llvm.ptr<7>, !llvm.ptr
    nvvm.mbarrier.try_wait.parity %bar, %zero, %ticks : !llvm.ptr<3>, i32, i32
    nvvm.mbarrier.arrive.expect_tx %bar, %zero, predicate = %p : !llvm.ptr<3>, i32, i1
    nvvm.mbarrier.arrive %bar : !llvm.ptr<3>
    gpu.terminator
  }
  return
}
