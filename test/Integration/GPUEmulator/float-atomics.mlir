// Float max/min atomics as qtrain-relax-kernel-atomics lowers them (one
// integer atomic on the bits, chosen by the sign) against upstream's
// lowering (a compare-and-swap loop around arith.maximumf/minimumf), both
// on the emulator: 64 threads, thread t combining value t % 8 of case t / 8
// into that case's max (from -inf) and min (from +inf). Printed as bits
// (i32), NaNs as the one quiet NaN 2143289344, for each case: max, min.
// RUN: qtrain-opt %s -qtrain-relax-kernel-atomics \
// RUN:   -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -expand-strided-metadata -convert-to-llvm \
// RUN:   -reconcile-unrealized-casts | %run_gpu_emulator | FileCheck %s
// RUN: qtrain-opt %s -emulate-gpu-launches-on-cpu -convert-scf-to-cf \
// RUN:   -convert-to-llvm -reconcile-unrealized-casts \
// RUN:   | %run_gpu_emulator | FileCheck %s

// Negatives: the one nearest zero (-1e-30), the most negative (-100).
// CHECK:      [-1918746016,  -1027080192]
// -0 and +0: max +0, min -0.
// CHECK-NEXT: [0,  -2147483648]
// Only -0: -0 both.
// CHECK-NEXT: [-2147483648,  -2147483648]
// Mixed signs: 1e30 and -inf.
// CHECK-NEXT: [1900671690,  -8388608]
// A quiet NaN among numbers: NaN both.
// CHECK-NEXT: [2143289344,  2143289344]
// A negative NaN among numbers: NaN both.
// CHECK-NEXT: [2143289344,  2143289344]
// Infinities: +inf, -inf.
// CHECK-NEXT: [2139095040,  -8388608]
// The smallest subnormals and zeros: 1e-45, -1e-45.
// CHECK-NEXT: [1,  -2147483647]

func.func private @printMemrefI32(memref<*xi32>)

memref.global "private" constant @values : memref<64xf32> = dense<[
    // Negatives.
    -1.0, -2.5, -0.5, -7.0, -3.0, -0.25, -100.0, -1.0e-30,
    // Zeros of both signs.
    -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.0, -0.0,
    // Negative zeros only.
    -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0,
    // Mixed signs.
    -3.0, 2.0, 0xFF800000, 5.0, 0.5, -0.0, 1.0e30, -1.0e30,
    // A quiet NaN.
    1.0, -2.0, 0x7FC00000, 3.0, -4.0, 0.0, 0x7F800000, -5.0,
    // A negative NaN (payload 1).
    1.0, -2.0, 3.0, 0xFFC00001, -4.0, 0.0, 0xFF800000, -5.0,
    // Infinities.
    0x7F800000, 0xFF800000, 1.0, -1.0, 0.0, -0.0, 1.0e38, -1.0e38,
    // Subnormals and zeros.
    1.0e-45, -1.0e-45, 0.0, -0.0, 1.0e-45, -1.0e-45, 0.0, -0.0
    ]>

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %ninf = arith.constant 0xFF800000 : f32
  %pinf = arith.constant 0x7F800000 : f32
  %input = memref.get_global @values : memref<64xf32>
  %max = memref.alloc() : memref<8xf32>
  %min = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %ninf, %max[%i] : memref<8xf32>
    memref.store %pinf, %min[%i] : memref<8xf32>
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %case = arith.divui %tx, %c8 : index
    %v = memref.load %input[%tx] : memref<64xf32>
    %0 = memref.atomic_rmw maximumf %v, %max[%case] : (f32, memref<8xf32>) -> f32
    %1 = memref.atomic_rmw minimumf %v, %min[%case] : (f32, memref<8xf32>) -> f32
    gpu.terminator
  }
  %bits = memref.alloc() : memref<8x2xi32>
  %nan = arith.constant 2143289344 : i32
  scf.for %i = %c0 to %c8 step %c1 {
    %m = memref.load %max[%i] : memref<8xf32>
    %n = memref.load %min[%i] : memref<8xf32>
    %mb = arith.bitcast %m : f32 to i32
    %nb = arith.bitcast %n : f32 to i32
    %mnan = arith.cmpf uno, %m, %m : f32
    %nnan = arith.cmpf uno, %n, %n : f32
    %mout = arith.select %mnan, %nan, %mb : i32
    %nout = arith.select %nnan, %nan, %nb : i32
    memref.store %mout, %bits[%i, %c0] : memref<8x2xi32>
    memref.store %nout, %bits[%i, %c1] : memref<8x2xi32>
  }
  %cast = memref.cast %bits : memref<8x2xi32> to memref<*xi32>
  call @printMemrefI32(%cast) : (memref<*xi32>) -> ()
  return
}
