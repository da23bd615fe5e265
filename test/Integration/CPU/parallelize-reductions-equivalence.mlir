// qtrain-parallelize-reductions (which qtrain-lower-to-nvvm runs) splits the
// absmax and min/max reductions behind scales into partial results; max and
// min do not depend on the order of their terms, so the scales (per tensor,
// per channel, and int8's min/max and batch min/max with their zero points)
// are the same bits.
// Here both forms run on the CPU and print the scales' bits (as i32):
// identical.
// RUN: %run_cpu > %t.serial
// RUN: qtrain-opt %s -convert-qtrain-to-linalg -qtrain-parallelize-reductions \
// RUN:   | qtrain-opt -qtrain-lower-to-cpu \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so \
// RUN:   > %t.split
// RUN: grep -v "base@" %t.serial > %t.serial.bits
// RUN: grep -v "base@" %t.split > %t.split.bits
// RUN: diff %t.serial.bits %t.split.bits
// RUN: FileCheck %s < %t.split
// The reductions were split (partial results of the outer loops).
// RUN: qtrain-opt %s -convert-qtrain-to-linalg -qtrain-parallelize-reductions | FileCheck %s --check-prefix=SPLIT
// SPLIT:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<32x8xf32>)
// SPLIT:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x32xf32>)
// SPLIT-COUNT-2: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<32x8xf32>)
// SPLIT:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}} : tensor<32x8x20x20xf32>) outs(%{{.+}}, %{{.+}} : tensor<32x8xf32>, tensor<32x8xf32>)
// CHECK-COUNT-6: Unranked Memref {{.*}} data =
// CHECK-NEXT: [{{[0-9]+}}

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

func.func @print(%t: tensor<?xf32>) {
  %bits = arith.bitcast %t : tensor<?xf32> to tensor<?xi32>
  %m = bufferization.to_buffer %bits : tensor<?xi32> to memref<?xi32>
  %u = memref.cast %m : memref<?xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  %e = tensor.empty() : tensor<32x8x20x20xf32>
  // sin(linear index * 0.37) * (1 + index mod 7): signed, uneven.
  %x = linalg.generic {indexing_maps = [#id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<32x8x20x20xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %c8 = arith.constant 8 : index
    %c20 = arith.constant 20 : index
    %c7 = arith.constant 7 : index
    %a = arith.muli %i0, %c8 : index
    %b = arith.addi %a, %i1 : index
    %c = arith.muli %b, %c20 : index
    %d = arith.addi %c, %i2 : index
    %f = arith.muli %d, %c20 : index
    %g = arith.addi %f, %i3 : index
    %r = arith.remui %g, %c7 : index
    %gi = arith.index_cast %g : index to i64
    %ri = arith.index_cast %r : index to i64
    %gf = arith.sitofp %gi : i64 to f32
    %rf = arith.sitofp %ri : i64 to f32
    %k = arith.constant 0.37 : f32
    %one = arith.constant 1.0 : f32
    %t = arith.mulf %gf, %k : f32
    %s = math.sin %t : f32
    %amp = arith.addf %rf, %one : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<32x8x20x20xf32>
  %s0 = qtrain.compute_scale %x for float<f8E4M3FN> using <absmax> : tensor<32x8x20x20xf32> -> tensor<f32>
  %s0_ = tensor.expand_shape %s0 [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %p0 = tensor.cast %s0_ : tensor<1xf32> to tensor<?xf32>
  call @print(%p0) : (tensor<?xf32>) -> ()
  %s1 = qtrain.compute_scale %x for float<f8E5M2> using <absmax, per_channel, axis = 1> : tensor<32x8x20x20xf32> -> tensor<8xf32>
  %p1 = tensor.cast %s1 : tensor<8xf32> to tensor<?xf32>
  call @print(%p1) : (tensor<?xf32>) -> ()
  %s2, %z2 = qtrain.compute_scale %x for int<8, unsigned> using <minmax> : tensor<32x8x20x20xf32> -> tensor<f32>, tensor<f32>
  %s2_ = tensor.expand_shape %s2 [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %p2 = tensor.cast %s2_ : tensor<1xf32> to tensor<?xf32>
  call @print(%p2) : (tensor<?xf32>) -> ()
  %z2_ = tensor.expand_shape %z2 [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %p3 = tensor.cast %z2_ : tensor<1xf32> to tensor<?xf32>
  call @print(%p3) : (tensor<?xf32>) -> ()
  // Range BN's input scale: the batch mean of per-sample ranges, summed in
  // sample order.
  %s4, %z4 = qtrain.compute_scale %x for int<8, unsigned> using <batch_minmax> : tensor<32x8x20x20xf32> -> tensor<f32>, tensor<f32>
  %s4_ = tensor.expand_shape %s4 [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %p4 = tensor.cast %s4_ : tensor<1xf32> to tensor<?xf32>
  call @print(%p4) : (tensor<?xf32>) -> ()
  %z4_ = tensor.expand_shape %z4 [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %p5 = tensor.cast %z4_ : tensor<1xf32> to tensor<?xf32>
  call @print(%p5) : (tensor<?xf32>) -> ()
  return
}

func.func private @printMemrefI32(memref<*xi32>)
