//===- BlockCacheTest.cpp - The CUDA runtime's cache of freed buffers -----===//
//
// The cache on a fake backend that counts its allocations and holds at most
// a given number of bytes, as a device does.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/BlockCache.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <set>

using namespace qtrain::runtime;

namespace {

struct FakeDevice final : BlockBackend {
  explicit FakeDevice(uint64_t capacity) : capacity(capacity) {}
  ~FakeDevice() override {
    for (auto [block, bytes] : blocks)
      std::free(block);
  }

  void *allocate(uint64_t bytes, BlockKind kind) override {
    if (used + bytes > capacity)
      return nullptr;
    void *block = std::malloc(bytes);
    blocks[block] = bytes;
    kinds[block] = kind;
    used += bytes;
    ++allocations;
    return block;
  }
  void release(void *block, BlockKind kind) override {
    auto it = blocks.find(block);
    ASSERT_NE(it, blocks.end()) << "released a block it did not allocate";
    EXPECT_EQ(kinds[block], kind);
    used -= it->second;
    std::free(block);
    blocks.erase(it);
    ++releases;
  }

  uint64_t capacity, used = 0;
  int allocations = 0, releases = 0;
  std::map<void *, uint64_t> blocks;
  std::map<void *, BlockKind> kinds;
};

TEST(BlockCacheTest, ReusesAFreedBlockOfTheSameRoundedSize) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  void *first = cache.allocate(1000, BlockKind::device);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(device.blocks[first], 1024u); // rounded to 512 bytes
  ASSERT_TRUE(cache.free(first));
  EXPECT_EQ(device.releases, 0);
  // 1000 and 1024 bytes round alike: the same block, no new allocation.
  EXPECT_EQ(cache.allocate(1024, BlockKind::device), first);
  EXPECT_EQ(device.allocations, 1);
  BlockCacheStats stats = cache.stats();
  EXPECT_EQ(stats.allocations, 2);
  EXPECT_EQ(stats.backendAllocations, 1);
  EXPECT_EQ(stats.cachedBlocks, 0);
  EXPECT_EQ(stats.liveBytes, 1024u);
}

TEST(BlockCacheTest, SizesAndKindsDoNotMix) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  void *small = cache.allocate(512, BlockKind::device);
  void *managed = cache.allocate(1024, BlockKind::managed);
  ASSERT_TRUE(cache.free(small));
  ASSERT_TRUE(cache.free(managed));
  EXPECT_EQ(cache.stats().cachedBytes, 1536u);
  // 513 bytes round to 1024, which only a managed block has: a new one.
  void *larger = cache.allocate(513, BlockKind::device);
  EXPECT_NE(larger, small);
  EXPECT_NE(larger, managed);
  EXPECT_EQ(device.kinds[larger], BlockKind::device);
  EXPECT_EQ(cache.allocate(700, BlockKind::managed), managed);
  EXPECT_EQ(cache.allocate(1, BlockKind::device), small);
  EXPECT_EQ(device.allocations, 3);
}

// A training step's buffers, step after step: the driver allocates the
// first step's only.
TEST(BlockCacheTest, RepeatedStepsAllocateOnce) {
  FakeDevice device(1 << 24);
  BlockCache cache(device);
  const uint64_t sizes[] = {64 * 256 * 4, 4, 784 * 256, 64 * 784, 4, 256 * 4};
  for (int step = 0; step < 5; ++step) {
    std::set<void *> live;
    for (uint64_t bytes : sizes) {
      void *block = cache.allocate(bytes, BlockKind::managed);
      ASSERT_NE(block, nullptr);
      EXPECT_TRUE(live.insert(block).second) << "a live block handed out";
    }
    for (void *block : live)
      ASSERT_TRUE(cache.free(block));
  }
  EXPECT_EQ(device.allocations, 6);
  EXPECT_EQ(cache.stats().allocations, 30);
  EXPECT_EQ(device.releases, 0);
}

TEST(BlockCacheTest, OutOfMemoryReleasesTheCachedBlocksAndRetries) {
  FakeDevice device(4096);
  BlockCache cache(device);
  void *a = cache.allocate(2048, BlockKind::device);
  void *b = cache.allocate(1024, BlockKind::device);
  ASSERT_TRUE(cache.free(a));
  ASSERT_TRUE(cache.free(b));
  // 3072 bytes are cached; 3072 more fit only once they are released.
  void *c = cache.allocate(3072, BlockKind::device);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(device.releases, 2);
  EXPECT_EQ(cache.stats().cachedBytes, 0u);
  // More than the device holds: null, with nothing cached to release.
  EXPECT_EQ(cache.allocate(2048, BlockKind::device), nullptr);
  EXPECT_EQ(cache.stats().liveBytes, 3072u);
}

