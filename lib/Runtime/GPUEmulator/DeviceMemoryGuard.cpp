//===- DeviceMemoryGuard.cpp - host code must not touch device memory -----===//
//
// On a GPU, host code that reads or writes a device buffer (cuMemAlloc)
// crashes, or worse, reads garbage; in the emulator every buffer is host
// memory, so such a bug would go unseen. emulate-gpu-launches-on-cpu
// therefore allocates each device buffer on pages of its own and registers
// it here: its pages are inaccessible except while emulated device code (a
// kernel, a gpu.memcpy) runs, and a host access outside that faults into
// the handler below, which names the buffer before the process dies.
// Managed buffers are registered too (open to the host), so that each
// free matches its allocation: gpu.dealloc of a host buffer, or free() of
// a GPU one, fails here as the driver or the C library would on a GPU.
//
// Host code runs on one thread; kernels' OpenMP teams run inside
// begin/end, when every buffer is accessible, so no fault is expected
// there.
//
//===----------------------------------------------------------------------===//

#include "AsyncOperations.h"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sys/mman.h>
#include <unistd.h>

namespace {

/// GPU buffers by first address: their sizes (page-rounded for device
/// buffers) and whether they are device memory.
struct Buffer {
  uint64_t bytes;
  bool device;
};
std::map<uintptr_t, Buffer> &gpuBuffers() {
  static std::map<uintptr_t, Buffer> buffers;
  return buffers;
}

[[noreturn]] void fail(const char *message, int64_t address) {
  char text[256];
  std::snprintf(text, sizeof(text), "%s (%#lx)", message,
                static_cast<unsigned long>(address));
  qtrain::emulator::fail(text);
}

struct sigaction previousHandler;
bool handlerInstalled = false;

void setAccess(uintptr_t address, uint64_t bytes, bool accessible) {
  if (mprotect(reinterpret_cast<void *>(address), bytes,
               accessible ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) {
    std::perror("qtrain GPU emulator: mprotect of a device buffer");
    std::abort();
  }
}

/// The device buffer holding `address`, if any.
const std::pair<const uintptr_t, Buffer> *deviceBufferAt(uintptr_t address) {
  auto &buffers = gpuBuffers();
  auto it = buffers.upper_bound(address);
  if (it == buffers.begin())
    return nullptr;
  --it;
  return it->second.device && address < it->first + it->second.bytes ? &*it
                                                                     : nullptr;
}

void onFault(int signal, siginfo_t *info, void *context) {
  auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  if (const auto *buffer = deviceBufferAt(address)) {
    char message[256];
    int length = std::snprintf(
        message, sizeof(message),
        "qtrain GPU emulator: host code accessed device memory at %#lx "
        "(byte %lu of a %lu-byte gpu.alloc buffer); only kernels and "
        "gpu.memcpy may\n",
        static_cast<unsigned long>(address),
        static_cast<unsigned long>(address - buffer->first),
        static_cast<unsigned long>(buffer->second.bytes));
    if (length > 0)
      (void)!write(STDERR_FILENO, message, length);
  }
  // The previous handler (LLVM's stack trace, or the default crash) takes
  // the fault when the instruction runs again.
  sigaction(SIGSEGV, &previousHandler, nullptr);
  (void)signal;
  (void)context;
}

} // namespace

/// Registers the GPU buffer [address, address + bytes); a device one
/// (page-aligned and page-rounded) is closed to host code.
extern "C" void qtrain_emulate_gpu_alloc(int64_t address, int64_t bytes,
                                         bool device) {
  if (device && !handlerInstalled) {
    struct sigaction handler = {};
    handler.sa_sigaction = onFault;
    handler.sa_flags = SA_SIGINFO;
    sigemptyset(&handler.sa_mask);
    sigaction(SIGSEGV, &handler, &previousHandler);
    handlerInstalled = true;
  }
  gpuBuffers()[uintptr_t(address)] = {uint64_t(bytes), device};
  if (device)
    setAccess(uintptr_t(address), uint64_t(bytes), /*accessible=*/false);
}

/// gpu.dealloc: opens a device buffer before the allocator writes there.
extern "C" void qtrain_emulate_gpu_free(int64_t address) {
  auto &buffers = gpuBuffers();
  auto it = buffers.find(uintptr_t(address));
  if (it == buffers.end())
    fail("gpu.dealloc of a buffer that gpu.alloc did not make", address);
  if (it->second.device)
    setAccess(it->first, it->second.bytes, /*accessible=*/true);
  buffers.erase(it);
}

/// memref.dealloc in host code: free() of a GPU buffer would crash.
extern "C" void qtrain_emulate_host_free(int64_t address) {
  if (gpuBuffers().count(uintptr_t(address)))
    fail("memref.dealloc (free) of a gpu.alloc buffer", address);
}

/// Device code (a kernel, a copy) runs between begin and end.
extern "C" void qtrain_emulate_device_begin() {
  for (auto &[address, buffer] : gpuBuffers())
    if (buffer.device)
      setAccess(address, buffer.bytes, /*accessible=*/true);
}

extern "C" void qtrain_emulate_device_end() {
  for (auto &[address, buffer] : gpuBuffers())
    if (buffer.device)
      setAccess(address, buffer.bytes, /*accessible=*/false);
}

// What drivers call (runtime::DeviceMemory) to keep the buffers of
// `qtrain.device_entry` functions on the emulated device, as
// qtrainCudaAllocate, qtrainCudaRelease and qtrainCudaCopy do on a GPU.

/// A device buffer of `bytes` on pages of its own, closed to host code.
extern "C" void *qtrain_emulate_device_alloc(uint64_t bytes) {
  const uint64_t page = sysconf(_SC_PAGESIZE);
  uint64_t rounded = (std::max<uint64_t>(bytes, 1) + page - 1) / page * page;
  void *buffer = std::aligned_alloc(page, rounded);
  if (buffer)
    qtrain_emulate_gpu_alloc(reinterpret_cast<int64_t>(buffer), rounded,
                             /*device=*/true);
  return buffer;
}

extern "C" void qtrain_emulate_device_free(void *buffer) {
  if (!buffer)
    return;
  qtrain_emulate_gpu_free(reinterpret_cast<int64_t>(buffer));
  std::free(buffer);
}

/// A copy to, from or between device buffers: device work, so the pages
/// are open while it runs.
extern "C" void qtrain_emulate_device_copy(void *dst, const void *src,
                                           uint64_t bytes) {
  qtrain_emulate_device_begin();
  std::memcpy(dst, src, bytes);
  qtrain_emulate_device_end();
}
