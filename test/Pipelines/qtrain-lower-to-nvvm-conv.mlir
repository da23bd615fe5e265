// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89 \
// RUN:   --kernels-using "mma\.sync[.a-z0-9]*" | FileCheck %s --check-prefix=PTX
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a" -o %t.sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90a.mlir %t.sm90a
// RUN: cat %t.sm90a.*.ptx | FileCheck %s --check-prefix=WGMMA
// RUN: for c in sm89:sm_89 sm90a:sm_90a; do \
// RUN:   for f in %t.${c%%:*}.*.ptx; do \
// RUN:     %ptxas -arch=${c#*:} $f -o ${f%.ptx}.cubin || exit 1; done; done
// RUN: %if nvdisasm %{ for f in %t.sm89.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS %}
// RUN: %if nvdisasm %{ for f in %t.sm90a.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS90 %}

// qtrain.qconv2d of 8-bit operands runs on the tensor cores as an implicit
// GEMM (M = batch x output pixels, N = output channels, K = input channels
// x kernel window; no im2col matrix is made): an E5M2 gradient convolved
// with E4M3FN filters (nchw, stride 2, per-channel filter scale) and an
// int8 convolution with zero points (nhwc). One kernel each, mma.sync on
// sm_89, a warpgroup MMA on sm_90a; ptxas assembles them and the SASS has
// the FP8 and int8 MMA instructions.
// (Kernels in the order of their names: fp8, int8.)
// PTX:      {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32
// PTX-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32
// PTX-NOT:  mma.sync
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.f32.e5m2.e4m3
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.s32.u8.s8
// WGMMA-NOT: mma.sync
// SASS: QMMA.16832.F32.E5M2.E4M3
// SASS: IMMA.16832.U8.S8
// SASS90: QGMMA.64x64x32.F32.E5M2.E4M3
// SASS90: IGMMA.64x64x32.U8.S8

func.func @fp8(%x: tensor<2x16x17x17xf8E5M2>, %w: tensor<8x16x3x3xf8E4M3FN>, %sx: tensor<f32>, %sw: tensor<8xf32>) -> tensor<2x8x8x8xf32> {
  %y = qtrain.qconv2d %x, %w input(float<f8E5M2>, scale %sx : tensor<f32>) filter(float<f8E4M3FN>, scale %sw : tensor<8xf32> granularity <per_channel, axis = 0>)
         accumulate f32 strides [2, 2] : tensor<2x16x17x17xf8E5M2>, tensor<8x16x3x3xf8E4M3FN> -> tensor<2x8x8x8xf32>
  return %y : tensor<2x8x8x8xf32>
}

func.func @int8(%x: tensor<1x10x10x8xi8>, %w: tensor<3x3x8x16xi8>, %sx: tensor<f32>, %zx: tensor<f32>, %sw: tensor<f32>) -> tensor<1x8x8x16xf32> {
  %y = qtrain.qconv2d %x, %w input(int<8, unsigned>, scale %sx : tensor<f32> zero_point %zx : tensor<f32>) filter(int<8, signed>, scale %sw : tensor<f32>)
         accumulate i32 layout nhwc_hwcf : tensor<1x10x10x8xi8>, tensor<3x3x8x16xi8> -> tensor<1x8x8x16xf32>
  return %y : tensor<1x8x8x16xf32>
}