TEST(BlockCacheTest, FreeRejectsUnknownAndDoubleFrees) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  int notABlock;
  EXPECT_FALSE(cache.free(&notABlock));
  void *block = cache.allocate(100, BlockKind::device);
  EXPECT_TRUE(cache.free(block));
  EXPECT_FALSE(cache.free(block));
  EXPECT_EQ(cache.stats().cachedBlocks, 1);
}

TEST(BlockCacheTest, ReleaseCachedHandsEveryFreeBlockBack) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  void *kept = cache.allocate(100, BlockKind::managed);
  ASSERT_TRUE(cache.free(cache.allocate(100, BlockKind::managed)));
  ASSERT_TRUE(cache.free(cache.allocate(5000, BlockKind::device)));
  cache.releaseCached();
  EXPECT_EQ(device.releases, 2);
  EXPECT_EQ(device.blocks.size(), 1u);
  EXPECT_EQ(device.blocks.count(kept), 1u);
  EXPECT_EQ(cache.stats().cachedBlocks, 0);
}

TEST(BlockCacheTest, WithoutCachingEveryFreeReachesTheBackend) {
  FakeDevice device(1 << 20);
  BlockCache cache(device, /*caching=*/false);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(cache.free(cache.allocate(256, BlockKind::device)));
  EXPECT_EQ(device.allocations, 3);
  EXPECT_EQ(device.releases, 3);
  EXPECT_EQ(cache.stats().cachedBytes, 0u);
}

// A recorded CUDA graph replays the addresses of the blocks its step was
// given: the cache notes them, each once, however often a block came back.
TEST(BlockCacheTest, RecordingNotesEachBlockHandedOut) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  void *before = cache.allocate(100, BlockKind::device);
  ASSERT_TRUE(cache.startRecording());
  void *a = cache.allocate(100, BlockKind::device);
  void *b = cache.allocate(4000, BlockKind::managed);
  ASSERT_TRUE(cache.free(a));
  void *again = cache.allocate(100, BlockKind::device);
  EXPECT_EQ(again, a);
  std::vector<void *> recorded = cache.stopRecording();
  EXPECT_EQ(std::set<void *>(recorded.begin(), recorded.end()),
            (std::set<void *>{a, b}));
  EXPECT_EQ(recorded.size(), 2u);
  cache.allocate(100, BlockKind::device);
  EXPECT_TRUE(cache.stopRecording().empty());
  EXPECT_TRUE(cache.free(before));
}

// Held blocks stay the device's through releaseCached (they are cached
// and handed out as usual) until every hold is undone.
TEST(BlockCacheTest, HeldBlocksOutliveReleaseCached) {
  FakeDevice device(1 << 20);
  BlockCache cache(device);
  void *held = cache.allocate(100, BlockKind::device);
  void *other = cache.allocate(5000, BlockKind::device);
  cache.hold({held});
  cache.hold({held});
  ASSERT_TRUE(cache.free(held));
  ASSERT_TRUE(cache.free(other));
  cache.releaseCached();
  EXPECT_EQ(device.releases, 1);
  EXPECT_EQ(device.blocks.count(held), 1u);
  EXPECT_EQ(cache.stats().cachedBlocks, 1);
  EXPECT_EQ(cache.stats().cachedBytes, 512u);
  EXPECT_EQ(cache.allocate(100, BlockKind::device), held);
  ASSERT_TRUE(cache.free(held));
  cache.unhold({held});
  cache.releaseCached();
  EXPECT_EQ(device.releases, 1);
  cache.unhold({held});
  cache.releaseCached();
  EXPECT_EQ(device.releases, 2);
  EXPECT_EQ(cache.stats().cachedBlocks, 0);
}

TEST(BlockCacheTest, NoRecordingWithoutCaching) {
  FakeDevice device(1 << 20);
  BlockCache cache(device, /*caching=*/false);
  EXPECT_FALSE(cache.startRecording());
  ASSERT_TRUE(cache.free(cache.allocate(256, BlockKind::device)));
  EXPECT_TRUE(cache.stopRecording().empty());
}

} // namespace
