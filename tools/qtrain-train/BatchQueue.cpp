//===- BatchQueue.cpp - Training batches prepared on a thread -------------===//

#include "BatchQueue.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace qtrain::train {

BatchQueue::BatchQueue(const runtime::DeviceMemory &memory, const Split &data,
                       BatchLayout layout, int64_t count, int64_t epochs,
                       unsigned seed,
                       std::function<float(int64_t)> learningRate)
    : memory(memory), data(data), layout(std::move(layout)), count(count),
      seed(seed), learningRate(std::move(learningRate)) {
  stepsPerEpoch = count / this->layout.batch;
  steps = epochs * stepsPerEpoch;
  int64_t size = 0;
  for (auto [offset, n] : this->layout.runs)
    size += n;
  for (int64_t k = 0; k < kSlots; ++k) {
    slots[k].resize(size);
    // Queued copies from pageable memory would make the host wait.
    pinned[k] =
        !memory.isHost() && memory.pin(slots[k].data(), size * sizeof(float));
  }
  if (steps > 0)
    worker = std::thread([this] { prepare(); });
}

BatchQueue::~BatchQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  if (worker.joinable())
    worker.join();
  // Copies queued from the slots end before the slots do.
  memory.wait(memory.fence());
  for (int64_t k = 0; k < kSlots; ++k)
    if (pinned[k])
      memory.unpin(slots[k].data());
}

int64_t BatchQueue::staged(int64_t offset) const {
  int64_t at = 0;
  for (auto [first, size] : layout.runs) {
    if (offset >= first && offset < first + size)
      return at + offset - first;
    at += size;
  }
  llvm_unreachable("a batch's slot outside its runs");
}

void BatchQueue::prepare() {
  std::vector<int64_t> order(data.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 shuffle(seed);
  int64_t images = staged(layout.images), labels = staged(layout.labels),
          rate = staged(layout.learningRate);
  int64_t batch = layout.batch, classes = layout.classes;
  for (int64_t step = 0; step < steps; ++step) {
    int64_t s = step % stepsPerEpoch;
    if (s == 0)
      std::shuffle(order.begin(), order.begin() + count, shuffle);
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return stopping || step - released < kSlots; });
      if (stopping)
        return;
    }
    float *slot = slots[step % kSlots].data();
    normalizeImages(data, order, s * batch, batch, slot + images);
    float *y = slot + labels;
    std::fill(y, y + batch * classes, 0.0f);
    for (int64_t b = 0; b < batch; ++b)
      y[b * classes + data.labels[order[s * batch + b]]] = 1.0f;
    slot[rate] = learningRate(step);
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++prepared;
    }
    changed.notify_all();
  }
}

void BatchQueue::upload(FlatBuffer &buffer, bool async) {
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return prepared > uploaded; });
  }
  const float *slot = slots[uploaded % kSlots].data();
  for (auto [offset, size] : layout.runs) {
    if (async)
      buffer.uploadAsync(slot, offset, size);
    else
      buffer.upload(slot, offset, size);
    slot += size;
  }
  ++uploaded;
}

void BatchQueue::release() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++released;
  }
  changed.notify_all();
}

} // namespace qtrain::train
