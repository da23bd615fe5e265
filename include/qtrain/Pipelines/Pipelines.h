//===- Pipelines.h - qtrain lowering pipelines ------------------*- C++ -*-===//

#ifndef QTRAIN_PIPELINES_PIPELINES_H
#define QTRAIN_PIPELINES_PIPELINES_H

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
};

/// qtrain on tensors -> LLVM dialect for the host CPU: lowers qtrain ops
/// (convert-qtrain-to-linalg), checks none is left (qtrain-verify-lowered),
/// vectorizes, bufferizes and converts everything to LLVM. The result runs
/// under mlir-runner and mlir::ExecutionEngine.
void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options);

/// Registers qtrain-lower-to-cpu.
void registerPipelines();

} // namespace mlir::qtrain

#endif // QTRAIN_PIPELINES_PIPELINES_H
