//===- FlatBuffer.cpp - A flat argument buffer, host and device -----------===//

#include "FlatBuffer.h"

namespace qtrain::train {

FlatBuffer::FlatBuffer(const runtime::DeviceMemory &memory, int64_t size,
                       bool pinned)
    : host(size), memory(memory) {
  device = memory.isHost()
               ? host.data()
               : static_cast<float *>(memory.allocate(size * sizeof(float)));
  this->pinned = pinned && !memory.isHost() &&
                 memory.pin(host.data(), size * sizeof(float));
}

FlatBuffer::~FlatBuffer() {
  // Released after the device's queued work (the copies to and from the
  // pinned host values among it).
  if (device)
    memory.release(device); // nothing for host memory
  if (pinned)
    memory.unpin(host.data());
}

StridedMemRefType<float, 1> FlatBuffer::memref() const {
  return {device, device, 0, {int64_t(host.size())}, {1}};
}

void FlatBuffer::upload(int64_t offset, int64_t size) {
  if (!memory.isHost())
    memory.copy(device + offset, host.data() + offset, size * sizeof(float));
}

void FlatBuffer::download(int64_t offset, int64_t size) {
  if (!memory.isHost())
    memory.copy(host.data() + offset, device + offset, size * sizeof(float));
}

void FlatBuffer::uploadAsync(int64_t offset, int64_t size) {
  if (!memory.isHost())
    memory.copyAsync(device + offset, host.data() + offset,
                     size * sizeof(float));
}

void FlatBuffer::downloadAsync(int64_t offset, int64_t size) {
  if (!memory.isHost())
    memory.copyAsync(host.data() + offset, device + offset,
                     size * sizeof(float));
}

void FlatBuffer::upload(const float *values, int64_t offset, int64_t size) {
  memory.copy(device + offset, values, size * sizeof(float));
}

void FlatBuffer::uploadAsync(const float *values, int64_t offset,
                             int64_t size) {
  memory.copyAsync(device + offset, values, size * sizeof(float));
}

void FlatBuffer::copyFrom(const FlatBuffer &src, llvm::ArrayRef<Span> spans) {
  for (size_t i = 0; i < spans.size();) {
    // Spans the same distance apart in both buffers go in one copy, with
    // the (unused) elements between them.
    Span run = spans[i++];
    for (; i < spans.size() && spans[i].from >= run.from + run.size &&
           spans[i].from - run.from == spans[i].to - run.to;
         ++i)
      run.size = spans[i].from + spans[i].size - run.from;
    memory.copy(device + run.to, src.device + run.from,
                run.size * sizeof(float));
  }
}

} // namespace qtrain::train
