// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a format=isa" -o %t.mlir
// RUN: FileCheck %s --check-prefix=HOST < %t.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.mlir %t
// RUN: FileCheck %s --check-prefix=PTX < %t.quantize_kernel.ptx
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89 format=isa" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89
// RUN: FileCheck %s --check-prefix=SM89 < %t.sm89.quantize_kernel.ptx

// Elementwise qtrain ops become NVVM kernels, one thread per element, with
// the same integer arithmetic as on the CPU (convert-qtrain-to-linalg), and
// host code that launches them (256 threads a block). The PTX is for the
// requested chip; qtrain-lower-to-nvvm-ptxas.mlir checks that ptxas takes it.

// HOST:      llvm.func @quantize(
// HOST:        gpu.launch_func @quantize_kernel::@quantize_kernel blocks in (%{{.+}}) threads in (%[[T:[0-9]+]], %{{.+}})
// HOST:      gpu.binary @quantize_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx84">{{.*}}assembly = "

// PTX:       .version 8.4
// PTX:       .target sm_90a
// PTX:       .entry quantize_kernel(
// PTX:       ld.global.b32
// PTX:       st.global.b8

// SM89:      .target sm_89

func.func @quantize(%x: tensor<1024xf32>, %s: tensor<f32>) -> tensor<1024xf8E4M3FN> {
  %q = qtrain.quantize %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<1024xf32> -> tensor<1024xf8E4M3FN>
  return %q : tensor<1024xf8E4M3FN>
}
