//===- SlotRunsTest.cpp - Copies of chosen slots of a flat buffer ---------===//

#include "StepModule.h"

#include "gtest/gtest.h"

using namespace qtrain::train;
using mlir::qtrain::ArgRole;

namespace {

using Runs = llvm::SmallVector<std::pair<int64_t, int64_t>>;

Slot slotAt(int64_t offset, int64_t size) {
  return {ArgRole::input, {size}, offset, size, std::nullopt};
}

// Slots listed out of layout order, with padding between them: chosen
// slots with no other slot between them are one run (padding included),
// another slot between them splits the run.
TEST(SlotRuns, MergesNeighboursAcrossPadding) {
  std::vector<Slot> slots = {slotAt(64, 10), slotAt(0, 50), slotAt(80, 1),
                             slotAt(96, 16), slotAt(128, 4)};
  const Slot *images = &slots[1], *labels = &slots[0], *rate = &slots[2],
             *weights = &slots[3], *last = &slots[4];
  EXPECT_EQ(slotRuns(slots, {images, labels, rate}), (Runs{{0, 81}}));
  EXPECT_EQ(slotRuns(slots, {rate, images}), (Runs{{0, 50}, {80, 1}}));
  EXPECT_EQ(slotRuns(slots, {images, last}), (Runs{{0, 50}, {128, 4}}));
  EXPECT_EQ(slotRuns(slots, {weights, last, labels}),
            (Runs{{64, 10}, {96, 36}}));
  EXPECT_EQ(slotRuns(slots, {}), Runs{});
}

} // namespace
