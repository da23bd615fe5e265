// RUN: qtrain-opt %s -split-input-file -qtrain-block-reductions | FileCheck %s

// The maximum of 784 partials: one block of 256 threads, each over a strided
// share from the neutral element, then eight halving steps in shared
// memory, then thread 0 into the output's initial value.
// CHECK-LABEL: func.func @final_max
// CHECK-SAME:    (%[[P:.+]]: memref<784xf32>, %[[OUT:.+]]: memref<1xf32>)
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:[a-z0-9_]+]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}} = %[[C256:[a-z0-9_]+]], {{.*}}) workgroup(%[[S:.+]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK:           %[[FROM:.+]] = arith.addi %{{.+}}, %[[T]] : index
// CHECK-DAG:       %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:       %[[N:.+]] = arith.constant 784 : index
// CHECK:           %[[ACC:.+]] = scf.for %[[E:.+]] = %[[FROM]] to %[[N]] step %{{.+}} iter_args(%[[A:.+]] = %[[NEG]]) -> (f32)
// CHECK:             %[[I:.+]] = arith.remui %[[E]]
// CHECK:             %[[X:.+]] = memref.load %[[P]][%[[I]]]
// CHECK:             %[[M:.+]] = arith.maximumf %[[A]], %[[X]]
// CHECK:             scf.yield %[[M]]
// CHECK:           memref.store %[[ACC]], %[[S]][%[[T]]]
// CHECK:           gpu.barrier
// CHECK:           arith.cmpi ult, %[[T]], %{{.+}}
// CHECK:           scf.if
// CHECK:             arith.maximumf
// CHECK:           gpu.barrier
// CHECK-COUNT-7:   gpu.barrier
// CHECK:           %[[FIRST:.+]] = arith.cmpi eq, %[[T]]
// CHECK:           scf.if %[[FIRST]] {
// CHECK:             %[[TOTAL:.+]] = memref.load %[[S]][%{{.+}}]
// CHECK:             %[[INIT:.+]] = memref.load %[[OUT]][%{{.+}}]
// CHECK:             %[[R:.+]] = arith.maximumf %[[INIT]], %[[TOTAL]]
// CHECK:             memref.store %[[R]], %[[OUT]][%{{.+}}]
// CHECK-NOT:     linalg.generic
func.func @final_max(%p: memref<784xf32>, %out: memref<1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%p : memref<784xf32>) outs(%out : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A whole 2-D absmax into a 0-d output: the share's index is delinearized
// row-major, and the body (absf) is computed per term.
// CHECK-LABEL: func.func @absmax_2d
// CHECK:         gpu.launch
// CHECK:           scf.for %[[E:[a-z0-9]+]] =
// CHECK-DAG:         %[[J:.+]] = arith.remui %[[E]], %[[C32:.+]] : index
// CHECK-DAG:         %[[R:.+]] = arith.divui %[[E]], %[[C32]] : index
// CHECK:             %[[I:.+]] = arith.remui %[[R]], %{{.+}} : index
// CHECK:             %[[X:.+]] = memref.load %{{.+}}[%[[I]], %[[J]]] : memref<16x32xf32>
// CHECK:             math.absf %[[X]]
// CHECK:           memref.store %{{.+}}, %{{.+}}[] : memref<f32>
func.func @absmax_2d(%x: memref<16x32xf32>, %out: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> ()>],
                  iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<16x32xf32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Left alone: a float sum without reassoc (its order is its value), more
// than one output element, and a tensor reduction.
// CHECK-LABEL: func.func @not_reordered
// CHECK-NOT:     gpu.launch
// CHECK-COUNT-3: linalg.generic
func.func @not_reordered(%x: memref<64xf32>, %s: memref<1xf32>,
                         %y: memref<4x64xf32>, %m: memref<4xf32>,
                         %t: tensor<64xf32>, %u: tensor<f32>) -> tensor<f32> {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64xf32>) outs(%s : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%y : memref<4x64xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.maximumf %acc, %in : f32
    linalg.yield %a : f32
  }
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                        affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%t : tensor<64xf32>) outs(%u : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.maximumf %acc, %in : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// An absmax over 50176 terms: 13 blocks (one for each 4096 terms), thread
// t of block b starting at term 256 b + t, striding by 13 x 256; each
// block's thread 0 combines the block's maximum into the output with an
// atomic maximumf (exact: the order of the blocks does not matter).
// CHECK-LABEL: func.func @absmax_blocks
// CHECK-SAME:    (%{{.+}}: memref<64x784xf32>, %[[OUT:.+]]: memref<1xf32>)
// CHECK:         gpu.launch blocks(%[[B:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c13, {{.*}}) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c256
// CHECK:           %[[BASE:.+]] = arith.muli %[[B]], %{{.+}} : index
// CHECK:           %[[FROM:.+]] = arith.addi %[[BASE]], %[[T]] : index
// CHECK:           scf.for %{{.+}} = %[[FROM]] to %c50176{{.*}} step %c3328
// CHECK-COUNT-9:   gpu.barrier
// CHECK:           %[[LEADER:.+]] = arith.cmpi eq, %[[T]]
// CHECK-NEXT:      scf.if %[[LEADER]] {
// CHECK-NEXT:        %[[TOTAL:.+]] = memref.load
// CHECK:             memref.atomic_rmw maximumf %[[TOTAL]], %[[OUT]][%{{.+}}] : (f32, memref<1xf32>) -> f32
// CHECK-NOT:         memref.store %{{.+}}, %[[OUT]]
func.func @absmax_blocks(%x: memref<64x784xf32>, %out: memref<1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0)>],
                  iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<64x784xf32>) outs(%out : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// No atomic combines as xor or integer mul does (LLVM's atomicrmw has
// neither): one block, however many terms.
// CHECK-LABEL: func.func @xor_one_block
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}}) threads
// CHECK-NOT:     memref.atomic_rmw
// CHECK:         return
// CHECK-LABEL: func.func @mul_one_block
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}}) threads
// CHECK-NOT:     memref.atomic_rmw
// CHECK:         return
func.func @xor_one_block(%x: memref<65536xi32>, %out: memref<1xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<65536xi32>) outs(%out : memref<1xi32>) {
  ^bb0(%in: i32, %acc: i32):
    %m = arith.xori %acc, %in : i32
    linalg.yield %m : i32
  }
  return
}

func.func @mul_one_block(%x: memref<65536xi32>, %out: memref<1xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<65536xi32>) outs(%out : memref<1xi32>) {
  ^bb0(%in: i32, %acc: i32):
    %m = arith.muli %acc, %in : i32
    linalg.yield %m : i32
  }
  return
}
