// RUN: qtrain-opt %s -qtrain-autodiff -qtrain-compress-activations -verify-diagnostics -split-input-file | FileCheck %s
// RUN: qtrain-opt %s -qtrain-autodiff '-qtrain-compress-activations=bits=8 keep-last=false' -split-input-file 2>/dev/null | FileCheck %s --check-prefix=WIDE
// RUN: qtrain-opt %s -qtrain-autodiff -qtrain-compress-activations=exempt=conv -split-input-file 2>/dev/null | FileCheck %s --check-prefix=EXEMPT
// RUN: not qtrain-opt %s -qtrain-autodiff -qtrain-compress-activations=bits=6 -split-input-file 2>&1 | FileCheck %s --check-prefix=BITS

// A conv - batch norm + ReLU - max pool - fc model. The unit's codes are
// computed after it in the forward half (4-bit: clamped to 15 and packed),
// decoded where the backward half first reads the unit, and the unit and
// its pooling are recomputed from the decoded values for the backward
// reads. The fc input
// (the last layer's) stays exact for the fc weight gradient, while the
// pooling gradient compares the recomputed pooling with its input.
// CHECK-LABEL: func.func @cnn_grad(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x1x3x3xf32> {{[^,]+}}, %[[G:[^:]+]]: tensor<4xf32> {{[^,]+}}, %[[B:[^:]+]]: tensor<4xf32> {{[^,]+}}, %[[V:[^:]+]]: tensor<16x3xf32>
// CHECK:         %[[INV:.+]] = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%{{.+}} : tensor<4xf32>)
// CHECK:           math.rsqrt
// CHECK:         %[[UNIT:.+]] = linalg.generic {{.+}} ins(%[[C:.+]], %[[INV]], %[[G]], %[[B]] : tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK:         %[[P:.+]]:3 = linalg.generic {{.+}} ins(%[[INV]], %[[G]], %[[B]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK:           math.floor
// CHECK:         %[[CODES:.+]] = qtrain.quantize %[[C]] to int<8, unsigned> scale(%[[P]]#0 : tensor<4xf32>) zero_point(%[[P]]#1 : tensor<4xf32>) granularity <per_channel, axis = 1> rounding upward : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xi8>
// CHECK:         %[[CLAMPED:.+]] = linalg.generic {{.+}} ins(%[[CODES]] : tensor<2x4x4x4xi8>)
// CHECK:           arith.minui %{{.+}}, %c15_i8
// CHECK:         %[[PACKED:.+]] = qtrain.pack %[[CLAMPED]] : tensor<2x4x4x4xi8> -> tensor<2x4x4x2xi8>
// CHECK:         %[[POOL:.+]] = linalg.pooling_nchw_max {{.+}} ins(%[[UNIT]],
// CHECK:         %[[FLAT:.+]] = tensor.collapse_shape %[[POOL]]
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%{{.+}} : tensor<2x3xf32>)
// CHECK:         } -> tensor<f32>
// CHECK:         qtrain.unpack %[[PACKED]] : tensor<2x4x4x2xi8> -> tensor<2x4x4x4xi8>
// CHECK-NEXT:    %[[DECODED:.+]] = qtrain.dequantize %{{.+}} from int<8, unsigned> scale(%[[P]]#0 : tensor<4xf32>) zero_point(%[[P]]#2 : tensor<4xf32>) granularity <per_channel, axis = 1>
// CHECK-NEXT:    %[[UNIT2:.+]] = linalg.generic {{.+}} ins(%[[DECODED]], %[[INV]], %[[G]], %[[B]] :
// CHECK:         %[[POOL2:.+]] = linalg.pooling_nchw_max {{.+}} ins(%[[UNIT2]],
// CHECK:         linalg.generic {{.+}} ins(%[[FLAT]], %{{.+}} : tensor<2x16xf32>, tensor<2x3xf32>) outs(%{{.+}} : tensor<16x3xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[UNIT2]], %[[POOL2]], %{{.+}} : tensor<2x4x4x4xf32>, tensor<2x4x2x2xf32>, tensor<2x4x2x2xf32>)
// CHECK-NOT:     ins(%[[C]]{{,| :}}
// CHECK:         return

