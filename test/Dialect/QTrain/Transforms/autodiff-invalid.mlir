// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff -verify-diagnostics

// expected-error @+1 {{a model must return one scalar loss (tensor<f32> or tensor<f64>), then the next value of each #qtrain<role state> argument, not 'tensor<4xf32>'}}
func.func @vector_loss(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<4xf32> {
  return %p : tensor<4xf32>
}

// -----

// expected-error @+1 {{a model must return one scalar loss (tensor<f32> or tensor<f64>), then the next value of each #qtrain<role state> argument, not 'tensor<f32>'}}
func.func @state_not_returned(%p: tensor<f32> {qtrain.role = #qtrain<role parameter>},
                              %h: tensor<4xf32> {qtrain.role = #qtrain<role state>}) -> tensor<f32> {
  return %p : tensor<f32>
}

// -----

// expected-error @+1 {{a model must return one scalar loss (tensor<f32> or tensor<f64>), then the next value of each #qtrain<role state> argument, not 'tensor<f32>', 'tensor<2xf32>'}}
func.func @state_of_another_type(%p: tensor<f32> {qtrain.role = #qtrain<role parameter>},
                                 %h: tensor<4xf32> {qtrain.role = #qtrain<role state>},
                                 %g: tensor<2xf32>) -> (tensor<f32>, tensor<2xf32>) {
  return %p, %g : tensor<f32>, tensor<2xf32>
}

// -----

func.func @concat(%p: tensor<2xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  // expected-error @+1 {{'tensor.concat' op cannot be differentiated by qtrain-autodiff}}
  %c = tensor.concat dim(0) %p, %p : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%c : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

func.func @product(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c1 = arith.constant 1.0 : f32
  %le = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%c1 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  // expected-error @+1 {{reduction must combine the accumulator once with addf, maximumf, maxnumf, minimumf or minnumf to be differentiated}}
  %m = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%p : tensor<4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %m : tensor<f32>
}

// -----

func.func @body_op(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %le = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%p : tensor<4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    // expected-error @+1 {{'math.sin' op cannot be differentiated by qtrain-autodiff}}
    %s = math.sin %a : f32
    %r = arith.addf %o, %s : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %m : tensor<f32>
}

// -----

func.func @overlapping_pool(%x: tensor<1x1x5x5xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %win = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  // expected-error @+1 {{'linalg.pooling_nchw_max' op with overlapping or gapped windows (strides dense<2> : vector<2xi64> differ from the window) cannot be differentiated by qtrain-autodiff}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %win : tensor<1x1x5x5xf32>, tensor<3x3xf32>) outs(%z : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<1x1x2x2xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

func.func @dilated_pooling(%x: tensor<1x1x5x5xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  // expected-error @+1 {{'linalg.pooling_nchw_sum' op with dilations other than 1 cannot be differentiated by qtrain-autodiff}}
  %y = linalg.pooling_nchw_sum {dilations = dense<2> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %win : tensor<1x1x5x5xf32>, tensor<2x2xf32>) outs(%z : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<1x1x2x2xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{cannot add 'taken_grad': a symbol of that name exists}}
func.func @taken(%p: tensor<f32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  return %p : tensor<f32>
}
func.func @taken_grad() {
  return
}

// -----

func.func @split_not_on_contraction(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  // expected-error @+1 {{'qtrain.quantizer' op with 'weight_backward' must be the only user of a contraction's result}}
  %q = qtrain.quantizer %p backward <float<bf16>, nearest_even> weight_backward <float<bf16>, nearest_even> : tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%q : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

func.func @codes_argument(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}, %q: tensor<4xi8>, %s: tensor<f32>) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %m = arith.mulf %p, %p : tensor<4xf32>
  %c = qtrain.compute_scale %m for int<8, signed> using <absmax> : tensor<4xf32> -> tensor<f32>
  // expected-error @+1 {{'qtrain.dequantize' op is differentiated with respect to its input only when it is the codes of a qtrain.quantize}}
  %d = qtrain.dequantize %q from int<8, signed> scale(%c : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%d : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}

// -----

func.func @qmatmul_on_converted_codes(%p: tensor<2x8xf32> {qtrain.role = #qtrain<role parameter>}, %p2: tensor<8x3xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %q = arith.fptosi %p2 : tensor<8x3xf32> to tensor<8x3xi8>
  %m = arith.mulf %p, %p : tensor<2x8xf32>
  %sm = qtrain.compute_scale %m for int<8, signed> using <absmax> : tensor<2x8xf32> -> tensor<f32>
  %qm = qtrain.quantize %m to int<8, signed> scale(%sm : tensor<f32>) : tensor<2x8xf32> -> tensor<2x8xi8>
  // expected-error @+1 {{'qtrain.qmatmul' op is differentiated with respect to its right operand only when it is the codes of a qtrain.quantize}}
  %y = qtrain.qmatmul %qm, %q lhs(int<8, signed>, scale %sm : tensor<f32>)
                              rhs(int<8, signed>, scale %sm : tensor<f32>)
                              accumulate i32 : tensor<2x8xi8>, tensor<8x3xi8> -> tensor<2x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<2x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}
