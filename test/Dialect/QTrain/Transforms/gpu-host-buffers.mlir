// RUN: qtrain-opt %s -split-input-file -qtrain-gpu-host-buffers -verify-diagnostics | FileCheck %s

// Device memory (the default). A public function keeps the CPU calling
// convention: its body moves to a private @<name>_gpu trading device
// buffers (the program's copies there become linalg.copy kernels), and the
// public function stages the argument in a device copy (gpu.memcpy in;
// the body only reads it, so nothing goes back) and returns the result in
// a malloc'd copy.
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

// Unless a function returns it: its callers free results with gpu.dealloc,
// so a returned buffer that only host code writes is managed memory (a
// host buffer freed by gpu.dealloc crashed the GPU emulator).
// CHECK-LABEL: func.func private @returns_host_written(
// CHECK-NEXT:    %[[R:.+]] = gpu.alloc  host_shared () : memref<2xf32>
// CHECK:         memref.store %{{.+}}, %[[R]]
// CHECK:         return %[[R]]
// CHECK-LABEL: func.func @frees_result(
// CHECK:         %[[V:.+]] = call @returns_host_written()
// CHECK:         gpu.dealloc async [%{{.+}}] %[[V]]
func.func private @returns_host_written() -> memref<2xf32> {
  %r = memref.alloc() : memref<2xf32>
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  memref.store %one, %r[%c0] : memref<2xf32>
  return %r : memref<2xf32>
}

func.func @frees_result() {
  %v = call @returns_host_written() : () -> memref<2xf32>
  memref.dealloc %v : memref<2xf32>
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

// -----

// A function without a body (the runner's printMemref) is host code: a
// buffer passed to it is managed memory.
// CHECK-LABEL: func.func private @printed_gpu(
// CHECK-NEXT:    %[[B:.+]] = gpu.alloc  host_shared () : memref<4xf32>
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    %[[U:.+]] = memref.cast %[[B]]
// CHECK-NEXT:    call @printMemrefF32(%[[U]])
func.func private @printMemrefF32(memref<*xf32>)
func.func @printed(%x: memref<4xf32>) {
  %b = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%b : memref<4xf32>)
  %u = memref.cast %b : memref<4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %b : memref<4xf32>
  return
}

// -----

// Uses are followed into callees (their arguments), out of them (the
// results of their calls) and through loops: each buffer here is read by
// host code somewhere, so each is managed. The buffer only kernels use
// stays device memory.
// CHECK-LABEL: func.func private @reads_argument(
// CHECK-LABEL: func.func private @makes_result(
// CHECK-NEXT:    gpu.alloc  host_shared () : memref<4xf32>
// CHECK-LABEL: func.func private @callers_gpu(
// CHECK:         gpu.alloc  host_shared () : memref<4xf32>
// CHECK:         call @reads_argument
// CHECK:         call @makes_result
// CHECK:         gpu.alloc  host_shared () : memref<4xf32>
// CHECK:         scf.for
// CHECK:         gpu.alloc async [%{{.+}}] () : memref<4xf32>
// CHECK:         return
func.func private @reads_argument(%b: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %v = memref.load %b[%c0] : memref<4xf32>
  return %v : f32
}
func.func private @makes_result(%x: memref<4xf32>) -> memref<4xf32> {
  %b = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%b : memref<4xf32>)
  return %b : memref<4xf32>
}
func.func @callers(%x: memref<4xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%a : memref<4xf32>)
  %v = call @reads_argument(%a) : (memref<4xf32>) -> f32
  %r = call @makes_result(%x) : (memref<4xf32>) -> memref<4xf32>
  %w = memref.load %r[%c0] : memref<4xf32>
  %l = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%l : memref<4xf32>)
  %last = scf.for %i = %c0 to %n step %c1 iter_args(%it = %l) -> memref<4xf32> {
    scf.yield %it : memref<4xf32>
  }
  %u = memref.load %last[%c0] : memref<4xf32>
  %k = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%k : memref<4xf32>)
  %s = arith.addf %v, %w : f32
  %t = arith.addf %s, %u : f32
  return %t : f32
}

