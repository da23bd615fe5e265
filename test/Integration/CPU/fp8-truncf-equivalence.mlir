// The clamped-truncf encoding that qtrain-lower-to-nvvm uses from sm_89 on
// (convert-qtrain-to-linalg target=fp8-truncf, which NVVM then executes as
// cvt.rn.satfinite) gives the same E4M3FN and E5M2 codes as the portable
// integer encoding (the numerics library's, checked elsewhere), here run on
// the CPU with arith.truncf through LLVM APFloat: 4096 scattered f32 bit
// patterns (every exponent, infinities and NaNs of both signs) and the
// edges of both formats (ties, subnormals, the saturation thresholds).
// RUN: %run_cpu > %t.portable
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=fp8-truncf \
// RUN:   -convert-arith-to-apfloat -qtrain-lower-to-cpu=vectorize=false \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_apfloat_wrappers.so \
// RUN:   > %t.truncf
// RUN: grep -v base@ %t.portable > %t.portable.data
// RUN: grep -v base@ %t.truncf > %t.truncf.data
// RUN: diff %t.portable.data %t.truncf.data
// The truncf form is really there, and the data is not trivial.
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=fp8-truncf | FileCheck %s --check-prefix=TRUNCF
// RUN: FileCheck %s < %t.portable
// TRUNCF-COUNT-2: arith.truncf
// E4M3FN: 449 and 465 saturate to 448 (126), 1.0625 ties to 1 (56), 2^-10
// to 0, 1.5 * 2^-9 to 2^-8 (2); inf, -inf, NaN, -NaN give 126, 254, 127, 255.
// CHECK: [0, 128, 56, 184, 126, 254, 126, 254, 126, 254, 126, 56, 0, 2, 126, 126, 126, 254, 127, 255,
// E5M2: 448 (95), 2^-10 (20), 57344 and 61440 (123, saturated), inf (123).
// CHECK: [0, 128, 60, 188, 95, 223, 95, 223, 95, 223, 95, 60, 20, 26, 123, 123, 123, 251,

#id = affine_map<(d0) -> (d0)>

func.func @codes(%x: tensor<4112xf32>) -> (tensor<4112xi32>, tensor<4112xi32>) {
  %q = qtrain.quantize %x to float<f8E4M3FN> : tensor<4112xf32> -> tensor<4112xf8E4M3FN>
  %r = qtrain.quantize %x to float<f8E5M2> : tensor<4112xf32> -> tensor<4112xf8E5M2>
  %e = tensor.empty() : tensor<4112xi32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<4112xf8E4M3FN>) outs(%e : tensor<4112xi32>) {
  ^bb0(%in: f8E4M3FN, %out: i32):
    %b = arith.bitcast %in : f8E4M3FN to i8
    %z = arith.extui %b : i8 to i32
    linalg.yield %z : i32
  } -> tensor<4112xi32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%r : tensor<4112xf8E5M2>) outs(%e : tensor<4112xi32>) {
  ^bb0(%in: f8E5M2, %out: i32):
    %c = arith.bitcast %in : f8E5M2 to i8
    %z = arith.extui %c : i8 to i32
    linalg.yield %z : i32
  } -> tensor<4112xi32>
  return %a, %b : tensor<4112xi32>, tensor<4112xi32>
}

func.func @print(%t: tensor<4112xi32>) {
  %m = bufferization.to_buffer %t : tensor<4112xi32> to memref<4112xi32>
  %u = memref.cast %m : memref<4112xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  // Edges first: 0, -0, 1, -1, 448, -448, 449, -449, 465, -465 (E4M3FN
  // saturates; E5M2 keeps them), 464 (tie), 1.0625 (tie to even), 2^-10
  // (an E4M3FN tie to 0), 1.5 * 2^-9, 57344, 61440 (the E5M2 tie to inf,
  // saturated); then inf, -inf, NaN, -NaN.
  %edges = arith.constant dense<[0.0, -0.0, 1.0, -1.0, 448.0, -448.0, 449.0,
      -449.0, 465.0, -465.0, 464.0, 1.0625, 0.0009765625, 0.0029296875,
      57344.0, 61440.0]> : tensor<16xf32>
  %specials = arith.constant dense<[0x7F800000, 0xFF800000, 0x7FC00000,
      0xFFC00000]> : tensor<4xf32>
  // Scattered bit patterns: i * 2654435761 (mod 2^32).
  %e = tensor.empty() : tensor<4096xf32>
  %scattered = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%e : tensor<4096xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %i32 = arith.index_cast %i : index to i32
    %k = arith.constant -1640531535 : i32
    %bits = arith.muli %i32, %k : i32
    %f = arith.bitcast %bits : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4096xf32>
  %head = tensor.empty() : tensor<4112xf32>
  %x0 = tensor.insert_slice %edges into %head[0] [16] [1] : tensor<16xf32> into tensor<4112xf32>
  %x1 = tensor.insert_slice %scattered into %x0[16] [4096] [1] : tensor<4096xf32> into tensor<4112xf32>
  %x = tensor.insert_slice %specials into %x1[16] [4] [1] : tensor<4xf32> into tensor<4112xf32>
  %a, %b = call @codes(%x) : (tensor<4112xf32>) -> (tensor<4112xi32>, tensor<4112xi32>)
  call @print(%a) : (tensor<4112xi32>) -> ()
  call @print(%b) : (tensor<4112xi32>) -> ()
  return
}

func.func private @printMemrefI32(memref<*xi32>)
