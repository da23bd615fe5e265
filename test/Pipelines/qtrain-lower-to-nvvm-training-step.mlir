// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %S/../../examples/mlp.mlir -qtrain-training-step=recipe=fp8 -qtrain-lower-to-nvvm="chip=sm_89" -o %t.fp8.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.fp8.mlir %t.fp8 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=FP8
// RUN: for f in %t.fp8.*.ptx; do %ptxas -arch=sm_89 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %S/../../examples/mlp.mlir -qtrain-training-step=recipe=fp8 -qtrain-lower-to-nvvm="chip=sm_90a" -o %t.fp8-sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.fp8-sm90a.mlir %t.fp8-sm90a --kernels-using "wgmma.mma_async[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=FP8-SM90A
// RUN: for f in %t.fp8-sm90a.*.ptx; do %ptxas -arch=sm_90a $f -o %t.cubin || exit 1; done
// RUN: cat %t.fp8-sm90a.*.ptx | FileCheck %s --check-prefix=ATOMICS
// RUN: qtrain-opt %S/../../examples/mlp.mlir -qtrain-training-step=recipe=int8 -qtrain-lower-to-nvvm="chip=sm_80" -o %t.int8.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.int8.mlir %t.int8 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=INT8
// RUN: for f in %t.int8.*.ptx; do %ptxas -arch=sm_80 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %S/../../examples/mlp.mlir -qtrain-training-step=recipe=fp8 -qtrain-lower-to-nvvm="chip=sm_80" -o %t.fp8-sm80.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.fp8-sm80.mlir %t.fp8-sm80 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=FP8-SM80
// RUN: for f in %t.fp8-sm80.*.ptx; do %ptxas -arch=sm_80 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %S/../../examples/lenet_bn.mlir -qtrain-training-step=recipe=fp8 -qtrain-lower-to-nvvm="chip=sm_89" -o %t.cnn.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.cnn.mlir %t.cnn --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=CNN
// RUN: for f in %t.cnn.*.ptx; do %ptxas -arch=sm_89 $f -o %t.cubin || exit 1; done
// No arithmetic is left in host code (scales' reductions, their reciprocals
// and copies are kernels too; qtrain-parallelize-reductions,
// qtrain-gpu-host-buffers).
// RUN: not grep -E "llvm\.(fadd|fsub|fmul|fdiv|intr\.maximum|intr\.minimum)" %t.cnn.mlir
// RUN: qtrain-opt %S/../../examples/mlp.mlir -qtrain-training-step=recipe=bf16 -qtrain-lower-to-nvvm="chip=sm_80" -o %t.bf16.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.bf16.mlir %t.bf16 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=BF16
// RUN: for f in %t.bf16.*.ptx; do %ptxas -arch=sm_80 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %S/../../examples/lenet_bn.mlir -qtrain-training-step=recipe=hfp8 -qtrain-lower-to-nvvm="chip=sm_89" -o %t.cnn-hfp8.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.cnn-hfp8.mlir %t.cnn-hfp8 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=CNN-HFP8
// RUN: for f in %t.cnn-hfp8.*.ptx; do %ptxas -arch=sm_89 $f -o %t.cubin || exit 1; done
// RUN: qtrain-opt %S/../../examples/lenet_bn.mlir -qtrain-training-step=recipe=int8 -qtrain-lower-to-nvvm="chip=sm_80" -o %t.cnn-int8.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.cnn-int8.mlir %t.cnn-int8 --kernels-using "mma.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=CNN-INT8
// RUN: for f in %t.cnn-int8.*.ptx; do %ptxas -arch=sm_80 $f -o %t.cubin || exit 1; done

