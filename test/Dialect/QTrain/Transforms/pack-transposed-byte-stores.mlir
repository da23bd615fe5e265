// RUN: qtrain-opt %s -qtrain-pack-transposed-byte-stores -cse -split-input-file \
// RUN:   | FileCheck %s

// A k-major fp8 copy next to a row-major one: each iteration computes four
// rows and stores their transposed bytes as one aligned word; the row-major
// store stays one byte an element, four of them an iteration. (-cse folds
// the pass's constants into the function's.)
// CHECK-LABEL: func.func @fp8_copies
//  CHECK-SAME:   (%[[SRC:.*]]: memref<8x12xf32>)
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : index
//   CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : index
//   CHECK-DAG:   %[[C3:.*]] = arith.constant 3 : index
//   CHECK-DAG:   %[[C4:.*]] = arith.constant 4 : index
//   CHECK-DAG:   %[[C12:.*]] = arith.constant 12 : index
//   CHECK-DAG:   %[[ROWS:.*]] = memref.alloc() : memref<8x12xf8E4M3FN>
//   CHECK-DAG:   %[[COLS:.*]] = gpu.alloc () : memref<12x8xf8E4M3FN>
//       CHECK:   scf.parallel (%[[I4:[^,]*]], %[[J:[^)]*]]) = (%[[C0]], %[[C0]]) to (%[[C2]], %[[C12]]) step (%[[C1]], %[[C1]])
//       CHECK:     %[[I:.*]] = arith.muli %[[I4]], %[[C4]] : index
//       CHECK:     %[[X0:.*]] = memref.load %[[SRC]][%[[I]], %[[J]]]
//       CHECK:     %[[Q0:.*]] = arith.truncf %[[X0]] : f32 to f8E4M3FN
//       CHECK:     memref.store %[[Q0]], %[[ROWS]][%[[I]], %[[J]]]
//       CHECK:     %[[I1:.*]] = arith.addi %[[I]], %[[C1]] : index
//       CHECK:     %[[X1:.*]] = memref.load %[[SRC]][%[[I1]], %[[J]]]
//       CHECK:     %[[Q1:.*]] = arith.truncf %[[X1]]
//       CHECK:     memref.store %[[Q1]], %[[ROWS]][%[[I1]], %[[J]]]
//       CHECK:     %[[I2:.*]] = arith.addi %[[I]], %[[C2]] : index
//       CHECK:     %[[Q2:.*]] = arith.truncf
//       CHECK:     memref.store %[[Q2]], %[[ROWS]][%[[I2]], %[[J]]]
//       CHECK:     %[[I3:.*]] = arith.addi %[[I]], %[[C3]] : index
//       CHECK:     %[[Q3:.*]] = arith.truncf
//       CHECK:     memref.store %[[Q3]], %[[ROWS]][%[[I3]], %[[J]]]
//       CHECK:     %[[WORD:.*]] = vector.from_elements %[[Q0]], %[[Q1]], %[[Q2]], %[[Q3]] : vector<4xf8E4M3FN>
//       CHECK:     vector.store %[[WORD]], %[[COLS]][%[[J]], %[[I]]] {alignment = 4 : i64} : memref<12x8xf8E4M3FN>, vector<4xf8E4M3FN>
//   CHECK-NOT:     memref.store
//       CHECK:     scf.reduce
func.func @fp8_copies(%src: memref<8x12xf32>) -> (memref<8x12xf8E4M3FN>, memref<12x8xf8E4M3FN>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %rows = memref.alloc() : memref<8x12xf8E4M3FN>
  %cols = gpu.alloc () : memref<12x8xf8E4M3FN>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c12) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<8x12xf32>
    %q = arith.truncf %x : f32 to f8E4M3FN
    memref.store %q, %rows[%i, %j] : memref<8x12xf8E4M3FN>
    memref.store %q, %cols[%j, %i] : memref<12x8xf8E4M3FN>
    scf.reduce
  }
  return %rows, %cols : memref<8x12xf8E4M3FN>, memref<12x8xf8E4M3FN>
}

// -----

