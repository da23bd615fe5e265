//===- CudaDevice.cpp - The CUDA GPU that compiled code runs on -----------===//

#include "qtrain/Runtime/CudaDevice.h"

#include "qtrain/Runtime/DeviceMemory.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace qtrain::runtime {

StringRef cudaRuntimeLibrary() {
#ifdef QTRAIN_CUDA_RUNTIME
  return QTRAIN_CUDA_RUNTIME;
#else
  return "";
#endif
}

mlir::qtrain::GPUChip CudaDevice::chip() const {
  using mlir::qtrain::GPUChip;
  if (major == 9)
    return GPUChip::sm_90a;
  if (major > 9)
    return GPUChip::sm_90;
  return minor >= 9 ? GPUChip::sm_89 : GPUChip::sm_80;
}

Target CudaDevice::target(mlir::qtrain::GPUBufferMemory memory) const {
  Target target = Target::cuda(chip(), memory);
  target.multiprocessors = multiprocessors;
  return target;
}

/// The runtime library's function `name`, loading the library first.
template <typename Fn> static Expected<Fn> runtimeFunction(const char *name) {
  StringRef path = cudaRuntimeLibrary();
  if (path.empty())
    return createStringError("qtrain was built without the CUDA toolkit: "
                             "there is no libqtrain_cuda_runtime.so");
  Expected<void *> symbol = librarySymbol(path, name);
  if (!symbol)
    return symbol.takeError();
  return reinterpret_cast<Fn>(*symbol);
}

Expected<CudaDevice> openCudaDevice() {
  using Probe = int (*)(int32_t *, int32_t *, int32_t *, char *, int32_t);
  Expected<Probe> probe = runtimeFunction<Probe>("qtrainCudaDevice");
  if (!probe)
    return probe.takeError();
  CudaDevice device;
  char name[256] = {};
  if ((*probe)(&device.major, &device.minor, &device.multiprocessors, name,
               sizeof(name)) != 0)
    return createStringError(Twine("no CUDA device: ") + name);
  device.name = name;
  if (device.major < 8)
    return createStringError(
        formatv("{0} (sm_{1}{2}) is older than sm_80, the oldest GPU qtrain "
                "compiles for",
                device.name, device.major, device.minor)
            .str());
  return device;
}

Error takeCudaError() {
  using Take = int32_t (*)(char *, int32_t);
  Expected<Take> take = runtimeFunction<Take>("qtrainCudaTakeError");
  if (!take)
    return take.takeError();
  char message[512] = {};
  if ((*take)(message, sizeof(message)) == 0)
    return Error::success();
  return createStringError(Twine("CUDA runtime: ") + message);
}

Error profileKernels(bool enable) {
  Expected<void (*)(int32_t)> profile =
      runtimeFunction<void (*)(int32_t)>("qtrainCudaProfile");
  if (!profile)
    return profile.takeError();
  (*profile)(enable);
  return Error::success();
}

Expected<std::vector<KernelTime>> kernelTimes() {
  using Size = int32_t (*)();
  using Entry = const char *(*)(int32_t, int64_t *, double *);
  Expected<Size> size = runtimeFunction<Size>("qtrainCudaProfileSize");
  if (!size)
    return size.takeError();
  Expected<Entry> entry = runtimeFunction<Entry>("qtrainCudaProfileEntry");
  if (!entry)
    return entry.takeError();
  std::vector<KernelTime> times;
  for (int32_t i = 0, e = (*size)(); i < e; ++i) {
    KernelTime time;
    if (const char *name = (*entry)(i, &time.launches, &time.milliseconds)) {
      time.name = name;
      times.push_back(std::move(time));
    }
  }
  return times;
}

} // namespace qtrain::runtime
