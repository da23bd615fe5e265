// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff -mlir-print-local-scope | FileCheck %s
// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff=loss-scale | FileCheck %s --check-prefix=SCALED

// A matmul's weight gradient contracts the saved (rounded) input with the
// output gradient over the batch; rounding is straight-through. The rounded
// input, 2 x 8 f32, is the only activation kept for backward.
// CHECK-LABEL: func.func @linear(
// CHECK-LABEL: func.func @linear_grad(
// CHECK-SAME:    %[[W:.+]]: tensor<8x4xf32> {qtrain.role = #qtrain<role parameter>},
// CHECK-SAME:    %[[X:.+]]: tensor<2x8xf32> {qtrain.role = #qtrain<role input>})
// CHECK-SAME:    -> (tensor<f32>, tensor<8x4xf32>)
// CHECK-SAME:    attributes {qtrain.gradient_of = @linear, qtrain.saved_activation_bytes = 64 : i64}
// CHECK:         %[[R:.+]] = qtrain.round %[[X]]
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[R]], %[[W]]
// CHECK:         %[[LOSS:.+]] = linalg.generic
// CHECK:         %[[DY:.+]] = linalg.generic
// CHECK:         %[[DW:.+]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2, d1)>], iterator_types = ["reduction", "parallel", "parallel"]} ins(%[[R]], %[[DY]] :
// CHECK:         return %[[LOSS]], %[[DW]]

