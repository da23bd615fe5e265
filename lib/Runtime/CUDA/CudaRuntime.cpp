//===- CudaRuntime.cpp - The mgpu* entry points on the CUDA driver API ----===//
//
// Host code from upstream's gpu-to-llvm lowering (qtrain-lower-to-nvvm)
// calls these functions to load kernels, launch them and manage streams and
// memory. Upstream's implementation (mlir/lib/ExecutionEngine/
// CudaRuntimeWrappers.cpp, libmlir_cuda_runtime.so) is not packaged by
// Debian, so qtrain builds its own on the CUDA driver API when the toolkit
// is present. Same signatures. The generated code has no way to receive
// errors, so each is printed and the first is kept until a driver takes it
// (qtrainCudaTakeError; runtime::takeCudaError): a failed launch must not
// pass for a step that ran.
//
// It also times kernels, by name, when asked (QTRAIN_CUDA_PROFILE=1 prints
// a table at exit, each launch waited for; QTRAIN_CUDA_PROFILE=timeline
// waits for none and adds the GPU's idle time between launches;
// qtrainCudaProfile* read the times in-process).
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/BlockCache.h"
#include "qtrain/Runtime/TensorMap.h"

#include <cuda.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#define QTRAIN_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

using mlir::qtrain::TensorMapFields;

