//===- BlockCache.cpp - GPU buffers kept for reuse ------------------------===//

#include "qtrain/Runtime/BlockCache.h"

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
  for (auto &[key, blocks] : cached)
    for (void *block : blocks)
      backend.release(block, key.first);
  cached.clear();
  counts.cachedBlocks = 0;
  counts.cachedBytes = 0;
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return counts;
}
