// RUN: qtrain-opt %s -split-input-file -qtrain-block-reductions | FileCheck %s

// The maximum of 784 partials: one block of 256 threads, each over a strided
// share from the neutral element; a butterfly of shuffles in each warp
// (lanes 16 down to 1 apart) gives every lane its warp's maximum, lane 0 of
// each warp stores it, and after the one barrier every warp combines the
// eight (4 down to 1 apart); thread 0 combines the total into the output's
// initial value.
// CHECK-LABEL: func.func @final_max
// CHECK-SAME:    (%[[P:.+]]: memref<784xf32>, %[[OUT:.+]]: memref<1xf32>)
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:[a-z0-9_]+]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}} = %[[C256:[a-z0-9_]+]], {{.*}}) workgroup(%[[S:.+]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK-DAG:       %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:       %[[N:.+]] = arith.constant 784 : index
// CHECK:           %[[ACC:.+]] = scf.for %[[E:.+]] = %[[T]] to %[[N]] step %{{.+}} iter_args(%[[A:.+]] = %[[NEG]]) -> (f32)
// CHECK:             %[[I:.+]] = arith.remui %[[E]]
// CHECK:             %[[X:.+]] = memref.load %[[P]][%[[I]]]
// CHECK:             %[[M:.+]] = arith.maximumf %[[A]], %[[X]]
// CHECK:             scf.yield %[[M]]
// CHECK-NOT:       gpu.barrier
// CHECK:           %[[S16:.+]], %{{.+}} = gpu.shuffle  xor %[[ACC]], %c16_i32, %c32_i32 : f32
// CHECK-NEXT:      arith.maximumf %[[ACC]], %[[S16]]
// CHECK:           gpu.shuffle  xor %{{.+}}, %c8_i32,
// CHECK:           gpu.shuffle  xor %{{.+}}, %c4_i32,
// CHECK:           gpu.shuffle  xor %{{.+}}, %c2_i32,
// CHECK:           gpu.shuffle  xor %{{.+}}, %c1_i32,
// CHECK-NEXT:      %[[WARPMAX:.+]] = arith.maximumf
// CHECK:           %[[LANE:.+]] = arith.remui %[[T]], %c32
// CHECK:           %[[WARP:.+]] = arith.divui %[[T]], %c32
// CHECK:           memref.store %[[WARPMAX]], %[[S]][%[[WARP]]]
// CHECK:           gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.load %[[S]][%[[LANE]]]
// CHECK:           gpu.shuffle  xor %{{.+}}, %c4_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c2_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c1_i32
// CHECK-NEXT:      %[[TOTAL:.+]] = arith.maximumf
// CHECK:           %[[FIRST:.+]] = arith.cmpi eq, %[[T]]
// CHECK:           scf.if %[[FIRST]] {
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
// than one output element of fewer terms than a block's threads, and a
// tensor reduction.
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
// atomic maximumf (exact: the order of the blocks does not matter), after
// five shuffles in each warp, one barrier and three more.
// CHECK-LABEL: func.func @absmax_blocks
// CHECK-SAME:    (%{{.+}}: memref<64x784xf32>, %[[OUT:.+]]: memref<1xf32>)
// CHECK:         gpu.launch blocks(%[[B:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c13, {{.*}}) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c256
// CHECK:           %[[BASE:.+]] = arith.muli %[[B]], %{{.+}} : index
// CHECK:           %[[FROM:.+]] = arith.addi %[[BASE]], %[[T]] : index
// CHECK:           scf.for %{{.+}} = %[[FROM]] to %c50176{{.*}} step %c3328
// CHECK-COUNT-5:   gpu.shuffle  xor
// CHECK:           gpu.barrier
// CHECK-COUNT-3:   gpu.shuffle  xor
// CHECK-NEXT:      %[[TOTAL:.+]] = arith.maximumf
// CHECK:           %[[LEADER:.+]] = arith.cmpi eq, %[[T]]
// CHECK-NEXT:      scf.if %[[LEADER]] {
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

// -----

// Batch norm's per-channel statistics: a block for each of the 8 channels
// (the block's index is the channel), its threads striding over the
// channel's 4x16x16 terms row-major over (d0, d2, d3), the mean and the
// sum of squares (two outputs) combined in each warp by shuffles, then
// across the warps through two workgroup buffers of a value a warp; each
// block's totals stored into the initial values at its channel by threads
// 0 and 1: no atomics.
// CHECK-LABEL: func.func @per_channel
// CHECK-SAME:    (%[[X:[a-z0-9_]+]]: memref<4x8x16x16xf32>, %[[S:[a-z0-9_]+]]: memref<8xf32>, %[[Q:[a-z0-9_]+]]: memref<8xf32>)
// CHECK:         gpu.launch blocks(%[[B:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c8, {{.*}}) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c256{{.*}}) workgroup(%[[WS:[a-z0-9_]+]] : memref<8xf32, #gpu.address_space<workgroup>>, %[[WQ:[a-z0-9_]+]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK:           %[[C:[a-z0-9_]+]] = arith.remui %[[B]], %c8{{.*}} : index
// CHECK:           %[[R:[a-z0-9_]+]]:2 = scf.for %[[E:[a-z0-9_]+]] = %[[T]] to %c1024{{.*}} step %c256{{.*}} iter_args(%[[AS:[a-z0-9_]+]] = %{{.+}}, %[[AQ:[a-z0-9_]+]] = %{{.+}}) -> (f32, f32)
// CHECK-DAG:         %[[W:[a-z0-9_]+]] = arith.remui %[[E]], %c16
// CHECK-DAG:         %[[E1:[a-z0-9_]+]] = arith.divui %[[E]], %c16
// CHECK-DAG:         %[[H:[a-z0-9_]+]] = arith.remui %[[E1]], %c16
// CHECK-DAG:         %[[E2:[a-z0-9_]+]] = arith.divui %[[E1]], %c16
// CHECK-DAG:         %[[N:[a-z0-9_]+]] = arith.remui %[[E2]], %c4
// CHECK:             %[[V:[a-z0-9_]+]] = memref.load %[[X]][%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK:             %[[SUM:[a-z0-9_]+]] = arith.addf %[[AS]], %[[V]] fastmath<reassoc>
// CHECK:             %[[SQ:[a-z0-9_]+]] = arith.mulf %[[V]], %[[V]]
// CHECK:             %[[SUMSQ:[a-z0-9_]+]] = arith.addf %[[AQ]], %[[SQ]] fastmath<reassoc>
// CHECK:             scf.yield %[[SUM]], %[[SUMSQ]]
// CHECK:           gpu.shuffle  xor %[[R]]#0, %c16_i32
// CHECK:           gpu.shuffle  xor %[[R]]#1, %c16_i32
// CHECK-COUNT-8:   gpu.shuffle  xor
// CHECK:           %[[WARP:[a-z0-9_]+]] = arith.divui %[[T]], %c32
// CHECK:           memref.store %{{.+}}, %[[WS]][%[[WARP]]]
// CHECK:           memref.store %{{.+}}, %[[WQ]][%[[WARP]]]
// CHECK:           gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK-COUNT-4:   gpu.shuffle  xor
// CHECK:           gpu.shuffle  xor
// CHECK-NEXT:      %[[TS:[a-z0-9_]+]] = arith.addf %{{.+}}, %{{.+}} fastmath<reassoc>
// CHECK-NEXT:      gpu.shuffle  xor
// CHECK-NEXT:      %[[TQ:[a-z0-9_]+]] = arith.addf %{{.+}}, %{{.+}} fastmath<reassoc>
// CHECK:           arith.cmpi eq, %[[T]], %c0
// CHECK-NOT:         memref.atomic_rmw
// CHECK:             %[[IS:[a-z0-9_]+]] = memref.load %[[S]][%[[C]]]
// CHECK:             %[[NS:[a-z0-9_]+]] = arith.addf %[[IS]], %[[TS]] fastmath<reassoc>
// CHECK:             memref.store %[[NS]], %[[S]][%[[C]]]
// CHECK:           arith.cmpi eq, %[[T]], %c1
// CHECK:             %[[IQ:[a-z0-9_]+]] = memref.load %[[Q]][%[[C]]]
// CHECK:             arith.addf %[[IQ]], %[[TQ]] fastmath<reassoc>
// CHECK:             memref.store %{{.+}}, %[[Q]][%[[C]]]
// CHECK-NOT:     linalg.generic
func.func @per_channel(%x: memref<4x8x16x16xf32>, %s: memref<8xf32>,
                       %q: memref<8xf32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                       affine_map<(d0, d1, d2, d3) -> (d1)>,
                       affine_map<(d0, d1, d2, d3) -> (d1)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x : memref<4x8x16x16xf32>) outs(%s, %q : memref<8xf32>, memref<8xf32>) {
  ^bb0(%in: f32, %sum: f32, %sumsq: f32):
    %a = arith.addf %sum, %in fastmath<reassoc> : f32
    %sq = arith.mulf %in, %in : f32
    %b = arith.addf %sumsq, %sq fastmath<reassoc> : f32
    linalg.yield %a, %b : f32, f32
  }
  return
}

// -----

// Inputs read through any affine map (max-pool backward reads the pooled
// output at (h floordiv 2, w floordiv 2)): applied to the term's indices.
// CHECK-LABEL: func.func @pooled_operand
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c8,
// CHECK:           scf.for
// CHECK:             %[[PH:[a-z0-9_]+]] = affine.apply #{{.+}}(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
// CHECK:             %[[PW:[a-z0-9_]+]] = affine.apply #{{.+}}(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
// CHECK:             memref.load %{{.+}}[%{{.+}}, %{{.+}}, %[[PH]], %[[PW]]] : memref<4x8x8x8xf32>
func.func @pooled_operand(%x: memref<4x8x16x16xf32>, %p: memref<4x8x8x8xf32>,
                          %s: memref<8xf32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                       affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2, d3 floordiv 2)>,
                       affine_map<(d0, d1, d2, d3) -> (d1)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x, %p : memref<4x8x16x16xf32>, memref<4x8x8x8xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%in: f32, %pool: f32, %sum: f32):
    %m = arith.mulf %in, %pool : f32
    %a = arith.addf %sum, %m fastmath<reassoc> : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Left alone: an output indexed by a reduction loop (each term writes its
// own element; no block's point names it).
// CHECK-LABEL: func.func @output_along_reduction
// CHECK-NOT:     gpu.launch
// CHECK:         linalg.generic
func.func @output_along_reduction(%x: memref<4x512xf32>, %y: memref<512xf32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x512xf32>) outs(%y : memref<512xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Fewer terms than threads (a delayed scale's 16-step amax history): only
// threads 0-15 hold terms, all in warp 0, so four shuffles (lanes 8 down
// to 1 apart) leave thread 0 with the maximum: no barrier, no shared
// memory.
// CHECK-LABEL: func.func @history_max
// CHECK:         gpu.launch
// CHECK-NOT:       workgroup
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.shuffle  xor %{{.+}}, %c8_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c4_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c2_i32
// CHECK:           gpu.shuffle  xor %{{.+}}, %c1_i32
// CHECK-NOT:       gpu.shuffle
// CHECK-NOT:       gpu.barrier
// CHECK:         gpu.terminator
func.func @history_max(%h: memref<16xf32>, %out: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                   affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%h : memref<16xf32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A fill of the whole output just before the reduction: its scalar is the
// initial value (no load of the output), and the fill goes.
// CHECK-LABEL: func.func @fill_folded
// CHECK-SAME:    (%{{.+}}: memref<16xf32>, %[[OUT:.+]]: memref<1xf32>)
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NOT:     linalg.generic
// CHECK:         gpu.launch
// CHECK-NOT:       memref.load %[[OUT]][
// CHECK:           gpu.shuffle  xor %{{.+}}, %c1_i32
// CHECK-NEXT:      %[[TOTAL:.+]] = arith.maximumf
// CHECK:           scf.if
// CHECK-NEXT:      %[[R:.+]] = arith.maximumf %[[ZERO]], %[[TOTAL]] : f32
// CHECK-NEXT:      memref.store %[[R]], %[[OUT]][
// CHECK-NOT:     linalg.generic
func.func @fill_folded(%h: memref<16xf32>, %out: memref<1xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>,
                                   affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%zero : f32) outs(%out : memref<1xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%h : memref<16xf32>) outs(%out : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Delayed scaling's history maxima: reductions of one block each that do
// not depend on one another share one launch where the first was, their
// shuffles interleaved (16 terms: four a maximum, all in warp 0: no
// barrier, no shared memory), and thread j stores the j-th result. The
// second and third move up past the scale computed from the first and
// past an absmax of several blocks, with the allocations of their
// outputs; the second's fill goes, the third's output holds its initial
// value. Each thread holds at most one term: a branch, not a loop, and
// the three loads come before any shuffle. (The arguments are
// `llvm.noalias`, as the flat interface's buffers are: otherwise the scale
// might be a history.)
// CHECK-LABEL: func.func @grouped_histories
// CHECK-SAME:    (%[[H0:[a-z0-9_]+]]: memref<16xf32> {llvm.noalias}, %[[H1:[a-z0-9_]+]]: memref<16xf32> {llvm.noalias}, %[[H2:[a-z0-9_]+]]: memref<16xf32> {llvm.noalias}, %{{.+}}: memref<64x784xf32> {llvm.noalias}, %[[C:[a-z0-9_]+]]: memref<1xf32> {llvm.noalias}
// CHECK-DAG:     %[[A:.+]] = memref.alloc() : memref<1xf32>
// CHECK-DAG:     %[[B:.+]] = memref.alloc() : memref<1xf32>
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads(%[[T:[a-z0-9]+]], {{.*}}) in ({{.*}}) {
// CHECK:           scf.if %{{.+}} -> (f32) {
// CHECK:             memref.load %[[H0]]
// CHECK-NOT:       gpu.shuffle
// CHECK:           scf.if %{{.+}} -> (f32) {
// CHECK:             memref.load %[[H1]]
// CHECK-NOT:       gpu.shuffle
// CHECK:           scf.if %{{.+}} -> (f32) {
// CHECK:             memref.load %[[H2]]
// CHECK-COUNT-12:  gpu.shuffle  xor
// CHECK-NOT:       gpu.shuffle
// CHECK-NOT:       gpu.barrier
// CHECK:           arith.cmpi eq, %[[T]], %c0
// CHECK:           memref.store %{{.+}}, %[[A]][
// CHECK:           arith.cmpi eq, %[[T]], %c1
// CHECK:           memref.store %{{.+}}, %[[B]][
// CHECK:           arith.cmpi eq, %[[T]], %c2
// CHECK:           memref.load %[[C]][
// CHECK:           memref.store %{{.+}}, %[[C]][
// CHECK:         gpu.terminator
// The scale from the first, then the absmax of 13 blocks:
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[A]] : memref<1xf32>)
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %c13
// CHECK-NOT:     linalg.generic
// CHECK-NOT:     gpu.launch
// CHECK:         return
#hist = {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                          affine_map<(d0, d1) -> (d0)>],
         iterator_types = ["parallel", "reduction"]}
#fill = {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
         iterator_types = ["parallel"]}
func.func @grouped_histories(%h0: memref<16xf32> {llvm.noalias},
                             %h1: memref<16xf32> {llvm.noalias},
                             %h2: memref<16xf32> {llvm.noalias},
                             %x: memref<64x784xf32> {llvm.noalias},
                             %c: memref<1xf32> {llvm.noalias},
                             %scale: memref<1xf32> {llvm.noalias},
                             %amax: memref<1xf32> {llvm.noalias}) {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<1xf32>
  linalg.generic #fill ins(%zero : f32) outs(%a : memref<1xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic #hist ins(%h0 : memref<16xf32>) outs(%a : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                   affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%a : memref<1xf32>) outs(%scale : memref<1xf32>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.divf %o, %in : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0)>],
                  iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<64x784xf32>) outs(%amax : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  %b = memref.alloc() : memref<1xf32>
  linalg.generic #fill ins(%zero : f32) outs(%b : memref<1xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic #hist ins(%h1 : memref<16xf32>) outs(%b : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  linalg.generic #hist ins(%h2 : memref<16xf32>) outs(%c : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  }
  memref.dealloc %a : memref<1xf32>
  memref.dealloc %b : memref<1xf32>
  return
}

// -----

// Not grouped: the second reduction reads what the first writes; the
// third's input is written between the first and it (it cannot move up).
// CHECK-LABEL: func.func @dependent_not_grouped
// CHECK-COUNT-3: gpu.launch blocks({{.*}}) in ({{.*}} = %c1
// CHECK-NOT:     gpu.launch
#hist = {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                          affine_map<(d0, d1) -> (d0)>],
         iterator_types = ["parallel", "reduction"]}
func.func @dependent_not_grouped(%h: memref<16xf32>, %m: memref<1xf32>,
                                 %out: memref<1xf32>, %h2: memref<16xf32>,
                                 %out2: memref<1xf32>) {
  linalg.generic #hist ins(%h : memref<16xf32>) outs(%m : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %acc, %in : f32
    linalg.yield %r : f32
  }
  linalg.generic #hist ins(%m : memref<1xf32>) outs(%out : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %acc, %in : f32
    linalg.yield %r : f32
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%h2 : memref<16xf32>)
  linalg.generic #hist ins(%h2 : memref<16xf32>) outs(%out2 : memref<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %acc, %in : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// 64-bit values (shfl.sync moves 32 bits) combine in the shared-memory
// tree: a value a thread, eight halving steps, a barrier each.
// CHECK-LABEL: func.func @wide_sum
// CHECK:         gpu.launch {{.*}} workgroup(%[[S:.+]] : memref<256xi64, #gpu.address_space<workgroup>>)
// CHECK-NOT:       gpu.shuffle
// CHECK:           memref.store %{{.+}}, %[[S]]
// CHECK-COUNT-9:   gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.load %[[S]][%c0
// CHECK:         gpu.terminator
func.func @wide_sum(%x: memref<1024xi64>, %out: memref<i64>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                   affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<1024xi64>) outs(%out : memref<i64>) {
  ^bb0(%in: i64, %acc: i64):
    %a = arith.addi %acc, %in : i64
    linalg.yield %a : i64
  }
  return
}
