// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg=target=tensor-cores | FileCheck %s

// For GEMM units that multiply FP8 codes (target=tensor-cores), a qmatmul of
// E4M3FN/E5M2 operands with f32 accumulation contracts the codes: each is
// widened with arith.extf (exactly the format's decode) inside the
// contraction, and no decoded tensors are made.
// CHECK-LABEL: func.func @fp8_codes
// CHECK-SAME:    %[[A:[^:]*]]: tensor<2x4x8xf8E4M3FN>, %[[B:[^:]*]]: tensor<2x3x8xf8E5M2>
// CHECK-NOT:     linalg.generic {{.*}} ins(%[[A]] : tensor<2x4x8xf8E4M3FN>)
// CHECK:         linalg.generic {{.*}} ins(%[[A]], %[[B]] : tensor<2x4x8xf8E4M3FN>, tensor<2x3x8xf8E5M2>) outs(%{{.*}} : tensor<2x4x3xf32>)
// CHECK-NEXT:    ^bb0(%[[X:.+]]: f8E4M3FN, %[[Y:.+]]: f8E5M2, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[XF:.+]] = arith.extf %[[X]] : f8E4M3FN to f32
// CHECK-NEXT:      %[[YF:.+]] = arith.extf %[[Y]] : f8E5M2 to f32
// CHECK-NEXT:      %[[P:.+]] = arith.mulf %[[XF]], %[[YF]] : f32
// CHECK-NEXT:      arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f32
func.func @fp8_codes(%a: tensor<2x4x8xf8E4M3FN>, %b: tensor<2x3x8xf8E5M2>, %s: tensor<f32>) -> tensor<2x4x3xf32> {
  %0 = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E5M2> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<2x4x8xf8E4M3FN>, tensor<2x3x8xf8E5M2> -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// -----

// Other float contractions are decoded first, as on every target: an f16
// accumulator (FP8 MMAs here accumulate in f32), and formats that are not
// E4M3FN/E5M2 (HFP8's 1-4-3 with bias 4 in i8 storage).
// CHECK-LABEL: func.func @decoded
// CHECK-COUNT-2: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x8xf8E4M3FN>) outs(%{{.*}} : tensor<4x8xf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xf16>, tensor<4x8xf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<4x8xi8>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<4x8xf8E4M3FN>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>)
func.func @decoded(%a: tensor<4x8xf8E4M3FN>, %h: tensor<4x8xi8>, %s: tensor<f32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = qtrain.qmatmul %a, %a lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>)
                             accumulate f16 : tensor<4x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<4x4xf32>
  %1 = qtrain.qmatmul %h, %a lhs(float<hfp8_e4m3>, scale %s : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<4x8xi8>, tensor<4x8xf8E4M3FN> -> tensor<4x4xf32>
  return %0, %1 : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// The same for qconv2d: an E5M2 x E4M3FN convolution with f32 accumulation
// contracts the codes over (n, f, oh, ow, c, kh, kw); HFP8 operands are
// decoded first.
// CHECK-LABEL: func.func @conv_fp8_codes
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8x8xf8E5M2>, %[[W:[^:]*]]: tensor<3x4x3x3xf8E4M3FN>
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[X]], %[[W]] : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xf8E4M3FN>) outs(%{{.*}} : tensor<2x3x6x6xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f8E5M2, %[[B:.+]]: f8E4M3FN, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[AF:.+]] = arith.extf %[[A]] : f8E5M2 to f32
// CHECK-NEXT:      %[[BF:.+]] = arith.extf %[[B]] : f8E4M3FN to f32
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<3x4x3x3xi8>) outs(%{{.*}} : tensor<3x4x3x3xf32>)
func.func @conv_fp8_codes(%x: tensor<2x4x8x8xf8E5M2>, %w: tensor<3x4x3x3xf8E4M3FN>, %h: tensor<3x4x3x3xi8>, %s: tensor<f32>) -> (tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>) {
  %0 = qtrain.qconv2d %x, %w input(float<f8E5M2>, scale %s : tensor<f32>) filter(float<f8E4M3FN>, scale %s : tensor<f32>)
         accumulate f32 : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xf8E4M3FN> -> tensor<2x3x6x6xf32>
  %1 = qtrain.qconv2d %x, %h input(float<f8E5M2>, scale %s : tensor<f32>) filter(float<hfp8_e4m3>, scale %s : tensor<f32>)
         accumulate f32 : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xi8> -> tensor<2x3x6x6xf32>
  return %0, %1 : tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>
}
