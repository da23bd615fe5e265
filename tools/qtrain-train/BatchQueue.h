//===- BatchQueue.h - Training batches prepared on a thread -----*- C++ -*-===//
//
// Where steps overlap on a GPU, the host queues one step's launches while
// the device runs the step before, and a step costs the host's time when
// that exceeds the device's. Normalizing a batch's pixels is a good part of
// the host's share; here a thread of its own does it, for the steps ahead,
// into page-locked slots that the step's upload copies from.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_TOOLS_QTRAIN_TRAIN_BATCHQUEUE_H
#define QTRAIN_TOOLS_QTRAIN_TRAIN_BATCHQUEUE_H

#include "Dataset.h"
#include "FlatBuffer.h"

#include "llvm/ADT/SmallVector.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace qtrain::train {

/// Where a step's batch goes in its flat input buffer.
struct BatchLayout {
  /// Offsets of the images (normalized pixels, image after image), the
  /// one-hot labels (`classes` an image) and the learning rate.
  int64_t images, labels, learningRate;
  int64_t batch, classes;
  /// The runs of elements [offset, offset + size) that hold them, each
  /// uploaded by one copy (elements between the slots included).
  llvm::SmallVector<std::pair<int64_t, int64_t>> runs;
};

/// The batches of `epochs` epochs over the first `count` images of `data`,
/// shuffled at each epoch's start by one generator seeded with `seed` (the
/// first `count` entries of an order that starts as 0, 1, ...), with the
/// learning rate `learningRate(step)` of the step's index over the run.
/// A thread prepares them in order, a few steps ahead of the step that
/// takes them.
class BatchQueue {
public:
  BatchQueue(const runtime::DeviceMemory &memory, const Split &data,
             BatchLayout layout, int64_t count, int64_t epochs, unsigned seed,
             std::function<float(int64_t)> learningRate);
  ~BatchQueue();
  BatchQueue(const BatchQueue &) = delete;
  BatchQueue &operator=(const BatchQueue &) = delete;

  /// Copies the next step's batch into `buffer`, its runs queued behind the
  /// device's work with `async` (see FlatBuffer::uploadAsync): after
  /// waiting for the batch where the thread has not prepared it yet.
  void upload(FlatBuffer &buffer, bool async);
  /// The copies of the oldest upload not yet released are done (a fence
  /// queued after them was waited for): its slot may take another batch.
  void release();

private:
  /// Slots: the batch being uploaded, the one the previous step (still
  /// running) read, and the next.
  static constexpr int64_t kSlots = 3;
  void prepare();
  /// A slot's element for element `offset` of the flat buffer.
  int64_t staged(int64_t offset) const;

  const runtime::DeviceMemory &memory;
  const Split &data;
  BatchLayout layout;
  int64_t count, steps, stepsPerEpoch;
  unsigned seed;
  std::function<float(int64_t)> learningRate;
  std::vector<float, PageAllocator<float>> slots[kSlots];
  bool pinned[kSlots] = {};

  std::mutex mutex;
  std::condition_variable changed;
  // Batches prepared and released so far, under `mutex`: the thread fills a
  // slot while fewer than kSlots batches are prepared and not released.
  int64_t prepared = 0, released = 0;
  bool stopping = false;
  // Batches uploaded so far: the loop's alone (upload()).
  int64_t uploaded = 0;
  std::thread worker;
};

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_BATCHQUEUE_H
