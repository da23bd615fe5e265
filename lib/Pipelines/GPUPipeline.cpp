//===- GPUPipeline.cpp - qtrain-lower-to-nvvm -----------------------------===//

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qtrain;

static const char *chipName(GPUChip chip) {
  switch (chip) {
  case GPUChip::sm_80:
    return "sm_80";
  case GPUChip::sm_89:
    return "sm_89";
  case GPUChip::sm_90:
    return "sm_90";
  case GPUChip::sm_90a:
    return "sm_90a";
  }
  llvm_unreachable("unknown chip");
}

/// FP8 conversion instructions exist from sm_89 on, and tensor cores that
/// multiply FP8 codes; sm_80's multiply f16 (and int8 on every chip).
static bool hasFP8(GPUChip chip) { return chip != GPUChip::sm_80; }

/// qtrain on tensors -> host code with gpu.launch kernels on GPU buffers:
/// what the NVVM lowering and the emulator share.
static void buildKernelsPipeline(OpPassManager &pm,
                                 const LowerToNVVMOptions &options) {
  GPUChip chip = options.chip;
  // Training graphs' GEMMs of rounded operands multiply their codes.
  bool fp8Conversions = hasFP8(chip);
  buildQTrainToLinalgPipeline(pm,
                              fp8Conversions
                                  ? NumericsTarget::tensorCores
                                  : NumericsTarget::ampereTensorCores,
                              /*quantizedContractions=*/true);
  // Float reductions in any order, as partial sums.
  if (options.reassociateFloatSums)
    pm.addPass(createReassociateFloatSumsPass());
  // A kernel for each chain of elementwise ops (quantizers), not for each
  // op.
  pm.addPass(createFuseElementwiseKernelsPass());
  // GEMM operands that elementwise kernels produce, also stored k
  // innermost, so that the tensor-core kernels copy their tiles
  // asynchronously.
  if (options.kMajorGEMMOperands)
    pm.addPass(createKMajorGEMMOperandsPass());
  // Whole-tensor reductions (scales) as parallel partials, and nothing left
  // to run serially on the host; those to one element stay whole, for
  // qtrain-block-reductions' blocks that combine atomically (one kernel,
  // not two).
  ParallelizeReductionsPassOptions parallelize;
  parallelize.wholeAtomicReductions = true;
  pm.addPass(createParallelizeReductionsPass(parallelize));
  buildBufferizationPipeline(pm);
  // Kernels read and write host code's buffers.
  GPUHostBuffersPassOptions buffers;
  buffers.memory = options.memory;
  pm.addPass(createGPUHostBuffersPass(buffers));

  // 8-bit and f16 GEMMs (FP8 codes from sm_89, f16 values and int8 on
  // every chip) as tensor-core kernels, warpgroup MMAs on sm_90a; after
  // deallocation, which cannot see through gpu.launch.
  if (chip == GPUChip::sm_90a) {
    ConvertLowPrecisionMatmulToWGMMAPassOptions wgmma;
    wgmma.twoWarpgroups = options.wgmmaTwoWarpgroups;
    wgmma.tmaLoads = options.wgmmaTMALoads;
    wgmma.persistentBlocks = options.wgmmaPersistentBlocks;
    wgmma.sharedMemoryBytes = options.wgmmaSharedMemoryBytes;
    wgmma.multiprocessors = options.multiprocessors;
    pm.addPass(createConvertLowPrecisionMatmulToWGMMAPass(wgmma));
  } else {
    pm.addPass(createConvertLowPrecisionMatmulToMMASyncPass());
  }

  // Reductions to one element in a block of threads and a shared-memory
  // tree, not one thread.
  pm.addPass(createBlockReductionsPass());

  // One GPU thread per element of each op's parallel iteration space,
  // flattened in row-major order (consecutive threads on consecutive
  // elements); tiles of 256 are the thread blocks. Reductions loop in the
  // threads, not around the launches.
  pm.addPass(createInnermostReductionsPass());
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  // Each thread's running sum in a register, stored once.
  pm.addPass(createHoistAccumulatorsPass());
  // One kernel for loops over one iteration space (a reduction and its
  // fill, a chain of elementwise ops whose results are also used apart).
  pm.addPass(createFuseParallelLoopsPass());
  // Transposed 8-bit stores (k-major GEMM operands) a word of four rows a
  // thread, not a byte.
  pm.addPass(createPackTransposedByteStoresPass());
  pm.addPass(createFlattenParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(
      createParallelLoopTilingPass({256}, /*noMinMaxBounds=*/true));
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createCanonicalizerPass());
  // One launch for consecutive one-block kernels (ends of reductions), and
  // one for consecutive kernels that do not depend on each other.
  pm.addNestedPass<func::FuncOp>(createMergeSingleBlockLaunchesPass());
  pm.addNestedPass<func::FuncOp>(createFuseIndependentLaunchesPass());
  // The canonicalizer hoists kernels' constants out of their launches;
  // back inside, they stay constants (tile sizes, strides, stage counts)
  // instead of becoming kernel parameters, and divisions by them shifts.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  // A name of its own for each kernel, for profiles.
  pm.addPass(createNameGPUKernelsPass());
}

void mlir::qtrain::buildLowerToNVVMPipeline(OpPassManager &pm,
                                            const LowerToNVVMOptions &options) {
  buildKernelsPipeline(pm, options);
  // Before outlining, while the clamp bounds are constants in sight.
  if (hasFP8(options.chip))
    pm.addPass(createConvertClampedFP8TruncFToNVVMPass());
  pm.addPass(createRelaxKernelAtomicsPass());

  // Kernels queued on one stream. This needs gpu.launch_func, so the
  // kernels are outlined here (upstream's pipeline outlines again, finding
  // none).
  if (options.asyncLaunches) {
    pm.addPass(createGpuKernelOutliningPass());
    pm.addNestedPass<func::FuncOp>(createAsyncGPULaunchesPass());
  }

  // Upstream's NVVM pipeline: outlining, NVVM conversion, serialization.
  // PTX 8.4 is the first with the FP8 mma.sync of sm_89 (CUDA 12.4).
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = chipName(options.chip);
  nvvm.cubinFeatures = "+ptx84";
  nvvm.optLevel = 3;
  switch (options.format) {
  case GPUBinaryFormat::isa:
    nvvm.cubinFormat = "isa";
    break;
  case GPUBinaryFormat::bin:
    nvvm.cubinFormat = "bin";
    break;
  case GPUBinaryFormat::fatbin:
    nvvm.cubinFormat = "fatbin";
    break;
  }
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

void mlir::qtrain::buildLowerToGPUEmulatorPipeline(
    OpPassManager &pm, const LowerToNVVMOptions &options) {
  buildKernelsPipeline(pm, options);
  // The atomics as the GPU's kernels have them (float max/min on the bits).
  pm.addPass(createRelaxKernelAtomicsPass());
  pm.addPass(createEmulateGPULaunchesOnCPUPass());
  pm.addPass(createCanonicalizerPass());
  // The FP8 conversions that the GPU's cvt instructions would do (and the
  // tensor-core forms' arith.extf of FP8 codes), by LLVM's APFloat.
  pm.addPass(createArithToAPFloatConversionPass());
  buildLoopsToLLVMPipeline(pm);
}