namespace {

/// The first error since a driver last took it (empty: none).
struct FirstError {
  std::mutex mutex;
  std::string message;
};

FirstError &firstError() {
  static FirstError error;
  return error;
}

void report(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = nullptr;
  cuGetErrorName(result, &name);
  std::string message =
      std::string(call) + " failed: " + (name ? name : "unknown error");
  std::fprintf(stderr, "qtrain CUDA runtime: %s\n", message.c_str());
  FirstError &error = firstError();
  std::lock_guard<std::mutex> lock(error.mutex);
  if (error.message.empty())
    error.message = std::move(message);
}

#define CHECK(call) report(call, #call)

/// The device of mgpuSetDefaultDevice, and a context on it that every entry
/// point makes current (the driver's primary context, shared with the
/// runtime API).
int defaultDevice = 0;

void registerProfilePrinter();

CUcontext context() {
  static CUcontext primary = [] {
    CHECK(cuInit(0));
    CUdevice device;
    CHECK(cuDeviceGet(&device, defaultDevice));
    CUcontext ctx = nullptr;
    CHECK(cuDevicePrimaryCtxRetain(&ctx, device));
    registerProfilePrinter();
    return ctx;
  }();
  CHECK(cuCtxSetCurrent(primary));
  return primary;
}

using qtrain::runtime::BlockCache;
using qtrain::runtime::BlockKind;

/// The driver's allocations for the block cache.
struct DriverBlocks final : qtrain::runtime::BlockBackend {
  void *allocate(uint64_t bytes, BlockKind kind) override {
    bool managed = kind == BlockKind::managed;
    CUdeviceptr pointer = 0;
    CUresult result =
        managed ? cuMemAllocManaged(&pointer, bytes, CU_MEM_ATTACH_GLOBAL)
                : cuMemAlloc(&pointer, bytes);
    // Out of memory is the cache's to handle (it frees what it holds and
    // asks again); other failures are errors.
    if (result != CUDA_ERROR_OUT_OF_MEMORY)
      report(result, managed ? "cuMemAllocManaged" : "cuMemAlloc");
    return result == CUDA_SUCCESS ? reinterpret_cast<void *>(pointer) : nullptr;
  }
  void release(void *block, BlockKind) override {
    // Frees reach the cache in stream order (mgpuMemFree): kernels queued
    // before them may still use the block.
    CHECK(cuCtxSynchronize());
    CHECK(cuMemFree(reinterpret_cast<CUdeviceptr>(block)));
  }
};

/// QTRAIN_CUDA_CACHE=0 turns the cache off: each gpu.alloc and gpu.dealloc
/// then reaches the driver, for tools that check its allocations. Never
/// destroyed: its blocks live until the process ends, and the profile
/// printed at exit reads its counts.
BlockCache &blockCache() {
  static BlockCache *cache = [] {
    const char *value = std::getenv("QTRAIN_CUDA_CACHE");
    return new BlockCache(*new DriverBlocks,
                          !value || std::strcmp(value, "0") != 0);
  }();
  return *cache;
}

/// The one stream of host code's GPU work (mgpuStreamCreate's), and of
/// the drivers' queued copies: each operation on it starts after the ones
/// before have finished. So a buffer freed on it may go to its next user at
/// once (mgpuMemFree), and a `qtrain.device_entry` function returns with its
/// kernels queued: the next call's work, and the copies that read its
/// results, are queued behind them. Non-blocking: the legacy stream's
/// copies (tensor maps) do not wait for it.
CUstream queue() {
  static CUstream stream = [] {
    context();
    CUstream created = nullptr;
    CHECK(cuStreamCreate(&created, CU_STREAM_NON_BLOCKING));
    return created;
  }();
  return stream;
}

/// Recorded graphs alive (qtrainCudaEndRecording): while any is, the
/// tensor maps are not freed.
std::atomic<int> liveRecordings{0};

/// Kernel times: each launch is bracketed by events on its stream and
/// waited for (launches are synchronous in qtrain's host code anyway).
struct KernelTime {
  std::string name;
  int64_t launches = 0;
  double milliseconds = 0;
  /// Each launch's time: the median is robust to the first launch, which
  /// includes loading the kernel's module (CUDA loads modules lazily).
  std::vector<float> samples;
};

/// A launch timed on the timeline: its events, read when the profile is.
struct TimelineLaunch {
  CUfunction function;
  CUevent start, stop;
};

struct Profile {
  std::mutex mutex;
  bool enabled = false;
  /// Launches are not waited for: their events are read at the end, and
  /// the gaps between consecutive launches are the GPU's idle time.
  bool timeline = false;
  std::unordered_map<CUfunction, std::string> names; // of loaded kernels
  std::vector<KernelTime> times;                     // by first launch
  std::unordered_map<CUfunction, size_t> index;      // into times
  std::vector<TimelineLaunch> pending;               // in launch order
};

Profile &profile() {
  static Profile p;
  return p;
}

/// Adds a launch of `function` taking `milliseconds` to `p`'s times.
void addTime(Profile &p, CUfunction function, double milliseconds) {
  auto [it, inserted] = p.index.try_emplace(function, p.times.size());
  if (inserted) {
    auto name = p.names.find(function);
    p.times.push_back(
        {name == p.names.end() ? "(unnamed)" : name->second, 0, 0, {}});
  }
  KernelTime &time = p.times[it->second];
  time.launches += 1;
  time.milliseconds += milliseconds;
  time.samples.push_back(float(milliseconds));
}

/// The median of `t`'s launches, in microseconds.
double medianMicroseconds(KernelTime t) {
  if (t.samples.empty())
    return 0;
  auto middle = t.samples.begin() + t.samples.size() / 2;
  std::nth_element(t.samples.begin(), middle, t.samples.end());
  return *middle * 1000.0;
}

/// Forgets the timeline's launches, destroying their events.
void releaseTimeline(Profile &p) {
  for (const TimelineLaunch &launch : p.pending) {
    CHECK(cuEventDestroy(launch.start));
    CHECK(cuEventDestroy(launch.stop));
  }
  p.pending.clear();
}

/// Reads the timeline's events into `p`'s times and prints the GPU's busy
/// and idle time: the gaps between one launch's end and the next one's
/// start, in all and those of 20 us or more (where the host waited, or
/// did other work, rather than queueing launches).
void readTimeline(Profile &p) {
  if (p.pending.empty())
    return;
  context();
  CHECK(cuCtxSynchronize());
  double busy = 0, idle = 0, longIdle = 0;
  int64_t longGaps = 0;
  for (size_t i = 0; i < p.pending.size(); ++i) {
    const TimelineLaunch &launch = p.pending[i];
    float milliseconds = 0;
    if (CUresult result =
            cuEventElapsedTime(&milliseconds, launch.start, launch.stop)) {
      report(result, "cuEventElapsedTime (the timeline's events)");
      break;
    }
    addTime(p, launch.function, milliseconds);
    busy += milliseconds;
    if (i > 0) {
      float gap = 0;
      CHECK(cuEventElapsedTime(&gap, p.pending[i - 1].stop, launch.start));
      gap = std::max(gap, 0.0f);
      idle += gap;
      if (gap >= 0.02f) {
        longIdle += gap;
        ++longGaps;
      }
    }
  }
  std::fprintf(stderr,
               "qtrain CUDA timeline: %zu launches, kernels %.3f ms, idle "
               "between them %.3f ms (%lld gaps of 20 us or more: %.3f ms)\n",
               p.pending.size(), busy, idle, static_cast<long long>(longGaps),
               longIdle);
  releaseTimeline(p);
}

void printProfile() {
  Profile &p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  readTimeline(p);
  std::fprintf(stderr, "qtrain CUDA kernel times:\n%12s %10s %10s  %s\n", "ms",
               "launches", "median us", "kernel");
  for (const KernelTime &t : p.times)
    std::fprintf(stderr, "%12.3f %10lld %10.1f  %s\n", t.milliseconds,
                 static_cast<long long>(t.launches), medianMicroseconds(t),
                 t.name.c_str());
  qtrain::runtime::BlockCacheStats memory = blockCache().stats();
  std::fprintf(stderr,
               "qtrain CUDA memory: %lld gpu.alloc, %lld from the driver, "
               "%llu bytes cached\n",
               static_cast<long long>(memory.allocations),
               static_cast<long long>(memory.backendAllocations),
               static_cast<unsigned long long>(memory.cachedBytes));
}

/// QTRAIN_CUDA_PROFILE (not empty, not 0) times kernels from the start and
/// prints them at exit: each launch waited for, or with `timeline` queued
/// as usual, its events read at exit along with the idle time between
/// launches.
const bool profileFromEnvironment = [] {
  const char *value = std::getenv("QTRAIN_CUDA_PROFILE");
  if (!value || !*value || std::strcmp(value, "0") == 0)
    return false;
  profile().enabled = true;
  profile().timeline = std::strcmp(value, "timeline") == 0;
  return true;
}();

/// Prints the profile at exit, registered once the driver is initialized:
/// exit handlers run in reverse order, so this one runs before the
/// driver's own, while the timeline's events can still be read.
void registerProfilePrinter() {
  if (profileFromEnvironment)
    std::atexit(printProfile);
}

} // namespace

