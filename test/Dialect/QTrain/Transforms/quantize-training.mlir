// RUN: qtrain-opt %s -qtrain-quantize-training=recipe=int8 | FileCheck %s --check-prefix=INT8
// RUN: qtrain-opt %s -qtrain-quantize-training=recipe=hfp8 | FileCheck %s --check-prefix=HFP8
// RUN: qtrain-opt %s -qtrain-quantize-training=recipe=fp8 | FileCheck %s --check-prefix=FP8
// RUN: qtrain-opt %s -qtrain-quantize-training=recipe=bf16 | FileCheck %s --check-prefix=BF16
// RUN: qtrain-opt %s '-qtrain-quantize-training=recipe=fp8 amax-history=16' | FileCheck %s --check-prefix=DELAYED
// RUN: qtrain-opt %s '-qtrain-quantize-training=recipe=fp8 exempt=fc3 weight="<int<4, signed>, nearest_even, scaling <absmax, per_channel, axis = 1>>"' | FileCheck %s --check-prefix=OVERRIDE

// A three-layer MLP. int8 quantizes every layer and bifurcates every layer
// gradient (stochastic uint8 for the activation gradient, bf16 for the
// weight gradient), adding the seed argument stochastic rounding needs.
// INT8-LABEL: func.func @mlp(
// INT8-SAME:    %[[X:[^:]+]]: tensor<2x8xf32> {qtrain.role = #qtrain<role input>}, %[[SEED:[^:]+]]: i64 {qtrain.role = #qtrain<role seed>})
// INT8:         %[[QX:.+]] = qtrain.quantizer %[[X]] forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> : tensor<2x8xf32>
// INT8:         %[[QW:.+]] = qtrain.quantizer %arg0 forward <int<8, unsigned>, nearest_even, scaling <minmax>> {stream = 4 : i32}
// INT8:         %[[H1:.+]] = linalg.matmul {qtrain.layer = "fc1"} ins(%[[QX]], %[[QW]] :
// INT8:         %[[G1:.+]] = qtrain.quantizer %[[H1]] seed(%[[SEED]]) backward <int<8, unsigned>, stochastic, scaling <minmax>> weight_backward <float<bf16>, nearest_even> {stream = 8 : i32}
// INT8:         qtrain.quantizer %[[G1]] forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> {stream = 12 : i32}
// INT8-COUNT-2: weight_backward <float<bf16>, nearest_even>
// INT8-NOT:     qtrain.quantizer

// hfp8: 1-4-3 (bias 11) forward and 1-5-2 backward, unscaled, except for
// the first and last layer, which stay in 16-bit DLFloat; no seed.
// HFP8-LABEL: func.func @mlp(
// HFP8-NOT:     role seed
// HFP8:         qtrain.quantizer %{{.+}} forward <float<dlfloat16>, nearest_even> :
// HFP8:         qtrain.quantizer %arg0 forward <float<dlfloat16>, nearest_even>
// HFP8:         linalg.matmul {qtrain.layer = "fc1"}
// HFP8-NEXT:    qtrain.quantizer %{{.+}} backward <float<dlfloat16>, nearest_even>
// HFP8:         qtrain.quantizer %{{.+}} forward <float<hfp8_e4m3>, nearest_even>
// HFP8:         qtrain.quantizer %arg1 forward <float<hfp8_e4m3>, nearest_even>
// HFP8:         linalg.matmul
// HFP8-NEXT:    qtrain.quantizer %{{.+}} backward <float<f8E5M2>, nearest_even> {stream = 20 : i32}
// HFP8:         qtrain.quantizer %arg2 forward <float<dlfloat16>, nearest_even>
// HFP8:         linalg.matmul {qtrain.layer = "fc3"}
// HFP8-NEXT:    qtrain.quantizer %{{.+}} backward <float<dlfloat16>, nearest_even>

// fp8: per-tensor amax scales in both directions, no bifurcation.
// FP8-LABEL: func.func @mlp(
// FP8-COUNT-2: forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
// FP8:         qtrain.quantizer {{.+}} backward <float<f8E5M2>, nearest_even, scaling <absmax>> {stream = 8 : i32} :
// FP8-COUNT-2: forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
// FP8:         qtrain.quantizer {{.+}} backward <float<f8E5M2>, nearest_even, scaling <absmax>> {stream = 20 : i32} :
// FP8-COUNT-2: forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
// FP8:         qtrain.quantizer {{.+}} backward <float<f8E5M2>, nearest_even, scaling <absmax>> {stream = 32 : i32} :
// FP8-NOT:     qtrain.quantizer

// bf16 (the 16-bit baseline): every operand and gradient in bf16, no scales,
// first and last layers alike.
// BF16-LABEL: func.func @mlp(
// BF16-COUNT-2: forward <float<bf16>, nearest_even> {{.*}}:
// BF16:         linalg.matmul {qtrain.layer = "fc1"}
// BF16-NEXT:    qtrain.quantizer {{.+}} backward <float<bf16>, nearest_even> {stream = 8 : i32} :
// BF16-COUNT-2: forward <float<bf16>, nearest_even> {{.*}}:
// BF16:         qtrain.quantizer {{.+}} backward <float<bf16>, nearest_even> {stream = 20 : i32} :
// BF16-COUNT-2: forward <float<bf16>, nearest_even> {{.*}}:
// BF16:         linalg.matmul {qtrain.layer = "fc3"}
// BF16-NEXT:    qtrain.quantizer {{.+}} backward <float<bf16>, nearest_even> {stream = 32 : i32} :
// BF16-NOT:     scaling

