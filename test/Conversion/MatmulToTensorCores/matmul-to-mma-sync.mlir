// RUN: qtrain-opt %s -split-input-file -convert-low-precision-matmul-to-mma-sync -canonicalize -cse | FileCheck %s

// FP8 x FP8 into f32, both operands' k contiguous and K a multiple of 16
// bytes: cp.async copies each thread's 16-byte rows of A's and B's tiles
// (one each) straight into shared memory, four stages of 4 KiB. Steps 0
// to 2 are copied before the loop, one commit group each; step i waits
// for its group (two younger may be in flight), meets the others at a
// barrier (after which stage (i - 1) % 4 is free), copies step i + 3 there
// and runs its 8 MMAs per warp on the fragments of stage i % 4. The
// accumulators start at zero; C is added after the loop.
// CHECK-LABEL: func.func @fp8_nt
// CHECK:         gpu.launch blocks({{.+}}) in (%{{.+}} = %c2, %{{.+}} = %c1, %{{.+}} = %c1) threads({{.+}}) in (%{{.+}} = %c128, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-SAME:      workgroup(%[[SMEM:.+]] : memref<4096xi32, #gpu.address_space<workgroup>>)
// CHECK-NOT:       memref<64x96xf32>
// CHECK-COUNT-2:   nvvm.cp.async.shared.global %{{.+}}, %{{.+}}, 16, cache =  cg, %{{.+}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-COUNT-2:   nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-COUNT-2:   nvvm.cp.async.shared.global
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-NOT:       nvvm.cp.async
// CHECK:           scf.for %{{.+}} = %c0 to %c128 step %c32 iter_args(
// CHECK:             nvvm.cp.async.wait.group 2
// CHECK-NEXT:        gpu.barrier
// CHECK-COUNT-2:     nvvm.cp.async.shared.global
// CHECK-NEXT:        nvvm.cp.async.commit.group
// CHECK-COUNT-4:     nvvm.ldmatrix %{{.+}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-NOT:         memref.load
// CHECK-COUNT-8:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e5m2.f32"
// CHECK:             scf.yield
// CHECK:           nvvm.cp.async.wait.group 0
// CHECK:           %[[PAIR:.+]] = vector.from_elements %{{.+}}, %{{.+}} : vector<2xf32>
// CHECK-NEXT:      %[[PRIOR:.+]] = vector.load %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[PRIOR]], %[[PAIR]] : vector<2xf32>
// CHECK-NEXT:      vector.store %[[SUM]], %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// CHECK-COUNT-15:  vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
func.func @fp8_nt(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>, %c: memref<64x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Through registers where a row of the tiles cannot be copied whole (here
// K = 40, no multiple of 16 bytes). FP8 x FP8 into f32, B stored n x k:
// 64x64 tiles of 128 threads, zero
// accumulators, a loop over K by 32 with 8 MMAs per warp, C added to the
// sums after it (in range: 32 elements a thread, loaded and stored). Each
// k-step's 64x32-byte tiles of A and B are staged in shared memory (two
// stages of 4 KiB, i32 words), each thread copying a 16-byte row of each,
// read a word (4 codes along k) at a time: step 0's before the loop; in the
// loop, the next step's are read from global memory before the MMAs, which
// read their 16 fragment words from this step's stage (ldmatrix.x4: A's
// 16x32-byte tiles two, B's 8x32-byte tiles two a pair), and stored into the
// other stage after them; one barrier a step.
// CHECK-LABEL: func.func @fp8_nt_odd_k
// CHECK-NOT:     nvvm.cp.async
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C128:.+]] = arith.constant 128 : index
// CHECK:         gpu.launch blocks(%[[BX:.+]], %[[BY:.+]], %[[BZ:.+]]) in (%{{.+}} = %[[C2]], %{{.+}} = %[[C1]], %{{.+}} = %[[C1]]) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C128]], %{{.+}} = %[[C1]], %{{.+}} = %[[C1]])
// CHECK-SAME:      workgroup(%[[SMEM:.+]] : memref<2048xi32, #gpu.address_space<workgroup>>)
// CHECK-NOT:       memref<64x96xf32>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x40xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<96x40xf8E5M2>, vector<4xf8E5M2>
// CHECK:           vector.store %{{.+}}, %[[SMEM]][%{{.+}}] {alignment = 16 : i64}
// CHECK:           vector.store %{{.+}}, %[[SMEM]][%{{.+}}] {alignment = 16 : i64}
// CHECK-NEXT:      gpu.barrier
// CHECK:           scf.for %{{.+}} = %c0 to %c40 step %c32 iter_args(
// CHECK:             %[[NEXT:.+]]:2 = scf.if %[[MORE:.+]] -> (vector<4xi32>, vector<4xi32>) {
// CHECK-COUNT-4:       vector.load %{{.+}} : memref<64x40xf8E4M3FN>, vector<4xf8E4M3FN>
// CHECK-COUNT-4:       vector.load %{{.+}} : memref<96x40xf8E5M2>, vector<4xf8E5M2>
// CHECK:             } else {
// CHECK:             %[[A0:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr<3>
// CHECK:             %[[A1:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr<3>
// CHECK:             %[[B01:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr<3>
// CHECK:             %[[B23:.+]] = llvm.inttoptr %{{.+}} : i64 to !llvm.ptr<3>
// CHECK-NEXT:        %[[FRAG_A0:.+]] = nvvm.ldmatrix %[[A0]] {{.+}}num = 4
// CHECK-NEXT:        nvvm.ldmatrix %[[A1]]
// CHECK-NEXT:        %[[FRAG_B01:.+]] = nvvm.ldmatrix %[[B01]]
// CHECK-NEXT:        nvvm.ldmatrix %[[B23]]
// CHECK-NOT:         memref.load
// CHECK:             %[[A0_0:.+]] = llvm.extractvalue %[[FRAG_A0]][0]
// CHECK:             %[[B0_1:.+]] = llvm.extractvalue %[[FRAG_B01]][1]
// CHECK:             llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e5m2.f32"(%[[A0_0]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[B0_1]], {{.+}}) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-7:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e5m2.f32"({{.+}}) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:             scf.if %[[MORE]] {
// CHECK:               vector.store %[[NEXT]]#0, %[[SMEM]]
// CHECK:               vector.store %[[NEXT]]#1, %[[SMEM]]
// CHECK-NEXT:        {{^ *}}}{{$}}
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:        scf.yield
// CHECK:           %[[PAIR:.+]] = vector.from_elements %{{.+}}, %{{.+}} : vector<2xf32>
// CHECK-NEXT:      %[[PRIOR:.+]] = vector.load %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[PRIOR]], %[[PAIR]] : vector<2xf32>
// CHECK-NEXT:      vector.store %[[SUM]], %{{.+}} {alignment = 8 : i64} : memref<64x96xf32>, vector<2xf32>
// CHECK-COUNT-15:  vector.store %{{.+}} : memref<64x96xf32>, vector<2xf32>
// CHECK:           gpu.terminator
// CHECK-NOT:     linalg.generic
func.func @fp8_nt_odd_k(%a: memref<64x40xf8E4M3FN>, %b: memref<96x40xf8E5M2>, %c: memref<64x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x40xf8E4M3FN>, memref<96x40xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Unsigned x signed int8 into i32, B stored k x n (contiguous along n:
// each thread reads 4 rows of k, a word of 4 n each, and transposes them
// into 4 words of 4 k, stored one a row of B's tile), the product's
// operands swapped in the body, an odd K; one MMA name for the mixed
// signedness.
// CHECK-LABEL: func.func @u8_s8_nn
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<4x40xi8>, vector<4xi8>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<40x16xi8>, vector<4xi8>
// CHECK-NOT:       memref.load %{{.+}} : memref<40x16xi8>
// CHECK:           vector.store %{{.+}}, %[[SMEM:.+]][%{{.+}}] {alignment = 16 : i64}
// CHECK-COUNT-4:   memref.store %{{.+}}, %[[SMEM]][%{{.+}}] : memref<2048xi32, #gpu.address_space<workgroup>>
// CHECK:           scf.for
// CHECK-COUNT-8:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.u8.s8"({{.+}}) : (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>
func.func @u8_s8_nn(%a: memref<4x40xi8>, %b: memref<40x16xi8>, %c: memref<4x16xi32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x40xi8>, memref<40x16xi8>) outs(%c : memref<4x16xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extui %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %1, %0 : i32
    %3 = arith.addi %2, %acc : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Batched, A stored k x m (the weight-gradient form), dynamic sizes: the
// batch is the grid's z, the grid is ceil(N / 64) x ceil(M / 64), and an
// empty result launches nothing.
// CHECK-LABEL: func.func @batched_dynamic
// CHECK-SAME:    (%[[A:.+]]: memref<?x?x?xf8E5M2>, %[[B:.+]]: memref<?x?x?xf8E5M2>, %[[C:.+]]: memref<?x?x?xf32>)
// CHECK-DAG:     %[[BATCH:.+]] = memref.dim %[[A]], %c0
// CHECK-DAG:     %[[M:.+]] = memref.dim %[[A]], %c2
// CHECK-DAG:     %[[N:.+]] = memref.dim %[[B]], %c2
// CHECK-DAG:     %[[K:.+]] = memref.dim %[[A]], %c1
// CHECK:         scf.if
// CHECK-DAG:       %[[GX:.+]] = arith.ceildivui %[[N]], %c64
// CHECK-DAG:       %[[GY:.+]] = arith.ceildivui %[[M]], %c64
// CHECK:           gpu.launch blocks(%{{.+}}, %{{.+}}, %[[BZ:.+]]) in (%{{.+}} = %[[GX]], %{{.+}} = %[[GY]], %{{.+}} = %[[BATCH]])
// CHECK:             memref.load %[[A]][%[[BZ]],
// CHECK:             scf.for %{{.+}} = %c0 to %[[K]] step %c32
// CHECK:               llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e5m2.e5m2.f32"
// CHECK:             memref.load %[[C]][%[[BZ]],
func.func @batched_dynamic(%a: memref<?x?x?xf8E5M2>, %b: memref<?x?x?xf8E5M2>, %c: memref<?x?x?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, k, m)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x?x?xf8E5M2>, memref<?x?x?xf8E5M2>) outs(%c : memref<?x?x?xf32>) {
  ^bb0(%x: f8E5M2, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E5M2 to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Left alone: f32 operands, a body that does more than multiply-add,
// tensors, and device code.
// CHECK-LABEL: func.func @not_mma
// CHECK-NOT:     gpu.launch blocks
// CHECK-COUNT-2: linalg.generic
// CHECK:         gpu.launch
// CHECK:           linalg.generic
func.func @not_mma(%a: memref<16x32xf32>, %b: memref<32x8xf32>, %c: memref<16x8xf32>,
                   %a8: memref<16x32xi8>, %b8: memref<32x8xi8>, %c32: memref<16x8xi32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x32xf32>, memref<32x8xf32>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %2 = arith.mulf %x, %y : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a8, %b8 : memref<16x32xi8>, memref<32x8xi8>) outs(%c32 : memref<16x8xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %s = arith.shli %2, %2 : i32
    %3 = arith.addi %acc, %s : i32
    linalg.yield %3 : i32
  }
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a8, %b8 : memref<16x32xi8>, memref<32x8xi8>) outs(%c32 : memref<16x8xi32>) {
    ^bb0(%x8: i8, %y8: i8, %acc: i32):
      %0 = arith.extsi %x8 : i8 to i32
      %1 = arith.extsi %y8 : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    gpu.terminator
  }
  return
}

// -----

// A convolution is an implicit GEMM: m enumerates (n, oh, ow), n the output
// channels, k (c, kh, kw), each split back into its loops (remainders and
// quotients by the loop sizes), and A is read at the window's positions,
// byte by byte since consecutive k are not contiguous there.
// CHECK-LABEL: func.func @conv_implicit_gemm
// CHECK-SAME:    (%[[X:.+]]: memref<2x4x9x9xf8E5M2>, %[[W:.+]]: memref<3x4x3x3xf8E4M3FN>, %[[Y:.+]]: memref<2x3x4x4xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) threads
// CHECK-DAG:       arith.remui %{{.+}}, %c4 : index
// CHECK-DAG:       arith.divui %{{.+}}, %c4 : index
// CHECK-DAG:       arith.remui %{{.+}}, %c3 : index
// CHECK-DAG:       arith.divui %{{.+}}, %c3 : index
// CHECK:           memref.load %[[X]]
// CHECK:           memref.load %[[W]]
// CHECK:           scf.for %{{.+}} = %c0 to %c36 step %c32
// CHECK-COUNT-8:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e5m2.e4m3.f32"
// CHECK:           memref.store %{{.+}}, %[[Y]]
func.func @conv_implicit_gemm(%x: memref<2x4x9x9xf8E5M2>, %w: memref<3x4x3x3xf8E4M3FN>, %y: memref<2x3x4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>,
                                   affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>,
                                   affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<2x4x9x9xf8E5M2>, memref<3x4x3x3xf8E4M3FN>) outs(%y : memref<2x3x4x4xf32>) {
  ^bb0(%a: f8E5M2, %b: f8E4M3FN, %acc: f32):
    %0 = arith.extf %a : f8E5M2 to f32
    %1 = arith.extf %b : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Two k loops read as one (k, l) row-major: the GEMM's K is 4 * 16.
// CHECK-LABEL: func.func @two_k_loops
// CHECK:         gpu.launch
// CHECK:           scf.for %{{.+}} = %c0 to %c64 step %c32
// CHECK-COUNT-8:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.s8"
func.func @two_k_loops(%a: memref<16x4x16xi8>, %b: memref<4x16x8xi8>, %c: memref<16x8xi32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k, l) -> (m, k, l)>, affine_map<(m, n, k, l) -> (k, l, n)>, affine_map<(m, n, k, l) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a, %b : memref<16x4x16xi8>, memref<4x16x8xi8>) outs(%c : memref<16x8xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// f16 x f16 into f32 (the form of HFP8 GEMMs, and of FP8 ones on sm_80): a
// loop over K by 16 with 8 m16n8k16 MMAs per warp, each register two f16
// along k (<2 x half>). A is staged a word (2 elements) at a time; B, stored
// k x n with N = 38 (no multiple of 4: neither index reads whole words),
// element by element, each bounds-checked, shifted into the high or low
// half of its word.
// CHECK-LABEL: func.func @f16_nn
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x48xf16>, vector<2xf16>
// CHECK:           memref.load %{{.+}} : memref<48x38xf16>
// CHECK-NEXT:      arith.bitcast %{{.+}} : f16 to i16
// CHECK-NEXT:      arith.extui %{{.+}} : i16 to i32
// CHECK-COUNT-7:   memref.load %{{.+}} : memref<48x38xf16>
// CHECK:           arith.shli %{{.+}}, %c16_i32 : i32
// CHECK:           scf.for %{{.+}} = %c0 to %c48 step %c16 iter_args(
// CHECK-COUNT-6:     llvm.bitcast %{{.+}} : i32 to vector<2xf16>
// CHECK:             llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"({{.+}}) : (vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, vector<2xf16>, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-7:     llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"
// CHECK:             scf.yield
// CHECK-NOT:     linalg.generic
func.func @f16_nn(%a: memref<64x48xf16>, %b: memref<48x38xf16>, %c: memref<64x38xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x48xf16>, memref<48x38xf16>) outs(%c : memref<64x38xf32>) {
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

// bf16 x bf16 into f32: as f16 (K by 16, two elements a register; rows of
// 8 copied whole by cp.async), the registers passed as i32 to the bf16 MMA.
// CHECK-LABEL: func.func @bf16_nt
// CHECK:         gpu.launch
// CHECK:           memref.extract_aligned_pointer_as_index %{{.+}} : memref<16x32xbf16>
// CHECK:           memref.extract_aligned_pointer_as_index %{{.+}} : memref<8x32xbf16>
// CHECK:           nvvm.cp.async.shared.global
// CHECK:           scf.for %{{.+}} = %c0 to %c32 step %c16 iter_args(
// CHECK:             llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"({{.+}}) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT:     linalg.generic
func.func @bf16_nt(%a: memref<16x32xbf16>, %b: memref<8x32xbf16>, %c: memref<16x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x32xbf16>, memref<8x32xbf16>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %0 = arith.extf %x : bf16 to f32
    %1 = arith.extf %y : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// f32 read as tf32 (truncf to tf32 and back in the body) into f32: K by 8,
// one element a register, m16n8k8 MMAs on i32 registers.
// CHECK-LABEL: func.func @tf32_nt
// CHECK:         gpu.launch
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<64x24xf32>, vector<1xf32>
// CHECK-COUNT-4:   vector.load %{{.+}} {alignment = 4 : i64} : memref<16x24xf32>, vector<1xf32>
// CHECK:           scf.for %{{.+}} = %c0 to %c24 step %c8 iter_args(
// CHECK:             llvm.call_intrinsic "llvm.nvvm.mma.m16n8k8.row.col.tf32"({{.+}}) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT:     linalg.generic
func.func @tf32_nt(%a: memref<64x24xf32>, %b: memref<16x24xf32>, %c: memref<64x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x24xf32>, memref<16x24xf32>) outs(%c : memref<64x16xf32>) {
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

// Left alone: an f16 operand with an FP8 one (no MMA mixes them), f16 into
// an f16 accumulator, f16 with an f32 read as tf32, and f32 read as bf16.
// CHECK-LABEL: func.func @f16_not_mma
// CHECK-NOT:     gpu.launch
// CHECK-COUNT-4: linalg.generic
func.func @f16_not_mma(%a: memref<16x32xf16>, %b8: memref<32x8xf8E4M3FN>, %b: memref<32x8xf16>, %c: memref<16x8xf32>, %c16: memref<16x8xf16>, %b32: memref<32x8xf32>, %a32: memref<16x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b32 : memref<16x32xf16>, memref<32x8xf32>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f16, %y: f32, %acc: f32):
    %0 = arith.extf %x : f16 to f32
    %t = arith.truncf %y : f32 to tf32
    %1 = arith.extf %t : tf32 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a32, %b32 : memref<16x32xf32>, memref<32x8xf32>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %t = arith.truncf %x : f32 to bf16
    %0 = arith.extf %t : bf16 to f32
    %u = arith.truncf %y : f32 to bf16
    %1 = arith.extf %u : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b8 : memref<16x32xf16>, memref<32x8xf8E4M3FN>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f16, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f16 to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x32xf16>, memref<32x8xf16>) outs(%c16 : memref<16x8xf16>) {
  ^bb0(%x: f16, %y: f16, %acc: f16):
    %2 = arith.mulf %x, %y : f16
    %3 = arith.addf %acc, %2 : f16
    linalg.yield %3 : f16
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
// CHECK:           vector.store %{{.+}} : memref<64x64xf32>, vector<2xf32>
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

// A reduction of the GEMM's output to one element (the absmax of
// relu(C * s + bias), behind the next layer's per-tensor scale) goes into
// the kernel's epilogue: the kernel moves down to the reduction's place,
// after the fill of its result (the fill of C goes as before). Each thread
// applies the reduction's body to the elements it stores (bias loaded at
// each one's column); each warp combines its lanes' maxima by a butterfly
// of shuffles (distances 16 to 1), and lane 0 combines the warp's into the
// result by an atomic, where that changes the value it reads there.
// CHECK-LABEL: func.func @epilogue_absmax
// CHECK-SAME:      (%{{.+}}: memref<64x128xf8E4M3FN>, %{{.+}}: memref<96x128xf8E5M2>, %[[BIAS:.+]]: memref<96xf32>,
// CHECK:         %[[C:.+]] = memref.alloc() : memref<64x96xf32>
// CHECK:         %[[AMAX:.+]] = memref.alloc() : memref<1xf32>
// CHECK-NOT:     linalg.fill ins(%{{.+}}) outs(%[[C]]
// CHECK:         linalg.fill ins(%{{.+}}) outs(%[[AMAX]]
// CHECK:         gpu.launch
// CHECK:           llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e5m2.f32"
// CHECK:           vector.store %{{.+}}, %[[C]]
// CHECK:           memref.load %[[BIAS]]
// CHECK:           math.absf
// CHECK:           arith.maximumf
// CHECK:           %[[OTHER16:.+]], %{{.+}} = gpu.shuffle  xor %[[THREAD:[^ ,]+]], %c16_i32, %c32_i32 : f32
// CHECK-NEXT:      %[[MAX16:.+]] = arith.maximumf %[[THREAD]], %[[OTHER16]] : f32
// CHECK-NEXT:      gpu.shuffle  xor %[[MAX16]], %c8_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c4_i32, %c32_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c2_i32, %c32_i32
// CHECK:           %[[OTHER1:.+]], %{{.+}} = gpu.shuffle  xor %[[MAX2:[^ ,]+]], %c1_i32, %c32_i32 : f32
// CHECK-NEXT:      %[[PARTIAL:.+]] = arith.maximumf %[[MAX2]], %[[OTHER1]] : f32
// CHECK-NEXT:      %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %c0 : index
// CHECK:           %[[CURRENT:.+]] = memref.load %[[AMAX]][%c0]
// CHECK:           %[[COMBINED:.+]] = arith.maximumf %[[CURRENT]], %[[PARTIAL]] : f32
// CHECK:           %[[NEW:.+]] = arith.bitcast %[[COMBINED]] : f32 to i32
// CHECK:           %[[OLD:.+]] = arith.bitcast %[[CURRENT]] : f32 to i32
// CHECK:           %[[CHANGES:.+]] = arith.cmpi ne, %[[NEW]], %[[OLD]]
// CHECK:           %[[ATOMIC:.+]] = arith.andi %[[CHANGES]], %[[FIRST]]
// CHECK:           scf.if %[[ATOMIC]] {
// CHECK-NEXT:        memref.atomic_rmw maximumf %[[PARTIAL]], %[[AMAX]][%c0]
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
// CHECK:         memref.copy %[[C]]
// CHECK:         memref.copy %[[AMAX]]
func.func @epilogue_absmax(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>, %bias: memref<96xf32>, %s: memref<f32>, %out: memref<64x96xf32>, %amax_out: memref<1xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x96xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x96xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %amax = memref.alloc() : memref<1xf32>
  linalg.fill ins(%zero : f32) outs(%amax : memref<1xf32>)
  linalg.generic {indexing_maps = [affine_map<(u, m, n) -> (m, n)>, affine_map<(u, m, n) -> (n)>, affine_map<(u, m, n) -> ()>, affine_map<(u, m, n) -> (u)>], iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%c, %bias, %s : memref<64x96xf32>, memref<96xf32>, memref<f32>) outs(%amax : memref<1xf32>) {
  ^bb0(%x: f32, %bn: f32, %scale: f32, %m: f32):
    %0 = arith.mulf %x, %scale : f32
    %1 = arith.addf %0, %bn : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = math.absf %2 : f32
    %4 = arith.maximumf %m, %3 : f32
    linalg.yield %4 : f32
  }
  memref.copy %c, %out : memref<64x96xf32> to memref<64x96xf32>
  memref.copy %amax, %amax_out : memref<1xf32> to memref<1xf32>
  return
}

// -----

// A reduction to several elements, each with its own idempotent combiner
// (an unsigned 8-bit range's min and max): an atomic each. (The results
// are allocations: a function argument might share memory with the
// operands, which the kernel reads while it writes the results.)
// CHECK-LABEL: func.func @epilogue_min_max
// CHECK:         %[[LO:.+]] = memref.alloc() : memref<f32>
// CHECK:         %[[HI:.+]] = memref.alloc() : memref<f32>
// CHECK:         gpu.launch
// CHECK:           scf.if %{{[^ ]+}} {
// CHECK-NEXT:        memref.atomic_rmw minimumf %{{.+}}, %[[LO]][] : (f32, memref<f32>) -> f32
// CHECK:           scf.if %{{[^ ]+}} {
// CHECK-NEXT:        memref.atomic_rmw maximumf %{{.+}}, %[[HI]][] : (f32, memref<f32>) -> f32
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
func.func @epilogue_min_max(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E5M2>, %lo_out: memref<f32>, %hi_out: memref<f32>) {
  %c = memref.alloc() : memref<64x96xf32>
  %lo = memref.alloc() : memref<f32>
  %hi = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E5M2>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E5M2, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E5M2 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> ()>], iterator_types = ["reduction", "reduction"]}
      ins(%c : memref<64x96xf32>) outs(%lo, %hi : memref<f32>, memref<f32>) {
  ^bb0(%x: f32, %l: f32, %h: f32):
    %0 = arith.minimumf %l, %x : f32
    %1 = arith.maximumf %h, %x : f32
    linalg.yield %0, %1 : f32, f32
  }
  memref.copy %lo, %lo_out : memref<f32> to memref<f32>
  memref.copy %hi, %hi_out : memref<f32> to memref<f32>
  return
}

// -----

// Reductions the kernel leaves alone: where an op between writes the
// GEMM's operand (the GEMM cannot move past it), one reads its output
// before the reduction, the combiner is a sum (no atomic combines f32 sums
// exactly, nor skips one it need not do), the result is a function
// argument (which might share memory with the operands), or the result has
// an element a row.
// CHECK-LABEL: func.func @operand_written_between
// CHECK:         gpu.launch
// CHECK-NOT:       memref.atomic_rmw
// CHECK:         gpu.terminator
// CHECK:         linalg.fill ins(%{{.+}}) outs(%arg0
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK-LABEL: func.func @output_read_between
// CHECK:         gpu.terminator
// CHECK:         memref.copy
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK-LABEL: func.func @sum
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK-LABEL: func.func @result_an_argument
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK-LABEL: func.func @per_row
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
#gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
#all = {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>], iterator_types = ["reduction", "reduction"]}
func.func @operand_written_between(%a: memref<64x128xi8>, %b: memref<96x128xi8>) {
  %c = memref.alloc() : memref<64x96xi32>
  %r = memref.alloc() : memref<i32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xi8>, memref<96x128xi8>) outs(%c : memref<64x96xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  %zero = arith.constant 0 : i8
  linalg.fill ins(%zero : i8) outs(%a : memref<64x128xi8>)
  linalg.generic #all ins(%c : memref<64x96xi32>) outs(%r : memref<i32>) {
  ^bb0(%x: i32, %m: i32):
    %0 = arith.maxsi %m, %x : i32
    linalg.yield %0 : i32
  }
  return
}
func.func @output_read_between(%a: memref<64x128xi8>, %b: memref<96x128xi8>, %out: memref<64x96xi32>) {
  %c = memref.alloc() : memref<64x96xi32>
  %r = memref.alloc() : memref<i32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xi8>, memref<96x128xi8>) outs(%c : memref<64x96xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  memref.copy %c, %out : memref<64x96xi32> to memref<64x96xi32>
  linalg.generic #all ins(%c : memref<64x96xi32>) outs(%r : memref<i32>) {
  ^bb0(%x: i32, %m: i32):
    %0 = arith.maxsi %m, %x : i32
    linalg.yield %0 : i32
  }
  return
}
func.func @sum(%a: memref<64x128xi8>, %b: memref<96x128xi8>) {
  %c = memref.alloc() : memref<64x96xi32>
  %r = memref.alloc() : memref<i32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xi8>, memref<96x128xi8>) outs(%c : memref<64x96xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic #all ins(%c : memref<64x96xi32>) outs(%r : memref<i32>) {
  ^bb0(%x: i32, %m: i32):
    %0 = arith.addi %m, %x : i32
    linalg.yield %0 : i32
  }
  return
}
func.func @result_an_argument(%a: memref<64x128xi8>, %b: memref<96x128xi8>, %r: memref<i32>) {
  %c = memref.alloc() : memref<64x96xi32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xi8>, memref<96x128xi8>) outs(%c : memref<64x96xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic #all ins(%c : memref<64x96xi32>) outs(%r : memref<i32>) {
  ^bb0(%x: i32, %m: i32):
    %0 = arith.maxsi %m, %x : i32
    linalg.yield %0 : i32
  }
  return
}
func.func @per_row(%a: memref<64x128xi8>, %b: memref<96x128xi8>) {
  %c = memref.alloc() : memref<64x96xi32>
  %r = memref.alloc() : memref<64xi32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xi8>, memref<96x128xi8>) outs(%c : memref<64x96xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m)>], iterator_types = ["parallel", "reduction"]} ins(%c : memref<64x96xi32>) outs(%r : memref<64xi32>) {
  ^bb0(%x: i32, %m: i32):
    %0 = arith.maxsi %m, %x : i32
    linalg.yield %0 : i32
  }
  return
}

