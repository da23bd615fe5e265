// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma=tma-loads=false -canonicalize -cse | FileCheck %s
// Wide tiles (128 columns, 128 rows) are for GEMMs with a tile for each
// multiprocessor; with multiprocessors=1, small GEMMs take them too.
// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma="tma-loads=false multiprocessors=1" -canonicalize -cse \
// RUN:   | FileCheck %s --check-prefix=WIDE
// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma="two-warpgroups=false tma-loads=false multiprocessors=1" -canonicalize -cse \
// RUN:   | FileCheck %s --check-prefix=ONE-WARPGROUP
// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma="shared-memory-bytes=49152 tma-loads=false multiprocessors=1" -canonicalize -cse \
// RUN:   | FileCheck %s --check-prefix=STATIC
// By default, operands whose tiles are boxes of a tensor are copied by TMA.
// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma -canonicalize -cse \
// RUN:   | FileCheck %s --check-prefix=TMA
// The shared memory must hold four stages of the narrowest tiles' chunks,
// and sm_90 has no more than 227 KiB a block.
// RUN: not qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma=shared-memory-bytes=4096 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TOO-LITTLE
// RUN: not qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma=shared-memory-bytes=240000 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TOO-MUCH
// TOO-LITTLE: error: shared-memory-bytes must be within [49152, 232448] (sm_90a's shared memory a block), not 4096
// TOO-MUCH: error: shared-memory-bytes must be within [49152, 232448] (sm_90a's shared memory a block), not 240000

