//===- Recipes.h - Low-precision training recipes ---------------*- C++ -*-===//
//
// A recipe says, for each role a tensor plays in a layer, how it is rounded:
// the forward operands of a contraction, the gradient of its result (for
// the activation-gradient product and, when bifurcated, a separate copy for
// the weight-gradient product), and the master-weight form the optimizer
// keeps. The tables live in Recipes.cpp, written in the dialect's own
// #qtrain.quant syntax; docs/recipes.md shows them as precision tables.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_RECIPES_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_RECIPES_H

#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"

#include "mlir/Support/LLVM.h"

namespace mlir::qtrain {

enum class RecipeKind {
  /// No quantizers: the float baseline.
  fp32,
  /// Banner et al. 2018: affine int8 operands, stochastic int8 activation
  /// gradients, a 16-bit gradient copy for the weight gradients.
  int8,
  /// Sun et al. 2019: 1-4-3 (bias 11) forward, 1-5-2 backward, first and
  /// last layer in 16 bit, loss scaling.
  hfp8,
  /// The OCP hybrid of Hopper GPUs: E4M3 forward, E5M2 backward, per-tensor
  /// scales from the current amax.
  fp8,
  /// Mixed precision as frameworks' autocast does it: bf16 operands and
  /// gradients in every contraction, f32 master weights; the 16-bit
  /// baseline the 8-bit recipes are compared with.
  bf16,
};

/// How the optimizer keeps the weights.
enum class MasterWeights {
  /// An f32 copy.
  f32,
  /// A 16-bit float (dlfloat16) copy updated with stochastic rounding.
  f16Stochastic,
  /// An 8-bit weight (the forward format) plus a 16-bit rounding residual.
  f8PlusResidual,
};

/// The quantizer specs of one class of layers; null specs leave the tensor
/// unrounded.
struct LayerSpecs {
  QuantSpecAttr activation, weight, gradient, weightGradient;
};

struct Recipe {
  /// Every contraction, except the first and last when `edge` is set.
  LayerSpecs layers;
  /// The first and last contraction, when they differ.
  std::optional<LayerSpecs> edge;
  /// Batch norms (the decomposed form qtrain-range-batchnorm recognizes):
  /// the forward spec of their input and the backward spec of the gradient
  /// entering them; null leaves them in f32.
  QuantSpecAttr batchNormInput, batchNormGradient;
};

/// The table of `kind`.
Recipe getRecipe(MLIRContext *context, RecipeKind kind);

/// How the optimizer keeps the weights under `kind`.
MasterWeights getMasterWeights(RecipeKind kind);
/// Whether `kind` rounds gradients without per-tensor scales, and so needs
/// loss scaling.
bool needsLossScaling(RecipeKind kind);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_RECIPES_H