// -----

// An elementwise op on the GEMM's output (relu(C * s + bias) in bf16, the
// next layer's operand) goes into the kernel's epilogue: each thread
// stores the op's results for the elements it holds, in pairs of columns,
// the scale loaded once. Nothing else reads C, so the sums are not stored.
// CHECK-LABEL: func.func @epilogue_map
// CHECK-SAME:      %[[BIAS:[^:]+]]: memref<96xf32>, %[[S:[^:]+]]: memref<f32>
// CHECK:         %[[H:.+]] = memref.alloc() : memref<64x96xbf16>
// CHECK-NOT:     linalg.fill
// CHECK:         gpu.launch
// CHECK:           llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"
// CHECK:           %[[SCALE:.+]] = memref.load %[[S]][]
// CHECK-NOT:       vector.store %{{.+}} : memref<64x96xf32>
// CHECK:           arith.mulf %{{.+}}, %[[SCALE]]
// CHECK:           memref.load %[[BIAS]]
// CHECK:           arith.truncf %{{.+}} : f32 to bf16
// CHECK:           vector.store %{{.+}}, %[[H]][%{{.+}}, %{{.+}}] {alignment = 4 : i64} : memref<64x96xbf16>, vector<2xbf16>
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
// CHECK:         memref.copy %[[H]]
#gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
#map = {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
func.func @epilogue_map(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %bias: memref<96xf32>, %s: memref<f32>, %out: memref<64x96xbf16>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x96xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x96xf32>)
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %h = memref.alloc() : memref<64x96xbf16>
  linalg.generic #map ins(%c, %s, %bias : memref<64x96xf32>, memref<f32>, memref<96xf32>) outs(%h : memref<64x96xbf16>) {
  ^bb0(%x: f32, %scale: f32, %bn: f32, %o: bf16):
    %0 = arith.mulf %x, %scale : f32
    %1 = arith.addf %0, %bn : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.truncf %2 : f32 to bf16
    linalg.yield %3 : bf16
  }
  memref.dealloc %c : memref<64x96xf32>
  memref.copy %h, %out : memref<64x96xbf16> to memref<64x96xbf16>
  return
}

