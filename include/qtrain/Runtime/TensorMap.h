//===- TensorMap.h - TMA tensor maps of qtrain's kernels --------*- C++ -*-===//
//
// The host entry point that makes a tensor map (the descriptor from which
// Hopper's TMA unit copies a box of a tensor into shared memory) for the
// wgmma kernels' operands (convert-low-precision-matmul-to-wgmma). Two
// libraries implement it with this signature: the CUDA runtime (a
// CUtensorMap in device memory, cuTensorMapEncodeTiled) and the GPU
// emulator (a record of the same fields that its TMA copies read).
//
//   int64_t qtrainTensorMap(int64_t address, int64_t elementBytes,
//                           int64_t rank, int64_t dim0, int64_t dim1,
//                           int64_t dim2, int64_t stride1, int64_t stride2,
//                           int64_t box0, int64_t box1,
//                           int64_t swizzleBytes);
//
// A tensor of `rank` (1 to 3) dimensions of `elementBytes`-byte elements
// at global `address`, dimension 0 contiguous, `dim`i elements along
// dimension i and `stride`i bytes between consecutive indices of
// dimensions 1 and 2; boxes of `box0` x `box1` (x 1) elements, stored in
// shared memory in that order, elements outside the tensor zeros.
// `swizzleBytes` (0, 32, 64 or 128; where not 0, a box row's bytes) is the
// TMA swizzle mode (CU_TENSOR_MAP_SWIZZLE_*B): each 16 bytes of a box land
// where swizzledAddress puts them. Returns the map's address, valid until
// the library is unloaded (the maps are cached by their fields, so that a
// training step's GEMMs make no new ones after the first step).
//
// Upstream's nvgpu.tma.create.descriptor is not used: its runtime entry
// point (mgpuTensorMapEncodeTiledMemref) ignores the memref's offset and
// copies every map it makes into a device allocation that nothing frees,
// and the op has unknown memory effects, so qtrain-async-gpu-launches
// would make the host wait for the GPU before every GEMM.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_TENSORMAP_H
#define QTRAIN_RUNTIME_TENSORMAP_H

#include <cstdint>

namespace mlir::qtrain {

constexpr const char *kTensorMapFunction = "qtrainTensorMap";

/// What a tensor map describes: qtrainTensorMap's arguments.
struct TensorMapFields {
  int64_t address, elementBytes, rank;
  int64_t dims[3], strides[3], box[3];
  int64_t swizzleBytes;

  /// Bytes of one box (what a copy of it transfers).
  int64_t boxBytes() const { return box[0] * box[1] * box[2] * elementBytes; }
  bool operator==(const TensorMapFields &other) const {
    auto same = [](const int64_t *x, const int64_t *y) {
      return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
    };
    return address == other.address && elementBytes == other.elementBytes &&
           rank == other.rank && same(dims, other.dims) &&
           same(strides, other.strides) && same(box, other.box) &&
           swizzleBytes == other.swizzleBytes;
  }
};

/// Where the 16 bytes that a swizzled layout would place at shared-memory
/// `address` lie (CUTLASS's Swizzle<B, 4, 3>): bits 4 and up of the
/// address, as many as a swizzle span has 16-byte units (3 for 128 bytes,
/// 2 for 64, 1 for 32), are XORed with the same number of bits from bit 7
/// up. With rows of `swizzleBytes` bytes, 16-byte unit c of row r of an
/// 8-row atom (aligned to 8 rows) lands at unit c ^ (r % 8) under 128-byte
/// swizzling, c ^ (r / 2 % 4) under 64-byte, c ^ (r / 4 % 2) under 32-byte.
/// TMA copies write a swizzled box and wgmma descriptors of the same
/// swizzle mode read one this way; the function is its own inverse.
constexpr int64_t swizzledAddress(int64_t address, int64_t swizzleBytes) {
  if (swizzleBytes == 0)
    return address;
  int64_t mask = swizzleBytes / 16 - 1;
  return address ^ (((address >> 7) & mask) << 4);
}

/// The fields of qtrainTensorMap's arguments (strides[0] is the element
/// size; unused dimensions are of size 1), or an error message for fields
/// that no tensor map can have.
inline const char *makeTensorMapFields(TensorMapFields &fields, int64_t address,
                                       int64_t elementBytes, int64_t rank,
                                       int64_t dim0, int64_t dim1, int64_t dim2,
                                       int64_t stride1, int64_t stride2,
                                       int64_t box0, int64_t box1,
                                       int64_t swizzleBytes) {
  fields = {address,
            elementBytes,
            rank,
            {dim0, rank > 1 ? dim1 : 1, rank > 2 ? dim2 : 1},
            {elementBytes, rank > 1 ? stride1 : 0, rank > 2 ? stride2 : 0},
            {box0, rank > 1 ? box1 : 1, 1},
            swizzleBytes};
  if (rank < 1 || rank > 3 ||
      (elementBytes != 1 && elementBytes != 2 && elementBytes != 4))
    return "a tensor map of 1 to 3 dimensions of 1, 2 or 4-byte elements";
  if (address % 16 != 0)
    return "a tensor map's address must be 16-byte aligned";
  for (int64_t d = 0; d < 3; ++d)
    if (fields.dims[d] < 1 || fields.box[d] < 1 || fields.box[d] > 256)
      return "a tensor map's sizes must be positive and its box at most 256 "
             "elements along each dimension";
  for (int64_t d = 1; d < rank; ++d)
    if (fields.strides[d] % 16 != 0)
      return "a tensor map's strides must be multiples of 16 bytes";
  if (box0 * elementBytes % 16 != 0)
    return "a tensor map's box rows must be multiples of 16 bytes";
  // The driver takes narrower rows too; these kernels need none, and what
  // the emulator would do with them is unspecified.
  if (swizzleBytes != 0 && swizzleBytes != 32 && swizzleBytes != 64 &&
      swizzleBytes != 128)
    return "a tensor map's swizzle must be 0, 32, 64 or 128 bytes";
  if (swizzleBytes != 0 && box0 * elementBytes != swizzleBytes)
    return "a swizzled tensor map's box rows must be as wide as its swizzle";
  return nullptr;
}

} // namespace mlir::qtrain

#endif // QTRAIN_RUNTIME_TENSORMAP_H
