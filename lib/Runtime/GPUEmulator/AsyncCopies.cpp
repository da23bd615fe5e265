//===- AsyncCopies.cpp - cp.async for kernels run on CPU threads ----------===//
//
// PTX `cp.async` (global to shared memory, sm_80+) as emulated kernels call
// it: each copy waits in its thread's queue until a `cp.async.wait_group`
// lets its commit group complete, the latest moment the PTX ISA allows.
// A kernel that reads shared memory before it waits for the copy that
// writes it therefore reads stale bytes here too, and its results differ
// from the CPU lowering's; one that copied at once would hide that race.
//
// Emulated threads run as OpenMP threads, one CPU thread each for the
// whole block, so a thread's queue is thread-local. A thread must not end
// with copies in flight (`qtrain_emulate_cp_async_exit`): their bytes
// would land after the block is gone.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

namespace {

struct Copy {
  int64_t destination, source, bytes, sourceBytes;
};

/// This thread's copies, in the groups it committed, oldest first, and
/// those it has not committed yet.
thread_local std::deque<std::vector<Copy>> committed;
thread_local std::vector<Copy> uncommitted;

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

extern "C" void qtrain_emulate_cp_async(int64_t destination, int64_t source,
                                        int64_t bytes, int64_t sourceBytes) {
  uncommitted.push_back({destination, source, bytes, sourceBytes});
}

extern "C" void qtrain_emulate_cp_async_commit() {
  committed.push_back(std::move(uncommitted));
  uncommitted.clear();
}

/// Completes the thread's committed groups but the `pending` newest.
extern "C" void qtrain_emulate_cp_async_wait(int64_t pending) {
  while (int64_t(committed.size()) > pending) {
    for (const Copy &copy : committed.front())
      perform(copy);
    committed.pop_front();
  }
}

extern "C" void qtrain_emulate_cp_async_exit() {
  bool inFlight = !uncommitted.empty();
  for (const std::vector<Copy> &group : committed)
    inFlight |= !group.empty();
  if (inFlight) {
    std::fprintf(stderr, "qtrain GPU emulator: a thread ended with cp.async "
                         "copies it did not wait for\n");
    std::abort();
  }
  committed.clear();
}
