//===- MBarriers.cpp - mbarrier objects and TMA copies on CPU threads -----===//
//
// The warp-specialized wgmma kernels (sm_90a) synchronize through mbarrier
// objects in shared memory, and their producer thread copies operand tiles
// with the TMA unit (cp.async.bulk.tensor), whose copies complete
// transactions on an mbarrier. This file emulates both from the PTX ISA
// ("Parallel Synchronization and Communication Instructions: mbarrier",
// "cp.async.bulk.tensor") and the CUDA driver's tensor maps:
//
// * An mbarrier's current phase completes when its pending arrivals and its
//   pending transaction bytes are both zero; then the next phase begins,
//   expecting the init count's arrivals again. `try_wait.parity p` returns
//   once the phase of parity p has completed (the current phase's parity
//   differs from p); the kernels loop on it, the emulator blocks.
// * A TMA copy is performed at the latest moment the PTX ISA allows: when a
//   thread waits on its mbarrier and every expected arrival has happened (the
//   phase cannot complete before the copy). A kernel that reads a stage
//   without waiting for its mbarrier reads stale bytes; a copy into shared
//   memory that an issued wgmma has not been waited for stops the program,
//   as cp.async's do (AsyncOperations.cpp).
// * A wait that sees no progress for two minutes (QTRAIN_GPU_EMULATOR_HANG_
//   SECONDS) stops the program: on a GPU the kernel would hang (an arrival
//   or a copy short of a phase).
//
// The emulated threads of a block are CPU threads (an OpenMP team), so the
// barriers' state is shared, behind one lock.
//
//===----------------------------------------------------------------------===//

#include "AsyncOperations.h"

#include "qtrain/Runtime/TensorMap.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

using mlir::qtrain::TensorMapFields;
using qtrain::emulator::fail;

namespace {

struct TMACopy {
  int64_t destination;
  const TensorMapFields *map;
  int64_t coordinates[3];
};

struct MBarrier {
  int64_t count = 0, pendingArrivals = 0, pendingBytes = 0, phase = 0;
  std::vector<TMACopy> copies;
};

/// How long a wait may see no progress before the program stops.
std::chrono::seconds hangTimeout() {
  static const std::chrono::seconds timeout = [] {
    const char *seconds = std::getenv("QTRAIN_GPU_EMULATOR_HANG_SECONDS");
    return std::chrono::seconds(seconds ? std::atoll(seconds) : 120);
  }();
  return timeout;
}

std::mutex lock;
std::condition_variable progress;
/// By shared-memory address (the emulated block's host address).
std::map<int64_t, MBarrier> barriers;

MBarrier &barrierAt(int64_t address) {
  auto it = barriers.find(address);
  if (it == barriers.end())
    fail("mbarrier operation on an address that mbarrier.init did not "
         "initialize");
  return it->second;
}

/// Begins the next phase where the current one is complete.
void completePhase(MBarrier &barrier) {
  if (barrier.pendingArrivals > 0 || barrier.pendingBytes > 0)
    return;
  ++barrier.phase;
  barrier.pendingArrivals = barrier.count;
  progress.notify_all();
}

void arrive(MBarrier &barrier) {
  if (barrier.pendingArrivals == 0)
    fail("mbarrier.arrive on a phase that expects no more arrivals");
  --barrier.pendingArrivals;
  completePhase(barrier);
}

/// Copies the box at `copy.coordinates` into shared memory, in order
/// (dimension 0 fastest), elements outside the tensor zeros, each where
/// the map's swizzle mode puts it (the emulated shared memory is aligned
/// to its window, so host addresses swizzle as shared ones do).
void perform(const TMACopy &copy) {
  const TensorMapFields &map = *copy.map;
  int64_t destination = copy.destination;
  int64_t bytes = map.elementBytes;
  for (int64_t i2 = 0; i2 < map.box[2]; ++i2)
    for (int64_t i1 = 0; i1 < map.box[1]; ++i1)
      for (int64_t i0 = 0; i0 < map.box[0]; ++i0, destination += bytes) {
        auto *element = reinterpret_cast<char *>(
            mlir::qtrain::swizzledAddress(destination, map.swizzleBytes));
        int64_t at[3] = {copy.coordinates[0] + i0, copy.coordinates[1] + i1,
                         copy.coordinates[2] + i2};
        bool inside = true;
        int64_t offset = 0;
        for (int64_t d = 0; d < 3; ++d) {
          inside = inside && at[d] >= 0 && at[d] < map.dims[d];
          offset += at[d] * map.strides[d];
        }
        if (inside)
          std::memcpy(element,
                      reinterpret_cast<const char *>(map.address + offset),
                      bytes);
        else
          std::memset(element, 0, bytes);
      }
}

} // namespace