// A whole training step of the MLP through qtrain-lower-to-nvvm: its GEMMs
// of rounded operands become qmatmuls of codes (qtrain-quantize-contractions)
// and then tensor-core kernels, and ptxas assembles every kernel. Counted:
// the kernels that run each MMA instruction (one per GEMM).
// FP8 recipe: the forward GEMMs of the loss and of its gradient function
// (E4M3FN x E4M3FN, 6), the weight gradients (activations E4M3FN x
// gradients E5M2, 3), the activation gradients of fc2 and fc3 (E5M2 x
// E4M3FN, 2).
// FP8:      {{^}}6 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
// FP8-NEXT: {{^}}3 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32
// FP8-NEXT: {{^}}2 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32
// FP8-NOT:  mma
// On sm_90a, warpgroup MMAs on 64x64 tiles: none of these GEMMs has a
// wider tile for each of the H100's 132 multiprocessors.
// FP8-SM90A:      {{^}}6 kernels: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3
// FP8-SM90A-NEXT: {{^}}3 kernels: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e5m2
// FP8-SM90A-NEXT: {{^}}2 kernels: wgmma.mma_async.sync.aligned.m64n64k32.f32.e5m2.e4m3
// The amax reductions (in blocks and in GEMM epilogues) combine their
// partial results by relaxed atomics at GPU scope
// (qtrain-relax-kernel-atomics), not acq_rel ones at system scope, and as
// integer max/min on the floats' bits, not compare-and-swap loops.
// ATOMICS-NOT: atom.acq_rel
// ATOMICS-NOT: cas
// ATOMICS:     atom.global.max.s32
// ATOMICS-NOT: atom.acq_rel
// ATOMICS-NOT: cas
// ATOMICS-NOT: .sys.
// On sm_80, whose tensor cores have no FP8, the same 11 GEMMs multiply
// their operands as f16 values (exact).
// FP8-SM80:     {{^}}11 kernels: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// FP8-SM80-NOT: mma
// The bf16 baseline (sm_80): the same 11 GEMMs on bf16 MMAs, the operands
// used as stored.
// BF16:     {{^}}11 kernels: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16-NOT: mma
// INT8 recipe (sm_80): unsigned codes with zero points in the forward GEMMs
// and the 8-bit activation gradients (8); the weight gradients (3) multiply
// the 8-bit activations' codes by the 16-bit (bf16) gradient copy on bf16
// tensor cores, the zero points applied after the sums.
// INT8:      {{^}}3 kernels: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// INT8-NEXT: {{^}}8 kernels: mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32
// INT8-NOT:  mma

// The LeNet-BN's FP8 step: its convolutions are implicit GEMMs on the tensor
// cores too. Forward (conv1, conv2, fc; in the loss and its gradient
// function: 6), weight gradients (conv1, conv2, fc: 3), activation
// gradients (conv2, fc: 2; conv1's input needs none).
// CNN:      {{^}}6 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
// CNN-NEXT: {{^}}3 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32
// CNN-NEXT: {{^}}2 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32
// CNN-NOT:  mma
// Its HFP8 step: conv2's 8-bit GEMMs (forward in the loss and its gradient
// function, weight gradient, activation gradient: 4) multiply 1-4-3 (bias
// 11) and E5M2 values as f16; conv1 and fc, the first and last layers, are
// in dlfloat16 (forward 2 each, weight gradients, fc's activation
// gradient: 7), whose values are tf32 values. Every GEMM of the step is on
// the tensor cores.
// CNN-HFP8:      {{^}}4 kernels: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CNN-HFP8-NEXT: {{^}}7 kernels: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CNN-HFP8-NOT:  mma
// Its INT8 step: the forward convolutions and fc (6) and the activation
// gradients of conv2 and fc (2) on int8 MMAs, the weight gradients (conv1,
// conv2, fc: 3) on bf16 ones. conv2's activation gradient pads an
// asymmetric gradient, whose zeros are no code: the qconv2d pads with code
// 0 and takes the zero point's share there back after the sum.
// CNN-INT8:      {{^}}3 kernels: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CNN-INT8-NEXT: {{^}}8 kernels: mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32
// CNN-INT8-NOT:  mma
