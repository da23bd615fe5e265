// RUN: qtrain-opt %s -split-input-file -qtrain-name-gpu-kernels | FileCheck %s

// Each launch is named after its function, what its kernel does and its
// place among the function's launches; a launch named already keeps its
// name (and its place is counted).
// CHECK-LABEL: func.func @step
// CHECK:         gpu.launch {{.+}} module(@step_map_0) function(@step_map_0)
// CHECK:         gpu.launch {{.+}} module(@step_loop_1) function(@step_loop_1)
// CHECK:         gpu.launch {{.+}} module(@step_mma_2) function(@step_mma_2)
// CHECK:         gpu.launch {{.+}} module(@mine) function(@mine)
// CHECK:         gpu.launch {{.+}} module(@step_map_4) function(@step_map_4)
// CHECK-LABEL: func.func @other
// CHECK:         gpu.launch {{.+}} module(@other_map_0) function(@other_map_0)
func.func @step(%m: memref<4xf32>, %n: index, %a: vector<2xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %m[%tx] : memref<4xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    scf.for %i = %c0 to %n step %c1 {
      memref.store %one, %m[%i] : memref<4xf32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %d = llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.s8"(%a) : (vector<2xi32>) -> !llvm.struct<(i32, i32, i32, i32)>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             module(@mine) function(@mine) {
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return
}
func.func @other() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return
}
