// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg=target=tensor-cores | FileCheck %s
// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg=target=ampere-tensor-cores | FileCheck %s --check-prefix=F16

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

// Other float formats that f16 holds (HFP8's 1-4-3 with bias 11, in i8
// storage) are decoded to f16 tensors, exactly, and widened in the
// contraction: the GEMM units multiply f16. bf16 operands are contracted
// as they are stored (their codes are their values), as are int8 codes with
// them, decoded to bf16 (the weight gradients of INT8 training).
// Contractions that no tensor core takes are decoded to the accumulator
// type, as on every target: an f16 accumulator (the MMAs here accumulate in
// f32), and 16-bit integer codes (which neither f16 nor bf16 holds) times
// bf16, whose codes are widened in the contraction.
// CHECK-LABEL: func.func @decoded
// CHECK-SAME:    %[[A:[^:]*]]: tensor<4x8xf8E4M3FN>, %[[H:[^:]*]]: tensor<4x8xi8>, %[[BF:[^:]*]]: tensor<4x8xbf16>, %[[W:[^:]*]]: tensor<4x8xi16>
// CHECK:         %[[HH:.+]] = linalg.generic {{.*}} ins(%[[H]] : tensor<4x8xi8>) outs(%{{.*}} : tensor<4x8xf16>)
// CHECK:         %[[AH:.+]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x8xf8E4M3FN>) outs(%{{.*}} : tensor<4x8xf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[HH]], %[[AH]] : tensor<4x8xf16>, tensor<4x8xf16>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[X:.+]]: f16, %[[Y:.+]]: f16, %{{.+}}: f32):
// CHECK-NEXT:      arith.extf %[[X]] : f16 to f32
// CHECK-NEXT:      arith.extf %[[Y]] : f16 to f32
// CHECK-COUNT-2: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x8xf8E4M3FN>) outs(%{{.*}} : tensor<4x8xf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xf16>, tensor<4x8xf16>) outs(%{{.*}} : tensor<4x4xf16>)
// CHECK:         %[[HB:.+]] = linalg.generic {{.*}} ins(%[[H]] : tensor<4x8xi8>) outs(%{{.*}} : tensor<4x8xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[HB]], %[[BF]] : tensor<4x8xbf16>, tensor<4x8xbf16>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK-NEXT:    ^bb0(%{{.+}}: bf16, %{{.+}}: bf16, %{{.+}}: f32):
// CHECK:         %[[BD:.+]] = linalg.generic {{.*}} ins(%[[BF]] : tensor<4x8xbf16>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[W]], %[[BD]] : tensor<4x8xi16>, tensor<4x8xf32>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[C:.+]]: i16, %{{.+}}: f32, %{{.+}}: f32):
// CHECK-NEXT:      arith.sitofp %[[C]] : i16 to f32
func.func @decoded(%a: tensor<4x8xf8E4M3FN>, %h: tensor<4x8xi8>, %bf: tensor<4x8xbf16>, %w: tensor<4x8xi16>, %s: tensor<f32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = qtrain.qmatmul %h, %a lhs(float<hfp8_e4m3>, scale %s : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<4x8xi8>, tensor<4x8xf8E4M3FN> -> tensor<4x4xf32>
  %1 = qtrain.qmatmul %a, %a lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>)
                             accumulate f16 : tensor<4x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<4x4xf32>
  %2 = qtrain.qmatmul %h, %bf lhs(int<8, unsigned>, scale %s : tensor<f32>) rhs(float<bf16> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<4x8xi8>, tensor<4x8xbf16> -> tensor<4x4xf32>
  %3 = qtrain.qmatmul %w, %bf lhs(int<16, signed>, scale %s : tensor<f32>) rhs(float<bf16> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<4x8xi16>, tensor<4x8xbf16> -> tensor<4x4xf32>
  return %0, %1, %2, %3 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Formats that TF32 holds, all of whose values are normal there (dlfloat16,
// 1-6-9 without subnormals, in i16), are decoded to f32 and read as tf32 in
// the contraction: truncf to tf32 and extf back, exact.
// CHECK-LABEL: func.func @tf32_read
// CHECK-SAME:    %[[A:[^:]*]]: tensor<4x8xi16>
// CHECK:         %[[AD:.+]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x8xi16>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[AD]], %{{.+}} : tensor<4x8xf32>, tensor<4x8xf32>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[XT:.+]] = arith.truncf %[[X]] : f32 to tf32
// CHECK-NEXT:      %[[XF:.+]] = arith.extf %[[XT]] : tf32 to f32
// CHECK-NEXT:      %[[YT:.+]] = arith.truncf %[[Y]] : f32 to tf32
// CHECK-NEXT:      %[[YF:.+]] = arith.extf %[[YT]] : tf32 to f32
// CHECK-NEXT:      %[[P:.+]] = arith.mulf %[[XF]], %[[YF]] : f32
// CHECK-NEXT:      arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f32
func.func @tf32_read(%a: tensor<4x8xi16>, %s: tensor<f32>) -> tensor<4x4xf32> {
  %0 = qtrain.qmatmul %a, %a lhs(float<dlfloat16>, scale %s : tensor<f32>) rhs(float<dlfloat16> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<4x8xi16>, tensor<4x8xi16> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// The same for qconv2d: an E5M2 x E4M3FN convolution with f32 accumulation
// contracts the codes over (n, f, oh, ow, c, kh, kw); with an HFP8 filter
// both operands are decoded to f16 first.
// CHECK-LABEL: func.func @conv_fp8_codes
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8x8xf8E5M2>, %[[W:[^:]*]]: tensor<3x4x3x3xf8E4M3FN>
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[X]], %[[W]] : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xf8E4M3FN>) outs(%{{.*}} : tensor<2x3x6x6xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f8E5M2, %[[B:.+]]: f8E4M3FN, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[AF:.+]] = arith.extf %[[A]] : f8E5M2 to f32
// CHECK-NEXT:      %[[BF:.+]] = arith.extf %[[B]] : f8E4M3FN to f32
// CHECK:         linalg.generic {{.*}} ins(%[[X]] : tensor<2x4x8x8xf8E5M2>) outs(%{{.*}} : tensor<2x4x8x8xf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<3x4x3x3xi8>) outs(%{{.*}} : tensor<3x4x3x3xf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x4x8x8xf16>, tensor<3x4x3x3xf16>) outs(%{{.*}} : tensor<2x3x6x6xf32>)
func.func @conv_fp8_codes(%x: tensor<2x4x8x8xf8E5M2>, %w: tensor<3x4x3x3xf8E4M3FN>, %h: tensor<3x4x3x3xi8>, %s: tensor<f32>) -> (tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>) {
  %0 = qtrain.qconv2d %x, %w input(float<f8E5M2>, scale %s : tensor<f32>) filter(float<f8E4M3FN>, scale %s : tensor<f32>)
         accumulate f32 : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xf8E4M3FN> -> tensor<2x3x6x6xf32>
  %1 = qtrain.qconv2d %x, %h input(float<f8E5M2>, scale %s : tensor<f32>) filter(float<hfp8_e4m3>, scale %s : tensor<f32>)
         accumulate f32 : tensor<2x4x8x8xf8E5M2>, tensor<3x4x3x3xi8> -> tensor<2x3x6x6xf32>
  return %0, %1 : tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>
}

// -----

// For GEMM units that multiply f16 but not FP8 codes (target=ampere-tensor-cores,
// sm_80), FP8 operands are decoded to f16 as well.
// F16-LABEL: func.func @f16_units
// F16-SAME:    %[[A:[^:]*]]: tensor<2x4x8xf8E4M3FN>, %[[B:[^:]*]]: tensor<2x3x8xf8E5M2>
// F16:         %[[AH:.+]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x4x8xf8E4M3FN>) outs(%{{.*}} : tensor<2x4x8xf16>)
// F16:         %[[BH:.+]] = linalg.generic {{.*}} ins(%[[B]] : tensor<2x3x8xf8E5M2>) outs(%{{.*}} : tensor<2x3x8xf16>)
// F16:         linalg.generic {{.*}} ins(%[[AH]], %[[BH]] : tensor<2x4x8xf16>, tensor<2x3x8xf16>) outs(%{{.*}} : tensor<2x4x3xf32>)
// F16-NEXT:    ^bb0(%{{.+}}: f16, %{{.+}}: f16, %{{.+}}: f32):
// F16-NOT:     ^bb0(%{{.+}}: f8E
func.func @f16_units(%a: tensor<2x4x8xf8E4M3FN>, %b: tensor<2x3x8xf8E5M2>, %s: tensor<f32>) -> tensor<2x4x3xf32> {
  %0 = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E5M2> transposed, scale %s : tensor<f32>)
                             accumulate f32 : tensor<2x4x8xf8E4M3FN>, tensor<2x3x8xf8E5M2> -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}