// -----

// An argument that the body writes (here through a callee) is copied back
// after the call; one it only reads is not.
// CHECK-LABEL: func.func @written_argument(
// CHECK-SAME:      %[[X:.+]]: memref<4xf32>, %[[Y:.+]]: memref<4xf32>)
// CHECK:         call @written_argument_gpu(%[[XD:[^,]+]], %[[YD:[^)]+]])
// CHECK-NEXT:    %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[C:.+]] = gpu.memcpy async [%[[S]]] %[[Y]], %[[YD]]
// CHECK-NEXT:    gpu.wait [%[[C]]]
// CHECK-NOT:     gpu.memcpy
// CHECK:         return
func.func private @fill(%y: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<4xf32>)
  return
}
func.func @written_argument(%x: memref<4xf32>, %y: memref<4xf32>) {
  %s = memref.subview %x[0] [4] [1] : memref<4xf32> to memref<4xf32, strided<[1]>>
  %t = memref.alloc() : memref<4xf32>
  linalg.copy ins(%s : memref<4xf32, strided<[1]>>) outs(%t : memref<4xf32>)
  call @fill(%y) : (memref<4xf32>) -> ()
  memref.dealloc %t : memref<4xf32>
  return
}

// -----

// A `qtrain.device_entry` function's callers pass GPU buffers: it keeps its
// name and body (no @<name>_gpu, no staging copies), its copy a kernel into
// the buffer its caller passed.
// CHECK-LABEL: func.func @device_entry(
// CHECK-SAME:      %[[IN:.+]]: memref<4xf32>, %[[OUT:.+]]: memref<4xf32>) attributes {qtrain.device_entry}
// CHECK-NEXT:    linalg.copy ins(%[[IN]] : memref<4xf32>) outs(%[[OUT]] : memref<4xf32>)
// CHECK-NEXT:    return
// CHECK-NOT:     @device_entry_gpu
func.func @device_entry(%in: memref<4xf32>, %out: memref<4xf32>) attributes {qtrain.device_entry} {
  memref.copy %in, %out : memref<4xf32> to memref<4xf32>
  return
}

// -----

// Host code of a device entry cannot read the device memory it is given.
// expected-error @+1 {{argument 0 of a 'qtrain.device_entry' function is read or written by host code; its callers pass device memory}}
func.func @device_entry_reads_argument(%in: memref<4xf32>) -> f32 attributes {qtrain.device_entry} {
  %c0 = arith.constant 0 : index
  %v = memref.load %in[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// A load in a linalg op's body (a gathered read: an amax history's shifted
// entry) runs in that op's kernel, not on the host: the device entry may
// take the buffer, and a public function stages it in device memory, not
// in managed memory.
// CHECK-LABEL: func.func @device_entry_gathers(
// CHECK-SAME:      %[[H:.+]]: memref<16xf32>, %[[OUT:.+]]: memref<16xf32>) attributes {qtrain.device_entry}
// CHECK-NEXT:    linalg.generic
// CHECK:           memref.load %[[H]]
// CHECK-LABEL: func.func @gathers(
// CHECK:         gpu.alloc async {{.*}} () : memref<16xf32>
// CHECK-NOT:     host_shared
// CHECK:         call @gathers_gpu
#shifted = affine_map<(d0) -> (d0)>
func.func @device_entry_gathers(%h: memref<16xf32>, %out: memref<16xf32>) attributes {qtrain.device_entry} {
  linalg.generic {indexing_maps = [#shifted], iterator_types = ["parallel"]} outs(%out : memref<16xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %v = memref.load %h[%i] : memref<16xf32>
    linalg.yield %v : f32
  }
  return
}

func.func @gathers(%h: memref<16xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [#shifted], iterator_types = ["parallel"]} outs(%out : memref<16xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %v = memref.load %h[%i] : memref<16xf32>
    linalg.yield %v : f32
  }
  return
}
