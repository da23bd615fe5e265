//===- TrainingPipeline.cpp - qtrain-training-step ------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qtrain;

void mlir::qtrain::buildTrainingStepPipeline(
    OpPassManager &pm, const TrainingStepOptions &options) {
  RecipeKind kind = options.recipe;
  QuantizeTrainingPassOptions quantize;
  quantize.recipe = kind;
  quantize.exempt.assign(options.exempt.begin(), options.exempt.end());
  quantize.amaxHistory = options.amaxHistory;
  if (kind != RecipeKind::fp32)
    pm.addPass(createQuantizeTrainingPass(quantize));
  bool rangeBatchNorm = options.rangeBatchNorm == RangeBatchNormMode::on ||
                        (options.rangeBatchNorm == RangeBatchNormMode::recipe &&
                         kind == RecipeKind::int8);
  if (rangeBatchNorm) {
    RangeBatchNormPassOptions range;
    range.chunks = options.rangeBatchNormChunks;
    range.constant = options.rangeBatchNormConstant;
    pm.addNestedPass<func::FuncOp>(createRangeBatchNormPass(range));
  }

  // The recipe decides the master weights and whether gradients need a
  // loss scale (HFP8's unscaled 1-5-2 gradients do).
  bool lossScaling = needsLossScaling(kind);
  AutodiffPassOptions autodiff;
  autodiff.lossScale = lossScaling;
  pm.addPass(createAutodiffPass(autodiff));
  if (options.activationBits != 0) {
    CompressActivationsPassOptions compress;
    compress.bits = options.activationBits;
    pm.addPass(createCompressActivationsPass(compress));
  }
  OptimizerPassOptions optimizer;
  optimizer.momentum = options.momentum;
  optimizer.weightDecay = options.weightDecay;
  optimizer.lossScaling = lossScaling;
  optimizer.growthInterval = options.growthInterval;
  optimizer.masterWeights = getMasterWeights(kind);
  pm.addPass(createOptimizerPass(optimizer));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