// Overrides: the weight spec replaced, fc3 (named by qtrain.layer) left alone,
// fc2 named by its location.
// Delayed scaling: every quantizer spec takes a 16-step amax history, a
// new state argument whose next value the model returns after the loss.
// DELAYED-LABEL: func.func @mlp(
// DELAYED-COUNT-9: tensor<16xf32> {qtrain.role = #qtrain<role state>}
// DELAYED-SAME:  -> (tensor<f32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// DELAYED-COUNT-9: qtrain.quantizer {{.+}} history = 16>
// DELAYED-NOT:   qtrain.quantizer
// DELAYED:       return %{{.+}}, %new_histories, %new_histories_1, %new_histories_3, %new_histories_5, %new_histories_7, %new_histories_9, %new_histories_11, %new_histories_13, %new_histories_15 :

// OVERRIDE-LABEL: func.func @mlp(
// OVERRIDE-COUNT-2: qtrain.quantizer %arg{{[01]}} forward <int<4, signed>, nearest_even, scaling <absmax, per_channel, axis = 1>>
// OVERRIDE:         linalg.matmul {qtrain.layer = "fc3"} ins(%{{.+}}, %arg2 :
// OVERRIDE-NEXT:    tensor.empty
func.func @mlp(%w1: tensor<8x6xf32> {qtrain.role = #qtrain<role parameter>},
               %w2: tensor<6x4xf32> {qtrain.role = #qtrain<role parameter>},
               %w3: tensor<4x3xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<2x8xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<2x6xf32>
  %z1 = linalg.fill ins(%c0 : f32) outs(%e1 : tensor<2x6xf32>) -> tensor<2x6xf32>
  %h1 = linalg.matmul {qtrain.layer = "fc1"} ins(%x, %w1 : tensor<2x8xf32>, tensor<8x6xf32>) outs(%z1 : tensor<2x6xf32>) -> tensor<2x6xf32>
  %e2 = tensor.empty() : tensor<2x4xf32>
  %z2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %h2 = linalg.matmul ins(%h1, %w2 : tensor<2x6xf32>, tensor<6x4xf32>) outs(%z2 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("fc2")
  %e3 = tensor.empty() : tensor<2x3xf32>
  %z3 = linalg.fill ins(%c0 : f32) outs(%e3 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %h3 = linalg.matmul {qtrain.layer = "fc3"} ins(%h2, %w3 : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z3 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%h3 : tensor<2x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// A CNN in the same module: convolutions are layers (input #1 is the filter);
// the elementwise and reduction ops around them are not quantized.
// INT8-LABEL: func.func @cnn(
// INT8:         %[[QX:.+]] = qtrain.quantizer %arg1 forward <int<8, unsigned>, nearest_even, scaling <batch_minmax>> : tensor<2x1x6x6xf32>
// INT8:         %[[QW:.+]] = qtrain.quantizer %arg0 forward <int<8, unsigned>, nearest_even, scaling <minmax>> {stream = 4 : i32} : tensor<4x1x3x3xf32>
// INT8:         %[[Y:.+]] = linalg.conv_2d_nchw_fchw ins(%[[QX]], %[[QW]] :
// INT8:         %[[G:.+]] = qtrain.quantizer %[[Y]] seed(%{{.+}}) backward
// INT8:         linalg.generic {{.+}} ins(%[[G]] :
// HFP8-LABEL: func.func @cnn(
// HFP8:         forward <float<dlfloat16>, nearest_even>
// FP8-LABEL: func.func @cnn(
// FP8:          forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
// DELAYED-LABEL: func.func @cnn(
// DELAYED-SAME:    %[[W:[^:]+]]: tensor<4x1x3x3xf32> {qtrain.role = #qtrain<role parameter>}, %[[X:[^:]+]]: tensor<2x1x6x6xf32> {qtrain.role = #qtrain<role input>}, %[[HX:[^:]+]]: tensor<16xf32> {qtrain.role = #qtrain<role state>}, %[[HW:[^:]+]]: tensor<16xf32> {qtrain.role = #qtrain<role state>}, %[[HG:[^:]+]]: tensor<16xf32> {qtrain.role = #qtrain<role state>})
// DELAYED-SAME:    -> (tensor<f32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// DELAYED:         %{{.+}}, %[[NX:.+]] = qtrain.quantizer %[[X]] history(%[[HX]] : tensor<16xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16> : tensor<2x1x6x6xf32>
// DELAYED:         %{{.+}}, %[[NW:.+]] = qtrain.quantizer %[[W]] history(%[[HW]] : tensor<16xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16> {stream = 4 : i32} : tensor<4x1x3x3xf32>
// DELAYED:         %{{.+}}, %[[NG:.+]] = qtrain.quantizer %{{.+}} history(%[[HG]] : tensor<16xf32>) backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 16> {stream = 8 : i32} : tensor<2x4x4x4xf32>
// DELAYED:         return %{{.+}}, %[[NX]], %[[NW]], %[[NG]] :
// OVERRIDE-LABEL: func.func @cnn(
func.func @cnn(%w: tensor<4x1x3x3xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<2x1x6x6xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
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
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%sum : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.mulf %a, %a : f32
      %r = arith.addf %s, %acc : f32
      linalg.yield %r : f32
    }
  return %l : tensor<f32>
}
