//===- CPUPipeline.cpp - qtrain-lower-to-cpu ------------------------------===//

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::qtrain::buildQTrainToLinalgPipeline(OpPassManager &pm,
                                               NumericsTarget target,
                                               bool quantizedContractions) {
  pm.addPass(createExpandQuantizersPass());
  if (quantizedContractions)
    pm.addPass(createQuantizeContractionsPass());
  ConvertQTrainToLinalgPassOptions lowering;
  lowering.target = target;
  pm.addPass(createConvertQTrainToLinalgPass(lowering));
  pm.addPass(createVerifyLoweredPass());
  // Tensor arithmetic of models (arith.addf on tensors) as linalg.generic.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::qtrain::buildBufferizationPipeline(OpPassManager &pm) {
  pm.addPass(createSplitSharedInitsPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Deallocation may copy returned buffers that alias arguments.
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void mlir::qtrain::buildLowerToCPUPipeline(OpPassManager &pm,
                                           const LowerToCPUOptions &options) {
  buildQTrainToLinalgPipeline(pm);
  if (options.vectorize) {
    VectorizeLinalgPassOptions vectorize;
    vectorize.vectorWidth = options.vectorWidth;
    vectorize.im2colBytes = options.im2colBytes;
    pm.addPass(createVectorizeLinalgPass(vectorize));
    pm.addPass(createCanonicalizerPass());
    // Hoists values that do not depend on an inner loop, such as the Philox
    // blocks of stochastic rounding, which four vectors share.
    pm.addPass(createLoopInvariantCodeMotionPass());
    pm.addPass(createCSEPass());
  }

  // After the last CSE, which merges identical inits into shared ones.
  buildBufferizationPipeline(pm);
  // Frees at the last use rather than at the end of the step, so that a
  // training step's activations do not all live at once.
  pm.addNestedPass<func::FuncOp>(createFreeBuffersEarlyPass());

  buildLoopsToLLVMPipeline(pm);
}

void mlir::qtrain::buildLoopsToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createConvertLinalgToLoopsPass());
  // Reductions along the vector become vector.reduction (horizontal adds,
  // or vpdpbusd/vpmaddwd for int8 dot products after LLVM's matching).
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass(
      vector::VectorMultiReductionLowering::InnerReduction));
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  // What LLVM has no intrinsic for (erf, ...) becomes a libm call.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  // omp.parallel's regions (emulated GPU thread blocks) after their ops.
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::qtrain::registerPipelines() {
  PassPipelineRegistration<LowerToCPUOptions>(
      "qtrain-lower-to-cpu",
      "Lower qtrain on tensors to the LLVM dialect for the host CPU",
      buildLowerToCPUPipeline);
  PassPipelineRegistration<LowerToNVVMOptions>(
      "qtrain-lower-to-nvvm",
      "Lower qtrain on tensors to NVVM kernels and host code that launches "
      "them",
      buildLowerToNVVMPipeline);
  PassPipelineRegistration<LowerToNVVMOptions>(
      "qtrain-lower-to-gpu-emulator",
      "Lower qtrain on tensors as for a GPU, then run the kernels on CPU "
      "threads (tensor-core MMAs emulated)",
      buildLowerToGPUEmulatorPipeline);
  PassPipelineRegistration<TrainingStepOptions>(
      "qtrain-training-step",
      "Rewrite models into quantized training steps (recipe, Range BN, "
      "autodiff, optimizer)",
      buildTrainingStepPipeline);
}
