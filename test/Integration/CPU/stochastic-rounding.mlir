// Stochastic rounding draws Philox bits keyed by (seed, stream, element):
// the same seed gives the same codes, in one run and across runs; another
// seed or stream gives others; only the two neighbours of a value appear.
// RUN: %run_cpu > %t.first
// RUN: %run_cpu > %t.second
// The printed headers hold buffer addresses; compare the data lines.
// RUN: grep -v base@ %t.first > %t.first.data
// RUN: grep -v base@ %t.second > %t.second.data
// RUN: diff %t.first.data %t.second.data
// RUN: FileCheck %s < %t.first

#id = affine_map<(d0) -> (d0)>

func.func @codes(%x: tensor<64xf32>, %seed: i64) -> tensor<64xi32> {
  %q = qtrain.quantize %x to float<f8E4M3FN> rounding stochastic seed(%seed) {stream = 3 : i32} : tensor<64xf32> -> tensor<64xf8E4M3FN>
  %e = tensor.empty() : tensor<64xi32>
  %w = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<64xf8E4M3FN>) outs(%e : tensor<64xi32>) {
  ^bb0(%in: f8E4M3FN, %out: i32):
    %b = arith.bitcast %in : f8E4M3FN to i8
    %z = arith.extui %b : i8 to i32
    linalg.yield %z : i32
  } -> tensor<64xi32>
  return %w : tensor<64xi32>
}

func.func @print(%t: tensor<64xi32>) {
  %m = bufferization.to_buffer %t : tensor<64xi32> to memref<64xi32>
  %u = memref.cast %m : memref<64xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  // 1.0625 lies halfway between the E4M3 codes 56 (1.0) and 57 (1.125).
  %x = arith.constant dense<1.0625> : tensor<64xf32>
  %s1 = arith.constant 1 : i64
  %s2 = arith.constant 2 : i64
  %a = call @codes(%x, %s1) : (tensor<64xf32>, i64) -> tensor<64xi32>
  %b = call @codes(%x, %s1) : (tensor<64xf32>, i64) -> tensor<64xi32>
  %c = call @codes(%x, %s2) : (tensor<64xf32>, i64) -> tensor<64xi32>
  call @print(%a) : (tensor<64xi32>) -> ()
  call @print(%b) : (tensor<64xi32>) -> ()
  call @print(%c) : (tensor<64xi32>) -> ()
  return
}

func.func private @printMemrefI32(memref<*xi32>)

// Only codes 56 and 57 appear, both of them.
// CHECK: data =
// CHECK-NEXT: [[FIRST:\[(5[67], +)+5[67]\]]]
// CHECK-SAME: {{.*}}
// The same seed repeats the codes; another seed does not.
// CHECK: data =
// CHECK-NEXT: [[FIRST]]
// CHECK: data =
// CHECK-NOT: [[FIRST]]
// CHECK-NEXT: {{\[(5[67], +)+5[67]\]}}
