//===- DeviceMemory.cpp - Buffers that stay on the device -----------------===//

#include "qtrain/Runtime/DeviceMemory.h"

#include "qtrain/Runtime/CudaDevice.h"

#include "llvm/Support/DynamicLibrary.h"

#include <cassert>
#include <cstring>

using namespace llvm;

namespace qtrain::runtime {

Expected<void *> librarySymbol(StringRef path, const char *name) {
  std::string error;
  auto library =
      sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(), &error);
  if (!library.isValid())
    return createStringError("cannot load " + path + ": " + error);
  if (void *address = library.getAddressOfSymbol(name))
    return address;
  return createStringError(path + " has no " + name);
}

Expected<DeviceMemory> DeviceMemory::open(const Target &target) {
  DeviceMemory memory;
  StringRef library;
  const char *names[3];
  switch (target.device) {
  case Target::Device::cpu:
    return memory;
  case Target::Device::cuda:
    library = cudaRuntimeLibrary();
    if (library.empty())
      return createStringError("qtrain was built without the CUDA toolkit: "
                               "there is no libqtrain_cuda_runtime.so");
    names[0] = "qtrainCudaAllocate";
    names[1] = "qtrainCudaRelease";
    names[2] = "qtrainCudaCopy";
    break;
  case Target::Device::gpuEmulator:
#ifdef QTRAIN_GPU_EMULATOR
    library = QTRAIN_GPU_EMULATOR;
#else
    return createStringError("qtrain was built without libomp: no GPU "
                             "emulator");
#endif
    names[0] = "qtrain_emulate_device_alloc";
    names[1] = "qtrain_emulate_device_free";
    names[2] = "qtrain_emulate_device_copy";
    break;
  }
  // Each function pointer from its symbol; the first one missing is the
  // error.
  Error missing = Error::success();
  auto bind = [&](auto &fn, const char *name) {
    if (missing)
      return;
    Expected<void *> symbol = librarySymbol(library, name);
    if (!symbol) {
      missing = symbol.takeError();
      return;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(*symbol);
  };
  bind(memory.allocateFn, names[0]);
  bind(memory.releaseFn, names[1]);
  bind(memory.copyFn, names[2]);
  if (target.device == Target::Device::cuda) { // the runtime's queue
    bind(memory.copyAsyncFn, "qtrainCudaCopyAsync");
    bind(memory.pinFn, "qtrainCudaPinHost");
    bind(memory.unpinFn, "qtrainCudaUnpinHost");
    bind(memory.fenceFn, "qtrainCudaFence");
    bind(memory.waitFn, "qtrainCudaWait");
    bind(memory.recordFn, "qtrainCudaRecord");
    bind(memory.endRecordingFn, "qtrainCudaEndRecording");
    bind(memory.replayFn, "qtrainCudaReplay");
    bind(memory.forgetFn, "qtrainCudaForgetRecording");
  }
  if (missing)
    return std::move(missing);
  return memory;
}

void *DeviceMemory::allocate(uint64_t bytes) const {
  assert(!isHost() && "host memory is the driver's own");
  return allocateFn(bytes);
}

void DeviceMemory::release(void *buffer) const {
  if (!isHost())
    releaseFn(buffer);
}

void DeviceMemory::copy(void *dst, const void *src, uint64_t bytes) const {
  if (isHost())
    std::memmove(dst, src, bytes);
  else
    copyFn(dst, src, bytes);
}

void DeviceMemory::copyAsync(void *dst, const void *src, uint64_t bytes) const {
  if (copyAsyncFn)
    copyAsyncFn(dst, src, bytes);
  else
    copy(dst, src, bytes);
}

bool DeviceMemory::pin(void *host, uint64_t bytes) const {
  return !pinFn || pinFn(host, bytes);
}

void DeviceMemory::unpin(void *host) const {
  if (unpinFn)
    unpinFn(host);
}

DeviceMemory::Fence DeviceMemory::fence() const {
  return fenceFn ? fenceFn() : nullptr;
}

void DeviceMemory::wait(Fence fence) const {
  if (waitFn && fence)
    waitFn(fence);
}

bool DeviceMemory::record() const { return recordFn && recordFn(); }

DeviceMemory::Recording DeviceMemory::endRecording() const {
  assert(endRecordingFn && "no recording without record()");
  return endRecordingFn();
}

void DeviceMemory::replay(Recording recording) const {
  assert(replayFn && recording && "nothing recorded to replay");
  replayFn(recording);
}

void DeviceMemory::forget(Recording recording) const {
  if (forgetFn && recording)
    forgetFn(recording);
}

} // namespace qtrain::runtime
