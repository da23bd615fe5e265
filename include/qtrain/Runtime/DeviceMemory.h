//===- DeviceMemory.h - Buffers that stay on the device ---------*- C++ -*-===//
//
// A `qtrain.device_entry` function (addFlatInterface's deviceEntry) takes
// buffers in the memory its kernels compute in, so that a driver calling it
// again and again (qtrain-train's training loop) keeps parameters and
// optimizer state there and moves only a batch in and a loss out. This is
// that memory, for each target: device memory of the CUDA GPU (allocated
// by the CUDA runtime library's block cache), the GPU emulator's device
// buffers (pages closed to host code, as device memory is to a CPU), or,
// for the CPU, host memory itself, where copies between host and device
// are no copies at all.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_DEVICEMEMORY_H
#define QTRAIN_RUNTIME_DEVICEMEMORY_H

#include "qtrain/Runtime/JitModule.h"

#include "llvm/Support/Error.h"

#include <cstdint>

namespace qtrain::runtime {

class DeviceMemory {
public:
  /// The memory of `target`'s compiled code; fails where its runtime
  /// library is missing. For a GPU emulator target, after a JitModule for
  /// it was compiled (which loads the emulator library).
  static llvm::Expected<DeviceMemory> open(const Target &target);

  /// Whether device buffers are host memory (the CPU target): a driver
  /// then passes its host buffers and copies nothing.
  bool isHost() const { return !allocateFn; }
  /// `bytes` of device memory, or null when the device has none left.
  /// Not for host memory.
  void *allocate(uint64_t bytes) const;
  void release(void *buffer) const;
  /// Copies `bytes` from `src` to `dst`, each a device buffer or host
  /// memory, after the device work queued so far; returns once done. A GPU
  /// error it meets is reported through takeCudaError.
  void copy(void *dst, const void *src, uint64_t bytes) const;

private:
  void *(*allocateFn)(uint64_t) = nullptr;
  void (*releaseFn)(void *) = nullptr;
  void (*copyFn)(void *, const void *, uint64_t) = nullptr;
};

/// The address of `name` in the shared library at `path`, which is loaded
/// (for the life of the process) where it is not yet.
llvm::Expected<void *> librarySymbol(llvm::StringRef path, const char *name);

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_DEVICEMEMORY_H
