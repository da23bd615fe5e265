//===- Devices.h - The devices execution tests run on -----------*- C++ -*-===//
//
// Execution tests run their kernels on the CPU and, where there is one, on
// the CUDA GPU (kernels compiled by qtrain-lower-to-nvvm for its chip), and
// compare both with the same oracle. Without a GPU the GPU cases are
// skipped with the reason.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_UNITTESTS_DEVICES_H
#define QTRAIN_UNITTESTS_DEVICES_H

#include "qtrain/Runtime/CudaDevice.h"
#include "qtrain/Runtime/JitModule.h"

#include "gtest/gtest.h"

#include <optional>
#include <string>

namespace qtrain::testing {

using runtime::Target;

enum class Device { cpu, cuda };

inline const char *deviceName(Device device) {
  return device == Device::cpu ? "cpu" : "cuda";
}

/// The target of `device`, or none (with the reason in `whyNot`) where
/// there is no such device. The CUDA device is probed once.
inline std::optional<Target> targetOf(Device device, std::string &whyNot) {
  if (device == Device::cpu)
    return Target::cpu();
  static const auto probed = [] {
    std::pair<std::optional<Target>, std::string> result;
    if (auto gpu = runtime::openCudaDevice())
      result.first = gpu->target();
    else
      result.second = llvm::toString(gpu.takeError());
    return result;
  }();
  whyNot = probed.second;
  return probed.first;
}

/// Fails the test with the GPU runtime's first failure (a module load, a
/// launch) since the last check: compiled code cannot receive them.
inline void expectNoGPUError(const Target &target) {
  if (target.device != Target::Device::cuda)
    return;
  if (llvm::Error failure = runtime::takeCudaError())
    ADD_FAILURE() << llvm::toString(std::move(failure));
}

/// Compiles `source` for every chip qtrain targets, with or without a GPU:
/// where no driver is installed only loading it may fail, so the lowering,
/// the serialization of the kernels and the translation of the host code
/// are checked on every machine with the CUDA toolkit.
/// `prepare` transforms the parsed module first, as in JitModule::compile.
inline void expectCompilesForEveryChip(
    const std::string &source,
    llvm::function_ref<mlir::LogicalResult(mlir::ModuleOp)> prepare = {}) {
  if (runtime::cudaRuntimeLibrary().empty())
    GTEST_SKIP() << "built without the CUDA toolkit";
  using mlir::qtrain::GPUChip;
  for (GPUChip chip : {GPUChip::sm_80, GPUChip::sm_89, GPUChip::sm_90a}) {
    std::string error;
    if (!runtime::JitModule::compile(source, error, Target::cuda(chip),
                                     prepare))
      EXPECT_TRUE(llvm::StringRef(error).starts_with("cannot load "))
          << "chip " << int(chip) << ": " << error;
  }
}

} // namespace qtrain::testing

#endif // QTRAIN_UNITTESTS_DEVICES_H