/// Starts (`enable` != 0) or stops timing kernel launches; either way the
/// times so far are cleared.
QTRAIN_CUDA_EXPORT void qtrainCudaProfile(int32_t enable) {
  Profile &p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  releaseTimeline(p);
  p.enabled = enable != 0;
  p.times.clear();
  p.index.clear();
}

/// The number of kernels timed, and each one's name, launches and total
/// milliseconds, in the order of their first timed launch (null past the
/// end). On the timeline, the launches so far are waited for and read.
QTRAIN_CUDA_EXPORT int32_t qtrainCudaProfileSize() {
  Profile &p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  readTimeline(p);
  return int32_t(p.times.size());
}

QTRAIN_CUDA_EXPORT const char *
qtrainCudaProfileEntry(int32_t i, int64_t *launches, double *milliseconds) {
  Profile &p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (i < 0 || size_t(i) >= p.times.size())
    return nullptr;
  *launches = p.times[i].launches;
  *milliseconds = p.times[i].milliseconds;
  return p.times[i].name.c_str();
}

/// Whether a runtime call failed since the last call of this function; if
/// so, the first failure's message is copied into `message` (truncated to
/// `messageBytes`) and forgotten.
QTRAIN_CUDA_EXPORT int32_t qtrainCudaTakeError(char *message,
                                               int32_t messageBytes) {
  FirstError &error = firstError();
  std::lock_guard<std::mutex> lock(error.mutex);
  if (error.message.empty())
    return 0;
  std::snprintf(message, messageBytes, "%s", error.message.c_str());
  error.message.clear();
  return 1;
}

