//===- BlockCache.cpp - GPU buffers kept for reuse ------------------------===//

#include "qtrain/Runtime/BlockCache.h"

#include <algorithm>

using namespace qtrain::runtime;

void *BlockCache::allocate(uint64_t bytes, BlockKind kind) {
  uint64_t rounded = roundedSize(bytes);
  std::lock_guard<std::mutex> lock(mutex);
  ++counts.allocations;
  void *block = nullptr;
  auto it = cached.find({kind, rounded});
  if (it != cached.end() && !it->second.empty()) {
    block = it->second.back();
    it->second.pop_back();
    --counts.cachedBlocks;
    counts.cachedBytes -= rounded;
  } else {
    block = backend.allocate(rounded, kind);
    if (!block && counts.cachedBlocks > 0) {
      releaseCachedLocked();
      block = backend.allocate(rounded, kind);
    }
    if (!block)
      return nullptr;
    ++counts.backendAllocations;
  }
  live.try_emplace(block, Block{rounded, kind});
  counts.liveBytes += rounded;
  if (recording)
    recorded.push_back(block);
  return block;
}

bool BlockCache::free(void *block) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = live.find(block);
  if (it == live.end())
    return false;
  Block freed = it->second;
  live.erase(it);
  counts.liveBytes -= freed.bytes;
  if (!caching) {
    backend.release(block, freed.kind);
    return true;
  }
  cached[{freed.kind, freed.bytes}].push_back(block);
  ++counts.cachedBlocks;
  counts.cachedBytes += freed.bytes;
  return true;
}

void BlockCache::releaseCached() {
  std::lock_guard<std::mutex> lock(mutex);
  releaseCachedLocked();
}

void BlockCache::releaseCachedLocked() {
  for (auto &[key, blocks] : cached) {
    std::vector<void *> kept;
    for (void *block : blocks) {
      if (holds.count(block)) {
        kept.push_back(block);
        continue;
      }
      backend.release(block, key.first);
      --counts.cachedBlocks;
      counts.cachedBytes -= key.second;
    }
    blocks = std::move(kept);
  }
}

bool BlockCache::startRecording() {
  std::lock_guard<std::mutex> lock(mutex);
  recorded.clear();
  recording = caching;
  return caching;
}

std::vector<void *> BlockCache::stopRecording() {
  std::lock_guard<std::mutex> lock(mutex);
  recording = false;
  std::sort(recorded.begin(), recorded.end());
  recorded.erase(std::unique(recorded.begin(), recorded.end()), recorded.end());
  return std::move(recorded);
}

void BlockCache::hold(const std::vector<void *> &blocks) {
  std::lock_guard<std::mutex> lock(mutex);
  for (void *block : blocks)
    ++holds[block];
}

void BlockCache::unhold(const std::vector<void *> &blocks) {
  std::lock_guard<std::mutex> lock(mutex);
  for (void *block : blocks)
    if (auto it = holds.find(block); it != holds.end() && --it->second == 0)
      holds.erase(it);
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return counts;
}
