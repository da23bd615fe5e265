// Scaled quantization and quantized contractions, compiled and run:
// per-channel and per-block codes against hand-computed values, and int8 and
// FP8 qmatmul/qconv2d against a float reference on the dequantized operands
// (linalg in f32), reporting whether the largest error is within tolerance.
// RUN: %run_cpu | FileCheck %s --match-full-lines

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#sum = affine_map<(d0, d1, d2, d3) -> ()>
#all = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

func.func @print_i8(%q: tensor<2x4xi8>) {
  %e = tensor.empty() : tensor<2x4xi32>
  %w = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<2x4xi8>) outs(%e : tensor<2x4xi32>) {
  ^bb0(%in: i8, %out: i32):
    %z = arith.extsi %in : i8 to i32
    linalg.yield %z : i32
  } -> tensor<2x4xi32>
  %m = bufferization.to_buffer %w : tensor<2x4xi32> to memref<2x4xi32>
  %u = memref.cast %m : memref<2x4xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// 1 if max |a - b| <= tol, else 0.
func.func @within(%a: tensor<1x2x3x4xf32>, %b: tensor<1x2x3x4xf32>, %tol: f32) -> i1 {
  %zero = arith.constant 0.0 : f32
  %init = tensor.from_elements %zero : tensor<f32>
  %max = linalg.generic {indexing_maps = [#all, #all, #sum], iterator_types = ["reduction", "reduction", "reduction", "reduction"]} ins(%a, %b : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %m = arith.maximumf %acc, %ad : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v = tensor.extract %max[] : tensor<f32>
  %ok = arith.cmpf ole, %v, %tol : f32
  return %ok : i1
}

func.func @main() {
  %x = arith.constant dense<[[1.0, -2.0, 3.0, 64.0], [0.5, -0.25, 100.0, -7.0]]> : tensor<2x4xf32>
  // Per-channel scales along axis 1: codes x[i][j] / s[j].
  %s = arith.constant dense<[0.5, 0.25, 1.0, 2.0]> : tensor<4xf32>
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<4xf32>) granularity <per_channel, axis = 1> : tensor<2x4xf32> -> tensor<2x4xi8>
  // CHECK: {{\[}}[2,   -8,   3,   32],
  // CHECK-NEXT:  [1,   -1,   100,   -4]]
  call @print_i8(%q) : (tensor<2x4xi8>) -> ()
  // Per-block scales, blocks of 2 along axis 1 (shape [2, 2]).
  %sb = arith.constant dense<[[0.25, 0.5], [0.125, 1.0]]> : tensor<2x2xf32>
  %qb = qtrain.quantize %x to int<8, signed> scale(%sb : tensor<2x2xf32>) granularity <per_block, axis = 1, size = 2> : tensor<2x4xf32> -> tensor<2x4xi8>
  // CHECK: {{\[}}[4,   -8,   6,   127],
  // CHECK-NEXT:  [4,   -2,   100,   -7]]
  call @print_i8(%qb) : (tensor<2x4xi8>) -> ()

  // int8 and FP8 convolutions: qconv2d against dequantize + linalg conv.
  %input = arith.constant dense<[[[[1.0, -2.0, 3.0, 0.5, 1.5, -1.0],
                                   [0.25, 4.0, -3.0, 2.0, 1.0, 0.0],
                                   [-1.0, 1.0, 2.5, -0.5, 3.0, 2.0],
                                   [2.0, -4.0, 1.0, 0.75, -2.0, 1.0],
                                   [0.0, 1.0, -1.5, 2.0, 0.5, -3.0]]]]> : tensor<1x1x5x6xf32>
  %filter = arith.constant dense<[[[[0.5, -1.0, 0.25], [1.0, 0.0, -0.5], [0.75, 0.5, -0.25]]],
                                  [[[-0.5, 2.0, 1.0], [0.25, -0.75, 0.5], [1.0, -1.0, 0.125]]]]> : tensor<2x1x3x3xf32>
  %si = qtrain.compute_scale %input for int<8, signed> using <absmax> : tensor<1x1x5x6xf32> -> tensor<f32>
  %sf = qtrain.compute_scale %filter for int<8, signed> using <absmax, per_channel, axis = 0> : tensor<2x1x3x3xf32> -> tensor<2xf32>
  %qi = qtrain.quantize %input to int<8, signed> scale(%si : tensor<f32>) : tensor<1x1x5x6xf32> -> tensor<1x1x5x6xi8>
  %qf = qtrain.quantize %filter to int<8, signed> scale(%sf : tensor<2xf32>) granularity <per_channel, axis = 0> : tensor<2x1x3x3xf32> -> tensor<2x1x3x3xi8>
  %y = qtrain.qconv2d %qi, %qf input(int<8, signed>, scale %si : tensor<f32>) filter(int<8, signed>, scale %sf : tensor<2xf32> granularity <per_channel, axis = 0>) accumulate i32 : tensor<1x1x5x6xi8>, tensor<2x1x3x3xi8> -> tensor<1x2x3x4xf32>
  %di = qtrain.dequantize %qi from int<8, signed> scale(%si : tensor<f32>) : tensor<1x1x5x6xi8> -> tensor<1x1x5x6xf32>
  %df = qtrain.dequantize %qf from int<8, signed> scale(%sf : tensor<2xf32>) granularity <per_channel, axis = 0> : tensor<2x1x3x3xi8> -> tensor<2x1x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x3x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %ref = linalg.conv_2d_nchw_fchw ins(%di, %df : tensor<1x1x5x6xf32>, tensor<2x1x3x3xf32>) outs(%init : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %tol = arith.constant 1.0e-5 : f32
  %ok_int8 = call @within(%y, %ref, %tol) : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, f32) -> i1
  // CHECK: int8 qconv2d matches: 1
  vector.print str "int8 qconv2d matches: "
  vector.print %ok_int8 : i1

  %s8i = qtrain.compute_scale %input for float<f8E4M3FN> using <absmax> : tensor<1x1x5x6xf32> -> tensor<f32>
  %s8f = qtrain.compute_scale %filter for float<f8E5M2> using <absmax> : tensor<2x1x3x3xf32> -> tensor<f32>
  %q8i = qtrain.quantize %input to float<f8E4M3FN> scale(%s8i : tensor<f32>) : tensor<1x1x5x6xf32> -> tensor<1x1x5x6xf8E4M3FN>
  %q8f = qtrain.quantize %filter to float<f8E5M2> scale(%s8f : tensor<f32>) : tensor<2x1x3x3xf32> -> tensor<2x1x3x3xf8E5M2>
  %y8 = qtrain.qconv2d %q8i, %q8f input(float<f8E4M3FN>, scale %s8i : tensor<f32>) filter(float<f8E5M2>, scale %s8f : tensor<f32>) accumulate f32 : tensor<1x1x5x6xf8E4M3FN>, tensor<2x1x3x3xf8E5M2> -> tensor<1x2x3x4xf32>
  %d8i = qtrain.dequantize %q8i from float<f8E4M3FN> scale(%s8i : tensor<f32>) : tensor<1x1x5x6xf8E4M3FN> -> tensor<1x1x5x6xf32>
  %d8f = qtrain.dequantize %q8f from float<f8E5M2> scale(%s8f : tensor<f32>) : tensor<2x1x3x3xf8E5M2> -> tensor<2x1x3x3xf32>
  %ref8 = linalg.conv_2d_nchw_fchw ins(%d8i, %d8f : tensor<1x1x5x6xf32>, tensor<2x1x3x3xf32>) outs(%init : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %ok_fp8 = call @within(%y8, %ref8, %tol) : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, f32) -> i1
  // CHECK: fp8 qconv2d matches: 1
  vector.print str "fp8 qconv2d matches: "
  vector.print %ok_fp8 : i1
  // The reference is not trivially equal to the quantized result: the
  // float input differs from its dequantized value.
  %fref = linalg.conv_2d_nchw_fchw ins(%input, %filter : tensor<1x1x5x6xf32>, tensor<2x1x3x3xf32>) outs(%init : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %ok_float = call @within(%y8, %fref, %tol) : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, f32) -> i1
  // CHECK: fp8 equals unquantized: 0
  vector.print str "fp8 equals unquantized: "
  vector.print %ok_float : i1
  return
}

func.func private @printMemrefI32(memref<*xi32>)