/// Device 0's name and compute capability, for drivers to check that there
/// is a GPU and to choose the chip to compile for. Unlike the mgpu* entry
/// points it returns errors: 0 on success, else the CUresult, with its name
/// in `name`.
QTRAIN_CUDA_EXPORT int qtrainCudaDevice(int32_t *major, int32_t *minor,
                                        int32_t *multiprocessors, char *name,
                                        int32_t nameBytes) {
  CUdevice device;
  CUresult result = cuInit(0);
  if (result == CUDA_SUCCESS)
    result = cuDeviceGet(&device, defaultDevice);
  if (result == CUDA_SUCCESS)
    result = cuDeviceGetName(name, nameBytes, device);
  if (result == CUDA_SUCCESS)
    result = cuDeviceGetAttribute(
        major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  if (result == CUDA_SUCCESS)
    result = cuDeviceGetAttribute(
        minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  if (result == CUDA_SUCCESS)
    result = cuDeviceGetAttribute(
        multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
  if (result != CUDA_SUCCESS) {
    const char *error = nullptr;
    cuGetErrorName(result, &error);
    std::snprintf(name, nameBytes, "%s", error ? error : "unknown error");
  }
  return int(result);
}

QTRAIN_CUDA_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  defaultDevice = device;
}

QTRAIN_CUDA_EXPORT CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  context();
  CUmodule module = nullptr;
  CHECK(cuModuleLoadData(&module, data));
  return module;
}

/// PTX, compiled by the driver at `optLevel` (0 to 4).
QTRAIN_CUDA_EXPORT CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  context();
  CUmodule module = nullptr;
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel))};
  CHECK(cuModuleLoadDataEx(&module, data, 1, options, values));
  return module;
}

namespace {
/// The dynamic shared memory each kernel may take (beyond the default 48
/// KiB), as set: a training step launches the same GEMM kernels every
/// step, and setting the attribute again would be a driver call on each
/// launch's path. Forgotten when a module is unloaded (a later function
/// may reuse a handle).
struct DynamicSharedLimits {
  std::mutex mutex;
  std::unordered_map<CUfunction, int32_t> bytes;
};

DynamicSharedLimits &dynamicSharedLimits() {
  static DynamicSharedLimits limits;
  return limits;
}

/// Lets `function` take `bytes` of dynamic shared memory.
void allowDynamicShared(CUfunction function, int32_t bytes) {
  DynamicSharedLimits &limits = dynamicSharedLimits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  int32_t &allowed = limits.bytes[function];
  if (allowed >= bytes)
    return;
  CHECK(cuFuncSetAttribute(
      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
  allowed = bytes;
}
} // namespace

QTRAIN_CUDA_EXPORT void mgpuModuleUnload(CUmodule module) {
  CHECK(cuModuleUnload(module));
  DynamicSharedLimits &limits = dynamicSharedLimits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  limits.bytes.clear();
}

QTRAIN_CUDA_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module,
                                                    const char *name) {
  CUfunction function = nullptr;
  CHECK(cuModuleGetFunction(&function, module, name));
  Profile &p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.names[function] = name;
  return function;
}

QTRAIN_CUDA_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                         intptr_t gridY, intptr_t gridZ,
                                         intptr_t blockX, intptr_t blockY,
                                         intptr_t blockZ, int32_t sharedBytes,
                                         CUstream stream, void **params,
                                         void **extra, size_t /*paramsCount*/) {
  context();
  if (sharedBytes > 48 * 1024)
    allowDynamicShared(function, sharedBytes);
  Profile &p = profile();
  bool timed, timeline;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    timed = p.enabled;
    timeline = p.timeline;
  }
  CUevent start = nullptr, stop = nullptr;
  if (timed) {
    CHECK(cuEventCreate(&start, CU_EVENT_DEFAULT));
    CHECK(cuEventCreate(&stop, CU_EVENT_DEFAULT));
    CHECK(cuEventRecord(start, stream));
  }
  CHECK(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                       sharedBytes, stream, params, extra));
  if (!timed)
    return;
  CHECK(cuEventRecord(stop, stream));
  if (timeline) {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.pending.push_back({function, start, stop});
    return;
  }
  CHECK(cuEventSynchronize(stop));
  float milliseconds = 0;
  CHECK(cuEventElapsedTime(&milliseconds, start, stop));
  CHECK(cuEventDestroy(start));
  CHECK(cuEventDestroy(stop));
  std::lock_guard<std::mutex> lock(p.mutex);
  addTime(p, function, milliseconds);
}

