//===- BlockCache.h - GPU buffers kept for reuse ----------------*- C++ -*-===//
//
// Host code from qtrain-lower-to-nvvm allocates every intermediate buffer
// of a training step with gpu.alloc and frees it with gpu.dealloc, the same
// sizes step after step. The driver's allocations cost tens of
// microseconds and its frees synchronize the whole device; managed buffers
// also start each step on the host and migrate page by page when kernels
// first touch them. The CUDA runtime library keeps freed buffers here, by
// size, and hands them out again, as PyTorch's caching allocator does.
//
// The driver's own stream-ordered pools (cuMemAllocAsync) hold device
// memory only (pools of managed memory are not accepted: CUmemPoolProps'
// allocType must be pinned), so the two kinds of qtrain buffers share this
// cache instead. It knows nothing of CUDA: its backend allocates and
// releases, and the unit tests give it a fake one.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_BLOCKCACHE_H
#define QTRAIN_RUNTIME_BLOCKCACHE_H

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qtrain::runtime {

/// Device memory, or managed memory (host and device address it).
enum class BlockKind : uint8_t { device, managed };

/// Where the blocks come from.
class BlockBackend {
public:
  virtual ~BlockBackend() = default;
  /// A new block of `bytes`, or null when the device is out of memory.
  virtual void *allocate(uint64_t bytes, BlockKind kind) = 0;
  virtual void release(void *block, BlockKind kind) = 0;
};

struct BlockCacheStats {
  int64_t allocations = 0;        // by the cache's users
  int64_t backendAllocations = 0; // of them, new blocks from the backend
  int64_t cachedBlocks = 0;       // free, kept for reuse
  uint64_t cachedBytes = 0;
  uint64_t liveBytes = 0; // allocated and not yet freed
};

/// Blocks are rounded up to kGranularity bytes and reused for any request
/// of the same rounded size and kind. Freeing hands a block back to the
/// cache, not to the backend: the caller must only free blocks that no
/// pending device work uses (the CUDA runtime waits for the freeing
/// stream first). Thread-safe.
class BlockCache {
public:
  static constexpr uint64_t kGranularity = 512;

  /// `caching` false: every allocation and free goes to the backend (for
  /// tools that track the driver's allocations, such as compute-sanitizer).
  explicit BlockCache(BlockBackend &backend, bool caching = true)
      : backend(backend), caching(caching) {}

  /// A block of at least `bytes` (> 0): a cached one of the same rounded
  /// size and kind, else a new one; when the backend is out of memory, the
  /// cached blocks go back to it and it is asked once more. Null if that
  /// fails too.
  void *allocate(uint64_t bytes, BlockKind kind);
  /// Takes back a block from allocate(); false (and nothing done) for a
  /// pointer that is not a live block.
  bool free(void *block);
  /// Hands every cached block back to the backend, but held ones.
  void releaseCached();
  BlockCacheStats stats() const;

  // A recorded launch sequence (a CUDA graph) replays the addresses it was
  // recorded with: the blocks it used must stay the device's (cached or
  // live, never released) while it may run again.

  /// Notes each block handed out from now on (false, nothing noted, where
  /// the cache does not cache: its frees would release them).
  bool startRecording();
  /// The blocks handed out since startRecording, each once.
  std::vector<void *> stopRecording();
  /// Blocks that releaseCached keeps until as many unhold calls as holds.
  void hold(const std::vector<void *> &blocks);
  void unhold(const std::vector<void *> &blocks);

  static uint64_t roundedSize(uint64_t bytes) {
    return (bytes + kGranularity - 1) / kGranularity * kGranularity;
  }

private:
  struct Block {
    uint64_t bytes;
    BlockKind kind;
  };
  void releaseCachedLocked();

  BlockBackend &backend;
  bool caching;
  mutable std::mutex mutex;
  std::unordered_map<void *, Block> live;
  std::map<std::pair<BlockKind, uint64_t>, std::vector<void *>> cached;
  BlockCacheStats counts;
  bool recording = false;
  std::vector<void *> recorded;
  std::unordered_map<void *, int> holds;
};

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_BLOCKCACHE_H
