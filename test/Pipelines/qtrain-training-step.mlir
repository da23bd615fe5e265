// RUN: qtrain-opt %s -qtrain-training-step=recipe=fp32 | FileCheck %s --check-prefix=FP32
// RUN: qtrain-opt %s -qtrain-training-step=recipe=int8 | FileCheck %s --check-prefix=INT8
// RUN: qtrain-opt %s -qtrain-training-step=recipe=hfp8 | FileCheck %s --check-prefix=HFP8
// RUN: qtrain-opt %s -qtrain-training-step=recipe=fp8 | FileCheck %s --check-prefix=FP8
// RUN: qtrain-opt %s '-qtrain-training-step=recipe=fp8 amax-history=8' | FileCheck %s --check-prefix=DELAYED
// RUN: qtrain-opt %s -qtrain-training-step=recipe=int8 -qtrain-lower-to-cpu | FileCheck %s --check-prefix=LLVM
// RUN: qtrain-opt %s '-qtrain-training-step=recipe=int8 range-bn=off' | FileCheck %s --check-prefix=NORANGE
// RUN: qtrain-opt %s '-qtrain-training-step=recipe=fp32 range-bn=on range-bn-chunks=2 range-bn-constant=reference' | FileCheck %s --check-prefix=CHUNKED

// A small CNN with batch norm, through the whole training rewrite.

// fp32: no quantizers or rounding; a gradient function and a step.
// FP32-NOT:   qtrain.{{(round|quantizer|compute_scale)}}
// FP32-LABEL: func.func @cnn_grad(
// FP32-LABEL: func.func @cnn_step(
// FP32-SAME:    -> (tensor<f32>, tensor<4x1x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>, tensor<4xf32>)

// int8: Range BN (max/min reductions instead of rsqrt; chunked, here the
// batch of 2 in 2 of the default 16 chunks) with its input and
// the gradient entering it rounded to 8 bits, quantized convolution
// operands, a bifurcated layer gradient of which only the bf16 weight copy
// is used (the input needs no gradient), f32 master weights.
// INT8-LABEL: func.func @cnn_grad(
// INT8-NOT:     math.rsqrt
// INT8:         qtrain.quantizer %{{.+}} forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> : tensor<2x1x6x6xf32>
// INT8:         qtrain.quantizer %{{.+}} forward <int<8, unsigned>, nearest_even, scaling <minmax>> {{.+}} : tensor<4x1x3x3xf32>
// INT8:         linalg.conv_2d_nchw_fchw
// INT8:         qtrain.quantizer %{{.+}} backward <int<8, unsigned>, stochastic, scaling <minmax>> weight_backward <float<bf16>, nearest_even>
// INT8:         qtrain.quantizer %{{.+}} forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> {stream = 12 : i32} : tensor<2x4x4x4xf32>
// INT8:         tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 1, 4, 4, 4]
// INT8:         arith.maximumf
// INT8:         arith.minimumf
// INT8:         qtrain.quantizer %{{.+}} backward <int<8, unsigned>, stochastic, scaling <minmax>> {stream = 16 : i32} : tensor<2x4x4x4xf32>
// INT8:         qtrain.round %{{.+}} to float<bf16>
// INT8-NOT:     rounding stochastic
// INT8-LABEL: func.func @cnn_step(

// hfp8: the only layer is first and last, so DLFloat16; a loss-scale
// state and an 8-bit-weight-plus-residual update.
// HFP8-LABEL: func.func @cnn_grad(
// HFP8-SAME:    %{{.+}}: tensor<f32> {qtrain.role = #qtrain<role loss_scale>}
// HFP8:         qtrain.quantizer %{{.+}} forward <float<dlfloat16>, nearest_even>
// HFP8:         qtrain.round %{{.+}} to float<dlfloat16>
// HFP8-LABEL: func.func @cnn_step(
// HFP8:         qtrain.round %{{.+}} to float<hfp8_e4m3>

// fp8: amax-scaled E4M3 operands and E5M2 gradients.
// FP8-LABEL: func.func @cnn_grad(
// FP8:         qtrain.quantizer %{{.+}} forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
// FP8:         qtrain.compute_scale %{{.+}} for float<f8E5M2> using <absmax>
// FP8:         qtrain.round %{{.+}} to float<f8E5M2> scale

// fp8 with delayed scaling: three amax histories (input, filter, layer
// gradient) are model state that the step takes and returns first among
// its states, before the momenta.
// DELAYED-LABEL: func.func @cnn_step(
// DELAYED-COUNT-3: tensor<8xf32> {qtrain.role = #qtrain<role state>}
// DELAYED-SAME:    learning_rate
// DELAYED-SAME:    -> (tensor<f32>, tensor<4x1x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>, tensor<4xf32>)

// LLVM: llvm.func @cnn_step(

// Range BN can be turned off under int8, or on (chunked) for any recipe.
// NORANGE-LABEL: func.func @cnn_grad(
// NORANGE:         math.rsqrt
// CHUNKED-LABEL: func.func @cnn_grad(
// CHUNKED-NOT:     math.rsqrt
// CHUNKED:         tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 1, 4, 4, 4]
func.func @cnn(%w: tensor<4x1x3x3xf32> {qtrain.role = #qtrain<role parameter>},
               %gamma: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %beta: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<2x1x6x6xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %n = arith.constant 0.03125 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e = tensor.empty() : tensor<2x4x4x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<2x1x6x6xf32>, tensor<4x1x3x3xf32>) outs(%z : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %ec = tensor.empty() : tensor<4xf32>
  %zc = linalg.fill ins(%c0 : f32) outs(%ec : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>],
                         iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%y : tensor<2x4x4x4xf32>) outs(%zc : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %xc = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %sum : tensor<2x4x4x4xf32>, tensor<4xf32>) outs(%e : tensor<2x4x4x4xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %m = arith.mulf %s, %n : f32
    %d = arith.subf %a, %m : f32
    linalg.yield %d : f32
  } -> tensor<2x4x4x4xf32>
  %sq = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>],
                        iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%xc : tensor<2x4x4x4xf32>) outs(%zc : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.mulf %a, %a : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %inv = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%sq : tensor<4xf32>) outs(%ec : tensor<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %var = arith.mulf %v, %n : f32
    %ve = arith.addf %var, %eps : f32
    %i = math.rsqrt %ve : f32
    linalg.yield %i : f32
  } -> tensor<4xf32>
  %bn = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %inv, %gamma, %beta : tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<2x4x4x4xf32>) {
  ^bb0(%a: f32, %i: f32, %g: f32, %b: f32, %o: f32):
    %t = arith.mulf %a, %i : f32
    %u = arith.mulf %t, %g : f32
    %v = arith.addf %u, %b : f32
    %r = arith.maximumf %v, %c0 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x4x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%bn : tensor<2x4x4x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}
