// RUN: qtrain-opt %s -split-input-file -qtrain-gpu-host-buffers -verify-diagnostics | FileCheck %s

// Device memory (the default). A public function keeps the CPU calling
// convention: its body moves to a private @<name>_gpu trading device
// buffers (the program's copies there become linalg.copy kernels), and the
// public function stages the argument in a device copy (gpu.memcpy in,
// then back after the call) and returns the result in a malloc'd copy.
// Allocations, copies and frees run on streams of their own, waited for.
// CHECK-LABEL: func.func private @public_abi_gpu(
// CHECK-SAME:      %[[XB:.+]]: memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT:    %[[A0:.+]] = gpu.wait async
// CHECK-NEXT:    %[[Y:.+]], %[[Y0:.+]] = gpu.alloc async [%[[A0]]] () : memref<4xf32>
// CHECK-NEXT:    gpu.wait [%[[Y0]]]
// CHECK-NEXT:    linalg.copy ins(%[[XB]] : memref<4xf32>) outs(%[[Y]] : memref<4xf32>)
// CHECK-NEXT:    return %[[Y]]
// CHECK-LABEL: func.func @public_abi(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT:    %[[A1:.+]] = gpu.wait async
// CHECK-NEXT:    %[[XD:.+]], %[[X0:.+]] = gpu.alloc async [%[[A1]]] () : memref<4xf32>
// CHECK-NEXT:    gpu.wait [%[[X0]]]
// CHECK-NEXT:    %[[S0:.+]] = gpu.wait async
// CHECK-NEXT:    %[[C0:.+]] = gpu.memcpy async [%[[S0]]] %[[XD]], %[[X]]
// CHECK-NEXT:    gpu.wait [%[[C0]]]
// CHECK-NEXT:    %[[R:.+]] = call @public_abi_gpu(%[[XD]])
// CHECK-NEXT:    %[[S1:.+]] = gpu.wait async
// CHECK-NEXT:    %[[C1:.+]] = gpu.memcpy async [%[[S1]]] %[[X]], %[[XD]]
// CHECK-NEXT:    gpu.wait [%[[C1]]]
// CHECK-NEXT:    %[[H:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    %[[S2:.+]] = gpu.wait async
// CHECK-NEXT:    %[[C2:.+]] = gpu.memcpy async [%[[S2]]] %[[H]], %[[R]]
// CHECK-NEXT:    gpu.wait [%[[C2]]]
// CHECK-NEXT:    %[[T0:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T1:.+]] = gpu.dealloc async [%[[T0]]] %[[XD]]
// CHECK-NEXT:    gpu.wait [%[[T1]]]
// CHECK-NEXT:    %[[T2:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T3:.+]] = gpu.dealloc async [%[[T2]]] %[[R]]
// CHECK-NEXT:    gpu.wait [%[[T3]]]
// CHECK-NEXT:    return %[[H]]
func.func @public_abi(%x: memref<4xf32>) -> memref<4xf32> {
  %y = memref.alloc() : memref<4xf32>
  memref.copy %x, %y : memref<4xf32> to memref<4xf32>
  return %y : memref<4xf32>
}

// -----

// Constants are copied to device buffers on entry and freed before each
// return.
// CHECK-LABEL: func.func private @constants_gpu(
// CHECK-SAME:      %[[X:.+]]: memref<2xf32>)
// CHECK-NEXT:    %[[G:.+]] = memref.get_global @table
// CHECK-NEXT:    %[[A:.+]] = gpu.wait async
// CHECK-NEXT:    %[[GD:.+]], %[[A0:.+]] = gpu.alloc async [%[[A]]] () : memref<2xf32>
// CHECK-NEXT:    gpu.wait [%[[A0]]]
// CHECK-NEXT:    %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[C:.+]] = gpu.memcpy async [%[[S]]] %[[GD]], %[[G]]
// CHECK-NEXT:    gpu.wait [%[[C]]]
// CHECK-NEXT:    linalg.copy ins(%[[GD]] : memref<2xf32>) outs(%[[X]] : memref<2xf32>)
// CHECK:         gpu.dealloc async {{.+}} %[[GD]]
// CHECK:         return
memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
func.func @constants(%x: memref<2xf32>) {
  %g = memref.get_global @table : memref<2xf32>
  linalg.copy ins(%g : memref<2xf32>) outs(%x : memref<2xf32>)
  return
}

// -----

// Buffers that only host code reads and writes (like the pointer lists of
// ownership-based deallocation) stay host memory.
// CHECK-LABEL: func.func private @host_only_gpu(
// CHECK-NEXT:    %[[L:.+]] = memref.alloc() : memref<2xindex>
// CHECK-NEXT:    %[[C0:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.store %[[C0]], %[[L]][%[[C0]]]
// CHECK-NEXT:    memref.dealloc %[[L]]
// CHECK-NEXT:    return
func.func @host_only(%x: memref<4xf32>) {
  %l = memref.alloc() : memref<2xindex>
  %c0 = arith.constant 0 : index
  memref.store %c0, %l[%c0] : memref<2xindex>
  memref.dealloc %l : memref<2xindex>
  return
}

// -----

// The host cannot read device memory: a buffer that host code reads or
// writes itself and kernels use too is managed memory, and so is the staged
// copy of an argument that host code reads.
// CHECK-LABEL: func.func private @host_and_kernels_gpu(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>
// CHECK-NEXT:    arith.constant
// CHECK-NEXT:    %[[T:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<4xf32>) outs(%[[T]] : memref<4xf32>)
// CHECK-LABEL: func.func @host_and_kernels(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>
// CHECK-NEXT:    %[[XM:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    memref.copy %[[X]], %[[XM]]
func.func @host_and_kernels(%x: memref<4xf32>, %v: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %t = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%t : memref<4xf32>)
  %s = memref.subview %t[1] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 1>>
  memref.store %v, %s[%c0] : memref<2xf32, strided<[1], offset: 1>>
  %r = memref.load %x[%c0] : memref<4xf32>
  return %r : f32
}

// -----

// A 0-d copy becomes a copy of 1-element views: a linalg op without loops
// would stay host code, reading device memory.
// CHECK-LABEL: func.func private @scalar_copy_gpu(
// CHECK-SAME:      %[[X:.+]]: memref<f32>, %[[Y:.+]]: memref<f32>)
// CHECK-NEXT:    %[[XV:.+]] = memref.expand_shape %[[X]] [] output_shape [1] : memref<f32> into memref<1xf32>
// CHECK-NEXT:    %[[YV:.+]] = memref.expand_shape %[[Y]] [] output_shape [1] : memref<f32> into memref<1xf32>
// CHECK-NEXT:    linalg.copy ins(%[[XV]] : memref<1xf32>) outs(%[[YV]] : memref<1xf32>)
func.func @scalar_copy(%x: memref<f32>, %y: memref<f32>) {
  memref.copy %x, %y : memref<f32> to memref<f32>
  return
}

// -----

// A strided 0-d view (an element of a flat buffer) keeps its offset.
// CHECK-LABEL: func.func private @strided_scalar_copy_gpu(
// CHECK:         memref.expand_shape %{{.+}} [] output_shape [1] : memref<f32, strided<[], offset: 3>> into memref<1xf32, strided<[1], offset: 3>>
func.func @strided_scalar_copy(%x: memref<4xf32>, %y: memref<f32>) {
  %e = memref.subview %x[3] [1] [1] : memref<4xf32> to memref<f32, strided<[], offset: 3>>
  memref.copy %e, %y : memref<f32, strided<[], offset: 3>> to memref<f32>
  return
}
