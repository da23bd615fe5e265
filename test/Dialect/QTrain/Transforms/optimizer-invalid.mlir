// RUN: qtrain-opt %s -split-input-file -qtrain-optimizer=loss-scaling -verify-diagnostics

// expected-error @+1 {{loss scaling needs the loss-scale argument of qtrain-autodiff=loss-scale}}
func.func @f_grad(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> (tensor<f32>, tensor<4xf32>)
    attributes {qtrain.gradient_of = @f} {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<f32>) -> tensor<f32>
  return %z, %w : tensor<f32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{cannot add 'g_step': a symbol of that name exists}}
func.func @g_grad(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
                  %s: tensor<f32> {qtrain.role = #qtrain<role loss_scale>}) -> (tensor<f32>, tensor<4xf32>)
    attributes {qtrain.gradient_of = @g} {
  return %s, %w : tensor<f32>, tensor<4xf32>
}
func.func @g_step() {
  return
}
