// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a format=isa" -o %t.mlir
// RUN: FileCheck %s --check-prefix=HOST < %t.mlir
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a async-launches=false" \
// RUN:   | FileCheck %s --check-prefix=SYNC
// RUN: %qtrain_python -m qtrain.gpu_binary %t.mlir %t
// RUN: cat %t.quantize_gpu_*.ptx | FileCheck %s --check-prefix=PTX
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89 format=isa" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89
// RUN: cat %t.sm89.quantize_gpu_*.ptx | FileCheck %s --check-prefix=SM89

// Elementwise qtrain ops become NVVM kernels, one thread per element, with
// the same arithmetic as on the CPU (convert-qtrain-to-linalg; from sm_89
// on, nearest-even saturating E4M3FN/E5M2 conversions use the hardware's
// cvt.rn.satfinite), and
// host code that launches them (256 threads a block; the reciprocal of the
// scale, once a one-thread kernel of its own, is computed by each thread:
// qtrain-fuse-elementwise-kernels), each kernel named after its
// function, what it does and its place (qtrain-name-gpu-kernels). The PTX is for the
// requested chip; qtrain-lower-to-nvvm-ptxas.mlir checks that ptxas takes it.

// The output's allocation and the kernel are queued on one stream, which
// the host waits for once, before returning (qtrain-async-gpu-launches).
// HOST:      llvm.func @quantize_gpu(
// HOST:        %[[S:.+]] = llvm.call @mgpuStreamCreate()
// HOST-NOT:    mgpuStreamSynchronize
// HOST:        llvm.call @mgpuMemAlloc(%{{.+}}, %[[S]], %{{.+}})
// HOST-NOT:    mgpuStreamSynchronize
// HOST:        gpu.launch_func <%[[S]] : !llvm.ptr> @quantize_gpu_map_0::@quantize_gpu_map_0 blocks in (%{{.+}}) threads in (%[[T:[0-9]+]], %{{.+}})
// HOST-NEXT:   llvm.call @mgpuStreamSynchronize(%[[S]])
// HOST-NOT:    gpu.launch_func
// HOST:      gpu.binary @quantize_gpu_map_0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx84">{{.*}}assembly = "
// HOST:      llvm.func @quantize(
// HOST:        llvm.call @quantize_gpu(

// async-launches=false: the host waits for the allocation's stream, and
// the launch is synchronous (a stream of its own, made and waited for by
// its LLVM translation).
// SYNC:      llvm.func @quantize_gpu(
// SYNC:        %[[A:.+]] = llvm.call @mgpuStreamCreate()
// SYNC:        llvm.call @mgpuMemAlloc(%{{.+}}, %[[A]], %{{.+}})
// SYNC:        llvm.call @mgpuStreamSynchronize(%[[A]])
// SYNC-NEXT:   llvm.call @mgpuStreamDestroy(%[[A]])
// SYNC-NEXT:   gpu.launch_func @quantize_gpu_map_0::@quantize_gpu_map_0

// PTX:       .version 8.4
// PTX:       .target sm_90a
// PTX:       .entry quantize_gpu_map_0(
// PTX:       ld.global.b32
// PTX:       cvt.rn.satfinite.e4m3x2.f32
// PTX:       st.global.b8

// SM89:      .target sm_89
// SM89:      cvt.rn.satfinite.e4m3x2.f32
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_80 format=isa" -o %t.sm80.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm80.mlir %t.sm80
// RUN: cat %t.sm80.quantize_gpu_*.ptx | FileCheck %s --check-prefix=SM80
// sm_80 has no FP8 conversions: the portable integer encoding.
// SM80:      .target sm_80
// SM80-NOT:  cvt.rn.satfinite

func.func @quantize(%x: tensor<1024xf32>, %s: tensor<f32>) -> tensor<1024xf8E4M3FN> {
  %q = qtrain.quantize %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<1024xf32> -> tensor<1024xf8E4M3FN>
  return %q : tensor<1024xf8E4M3FN>
}
