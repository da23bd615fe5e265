// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89 \
// RUN:   --kernels-using "mma\.sync[.a-z0-9]*" | FileCheck %s --check-prefix=PTX89
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a" -o %t.sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90a.mlir %t.sm90a
// RUN: cat %t.sm90a.*.ptx | FileCheck %s --check-prefix=WGMMA
// The GEMM kernels are named by their MMAs (qtrain-name-gpu-kernels).
// RUN: FileCheck %s --check-prefix=NAMES-SM90A < %t.sm90a.mlir
// RUN: FileCheck %s --check-prefix=NAMES-SM89 < %t.sm89.mlir
// NAMES-SM90A: gpu.launch_func <%{{.+}} : !llvm.ptr> @forward_gpu_wgmma_0::@forward_gpu_wgmma_0
// NAMES-SM89: gpu.launch_func <%{{.+}} : !llvm.ptr> @forward_gpu_mma_0::@forward_gpu_mma_0
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_80" -o %t.sm80.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm80.mlir %t.sm80 \
// RUN:   --kernels-using "mma\.sync[.a-z0-9]*" | FileCheck %s --check-prefix=PTX80
// ptxas assembles every kernel for its chip.
// RUN: for c in sm89:sm_89 sm90a:sm_90a sm80:sm_80; do \
// RUN:   for f in %t.${c%%:*}.*.ptx; do \
// RUN:     %ptxas -arch=${c#*:} $f -o ${f%.ptx}.cubin || exit 1; done; done

// qtrain.qmatmul of 8-bit operands runs on the tensor cores: FP8 (any mix
// of E4M3FN and E5M2, f32 accumulation) on their codes from sm_89 on, as
// f16 values on sm_80; HFP8 (1-4-3, bias 11) as f16 values on every chip,
// and its first and last layers' dlfloat16 as tf32; int8 on every chip,
// and int8 codes times bf16 (INT8 training's weight gradient) as bf16.
// The two FP8 GEMMs, batched with a transposed rhs (the forward form) and
// with a transposed lhs (the weight-gradient form), HFP8's
// activation-gradient GEMM (E5M2 x hfp8), a dlfloat16 GEMM, the int8 one
// and INT8's weight gradient are one kernel each, 128 threads a block, on
// mma.sync (8 a k-step per warp, unrolled where K is known; the conversion
// tests count them). (Kernels in the order of their names:
// first_layer_dlfloat16, forward, hfp8_activation_gradient, int8,
// int8_weight_gradient, weight_gradient.)
// The kernels using each MMA (sorted by its name):
// PTX89:      {{^}}1 kernels: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// PTX89-NOT:  mma.sync
// On sm_80 the FP8 GEMMs' operands are f16 values: 3 f16 kernels.
// PTX80:      {{^}}1 kernels: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX80-NEXT: {{^}}3 kernels: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX80-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32
// PTX80-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// PTX80-NOT:  mma.sync
// On sm_90a each is one warpgroup MMA a k-step, from shared memory.
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32
// WGMMA:     fence.proxy.async.shared::cta;
// WGMMA:     wgmma.fence.sync.aligned;
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e5m2
// WGMMA:     wgmma.commit_group.sync.aligned;
// WGMMA:     wgmma.wait_group.sync.aligned 0;
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.s32.u8.s8
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// WGMMA:     wgmma.mma_async.sync.aligned.m64n64k32.f32.e5m2.e4m3
// WGMMA-NOT: mma.sync

// The SASS runs the FP8, f16, bf16, tf32 and int8 MMAs of sm_89 and sm_80 (QMMA,
// HMMA, IMMA) and the warpgroup MMAs of sm_90a (QGMMA, HGMMA, IGMMA), not
// an emulation.
// RUN: %if nvdisasm %{ for f in %t.sm89.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS %}
// RUN: %if nvdisasm %{ for f in %t.sm90a.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS90 %}
// RUN: %if nvdisasm %{ for f in %t.sm80.*.cubin; do %nvdisasm $f; done | FileCheck %s --check-prefix=SASS80 %}
// SASS90: HGMMA.64x64x8.F32.TF32
// SASS90: QGMMA.64x64x32.F32.E4M3.E5M2
// SASS90: HGMMA.64x64x16.F32
// SASS90: IGMMA.64x64x32.U8.S8
// SASS90: HGMMA.64x64x16.F32.BF16
// SASS90: QGMMA.64x64x32.F32.E5M2.E4M3
// SASS: LDSM.16.M88.4
// SASS: HMMA.1688.F32.TF32
// SASS: QMMA.16832.F32.E4M3.E5M2
// SASS: HMMA.16816.F32
// SASS: IMMA.16832.U8.S8
// SASS: HMMA.16816.F32.BF16
// SASS: QMMA.16832.F32.E5M2.E4M3
// SASS80: HMMA.1688.F32.TF32
// SASS80: HMMA.16816.F32
// SASS80: IMMA.16832.U8.S8
// SASS80: HMMA.16816.F32.BF16
// SASS80: HMMA.16816.F32
// SASS80-NOT: QMMA

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

func.func @hfp8_activation_gradient(%g: tensor<2x24x40xf8E5M2>, %w: tensor<2x16x40xi8>, %sg: tensor<f32>, %sw: tensor<f32>) -> tensor<2x24x16xf32> {
  %d = qtrain.qmatmul %g, %w lhs(float<f8E5M2>, scale %sg : tensor<f32>) rhs(float<hfp8_e4m3> transposed, scale %sw : tensor<f32>) accumulate f32 : tensor<2x24x40xf8E5M2>, tensor<2x16x40xi8> -> tensor<2x24x16xf32>
  return %d : tensor<2x24x16xf32>
}

func.func @first_layer_dlfloat16(%x: tensor<24x40xi16>, %w: tensor<16x40xi16>, %sx: tensor<f32>, %sw: tensor<f32>) -> tensor<24x16xf32> {
  %y = qtrain.qmatmul %x, %w lhs(float<dlfloat16>, scale %sx : tensor<f32>) rhs(float<dlfloat16> transposed, scale %sw : tensor<f32>) accumulate f32 : tensor<24x40xi16>, tensor<16x40xi16> -> tensor<24x16xf32>
  return %y : tensor<24x16xf32>
}

func.func @int8_weight_gradient(%x: tensor<40x24xi8>, %g: tensor<40x16xbf16>, %sx: tensor<f32>, %zx: tensor<f32>, %sg: tensor<f32>) -> tensor<24x16xf32> {
  %d = qtrain.qmatmul %x, %g lhs(int<8, unsigned> transposed, scale %sx : tensor<f32> zero_point %zx : tensor<f32>) rhs(float<bf16>, scale %sg : tensor<f32>) accumulate f32 : tensor<40x24xi8>, tensor<40x16xbf16> -> tensor<24x16xf32>
  return %d : tensor<24x16xf32>
}
