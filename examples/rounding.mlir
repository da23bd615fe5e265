// Rounding constants onto FP8 and INT8 grids. `qtrain-opt -canonicalize`
// folds every op with the numerics library (docs/numerics.md).
func.func @fp8_and_int8() -> (tensor<6xf32>, tensor<6xf32>, tensor<6xi8>) {
  %x = arith.constant dense<[1.0625, 1.1875, 449.0, 1000.0, 0.0029296875, -0.3]> : tensor<6xf32>
  // Saturating E4M3 (OCP FP8 forward format): ties to even, 1000 -> 448.
  %e4m3 = qtrain.round %x to float<f8E4M3FN> : tensor<6xf32>
  // HFP8's 1-4-3 with bias 11: largest value 30.
  %hfp8 = qtrain.round %x to float<hfp8_e4m3> : tensor<6xf32>
  // Symmetric int8 with a scale of 1/32.
  %s = arith.constant dense<0.03125> : tensor<f32>
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<f32>) : tensor<6xf32> -> tensor<6xi8>
  return %e4m3, %hfp8, %q : tensor<6xf32>, tensor<6xf32>, tensor<6xi8>
}
