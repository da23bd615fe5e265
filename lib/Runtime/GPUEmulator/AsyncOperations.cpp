//===- AsyncOperations.cpp - cp.async and wgmma for CPU threads -----------===//
//
// The asynchronous operations of emulated kernels, timed so that a kernel
// that synchronizes too little fails here as it may on a GPU:
//
// * `cp.async` (global to shared memory, sm_80+): each copy waits in its
//   thread's queue until a `cp.async.wait_group` lets its commit group
//   complete, the latest moment the PTX ISA allows. A kernel that reads
//   shared memory before it waits for the copy that writes it reads stale
//   bytes, and its results differ from the CPU lowering's.
// * `wgmma.mma_async` (sm_90a) reads its operands from shared memory at any
//   time until a `wgmma.wait_group` completes its group. The emulator
//   computes it when it is issued (GPUEmulator.cpp) and records the bytes
//   it read as in use until then; a cp.async issued into them meanwhile,
//   by any thread of the block, stops the program ("cp.async into shared
//   memory that a wgmma still reads").
//
// Emulated threads run as OpenMP threads, one CPU thread each for the
// whole block (blocks one after another), so a thread's queues are
// thread-local; the bytes in use are the block's, behind a lock. A thread
// must not end with operations in flight (`qtrain_emulate_async_exit`).
//
//===----------------------------------------------------------------------===//

#include "AsyncOperations.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

using qtrain::emulator::fail;

void qtrain::emulator::fail(const char *message) {
  std::fprintf(stderr, "qtrain GPU emulator: %s\n", message);
  std::abort();
}

namespace {

/// One thread's operations of one kind: those in the groups it committed,
/// oldest first, and those it has not committed yet.
template <typename Operation> struct Groups {
  std::deque<std::vector<Operation>> committed;
  std::vector<Operation> uncommitted;

  void commit() {
    committed.push_back(std::move(uncommitted));
    uncommitted.clear();
  }
  /// Completes (passes to `complete`) all committed groups but the
  /// `pending` newest.
  template <typename Fn> void wait(int64_t pending, Fn complete) {
    while (int64_t(committed.size()) > pending) {
      for (const Operation &operation : committed.front())
        complete(operation);
      committed.pop_front();
    }
  }
  bool empty() const {
    if (!uncommitted.empty())
      return false;
    for (const std::vector<Operation> &group : committed)
      if (!group.empty())
        return false;
    return true;
  }
};

struct Copy {
  int64_t destination, source, bytes, sourceBytes;
};
using Range = std::pair<int64_t, int64_t>; // [begin, end)

thread_local Groups<Copy> copies;
thread_local Groups<Range> wgmmaReads;

/// The shared memory that the block's pending wgmmas read, with the number
/// of threads whose wgmma reads each range (every thread of a warpgroup
/// issues the same one).
std::mutex inUseLock;
std::map<Range, int64_t> inUse;

void perform(const Copy &copy) {
  // `src-size` bytes come from global memory and the rest are zeros; a
  // source of 0 bytes is not read.
  auto *destination = reinterpret_cast<char *>(copy.destination);
  int64_t read = copy.sourceBytes < copy.bytes ? copy.sourceBytes : copy.bytes;
  if (read > 0)
    std::memcpy(destination, reinterpret_cast<const char *>(copy.source), read);
  std::memset(destination + read, 0, copy.bytes - read);
}

} // namespace

void qtrain::emulator::readByWGMMA(int64_t begin, int64_t end) {
  wgmmaReads.uncommitted.push_back({begin, end});
  std::lock_guard<std::mutex> guard(inUseLock);
  ++inUse[{begin, end}];
}

void qtrain::emulator::checkNotReadByWGMMA(int64_t begin, int64_t end,
                                           const char *message) {
  std::lock_guard<std::mutex> guard(inUseLock);
  for (const auto &[range, readers] : inUse)
    if (begin < range.second && range.first < end)
      fail(message);
}

extern "C" void qtrain_emulate_cp_async(int64_t destination, int64_t source,
                                        int64_t bytes, int64_t sourceBytes) {
  qtrain::emulator::checkNotReadByWGMMA(
      destination, destination + bytes,
      "cp.async into shared memory that a wgmma still reads (issued, not yet "
      "waited for)");
  copies.uncommitted.push_back({destination, source, bytes, sourceBytes});
}

extern "C" void qtrain_emulate_cp_async_commit() { copies.commit(); }

/// Completes the thread's committed copy groups but the `pending` newest.
extern "C" void qtrain_emulate_cp_async_wait(int64_t pending) {
  copies.wait(pending, perform);
}

extern "C" void qtrain_emulate_wgmma_commit() { wgmmaReads.commit(); }

/// Completes the thread's committed wgmma groups but the `pending` newest:
/// the shared memory they read is free again.
extern "C" void qtrain_emulate_wgmma_wait(int64_t pending) {
  std::lock_guard<std::mutex> guard(inUseLock);
  wgmmaReads.wait(pending, [](const Range &range) {
    auto it = inUse.find(range);
    if (--it->second == 0)
      inUse.erase(it);
  });
}

extern "C" void qtrain_emulate_async_exit() {
  if (!copies.empty())
    fail("a thread ended with cp.async copies it did not wait for");
  if (!wgmmaReads.empty())
    fail("a thread ended with wgmma groups it did not wait for");
  copies = {};
  wgmmaReads = {};
}
