//===- PackingExecutionTest.cpp - 4-bit packing, executed -----------------===//
//
// qtrain.pack and qtrain.unpack on every byte value: unpacking gives the
// high nibble at even and the low nibble at odd positions, and packing the
// codes again gives the bytes back.
//
//===----------------------------------------------------------------------===//

#include "KernelWriter.h"

#include "gtest/gtest.h"

#include <cstdint>

using namespace qtrain::testing;

namespace {

TEST(PackingExecutionTest, UnpackThenPackRoundTrips) {
  // Two rows of 256 bytes: every value, then every value reversed.
  const int64_t rows = 2, n = 256;
  KernelWriter k("kernel");
  std::string bytes = k.arg("bytes", {rows, n}, "i8");
  std::string codes = KernelWriter::tensorType({rows, 2 * n}, "i8");
  std::string packed = KernelWriter::tensorType({rows, n}, "i8");
  k.line("%c = qtrain.unpack " + bytes + " : " + packed + " -> " + codes);
  k.line("%p = qtrain.pack %c : " + codes + " -> " + packed);
  k.output("unpacked", "%c", {rows, 2 * n}, "i8");
  k.output("repacked", "%p", {rows, n}, "i8");
  std::string error;
  auto jit = JitModule::compile(k.str(), error);
  ASSERT_TRUE(jit) << error << "\n" << k.str();

  std::vector<uint8_t> in(rows * n), unpacked(rows * 2 * n), repacked(rows * n);
  for (int64_t i = 0; i < n; ++i) {
    in[i] = uint8_t(i);
    in[n + i] = uint8_t(n - 1 - i);
  }
  auto im = memref1D(in), um = memref1D(unpacked), rm = memref1D(repacked);
  using Ref = StridedMemRefType<uint8_t, 1> *;
  auto kernel = jit->lookup<void (*)(Ref, Ref, Ref)>("kernel");
  ASSERT_TRUE(kernel);
  kernel(&im, &um, &rm);
  for (int64_t i = 0; i < rows * n; ++i) {
    ASSERT_EQ(unpacked[2 * i], in[i] >> 4) << "high nibble of byte " << i;
    ASSERT_EQ(unpacked[2 * i + 1], in[i] & 15) << "low nibble of byte " << i;
  }
  EXPECT_EQ(repacked, in);
}

} // namespace
