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
  // A 4096 x 4096 FP8 operand, boxes of 16 bytes x 128 rows.
  TensorMapFields fields;
  EXPECT_EQ(makeTensorMapFields(fields, 0x10000, 1, 2, 4096, 4096, 7, 4096, 99,
                                16, 128),
            nullptr);
  EXPECT_EQ(fields.rank, 2);
  // The unused third dimension is one element, its stride and box ignored.
  EXPECT_EQ(fields.dims[2], 1);
  EXPECT_EQ(fields.strides[0], 1);
  EXPECT_EQ(fields.strides[1], 4096);
  EXPECT_EQ(fields.strides[2], 0);
  EXPECT_EQ(fields.box[2], 1);
  EXPECT_EQ(fields.boxBytes(), 16 * 128);
}

TEST(TensorMapFields, BatchedBF16Operand) {
  TensorMapFields fields;
  EXPECT_EQ(makeTensorMapFields(fields, 0x20000, 2, 3, 64, 70, 2, 128, 128 * 70,
                                8, 64),
            nullptr);
  EXPECT_EQ(fields.dims[2], 2);
  EXPECT_EQ(fields.strides[2], 128 * 70);
  EXPECT_EQ(fields.boxBytes(), 8 * 64 * 2);
  // Equal fields are one map (the implementations cache by them).
  TensorMapFields same;
  makeTensorMapFields(same, 0x20000, 2, 3, 64, 70, 2, 128, 128 * 70, 8, 64);
  EXPECT_TRUE(same == fields);
  makeTensorMapFields(same, 0x20000, 2, 3, 64, 71, 2, 128, 128 * 70, 8, 64);
  EXPECT_FALSE(same == fields);
}

TEST(TensorMapFields, RefusesWhatTMACannotCopy) {
  TensorMapFields fields;
  auto error = [&](int64_t address, int64_t bytes, int64_t rank,
                   int64_t stride1, int64_t box0, int64_t box1) {
    const char *message = makeTensorMapFields(fields, address, bytes, rank, 64,
                                              64, 1, stride1, 0, box0, box1);
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
}

} // namespace