/// The emulator's tensor maps: records of their fields, never freed (the
/// same fields give the same record).
extern "C" int64_t qtrainTensorMap(int64_t address, int64_t elementBytes,
                                   int64_t rank, int64_t dim0, int64_t dim1,
                                   int64_t dim2, int64_t stride1,
                                   int64_t stride2, int64_t box0, int64_t box1,
                                   int64_t swizzleBytes) {
  static std::mutex mapsLock;
  static std::deque<TensorMapFields> maps;
  TensorMapFields fields;
  if (const char *error = mlir::qtrain::makeTensorMapFields(
          fields, address, elementBytes, rank, dim0, dim1, dim2, stride1,
          stride2, box0, box1, swizzleBytes))
    fail(error);
  std::lock_guard<std::mutex> guard(mapsLock);
  for (const TensorMapFields &map : maps)
    if (map == fields)
      return reinterpret_cast<int64_t>(&map);
  maps.push_back(fields);
  return reinterpret_cast<int64_t>(&maps.back());
}

extern "C" void qtrain_emulate_mbarrier_init(int64_t address, int64_t count) {
  if (address % 8 != 0)
    fail("mbarrier object not 8-byte aligned");
  if (count < 1)
    fail("mbarrier.init with a count below 1");
  std::lock_guard<std::mutex> guard(lock);
  MBarrier &barrier = barriers[address];
  barrier = MBarrier();
  barrier.count = barrier.pendingArrivals = count;
}

extern "C" void qtrain_emulate_mbarrier_arrive(int64_t address) {
  std::lock_guard<std::mutex> guard(lock);
  arrive(barrierAt(address));
}

extern "C" void qtrain_emulate_mbarrier_arrive_expect_tx(int64_t address,
                                                         int64_t bytes) {
  std::lock_guard<std::mutex> guard(lock);
  MBarrier &barrier = barrierAt(address);
  barrier.pendingBytes += bytes;
  arrive(barrier);
}

/// cp.async.bulk.tensor.{rank}d.shared::cluster.global.mbarrier::
/// complete_tx::bytes of the box at `c0`, `c1`, `c2` (the first `rank`
/// used) of the tensor map at `map` into shared memory at `destination`.
extern "C" void qtrain_emulate_tma_load(int64_t destination, int64_t map,
                                        int64_t mbarrier, int64_t rank,
                                        int64_t c0, int64_t c1, int64_t c2) {
  const auto *fields = reinterpret_cast<const TensorMapFields *>(map);
  if (rank != fields->rank)
    fail("cp.async.bulk.tensor with other dimensions than its tensor map");
  if (destination % 128 != 0)
    fail("cp.async.bulk.tensor into shared memory not 128-byte aligned");
  // Stricter than the PTX ISA (128 bytes): a box that starts within a
  // swizzle atom (8 rows) would be swizzled as its later rows, which no
  // kernel here means.
  if (fields->swizzleBytes != 0 && destination % (8 * fields->swizzleBytes))
    fail("swizzled cp.async.bulk.tensor into shared memory not aligned to "
         "its swizzle atom (8 rows)");
  qtrain::emulator::checkNotReadByWGMMA(
      destination, destination + fields->boxBytes(),
      "cp.async.bulk.tensor into shared memory that a wgmma still reads "
      "(issued, not yet waited for)");
  std::lock_guard<std::mutex> guard(lock);
  MBarrier &barrier = barrierAt(mbarrier);
  barrier.copies.push_back(
      {destination, fields, {c0, rank > 1 ? c1 : 0, rank > 2 ? c2 : 0}});
  progress.notify_all();
}

/// mbarrier.try_wait.parity in a loop: returns once the phase of parity
/// `parity` has completed.
extern "C" void qtrain_emulate_mbarrier_wait(int64_t address, int64_t parity) {
  std::unique_lock<std::mutex> guard(lock);
  while (true) {
    MBarrier &barrier = barrierAt(address);
    if (barrier.phase % 2 != parity % 2)
      return;
    if (barrier.pendingArrivals == 0 && !barrier.copies.empty()) {
      for (const TMACopy &copy : barrier.copies) {
        perform(copy);
        barrier.pendingBytes -= copy.map->boxBytes();
      }
      barrier.copies.clear();
      if (barrier.pendingBytes < 0)
        fail("TMA copies completed more bytes than their mbarrier expected");
      completePhase(barrier);
      continue;
    }
    if (progress.wait_for(guard, hangTimeout()) == std::cv_status::timeout)
      fail("an mbarrier phase did not complete: its arrivals or transaction "
           "bytes are short (a GPU would hang)");
  }
}
