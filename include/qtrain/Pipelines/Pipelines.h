//===- Pipelines.h - qtrain lowering pipelines ------------------*- C++ -*-===//

#ifndef QTRAIN_PIPELINES_PIPELINES_H
#define QTRAIN_PIPELINES_PIPELINES_H

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Recipes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qtrain {

struct LowerToCPUOptions : public PassPipelineOptions<LowerToCPUOptions> {
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile and vectorize linalg ops before bufferization"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Elements per vector in element-wise code (16 fills an "
                     "AVX-512 register with f32)"),
      llvm::cl::init(16)};
  PassOptions::Option<int64_t> im2colBytes{
      *this, "im2col-bytes",
      llvm::cl::desc("Largest im2col matrix of one convolution tile in bytes "
                     "(0: one matrix per convolution)"),
      llvm::cl::init(1 << 20)};
};

/// qtrain on tensors -> LLVM dialect for the host CPU: lowers qtrain ops
/// (convert-qtrain-to-linalg), checks none is left (qtrain-verify-lowered),
/// vectorizes, bufferizes and converts everything to LLVM. The result runs
/// under mlir-runner and mlir::ExecutionEngine.
void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options);

/// qtrain on tensors -> linalg, tensor and arith on tensors: the op
/// semantics, shared by the CPU and GPU lowerings (expand-quantizers,
/// convert-qtrain-to-linalg, qtrain-verify-lowered, elementwise tensor
/// arithmetic to linalg, canonicalization and CSE). With
/// `quantizedContractions`, contractions of rounded operands become
/// qtrain.qmatmul of their codes first (qtrain-quantize-contractions).
void buildQTrainToLinalgPipeline(
    OpPassManager &pm, NumericsTarget target = NumericsTarget::portable,
    bool quantizedContractions = false);

/// Tensors -> buffers, as the CPU and GPU lowerings do it: shared inits
/// split (qtrain-split-shared-inits), ops whose results are materialized
/// in a destination (the flat interface's slices) writing there in place
/// (eliminate-empty-tensors), one-shot bufferization across function
/// boundaries (identity layouts), ownership-based deallocation and its
/// lowering to memref.
void buildBufferizationPipeline(OpPassManager &pm);

/// NVIDIA GPUs the NVVM lowering targets.
enum class GPUChip { sm_80, sm_89, sm_90, sm_90a };
/// What `gpu-module-to-binary` embeds: PTX, a cubin, or a fatbin.
enum class GPUBinaryFormat { isa, bin, fatbin };

/// The command-line values of GPUBufferMemory, for the pipeline's option
/// and drivers' own.
inline llvm::cl::ValuesClass gpuBufferMemoryValues() {
  return llvm::cl::values(
      clEnumValN(GPUBufferMemory::device, "device",
                 "device memory, arguments and results staged by copies"),
      clEnumValN(GPUBufferMemory::managed, "managed",
                 "CUDA managed memory, which pages migrate in"));
}

/// The shared memory an sm_90 thread block may have, static and dynamic.
constexpr int64_t kSm90SharedBytesPerBlock = 227 * 1024;
/// H100 SXM's multiprocessors.
constexpr int64_t kH100Multiprocessors = 132;

