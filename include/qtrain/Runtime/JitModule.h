//===- JitModule.h - Compile and run qtrain code in-process -----*- C++ -*-===//
//
// Parses MLIR source, lowers it with qtrain-lower-to-cpu (or
// qtrain-lower-to-nvvm for a CUDA GPU, qtrain-lower-to-gpu-emulator for the
// GPU emulator) and JIT-compiles the host code with
// mlir::ExecutionEngine. Functions marked llvm.emit_c_interface are then
// callable through their C interface. Used by the execution tests, the
// benchmarks and the training driver.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_JITMODULE_H
#define QTRAIN_RUNTIME_JITMODULE_H

#include "qtrain/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>
#include <vector>

namespace qtrain::runtime {

/// What compiled code runs on: the host CPU, a CUDA GPU of `chip` whose
/// kernels host code launches through libqtrain_cuda_runtime.so (see
/// openCudaDevice in CudaDevice.h for the chip of the GPU at hand), or the
/// GPU emulator: the kernels built for `chip`, run on CPU threads
/// (qtrain-lower-to-gpu-emulator).
struct Target {
  enum class Device { cpu, cuda, gpuEmulator };
  Device device = Device::cpu;
  /// qtrain-lower-to-cpu's options (its defaults where null); not owned.
  const mlir::qtrain::LowerToCPUOptions *cpuOptions = nullptr;
  mlir::qtrain::GPUChip chip = mlir::qtrain::GPUChip::sm_90a;
  /// Where host code's buffers are on a GPU (qtrain-lower-to-nvvm's memory).
  mlir::qtrain::GPUBufferMemory memory = mlir::qtrain::GPUBufferMemory::device;
  /// qtrain-lower-to-nvvm's wgmma-two-warpgroups, wgmma-tma-loads,
  /// wgmma-persistent-blocks and wgmma-shared-memory-bytes (sm_90a GEMM
  /// tiles, copies, grids and stages).
  bool wgmmaTwoWarpgroups = true;
  bool wgmmaTMALoads = true;
  bool wgmmaPersistentBlocks = true;
  int64_t wgmmaSharedMemoryBytes = mlir::qtrain::kSm90SharedBytesPerBlock;
  /// qtrain-lower-to-nvvm's multiprocessors (the GPU's, for GEMM tiles).
  int64_t multiprocessors = mlir::qtrain::kH100Multiprocessors;
  /// qtrain-lower-to-nvvm's async-launches (one stream, host waits only
  /// where it reads results).
  bool asyncLaunches = true;
  /// qtrain-lower-to-nvvm's reassociate-float-sums (reductions' float sums
  /// in any order, as partial sums).
  bool reassociateFloatSums = true;
  /// qtrain-lower-to-nvvm's k-major-gemm-operands (GEMM operands' producers
  /// also store them k innermost).
  bool kMajorGEMMOperands = true;

  static Target cpu(const mlir::qtrain::LowerToCPUOptions *options = nullptr) {
    return {Device::cpu, options};
  }
  static Target cuda(mlir::qtrain::GPUChip chip,
                     mlir::qtrain::GPUBufferMemory memory =
                         mlir::qtrain::GPUBufferMemory::device) {
    return {Device::cuda, nullptr, chip, memory};
  }
  static Target gpuEmulator(mlir::qtrain::GPUChip chip,
                            mlir::qtrain::GPUBufferMemory memory =
                                mlir::qtrain::GPUBufferMemory::device) {
    return {Device::gpuEmulator, nullptr, chip, memory};
  }
};

class JitModule {
public:
  /// Compiles `source` for `target`; on failure returns null and sets
  /// `error` to the diagnostics. `prepare`, when given, transforms the parsed
  /// module before the lowering (to run qtrain passes, add interfaces), and
  /// `lowered` sees it after the lowering (to print it). Diagnostics name the
  /// source `sourceName`.
  static std::unique_ptr<JitModule>
  compile(const std::string &source, std::string &error,
          Target target = Target::cpu(),
          llvm::function_ref<mlir::LogicalResult(mlir::ModuleOp)> prepare = {},
          llvm::StringRef sourceName = "<source>",
          llvm::function_ref<void(mlir::ModuleOp)> lowered = {});

  /// The C interface (_mlir_ciface_<name>) of a compiled function, or null.
  template <typename Fn> Fn lookup(const std::string &name) {
    auto symbol = engine->lookup("_mlir_ciface_" + name);
    if (!symbol) {
      llvm::consumeError(symbol.takeError());
      return nullptr;
    }
    return reinterpret_cast<Fn>(*symbol);
  }

private:
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

/// Keeps glibc from returning large blocks to the kernel on free. Compiled
/// code allocates its intermediate tensors on every call; above glibc's
/// mmap threshold each allocation would be a fresh mapping whose pages all
/// fault in again (more than half of a LeNet training step). Process-wide,
/// so drivers call it once at start-up.
void keepLargeAllocationsMapped();

/// Bytes held by the buffers of compiled code (its malloc'd memory, as
/// malloc_usable_size counts it), now and at the peak since the last
/// resetPeakBufferBytes: the memory a training step needs beyond its
/// arguments, free of the compiler's and the data's share of the RSS.
struct BufferBytes {
  int64_t live, peak;
};
BufferBytes bufferBytes();
void resetPeakBufferBytes();

/// A 1-D memref descriptor over a vector's storage.
template <typename T> StridedMemRefType<T, 1> memref1D(std::vector<T> &v) {
  return StridedMemRefType<T, 1>{
      v.data(), v.data(), 0, {int64_t(v.size())}, {1}};
}

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_JITMODULE_H
