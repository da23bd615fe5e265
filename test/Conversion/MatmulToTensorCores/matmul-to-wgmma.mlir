// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-wgmma -canonicalize -cse | FileCheck %s

// FP8 x FP8 into f32, B stored n x k: one warpgroup a 64x64 tile (N < 128),
// with two 4 KiB stages of shared memory (i32 words) for the A and B tiles. The
// no-swizzle descriptors hold the leading (128 bytes, 8 << 16) and stride
// (256 bytes, 16 << 32) byte offsets; B's tile starts 2048 bytes after A's,
// stage 1 4096 bytes (256 in the descriptor) after stage 0. Step 0's tiles
// go into stage 0 before the loop; each step then issues its m64n64k32 MMA
// on the thread's 32 accumulators (which start from the output) on stage
// k / 32 % 2, stores the next step's tiles (each thread one 16-byte row of
// A and of B, read 4 codes at a time) into the other stage while it runs,
// waits for it and meets the others at one barrier.
// CHECK-LABEL: func.func @fp8_nt
// CHECK-DAG:     %[[OFFSETS:.+]] = arith.constant 68720001024 : i64
// CHECK-DAG:     %[[B_OFFSET:.+]] = arith.constant 2048 : i64
// CHECK-DAG:     %[[STAGE_STEP:.+]] = arith.constant 256 : i64
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) workgroup(%[[SMEM:.+]] : memref<2048xi32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-32: memref.load %{{.+}} : memref<64x96xf32>
// CHECK:           %[[PTR:.+]] = memref.extract_aligned_pointer_as_index %[[SMEM]]
// CHECK:           %[[BASE:.+]] = arith.index_castui %[[PTR]] : index to i64
// CHECK:           %[[A_ENC:.+]] = arith.shrui %{{.+}}, %c4_i64
// CHECK:           %[[DESC_A:.+]] = arith.ori %[[A_ENC]], %[[OFFSETS]]
// CHECK:           %[[B_ADDR:.+]] = arith.addi %[[BASE]], %[[B_OFFSET]]
// CHECK:           %[[DESC_B:.+]] = arith.ori %{{.+}}, %[[OFFSETS]]
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x128xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<96x128xf8E5M2>, vector<4xf8E5M2>
// CHECK:           %[[A_WORD:.+]] = arith.muli %[[A_CHUNK:.+]], %c4 : index
// CHECK-NEXT:      vector.store %{{.+}}, %[[SMEM]][%[[A_WORD]]] {alignment = 16 : i64} : memref<2048xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// CHECK-NEXT:      %[[B_CHUNK:.+]] = arith.addi %[[A_CHUNK]], %c128 : index
// CHECK-NEXT:      %[[B_WORD:.+]] = arith.muli %[[B_CHUNK]], %c4 : index
// CHECK-NEXT:      vector.store %{{.+}}, %[[SMEM]][%[[B_WORD]]] {alignment = 16 : i64} : memref<2048xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// CHECK-NEXT:      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT:      gpu.barrier
// CHECK:           scf.for %{{.+}} = %c0 to %c128 step %c32 iter_args(%[[ACC:.+]] = %{{.+}}) -> (!llvm.struct<(f32, {{.+}})>)
// CHECK:             %[[OFFSET:.+]] = arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// CHECK-NEXT:        nvvm.wgmma.fence.aligned
// CHECK-NEXT:        %[[STAGE_A:.+]] = arith.addi %[[DESC_A]], %[[OFFSET]]
// CHECK-NEXT:        %[[STAGE_B:.+]] = arith.addi %[[DESC_B]], %[[OFFSET]]
// CHECK-NEXT:        %[[D:.+]] = nvvm.wgmma.mma_async %[[STAGE_A]], %[[STAGE_B]], %[[ACC]], <m = 64, n = 64, k = 32>, D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e5m2>, <one>, <col>]
// CHECK-NEXT:        nvvm.wgmma.commit.group.sync.aligned
// CHECK:             scf.if
// CHECK-COUNT-8:       vector.load
// CHECK:               vector.store %{{.+}}, %[[SMEM]]
// CHECK:               vector.store %{{.+}}, %[[SMEM]]
// CHECK-NEXT:          nvvm.fence.proxy
// CHECK-NEXT:        {{^ *}}}{{$}}
// CHECK-NEXT:        nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:        scf.yield %[[D]]
// CHECK-COUNT-32:  memref.store %{{.+}} : memref<64x96xf32>
// CHECK-NOT:     linalg.generic
func.func @fp8_nt(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>, %c: memref<64x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
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
// rows of B's tile a thread (rows tid / 2 and 64 + tid / 2, 8 core-matrix
// rows = 128 chunks apart), stages of 128 + 256 chunks (6 KiB).
// CHECK-LABEL: func.func @fp8_wide
// CHECK-DAG:     %[[STAGE_STEP:.+]] = arith.constant 384 : i64
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c2, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1) workgroup(%[[SMEM:.+]] : memref<3072xi32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-64: memref.load %{{.+}} : memref<100x200xf32>
// CHECK-COUNT-4:   vector.load %{{.+}} : memref<100x64xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-8:   vector.load %{{.+}} : memref<200x64xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK:           %[[A_WORD:.+]] = arith.muli %[[A_CHUNK:.+]], %c4 : index
// CHECK-NEXT:      vector.store %{{.+}}, %[[SMEM]][%[[A_WORD]]]
// CHECK-NEXT:      %[[B0:.+]] = arith.addi %[[A_CHUNK]], %c128 : index
// CHECK-NEXT:      %[[B0_WORD:.+]] = arith.muli %[[B0]], %c4 : index
// CHECK-NEXT:      vector.store %{{.+}}, %[[SMEM]][%[[B0_WORD]]]
// CHECK-NEXT:      %[[B1:.+]] = arith.addi %[[A_CHUNK]], %c256 : index
// CHECK-NEXT:      %[[B1_WORD:.+]] = arith.muli %[[B1]], %c4 : index
// CHECK-NEXT:      vector.store %{{.+}}, %[[SMEM]][%[[B1_WORD]]]
// CHECK:           scf.for
// CHECK:             arith.muli %{{.+}}, %[[STAGE_STEP]] : i64
// CHECK:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 128, k = 32>, D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// CHECK-COUNT-64:  memref.store %{{.+}} : memref<100x200xf32>
func.func @fp8_wide(%a: memref<100x64xf8E4M3FN>, %b: memref<200x64xf8E4M3FN>, %c: memref<100x200xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<100x64xf8E4M3FN>, memref<200x64xf8E4M3FN>) outs(%c : memref<100x200xf32>) {
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
// (staged byte by byte): s32 accumulators and integer MMA types.
// CHECK-LABEL: func.func @s8_u8_batched
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %[[BZ:.+]]) in (%{{.+}} = %c1, %{{.+}} = %c1, %{{.+}} = %c3)
// CHECK-COUNT-16:  memref.load %{{.+}}[%[[BZ]], %{{.+}}, %{{.+}}] : memref<3x40x16xi8>
// CHECK:           scf.for {{.+}} -> (!llvm.struct<(i32, {{.+}})>)
// CHECK:             nvvm.wgmma.mma_async {{.+}} D[<s32>, <one>], A[<s8>, <one>, <row>], B[<u8>, <one>, <col>]
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

// f16 x f16 into f32: the same 64x32-byte tiles, now 64x16 elements, so
// K steps by 16, each thread's 16-byte row four words of two f16, and the
// MMA is m64n64k16 on f16 (bf16 alike).
// CHECK-LABEL: func.func @f16_nt
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x64xf16>, vector<2xf16>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<32x64xf16>, vector<2xf16>
// CHECK:           vector.store
// CHECK:           scf.for %{{.+}} = %c0 to %c64 step %c16 iter_args(
// CHECK:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
func.func @f16_nt(%a: memref<64x64xf16>, %b: memref<32x64xf16>, %c: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x64xf16>, memref<32x64xf16>) outs(%c : memref<64x32xf32>) {
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

// f32 read as tf32: 64x8-element tiles (32 bytes of k), one element a word,
// and an m64n64k8 MMA on tf32.
// CHECK-LABEL: func.func @tf32_nt
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x32xf32>, vector<1xf32>
// CHECK:           vector.store
// CHECK:           scf.for %{{.+}} = %c0 to %c32 step %c8 iter_args(
// CHECK:             nvvm.wgmma.mma_async {{.+}}, <m = 64, n = 64, k = 8>, D[<f32>, <one>], A[<tf32>, <one>, <row>], B[<tf32>, <one>, <col>]
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
