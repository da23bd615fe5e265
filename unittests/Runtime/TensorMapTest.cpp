//===- TensorMapTest.cpp - The fields of qtrainTensorMap ------------------===//
//
// What both qtrainTensorMap implementations (CUDA runtime, GPU emulator)
// accept and record: the fields of the wgmma kernels' operand maps, and the
// maps that cuTensorMapEncodeTiled would reject, refused with a message
// before the driver sees them.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/TensorMap.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir::qtrain;

namespace {

TEST(TensorMapFields, TwoDimensionalFP8Operand) {
  // A 4096 x 4096 FP8 operand, boxes of 128 bytes x 128 rows, swizzled in
  // 128 bytes.
  TensorMapFields fields;
  EXPECT_EQ(makeTensorMapFields(fields, 0x10000, 1, 2, 4096, 4096, 7, 4096, 99,
                                128, 128, 128),
            nullptr);
  EXPECT_EQ(fields.rank, 2);
  // The unused third dimension is one element, its stride and box ignored.
  EXPECT_EQ(fields.dims[2], 1);
  EXPECT_EQ(fields.strides[0], 1);
  EXPECT_EQ(fields.strides[1], 4096);
  EXPECT_EQ(fields.strides[2], 0);
  EXPECT_EQ(fields.box[2], 1);
  EXPECT_EQ(fields.boxBytes(), 128 * 128);
  EXPECT_EQ(fields.swizzleBytes, 128);
}

TEST(TensorMapFields, BatchedBF16Operand) {
  TensorMapFields fields;
  EXPECT_EQ(makeTensorMapFields(fields, 0x20000, 2, 3, 64, 70, 2, 128, 128 * 70,
                                8, 64, 0),
            nullptr);
  EXPECT_EQ(fields.dims[2], 2);
  EXPECT_EQ(fields.strides[2], 128 * 70);
  EXPECT_EQ(fields.boxBytes(), 8 * 64 * 2);
  // Equal fields are one map (the implementations cache by them).
  TensorMapFields same;
  makeTensorMapFields(same, 0x20000, 2, 3, 64, 70, 2, 128, 128 * 70, 8, 64, 0);
  EXPECT_TRUE(same == fields);
  makeTensorMapFields(same, 0x20000, 2, 3, 64, 71, 2, 128, 128 * 70, 8, 64, 0);
  EXPECT_FALSE(same == fields);
  // So are the swizzles: a map per swizzle mode.
  makeTensorMapFields(same, 0x20000, 2, 3, 64, 70, 2, 128, 128 * 70, 8, 64, 16);
  EXPECT_FALSE(same == fields);
}

TEST(TensorMapFields, RefusesWhatTMACannotCopy) {
  TensorMapFields fields;
  auto error = [&](int64_t address, int64_t bytes, int64_t rank,
                   int64_t stride1, int64_t box0, int64_t box1,
                   int64_t swizzle = 0) {
    const char *message =
        makeTensorMapFields(fields, address, bytes, rank, 64, 64, 1, stride1, 0,
                            box0, box1, swizzle);
    return message ? std::string(message) : std::string();
  };
  EXPECT_EQ(error(0x1008, 1, 2, 64, 16, 64),
            "a tensor map's address must be 16-byte aligned");
  EXPECT_EQ(error(0x1000, 1, 2, 72, 16, 64),
            "a tensor map's strides must be multiples of 16 bytes");
  EXPECT_EQ(error(0x1000, 1, 2, 64, 8, 64),
            "a tensor map's box rows must be multiples of 16 bytes");
  EXPECT_EQ(error(0x1000, 1, 2, 64, 16, 512),
            "a tensor map's sizes must be positive and its box at most 256 "
            "elements along each dimension");
  EXPECT_EQ(error(0x1000, 3, 2, 64, 16, 64),
            "a tensor map of 1 to 3 dimensions of 1, 2 or 4-byte elements");
  EXPECT_EQ(error(0x1000, 1, 4, 64, 16, 64),
            "a tensor map of 1 to 3 dimensions of 1, 2 or 4-byte elements");
  EXPECT_EQ(error(0x1000, 1, 2, 64, 16, 64, 16),
            "a tensor map's swizzle must be 0, 32, 64 or 128 bytes");
  EXPECT_EQ(error(0x1000, 1, 2, 64, 64, 64, 128),
            "a swizzled tensor map's box rows must be as wide as its swizzle");
  EXPECT_EQ(error(0x1000, 2, 2, 64, 32, 64, 64), "");
}

// The swizzle modes' permutations of 16-byte units (CUTLASS's Swizzle<3,
// 4, 3>, <2, 4, 3> and <1, 4, 3>): unit c of row r of a box whose rows are
// the swizzle's width, the box at an aligned address.
TEST(TensorMapFields, SwizzlePermutesUnitsWithinRows) {
  auto unit = [](int64_t swizzleBytes, int64_t row, int64_t column) {
    int64_t address = 0x4000 + row * swizzleBytes + column * 16;
    int64_t moved = swizzledAddress(address, swizzleBytes);
    // Rows keep their bytes.
    EXPECT_EQ((moved - 0x4000) / swizzleBytes, row);
    return (moved - 0x4000) % swizzleBytes / 16;
  };
  // 128 bytes: row r's units XORed with r % 8, a pattern of 8 rows.
  EXPECT_EQ(unit(128, 0, 5), 5);
  EXPECT_EQ(unit(128, 1, 0), 1);
  EXPECT_EQ(unit(128, 3, 5), 6);
  EXPECT_EQ(unit(128, 7, 7), 0);
  EXPECT_EQ(unit(128, 9, 2), 3);
  // 64 bytes: rows in pairs, XORed with r / 2 % 4.
  EXPECT_EQ(unit(64, 1, 2), 2);
  EXPECT_EQ(unit(64, 2, 0), 1);
  EXPECT_EQ(unit(64, 7, 1), 2);
  EXPECT_EQ(unit(64, 8, 3), 3);
  // 32 bytes: rows in fours, the two units swapped in the second four.
  EXPECT_EQ(unit(32, 3, 1), 1);
  EXPECT_EQ(unit(32, 4, 0), 1);
  EXPECT_EQ(unit(32, 7, 1), 0);
  // No swizzle, and the inverse.
  EXPECT_EQ(swizzledAddress(0x4321, 0), 0x4321);
  for (int64_t address = 0; address < 4096; address += 16)
    EXPECT_EQ(swizzledAddress(swizzledAddress(address, 128), 128), address);
}

} // namespace
