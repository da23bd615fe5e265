//===- Recipes.cpp - The recipe tables ------------------------------------===//
//
// Each role's spec is written in #qtrain.quant syntax and parsed by the
// dialect, so a recipe reads like the IR it produces. Facts and their
// sources are in ../shared/docs/seed-methods.md (sections 1.3 and 2.3) and
// docs/recipes.md.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Recipes.h"

#include "mlir/AsmParser/AsmParser.h"

using namespace mlir;
using namespace mlir::qtrain;

namespace {
struct SpecTable {
  const char *activation, *weight, *gradient, *weightGradient;
};
} // namespace

// Banner et al.: activations over the batch-mean of per-sample min/max,
// weights over their min/max, both round-to-nearest; the layer gradient
// over its true min/max with stochastic rounding for the activation-
// gradient product, and a 16-bit copy (bf16 here: the paper's 16-bit
// format is not confirmed) for the weight-gradient product.
static constexpr SpecTable kInt8 = {
    "<int<8, unsigned>, nearest_even, scaling <batch_minmax>>",
    "<int<8, unsigned>, nearest_even, scaling <minmax>>",
    "<int<8, unsigned>, stochastic, scaling <minmax>>",
    "<float<bf16>, nearest_even>"};

// Sun et al.: no per-tensor scales, the fixed bias does the job, and the
// global loss scale keeps 1-5-2 gradients in range.
static constexpr SpecTable kHfp8 = {"<float<hfp8_e4m3>, nearest_even>",
                                    "<float<hfp8_e4m3>, nearest_even>",
                                    "<float<f8E5M2>, nearest_even>", nullptr};

// First and last layer of HFP8: IBM's 16-bit DLFloat (1-6-9).
static constexpr SpecTable kHfp8Edge = {
    "<float<dlfloat16>, nearest_even>", "<float<dlfloat16>, nearest_even>",
    "<float<dlfloat16>, nearest_even>", nullptr};

// OCP FP8 as on Hopper: per-tensor scales from the current amax.
static constexpr SpecTable kFp8 = {
    "<float<f8E4M3FN>, nearest_even, scaling <absmax>>",
    "<float<f8E4M3FN>, nearest_even, scaling <absmax>>",
    "<float<f8E5M2>, nearest_even, scaling <absmax>>", nullptr};

// Autocast-style mixed precision: every contraction's operands and its
// gradient in bf16, which has f32's range (no scales, no loss scaling).
static constexpr SpecTable kBf16 = {"<float<bf16>, nearest_even>",
                                    "<float<bf16>, nearest_even>",
                                    "<float<bf16>, nearest_even>", nullptr};

static QuantSpecAttr parseSpec(MLIRContext *context, const char *text) {
  if (!text)
    return {};
  // The tables are part of the compiler: a spec that does not parse is a
  // bug caught by every test that uses the recipe.
  return cast<QuantSpecAttr>(
      parseAttribute(std::string("#qtrain.quant") + text, context));
}

static LayerSpecs parseSpecs(MLIRContext *context, const SpecTable &table) {
  return {parseSpec(context, table.activation),
          parseSpec(context, table.weight), parseSpec(context, table.gradient),
          parseSpec(context, table.weightGradient)};
}

Recipe mlir::qtrain::getRecipe(MLIRContext *context, RecipeKind kind) {
  Recipe recipe;
  switch (kind) {
  case RecipeKind::fp32:
    break;
  case RecipeKind::int8:
    recipe.layers = parseSpecs(context, kInt8);
    // The reference code rounds the BN input like an activation and the
    // gradient entering BN like a layer gradient.
    recipe.batchNormInput = parseSpec(context, kInt8.activation);
    recipe.batchNormGradient = parseSpec(context, kInt8.gradient);
    break;
  case RecipeKind::hfp8:
    recipe.layers = parseSpecs(context, kHfp8);
    recipe.edge = parseSpecs(context, kHfp8Edge);
    break;
  case RecipeKind::fp8:
    recipe.layers = parseSpecs(context, kFp8);
    break;
  case RecipeKind::bf16:
    recipe.layers = parseSpecs(context, kBf16);
    break;
  }
  return recipe;
}

MasterWeights mlir::qtrain::getMasterWeights(RecipeKind kind) {
  // HFP8 keeps 16-bit master weights as an 8-bit weight plus a residual;
  // the others keep f32 (Banner et al.'s "updates (float32)").
  return kind == RecipeKind::hfp8 ? MasterWeights::f8PlusResidual
                                  : MasterWeights::f32;
}

bool mlir::qtrain::needsLossScaling(RecipeKind kind) {
  // Only HFP8 rounds gradients without a per-tensor scale.
  return kind == RecipeKind::hfp8;
}
