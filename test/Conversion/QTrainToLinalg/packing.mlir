// RUN: qtrain-opt %s -split-input-file -convert-qtrain-to-linalg | FileCheck %s

// pack: the even and odd codes as stride-2 slices, combined in one
// element-wise generic (high nibble first).
// CHECK-LABEL: func.func @pack(
// CHECK-SAME:    %[[C:.+]]: tensor<2x8xi8>)
// CHECK:         %[[EVEN:.+]] = tensor.extract_slice %[[C]][0, 0] [2, 4] [1, 2] : tensor<2x8xi8> to tensor<2x4xi8>
// CHECK:         %[[ODD:.+]] = tensor.extract_slice %[[C]][0, 1] [2, 4] [1, 2] : tensor<2x8xi8> to tensor<2x4xi8>
// CHECK:         %[[P:.+]] = linalg.generic {{.+}} ins(%[[EVEN]], %[[ODD]] : tensor<2x4xi8>, tensor<2x4xi8>)
// CHECK:           arith.shli
// CHECK:           arith.andi
// CHECK:           arith.ori
// CHECK:         return %[[P]]
func.func @pack(%codes: tensor<2x8xi8>) -> tensor<2x4xi8> {
  %p = qtrain.pack %codes : tensor<2x8xi8> -> tensor<2x4xi8>
  return %p : tensor<2x4xi8>
}

// -----

// unpack: the two nibbles of each byte, inserted at stride 2.
// CHECK-LABEL: func.func @unpack(
// CHECK-SAME:    %[[B:.+]]: tensor<2x4xi8>)
// CHECK:         %[[N:.+]]:2 = linalg.generic {{.+}} ins(%[[B]] : tensor<2x4xi8>)
// CHECK:           arith.shrui
// CHECK:           arith.andi
// CHECK:         %[[E:.+]] = tensor.insert_slice %[[N]]#0 into %{{.+}}[0, 0] [2, 4] [1, 2] : tensor<2x4xi8> into tensor<2x8xi8>
// CHECK:         %[[R:.+]] = tensor.insert_slice %[[N]]#1 into %[[E]][0, 1] [2, 4] [1, 2] : tensor<2x4xi8> into tensor<2x8xi8>
// CHECK:         return %[[R]]
func.func @unpack(%bytes: tensor<2x4xi8>) -> tensor<2x8xi8> {
  %u = qtrain.unpack %bytes : tensor<2x4xi8> -> tensor<2x8xi8>
  return %u : tensor<2x8xi8>
}