// Integers too, and a store whose buffer only a later op's other buffer
// is read after it (no alias: two allocations).
// CHECK-LABEL: func.func @int8_then_unrelated_load
//       CHECK:   scf.parallel
//   CHECK-NOT:     memref.store
//       CHECK:     vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<16x4xi8>, vector<4xi8>
func.func @int8_then_unrelated_load(%src: memref<4x16xi8>) -> memref<16x4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %t = memref.alloc() {alignment = 64 : i64} : memref<16x4xi8>
  %other = memref.alloc() : memref<4x16xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c16) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x16xi8>
    memref.store %x, %t[%j, %i] : memref<16x4xi8>
    %y = memref.load %other[%i, %j] : memref<4x16xi8>
    scf.reduce
  }
  return %t : memref<16x4xi8>
}

// -----

// The body reads back what it stored: storing the word after the four
// copies would read stale bytes. Unchanged.
// CHECK-LABEL: func.func @reads_back
//       CHECK:   scf.parallel (%[[I:[^,]*]], %[[J:[^)]*]]) =
//       CHECK:     memref.store %{{.*}}, %[[T:.*]][%[[J]], %[[I]]]
//       CHECK:     memref.load %[[T]][%[[J]], %[[I]]]
//   CHECK-NOT:   vector.store
func.func @reads_back(%src: memref<4x16xi8>, %out: memref<4x16xi8>) -> memref<16x4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %t = memref.alloc() : memref<16x4xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c16) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x16xi8>
    memref.store %x, %t[%j, %i] : memref<16x4xi8>
    %y = memref.load %t[%j, %i] : memref<16x4xi8>
    memref.store %y, %out[%i, %j] : memref<4x16xi8>
    scf.reduce
  }
  return %t : memref<16x4xi8>
}

// -----

// Rows of the transposed loop not a multiple of four (6): unchanged.
// CHECK-LABEL: func.func @rows_not_multiple_of_four
//   CHECK-NOT:   vector.store
func.func @rows_not_multiple_of_four(%src: memref<6x8xi8>) -> memref<8x8xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %t = memref.alloc() : memref<8x8xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c8) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<6x8xi8>
    memref.store %x, %t[%j, %i] : memref<8x8xi8>
    scf.reduce
  }
  return %t : memref<8x8xi8>
}

// -----

// The buffer's rows (6 bytes) are not whole words, so every other row's
// words would be misaligned: unchanged.
// CHECK-LABEL: func.func @buffer_rows_not_words
//   CHECK-NOT:   vector.store
func.func @buffer_rows_not_words(%src: memref<4x8xi8>) -> memref<8x6xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %t = memref.alloc() : memref<8x6xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x8xi8>
    memref.store %x, %t[%j, %i] : memref<8x6xi8>
    scf.reduce
  }
  return %t : memref<8x6xi8>
}

// -----

// Buffers of unknown alignment (a function argument, an allocation aligned
// to 2 bytes): unchanged.
// CHECK-LABEL: func.func @unknown_alignment
//   CHECK-NOT:   vector.store
func.func @unknown_alignment(%src: memref<4x8xi8>, %t: memref<8x4xi8>) -> memref<8x4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %u = memref.alloc() {alignment = 2 : i64} : memref<8x4xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x8xi8>
    memref.store %x, %t[%j, %i] : memref<8x4xi8>
    memref.store %x, %u[%j, %i] : memref<8x4xi8>
    scf.reduce
  }
  return %u : memref<8x4xi8>
}

// -----

// Not transposed, 16-bit elements, a body with a region, a dynamic bound:
// all unchanged.
// CHECK-LABEL: func.func @not_applicable
//   CHECK-NOT:   vector.store
func.func @not_applicable(%src: memref<4x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %rows = memref.alloc() : memref<4x8xi8>
  %wide = memref.alloc() : memref<8x4xf16>
  %cols = memref.alloc() : memref<8x4xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x8xf32>
    %q = arith.fptosi %x : f32 to i8
    memref.store %q, %rows[%i, %j] : memref<4x8xi8>
    %h = arith.truncf %x : f32 to f16
    memref.store %h, %wide[%j, %i] : memref<8x4xf16>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x8xf32>
    %q = arith.fptosi %x : f32 to i8
    %positive = arith.cmpi sgt, %q, %q : i8
    scf.if %positive {
      memref.store %q, %rows[%i, %j] : memref<4x8xi8>
    }
    memref.store %q, %cols[%j, %i] : memref<8x4xi8>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %n) step (%c1, %c1) {
    %x = memref.load %src[%i, %j] : memref<4x8xf32>
    %q = arith.fptosi %x : f32 to i8
    memref.store %q, %cols[%j, %i] : memref<8x4xi8>
    scf.reduce
  }
  return
}