/// The queue, for each stream host code asks for: the lowering of a
/// synchronous launch (and of each `gpu.wait async`) creates a stream and
/// destroys it after synchronizing, hundreds of times a training step, and
/// the driver's create and destroy cost microseconds each. qtrain's host
/// code orders its work on one stream anyway (qtrain-async-gpu-launches);
/// kernels that may run together are fused into one launch instead
/// (qtrain-fuse-independent-launches).
QTRAIN_CUDA_EXPORT CUstream mgpuStreamCreate() {
  context();
  return queue();
}

QTRAIN_CUDA_EXPORT void mgpuStreamDestroy(CUstream) {}

/// The host code waits where it reads results.
QTRAIN_CUDA_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  CHECK(cuStreamSynchronize(stream));
}

QTRAIN_CUDA_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  CHECK(cuStreamWaitEvent(stream, event, /*flags=*/0));
}

QTRAIN_CUDA_EXPORT CUevent mgpuEventCreate() {
  context();
  CUevent event = nullptr;
  CHECK(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING));
  return event;
}

QTRAIN_CUDA_EXPORT void mgpuEventDestroy(CUevent event) {
  CHECK(cuEventDestroy(event));
}

QTRAIN_CUDA_EXPORT void mgpuEventSynchronize(CUevent event) {
  CHECK(cuEventSynchronize(event));
}

QTRAIN_CUDA_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  CHECK(cuEventRecord(event, stream));
}

/// Device memory, or managed memory (addressable by host and device) when
/// `hostShared`; from the block cache. The stream is ignored: a cached
/// block's last users may still be queued, but its new ones are queued
/// behind them, and host code reads or writes memory only after waiting
/// for the queue (qtrain-async-gpu-launches). A new block is ready at once.
QTRAIN_CUDA_EXPORT void *mgpuMemAlloc(uint64_t bytes, CUstream /*stream*/,
                                      bool hostShared) {
  context();
  if (bytes == 0)
    return nullptr;
  void *block = blockCache().allocate(bytes, hostShared ? BlockKind::managed
                                                        : BlockKind::device);
  if (!block)
    report(CUDA_ERROR_OUT_OF_MEMORY, "mgpuMemAlloc");
  return block;
}

/// Frees a block into the cache in stream order, as upstream's runtime does
/// (cuMemFreeAsync): gpu.dealloc's dependencies are queued before this
/// point of `stream`, the queue, so the block's next users, queued after
/// it or on the host after a wait for it, find those done. No stream: once
/// the device is idle. (cuMemFree, which the cache replaces, waits for the
/// whole device.)
QTRAIN_CUDA_EXPORT void mgpuMemFree(void *pointer, CUstream stream) {
  if (!pointer)
    return;
  if (!stream)
    CHECK(cuCtxSynchronize());
  if (!blockCache().free(pointer))
    report(CUDA_ERROR_INVALID_VALUE, "mgpuMemFree (not a gpu.alloc buffer)");
}

/// Hands the cached blocks back to the driver (for drivers switching
/// between models whose buffers differ). Returns the bytes released.
QTRAIN_CUDA_EXPORT uint64_t qtrainCudaReleaseCachedMemory() {
  uint64_t bytes = blockCache().stats().cachedBytes;
  blockCache().releaseCached();
  return bytes;
}

