// RUN: not qtrain-opt %s -qtrain-quantize-training=recipe=int4 2>&1 | FileCheck %s --check-prefix=RECIPE
// RUN: not qtrain-opt %s -qtrain-quantize-training=exempt=fc7 2>&1 | FileCheck %s --check-prefix=EXEMPT
// RUN: not qtrain-opt %s '-qtrain-quantize-training=gradient="<float<f8E5M2>>"' 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: not qtrain-opt %s -qtrain-quantize-training=gradient=none 2>&1 | FileCheck %s --check-prefix=SPLIT
// RUN: not qtrain-opt %s '-qtrain-quantize-training=recipe=fp8 amax-history=-1' 2>&1 | FileCheck %s --check-prefix=HISTORY

// RECIPE: for the --recipe option: Cannot find option named 'int4'!
// EXEMPT: error: exempt layer 'fc7' names no layer; layers are named by a 'qtrain.layer' attribute or a location name
// SPEC: error: option 'gradient' must be a #qtrain.quant<format, rounding[, scaling <...>]> attribute or 'none', got '<float<f8E5M2>>'
// SPLIT: error: a weight-gradient spec splits the gradient spec; the recipe has none (gradient=none?)
// HISTORY: error: amax-history must be a positive length or 0, got -1
func.func @f(%w: tensor<4x4xf32> {qtrain.role = #qtrain<role parameter>}, %x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul {qtrain.layer = "fc1"} ins(%x, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
