//===- FlatBuffer.h - A flat argument buffer, host and device ---*- C++ -*-===//
//
// The training step and the evaluation function take their tensors in one
// flat buffer (FlatInterface.h). On a GPU target they are
// `qtrain.device_entry` functions: the driver passes device memory, and so
// keeps parameters and optimizer state on the device from step to step,
// moving only a batch in and the loss out.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_TOOLS_QTRAIN_TRAIN_FLATBUFFER_H
#define QTRAIN_TOOLS_QTRAIN_TRAIN_FLATBUFFER_H

#include "qtrain/Runtime/DeviceMemory.h"

#include "llvm/ADT/ArrayRef.h"

#include <vector>

namespace qtrain::train {

/// Elements [from, from + size) of one flat buffer to [to, to + size) of
/// another.
struct Span {
  int64_t from, to, size;
};

/// A flat buffer's host values and the copy that compiled code reads and
/// writes: device memory on a GPU target, the host values themselves on
/// the CPU (uploads and downloads then copy nothing).
class FlatBuffer {
public:
  FlatBuffer(const runtime::DeviceMemory &memory, int64_t size);
  ~FlatBuffer();
  FlatBuffer(const FlatBuffer &) = delete;
  FlatBuffer &operator=(const FlatBuffer &) = delete;

  /// False when the device had no memory for it.
  bool valid() const { return device; }
  std::vector<float> host;
  /// The descriptor compiled code takes.
  StridedMemRefType<float, 1> memref() const;
  /// Host elements [offset, offset + size) to the device, or back.
  void upload(int64_t offset, int64_t size);
  void download(int64_t offset, int64_t size);
  /// Device elements of `src` to device elements of this buffer, each
  /// span's; consecutive spans as far apart in both buffers are copied in
  /// one, with the elements between them.
  void copyFrom(const FlatBuffer &src, llvm::ArrayRef<Span> spans);

private:
  const runtime::DeviceMemory &memory;
  float *device;
};

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_FLATBUFFER_H
