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
#include "llvm/Support/ErrorHandling.h"

#include <cstdlib>
#include <vector>

namespace qtrain::train {

/// Memory in whole pages of its own: page-locking one buffer's host values
/// (FlatBuffer's `pinned`) must lock no other buffer's pages, which the
/// driver would refuse once those are locked too.
template <typename T> struct PageAllocator {
  using value_type = T;
  static constexpr size_t kPage = 4096;
  PageAllocator() = default;
  template <typename U> PageAllocator(const PageAllocator<U> &) {}
  T *allocate(size_t n) {
    size_t bytes = (n * sizeof(T) + kPage - 1) / kPage * kPage;
    void *p = std::aligned_alloc(kPage, bytes);
    if (!p)
      llvm::report_bad_alloc_error("flat buffer's host values");
    return static_cast<T *>(p);
  }
  void deallocate(T *p, size_t) { std::free(p); }
  bool operator==(const PageAllocator &) const { return true; }
};

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
  /// With `pinned`, the host values are page-locked where the device
  /// allows, for uploadAsync and downloadAsync.
  FlatBuffer(const runtime::DeviceMemory &memory, int64_t size,
             bool pinned = false);
  ~FlatBuffer();
  FlatBuffer(const FlatBuffer &) = delete;
  FlatBuffer &operator=(const FlatBuffer &) = delete;

  /// False when the device had no memory for it.
  bool valid() const { return device; }
  /// Whether the host values are page-locked (asked for, and allowed).
  bool isPinned() const { return pinned; }
  std::vector<float, PageAllocator<float>> host;
  /// The descriptor compiled code takes.
  StridedMemRefType<float, 1> memref() const;
  /// Host elements [offset, offset + size) to the device, or back.
  void upload(int64_t offset, int64_t size);
  void download(int64_t offset, int64_t size);
  /// The same copies queued behind the device's work
  /// (runtime::DeviceMemory::copyAsync): the host elements must be left
  /// alone until a fence after them is waited for.
  void uploadAsync(int64_t offset, int64_t size);
  void downloadAsync(int64_t offset, int64_t size);
  /// `size` elements of other host memory, `values`, to elements [offset,
  /// offset + size) of the copy that compiled code reads (the host values
  /// too on the CPU): returning once done, or queued as uploadAsync is.
  void upload(const float *values, int64_t offset, int64_t size);
  void uploadAsync(const float *values, int64_t offset, int64_t size);
  /// Device elements of `src` to device elements of this buffer, each
  /// span's; consecutive spans as far apart in both buffers are copied in
  /// one, with the elements between them.
  void copyFrom(const FlatBuffer &src, llvm::ArrayRef<Span> spans);

private:
  const runtime::DeviceMemory &memory;
  float *device;
  bool pinned = false;
};

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_FLATBUFFER_H
