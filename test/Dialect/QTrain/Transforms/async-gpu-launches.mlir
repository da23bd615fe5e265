// RUN: qtrain-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(qtrain-async-gpu-launches))' | FileCheck %s

// An allocation on a stream of its own (qtrain-gpu-host-buffers' form), two
// launches and a free become one chain; the host waits once, before its own
// load of a buffer.
// CHECK-LABEL: func.func @chain
// CHECK:         %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[B:.+]], %[[T0:.+]] = gpu.alloc async [%[[S]]] () : memref<64xf32>
// CHECK-NEXT:    %[[T1:.+]] = gpu.launch_func async [%[[T0]]] @kernels::@fill
// CHECK-NEXT:    %[[T2:.+]] = gpu.launch_func async [%[[T1]]] @kernels::@fill
// CHECK-NEXT:    %[[T3:.+]] = gpu.dealloc async [%[[T2]]] %[[B]]
// CHECK-NEXT:    gpu.wait [%[[T3]]]
// CHECK-NEXT:    memref.load
// CHECK-NOT:     gpu.wait
// CHECK:         return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      %t = gpu.thread_id x
      %zero = arith.constant 0.0 : f32
      memref.store %zero, %b[%t] : memref<64xf32>
      gpu.return
    }
  }
  func.func @chain(%host: memref<1xf32>) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %s = gpu.wait async
    %b, %t = gpu.alloc async [%s] () : memref<64xf32>
    gpu.wait [%t]
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%b : memref<64xf32>)
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%b : memref<64xf32>)
    %s2 = gpu.wait async
    %t2 = gpu.dealloc async [%s2] %b : memref<64xf32>
    gpu.wait [%t2]
    %v = memref.load %host[%c0] : memref<1xf32>
    return %v : f32
  }
}

// -----

// Managed memory's synchronous allocation, a host allocation and views do
// not stop the chain; the return does.
// CHECK-LABEL: func.func @managed
// CHECK:         %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T1:.+]] = gpu.launch_func async [%[[S]]] @kernels::@fill
// CHECK-NEXT:    %[[M:.+]] = gpu.alloc host_shared () : memref<64xf32>
// CHECK-NEXT:    memref.alloc
// CHECK-NEXT:    %[[V:.+]] = memref.subview %[[M]]
// CHECK-NEXT:    %[[T2:.+]] = gpu.launch_func async [%[[T1]]] @kernels::@fill
// CHECK-NEXT:    gpu.wait [%[[T2]]]
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      gpu.return
    }
  }
  func.func @managed(%a: memref<64xf32>) -> (memref<64xf32>, memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    %m = gpu.alloc host_shared () : memref<64xf32>
    %h = memref.alloc() : memref<4xf32>
    %v = memref.subview %m[0] [64] [1] : memref<64xf32> to memref<64xf32, strided<[1]>>
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    return %m, %h : memref<64xf32>, memref<4xf32>
  }
}

// -----

// The host waits before a call and before a loop; the loop's body chains its
// own launch and waits before its yield.
// CHECK-LABEL: func.func @call_and_loop
// CHECK:         %[[T1:.+]] = gpu.launch_func async [%{{.+}}] @kernels::@fill
// CHECK-NEXT:    gpu.wait [%[[T1]]]
// CHECK-NEXT:    call @host_reads
// CHECK-NEXT:    scf.for
// CHECK-NEXT:      %[[S:.+]] = gpu.wait async
// CHECK-NEXT:      %[[T2:.+]] = gpu.launch_func async [%[[S]]] @kernels::@fill
// CHECK-NEXT:      gpu.wait [%[[T2]]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      gpu.return
    }
  }
  func.func private @host_reads(memref<64xf32>)
  func.func @call_and_loop(%a: memref<64xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    call @host_reads(%a) : (memref<64xf32>) -> ()
    scf.for %i = %c0 to %c4 step %c1 {
      gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
          threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    }
    return
  }
}

// -----

// A call of a function marked qtrain.host_only (a tensor map's creation,
// which touches no memory kernels use) needs no wait: both launches stay
// on one chain.
// CHECK-LABEL: func.func @host_only_call
// CHECK:         %[[T1:.+]] = gpu.launch_func async [%{{.+}}] @kernels::@fill
// CHECK-NEXT:    call @make_map
// CHECK-NEXT:    %[[T2:.+]] = gpu.launch_func async [%[[T1]]] @kernels::@fill
// CHECK-NEXT:    gpu.wait [%[[T2]]]
// CHECK-NEXT:    return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      gpu.return
    }
  }
  func.func private @make_map(i64) -> i64 attributes {qtrain.host_only}
  func.func @host_only_call(%a: memref<64xf32>, %address: i64) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    %map = call @make_map(%address) : (i64) -> i64
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    return
  }
}

// -----

// Host code without GPU operations is left alone.
// CHECK-LABEL: func.func @host_only
// CHECK-NOT:     gpu.wait
func.func @host_only(%a: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// A qtrain.device_entry function returns with its work queued: its callers
// read results through copies queued behind it.
// CHECK-LABEL: func.func @device_entry
// CHECK:         %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T1:.+]] = gpu.launch_func async [%[[S]]] @kernels::@fill
// CHECK-NEXT:    %[[T2:.+]] = gpu.dealloc async [%[[T1]]]
// CHECK-NOT:     gpu.wait
// CHECK:         return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      gpu.return
    }
  }
  func.func @device_entry(%a: memref<64xf32>, %b: memref<64xf32>)
      attributes {qtrain.device_entry} {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    %s = gpu.wait async
    %t = gpu.dealloc async [%s] %b : memref<64xf32>
    gpu.wait [%t]
    return
  }
}

// -----

// An earlier call's kernels may still run in the buffers that this function
// gets from the cache: its first host access of memory, before any GPU
// operation of its own, waits for the queue. Later ones wait for the chain.
// CHECK-LABEL: func.func @host_first
// CHECK:         %[[M:.+]] = gpu.alloc host_shared
// CHECK-NEXT:    %[[Q:.+]] = gpu.wait async
// CHECK-NEXT:    gpu.wait [%[[Q]]]
// CHECK-NEXT:    memref.store {{.*}}, %[[M]]
// CHECK-NEXT:    %[[S:.+]] = gpu.wait async
// CHECK-NEXT:    %[[T:.+]] = gpu.launch_func async [%[[S]]] @kernels::@fill
// CHECK-NEXT:    gpu.wait [%[[T]]]
// CHECK-NEXT:    memref.load %[[M]]
// CHECK-NOT:     gpu.wait
// CHECK:         return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%b: memref<64xf32>) kernel {
      gpu.return
    }
  }
  func.func @host_first() -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %one = arith.constant 1.0 : f32
    %m = gpu.alloc host_shared () : memref<64xf32>
    memref.store %one, %m[%c0] : memref<64xf32>
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    %v = memref.load %m[%c0] : memref<64xf32>
    return %v : f32
  }
}
