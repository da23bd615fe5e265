// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89
// RUN: cat %t.sm89.*.ptx | FileCheck %s --check-prefixes=PTX,PTX-FP8
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a" -o %t.sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90a.mlir %t.sm90a
// RUN: cat %t.sm90a.*.ptx | FileCheck %s --check-prefix=WGMMA
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_80" -o %t.sm80.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm80.mlir %t.sm80
// RUN: cat %t.sm80.*.ptx | FileCheck %s --check-prefixes=PTX,PTX-SM80
// ptxas assembles every kernel for its chip.
// RUN: for c in sm89:sm_89 sm90a:sm_90a sm80:sm_80; do \
// RUN:   for f in %t.${c%%:*}.*.ptx; do \
// RUN:     %ptxas -arch=${c#*:} $f -o ${f%.ptx}.cubin || exit 1; done; done

// qtrain.qmatmul of 8-bit operands runs on the tensor cores: FP8 (any mix
// of E4M3FN and E5M2, f32 accumulation) from sm_89 on, int8 on every chip.
// The two FP8 GEMMs, batched with a transposed rhs (the forward form) and
// with a transposed lhs (the weight-gradient form), and the int8 one are
// one kernel each, 128 threads a block: on sm_89 (and sm_80 for int8),
// 8 mma.sync a k-step per warp.
// (Kernels in the order of their names: forward, int8, weight_gradient.)
// PTX-FP8-COUNT-8: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32
// PTX-COUNT-8:     mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32
// PTX-FP8-COUNT-8: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32
// PTX-NOT:         mma.sync
// On sm_80 the FP8 GEMMs are scalar loops over decoded values.
// PTX-SM80-NOT:    e4m3
// On sm_90a each is one warpgroup MMA a k-step, from shared memory.
// WGMMA:     fence.proxy.async.shared::cta;
// WGMMA:     wgmma.fence.sync.aligned;
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e5m2
// WGMMA:     wgmma.commit_group.sync.aligned;
// WGMMA:     wgmma.wait_group.sync.aligned 0;
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.s32.u8.s8
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.f32.e5m2.e4m3
// WGMMA-NOT: mma.sync

// The SASS runs the FP8 and int8 MMAs of sm_89 (QMMA, IMMA) and the
// warpgroup MMAs of sm_90a (QGMMA, IGMMA), not an emulation.
// RUN: %if nvdisasm %{ for f in %t.sm89.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS %}
// RUN: %if nvdisasm %{ for f in %t.sm90a.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS90 %}
// SASS90: QGMMA.64x64x32.F32.E4M3.E5M2
// SASS90: IGMMA.64x64x32.U8.S8
// SASS90: QGMMA.64x64x32.F32.E5M2.E4M3
// SASS-COUNT-8: QMMA.16832.F32.E4M3.E5M2
// SASS-COUNT-8: IMMA.16832.U8.S8
// SASS-COUNT-8: QMMA.16832.F32.E5M2.E4M3

func.func @forward(%x: tensor<2x24x40xf8E4M3FN>, %w: tensor<2x16x40xf8E5M2>, %sx: tensor<f32>, %sw: tensor<16xf32>) -> tensor<2x24x16xf32> {
  %y = qtrain.qmatmul %x, %w lhs(float<f8E4M3FN>, scale %sx : tensor<f32>) rhs(float<f8E5M2> transposed, scale %sw : tensor<16xf32> granularity <per_channel, axis = 1>) accumulate f32 : tensor<2x24x40xf8E4M3FN>, tensor<2x16x40xf8E5M2> -> tensor<2x24x16xf32>
  return %y : tensor<2x24x16xf32>
}

func.func @weight_gradient(%g: tensor<64x32xf8E5M2>, %x: tensor<64x48xf8E4M3FN>, %sg: tensor<f32>, %sx: tensor<f32>) -> tensor<32x48xf32> {
  %d = qtrain.qmatmul %g, %x lhs(float<f8E5M2> transposed, scale %sg : tensor<f32>) rhs(float<f8E4M3FN>, scale %sx : tensor<f32>) accumulate f32 : tensor<64x32xf8E5M2>, tensor<64x48xf8E4M3FN> -> tensor<32x48xf32>
  return %d : tensor<32x48xf32>
}

func.func @int8(%a: tensor<4x40xi8>, %b: tensor<40x16xi8>, %sa: tensor<f32>, %sb: tensor<f32>) -> tensor<4x16xf32> {
  %c = qtrain.qmatmul %a, %b lhs(int<8, unsigned>, scale %sa : tensor<f32>) rhs(int<8, signed>, scale %sb : tensor<f32>) accumulate i32 : tensor<4x40xi8>, tensor<40x16xi8> -> tensor<4x16xf32>
  return %c : tensor<4x16xf32>
}