// -----

// A map and a reduction of the same output, in either order, go into one
// kernel, which goes to the last of them; the sums are stored, as the copy
// reads them. Ops between that neither touch what the kernel writes nor
// write what it reads stay before it (the amax history's reduction).
// CHECK-LABEL: func.func @epilogue_map_and_absmax
// CHECK:         %[[C:.+]] = memref.alloc() : memref<64x96xf32>
// CHECK:         %[[AMAX:.+]] = memref.alloc() : memref<f32>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}} : memref<16xf32>)
// CHECK:         %[[H:.+]] = memref.alloc() : memref<64x96xi8>
// CHECK:         gpu.launch
// CHECK:           vector.store %{{.+}}, %[[C]]
// CHECK:           vector.store %{{.+}}, %[[H]][%{{.+}}, %{{.+}}] {alignment = 2 : i64} : memref<64x96xi8>, vector<2xi8>
// CHECK:           memref.atomic_rmw maximumf %{{.+}}, %[[AMAX]][]
// CHECK:         gpu.terminator
// CHECK-NOT:     linalg.generic
// CHECK:         memref.copy %[[C]]
#gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @epilogue_map_and_absmax(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %history: memref<16xf32>, %s: memref<f32>, %c_out: memref<64x96xf32>, %h_out: memref<64x96xi8>, %amax_out: memref<f32>, %history_max: memref<f32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x96xf32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %amax = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%c : memref<64x96xf32>) outs(%amax : memref<f32>) {
  ^bb0(%x: f32, %m: f32):
    %0 = math.absf %x : f32
    %1 = arith.maximumf %m, %0 : f32
    linalg.yield %1 : f32
  }
  %hmax = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]} ins(%history : memref<16xf32>) outs(%hmax : memref<f32>) {
  ^bb0(%x: f32, %m: f32):
    %0 = arith.maximumf %m, %x : f32
    linalg.yield %0 : f32
  }
  %h = memref.alloc() : memref<64x96xi8>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]} ins(%c, %s : memref<64x96xf32>, memref<f32>) outs(%h : memref<64x96xi8>) {
  ^bb0(%x: f32, %scale: f32, %o: i8):
    %0 = arith.divf %x, %scale : f32
    %1 = arith.fptosi %0 : f32 to i8
    linalg.yield %1 : i8
  }
  memref.copy %c, %c_out : memref<64x96xf32> to memref<64x96xf32>
  memref.copy %h, %h_out : memref<64x96xi8> to memref<64x96xi8>
  memref.copy %amax, %amax_out : memref<f32> to memref<f32>
  memref.copy %hmax, %history_max : memref<f32> to memref<f32>
  return
}

