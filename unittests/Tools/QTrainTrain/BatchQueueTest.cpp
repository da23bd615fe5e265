//===- BatchQueueTest.cpp - qtrain-train's batch thread -------------------===//
//
// The batches that BatchQueue's thread prepares are the ones the training
// loop made itself before it: each epoch shuffles the first `count` images
// with one generator, a step takes the next `batch` of them, and only the
// batch's runs of the flat buffer change. The oracle below builds them the
// loop's way, step by step.
//
//===----------------------------------------------------------------------===//

#include "BatchQueue.h"

#include "gtest/gtest.h"

#include <numeric>
#include <optional>
#include <random>

using namespace qtrain;
using namespace qtrain::train;

namespace {

// Ten 2x2 images, pixel p of image i being 20 i + p, labelled i % 3; the
// flat buffer has another slot between the images and the labels.
constexpr int64_t kImages = 10, kPixels = 4, kBatch = 4, kClasses = 3;
constexpr int64_t kImagesAt = 0, kLabelsAt = 24,
                  kRateAt = kLabelsAt + kBatch * kClasses, kSize = 40;
constexpr float kUntouched = -7.0f;

Split tinySplit() {
  Split split;
  split.count = kImages;
  split.rows = split.cols = 2;
  for (int64_t i = 0; i < kImages; ++i) {
    for (int64_t p = 0; p < kPixels; ++p)
      split.pixels.push_back(uint8_t(20 * i + p));
    split.labels.push_back(uint8_t(i % kClasses));
  }
  return split;
}

BatchLayout tinyLayout() {
  // The labels and the learning rate are next to each other: one run.
  return {kImagesAt,
          kLabelsAt,
          kRateAt,
          kBatch,
          kClasses,
          {{kImagesAt, kBatch * kPixels}, {kLabelsAt, kBatch * kClasses + 1}}};
}

float rateOf(int64_t step) { return 0.5f + 0.25f * float(step); }

/// The flat buffer's values after step `step`'s batch, the training loop's
/// way: `order` shuffled by `shuffle` at each epoch's start.
std::vector<float> expectedBatch(const Split &data, int64_t count, int64_t step,
                                 std::vector<int64_t> &order,
                                 std::mt19937 &shuffle) {
  int64_t stepsPerEpoch = count / kBatch, s = step % stepsPerEpoch;
  if (s == 0)
    std::shuffle(order.begin(), order.begin() + count, shuffle);
  std::vector<float> values(kSize, kUntouched);
  for (int64_t b = 0; b < kBatch; ++b) {
    int64_t image = order[s * kBatch + b];
    for (int64_t p = 0; p < kPixels; ++p) {
      float v = float(data.pixels[image * kPixels + p]);
      values[kImagesAt + b * kPixels + p] = (v / 255.0f - 0.2860f) / 0.3530f;
    }
    for (int64_t k = 0; k < kClasses; ++k)
      values[kLabelsAt + b * kClasses + k] =
          k == data.labels[image] ? 1.0f : 0.0f;
  }
  values[kRateAt] = rateOf(step);
  return values;
}

/// Expected values at the batch's places; kUntouched elsewhere.
void expectBatch(const FlatBuffer &buffer, const std::vector<float> &expected,
                 int64_t step) {
  for (int64_t i = 0; i < kSize; ++i) {
    bool inBatch = (i >= kImagesAt && i < kImagesAt + kBatch * kPixels) ||
                   (i >= kLabelsAt && i <= kRateAt);
    EXPECT_EQ(buffer.host[i], inBatch ? expected[i] : kUntouched)
        << "step " << step << ", element " << i;
  }
}

struct BatchQueueTest : ::testing::Test {
  void SetUp() override {
    auto opened = runtime::DeviceMemory::open(runtime::Target::cpu());
    ASSERT_TRUE(bool(opened)) << llvm::toString(opened.takeError());
    memory.emplace(std::move(*opened));
  }
  std::optional<runtime::DeviceMemory> memory;
  Split data = tinySplit();
};

// Three epochs over 9 of the 10 images (two steps an epoch, one image
// left over), taken as overlapping steps take them: batch s is uploaded
// before batch s - 1 is released, so two are out at once.
TEST_F(BatchQueueTest, BatchesOfShuffledEpochsInOrder) {
  constexpr int64_t count = 9, epochs = 3, steps = epochs * (count / kBatch);
  constexpr unsigned seed = 7;
  BatchQueue queue(*memory, data, tinyLayout(), count, epochs, seed, rateOf);
  std::vector<int64_t> order(kImages);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 shuffle(seed);
  FlatBuffer buffers[2] = {FlatBuffer(*memory, kSize),
                           FlatBuffer(*memory, kSize)};
  for (FlatBuffer &buffer : buffers)
    std::fill(buffer.host.begin(), buffer.host.end(), kUntouched);
  for (int64_t step = 0; step < steps; ++step) {
    FlatBuffer &buffer = buffers[step % 2];
    queue.upload(buffer, /*async=*/step % 3 == 0);
    expectBatch(buffer, expectedBatch(data, count, step, order, shuffle), step);
    if (step > 0)
      queue.release();
  }
  queue.release();
}

// A run that stops early (a device error) leaves the thread waiting for a
// free slot: the queue stops it.
TEST_F(BatchQueueTest, StopsWithBatchesAhead) {
  BatchQueue queue(*memory, data, tinyLayout(), /*count=*/8, /*epochs=*/5,
                   /*seed=*/1, rateOf);
  FlatBuffer buffer(*memory, kSize);
  queue.upload(buffer, /*async=*/false);
}

// No steps (evaluation of loaded parameters): no thread, nothing to take.
TEST_F(BatchQueueTest, NoEpochs) {
  BatchQueue queue(*memory, data, tinyLayout(), /*count=*/8, /*epochs=*/0,
                   /*seed=*/1, rateOf);
}

} // namespace
