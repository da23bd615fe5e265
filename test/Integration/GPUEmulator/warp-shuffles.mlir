// gpu.shuffle in the emulator, as shfl.sync does it: each lane reads the
// value of its source lane in its own warp of 32, or keeps its own where
// the source lies outside the warp (valid false). Two warps of 32 lanes,
// lane l of warp w holding 100 w + l; printed for lanes 0, 1, 30 and 31
// of each warp: xor 1, down 1, up 2, idx 5, then down 1's valid flag.
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts \
// RUN:   | %run_gpu_emulator | FileCheck %s

// xor 1: neighbours swap.
// CHECK:      [1,  0,  31,  30,  101,  100,  131,  130]
// down 1: the lane above; lane 31 keeps its own.
// CHECK-NEXT: [1,  2,  31,  31,  101,  102,  131,  131]
// up 2: the lane two below; lanes 0 and 1 keep their own.
// CHECK-NEXT: [0,  1,  28,  29,  100,  101,  128,  129]
// idx 5: lane 5 of the same warp.
// CHECK-NEXT: [5,  5,  5,  5,  105,  105,  105,  105]
// CHECK-NEXT: [1,  1,  1,  0,  1,  1,  1,  0]
// Shuffles are warp-wide: where only warp 0 shuffles (a sum by a butterfly
// of xor 16 to 1, 0 + 1 + ... + 31 = 496 in every lane) and warp 1 never
// does (a TMA kernel's producer warp), warp 0's lanes do not wait for it.
// CHECK:      [496,  496,  496,  496]

func.func private @printMemrefI32(memref<*xi32>)

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c8 = arith.constant 8 : index
  %c30 = arith.constant 30 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %out = memref.alloc() : memref<5x8xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %lane = arith.remui %tx, %c32 : index
    %warp = arith.divui %tx, %c32 : index
    %w100 = arith.index_cast %warp : index to i32
    %c100 = arith.constant 100 : i32
    %base = arith.muli %w100, %c100 : i32
    %l = arith.index_cast %lane : index to i32
    %mine = arith.addi %base, %l : i32
    %width = arith.constant 32 : i32
    %one = arith.constant 1 : i32
    %two = arith.constant 2 : i32
    %five = arith.constant 5 : i32
    %x, %xv = gpu.shuffle xor %mine, %one, %width : i32
    %d, %dv = gpu.shuffle down %mine, %one, %width : i32
    %u, %uv = gpu.shuffle up %mine, %two, %width : i32
    %i, %iv = gpu.shuffle idx %mine, %five, %width : i32
    // Lanes 0, 1, 30 and 31 of each warp store, in columns 4 w + 0..3.
    %c2 = arith.constant 2 : index
    %c28 = arith.constant 28 : index
    %c3 = arith.constant 3 : index
    %low = arith.cmpi ult, %lane, %c2 : index
    %high = arith.cmpi uge, %lane, %c30 : index
    %printed = arith.ori %low, %high : i1
    scf.if %printed {
      %shifted = arith.subi %lane, %c28 : index
      %slot = arith.select %low, %lane, %shifted : index
      %w4 = arith.muli %warp, %c4 : index
      %col = arith.addi %w4, %slot : index
      memref.store %x, %out[%c0, %col] : memref<5x8xi32>
      memref.store %d, %out[%c1, %col] : memref<5x8xi32>
      memref.store %u, %out[%c2, %col] : memref<5x8xi32>
      memref.store %i, %out[%c3, %col] : memref<5x8xi32>
      %dvi = arith.extui %dv : i1 to i32
      memref.store %dvi, %out[%c4, %col] : memref<5x8xi32>
    }
    gpu.terminator
  }
  %u = memref.cast %out : memref<5x8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()

  %sums = memref.alloc() : memref<4xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %first = arith.cmpi ult, %tx, %c32 : index
    scf.if %first {
      %width = arith.constant 32 : i32
      %l = arith.index_cast %tx : index to i32
      %c16_i32 = arith.constant 16 : i32
      %c8_i32 = arith.constant 8 : i32
      %c4_i32 = arith.constant 4 : i32
      %c2_i32 = arith.constant 2 : i32
      %c1_i32 = arith.constant 1 : i32
      %o16, %v16 = gpu.shuffle xor %l, %c16_i32, %width : i32
      %s16 = arith.addi %l, %o16 : i32
      %o8, %v8 = gpu.shuffle xor %s16, %c8_i32, %width : i32
      %s8 = arith.addi %s16, %o8 : i32
      %o4, %v4 = gpu.shuffle xor %s8, %c4_i32, %width : i32
      %s4 = arith.addi %s8, %o4 : i32
      %o2, %v2 = gpu.shuffle xor %s4, %c2_i32, %width : i32
      %s2 = arith.addi %s4, %o2 : i32
      %o1, %v1 = gpu.shuffle xor %s2, %c1_i32, %width : i32
      %sum = arith.addi %s2, %o1 : i32
      // Lanes 0, 1, 30 and 31 store.
      %c2 = arith.constant 2 : index
      %c28 = arith.constant 28 : index
      %low = arith.cmpi ult, %tx, %c2 : index
      %high = arith.cmpi uge, %tx, %c30 : index
      %printed = arith.ori %low, %high : i1
      scf.if %printed {
        %shifted = arith.subi %tx, %c28 : index
        %slot = arith.select %low, %tx, %shifted : index
        memref.store %sum, %sums[%slot] : memref<4xi32>
      }
    }
    gpu.terminator
  }
  %v = memref.cast %sums : memref<4xi32> to memref<*xi32>
  call @printMemrefI32(%v) : (memref<*xi32>) -> ()
  return
}
