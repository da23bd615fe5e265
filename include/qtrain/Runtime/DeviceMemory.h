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

  // A device with a queue (CUDA) runs work after the call that asked for it
  // returns: a `qtrain.device_entry` function returns with its kernels
  // queued (qtrain-async-gpu-launches), and so does copyAsync. Elsewhere
  // (the emulator, the CPU) work is done when its call returns, and these
  // are copy, nothing and nothing.

  /// The copy queued behind the work queued so far; returns at once. Host
  /// memory in it must be left alone until a fence after it is waited for.
  void copyAsync(void *dst, const void *src, uint64_t bytes) const;
  /// Page-locks host memory, so that copyAsync moves it while the host goes
  /// on (without, the device may make the host wait); false where the
  /// device refuses. `unpin` undoes it.
  bool pin(void *host, uint64_t bytes) const;
  void unpin(void *host) const;
  /// A point in the queue, after the work queued so far.
  using Fence = void *;
  Fence fence() const;
  /// Returns once the work before `fence` is done, and forgets `fence`.
  void wait(Fence fence) const;

  // A device with a queue (CUDA) may record the work queued between
  // record() and endRecording() instead of running it, and replay it: a
  // CUDA graph, queued by one call where the recorded host code made a
  // driver call for each kernel and buffer. A replay runs the same kernels
  // on the same buffers with the same scalars; the recorded code must not
  // wait for the device.

  /// Starts recording; false (nothing recorded) where the device cannot.
  bool record() const;
  using Recording = void *;
  /// The recorded work, or null where it could not be recorded (the
  /// error is the device's, for takeCudaError).
  Recording endRecording() const;
  void replay(Recording recording) const;
  /// Forgets `recording` once its replays are done.
  void forget(Recording recording) const;

private:
  void *(*allocateFn)(uint64_t) = nullptr;
  void (*releaseFn)(void *) = nullptr;
  void (*copyFn)(void *, const void *, uint64_t) = nullptr;
  // The queue's: null where there is none.
  void (*copyAsyncFn)(void *, const void *, uint64_t) = nullptr;
  bool (*pinFn)(void *, uint64_t) = nullptr;
  void (*unpinFn)(void *) = nullptr;
  void *(*fenceFn)() = nullptr;
  void (*waitFn)(void *) = nullptr;
  bool (*recordFn)() = nullptr;
  void *(*endRecordingFn)() = nullptr;
  void (*replayFn)(void *) = nullptr;
  void (*forgetFn)(void *) = nullptr;
};

/// The address of `name` in the shared library at `path`, which is loaded
/// (for the life of the process) where it is not yet.
llvm::Expected<void *> librarySymbol(llvm::StringRef path, const char *name);

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_DEVICEMEMORY_H
