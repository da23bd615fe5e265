// Small reductions to one element each, independent of one another (as
// delayed scaling's history maxima are): qtrain-block-reductions gives
// them one launch and one tree, each result stored by its own thread. The
// absmax of h0, the absmax of h1, the maximum of h2 (from -inf), the
// reassociated sum of h3 and the absmax of 1280 terms (a loop a thread)
// must come out as the CPU pipeline (loop order) prints them, and as
// computed by hand: each input has its largest term at its last or first
// element, which a share that missed it would show; the sum's terms are
// small integers (exact in any order).
// RUN: qtrain-opt %s -qtrain-lower-to-cpu=vectorize=false | %run_gpu_emulator | FileCheck %s
// RUN: qtrain-opt %s -qtrain-lower-to-gpu-emulator=chip=sm_90a | %run_gpu_emulator | FileCheck %s
// The group, as the GPU pipeline builds it: warps combine by shuffles,
// then across the block through a value a warp for each result (the
// 1280-term absmax needs all eight warps):
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm=chip=sm_90a \
// RUN:   --mlir-print-ir-after=qtrain-block-reductions -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GROUP
// GROUP-LABEL: func.func private @reductions_gpu(
// GROUP:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}) workgroup({{[^:]+}} : memref<8xf32, #gpu.address_space<workgroup>>, {{[^:]+}} : memref<8xf32, #gpu.address_space<workgroup>>, {{[^:]+}} : memref<8xf32, #gpu.address_space<workgroup>>, {{[^:]+}} : memref<8xf32, #gpu.address_space<workgroup>>, {{[^:]+}} : memref<8xf32, #gpu.address_space<workgroup>>)
// GROUP:           gpu.shuffle  xor
// GROUP-NOT:     gpu.launch
// GROUP:         return

// CHECK: [20,  21,  22,  35,  50,  40]
// CHECK: [499500,  333]

// 64-bit sums go through the shared-memory tree instead of shuffles: the
// sum of 0, ..., 999 and of 333 ones.
func.func @wide_sums() {
  %e = tensor.empty() : tensor<1000xi64>
  %x = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      outs(%e : tensor<1000xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %v = arith.index_cast %i : index to i64
    linalg.yield %v : i64
  } -> tensor<1000xi64>
  %zero = arith.constant 0 : i64
  %z = tensor.empty() : tensor<i64>
  %init = linalg.fill ins(%zero : i64) outs(%z : tensor<i64>) -> tensor<i64>
  %sum = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>,
                                          affine_map<(i) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%x : tensor<1000xi64>) outs(%init : tensor<i64>) {
  ^bb0(%in: i64, %acc: i64):
    %a = arith.addi %acc, %in : i64
    linalg.yield %a : i64
  } -> tensor<i64>
  %slice = tensor.extract_slice %x[0] [333] [1]
      : tensor<1000xi64> to tensor<333xi64>
  %init2 = linalg.fill ins(%zero : i64) outs(%z : tensor<i64>) -> tensor<i64>
  %count = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>,
                                            affine_map<(i) -> ()>],
                           iterator_types = ["reduction"]}
      ins(%slice : tensor<333xi64>) outs(%init2 : tensor<i64>) {
  ^bb0(%in: i64, %acc: i64):
    %one = arith.constant 1 : i64
    %a = arith.addi %acc, %one : i64
    linalg.yield %a : i64
  } -> tensor<i64>
  %v0 = tensor.extract %sum[] : tensor<i64>
  %v1 = tensor.extract %count[] : tensor<i64>
  %all = tensor.from_elements %v0, %v1 : tensor<2xi64>
  %m = bufferization.to_buffer %all : tensor<2xi64> to memref<2xi64>
  %u = memref.cast %m : memref<2xi64> to memref<*xi64>
  call @printMemrefI64(%u) : (memref<*xi64>) -> ()
  return
}

func.func private @printMemrefI64(memref<*xi64>)

func.func private @printMemrefF32(memref<*xf32>)