/// The block cache's counts so far: gpu.alloc calls, those that reached
/// the driver, and the bytes cached (free) and live.
QTRAIN_CUDA_EXPORT void qtrainCudaMemoryStats(int64_t *allocations,
                                              int64_t *driverAllocations,
                                              uint64_t *cachedBytes,
                                              uint64_t *liveBytes) {
  qtrain::runtime::BlockCacheStats stats = blockCache().stats();
  *allocations = stats.allocations;
  *driverAllocations = stats.backendAllocations;
  *cachedBytes = stats.cachedBytes;
  *liveBytes = stats.liveBytes;
}

QTRAIN_CUDA_EXPORT void mgpuMemcpy(void *dst, void *src, size_t bytes,
                                   CUstream stream) {
  CHECK(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                      reinterpret_cast<CUdeviceptr>(src), bytes, stream));
}

// A driver's device buffers (runtime::DeviceMemory), which it passes to
// `qtrain.device_entry` functions: from the block cache, as host code's.

QTRAIN_CUDA_EXPORT void *qtrainCudaAllocate(uint64_t bytes) {
  return mgpuMemAlloc(bytes, /*stream=*/nullptr, /*hostShared=*/false);
}

/// After all work queued so far.
QTRAIN_CUDA_EXPORT void qtrainCudaRelease(void *buffer) {
  mgpuMemFree(buffer, /*stream=*/nullptr);
}

/// A copy between a driver's buffers and the device's (either way, or
/// device to device), after all work queued so far; returns once done.
/// Host code's copies are stream-ordered instead (mgpuMemcpy).
QTRAIN_CUDA_EXPORT void qtrainCudaCopy(void *dst, const void *src,
                                       uint64_t bytes) {
  context();
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpy(reinterpret_cast<CUdeviceptr>(dst),
                 reinterpret_cast<CUdeviceptr>(src), bytes));
}

/// The same copy queued behind the work queued so far; returns at once.
/// Host memory in it must be left alone until a fence after it is done
/// (qtrainCudaFence); pinned (qtrainCudaPinHost), it is copied by the
/// device's engines without the host waiting.
QTRAIN_CUDA_EXPORT void qtrainCudaCopyAsync(void *dst, const void *src,
                                            uint64_t bytes) {
  context();
  CHECK(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                      reinterpret_cast<CUdeviceptr>(src), bytes, queue()));
}

/// Page-locks a driver's host buffer for its queued copies; false (no
/// error) where the driver refuses, and copies to and from it then wait.
QTRAIN_CUDA_EXPORT bool qtrainCudaPinHost(void *host, uint64_t bytes) {
  context();
  return cuMemHostRegister(host, bytes, /*Flags=*/0) == CUDA_SUCCESS;
}

QTRAIN_CUDA_EXPORT void qtrainCudaUnpinHost(void *host) {
  CHECK(cuMemHostUnregister(host));
}

/// A point in the queue after the work queued so far (an event), for
/// qtrainCudaWait.
QTRAIN_CUDA_EXPORT void *qtrainCudaFence() {
  context();
  CUevent event = nullptr;
  CHECK(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING));
  CHECK(cuEventRecord(event, queue()));
  return event;
}

/// Returns once the work before `fence` is done, and forgets the fence.
QTRAIN_CUDA_EXPORT void qtrainCudaWait(void *fence) {
  auto event = static_cast<CUevent>(fence);
  CHECK(cuEventSynchronize(event));
  CHECK(cuEventDestroy(event));
}

namespace {
/// A recorded launch sequence: a CUDA graph of what the queue was given
/// between qtrainCudaRecord and qtrainCudaEndRecording, and the cached
/// blocks whose addresses it replays (held while it lives).
struct Recording {
  CUgraphExec exec = nullptr;
  std::vector<void *> blocks;
};
} // namespace

