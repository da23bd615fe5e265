// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg | FileCheck %s

// Integer formats contract their codes, each widened by its signedness (the
// u8 x s8 form of x86 VNNI), with i32 accumulation; a transposed rhs is read
// through its map, not materialized. The lhs zero point needs the rhs column
// sums; the epilogue subtracts them and scales.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @qmatmul_u8s8
// CHECK-SAME: %[[LHS:[^:]*]]: tensor<4x8xi8>, %[[RHS:[^:]*]]: tensor<16x8xi8>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[BT]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[LHS]], %[[RHS]] : tensor<4x8xi8>, tensor<16x8xi8>) outs(%{{.*}} : tensor<4x16xi32>)
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: %[[COLSUM:.*]] = linalg.generic {{.*}} ins(%[[RHS]] : tensor<16x8xi8>) outs(%{{.*}} : tensor<16xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %{{.*}}, %{{.*}}, %{{.*}}, %[[COLSUM]] : tensor<4x16xi32>, tensor<f32>, tensor<16xf32>, tensor<f32>, tensor<16xi32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: arith.sitofp
// CHECK: arith.subf
func.func @qmatmul_u8s8(%a: tensor<4x8xi8>, %b: tensor<16x8xi8>, %sa: tensor<f32>, %sb: tensor<16xf32>, %za: tensor<f32>) -> tensor<4x16xf32> {
  %0 = qtrain.qmatmul %a, %b lhs(int<8, unsigned>, scale %sa : tensor<f32> zero_point %za : tensor<f32>)
                             rhs(int<8, signed> transposed, scale %sb : tensor<16xf32> granularity <per_channel, axis = 0>)
                             accumulate i32 : tensor<4x8xi8>, tensor<16x8xi8> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Float formats are decoded to the accumulator type first; batched operands
// keep the batch dimension in every map; f32 sums may be reassociated (their
// order is unspecified).
// CHECK-DAG: #[[BA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[BB:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[BC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @qmatmul_fp8_batched
// CHECK: %[[DA:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4x8xf8E4M3FN>) outs(%{{.*}} : tensor<2x4x8xf32>)
// CHECK: %[[DB:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x8x3xf8E5M2>) outs(%{{.*}} : tensor<2x8x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[BA]], #[[BB]], #[[BC]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[DA]], %[[DB]] : tensor<2x4x8xf32>, tensor<2x8x3xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
func.func @qmatmul_fp8_batched(%a: tensor<2x4x8xf8E4M3FN>, %b: tensor<2x8x3xf8E5M2>, %s: tensor<f32>) -> tensor<2x4x3xf32> {
  %0 = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E5M2>, scale %s : tensor<f32>)
                             accumulate f32 : tensor<2x4x8xf8E4M3FN>, tensor<2x8x3xf8E5M2> -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// -----

// A convolution is a contraction over (c, kh, kw) with strided, dilated
// input maps; the filter map follows the layout and transposition.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 * 2 + d5, d3 * 2 + d6)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @qconv2d_nchw_stride2
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: arith.extsi
// CHECK: arith.muli
func.func @qconv2d_nchw_stride2(%x: tensor<1x3x9x9xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<f32>) -> tensor<1x8x4x4xf32> {
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed>, scale %s : tensor<f32>)
                             accumulate i32 strides [2, 2] : tensor<1x3x9x9xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// CHECK-DAG: #[[XH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d2 + d5 * 2, d3 + d6 * 2, d4)>
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d5, d6, d1, d4)>
// CHECK-DAG: #[[YH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d2, d3, d1)>
// CHECK-LABEL: func.func @qconv2d_nhwc_transposed
// CHECK: linalg.generic {indexing_maps = [#[[XH]], #[[WT]], #[[YH]]]
func.func @qconv2d_nhwc_transposed(%x: tensor<1x7x7x6xi8>, %w: tensor<3x3x4x6xi8>, %s: tensor<f32>) -> tensor<1x3x3x4xf32> {
  %0 = qtrain.qconv2d %x, %w input(int<8, signed>, scale %s : tensor<f32>) filter(int<8, signed> transposed, scale %s : tensor<f32>)
                             accumulate i32 layout nhwc_hwcf dilations [2, 2] : tensor<1x7x7x6xi8>, tensor<3x3x4x6xi8> -> tensor<1x3x3x4xf32>
  return %0 : tensor<1x3x3x4xf32>
}

// -----

// Padding (values, not codes): the codes are placed into code 0 and
// convolved as unpadded. With an input zero point, code 0 is not the value
// 0: the sum of (w - zw) over each window's padded positions, P[f, oh, ow]
// (a reduction over (c, kh, kw) that tests the position against the
// unpadded input), gives the zero point's share there back: acc - zw*sumX -
// zx*sumW + K*zx*zw + zx*P, then the scales.
// CHECK-LABEL: func.func @qconv2d_padded_zero_points
// CHECK-SAME:    (%[[X:.+]]: tensor<1x2x4x4xi8>, %[[W:.+]]: tensor<3x2x3x3xi8>, %[[S:.+]]: tensor<f32>, %[[Z:.+]]: tensor<f32>)
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : i8) outs(%{{.+}} : tensor<1x2x7x5xi8>)
// CHECK:         %[[PADDED:.+]] = tensor.insert_slice %[[X]] into %[[ZEROS]][0, 0, 1, 0] [1, 2, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[ACC:.+]] = linalg.generic {{.*}} ins(%[[PADDED]], %[[W]] : tensor<1x2x7x5xi8>, tensor<3x2x3x3xi8>) outs(%{{.+}} : tensor<1x3x5x3xi32>)
// CHECK:         %[[P:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[W]], %[[Z]] : tensor<3x2x3x3xi8>, tensor<f32>) outs(%{{.+}} : tensor<3x5x3xf32>)
// CHECK:           linalg.index 1
// CHECK:           linalg.index 4
// CHECK:           arith.select
// CHECK:         linalg.generic {{.*}} ins(%[[ACC]], {{.+}}, %[[P]] : tensor<1x3x5x3xi32>, {{.+}}, tensor<3x5x3xf32>) outs(%{{.+}} : tensor<1x3x5x3xf32>)
func.func @qconv2d_padded_zero_points(%x: tensor<1x2x4x4xi8>, %w: tensor<3x2x3x3xi8>, %s: tensor<f32>, %z: tensor<f32>) -> tensor<1x3x5x3xf32> {
  %0 = qtrain.qconv2d %x, %w input(int<8, unsigned>, scale %s : tensor<f32> zero_point %z : tensor<f32>) filter(int<8, unsigned>, scale %s : tensor<f32> zero_point %z : tensor<f32>)
         accumulate i32 padding [1, 0, 2, 1] : tensor<1x2x4x4xi8>, tensor<3x2x3x3xi8> -> tensor<1x3x5x3xf32>
  return %0 : tensor<1x3x5x3xf32>
}
