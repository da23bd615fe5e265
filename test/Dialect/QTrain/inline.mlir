// RUN: qtrain-opt %s -split-input-file -inline | FileCheck %s

// qtrain ops inline into their callers: a training step's call of its
// gradient function disappears under the upstream inliner.
// CHECK-LABEL: func.func @caller
// CHECK-NOT:     call
// CHECK:         %[[R:.+]] = qtrain.round %{{.+}} to float<f8E4M3FN> : tensor<8xf32>
// CHECK:         return %[[R]]
func.func private @rounded(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = qtrain.round %x to float<f8E4M3FN> : tensor<8xf32>
  return %0 : tensor<8xf32>
}

func.func @caller(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = call @rounded(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