/// Starts recording the work queued from here on, which does not run
/// (stream capture in relaxed mode: the block cache may still ask the
/// driver for memory). Returns false, recording nothing, while kernels are
/// timed (each launch waited for) or the block cache does not cache. The
/// recorded host code must not wait for the device.
QTRAIN_CUDA_EXPORT bool qtrainCudaRecord() {
  context();
  {
    Profile &p = profile();
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.enabled)
      return false;
  }
  if (!blockCache().startRecording())
    return false;
  if (CUresult result =
          cuStreamBeginCapture(queue(), CU_STREAM_CAPTURE_MODE_RELAXED)) {
    blockCache().stopRecording();
    report(result, "cuStreamBeginCapture");
    return false;
  }
  return true;
}

/// Ends the recording: the graph to replay, or null (the error reported)
/// where something recorded could not be.
QTRAIN_CUDA_EXPORT void *qtrainCudaEndRecording() {
  context();
  CUgraph graph = nullptr;
  CUresult ended = cuStreamEndCapture(queue(), &graph);
  std::vector<void *> blocks = blockCache().stopRecording();
  if (ended != CUDA_SUCCESS) {
    report(ended, "cuStreamEndCapture (the recorded code did what a CUDA "
                  "graph cannot record)");
    return nullptr;
  }
  CUgraphExec exec = nullptr;
  CUresult instantiated = cuGraphInstantiateWithFlags(&exec, graph, 0);
  report(instantiated, "cuGraphInstantiateWithFlags");
  CHECK(cuGraphDestroy(graph));
  if (instantiated != CUDA_SUCCESS)
    return nullptr;
  auto *recording = new Recording{exec, std::move(blocks)};
  blockCache().hold(recording->blocks);
  ++liveRecordings;
  return recording;
}

/// Queues the recorded work again: the same kernels on the same buffers.
QTRAIN_CUDA_EXPORT void qtrainCudaReplay(void *recording) {
  context();
  CHECK(cuGraphLaunch(static_cast<Recording *>(recording)->exec, queue()));
}

/// Forgets a recording once its queued replays are done.
QTRAIN_CUDA_EXPORT void qtrainCudaForgetRecording(void *recording) {
  auto *forgotten = static_cast<Recording *>(recording);
  context();
  CHECK(cuStreamSynchronize(queue()));
  CHECK(cuGraphExecDestroy(forgotten->exec));
  blockCache().unhold(forgotten->blocks);
  --liveRecordings;
  delete forgotten;
}

QTRAIN_CUDA_EXPORT void mgpuMemset32(void *dst, unsigned int value,
                                     size_t count, CUstream stream) {
  CHECK(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream));
}

QTRAIN_CUDA_EXPORT void mgpuMemset16(void *dst, unsigned short value,
                                     size_t count, CUstream stream) {
  CHECK(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream));
}

/// A memref's buffer (rank, descriptor, element size in bytes), page-locked
/// and mapped for the device.
QTRAIN_CUDA_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank, void *desc,
                                                  int64_t elementBytes) {
  context();
  // {allocated, aligned, offset, sizes[rank], strides[rank]}
  auto *fields = static_cast<int64_t *>(desc);
  char *aligned = reinterpret_cast<char *>(fields[1]);
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= fields[3 + i];
  if (count > 0)
    CHECK(cuMemHostRegister(aligned + fields[2] * elementBytes,
                            count * elementBytes,
                            CU_MEMHOSTREGISTER_DEVICEMAP));
}

QTRAIN_CUDA_EXPORT void mgpuMemHostUnregisterMemRef(int64_t rank, void *desc,
                                                    int64_t elementBytes) {
  auto *fields = static_cast<int64_t *>(desc);
  char *aligned = reinterpret_cast<char *>(fields[1]);
  CHECK(cuMemHostUnregister(aligned + fields[2] * elementBytes));
}

