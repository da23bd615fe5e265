//===- CudaDevice.cpp - The CUDA GPU that compiled code runs on -----------===//

#include "qtrain/Runtime/CudaDevice.h"

#include "llvm/Support/DynamicLibrary.h"
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

Expected<CudaDevice> openCudaDevice() {
  StringRef path = cudaRuntimeLibrary();
  if (path.empty())
    return createStringError("qtrain was built without the CUDA toolkit: "
                             "there is no libqtrain_cuda_runtime.so");
  std::string error;
  auto library =
      sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(), &error);
  if (!library.isValid())
    return createStringError("cannot load " + path + ": " + error);
  using Probe = int (*)(int32_t *, int32_t *, char *, int32_t);
  auto probe =
      reinterpret_cast<Probe>(library.getAddressOfSymbol("qtrainCudaDevice"));
  if (!probe)
    return createStringError(path + " has no qtrainCudaDevice");
  CudaDevice device;
  char name[256] = {};
  if (probe(&device.major, &device.minor, name, sizeof(name)) != 0)
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

} // namespace qtrain::runtime
