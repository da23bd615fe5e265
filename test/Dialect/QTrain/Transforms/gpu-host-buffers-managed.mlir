// RUN: qtrain-opt %s -split-input-file -qtrain-gpu-host-buffers=memory=managed -verify-diagnostics | FileCheck %s

// A public function keeps the CPU calling convention: its body moves to a
// private @<name>_gpu trading managed buffers (the program's copies
// there become linalg.copy kernels), and the public function stages the
// argument in a managed copy (not written back: the body only reads it)
// and returns the result in a malloc'd copy. Managed buffers are freed on streams of their
// own.
// CHECK-LABEL: func.func private @public_abi_gpu(
// CHECK-SAME:      %[[XB:.+]]: memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT:    %[[Y:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    linalg.copy ins(%[[XB]] : memref<4xf32>) outs(%[[Y]] : memref<4xf32>)
// CHECK-NEXT:    return %[[Y]]
// CHECK-LABEL: func.func @public_abi(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT:    %[[XM:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    memref.copy %[[X]], %[[XM]]
// CHECK-NEXT:    %[[R:.+]] = call @public_abi_gpu(%[[XM]])
// CHECK-NEXT:    %[[H:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    memref.copy %[[R]], %[[H]]
// CHECK-NEXT:    %[[T0:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T1:.+]] = gpu.dealloc async [%[[T0]]] %[[XM]]
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

// Private functions trade managed buffers as they are; deallocs become
// managed frees.
// CHECK-LABEL: func.func private @private_abi(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>, %[[Y:.+]]: memref<4xf32>)
// CHECK-NEXT:    %[[T:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<4xf32>) outs(%[[T]] : memref<4xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[T]] : memref<4xf32>) outs(%[[Y]] : memref<4xf32>)
// CHECK-NEXT:    %[[W0:.+]] = gpu.wait async
// CHECK-NEXT:    %[[W1:.+]] = gpu.dealloc async [%[[W0]]] %[[T]]
// CHECK-NEXT:    gpu.wait [%[[W1]]]
// CHECK-NEXT:    return
// CHECK-NOT:     memref.copy
func.func private @private_abi(%x: memref<4xf32>, %y: memref<4xf32>) {
  %t = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%t : memref<4xf32>)
  linalg.copy ins(%t : memref<4xf32>) outs(%y : memref<4xf32>)
  memref.dealloc %t : memref<4xf32>
  return
}

// -----

// Dynamic sizes: the staged copy and the returned copy are sized from the
// buffers they copy (the argument's, the result's).
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:      %[[X:.+]]: memref<?x8xf32>)
// CHECK:         %[[C0:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[D:.+]] = memref.dim %[[X]], %[[C0]]
// CHECK-NEXT:    %[[XM:.+]] = gpu.alloc  host_shared (%[[D]]) : memref<?x8xf32>
// CHECK-NEXT:    memref.copy %[[X]], %[[XM]]
// CHECK-NEXT:    %[[R:.+]] = call @dynamic_gpu(%[[XM]])
// CHECK:         %[[RD:.+]] = memref.dim %[[R]]
// CHECK-NEXT:    %[[H:.+]] = memref.alloc(%[[RD]]) : memref<?x8xf32>
// CHECK-NEXT:    memref.copy %[[R]], %[[H]]
// CHECK:         return %[[H]]
func.func @dynamic(%x: memref<?x8xf32>) -> memref<?x8xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %y = memref.alloc(%n) : memref<?x8xf32>
  linalg.copy ins(%x : memref<?x8xf32>) outs(%y : memref<?x8xf32>)
  return %y : memref<?x8xf32>
}

// -----

// Constants are copied into managed buffers on entry and freed before each
// return; the calling convention wraps the whole function once.
// CHECK-LABEL: func.func private @constants_and_returns_gpu(
// CHECK-SAME:      %[[C:.+]]: i1, %[[X:.+]]: memref<2xf32>)
// CHECK-NEXT:    %[[G:.+]] = memref.get_global @table
// CHECK-NEXT:    %[[GM:.+]] = gpu.alloc  host_shared () : memref<2xf32>
// CHECK-NEXT:    memref.copy %[[G]], %[[GM]]
// CHECK-NEXT:    cf.cond_br %[[C]]
// CHECK:         linalg.copy ins(%[[GM]] : memref<2xf32>) outs(%[[X]] : memref<2xf32>)
// CHECK-NEXT:    gpu.wait async
// CHECK-NEXT:    gpu.dealloc async {{.+}} %[[GM]]
// CHECK-NEXT:    gpu.wait
// CHECK-NEXT:    return
// CHECK:         gpu.dealloc async {{.+}} %[[GM]]
// CHECK:         return
// CHECK-LABEL: func.func @constants_and_returns(
// CHECK:         call @constants_and_returns_gpu
memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
func.func @constants_and_returns(%c: i1, %x: memref<2xf32>) {
  cf.cond_br %c, ^a, ^b
^a:
  %g = memref.get_global @table : memref<2xf32>
  linalg.copy ins(%g : memref<2xf32>) outs(%x : memref<2xf32>)
  return
^b:
  return
}

// -----

// Device code is left alone.
// CHECK-LABEL: gpu.module @kernels
// CHECK:         memref.alloca
// CHECK-NOT:     gpu.alloc
gpu.module @kernels {
  func.func @device(%x: memref<4xf32>) {
    %t = memref.alloca() : memref<4xf32>
    memref.copy %x, %t : memref<4xf32> to memref<4xf32>
    return
  }
}

// -----

func.func @stack(%x: memref<4xf32>) {
  // expected-error @below {{'memref.alloca' op in host code of a GPU pipeline: kernels cannot address the host stack; allocate with memref.alloc}}
  %t = memref.alloca() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%t : memref<4xf32>)
  return
}

// -----

// The program's copies become linalg.copy (kernels later), views included.
// CHECK-LABEL: func.func private @program_copy_gpu(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>)
// CHECK-NEXT:    %[[T:.+]] = gpu.alloc  host_shared ()
// CHECK-NEXT:    %[[V:.+]] = memref.subview %[[X]][1] [2] [1]
// CHECK-NEXT:    %[[W:.+]] = memref.subview %[[T]][0] [2] [1]
// CHECK-NEXT:    linalg.copy ins(%[[V]] : memref<2xf32, strided<[1], offset: 1>>) outs(%[[W]] : memref<2xf32, strided<[1]>>)
// CHECK-NEXT:    linalg.copy ins(%[[T]] : memref<4xf32>) outs(%[[X]] : memref<4xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         return
func.func @program_copy(%x: memref<4xf32>) {
  %t = memref.alloc() : memref<4xf32>
  %v = memref.subview %x[1] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 1>>
  %w = memref.subview %t[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  memref.copy %v, %w : memref<2xf32, strided<[1], offset: 1>> to memref<2xf32, strided<[1]>>
  memref.copy %t, %x : memref<4xf32> to memref<4xf32>
  memref.dealloc %t : memref<4xf32>
  return
}