// SCALED-LABEL: func.func @linear_grad(
// SCALED-SAME:    %{{.+}}: tensor<f32> {qtrain.role = #qtrain<role loss_scale>})
func.func @linear(%w: tensor<8x4xf32> {qtrain.role = #qtrain<role parameter>},
                  %x: tensor<2x8xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = qtrain.round %x to float<f8E4M3FN> : tensor<2x8xf32>
  %y = linalg.matmul ins(%r, %w : tensor<2x8xf32>, tensor<8x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<2x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

// A max reduction sends its gradient to the elements equal to the result,
// divided by how many there are (ties share it).
// CHECK-LABEL: func.func @max_grad(
// CHECK:         %[[MAX:.+]] = linalg.generic {{.*}} ins(%arg0 : tensor<4xf32>)
// CHECK:         %[[COUNT:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg0, %[[MAX]] : tensor<4xf32>, tensor<f32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %[[RES:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[TIE:.+]] = arith.cmpf oeq, %[[IN]], %[[RES]] : f32
// CHECK-NEXT:      %[[ONE:.+]] = arith.select %[[TIE]]
// CHECK-NEXT:      arith.addf %[[ACC]], %[[ONE]]
// CHECK:         %[[SHARE:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[COUNT]] : tensor<f32>, tensor<f32>)
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK:         linalg.generic {{.*}} ins(%arg0, %[[MAX]], %[[SHARE]] : tensor<4xf32>, tensor<f32>, tensor<f32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %[[RES:.+]]: f32, %[[G:.+]]: f32, %{{.+}}: f32):
// CHECK:           arith.cmpf oeq, %[[IN]], %[[RES]] : f32
// CHECK:           arith.select
func.func @max(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %ninf = arith.constant 0xFF800000 : f32
  %le = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%ninf : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%p : tensor<4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %m : tensor<f32>
}

// -----

// A strided convolution's gradients are convolutions too: the input
// gradient convolves the output gradient, inserted with the stride into a
// zero tensor padded by the kernel size, with the flipped filter; the filter
// gradient convolves the input (batch and channels swapped) with the output
// gradient, dilated by the stride.
// CHECK-LABEL: func.func @conv_grad(
// CHECK:         %[[Y:.+]] = linalg.conv_2d_nchw_fchw
// CHECK:         %[[PAD:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 2, 2] [1, 4, 3, 3] [1, 1, 2, 2] : tensor<1x4x3x3xf32> into tensor<1x4x9x9xf32>
// CHECK:         %[[FLIP:.+]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d0, -d2 + 2, -d3 + 2)>, {{.+}}]{{.*}} ins(%arg0 : tensor<4x2x3x3xf32>)
// CHECK:         %[[DX:.+]] = linalg.conv_2d_nchw_fchw ins(%[[PAD]], %[[FLIP]] : tensor<1x4x9x9xf32>, tensor<2x4x3x3xf32>) outs(%{{.+}} : tensor<1x2x7x7xf32>)
// CHECK:         %[[XT:.+]] = linalg.transpose ins(%arg1 : tensor<1x2x7x7xf32>) {{.+}} permutation = [1, 0, 2, 3]
// CHECK:         %[[GT:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x4x3x3xf32>) {{.+}} permutation = [1, 0, 2, 3]
// CHECK:         %[[DWT:.+]] = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[XT]], %[[GT]] : tensor<2x1x7x7xf32>, tensor<4x1x3x3xf32>) outs(%{{.+}} : tensor<2x4x3x3xf32>)
// CHECK:         %[[DW:.+]] = linalg.transpose ins(%[[DWT]] : tensor<2x4x3x3xf32>) {{.+}} permutation = [1, 0, 2, 3]
// CHECK:         return {{.*}}, %[[DW]], %[[DX]] :
func.func @conv(%w: tensor<4x2x3x3xf32> {qtrain.role = #qtrain<role parameter>},
                %x: tensor<1x2x7x7xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %w : tensor<1x2x7x7xf32>, tensor<4x2x3x3xf32>) outs(%z : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<1x4x3x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

// A max pooling with non-overlapping windows: each input element reads its
// window's result and gradient through `floordiv`, and only the arg-max
// elements receive it, sharing it (a sum pooling of the tie mask counts
// them). Rows beyond the last window get zeros.
// CHECK-LABEL: func.func @pool_grad(
// CHECK:         %[[SLICE:.+]] = tensor.extract_slice %arg0[0, 0, 0, 0] [1, 1, 4, 4] [1, 1, 1, 1] : tensor<1x1x5x5xf32> to tensor<1x1x4x4xf32>
// CHECK:         %[[MASK:.+]] = linalg.generic {{.+}} ins(%[[SLICE]], %{{.+}} : tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>)
// CHECK:           arith.cmpf oeq
// CHECK:         %[[COUNT:.+]] = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[MASK]], %{{.+}} : tensor<1x1x4x4xf32>, tensor<2x2xf32>)
// CHECK:         %[[SHARE:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[COUNT]] :
// CHECK:           arith.divf
// CHECK:         %[[G:.+]] = linalg.generic {indexing_maps = [{{.+}}, [[WIN:affine_map<\(d0, d1, d2, d3\) -> \(d0, d1, d2 floordiv 2, d3 floordiv 2\)>]], [[WIN]], {{.+}}]{{.*}} ins(%[[SLICE]], %{{.+}}, %[[SHARE]] :
// CHECK:           arith.cmpf oeq
// CHECK:         tensor.insert_slice %[[G]] into %{{.+}}[0, 0, 0, 0] [1, 1, 4, 4] [1, 1, 1, 1] : tensor<1x1x4x4xf32> into tensor<1x1x5x5xf32>
func.func @pool(%x: tensor<1x1x5x5xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %z = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %y = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
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

// Functions without parameters are left alone; reshapes and pads move the
// gradient back.
// CHECK-LABEL: func.func @no_params(
// CHECK-NOT:   func.func @no_params_grad
// CHECK-LABEL: func.func @reshape_pad_grad(
// CHECK:         %[[E:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
// CHECK:         %[[I:.+]] = tensor.insert_slice %[[E]] into %{{.+}}[1, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<3x3xf32>
// CHECK:         %[[S:.+]] = tensor.extract_slice %[[I]][1, 0] [2, 1] [1, 1] : tensor<3x3xf32> to tensor<2x1xf32>
// CHECK:         tensor.collapse_shape %[[S]] {{\[\[}}0, 1]] : tensor<2x1xf32> into tensor<2xf32>
func.func @no_params(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
func.func @reshape_pad(%p: tensor<2xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.expand_shape %p [[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
  %pad = tensor.pad %e low[1, 0] high[0, 2] {
  ^bb0(%i: index, %j: index):
    tensor.yield %c0 : f32
  } : tensor<2x1xf32> to tensor<3x3xf32>
  %s = tensor.extract_slice %pad[1, 0] [2, 3] [1, 1] : tensor<3x3xf32> to tensor<2x3xf32>
  %f = tensor.collapse_shape %s [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%f : tensor<6xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %sq = arith.mulf %a, %a : f32
      %r = arith.addf %sq, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}

// -----

// Quantizers: the gradient passes straight through and is rounded with the
// backward spec (stream + 1); a bifurcation rounds a second copy with the
// weight spec (stream + 2), which the weight gradient is built from.
// CHECK-LABEL: func.func @bifurcation_grad(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x4xf32> {{.+}}, %[[X:[^:]+]]: tensor<2x8xf32> {{.+}}, %[[SEED:[^:]+]]: i64
// CHECK:         %[[QW:.+]] = qtrain.quantizer %[[W]] forward
// CHECK:         %[[GS:.+]] = qtrain.compute_scale %[[DY:.+]] for int<8, signed> using <absmax>
// CHECK:         %[[GW:.+]] = qtrain.round %[[DY]] to float<bf16> {stream = 6 : i32}
// CHECK:         %[[GA:.+]] = qtrain.round %[[DY]] to int<8, signed> scale(%[[GS]] : tensor<f32>) rounding stochastic seed(%[[SEED]]) {stream = 5 : i32}
// CHECK:         %[[DX:.+]] = linalg.generic {{.+}} ins(%[[QW]], %[[GA]] :
// CHECK:         %[[DW:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[GW]] :
// CHECK:         return %{{.+}}, %[[DW]], %[[DX]] :
func.func @bifurcation(%w: tensor<8x4xf32> {qtrain.role = #qtrain<role parameter>},
                       %x: tensor<2x8xf32> {qtrain.role = #qtrain<role parameter>},
                       %seed: i64 {qtrain.role = #qtrain<role seed>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %qw = qtrain.quantizer %w forward <int<8, signed>, nearest_even, scaling <absmax>> : tensor<8x4xf32>
  %y = linalg.matmul ins(%x, %qw : tensor<2x8xf32>, tensor<8x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %yq = qtrain.quantizer %y seed(%seed) backward <int<8, signed>, stochastic, scaling <absmax>>
                            weight_backward <float<bf16>, nearest_even> {stream = 4 : i32} : tensor<2x4xf32>
  %sq = arith.mulf %yq, %yq : tensor<2x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%sq : tensor<2x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

// Delayed gradient scaling: each backward rounding scales by its amax
// history, and the gradient function returns each history with the
// gradient's amax recorded where the model returns it unchanged; the
// forward history passes through as the model updates it. The scales,
// known from the histories the function takes, are computed at its start,
// and the amaxes recorded as soon as the gradient is made (a scale computed
// where the value is made lets the kernel making it compute the amax too).
// CHECK-LABEL: func.func @delayed_grad(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x4xf32> {{.+}}, %[[X:[^:]+]]: tensor<2x8xf32> {{.+}}, %[[HF:[^:]+]]: tensor<4xf32> {{.+}}, %[[HB:[^:]+]]: tensor<4xf32> {{.+}}, %[[HW:[^:]+]]: tensor<2xf32> {qtrain.role = #qtrain<role state>})
// CHECK-SAME:    -> (tensor<f32>, tensor<8x4xf32>, tensor<2x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2xf32>)
// CHECK:         %[[SB:.+]] = qtrain.compute_scale %[[HB]] for float<f8E5M2> using <absmax> : tensor<4xf32> -> tensor<f32>
// CHECK:         %[[SW:.+]] = qtrain.compute_scale %[[HW]] for float<f8E4M3FN> using <absmax> : tensor<2xf32> -> tensor<f32>
// CHECK:         %[[QW:.+]], %[[NF:.+]] = qtrain.quantizer %[[W]] history(%[[HF]] : tensor<4xf32>)
// CHECK:         qtrain.quantizer %{{.+}} history(%[[HB]], %[[HW]] : tensor<4xf32>, tensor<2xf32>)
// CHECK:         %[[NB:.+]] = qtrain.record_amax %[[DY:.+]] into %[[HB]] : tensor<2x4xf32>, tensor<4xf32>
// CHECK:         %[[NW:.+]] = qtrain.record_amax %[[DY]] into %[[HW]] : tensor<2x4xf32>, tensor<2xf32>
// CHECK:         %[[GW:.+]] = qtrain.round %[[DY]] to float<f8E4M3FN> scale(%[[SW]] : tensor<f32>) {stream = 6 : i32}
// CHECK:         %[[GA:.+]] = qtrain.round %[[DY]] to float<f8E5M2> scale(%[[SB]] : tensor<f32>) {stream = 5 : i32}
// CHECK:         %[[DX:.+]] = linalg.generic {{.+}} ins(%[[QW]], %[[GA]] :
// CHECK:         %[[DW:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[GW]] :
// CHECK:         return %{{.+}}, %[[DW]], %[[DX]], %[[NF]], %[[NB]], %[[NW]] :
func.func @delayed(%w: tensor<8x4xf32> {qtrain.role = #qtrain<role parameter>},
                   %x: tensor<2x8xf32> {qtrain.role = #qtrain<role parameter>},
                   %hf: tensor<4xf32> {qtrain.role = #qtrain<role state>},
                   %hb: tensor<4xf32> {qtrain.role = #qtrain<role state>},
                   %hw: tensor<2xf32> {qtrain.role = #qtrain<role state>})
    -> (tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<2xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %qw, %nf = qtrain.quantizer %w history(%hf : tensor<4xf32>)
      forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 4> : tensor<8x4xf32>
  %y = linalg.matmul ins(%x, %qw : tensor<2x8xf32>, tensor<8x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %yq, %nb, %nw = qtrain.quantizer %y history(%hb, %hw : tensor<4xf32>, tensor<2xf32>)
      backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 4>
      weight_backward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 2> {stream = 4 : i32} : tensor<2x4xf32>
  %sq = arith.mulf %yq, %yq : tensor<2x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%sq : tensor<2x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l, %nf, %nb, %nw : tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<2xf32>
}

// -----

// A quantize/dequantize pair is straight-through: the gradient skips the
// codes (and the scale) and reaches the float input unchanged.
// CHECK-LABEL: func.func @codes_grad(
// CHECK-SAME:    %[[P:[^:]+]]: tensor<4xf32>
// CHECK:         %[[Q:.+]] = qtrain.quantize %[[P]]
// CHECK:         %[[DQ:.+]] = qtrain.dequantize %[[Q]]
// CHECK:         %[[G:.+]] = linalg.generic {{.+}} ins(%[[DQ]], %{{.+}} :
// CHECK:         return %{{.+}}, %[[G]] : tensor<f32>, tensor<4xf32>
func.func @codes(%p: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %s = qtrain.compute_scale %p for int<8, signed> using <absmax> : tensor<4xf32> -> tensor<f32>
  %q = qtrain.quantize %p to int<8, signed> scale(%s : tensor<f32>) : tensor<4xf32> -> tensor<4xi8>
  %d = qtrain.dequantize %q from int<8, signed> scale(%s : tensor<f32>) : tensor<4xi8> -> tensor<4xf32>
  %sq = arith.mulf %d, %d : tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%sq : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}

// -----

// qmatmul on quantized codes: each operand's gradient is the output
// gradient times the other operand dequantized (as stored: the transposed
// rhs is read [n, k]), sent straight through to the quantized float values.
// CHECK-LABEL: func.func @qmm_grad(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x8xf32> {{.+}}, %[[W:[^:]+]]: tensor<3x8xf32>
// CHECK:         %[[QX:.+]] = qtrain.quantize %[[X]]
// CHECK:         %[[QW:.+]] = qtrain.quantize %[[W]]
// CHECK:         %[[WD:.+]] = qtrain.dequantize %[[QW]] from int<8, signed> scale(%{{.+}} : tensor<f32>) : tensor<3x8xi8> -> tensor<3x8xf32>
// CHECK:         %[[DX:.+]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.+}}, %[[WD]] :
// CHECK:         %[[XD:.+]] = qtrain.dequantize %[[QX]]
// CHECK:         %[[DW:.+]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>], iterator_types = ["reduction", "parallel", "parallel"]} ins(%{{.+}}, %[[XD]] :
// CHECK:         return %{{.+}}, %[[DX]], %[[DW]]
func.func @qmm(%x: tensor<2x8xf32> {qtrain.role = #qtrain<role parameter>},
               %w: tensor<3x8xf32> {qtrain.role = #qtrain<role parameter>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %sx = qtrain.compute_scale %x for int<8, signed> using <absmax> : tensor<2x8xf32> -> tensor<f32>
  %qx = qtrain.quantize %x to int<8, signed> scale(%sx : tensor<f32>) : tensor<2x8xf32> -> tensor<2x8xi8>
  %sw = qtrain.compute_scale %w for int<8, signed> using <absmax> : tensor<3x8xf32> -> tensor<f32>
  %qw = qtrain.quantize %w to int<8, signed> scale(%sw : tensor<f32>) : tensor<3x8xf32> -> tensor<3x8xi8>
  %y = qtrain.qmatmul %qx, %qw lhs(int<8, signed>, scale %sx : tensor<f32>)
                               rhs(int<8, signed> transposed, scale %sw : tensor<f32>)
                               accumulate i32 : tensor<2x8xi8>, tensor<3x8xi8> -> tensor<2x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%y : tensor<2x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}
