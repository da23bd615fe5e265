//===- Pipelines.h - qtrain lowering pipelines ------------------*- C++ -*-===//

#ifndef QTRAIN_PIPELINES_PIPELINES_H
#define QTRAIN_PIPELINES_PIPELINES_H

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
          clEnumValN(RecipeKind::fp8, "fp8", "E4M3 forward, E5M2 backward"))};
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
