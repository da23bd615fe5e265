// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a" | FileCheck %s

// A reduction over the outer dimension (a bias gradient: the batch sum of
// each channel) is one kernel whose threads each loop over their channel's
// terms (qtrain-innermost-reductions), not a host loop over 64 launches;
// the fill of its zeros is fused into it (scf-parallel-loop-fusion).
// CHECK-LABEL: llvm.func @bias_gradient_gpu(
// CHECK-NOT:     llvm.cond_br
// CHECK-NOT:     gpu.launch_func
// CHECK:         gpu.launch_func <%{{.+}} : !llvm.ptr> @bias_gradient_gpu_loop_0::@bias_gradient_gpu_loop_0 blocks in
// CHECK-NOT:     gpu.launch_func
// CHECK-NOT:     llvm.cond_br
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @bias_gradient(

func.func @bias_gradient(%g: tensor<64x10xf32>) -> tensor<10xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<10xf32>) -> tensor<10xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d1)>],
                         iterator_types = ["reduction", "parallel"]}
      ins(%g : tensor<64x10xf32>) outs(%init : tensor<10xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<10xf32>
  return %sum : tensor<10xf32>
}