// 8 bits: no packing; without keep-last, the fc weight gradient reads the
// recomputed pooling too.
// WIDE-LABEL: func.func @cnn_grad(
// WIDE-NOT:     qtrain.pack
// WIDE:         %[[CODES:.+]] = qtrain.quantize %{{.+}} to int<8, unsigned>
// WIDE:         linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%{{.+}} : tensor<2x3xf32>)
// WIDE:         } -> tensor<f32>
// WIDE:         %[[DECODED:.+]] = qtrain.dequantize %[[CODES]]
// WIDE-NEXT:    %[[UNIT2:.+]] = linalg.generic {{.+}} ins(%[[DECODED]],
// WIDE:         %[[POOL2:.+]] = linalg.pooling_nchw_max {{.+}} ins(%[[UNIT2]],
// WIDE:         %[[FLAT2:.+]] = tensor.collapse_shape %[[POOL2]]
// WIDE:         linalg.generic {{.+}} ins(%[[FLAT2]], %{{.+}} : tensor<2x16xf32>, tensor<2x3xf32>) outs(%{{.+}} : tensor<16x3xf32>)

// An exempt layer keeps its unit exact.
// EXEMPT-LABEL: func.func @cnn_grad(
// EXEMPT-NOT:   qtrain.quantize

// BITS: error: qtrain-compress-activations: bits must be 4 or 8, got 6

// expected-remark @+1 {{activations saved for backward: 1208 bytes exact, 280 bytes with 4-bit batch-norm units}}
func.func @cnn(%w: tensor<4x1x3x3xf32> {qtrain.role = #qtrain<role parameter>},
               %g: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %b: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
               %v: tensor<16x3xf32> {qtrain.role = #qtrain<role parameter>},
               %x: tensor<2x1x6x6xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<2x4x4x4xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {qtrain.layer = "conv"} ins(%x, %w : tensor<2x1x6x6xf32>, tensor<4x1x3x3xf32>) outs(%z : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
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
    %k = arith.constant 0.03125 : f32
    %m = arith.mulf %s, %k : f32
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
  ^bb0(%s: f32, %o: f32):
    %k = arith.constant 0.03125 : f32
    %eps = arith.constant 1.0e-5 : f32
    %var = arith.mulf %s, %k : f32
    %ve = arith.addf %var, %eps : f32
    %i = math.rsqrt %ve : f32
    linalg.yield %i : f32
  } -> tensor<4xf32>
  %bn = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %inv, %g, %b : tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<2x4x4x4xf32>) {
  ^bb0(%a: f32, %i: f32, %gg: f32, %bb: f32, %o: f32):
    %t = arith.mulf %a, %i : f32
    %u = arith.mulf %t, %gg : f32
    %s = arith.addf %u, %bb : f32
    %r = arith.maximumf %s, %c0 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x4x4xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %ep = tensor.empty() : tensor<2x4x2x2xf32>
  %zp = linalg.fill ins(%ninf : f32) outs(%ep : tensor<2x4x2x2xf32>) -> tensor<2x4x2x2xf32>
  %pool = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%bn, %win : tensor<2x4x4x4xf32>, tensor<2x2xf32>) outs(%zp : tensor<2x4x2x2xf32>) -> tensor<2x4x2x2xf32>
  %flat = tensor.collapse_shape %pool [[0], [1, 2, 3]] : tensor<2x4x2x2xf32> into tensor<2x16xf32>
  %ef = tensor.empty() : tensor<2x3xf32>
  %zf = linalg.fill ins(%c0 : f32) outs(%ef : tensor<2x3xf32>) -> tensor<2x3xf32>
  %logits = linalg.matmul {qtrain.layer = "fc"} ins(%flat, %v : tensor<2x16xf32>, tensor<16x3xf32>) outs(%zf : tensor<2x3xf32>) -> tensor<2x3xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%logits : tensor<2x3xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %acc: f32) {
      %s = arith.mulf %a, %a : f32
      %t = arith.addf %s, %acc : f32
      linalg.yield %t : f32
    }
  return %l : tensor<f32>
}

