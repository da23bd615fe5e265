// REQUIRES: cuda-runtime
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm -o %t.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.mlir -o %t.ll
// RUN: FileCheck %s < %t.ll
// RUN: %cxx_compiler -x ir -c -fPIC %t.ll -o %t.o
// RUN: %cxx_compiler -shared %t.o -o %t.so -L%qtrain_cuda_runtime_dir -lqtrain_cuda_runtime -Wl,--no-undefined
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm=memory=managed \
// RUN:   | mlir-translate --mlir-to-llvmir -o %t.managed.ll
// RUN: FileCheck %s --check-prefix=MANAGED < %t.managed.ll
// RUN: %cxx_compiler -x ir -c -fPIC %t.managed.ll -o %t.managed.o
// RUN: %cxx_compiler -shared %t.managed.o -o %t.managed.so -L%qtrain_cuda_runtime_dir -lqtrain_cuda_runtime -Wl,--no-undefined

// Host code of qtrain-lower-to-nvvm, translated to LLVM IR, loads its PTX
// with the driver's JIT and launches the kernel through the mgpu* entry
// points, in device memory (or managed memory), and every one of them
// resolves against libqtrain_cuda_runtime.so (--no-undefined). Running it
// needs a GPU.

// CHECK-DAG: declare ptr @mgpuModuleLoadJIT(ptr, i32)
// CHECK-DAG: declare ptr @mgpuModuleGetFunction(ptr, ptr)
// CHECK-DAG: declare void @mgpuLaunchKernel(ptr, i64, i64, i64, i64, i64, i64, i32, ptr, ptr, ptr, i64)
// CHECK-DAG: declare ptr @mgpuStreamCreate()
// CHECK-DAG: declare void @mgpuStreamSynchronize(ptr)
// Buffers are device memory (host_shared = i8 0) allocated, filled, read
// back and freed on streams.
// CHECK-DAG: call ptr @mgpuMemAlloc(i64 4096, ptr %{{.+}}, i8 0)
// CHECK-DAG: call void @mgpuMemcpy(ptr %{{.+}}, ptr %{{.+}}, i64 4096, ptr %{{.+}})
// CHECK-DAG: call void @mgpuMemFree(
// MANAGED-NOT: @mgpuMemcpy
// MANAGED: call ptr @mgpuMemAlloc(i64 4096, ptr null, i8 1)
// MANAGED: call void @mgpuMemFree(

func.func @quantize(%x: tensor<1024xf32>, %s: tensor<f32>) -> tensor<1024xf8E4M3FN> {
  %q = qtrain.quantize %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<1024xf32> -> tensor<1024xf8E4M3FN>
  return %q : tensor<1024xf8E4M3FN>
}
