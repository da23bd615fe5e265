//===- CudaDevice.h - The CUDA GPU that compiled code runs on ---*- C++ -*-===//
//
// Drivers running qtrain code on a GPU (qtrain-train --device=cuda, the GPU
// execution tests) first load the runtime library and ask the driver for
// the device, so that a machine without one gets a clear error rather than
// failing launches, and kernels are compiled for the chip at hand.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_CUDADEVICE_H
#define QTRAIN_RUNTIME_CUDADEVICE_H

#include "qtrain/Pipelines/Pipelines.h"
#include "qtrain/Runtime/JitModule.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace qtrain::runtime {

struct CudaDevice {
  std::string name;
  int major = 0, minor = 0; // compute capability
  int multiprocessors = 0;
  /// The chip qtrain compiles for: sm_90a on Hopper, sm_89 on Ada, sm_80 on
  /// Ampere, sm_90 (PTX the driver compiles forward) on later GPUs.
  mlir::qtrain::GPUChip chip() const;
  /// What compiles for it: its chip, GEMM tiles for its multiprocessors.
  Target target(mlir::qtrain::GPUBufferMemory memory =
                    mlir::qtrain::GPUBufferMemory::device) const;
};

/// The path of libqtrain_cuda_runtime.so, or empty where qtrain was built
/// without the CUDA toolkit.
llvm::StringRef cudaRuntimeLibrary();

/// Loads libqtrain_cuda_runtime.so (and with it the driver's libcuda) and
/// describes device 0. Fails with the reason where qtrain was built without
/// the toolkit, the driver is missing, there is no GPU, or it is older
/// than sm_80.
llvm::Expected<CudaDevice> openCudaDevice();

/// The first failure of a runtime call (a module load, a launch, a copy)
/// since the last takeCudaError, which forgets it. Compiled code cannot
/// receive the errors of the mgpu* entry points it calls, so drivers ask
/// after each call into it.
llvm::Error takeCudaError();

/// A kernel's launches and their total GPU time (events around each).
struct KernelTime {
  std::string name;
  int64_t launches = 0;
  double milliseconds = 0;
};

/// Starts (or stops) timing the runtime's kernel launches, clearing the
/// times so far; after openCudaDevice. (QTRAIN_CUDA_PROFILE=1 in the
/// environment times every launch and prints a table at exit.)
llvm::Error profileKernels(bool enable);

/// The kernels timed since, in the order of their first launch.
llvm::Expected<std::vector<KernelTime>> kernelTimes();

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_CUDADEVICE_H
