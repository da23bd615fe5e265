// RUN: qtrain-opt %s -split-input-file -convert-clamped-fp8-truncf-to-nvvm | FileCheck %s

// A truncation of a value clamped to [-448, 448] (E4M3FN) or
// [-57344, 57344] (E5M2), in either nesting, becomes cvt.rn.satfinite.
// CHECK-LABEL: func.func @clamped
// CHECK:         gpu.launch
// CHECK:           %[[C:.+]] = arith.minimumf
// CHECK-NEXT:      %[[P:.+]] = nvvm.convert.f32x2.to.f8x2 %[[C]], %[[C]] {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : i16(f8E4M3FN)
// CHECK-NEXT:      %[[B:.+]] = arith.trunci %[[P]] : i16 to i8
// CHECK-NEXT:      arith.bitcast %[[B]] : i8 to f8E4M3FN
// CHECK:           %[[D:.+]] = arith.maximumf
// CHECK-NEXT:      nvvm.convert.f32x2.to.f8x2 %[[D]], %[[D]] {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : i16(f8E5M2)
// CHECK-NOT:       arith.truncf
func.func @clamped(%x: f32, %out: memref<2xf8E4M3FN>, %out2: memref<2xf8E5M2>) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %lo = arith.constant -448.0 : f32
  %hi = arith.constant 448.0 : f32
  %lo2 = arith.constant -57344.0 : f32
  %hi2 = arith.constant 57344.0 : f32
  gpu.launch blocks(%b0, %b1, %b2) in (%g0 = %c1, %g1 = %c1, %g2 = %c1)
             threads(%t0, %t1, %t2) in (%s0 = %c1, %s1 = %c1, %s2 = %c1) {
    %m = arith.maximumf %x, %lo : f32
    %c = arith.minimumf %m, %hi : f32
    %t = arith.truncf %c : f32 to f8E4M3FN
    memref.store %t, %out[%c0] : memref<2xf8E4M3FN>
    %n = arith.minimumf %hi2, %x : f32
    %d = arith.maximumf %lo2, %n : f32
    %u = arith.truncf %d : f32 to f8E5M2
    memref.store %u, %out2[%c0] : memref<2xf8E5M2>
    gpu.terminator
  }
  return
}

// -----

// Left alone: an unclamped value (truncf would overflow to NaN where cvt
// saturates), the wrong bounds, NaN-dropping maxnum, a directed rounding
// mode, and host code.
// CHECK-LABEL: func.func @not_clamped
// CHECK-NOT:     nvvm.convert
// CHECK-COUNT-5: arith.truncf
func.func @not_clamped(%x: f32, %out: memref<8xf8E4M3FN>) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %lo = arith.constant -448.0 : f32
  %hi = arith.constant 448.0 : f32
  %hi2 = arith.constant 464.0 : f32
  %h = arith.maximumf %x, %lo : f32
  %hc = arith.minimumf %h, %hi : f32
  %host = arith.truncf %hc : f32 to f8E4M3FN
  memref.store %host, %out[%c0] : memref<8xf8E4M3FN>
  gpu.launch blocks(%b0, %b1, %b2) in (%g0 = %c1, %g1 = %c1, %g2 = %c1)
             threads(%t0, %t1, %t2) in (%s0 = %c1, %s1 = %c1, %s2 = %c1) {
    %t = arith.truncf %x : f32 to f8E4M3FN
    memref.store %t, %out[%c0] : memref<8xf8E4M3FN>
    %m = arith.maximumf %x, %lo : f32
    %w = arith.minimumf %m, %hi2 : f32
    %u = arith.truncf %w : f32 to f8E4M3FN
    memref.store %u, %out[%c0] : memref<8xf8E4M3FN>
    %n = arith.maxnumf %x, %lo : f32
    %v = arith.minimumf %n, %hi : f32
    %y = arith.truncf %v : f32 to f8E4M3FN
    memref.store %y, %out[%c0] : memref<8xf8E4M3FN>
    %z = arith.truncf %hc upward : f32 to f8E4M3FN
    memref.store %z, %out[%c0] : memref<8xf8E4M3FN>
    gpu.terminator
  }
  return
}
