// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a" -o %t.sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90a.mlir %t.sm90a
// RUN: for f in %t.sm90a.*.ptx; do %ptxas -arch=sm_90a $f -o %t.cubin || exit 1; done
// RUN: ls %t.sm90a.*.ptx | count 2
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89
// RUN: for f in %t.sm89.*.ptx; do %ptxas -arch=sm_89 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_80" -o %t.sm80.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm80.mlir %t.sm80
// RUN: for f in %t.sm80.*.ptx; do %ptxas -arch=sm_80 $f -o %t.cubin || exit 1; done
// RUN: cat %t.sm90a.*.ptx | FileCheck %s

// ptxas (CUDA toolkit) assembles every kernel qtrain-lower-to-nvvm emits
// for each chip: a per-channel absmax scale (a reduction, looped in each
// thread; 64 terms per channel are too few to split), stochastic rounding to E5M2 (the Philox stream in integer
// arithmetic), E5M2 nearest-even quantization (cvt.rn.satfinite from sm_89
// on), and int8 quantization and dequantization. Without a toolkit
// this test is UNSUPPORTED.

// CHECK: .target sm_90a
// The absmax's threads each start from 0 and loop over their channel's 64
// terms (one loop kernel: the fill of the initial values is fused into it);
// the others are one element a thread, all in one kernel (their loops share
// the 64x32 iteration space and fuse). (Files in name order.)
// CHECK: .entry ops_gpu_loop_0(
// CHECK: .entry ops_gpu_map_1(

// CHECK-E5M2: cvt.rn.satfinite.e5m2x2.f32
// RUN: cat %t.sm90a.*.ptx | FileCheck %s --check-prefix=CHECK-E5M2

func.func @ops(%x: tensor<64x32xf32>, %seed: i64) -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<32xf32>, tensor<64x32xi8>, tensor<64x32xf8E5M2>) {
  %s = qtrain.compute_scale %x for float<f8E5M2> using <absmax, per_channel, axis = 1> : tensor<64x32xf32> -> tensor<32xf32>
  %r = qtrain.round %x to float<f8E5M2> scale(%s : tensor<32xf32>) granularity <per_channel, axis = 1> rounding stochastic seed(%seed) : tensor<64x32xf32>
  %q = qtrain.quantize %x to int<8, signed> scale(%s : tensor<32xf32>) granularity <per_channel, axis = 1> : tensor<64x32xf32> -> tensor<64x32xi8>
  %d = qtrain.dequantize %q from int<8, signed> scale(%s : tensor<32xf32>) granularity <per_channel, axis = 1> : tensor<64x32xi8> -> tensor<64x32xf32>
  %e = qtrain.quantize %x to float<f8E5M2> scale(%s : tensor<32xf32>) granularity <per_channel, axis = 1> : tensor<64x32xf32> -> tensor<64x32xf8E5M2>
  return %r, %d, %s, %q, %e : tensor<64x32xf32>, tensor<64x32xf32>, tensor<32xf32>, tensor<64x32xi8>, tensor<64x32xf8E5M2>
}
