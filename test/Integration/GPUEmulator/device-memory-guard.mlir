// Host code that touches a device buffer fails in the emulator as on a GPU:
// the guard keeps device buffers' pages closed except while kernels and
// copies run. A kernel writes a device buffer; copied to host memory, its
// elements read fine, read in place they stop the program.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts > %t.mlir
// RUN: %run_gpu_emulator -e copied < %t.mlir | FileCheck %s --check-prefix=COPIED
// RUN: not --crash %run_gpu_emulator -e in_place < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=IN-PLACE
// Each free matches its allocation: free() of a GPU buffer, gpu.dealloc
// (cuMemFree) of a host one fail as on a GPU.
// RUN: not --crash %run_gpu_emulator -e freed_by_host < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=FREED-BY-HOST
// RUN: not --crash %run_gpu_emulator -e host_freed_by_gpu < %t.mlir 2>&1 \
// RUN:   | FileCheck %s --check-prefix=HOST-FREED-BY-GPU
// Unguarded, the bug goes unseen.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu=guard-device-memory=false \
// RUN:   -convert-scf-to-cf -convert-to-llvm -reconcile-unrealized-casts \
// RUN:   | %run_gpu_emulator -e in_place | FileCheck %s --check-prefix=COPIED

// COPIED: 2
// IN-PLACE: qtrain GPU emulator: host code accessed device memory at 0x{{[0-9a-f]+}} (byte 8 of a 4096-byte gpu.alloc buffer); only kernels and gpu.memcpy may
// FREED-BY-HOST: qtrain GPU emulator: memref.dealloc (free) of a gpu.alloc buffer (0x{{[0-9a-f]+}})
// HOST-FREED-BY-GPU: qtrain GPU emulator: gpu.dealloc of a buffer that gpu.alloc did not make (0x{{[0-9a-f]+}})

func.func private @written() -> memref<4xf32> {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %buf = gpu.alloc () : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %i = arith.index_cast %tx : index to i32
    %f = arith.sitofp %i : i32 to f32
    memref.store %f, %buf[%tx] : memref<4xf32>
    gpu.terminator
  }
  return %buf : memref<4xf32>
}

func.func @copied() {
  %c2 = arith.constant 2 : index
  %buf = call @written() : () -> memref<4xf32>
  %host = memref.alloc() : memref<4xf32>
  gpu.memcpy %host, %buf : memref<4xf32>, memref<4xf32>
  %x = memref.load %host[%c2] : memref<4xf32>
  vector.print %x : f32
  gpu.dealloc %buf : memref<4xf32>
  memref.dealloc %host : memref<4xf32>
  return
}

func.func @in_place() {
  %c2 = arith.constant 2 : index
  %buf = call @written() : () -> memref<4xf32>
  %x = memref.load %buf[%c2] : memref<4xf32>
  vector.print %x : f32
  gpu.dealloc %buf : memref<4xf32>
  return
}

func.func @freed_by_host() {
  %buf = call @written() : () -> memref<4xf32>
  memref.dealloc %buf : memref<4xf32>
  return
}

func.func @host_freed_by_gpu() {
  %host = memref.alloc() : memref<4xf32>
  gpu.dealloc %host : memref<4xf32>
  return
}