// -----

// A padded unit output (the residual CNN's form). With keep-last, the last
// layer's input (the pad) stays exact and the centered values are an
// argument, so codes would free nothing: the unit is left alone. Without
// keep-last, the filter gradient reads the pad recomputed from the decoded
// values.
// CHECK-LABEL: func.func @padded_grad(
// CHECK-NOT:     qtrain.quantize
// EXEMPT-LABEL: func.func @padded_grad(
// WIDE-LABEL: func.func @padded_grad(
// WIDE:         %[[DECODED:.+]] = qtrain.dequantize
// WIDE-NEXT:    %[[UNIT2:.+]] = linalg.generic {{.+}} ins(%[[DECODED]],
// WIDE:         %[[PAD2:.+]] = tensor.pad %[[UNIT2]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// WIDE:         linalg.transpose ins(%[[PAD2]] : tensor<1x2x6x6xf32>)

// expected-remark @+1 {{activations saved for backward: 416 bytes exact, 416 bytes with 4-bit batch-norm units}}
func.func @padded(%g: tensor<2xf32> {qtrain.role = #qtrain<role parameter>},
                  %b: tensor<2xf32> {qtrain.role = #qtrain<role parameter>},
                  %w: tensor<2x2x3x3xf32> {qtrain.role = #qtrain<role parameter>},
                  %v: tensor<16x3xf32> {qtrain.role = #qtrain<role parameter>},
                  %c: tensor<1x2x4x4xf32> {qtrain.role = #qtrain<role input>},
                  %i: tensor<2xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %i, %g, %b : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%x: f32, %ii: f32, %gg: f32, %bb: f32, %o: f32):
    %t = arith.mulf %x, %ii : f32
    %u = arith.mulf %t, %gg : f32
    %s = arith.addf %u, %bb : f32
    %r = arith.maximumf %s, %c0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %p = tensor.pad %a low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %c0 : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %ey = tensor.empty() : tensor<1x2x4x4xf32>
  %zy = linalg.fill ins(%c0 : f32) outs(%ey : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {qtrain.layer = "conv"} ins(%p, %w : tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) outs(%zy : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %flat = tensor.collapse_shape %y [[0], [1, 2, 3]] : tensor<1x2x4x4xf32> into tensor<1x32xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%flat : tensor<1x32xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1]
    (%x: f32, %acc: f32) {
      %s = arith.mulf %x, %x : f32
      %t = arith.addf %s, %acc : f32
      linalg.yield %t : f32
    }
  return %l : tensor<f32>
}

// -----

// A post-activation residual block: batch norm without ReLU, then
// `max(a + skip, 0)`. Besides the codes of the centered values, the block's
// output gets codes of its own on [0, amax] per channel; the residual's
// gradient reads the decoded output (ReLU'd bin centres) and zeros instead
// of the batch norm's output and the skip, and the loss gradient reads the
// decoded output.
// CHECK-LABEL: func.func @residual_grad(
// CHECK-SAME:    %{{[^:]+}}: tensor<2xf32> {{[^,]+}}, %{{[^:]+}}: tensor<2xf32> {{[^,]+}}, %{{[^:]+}}: tensor<1x2x4x4xf32> {{[^,]+}}, %{{[^:]+}}: tensor<2xf32> {{[^,]+}}, %[[SKIP:[^:]+]]: tensor<1x2x4x4xf32>
// CHECK:         %[[A:.+]] = linalg.generic {{.+}} ins(%[[C:.+]], %{{.+}}, %{{.+}}, %{{.+}} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK:         qtrain.quantize %[[C]] to int<8, unsigned>
// CHECK:         %[[R:.+]] = linalg.generic {{.+}} ins(%[[SKIP]], %[[A]] :
// CHECK:         %[[STEP:.+]] = qtrain.compute_scale %[[R]] for int<4, unsigned> using <absmax, per_channel, axis = 1> : tensor<1x2x4x4xf32> -> tensor<2xf32>
// CHECK:         %[[RCODES:.+]] = qtrain.quantize %[[R]] to int<8, unsigned> scale(%[[STEP]] : tensor<2xf32>) granularity <per_channel, axis = 1> rounding upward
// CHECK:         linalg.generic {{.+}} ins(%[[RCODES]] : tensor<1x2x4x4xi8>)
// CHECK:           arith.minui
// CHECK:         %[[RPACKED:.+]] = qtrain.pack
// CHECK:         } -> tensor<f32>
// CHECK:         %[[HALF:.+]] = arith.constant dense<5.000000e-01> : tensor<2xf32>
// CHECK-NEXT:    %[[RUNPACKED:.+]] = qtrain.unpack %[[RPACKED]]
// CHECK-NEXT:    %[[CENTRES:.+]] = qtrain.dequantize %[[RUNPACKED]] from int<8, unsigned> scale(%[[STEP]] : tensor<2xf32>) zero_point(%[[HALF]] : tensor<2xf32>) granularity <per_channel, axis = 1>
// CHECK:         %[[R2:.+]] = linalg.generic {{.+}} ins(%[[CENTRES]] : tensor<1x2x4x4xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.constant 0.0
// CHECK-NEXT:      arith.maximumf
// CHECK:         %[[ZEROS:.+]] = linalg.fill
// CHECK:         linalg.generic {{.+}} ins(%[[R2]], %{{.+}} : tensor<1x2x4x4xf32>, tensor<f32>)
// CHECK:         linalg.generic {{.+}} ins(%[[ZEROS]], %[[R2]], %{{.+}} : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      arith.cmpf ogt
// CHECK-NOT:     ins(%[[A]]{{,| :}}
// CHECK-NOT:     ins(%[[R]]{{,| :}}
// CHECK:         return
// EXEMPT-LABEL: func.func @residual_grad(
// WIDE-LABEL: func.func @residual_grad(
// WIDE:         qtrain.compute_scale %{{.+}} for int<8, unsigned> using <absmax, per_channel, axis = 1>
// WIDE-NOT:     qtrain.pack

// expected-remark @+1 {{activations saved for backward: 256 bytes exact, 56 bytes with 4-bit batch-norm units}}
func.func @residual(%g: tensor<2xf32> {qtrain.role = #qtrain<role parameter>},
                    %b: tensor<2xf32> {qtrain.role = #qtrain<role parameter>},
                    %x: tensor<1x2x4x4xf32> {qtrain.role = #qtrain<role parameter>},
                    %i: tensor<2xf32> {qtrain.role = #qtrain<role input>},
                    %skip: tensor<1x2x4x4xf32> {qtrain.role = #qtrain<role input>}) -> tensor<f32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<1x2x4x4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %i, %g, %b : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%v: f32, %ii: f32, %gg: f32, %bb: f32, %o: f32):
    %t = arith.mulf %v, %ii : f32
    %u = arith.mulf %t, %gg : f32
    %s = arith.addf %u, %bb : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%skip, %a : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%s: f32, %v: f32, %o: f32):
    %sum = arith.addf %v, %s : f32
    %y = arith.maximumf %sum, %c0 : f32
    linalg.yield %y : f32
  } -> tensor<1x2x4x4xf32>
  %le = tensor.empty() : tensor<f32>
  %lz = linalg.fill ins(%c0 : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %l = linalg.reduce ins(%r : tensor<1x2x4x4xf32>) outs(%lz : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%v: f32, %acc: f32) {
      %s = arith.mulf %v, %v : f32
      %t = arith.addf %s, %acc : f32
      linalg.yield %t : f32
    }
  return %l : tensor<f32>
}