namespace {

/// Tensor maps in device memory (qtrain/Runtime/TensorMap.h), by their
/// fields: a training step's GEMMs read the same buffers each step (the
/// block cache hands them out again), so after the first step their maps
/// are found here, no driver call made.
struct TensorMaps {
  struct Hash {
    size_t operator()(const TensorMapFields &fields) const {
      size_t hash = 0;
      for (int64_t field : {fields.address, fields.elementBytes, fields.rank,
                            fields.dims[0], fields.dims[1], fields.dims[2],
                            fields.strides[1], fields.strides[2], fields.box[0],
                            fields.box[1], fields.swizzleBytes})
        hash = hash * 1000003 ^ std::hash<int64_t>()(field);
      return hash;
    }
  };
  // Beyond this many, the device is synchronized and all are freed.
  static constexpr size_t kMaxMaps = 4096;
  std::mutex mutex;
  std::unordered_map<TensorMapFields, CUdeviceptr, Hash> maps;
};

TensorMaps &tensorMaps() {
  static TensorMaps maps;
  return maps;
}

CUtensorMap encodeTensorMap(const TensorMapFields &fields) {
  CUtensorMap map;
  cuuint64_t dims[3], strides[2];
  cuuint32_t box[3], elementStrides[3] = {1, 1, 1};
  for (int64_t d = 0; d < 3; ++d) {
    dims[d] = cuuint64_t(fields.dims[d]);
    box[d] = cuuint32_t(fields.box[d]);
    if (d > 0)
      strides[d - 1] = cuuint64_t(fields.strides[d]);
  }
  CUtensorMapDataType type =
      fields.elementBytes == 1   ? CU_TENSOR_MAP_DATA_TYPE_UINT8
      : fields.elementBytes == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                 : CU_TENSOR_MAP_DATA_TYPE_UINT32;
  CUtensorMapSwizzle swizzle =
      fields.swizzleBytes == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
      : fields.swizzleBytes == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
      : fields.swizzleBytes == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                                  : CU_TENSOR_MAP_SWIZZLE_NONE;
  // Zeros (not NaNs) outside the tensor.
  CHECK(cuTensorMapEncodeTiled(
      &map, type, cuuint32_t(fields.rank),
      reinterpret_cast<void *>(fields.address), dims, strides, box,
      elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
      CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
  return map;
}

} // namespace

/// A tensor map in device memory, where the kernels' TMA copies read it
/// (the PTX ISA allows global, constant or parameter memory).
QTRAIN_CUDA_EXPORT int64_t qtrainTensorMap(int64_t address,
                                           int64_t elementBytes, int64_t rank,
                                           int64_t dim0, int64_t dim1,
                                           int64_t dim2, int64_t stride1,
                                           int64_t stride2, int64_t box0,
                                           int64_t box1, int64_t swizzleBytes) {
  context();
  TensorMapFields fields;
  if (const char *error = mlir::qtrain::makeTensorMapFields(
          fields, address, elementBytes, rank, dim0, dim1, dim2, stride1,
          stride2, box0, box1, swizzleBytes)) {
    report(CUDA_ERROR_INVALID_VALUE,
           (std::string("qtrainTensorMap: ") + error).c_str());
    return 0;
  }
  TensorMaps &cache = tensorMaps();
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (auto it = cache.maps.find(fields); it != cache.maps.end())
    return int64_t(it->second);
  // Recorded graphs keep the maps they were recorded with.
  if (cache.maps.size() >= TensorMaps::kMaxMaps && liveRecordings == 0) {
    // Kernels in flight may still read them.
    CHECK(cuCtxSynchronize());
    for (auto &[key, pointer] : cache.maps)
      CHECK(cuMemFree(pointer));
    cache.maps.clear();
  }
  CUtensorMap map = encodeTensorMap(fields);
  CUdeviceptr pointer = 0;
  CHECK(cuMemAlloc(&pointer, sizeof(map)));
  // The legacy stream's copy: the qtrain streams are non-blocking, so it
  // does not wait for their work; it completes before the call returns,
  // before any launch that reads the map.
  CHECK(cuMemcpyHtoD(pointer, &map, sizeof(map)));
  cache.maps.emplace(fields, pointer);
  return int64_t(pointer);
}