// FP8 x FP8 into f32, both operands' k contiguous and K a multiple of 16
// bytes: cp.async copies each 16-byte row of the tiles whole. One
// warpgroup a 64x64 tile (N < 128, M < 128). By default, k-steps of four
// 32-byte chunks (four m64n64k32 wgmmas, 16 KiB) in five stages (K = 384:
// three steps, + 2) of dynamic shared memory, 80 KiB, viewed as i32 words.
// Each thread copies a row of A and of B per chunk, eight a step. Steps 0
// to 2 are copied before the loop; step i waits for its group (two younger
// may be in flight), issues its wgmmas and copies step i + 3.
// CHECK-LABEL: func.func @fp8_nt
// CHECK-DAG:     %[[STAGE_STEP:.+]] = arith.constant 1024 : i64
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c81920_i32 {
// CHECK:           %[[DYNAMIC:.+]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK-NEXT:      %[[SMEM:.+]] = memref.view %[[DYNAMIC]][%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<20480xi32, #gpu.address_space<workgroup>>
// CHECK:           memref.extract_aligned_pointer_as_index %[[SMEM]]
// CHECK-COUNT-8:   nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-COUNT-8:   nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-COUNT-8:   nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-NOT:       nvvm.cp.async
// CHECK:           scf.for %{{.+}} = %c0 to %c384 step %c128 iter_args(
// CHECK:             nvvm.cp.async.wait.group 2
// CHECK-NEXT:        nvvm.fence.proxy
// CHECK-NEXT:        gpu.barrier
// CHECK:             arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// CHECK-COUNT-4:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 32>
// CHECK-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// CHECK-COUNT-8:     nvvm.cp.async.shared.global
// CHECK-NEXT:        nvvm.cp.async.commit.group
// CHECK-NEXT:        nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT:        scf.yield
// CHECK-COUNT-16:  vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
// With 48 KiB of shared memory (shared-memory-bytes=49152), a block's
// static shared memory: k-steps of two 32-byte chunks (two m64n64k32
// wgmmas) in six stages of 2 x 4 KiB (i32 words). The no-swizzle
// descriptors hold the leading (128 bytes, 8 << 16) and stride (256 bytes,
// 16 << 32) byte offsets; B's tile starts 2048 bytes after A's, each chunk
// 4096 bytes (256 in the descriptor) after the one before. Each thread
// copies a row of A and of B per chunk, from the operands' aligned
// pointers (zero-filled past M, N or K: a source size of 0). Steps 0 to 3
// are copied before the loop, one commit group each; step i waits for its
// group (three younger may be in flight), fences the async proxy, meets
// the others at a barrier, issues its wgmmas on the accumulators (zero at
// first), copies step i + 4 into stage (i + 4) % 6 and waits for step i -
// 1's wgmmas. C is added to the sums after the loop.
// STATIC-LABEL: func.func @fp8_nt
// STATIC-DAG:     %[[OFFSETS:.+]] = arith.constant 68720001024 : i64
// STATIC-DAG:     %[[B_OFFSET:.+]] = arith.constant 2048 : i64
// STATIC-DAG:     %[[STAGE_STEP:.+]] = arith.constant 512 : i64
// STATIC-DAG:     %[[CHUNK_STEP:.+]] = arith.constant 256 : i64
// STATIC-DAG:     %[[ZEROS:.+]] = llvm.mlir.zero : !llvm.struct<(f32, {{.+}})>
// STATIC:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) workgroup(%[[SMEM:.+]] : memref<12288xi32, #gpu.address_space<workgroup>>)
// STATIC-NOT:       memref<64x96xf32>
// STATIC:           %[[PTR:.+]] = memref.extract_aligned_pointer_as_index %[[SMEM]]
// STATIC:           %[[BASE:.+]] = arith.index_castui %[[PTR]] : index to i64
// STATIC:           %[[A_ENC:.+]] = arith.shrui %{{.+}}, %c4_i64
// STATIC:           %[[DESC_A:.+]] = arith.ori %[[A_ENC]], %[[OFFSETS]]
// STATIC:           %[[B_ADDR:.+]] = arith.addi %[[BASE]], %[[B_OFFSET]]
// STATIC:           %[[DESC_B:.+]] = arith.ori %{{.+}}, %[[OFFSETS]]
// STATIC:           memref.extract_aligned_pointer_as_index %{{.+}} : memref<64x384xf8E4M3FN>
// STATIC:           memref.extract_aligned_pointer_as_index %{{.+}} : memref<96x384xf8E5M2>
// STATIC:           %[[DST:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr<3>
// STATIC:           %[[GENERIC:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr
// STATIC-NEXT:      %[[SRC:.+]] = llvm.addrspacecast %[[GENERIC]] : !llvm.ptr to !llvm.ptr<1>
// STATIC-NEXT:      %[[IN_RANGE:.+]] = arith.andi
// STATIC-NEXT:      %[[SIZE:.+]] = arith.select %[[IN_RANGE]], %c16_i32, %c0_i32 : i32
// STATIC-NEXT:      nvvm.cp.async.shared.global %[[DST]], %[[SRC]], 16, cache =  cg, %[[SIZE]] : !llvm.ptr<3>, !llvm.ptr<1>, i32
// STATIC-COUNT-3:   nvvm.cp.async.shared.global
// STATIC-NEXT:      nvvm.cp.async.commit.group
// STATIC-COUNT-4:   nvvm.cp.async.shared.global
// STATIC-NEXT:      nvvm.cp.async.commit.group
// STATIC-COUNT-4:   nvvm.cp.async.shared.global
// STATIC-NEXT:      nvvm.cp.async.commit.group
// STATIC-COUNT-4:   nvvm.cp.async.shared.global
// STATIC-NEXT:      nvvm.cp.async.commit.group
// STATIC-NOT:       nvvm.cp.async
// STATIC:           %[[ACC_OUT:.+]] = scf.for %{{.+}} = %c0 to %c384 step %c64 iter_args(%[[ACC:.+]] = %[[ZEROS]])
// STATIC:             nvvm.cp.async.wait.group 3
// STATIC-NEXT:        nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// STATIC-NEXT:        gpu.barrier
// STATIC:             %[[OFFSET0:.+]] = arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// STATIC-NEXT:        nvvm.wgmma.fence.aligned
// STATIC-NEXT:        %[[A0:.+]] = arith.addi %[[DESC_A]], %[[OFFSET0]]
// STATIC-NEXT:        %[[B0:.+]] = arith.addi %[[DESC_B]], %[[OFFSET0]]
// STATIC-NEXT:        %[[D0:.+]] = nvvm.wgmma.mma_async %[[A0]], %[[B0]], %[[ACC]], <m = 64, n = 64, k = 32>, D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e5m2>, <one>, <col>]
// STATIC-NEXT:        %[[A1:.+]] = arith.addi %[[A0]], %[[CHUNK_STEP]] : i64
// STATIC-NEXT:        %[[B1:.+]] = arith.addi %[[B0]], %[[CHUNK_STEP]] : i64
// STATIC-NEXT:        %[[D1:.+]] = nvvm.wgmma.mma_async %[[A1]], %[[B1]], %[[D0]], <m = 64, n = 64, k = 32>
// STATIC-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// STATIC-COUNT-4:     nvvm.cp.async.shared.global
// STATIC-NEXT:        nvvm.cp.async.commit.group
// STATIC-NEXT:        nvvm.wgmma.wait.group.sync.aligned 1
// STATIC-NEXT:        scf.yield %[[D1]]
// STATIC:           nvvm.wgmma.wait.group.sync.aligned 0
// STATIC-NEXT:      nvvm.cp.async.wait.group 0
// STATIC-NEXT:      %[[SUM0:.+]] = llvm.extractvalue %[[ACC_OUT]][0]
// STATIC:           %[[PAIR:.+]] = vector.from_elements %[[SUM0]], %{{.+}} : vector<2xf32>
// STATIC-NEXT:      %[[PRIOR:.+]] = vector.load %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// STATIC-NEXT:      %[[TOTAL:.+]] = arith.addf %[[PRIOR]], %[[PAIR]] : vector<2xf32>
// STATIC-NEXT:      vector.store %[[TOTAL]], %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// STATIC-COUNT-15:  vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
// STATIC-NOT:     linalg.generic
// With TMA (the default; 81 KiB of shared memory leave room for two blocks
// a multiprocessor: a block a tile): host code makes a tensor map of each operand
// (address, 1-byte elements, 2 dimensions: K and the rows, a row 384 bytes
// apart; boxes of 128 x 64, swizzled in 128 bytes), passed to the kernel.
// A block is the consumer
// warpgroup and a producer warp (160 threads); the five stages and ten
// mbarriers (a full one of count 1 and an empty one of count 128 a stage)
// take 80 KiB + 1152 bytes. Thread 0 initializes the mbarriers; after a
// barrier, the consumers wait for stage i % 5's full mbarrier, issue four
// wgmmas (descriptors: the 128-byte swizzle, 1 << 62; stride byte offset
// 1024 = 8 rows x 128 bytes, 64 << 32; the unused leading one 16, 1 << 16;
// chunks 32 bytes, 2 in the descriptor, apart), wait for step i - 1's and
// release its stage (an arrival predicated on i > 0); the producer thread
// waits for its stage's empty mbarrier (parity (i / 5 + 1) % 2), expects
// 16 KiB on the full one and issues 2 TMA copies, A's and B's.
// TMA-LABEL: func.func private @qtrainTensorMap(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64 attributes {qtrain.host_only}
// TMA-LABEL: func.func @fp8_nt
// TMA:         %[[A_MAP:.+]] = call @qtrainTensorMap(%{{.+}}, %c1_i64, %c2_i64, %c384_i64, %c64_i64, %c1_i64, %c384_i64, %c0_i64, %c128_i64, %c64_i64, %c128_i64)
// TMA:         %[[B_MAP:.+]] = call @qtrainTensorMap(%{{.+}}, %c1_i64, %c2_i64, %c384_i64, %c96_i64, %c1_i64, %c384_i64, %c0_i64, %c128_i64, %c64_i64, %c128_i64)
// TMA:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c160, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c83072_i32 {
// TMA:           %[[ALIGNED:.+]] = arith.andi %{{.+}}, %c-1024_i64 : i64
// TMA:           arith.ori %{{.+}}, %c4611686293305360384_i64 : i64
// TMA:           arith.ori %{{.+}}, %c4611686293305360384_i64 : i64
// TMA:           %[[FIRST:.+]] = arith.cmpi eq, %[[TX]], %c0 : index
// TMA-NEXT:      scf.if %[[FIRST]] {
// TMA-COUNT-5:     nvvm.mbarrier.init %{{.+}}, %c1_i32
// TMA-NEXT:        arith.addi
// TMA-NEXT:        llvm.inttoptr
// TMA-NEXT:        nvvm.mbarrier.init %{{.+}}, %c128_i32
// TMA-NEXT:        nvvm.fence.mbarrier.init
// TMA-NEXT:      }
// TMA-NEXT:      gpu.barrier
// TMA-NEXT:      %[[CONSUMER:.+]] = arith.cmpi ult, %[[TX]], %c128 : index
// TMA-NEXT:      scf.if %[[CONSUMER]] {
// TMA:             scf.for %{{.+}} = %c0 to %c384 step %c128 iter_args(
// TMA:               nvvm.mbarrier.try_wait.parity %{{.+}}, %{{.+}}, %c10000000_i32
// TMA:               nvvm.wgmma.fence.aligned
// TMA-COUNT-4:       nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 32>
// TMA-NEXT:          nvvm.wgmma.commit.group.sync.aligned
// TMA-NEXT:          nvvm.wgmma.wait.group.sync.aligned 1
// TMA:               %[[LATER:.+]] = arith.cmpi ugt, %{{.+}}, %c0 : index
// TMA-NEXT:          nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c0_i32, predicate = %[[LATER]]
// TMA-NEXT:          scf.yield
// TMA:             nvvm.wgmma.wait.group.sync.aligned 0
// TMA-COUNT-16:    vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
// TMA:           } else {
// TMA-NEXT:        %[[PRODUCER:.+]] = arith.cmpi eq, %[[TX]], %c128 : index
// TMA-NEXT:        scf.if %[[PRODUCER]] {
// TMA-NEXT:          scf.for %{{.+}} = %c0 to %c384 step %c128 {
// TMA:                 nvvm.mbarrier.try_wait.parity
// TMA:                 nvvm.mbarrier.arrive.expect_tx %[[FULL:.+]], %c16384_i32
// TMA:                 %[[A_DESC:.+]] = llvm.inttoptr %[[A_MAP]] : i64 to !llvm.ptr
// TMA-NEXT:            nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[A_DESC]], %[[FULL]], box[%{{.+}}, %{{.+}}] : !llvm.ptr<7>, !llvm.ptr
// TMA:                 %[[B_DESC:.+]] = llvm.inttoptr %[[B_MAP]] : i64 to !llvm.ptr
// TMA-NEXT:            nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[B_DESC]], %[[FULL]], box[%{{.+}}, %{{.+}}] : !llvm.ptr<7>, !llvm.ptr
// TMA-NOT:             nvvm.cp.async.bulk.tensor
// TMA:                 scf.yield
func.func @fp8_nt(%a: memref<64x384xf8E4M3FN>, %b: memref<96x384xf8E5M2>, %c: memref<64x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x384xf8E4M3FN>, memref<96x384xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Other operands are staged through registers: here K = 200 is no multiple
// of 16 bytes (a row may be partly past K). Two stages of two 4 KiB chunks
// (two wgmmas a k-step): step 0's tiles go into stage 0 before the loop;
// each step then issues its two m64n64k32 wgmmas on stage k / 64 % 2,
// loads the next step's tiles (each thread one 16-byte row of A and of B
// per chunk, read 4 codes at a time, bounds-checked) while they run,
// stores them into the other stage, waits for the wgmmas and meets the
// others at one barrier.
// CHECK-LABEL: func.func @fp8_nt_odd_k
// CHECK-DAG:     %[[STAGE_STEP:.+]] = arith.constant 512 : i64
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) workgroup(%[[SMEM:.+]] : memref<4096xi32, #gpu.address_space<workgroup>>)
// CHECK-NOT:       nvvm.cp.async
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x200xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<96x200xf8E5M2>, vector<4xf8E5M2>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x200xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<96x200xf8E5M2>, vector<4xf8E5M2>
// CHECK-COUNT-4:   vector.store %{{.+}}, %[[SMEM]][%{{.+}}] {alignment = 16 : i64} : memref<4096xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// CHECK-NEXT:      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT:      gpu.barrier
// CHECK:           scf.for %{{.+}} = %c0 to %c200 step %c64 iter_args(%[[ACC:.+]] = %{{.+}}) -> (!llvm.struct<(f32, {{.+}})>)
// CHECK:             %[[OFFSET:.+]] = arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// CHECK-NEXT:        nvvm.wgmma.fence.aligned
// CHECK:             %[[D0:.+]] = nvvm.wgmma.mma_async %{{.+}}, %{{.+}}, %[[ACC]], <m = 64, n = 64, k = 32>, D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e5m2>, <one>, <col>]
// CHECK:             %[[D1:.+]] = nvvm.wgmma.mma_async %{{.+}}, %{{.+}}, %[[D0]], <m = 64, n = 64, k = 32>
// CHECK-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// CHECK:             scf.if
// CHECK-COUNT-16:      vector.load
// CHECK-COUNT-4:       vector.store %{{.+}}, %[[SMEM]]
// CHECK-NEXT:          nvvm.fence.proxy
// CHECK-NEXT:        {{^ *}}}{{$}}
// CHECK-NEXT:        nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:        scf.yield %[[D1]]
// CHECK-COUNT-16:  vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
func.func @fp8_nt_odd_k(%a: memref<64x200xf8E4M3FN>, %b: memref<96x200xf8E5M2>, %c: memref<64x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x200xf8E4M3FN>, memref<96x200xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// N >= 128: 64x128 tiles, m64n128k32 on 64 accumulators a thread, two
// rows of B's tile a thread (8 core-matrix rows = 128 chunks apart),
// chunks of 128 + 256 16-byte rows (6 KiB, 384 in the descriptor), steps
// of four (24 KiB, 1536), four stages (K = 192: two steps, + 2), 96 KiB of
// dynamic shared memory. Three copies a chunk, twelve a step.
// WIDE-LABEL: func.func @fp8_wide
// WIDE-DAG:     %[[STAGE_STEP:.+]] = arith.constant 1536 : i64
// WIDE-DAG:     %[[CHUNK_STEP:.+]] = arith.constant 384 : i64
// WIDE:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c2, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c98304_i32
// WIDE:           memref.view %{{.+}}[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<24576xi32, #gpu.address_space<workgroup>>
// WIDE-COUNT-12:  nvvm.cp.async.shared.global
// WIDE-NEXT:      nvvm.cp.async.commit.group
// WIDE-COUNT-12:  nvvm.cp.async.shared.global
// WIDE-NEXT:      nvvm.cp.async.commit.group
// WIDE:           scf.for %{{.+}} = %c0 to %c192 step %c128
// WIDE:             nvvm.cp.async.wait.group 1
// WIDE:             arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// WIDE:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>, D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// WIDE-NEXT:        arith.addi %{{.+}}, %[[CHUNK_STEP]] : i64
// WIDE-COUNT-3:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
// WIDE-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// WIDE-COUNT-12:    nvvm.cp.async.shared.global
// WIDE-COUNT-32:  vector.store %{{.+}} : memref<100x200xf32>, vector<2xf32>
// With a tile for each of 132 multiprocessors only where they are 64x64
// (a small GEMM, as a training step's): four blocks, each thread's
// epilogue 32 elements.
// CHECK-LABEL: func.func @fp8_wide
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c4, %{{.+}} = %c2, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-COUNT-4:   nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 32>
// CHECK-COUNT-16:  vector.store %{{.+}} : memref<100x200xf32>, vector<2xf32>
// CHECK-NOT:       vector.store
func.func @fp8_wide(%a: memref<100x192xf8E4M3FN>, %b: memref<200x192xf8E4M3FN>, %c: memref<100x200xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<100x192xf8E4M3FN>, memref<200x192xf8E4M3FN>) outs(%c : memref<100x200xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// M >= 128 with cp.async: 128x128 tiles of two warpgroups (256 threads),
// which share B's chunk; warpgroup w's A descriptor starts 64w rows (2048
// bytes, 128 in the descriptor) into A's tile, and its rows of the output
// 64w on. Chunks of 256 + 256 rows (8 KiB): by default four stages of
// four (K = 192: two steps, + 2), 128 KiB; each thread copies one row of
// A's chunk and one of B's.
// WIDE-LABEL: func.func @fp8_two_warpgroups
// WIDE-DAG:     %[[WARPGROUP_ROWS:.+]] = arith.constant 2048 : i64
// WIDE:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, %{{.+}} = %c2, %{{.+}} = %c1) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c131072_i32
// WIDE:           %[[WARPGROUP:.+]] = arith.divui %[[TX]], %c128 : index
// WIDE:           %[[WG64:.+]] = arith.index_castui %[[WARPGROUP]] : index to i64
// WIDE-NEXT:      %[[A_ROWS:.+]] = arith.muli %[[WG64]], %[[WARPGROUP_ROWS]] : i64
// WIDE-NEXT:      %[[A_ADDR:.+]] = arith.addi %{{.+}}, %[[A_ROWS]] : i64
// WIDE-COUNT-8:   nvvm.cp.async.shared.global
// WIDE-NEXT:      nvvm.cp.async.commit.group
// WIDE:           scf.for %{{.+}} = %c0 to %c192 step %c128
// WIDE:             nvvm.cp.async.wait.group 1
// A stage is 32 KiB, 2048 in the descriptor too.
// WIDE:             arith.muli %{{.+}}, %[[WARPGROUP_ROWS]] : i64
// WIDE-COUNT-4:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
// WIDE-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// WIDE-COUNT-8:     nvvm.cp.async.shared.global
// WIDE:           arith.muli %[[WARPGROUP]], %c64 : index
// WIDE-COUNT-32:  vector.store %{{.+}} : memref<256x128xf32>, vector<2xf32>
// With 132 multiprocessors, 64x64 tiles of one warpgroup (8 blocks).
// CHECK-LABEL: func.func @fp8_two_warpgroups
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c4, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-COUNT-4:   nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 32>
// With 48 KiB, six stages of one chunk (one wgmma a step).
// STATIC-LABEL: func.func @fp8_two_warpgroups
// STATIC:         gpu.launch {{.+}} in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1) workgroup(%{{.+}} : memref<12288xi32, #gpu.address_space<workgroup>>)
// STATIC-COUNT-2:   nvvm.cp.async.shared.global
// STATIC-NEXT:      nvvm.cp.async.commit.group
// STATIC:           scf.for %{{.+}} = %c0 to %c192 step %c32
// STATIC:             nvvm.cp.async.wait.group 3
// STATIC:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
// STATIC-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// With two-warpgroups=false: 64x128 tiles of one warpgroup, four chunks a
// step in four stages.
// ONE-WARPGROUP-LABEL: func.func @fp8_two_warpgroups
// ONE-WARPGROUP:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, %{{.+}} = %c4, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c98304_i32
// ONE-WARPGROUP:           nvvm.cp.async.wait.group 1
// ONE-WARPGROUP-COUNT-4:   nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
func.func @fp8_two_warpgroups(%a: memref<256x192xf8E4M3FN>, %b: memref<128x192xf8E4M3FN>, %c: memref<256x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x192xf8E4M3FN>, memref<128x192xf8E4M3FN>) outs(%c : memref<256x128xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Fewer than 128 columns: one warpgroup, however many rows. Two
// warpgroups' 256 threads copy 128 rows of B's chunk a pass, and a 64-row
// tile is half a pass (B's tile went uncopied).
// WIDE-LABEL: func.func @fp8_narrow_two_warpgroups
// WIDE:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, %{{.+}} = %c4, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1)
// WIDE-COUNT-4:   nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 32>
func.func @fp8_narrow_two_warpgroups(%a: memref<256x192xf8E4M3FN>, %b: memref<48x192xf8E4M3FN>, %c: memref<256x48xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x192xf8E4M3FN>, memref<48x192xf8E4M3FN>) outs(%c : memref<256x48xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Large GEMMs (132 tiles, one for each of H100's multiprocessors) take
// 128x256 tiles: m64n256k32 on 128 accumulators a thread, chunks of 384 +
// 768 rows (12 KiB), four stages of four (192 KiB); three copies a chunk.
// CHECK-LABEL: func.func @fp8_wide_tiles
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c11, %{{.+}} = %c12, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c196608_i32
// Consecutive blocks take the tiles in groups of eight rows of tiles (88
// tiles, the last group four rows), down each column of tiles in turn.
// CHECK:           %[[GROUP:.+]] = arith.divui %{{.+}}, %c88 : index
// CHECK-NEXT:      %[[FIRST:.+]] = arith.muli %[[GROUP]], %c8 : index
// CHECK-NEXT:      %[[LEFT:.+]] = arith.subi %c12, %[[FIRST]] : index
// CHECK-NEXT:      %[[ROWS:.+]] = arith.minui %[[LEFT]], %c8 : index
// CHECK-COUNT-12:  nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK:           scf.for %{{.+}} = %c0 to %c256 step %c128
// CHECK-COUNT-4:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 256, k = 32>
// CHECK-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// CHECK-COUNT-12:    nvvm.cp.async.shared.global
// CHECK-COUNT-64:  vector.store %{{.+}} : memref<1536x2816xf32>, vector<2xf32>
// With TMA, 192 KiB leave no room for a second block on a multiprocessor:
// the kernel is persistent, at most one block a multiprocessor (132), each
// taking tiles t = its block id + i * 132 in turn (here one each), its
// consumers and its producer in loops of their own over the same tiles;
// within a tile as before (groups of eight rows of tiles), and a k-step's
// copies two boxes: 128 bytes of k by 128 rows of A, by 256 of B.
// TMA-LABEL: func.func @fp8_wide_tiles
// TMA:         gpu.launch blocks(%[[BX:[^,]+]], %{{[^,]+}}, %{{[^)]+}}) in (%[[GX:.+]] = %c132, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c288, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c197760_i32
// TMA:           scf.for %[[TILE:.+]] = %[[BX]] to %c132 step %[[GX]] {
// TMA:             arith.divui %{{.+}}, %c88 : index
// TMA:             scf.for %{{.+}} = %c0 to %c256 step %c128 iter_args(
// TMA-COUNT-4:       nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 256, k = 32>
// TMA:           } else {
// TMA:             scf.for %{{.+}} = %[[BX]] to %c132 step %[[GX]] {
// TMA:               scf.for %{{.+}} = %c0 to %c256 step %c128 {
// TMA-COUNT-2:         nvvm.cp.async.bulk.tensor.shared.cluster.global
// TMA-NOT:             nvvm.cp.async.bulk.tensor
// TMA:                 scf.yield
// One warpgroup: 64x256 tiles, 160 KiB.
// ONE-WARPGROUP-LABEL: func.func @fp8_wide_tiles
// ONE-WARPGROUP:         gpu.launch {{.+}} dynamic_shared_memory_size %c163840_i32
// ONE-WARPGROUP-COUNT-4:   nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 256, k = 32>
// With 48 KiB, no room for four stages of 256 columns: 128x128 tiles.
// STATIC-LABEL: func.func @fp8_wide_tiles
// STATIC:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c22, %{{.+}} = %c12, %{{.+}} = %c1)
// STATIC:           nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
func.func @fp8_wide_tiles(%a: memref<1536x256xf8E4M3FN>, %b: memref<2816x256xf8E4M3FN>, %c: memref<1536x2816xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<1536x256xf8E4M3FN>, memref<2816x256xf8E4M3FN>) outs(%c : memref<1536x2816xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// 121 tiles of 128x256 would leave multiprocessors idle: 128x128 tiles.
// CHECK-LABEL: func.func @fp8_few_tiles
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c22, %{{.+}} = %c11, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1) dynamic_shared_memory_size %c131072_i32
// CHECK:           nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>
func.func @fp8_few_tiles(%a: memref<1408x256xf8E4M3FN>, %b: memref<2816x256xf8E4M3FN>, %c: memref<1408x2816xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<1408x256xf8E4M3FN>, memref<2816x256xf8E4M3FN>) outs(%c : memref<1408x2816xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Signed x unsigned int8 into i32, batched (the grid's z), B stored k x n
// (read 4 n at a time along 4 k and transposed in registers): s32
// accumulators and integer MMA types.
// CHECK-LABEL: func.func @s8_u8_batched
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %[[BZ:.+]]) in (%{{.+}} = %c1, %{{.+}} = %c1, %{{.+}} = %c3)
// CHECK-COUNT-4:   vector.load %{{.+}}[%[[BZ]], %{{.+}}, %{{.+}}] {alignment = 4 : i64} : memref<3x40x16xi8>, vector<4xi8>
// CHECK:           nvvm.wgmma.mma_async {{.+}} D[<s32>, <one>], A[<s8>, <one>, <row>], B[<u8>, <one>, <col>] : !llvm.struct<(i32, {{.+}})>
func.func @s8_u8_batched(%a: memref<3x4x40xi8>, %b: memref<3x40x16xi8>, %c: memref<3x4x16xi32>) {
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<3x4x40xi8>, memref<3x40x16xi8>) outs(%c : memref<3x4x16xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// f16 x f16 into f32: the same 64x32-byte chunks, now 64x16 elements, so
// K steps by 64 (four chunks) and each m64n64k16 wgmma on f16 (bf16 alike)
// takes 16; cp.async copies 16-byte rows of eight f16.
// CHECK-LABEL: func.func @f16_nt
// CHECK:         gpu.launch
// CHECK-COUNT-8:   nvvm.cp.async.shared.global
// CHECK:           scf.for %{{.+}} = %c0 to %c128 step %c64 iter_args(
// CHECK:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// CHECK-COUNT-3:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 16>
func.func @f16_nt(%a: memref<64x128xf16>, %b: memref<32x128xf16>, %c: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf16>, memref<32x128xf16>) outs(%c : memref<64x32xf32>) {
  ^bb0(%x: f16, %y: f16, %acc: f32):
    %0 = arith.extf %x : f16 to f32
    %1 = arith.extf %y : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Rows of 16-bit operands are copied whole when K is a multiple of 8
// elements; K = 36 is not: words of two f16, staged through registers, two
// wgmmas (32 elements of k) a step.
// CHECK-LABEL: func.func @f16_odd_k
// CHECK:         gpu.launch
// CHECK-NOT:       nvvm.cp.async
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x36xf16>, vector<2xf16>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<32x36xf16>, vector<2xf16>
// CHECK:           vector.store
// CHECK:           scf.for %{{.+}} = %c0 to %c36 step %c32 iter_args(
// CHECK-COUNT-2:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// CHECK-NOT:         nvvm.wgmma.mma_async
// CHECK:             nvvm.wgmma.wait.group.sync.aligned 0
func.func @f16_odd_k(%a: memref<64x36xf16>, %b: memref<32x36xf16>, %c: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x36xf16>, memref<32x36xf16>) outs(%c : memref<64x32xf32>) {
  ^bb0(%x: f16, %y: f16, %acc: f32):
    %0 = arith.extf %x : f16 to f32
    %1 = arith.extf %y : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// f32 read as tf32: 64x8-element chunks (32 bytes of k), one element a
// word (rounded to tf32 on the way: staged through registers), and
// m64n64k8 MMAs on tf32, two a step.
// CHECK-LABEL: func.func @tf32_nt
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x32xf32>, vector<1xf32>
// CHECK:           vector.store
// CHECK:           scf.for %{{.+}} = %c0 to %c32 step %c16 iter_args(
// CHECK-COUNT-2:     nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 8>, D[<f32>, <one>], A[<tf32>, <one>, <row>], B[<tf32>, <one>, <col>]
func.func @tf32_nt(%a: memref<64x32xf32>, %b: memref<32x32xf32>, %c: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x32xf32>, memref<32x32xf32>) outs(%c : memref<64x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.truncf %x : f32 to tf32
    %1 = arith.extf %0 : tf32 to f32
    %2 = arith.truncf %y : f32 to tf32
    %3 = arith.extf %2 : tf32 to f32
    %4 = arith.mulf %1, %3 : f32
    %5 = arith.addf %acc, %4 fastmath<reassoc> : f32
    linalg.yield %5 : f32
  }
  return
}

// -----

// An output that a fill of zeros initializes for this contraction alone is
// stored, not added to: the fill goes, and the kernel reads no output.
// CHECK-LABEL: func.func @zero_init
// CHECK-NOT:     linalg.fill
// CHECK:         gpu.launch
// CHECK-NOT:       vector.load %{{.+}} : memref<64x64xf32>
// CHECK-COUNT-16:  vector.store %{{.+}} : memref<64x64xf32>, vector<2xf32>
// CHECK:         call @consume(%{{.+}}) : (memref<64x64xf32>) -> ()
func.func private @consume(memref<64x64xf32>)
func.func @zero_init(%a: memref<64x128xf8E4M3FN>, %b: memref<64x128xf8E4M3FN>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<64x128xf8E4M3FN>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  call @consume(%c) : (memref<64x64xf32>) -> ()
  return
}

// -----

// Not where the filled output is read before the contraction, nor, to be
// safe, where the fill is of -0.0.
// CHECK-LABEL: func.func @read_before
// CHECK:         linalg.fill
// CHECK:         call @consume
// CHECK:         gpu.launch
// CHECK:           vector.load %{{.+}} : memref<64x64xf32>, vector<2xf32>
// CHECK-LABEL: func.func @negative_zero
// CHECK:         linalg.fill
// CHECK:         gpu.launch
// CHECK:           vector.load %{{.+}} : memref<64x64xf32>, vector<2xf32>
func.func private @consume(memref<64x64xf32>)
func.func @read_before(%a: memref<64x128xf8E4M3FN>, %b: memref<64x128xf8E4M3FN>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  call @consume(%c) : (memref<64x64xf32>) -> ()
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<64x128xf8E4M3FN>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

func.func @negative_zero(%a: memref<64x128xf8E4M3FN>, %b: memref<64x128xf8E4M3FN>) {
  %zero = arith.constant -0.0 : f32
  %c = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<64x128xf8E4M3FN>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  call @consume(%c) : (memref<64x64xf32>) -> ()
  return
}

// -----

// K = 0 (static): no k-step, yet the pipeline keeps three stages of 16
// KiB (one step of copies ahead: the loop, folded away here, waits for all
// but ahead - 1 = 0 groups, not -1).
// CHECK-LABEL: func.func @empty_k
// CHECK:         gpu.launch {{.+}} workgroup(%{{.+}} : memref<12288xi32, #gpu.address_space<workgroup>>)
func.func @empty_k(%a: memref<64x0xf8E4M3FN>, %b: memref<64x0xf8E4M3FN>, %c: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x0xf8E4M3FN>, memref<64x0xf8E4M3FN>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// A batched GEMM, A stored (b, m, k) and B (n, b, k): three-dimensional
// tensor maps (K, the rows, the batch: A's rows 128 bytes apart and its
// batches 8192; B's rows 256 bytes apart and its batches 128), the boxes'
// third coordinate the block's batch index.
// Where an operand is no box of a tensor (k not contiguous here), the
// kernel reads through registers and makes no tensor map.
// TMA-LABEL: func.func @fp8_batched
// TMA:         %[[A_MAP:.+]] = call @qtrainTensorMap(%{{.+}}, %c1_i64, %c3_i64, %c128_i64, %c64_i64, %c2_i64, %c128_i64, %c8192_i64, %c128_i64, %c64_i64, %c128_i64)
// TMA:         %[[B_MAP:.+]] = call @qtrainTensorMap(%{{.+}}, %c1_i64, %c3_i64, %c128_i64, %c64_i64, %c2_i64, %c256_i64, %c128_i64, %c128_i64, %c64_i64, %c128_i64)
// TMA:         gpu.launch blocks(%{{[^,]+}}, %{{[^,]+}}, %[[BATCH:[^)]+]]) in
// TMA:           %[[BATCH32:.+]] = arith.index_cast %[[BATCH]] : index to i32
// TMA:           %[[A_DESC:.+]] = llvm.inttoptr %[[A_MAP]] : i64 to !llvm.ptr
// TMA-NEXT:      nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[A_DESC]], %{{.+}}, box[%{{.+}}, %{{.+}}, %[[BATCH32]]]
// TMA:           %[[B_DESC:.+]] = llvm.inttoptr %[[B_MAP]] : i64 to !llvm.ptr
// TMA-NEXT:      nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[B_DESC]], %{{.+}}, box[%{{.+}}, %{{.+}}, %[[BATCH32]]]
// TMA-LABEL: func.func @fp8_k_strided
// TMA-NOT:     qtrainTensorMap
// TMA-NOT:     nvvm.cp.async.bulk.tensor
// TMA:         return
func.func @fp8_batched(%a: memref<2x64x128xf8E4M3FN>, %b: memref<64x2x128xf8E4M3FN>, %c: memref<2x64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (n, b, k)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x64x128xf8E4M3FN>, memref<64x2x128xf8E4M3FN>) outs(%c : memref<2x64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

func.func @fp8_k_strided(%a: memref<128x64xf8E4M3FN>, %b: memref<64x128xf8E4M3FN>, %c: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<128x64xf8E4M3FN>, memref<64x128xf8E4M3FN>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// The absmax of the output goes into the epilogue (as in the mma.sync
// kernels, matmul-to-mma-sync.mlir @epilogue_absmax): in the TMA kernel,
// each consumer thread's after its tiles' stores, then across its warp by
// shuffles; the producer warp has no part in it.
// CHECK-LABEL: func.func @epilogue_absmax
// CHECK:         gpu.launch
// CHECK:           nvvm.wgmma.mma_async
// CHECK:           math.absf
// CHECK-COUNT-5:   gpu.shuffle  xor
// CHECK:           scf.if %{{[^ ]+}} {
// CHECK-NEXT:        memref.atomic_rmw maximumf
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
// TMA-LABEL: func.func @epilogue_absmax
// TMA:         gpu.launch
// TMA:           nvvm.mbarrier.try_wait.parity
// TMA:           nvvm.wgmma.mma_async
// TMA:           math.absf
// TMA-COUNT-5:     gpu.shuffle  xor
// TMA:           scf.if %{{[^ ]+}} {
// TMA-NEXT:        memref.atomic_rmw maximumf
// TMA:         gpu.terminator
// TMA-NOT:     linalg.generic
func.func @epilogue_absmax(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>) -> memref<f32> {
  %c = memref.alloc() : memref<64x96xf32>
  %amax = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>], iterator_types = ["reduction", "reduction"]}
      ins(%c : memref<64x96xf32>) outs(%amax : memref<f32>) {
  ^bb0(%x: f32, %m: f32):
    %0 = math.absf %x : f32
    %1 = arith.maximumf %m, %0 : f32
    linalg.yield %1 : f32
  }
  return %amax : memref<f32>
}

// -----

// An elementwise op on the output goes into the epilogue too (as in the
// mma.sync kernels, matmul-to-mma-sync.mlir @epilogue_map): relu(C + bias)
// in E4M3 at a scale known before the GEMM (delayed scaling), stored in
// pairs of columns; C is stored too, as the function returns it.
// CHECK-LABEL: func.func @epilogue_map
// CHECK:         %[[C:.+]] = memref.alloc() : memref<64x96xf32>
// CHECK:         %[[H:.+]] = memref.alloc() : memref<64x96xf8E4M3FN>
// CHECK:         gpu.launch
// CHECK:           nvvm.wgmma.mma_async
// CHECK:           vector.store %{{.+}}, %[[C]]
// CHECK:           arith.truncf %{{.+}} : f32 to f8E4M3FN
// CHECK:           vector.store %{{.+}}, %[[H]][%{{.+}}, %{{.+}}] {alignment = 2 : i64} : memref<64x96xf8E4M3FN>, vector<2xf8E4M3FN>
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
// TMA-LABEL: func.func @epilogue_map
// TMA:         gpu.launch
// TMA:           nvvm.mbarrier.try_wait.parity
// TMA:           nvvm.wgmma.mma_async
// TMA:           vector.store %{{.+}} : memref<64x96xf8E4M3FN>, vector<2xf8E4M3FN>
// TMA:         gpu.terminator
// TMA-NOT:     linalg.generic
func.func @epilogue_map(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>, %bias: memref<96xf32>, %s: memref<f32>) -> (memref<64x96xf32>, memref<64x96xf8E4M3FN>) {
  %c = memref.alloc() : memref<64x96xf32>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %h = memref.alloc() : memref<64x96xf8E4M3FN>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %s : memref<64x96xf32>, memref<96xf32>, memref<f32>) outs(%h : memref<64x96xf8E4M3FN>) {
  ^bb0(%x: f32, %bn: f32, %scale: f32, %o: f8E4M3FN):
    %zero = arith.constant 0.0 : f32
    %0 = arith.addf %x, %bn : f32
    %1 = arith.maximumf %0, %zero : f32
    %2 = arith.divf %1, %scale : f32
    %3 = arith.truncf %2 : f32 to f8E4M3FN
    linalg.yield %3 : f8E4M3FN
  }
  return %c, %h : memref<64x96xf32>, memref<64x96xf8E4M3FN>
}
