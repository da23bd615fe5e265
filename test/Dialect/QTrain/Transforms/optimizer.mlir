// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff=loss-scale '-qtrain-optimizer=loss-scaling growth-interval=5' | FileCheck %s
// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff -qtrain-optimizer=master-weights=f8-residual | FileCheck %s --check-prefix=RESIDUAL
// RUN: qtrain-opt %s -split-input-file -qtrain-autodiff -qtrain-optimizer=master-weights=f16-stochastic | FileCheck %s --check-prefix=STOCHASTIC

// The step calls the gradient function with the loss-scale state, tests
// the gradients for inf/NaN (g - g sums to 0 only when all are finite),
// updates with the unscaled gradient, and keeps the old values otherwise.
// CHECK-LABEL: func.func @lin_step(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}, %[[X:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role input>},
// CHECK-SAME:    %[[LR:[^:]+]]: tensor<f32> {qtrain.role = #qtrain<role learning_rate>}, %[[V:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role state>},
// CHECK-SAME:    %[[SCALE:[^:]+]]: tensor<f32> {qtrain.role = #qtrain<role state>}, %[[CLEAN:[^:]+]]: tensor<f32> {qtrain.role = #qtrain<role state>})
// CHECK-SAME:    -> (tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>)
// CHECK:         %[[G:.+]]:2 = call @lin_grad(%[[W]], %[[X]], %[[SCALE]])
// CHECK:         %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[G]]#1 : tensor<4xf32>)
// CHECK:           arith.subf %[[IN:.+]], %[[IN]] : f32
// CHECK:         %[[OK:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<f32>) outs(%{{.+}} : tensor<i1>)
// CHECK:           arith.cmpf oeq
// CHECK:         %[[UPD:.+]]:2 = linalg.generic {{.+}} ins(%[[W]], %[[G]]#1, %[[V]], %[[LR]], %[[SCALE]] :
// CHECK:           arith.divf
// CHECK:         %[[NEWW:.+]] = linalg.generic {{.+}} ins(%[[OK]], %[[UPD]]#0, %[[W]] :
// CHECK:           arith.select
// CHECK:         %[[NEWV:.+]] = linalg.generic {{.+}} ins(%[[OK]], %[[UPD]]#1, %[[V]] :
// CHECK:         %[[LS:.+]]:2 = linalg.generic {{.+}} ins(%[[OK]], %[[SCALE]], %[[CLEAN]] :
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:         return %[[G]]#0, %[[NEWW]], %[[NEWV]], %[[LS]]#0, %[[LS]]#1

// HFP8 master weights: an 8-bit weight and a DLFloat16 residual state.
// RESIDUAL-LABEL: func.func @lin_step(
// RESIDUAL-SAME:    %[[V:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role state>}, %[[R:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role state>})
// RESIDUAL:         %[[UPD:.+]]:2 = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %[[V]], %{{.+}}, %[[R]] :
// RESIDUAL:         %[[W8:.+]] = qtrain.round %[[UPD]]#0 to float<hfp8_e4m3> {stream = 16777216 : i32}
// RESIDUAL:         %[[REST:.+]] = linalg.generic {{.+}} ins(%[[UPD]]#0, %[[W8]] :
// RESIDUAL:         %[[RES:.+]] = qtrain.round %[[REST]] to float<dlfloat16> {stream = 16777216 : i32}
// RESIDUAL:         return %{{.+}}, %[[W8]], %[[UPD]]#1, %[[RES]]

// 16-bit master weights with stochastic rounding add the seed argument.
// STOCHASTIC-LABEL: func.func @lin_step(
// STOCHASTIC-SAME:    %[[SEED:[^:]+]]: i64 {qtrain.role = #qtrain<role seed>}
// STOCHASTIC:         qtrain.round %{{.+}} to float<dlfloat16> rounding stochastic seed(%[[SEED]]) {stream = 16777216 : i32}
func.func @lin(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<4xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %p = arith.mulf %w, %x : tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l : tensor<f32>
}

// -----

// Model state (an amax history) comes first among the states, straight
// from the gradient function: statistics are updated even on a step that
// loss scaling skips.
// CHECK-LABEL: func.func @stateful_step(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role parameter>}, %[[X:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role input>}, %[[H:[^:]+]]: tensor<3xf32> {qtrain.role = #qtrain<role state>},
// CHECK-SAME:    %[[LR:[^:]+]]: tensor<f32> {qtrain.role = #qtrain<role learning_rate>}, %[[V:[^:]+]]: tensor<4xf32> {qtrain.role = #qtrain<role state>},
// CHECK-SAME:    -> (tensor<f32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>)
// CHECK:         %[[G:.+]]:3 = call @stateful_grad(%[[W]], %[[X]], %[[H]], %{{.+}})
// CHECK:         %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[G]]#1 : tensor<4xf32>)
// CHECK:         return %[[G]]#0, %{{.+}}, %[[G]]#2, %{{.+}}, %{{.+}}, %{{.+}} :
// RESIDUAL-LABEL: func.func @stateful_step(
// RESIDUAL:         %[[G:.+]]:3 = call @stateful_grad(
// RESIDUAL:         return %[[G]]#0, %{{.+}}, %[[G]]#2, %{{.+}}#1, %{{.+}} :
func.func @stateful(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
                    %x: tensor<4xf32> {qtrain.role = #qtrain<role input>},
                    %h: tensor<3xf32> {qtrain.role = #qtrain<role state>}) -> (tensor<f32>, tensor<3xf32>) {
  %c0 = arith.constant 0.0 : f32
  %q, %nh = qtrain.quantizer %w history(%h : tensor<3xf32>) forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 3> : tensor<4xf32>
  %p = arith.mulf %q, %x : tensor<4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%p : tensor<4xf32>) outs(%lz : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %l, %nh : tensor<f32>, tensor<3xf32>
}
