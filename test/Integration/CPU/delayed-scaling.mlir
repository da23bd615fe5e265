// Delayed scaling, compiled and run: record_amax pushes a tensor's amax in
// front of its history (the oldest entry drops out), records 0 for a tensor
// holding an inf or a NaN, and compute_scale's absmax over the history is
// the largest recorded amax over the format's largest value (448 for E4M3),
// or 1 while the history is all zeros. Expected values by hand.
// RUN: %run_cpu | FileCheck %s --match-full-lines

func.func @print(%t: tensor<4xf32>) {
  %m = bufferization.to_buffer %t : tensor<4xf32> to memref<4xf32>
  %u = memref.cast %m : memref<4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print_scale(%s: tensor<f32>) {
  %e = tensor.expand_shape %s [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %m = bufferization.to_buffer %e : tensor<1xf32> to memref<1xf32>
  %u = memref.cast %m : memref<1xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %zeros = arith.constant dense<0.0> : tensor<4xf32>
  // An all-zero history: scale 1.
  // CHECK: [1]
  %s0 = qtrain.compute_scale %zeros for float<f8E4M3FN> using <absmax> : tensor<4xf32> -> tensor<f32>
  call @print_scale(%s0) : (tensor<f32>) -> ()

  // CHECK: [224,  0,  0,  0]
  %x1 = arith.constant dense<[[1.0, -224.0], [3.5, 0.0]]> : tensor<2x2xf32>
  %h1 = qtrain.record_amax %x1 into %zeros : tensor<2x2xf32>, tensor<4xf32>
  call @print(%h1) : (tensor<4xf32>) -> ()
  // 224 / 448.
  // CHECK: [0.5]
  %s1 = qtrain.compute_scale %h1 for float<f8E4M3FN> using <absmax> : tensor<4xf32> -> tensor<f32>
  call @print_scale(%s1) : (tensor<f32>) -> ()

  // CHECK: [896,  224,  0,  0]
  %x2 = arith.constant dense<[[-896.0, 2.0], [7.0, 1.0]]> : tensor<2x2xf32>
  %h2 = qtrain.record_amax %x2 into %h1 : tensor<2x2xf32>, tensor<4xf32>
  call @print(%h2) : (tensor<4xf32>) -> ()
  // CHECK: [2]
  %s2 = qtrain.compute_scale %h2 for float<f8E4M3FN> using <absmax> : tensor<4xf32> -> tensor<f32>
  call @print_scale(%s2) : (tensor<f32>) -> ()

  // An inf and a NaN are recorded as 0; the scale keeps the older amaxes.
  // CHECK: [0,  0,  896,  224]
  %x3 = arith.constant dense<[[1.0, 0x7F800000], [2.0, 3.0]]> : tensor<2x2xf32>
  %h3 = qtrain.record_amax %x3 into %h2 : tensor<2x2xf32>, tensor<4xf32>
  %x4 = arith.constant dense<[[0x7FC00000, 5.0], [-6.0, 1.0]]> : tensor<2x2xf32>
  %h4 = qtrain.record_amax %x4 into %h3 : tensor<2x2xf32>, tensor<4xf32>
  call @print(%h4) : (tensor<4xf32>) -> ()
  // CHECK: [2]
  %s4 = qtrain.compute_scale %h4 for float<f8E4M3FN> using <absmax> : tensor<4xf32> -> tensor<f32>
  call @print_scale(%s4) : (tensor<f32>) -> ()

  // The oldest entry drops out: 896 is gone after two more pushes.
  // CHECK: [44.8,  4.48,  0,  0]
  %x5 = arith.constant dense<[[4.48, 0.0], [0.0, 0.0]]> : tensor<2x2xf32>
  %h5 = qtrain.record_amax %x5 into %h4 : tensor<2x2xf32>, tensor<4xf32>
  %x6 = arith.constant dense<[[0.0, 0.0], [-44.8, 0.0]]> : tensor<2x2xf32>
  %h6 = qtrain.record_amax %x6 into %h5 : tensor<2x2xf32>, tensor<4xf32>
  call @print(%h6) : (tensor<4xf32>) -> ()
  // CHECK: [0.1]
  %s6 = qtrain.compute_scale %h6 for float<f8E4M3FN> using <absmax> : tensor<4xf32> -> tensor<f32>
  call @print_scale(%s6) : (tensor<f32>) -> ()

  // A history of one entry holds the last amax alone (an inf recorded as 0).
  // CHECK: [7]
  // CHECK: [0]
  %one = arith.constant dense<5.0> : tensor<1xf32>
  %g1 = qtrain.record_amax %x2 into %one : tensor<2x2xf32>, tensor<1xf32>
  %g2 = qtrain.record_amax %x1 into %g1 : tensor<2x2xf32>, tensor<1xf32>
  %g3 = qtrain.record_amax %x3 into %g2 : tensor<2x2xf32>, tensor<1xf32>
  %last = tensor.extract_slice %x2[1, 0] [1, 2] [1, 1] : tensor<2x2xf32> to tensor<1x2xf32>
  %g4 = qtrain.record_amax %last into %g3 : tensor<1x2xf32>, tensor<1xf32>
  %f4 = tensor.collapse_shape %g4 [] : tensor<1xf32> into tensor<f32>
  call @print_scale(%f4) : (tensor<f32>) -> ()
  %f3 = tensor.collapse_shape %g3 [] : tensor<1xf32> into tensor<f32>
  call @print_scale(%f3) : (tensor<f32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>)
