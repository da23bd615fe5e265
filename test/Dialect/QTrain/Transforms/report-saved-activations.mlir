// RUN: qtrain-opt %s -qtrain-autodiff -qtrain-report-saved-activations -verify-diagnostics -split-input-file

// The backward half of a linear layer with a ReLU reads the layer's input
// as an argument, which is not counted, and the matmul's result, for the
// ReLU mask.
// expected-remark @below {{saved for backward: 32 bytes; fc 32}}
func.func @linear(%w: tensor<3x4xf32> {qtrain.role = #qtrain<role parameter>},
                  %x: tensor<2x3xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  // expected-note @below {{fc: 32 bytes of 'tensor<2x4xf32>'}}
  %y = linalg.matmul {qtrain.layer = "fc"} ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %c0 : f32
    linalg.yield %m : f32
  } -> tensor<2x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%r : tensor<2x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
