// Compiled rounding on the edge values of docs/numerics.md, printed as codes.
// The expected codes are the reference points of the spec (PyTorch c10's
// vectors for native overflow; saturation; ties; subnormals; -0; inf; NaN).
// RUN: %run_cpu | FileCheck %s --match-full-lines

#id = affine_map<(d0) -> (d0)>

func.func @print_f8(%q: tensor<12xf8E4M3FN>) {
  %e = tensor.empty() : tensor<12xi32>
  %w = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<12xf8E4M3FN>) outs(%e : tensor<12xi32>) {
  ^bb0(%in: f8E4M3FN, %out: i32):
    %b = arith.bitcast %in : f8E4M3FN to i8
    %z = arith.extui %b : i8 to i32
    linalg.yield %z : i32
  } -> tensor<12xi32>
  %m = bufferization.to_buffer %w : tensor<12xi32> to memref<12xi32>
  %u = memref.cast %m : memref<12xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_e5m2(%q: tensor<8xf8E5M2>) {
  %e = tensor.empty() : tensor<8xi32>
  %w = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<8xf8E5M2>) outs(%e : tensor<8xi32>) {
  ^bb0(%in: f8E5M2, %out: i32):
    %b = arith.bitcast %in : f8E5M2 to i8
    %z = arith.extui %b : i8 to i32
    linalg.yield %z : i32
  } -> tensor<8xi32>
  %m = bufferization.to_buffer %w : tensor<8xi32> to memref<8xi32>
  %u = memref.cast %m : memref<8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_i8(%q: tensor<7xi8>) {
  %e = tensor.empty() : tensor<7xi32>
  %w = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<7xi8>) outs(%e : tensor<7xi32>) {
  ^bb0(%in: i8, %out: i32):
    %z = arith.extsi %in : i8 to i32
    linalg.yield %z : i32
  } -> tensor<7xi32>
  %m = bufferization.to_buffer %w : tensor<7xi32> to memref<7xi32>
  %u = memref.cast %m : memref<7xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  // 448, 456, 464 (tie -> even 448), 464.5, 480, 2^-9, 2^-10 (tie -> 0),
  // 0.00097657, -1000, inf, nan, -0.
  %x = arith.constant dense<[448.0, 456.0, 464.0, 464.5, 480.0, 0.001953125, 0.0009765625, 0.00097657, -1000.0, 0x7F800000, 0x7FC00000, -0.0]> : tensor<12xf32>
  %native = qtrain.quantize %x to float<f8E4M3FN> overflow native : tensor<12xf32> -> tensor<12xf8E4M3FN>
  // CHECK: [126,  126,  126,  127,  127,  1,  0,  1,  255,  127,  127,  128]
  call @print_f8(%native) : (tensor<12xf8E4M3FN>) -> ()
  %saturated = qtrain.quantize %x to float<f8E4M3FN> : tensor<12xf32> -> tensor<12xf8E4M3FN>
  // CHECK: [126,  126,  126,  126,  126,  1,  0,  1,  254,  126,  127,  128]
  call @print_f8(%saturated) : (tensor<12xf8E4M3FN>) -> ()
  // Toward zero never overflows into NaN; upward rounds 2^-10 up.
  %tz = qtrain.quantize %x to float<f8E4M3FN> rounding toward_zero overflow native : tensor<12xf32> -> tensor<12xf8E4M3FN>
  // CHECK: [126,  126,  126,  126,  126,  1,  0,  0,  254,  127,  127,  128]
  call @print_f8(%tz) : (tensor<12xf8E4M3FN>) -> ()
  %up = qtrain.quantize %x to float<f8E4M3FN> rounding upward : tensor<12xf32> -> tensor<12xf8E4M3FN>
  // CHECK: [126,  126,  126,  126,  126,  1,  1,  1,  254,  126,  127,  128]
  call @print_f8(%up) : (tensor<12xf8E4M3FN>) -> ()

  // E5M2: 57344, 61439, 61440 (-> inf), 65536, 2^-16, 2^-17 (tie -> 0),
  // -inf, 1.
  %y = arith.constant dense<[57344.0, 61439.0, 61440.0, 65536.0, 1.52587890625e-05, 7.62939453125e-06, 0xFF800000, 1.0]> : tensor<8xf32>
  %e5m2 = qtrain.quantize %y to float<f8E5M2> overflow native : tensor<8xf32> -> tensor<8xf8E5M2>
  // CHECK: [123,  123,  124,  124,  1,  0,  252,  60]
  call @print_e5m2(%e5m2) : (tensor<8xf8E5M2>) -> ()

  // int8: ties, clamping and NaN.
  %z = arith.constant dense<[2.5, -2.5, 3.5, -0.4, 200.0, -200.0, 0x7FC00000]> : tensor<7xf32>
  %even = qtrain.quantize %z to int<8, signed> : tensor<7xf32> -> tensor<7xi8>
  // CHECK: [2,  -2,  4,  0,  127,  -128,  0]
  call @print_i8(%even) : (tensor<7xi8>) -> ()
  %away = qtrain.quantize %z to int<8, signed> rounding nearest_away : tensor<7xf32> -> tensor<7xi8>
  // CHECK: [3,  -3,  4,  0,  127,  -128,  0]
  call @print_i8(%away) : (tensor<7xi8>) -> ()
  %down = qtrain.quantize %z to int<8, signed> rounding downward : tensor<7xf32> -> tensor<7xi8>
  // CHECK: [2,  -3,  3,  -1,  127,  -128,  0]
  call @print_i8(%down) : (tensor<7xi8>) -> ()
  return
}

func.func private @printMemrefI32(memref<*xi32>)