// -----

// Maps the kernel leaves alone: one whose scale is the reduction's result
// that the kernel computes (current scaling: the scale needs the whole
// output's range), one writing a function argument (which might share
// memory with the operands), one reading its init (an accumulation).
// CHECK-LABEL: func.func @map_reads_reduction_result
// CHECK:         memref.atomic_rmw
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK-LABEL: func.func @map_result_an_argument
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK-LABEL: func.func @map_reads_init
// CHECK:         gpu.terminator
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
#gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
#scaled = {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
func.func @map_reads_reduction_result(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %h_out: memref<64x96xf32>) {
  %c = memref.alloc() : memref<64x96xf32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %amax = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%c : memref<64x96xf32>) outs(%amax : memref<f32>) {
  ^bb0(%x: f32, %m: f32):
    %0 = math.absf %x : f32
    %1 = arith.maximumf %m, %0 : f32
    linalg.yield %1 : f32
  }
  %h = memref.alloc() : memref<64x96xf32>
  linalg.generic #scaled ins(%c, %amax : memref<64x96xf32>, memref<f32>) outs(%h : memref<64x96xf32>) {
  ^bb0(%x: f32, %scale: f32, %o: f32):
    %0 = arith.divf %x, %scale : f32
    linalg.yield %0 : f32
  }
  memref.copy %h, %h_out : memref<64x96xf32> to memref<64x96xf32>
  return
}
func.func @map_result_an_argument(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %s: memref<f32>, %h: memref<64x96xf32>) {
  %c = memref.alloc() : memref<64x96xf32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  linalg.generic #scaled ins(%c, %s : memref<64x96xf32>, memref<f32>) outs(%h : memref<64x96xf32>) {
  ^bb0(%x: f32, %scale: f32, %o: f32):
    %0 = arith.divf %x, %scale : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @map_reads_init(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %s: memref<f32>, %h_out: memref<64x96xf32>) {
  %c = memref.alloc() : memref<64x96xf32>
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %h = memref.alloc() : memref<64x96xf32>
  linalg.generic #scaled ins(%c, %s : memref<64x96xf32>, memref<f32>) outs(%h : memref<64x96xf32>) {
  ^bb0(%x: f32, %scale: f32, %o: f32):
    %0 = arith.mulf %x, %scale : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  memref.copy %h, %h_out : memref<64x96xf32> to memref<64x96xf32>
  return
}

// -----

// The epilogue's ops that read no element (the reciprocal of the next
// layer's scale) run once, before the elements, not in each element's
// branch. The elements' other operands (the bias) are loaded, at indices
// clamped into the output, for a group of 16 elements before any of them
// is stored: a load after a store that may alias it would wait for its
// value before the next element's load is issued.
// CHECK-LABEL: func.func @epilogue_operands_first
// CHECK-SAME:      %[[BIAS:[^:]+]]: memref<96xf32>, %[[S:[^:]+]]: memref<f32>
// CHECK:         gpu.launch
// CHECK:           %[[SCALE:.+]] = memref.load %[[S]][]
// CHECK:           %[[RECIPROCAL:.+]] = arith.divf %{{.+}}, %[[SCALE]] : f32
// CHECK-NOT:       arith.divf
// CHECK:           %[[COLUMN:.+]] = arith.minui %{{.+}}, %c95
// CHECK:           memref.load %[[BIAS]][%[[COLUMN]]]
// CHECK-NOT:       vector.store
// CHECK:           memref.load %[[BIAS]]
// CHECK-NOT:       vector.store
// CHECK:           scf.if
// CHECK:             arith.mulf %{{.+}}, %[[RECIPROCAL]]
// CHECK:             vector.store
// CHECK:         gpu.terminator
#gemm = {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
#map = {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> ()>, affine_map<(m, n) -> (n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
func.func @epilogue_operands_first(%a: memref<64x128xf8E4M3FN>, %b: memref<96x128xf8E4M3FN>, %bias: memref<96xf32>, %s: memref<f32>, %out: memref<64x96xbf16>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c = memref.alloc() : memref<64x96xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x96xf32>)
  linalg.generic #gemm ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>) outs(%c : memref<64x96xf32>) {
  ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
    %0 = arith.extf %x : f8E4M3FN to f32
    %1 = arith.extf %y : f8E4M3FN to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 fastmath<reassoc> : f32
    linalg.yield %3 : f32
  }
  %h = memref.alloc() : memref<64x96xbf16>
  linalg.generic #map ins(%c, %s, %bias : memref<64x96xf32>, memref<f32>, memref<96xf32>) outs(%h : memref<64x96xbf16>) {
  ^bb0(%x: f32, %scale: f32, %bn: f32, %o: bf16):
    %r = arith.divf %one, %scale : f32
    %0 = arith.addf %x, %bn : f32
    %1 = arith.mulf %0, %r : f32
    %2 = arith.truncf %1 : f32 to bf16
    linalg.yield %2 : bf16
  }
  memref.dealloc %c : memref<64x96xf32>
  memref.copy %h, %out : memref<64x96xbf16> to memref<64x96xbf16>
  return
}