struct LowerToNVVMOptions : public PassPipelineOptions<LowerToNVVMOptions> {
  PassOptions::Option<GPUChip> chip{
      *this, "chip", llvm::cl::desc("The GPU to compile kernels for"),
      llvm::cl::init(GPUChip::sm_90a),
      llvm::cl::values(
          clEnumValN(GPUChip::sm_80, "sm_80", "Ampere"),
          clEnumValN(GPUChip::sm_89, "sm_89", "Ada"),
          clEnumValN(GPUChip::sm_90, "sm_90", "Hopper"),
          clEnumValN(GPUChip::sm_90a, "sm_90a", "Hopper with wgmma"))};
  PassOptions::Option<GPUBinaryFormat> format{
      *this, "format", llvm::cl::desc("How kernels are embedded"),
      llvm::cl::init(GPUBinaryFormat::isa),
      llvm::cl::values(
          clEnumValN(GPUBinaryFormat::isa, "isa",
                     "PTX, compiled by the driver at load (no toolkit)"),
          clEnumValN(GPUBinaryFormat::bin, "bin", "a cubin (needs ptxas)"),
          clEnumValN(GPUBinaryFormat::fatbin, "fatbin",
                     "a fatbin (needs ptxas and fatbinary)"))};
  PassOptions::Option<GPUBufferMemory> memory{
      *this, "memory",
      llvm::cl::desc("Where host code's buffers are (qtrain-gpu-host-buffers)"),
      llvm::cl::init(GPUBufferMemory::device), gpuBufferMemoryValues()};
  PassOptions::Option<bool> wgmmaTwoWarpgroups{
      *this, "wgmma-two-warpgroups",
      llvm::cl::desc("sm_90a GEMMs on 128xN tiles of two warpgroups where M "
                     "allows (convert-low-precision-matmul-to-wgmma)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> wgmmaTMALoads{
      *this, "wgmma-tma-loads",
      llvm::cl::desc("sm_90a GEMMs copy operand tiles with TMA from a "
                     "producer warp, not cp.async from every thread "
                     "(convert-low-precision-matmul-to-wgmma's tma-loads)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> wgmmaPersistentBlocks{
      *this, "wgmma-persistent-blocks",
      llvm::cl::desc("sm_90a TMA GEMMs that fit one block a multiprocessor "
                     "run that many blocks, each looping over tiles "
                     "(convert-low-precision-matmul-to-wgmma's "
                     "persistent-blocks)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> wgmmaSharedMemoryBytes{
      *this, "wgmma-shared-memory-bytes",
      llvm::cl::desc("Shared memory an sm_90a GEMM block may use, in bytes "
                     "(convert-low-precision-matmul-to-wgmma's "
                     "shared-memory-bytes)"),
      llvm::cl::init(kSm90SharedBytesPerBlock)};
  PassOptions::Option<int64_t> multiprocessors{
      *this, "multiprocessors",
      llvm::cl::desc("The GPU's multiprocessors, for sizing GEMM tiles (H100 "
                     "SXM: 132)"),
      llvm::cl::init(kH100Multiprocessors)};
  PassOptions::Option<bool> reassociateFloatSums{
      *this, "reassociate-float-sums",
      llvm::cl::desc("Float sums and products of reductions in any order, so "
                     "that they run as partial sums (batch norm's "
                     "statistics); false: the loops' order, one thread an "
                     "output (qtrain-reassociate-float-sums)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> kMajorGEMMOperands{
      *this, "k-major-gemm-operands",
      llvm::cl::desc("Elementwise kernels that produce a tensor-core GEMM's "
                     "k x n or k x m operand also store it k innermost, "
                     "for the GEMM's asynchronous copies "
                     "(qtrain-k-major-gemm-operands)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> asyncLaunches{
      *this, "async-launches",
      llvm::cl::desc("Queue host code's kernels, copies, allocations and "
                     "frees on one stream, waiting only where the host needs "
                     "the results (qtrain-async-gpu-launches); false: wait "
                     "for each"),
      llvm::cl::init(true)};
};

/// qtrain on tensors -> a module of NVVM kernels (in a gpu.binary) and host
/// code in the LLVM dialect that launches them through the `mgpu*` runtime
/// entry points. The op semantics come from buildQTrainToLinalgPipeline,
/// as on the CPU, so kernels compute the same bits. Chains of elementwise
/// ops are fused (qtrain-fuse-elementwise-kernels); each linalg op then
/// becomes a kernel over its parallel dimensions (one thread per output
/// element; reductions loop in the thread), then upstream's NVVM pipeline
/// lowers it.
/// From sm_89 on, E4M3FN/E5M2 nearest-even saturating conversions use the
/// hardware's `cvt.rn.satfinite` (convert-clamped-fp8-truncf-to-nvvm).
/// Host code's buffers are CUDA managed memory (qtrain-gpu-host-buffers
/// with memory=managed); public functions take and return ordinary host
/// memory.
void buildLowerToNVVMPipeline(OpPassManager &pm,
                              const LowerToNVVMOptions &options);

/// The kernels and host code of buildLowerToNVVMPipeline for `chip`, run
/// on the CPU instead (emulate-gpu-launches-on-cpu): each thread block an
/// OpenMP team where its threads synchronize, tensor-core MMAs computed by
/// libqtrain_gpu_emulator.so. For testing the kernels where no GPU is; the
/// result runs with the runner utilities, libomp, libmlir_apfloat_wrappers
/// (f8 conversions) and the emulator library. `format` is ignored.
void buildLowerToGPUEmulatorPipeline(OpPassManager &pm,
                                     const LowerToNVVMOptions &options);

/// Loops, memrefs, vectors, math, arith and OpenMP regions to the LLVM
/// dialect for the host: the end of qtrain-lower-to-cpu.
void buildLoopsToLLVMPipeline(OpPassManager &pm);

/// When qtrain-training-step replaces batch norm by Range BN.
enum class RangeBatchNormMode { recipe, on, off };

struct TrainingStepOptions : public PassPipelineOptions<TrainingStepOptions> {
  PassOptions::Option<RecipeKind> recipe{
      *this, "recipe", llvm::cl::desc("The low-precision recipe"),
      llvm::cl::init(RecipeKind::fp32),
      llvm::cl::values(
          clEnumValN(RecipeKind::fp32, "fp32", "no quantizers"),
          clEnumValN(RecipeKind::int8, "int8", "Banner et al. 2018"),
          clEnumValN(RecipeKind::hfp8, "hfp8", "Sun et al. 2019"),
          clEnumValN(RecipeKind::fp8, "fp8", "E4M3 forward, E5M2 backward"),
          clEnumValN(RecipeKind::bf16, "bf16", "bf16 mixed precision"))};
  PassOptions::ListOption<std::string> exempt{
      *this, "exempt", llvm::cl::desc("Layers kept in full precision")};
  PassOptions::Option<int64_t> amaxHistory{
      *this, "amax-history",
      llvm::cl::desc("Delayed scaling over the amaxes of the last N steps "
                     "(0: current amax)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> activationBits{
      *this, "activation-bits",
      llvm::cl::desc("Keep the batch-norm + ReLU activations saved for "
                     "backward in 4 or 8 bits (0: exact)"),
      llvm::cl::init(0)};
  PassOptions::Option<RangeBatchNormMode> rangeBatchNorm{
      *this, "range-bn", llvm::cl::desc("Replace batch norm by Range BN"),
      llvm::cl::init(RangeBatchNormMode::recipe),
      llvm::cl::values(clEnumValN(RangeBatchNormMode::recipe, "recipe",
                                  "as the recipe says (int8 only)"),
                       clEnumValN(RangeBatchNormMode::on, "on", "always"),
                       clEnumValN(RangeBatchNormMode::off, "off", "never"))};
  // Range BN as the reference code of Banner et al. computes it (16 chunks,
  // its constant), which trains closer to fp32 than the paper's formula
  // (docs/benchmarks.md).
  PassOptions::Option<int64_t> rangeBatchNormChunks{
      *this, "range-bn-chunks",
      llvm::cl::desc("Chunks of the batch whose ranges Range BN averages"),
      llvm::cl::init(16)};
  PassOptions::Option<RangeConstant> rangeBatchNormConstant{
      *this, "range-bn-constant", llvm::cl::desc("Range BN's C(n)"),
      llvm::cl::init(RangeConstant::reference),
      llvm::cl::values(
          clEnumValN(RangeConstant::paper, "paper", "1 / sqrt(2 ln n)"),
          clEnumValN(RangeConstant::reference, "reference",
                     "the reference code's constant"))};
  PassOptions::Option<double> momentum{
      *this, "momentum", llvm::cl::desc("SGD momentum"), llvm::cl::init(0.9)};
  PassOptions::Option<double> weightDecay{*this, "weight-decay",
                                          llvm::cl::desc("L2 weight decay"),
                                          llvm::cl::init(0.0)};
  PassOptions::Option<int64_t> growthInterval{
      *this, "growth-interval",
      llvm::cl::desc("Clean steps before the loss scale grows"),
      llvm::cl::init(1000)};
};

/// A model -> `@<model>_grad` and `@<model>_step` on tensors:
/// qtrain-quantize-training (the recipe), qtrain-range-batchnorm (int8, or
/// as range-bn says), qtrain-autodiff, qtrain-compress-activations (with
/// activation-bits) and qtrain-optimizer with the recipe's master weights
/// and loss scaling. Lower the result with qtrain-lower-to-cpu.
void buildTrainingStepPipeline(OpPassManager &pm,
                               const TrainingStepOptions &options);

/// Registers qtrain-lower-to-cpu and qtrain-training-step.
void registerPipelines();

} // namespace mlir::qtrain

#endif // QTRAIN_PIPELINES_PIPELINES_H
