// Rounding and quantizing through qtrain, compiled for this CPU and run:
//   qtrain-opt examples/rounding.mlir -qtrain-lower-to-cpu | mlir-runner ...
// (scripts/demo.sh does exactly that). `qtrain-opt -canonicalize` folds the
// same ops at compile time with the numerics library instead.
func.func @main() {
  %x = arith.constant dense<[1.0625, 1.1875, 449.0, 1000.0, 0.0029296875, -0.3]> : tensor<6xf32>
  // Saturating E4M3 (OCP FP8 forward format): ties to even, 1000 -> 448.
  %e4m3 = qtrain.round %x to float<f8E4M3FN> : tensor<6xf32>
  // HFP8's 1-4-3 with bias 11: largest value 30.
  %hfp8 = qtrain.round %x to float<hfp8_e4m3> : tensor<6xf32>
  // Symmetric int8 with a scale computed from the data (amax / 127).
  %s = qtrain.compute_scale %x for int<8, signed> using <absmax> : tensor<6xf32> -> tensor<f32>
  %int8 = qtrain.round %x to int<8, signed> scale(%s : tensor<f32>) : tensor<6xf32>
  // Stochastic rounding to E5M2: reproducible for a given seed.
  %seed = arith.constant 2026 : i64
  %e5m2 = qtrain.round %x to float<f8E5M2> rounding stochastic seed(%seed) : tensor<6xf32>
  vector.print str "input:             "
  call @print(%x) : (tensor<6xf32>) -> ()
  vector.print str "E4M3FN, saturating:"
  call @print(%e4m3) : (tensor<6xf32>) -> ()
  vector.print str "HFP8 1-4-3 bias 11:"
  call @print(%hfp8) : (tensor<6xf32>) -> ()
  vector.print str "int8, absmax scale:"
  call @print(%int8) : (tensor<6xf32>) -> ()
  vector.print str "E5M2, stochastic:  "
  call @print(%e5m2) : (tensor<6xf32>) -> ()
  return
}

func.func @print(%t: tensor<6xf32>) {
  %m = bufferization.to_buffer %t : tensor<6xf32> to memref<6xf32>
  %u = memref.cast %m : memref<6xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>)
