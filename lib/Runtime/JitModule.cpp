//===- JitModule.cpp - Compile and run qtrain code in-process -------------===//

#include "qtrain/Runtime/JitModule.h"

#include "qtrain/InitAllDialects.h"
#include "qtrain/Runtime/CudaDevice.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <atomic>
#include <cstdlib>
#include <malloc.h>

using namespace mlir;

namespace qtrain::runtime {

// The buffers of compiled code: it allocates with malloc and frees with
// free, which the engine binds to these counting wrappers.
static std::atomic<int64_t> liveBufferBytes{0}, peakBufferBytes{0};

static void *countingMalloc(size_t size) {
  void *p = std::malloc(size);
  if (!p)
    return p;
  int64_t bytes = int64_t(malloc_usable_size(p));
  int64_t now =
      liveBufferBytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t peak = peakBufferBytes.load(std::memory_order_relaxed);
  while (now > peak && !peakBufferBytes.compare_exchange_weak(
                           peak, now, std::memory_order_relaxed))
    ;
  return p;
}

static void countingFree(void *p) {
  if (p)
    liveBufferBytes.fetch_sub(int64_t(malloc_usable_size(p)),
                              std::memory_order_relaxed);
  std::free(p);
}

BufferBytes bufferBytes() {
  return {liveBufferBytes.load(std::memory_order_relaxed),
          peakBufferBytes.load(std::memory_order_relaxed)};
}

void resetPeakBufferBytes() {
  peakBufferBytes.store(liveBufferBytes.load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
}

std::unique_ptr<JitModule>
JitModule::compile(const std::string &source, std::string &error, Target target,
                   llvm::function_ref<LogicalResult(ModuleOp)> prepare,
                   llvm::StringRef sourceName,
                   llvm::function_ref<void(ModuleOp)> lowered) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  mlir::qtrain::registerAllDialects(registry);
  // Host code of GPU targets embeds kernels (gpu.binary) and launches them.
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);

  llvm::raw_string_ostream errors(error);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, errors);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, &context, sourceName);
  if (!module || (prepare && failed(prepare(*module))))
    return nullptr;
  bool cuda = target.device == Target::Device::cuda;
  if (cuda && cudaRuntimeLibrary().empty()) {
    errors << "qtrain was built without the CUDA toolkit: no GPU target";
    return nullptr;
  }
#ifdef QTRAIN_CUDA_TOOLKIT
  // Kernels link libdevice (floor, rint, fabs of the rounding code) from
  // the toolkit that these variables name; default to the one qtrain was
  // built with.
  if (cuda && !getenv("CUDA_ROOT") && !getenv("CUDA_HOME") &&
      !getenv("CUDA_PATH"))
    setenv("CUDA_HOME", QTRAIN_CUDA_TOOLKIT, /*overwrite=*/0);
#endif
  bool emulator = target.device == Target::Device::gpuEmulator;
#ifndef QTRAIN_GPU_EMULATOR
  if (emulator) {
    errors << "qtrain was built without libomp: no GPU emulator";
    return nullptr;
  }
#endif
  PassManager pm(&context);
  if (emulator || cuda) {
    mlir::qtrain::LowerToNVVMOptions options;
    options.chip = target.chip;
    options.memory = target.memory;
    options.wgmmaTwoWarpgroups = target.wgmmaTwoWarpgroups;
    options.wgmmaTMALoads = target.wgmmaTMALoads;
    options.wgmmaPersistentBlocks = target.wgmmaPersistentBlocks;
    options.wgmmaSharedMemoryBytes = target.wgmmaSharedMemoryBytes;
    options.multiprocessors = target.multiprocessors;
    options.asyncLaunches = target.asyncLaunches;
    options.reassociateFloatSums = target.reassociateFloatSums;
    options.kMajorGEMMOperands = target.kMajorGEMMOperands;
    // On a GPU: PTX, compiled by the driver for the GPU at hand.
    if (emulator)
      mlir::qtrain::buildLowerToGPUEmulatorPipeline(pm, options);
    else
      mlir::qtrain::buildLowerToNVVMPipeline(pm, options);
  } else {
    mlir::qtrain::LowerToCPUOptions defaults;
    mlir::qtrain::buildLowerToCPUPipeline(
        pm, target.cpuOptions ? *target.cpuOptions : defaults);
  }
  // A driver's --mlir-print-ir-*, --mlir-timing, where it registered them
  // (failure here means it did not).
  (void)applyPassManagerCLOptions(pm);
  if (failed(pm.run(*module)))
    return nullptr;
  if (lowered)
    lowered(*module);

  // Optimize the LLVM IR for the host CPU (AVX-512 and VNNI where present):
  // without a target machine, LLVM's vectorizers assume a generic target.
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder) {
    errors << llvm::toString(machineBuilder.takeError());
    return nullptr;
  }
  auto targetMachine = machineBuilder->createTargetMachine();
  if (!targetMachine) {
    errors << llvm::toString(targetMachine.takeError());
    return nullptr;
  }
  // ExecutionEngineOptions::transformer is a function_ref: keep the
  // transformer alive until the engine is created.
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                targetMachine->get());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  SmallVector<StringRef, 4> libraries = {QTRAIN_C_RUNNER_UTILS};
  if (cuda)
    libraries.push_back(cudaRuntimeLibrary());
#ifdef QTRAIN_GPU_EMULATOR
  // FP8 conversions through APFloat, thread blocks as OpenMP teams, the
  // emulated MMAs.
  if (emulator)
    libraries.append(
        {QTRAIN_APFLOAT_WRAPPERS, QTRAIN_LIBOMP, QTRAIN_GPU_EMULATOR});
#endif
  // Loaded here for a clear error where one is missing (a driver, a
  // dependency): the engine would only warn, then fail to resolve symbols.
  for (StringRef library : libraries) {
    std::string loadError;
    if (!llvm::sys::DynamicLibrary::getPermanentLibrary(library.str().c_str(),
                                                        &loadError)
             .isValid()) {
      errors << "cannot load " << library << ": " << loadError;
      return nullptr;
    }
  }
  options.sharedLibPaths = libraries;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // `perf record -k 1` then `perf inject --jit` names the compiled
  // functions in profiles.
  options.enablePerfNotificationListener = getenv("QTRAIN_PERF") != nullptr;
  auto engine = ExecutionEngine::create(*module, options);
  if (!engine) {
    errors << llvm::toString(engine.takeError());
    return nullptr;
  }
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("malloc")] = {
        llvm::orc::ExecutorAddr::fromPtr(&countingMalloc),
        llvm::JITSymbolFlags::Exported};
    symbols[interner("free")] = {
        llvm::orc::ExecutorAddr::fromPtr(&countingFree),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  // Runs the module's global constructors, which load the GPU kernels
  // (gpu.binary's mgpuModuleLoad): callers call the functions that lookup
  // returns directly, and the engine runs constructors only on
  // initialize() or invokePacked().
  (*engine)->initialize();
  auto result = std::unique_ptr<JitModule>(new JitModule());
  result->engine = std::move(*engine);
  return result;
}

void keepLargeAllocationsMapped() {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

} // namespace qtrain::runtime