// h_k[i] = (i (k + 3)) mod 17 - 8, then h0[15] = 20, h1[15] = -21,
// h2[15] = 22, h3[0] = 30.
func.func @history(%k: index, %at: index, %spike: f32) -> tensor<16xf32> {
  %e = tensor.empty() : tensor<16xf32>
  %h = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      outs(%e : tensor<16xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %c3 = arith.constant 3 : index
    %c17 = arith.constant 17 : index
    %k3 = arith.addi %k, %c3 : index
    %p = arith.muli %i, %k3 : index
    %m = arith.remui %p, %c17 : index
    %mi = arith.index_cast %m : index to i32
    %mf = arith.sitofp %mi : i32 to f32
    %eight = arith.constant 8.0 : f32
    %v = arith.subf %mf, %eight : f32
    %isat = arith.cmpi eq, %i, %at : index
    %r = arith.select %isat, %spike, %v : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  return %h : tensor<16xf32>
}

// x[i] = i mod 13 - 6, x[1279] = -50.
func.func @wide() -> tensor<1280xf32> {
  %e = tensor.empty() : tensor<1280xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      outs(%e : tensor<1280xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %c13 = arith.constant 13 : index
    %c1279 = arith.constant 1279 : index
    %m = arith.remui %i, %c13 : index
    %mi = arith.index_cast %m : index to i32
    %mf = arith.sitofp %mi : i32 to f32
    %six = arith.constant 6.0 : f32
    %v = arith.subf %mf, %six : f32
    %last = arith.cmpi eq, %i, %c1279 : index
    %spike = arith.constant -50.0 : f32
    %r = arith.select %last, %spike, %v : f32
    linalg.yield %r : f32
  } -> tensor<1280xf32>
  return %x : tensor<1280xf32>
}

#all16 = {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
          iterator_types = ["reduction"]}

func.func @reductions(%h0: tensor<16xf32>, %h1: tensor<16xf32>,
                      %h2: tensor<16xf32>, %h3: tensor<16xf32>,
                      %x: tensor<1280xf32>) -> tensor<6xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e0 = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %m0 = linalg.generic #all16 ins(%h0 : tensor<16xf32>) outs(%i0 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  // A use of the first result between the reductions: the later ones move
  // up past it.
  %d0 = tensor.empty() : tensor<f32>
  %twice = linalg.generic {indexing_maps = [affine_map<() -> ()>,
                                            affine_map<() -> ()>],
                           iterator_types = []}
      ins(%m0 : tensor<f32>) outs(%d0 : tensor<f32>) {
  ^bb0(%in: f32, %o: f32):
    %d = arith.addf %in, %in : f32
    linalg.yield %d : f32
  } -> tensor<f32>
  %e1 = tensor.empty() : tensor<f32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<f32>) -> tensor<f32>
  %m1 = linalg.generic #all16 ins(%h1 : tensor<16xf32>) outs(%i1 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %e = tensor.empty() : tensor<f32>
  %i2 = linalg.fill ins(%ninf : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m2 = linalg.generic #all16 ins(%h2 : tensor<16xf32>) outs(%i2 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %i3 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %s3 = linalg.generic #all16 ins(%h3 : tensor<16xf32>) outs(%i3 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in fastmath<reassoc> : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %i4 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m4 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>,
                                         affine_map<(i) -> ()>],
                        iterator_types = ["reduction"]}
      ins(%x : tensor<1280xf32>) outs(%i4 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v0 = tensor.extract %m0[] : tensor<f32>
  %v1 = tensor.extract %m1[] : tensor<f32>
  %v2 = tensor.extract %m2[] : tensor<f32>
  %v3 = tensor.extract %s3[] : tensor<f32>
  %v4 = tensor.extract %m4[] : tensor<f32>
  %v5 = tensor.extract %twice[] : tensor<f32>
  %all = tensor.from_elements %v0, %v1, %v2, %v3, %v4, %v5 : tensor<6xf32>
  return %all : tensor<6xf32>
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c15 = arith.constant 15 : index
  %s0 = arith.constant 20.0 : f32
  %s1 = arith.constant -21.0 : f32
  %s2 = arith.constant 22.0 : f32
  %s3 = arith.constant 30.0 : f32
  %h0 = call @history(%c0, %c15, %s0) : (index, index, f32) -> tensor<16xf32>
  %h1 = call @history(%c1, %c15, %s1) : (index, index, f32) -> tensor<16xf32>
  %h2 = call @history(%c2, %c15, %s2) : (index, index, f32) -> tensor<16xf32>
  %h3 = call @history(%c3, %c0, %s3) : (index, index, f32) -> tensor<16xf32>
  %x = call @wide() : () -> tensor<1280xf32>
  %r = call @reductions(%h0, %h1, %h2, %h3, %x)
      : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>,
         tensor<1280xf32>) -> tensor<6xf32>
  %m = bufferization.to_buffer %r : tensor<6xf32> to memref<6xf32>
  %u = memref.cast %m : memref<6xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  call @wide_sums() : () -> ()
  return
}
