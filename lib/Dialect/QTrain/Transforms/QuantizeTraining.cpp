//===- QuantizeTraining.cpp - qtrain-quantize-training --------------------===//

#include "BatchNormMatch.h"

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/SavedActivations.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_QUANTIZETRAININGPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

/// `spec` with delayed scaling over `history` steps if it scales per tensor
/// by absmax (the form delayed scaling applies to), else `spec` itself.
static QuantSpecAttr withHistory(QuantSpecAttr spec, int64_t history) {
  if (!spec || spec.isDelayed() || !spec.getScaling() ||
      spec.getScaling().getMethod() != ScaleMethod::absmax ||
      spec.getScaling().getGranularity().getKind() !=
          GranularityKind::per_tensor)
    return spec;
  return QuantSpecAttr::get(spec.getContext(), spec.getFormat(),
                            spec.getRounding(), spec.getScaling(), history);
}

namespace {
struct QuantizeTrainingPass
    : mlir::qtrain::impl::QuantizeTrainingPassBase<QuantizeTrainingPass> {
  using QuantizeTrainingPassBase::QuantizeTrainingPassBase;

  void runOnOperation() override;

private:
  /// Replaces `spec` by the option's attribute ("" keeps it).
  LogicalResult override(StringRef option, StringRef text, QuantSpecAttr &spec);
  void quantizeLayer(Operation *op, const LayerSpecs &specs,
                     FunctionOpInterface model, int32_t &stream);
  void quantizeBatchNorm(const BatchNormMatch &bn, const Recipe &recipe,
                         FunctionOpInterface model, int32_t &stream);
};

/// Builds quantizers of one model, with distinct streams, the model's seed
/// argument (added when a spec rounds stochastically) and a state argument
/// per delayed spec for its amax history.
struct QuantizerBuilder {
  OpBuilder &builder;
  FunctionOpInterface model;
  int32_t &stream;

  Value create(Location loc, Value input, QuantSpecAttr forward,
               QuantSpecAttr backward, QuantSpecAttr weightBackward = {}) {
    Value seed;
    if (llvm::any_of(ArrayRef<QuantSpecAttr>{forward, backward, weightBackward},
                     [](QuantSpecAttr s) { return s && s.isStochastic(); })) {
      seed = getArgWithRole(model, ArgRole::seed);
      if (!seed)
        seed = addArgWithRole(model, builder.getI64Type(), ArgRole::seed,
                              model.getLoc());
    }
    SmallVector<Value> histories;
    for (QuantSpecAttr spec : {forward, backward, weightBackward})
      if (spec && spec.isDelayed())
        histories.push_back(addArgWithRole(model, spec.getHistoryType(),
                                           ArgRole::state, model.getLoc()));
    IntegerAttr streamAttr = builder.getI32IntegerAttr(stream);
    stream += 4; // a quantizer uses stream, stream + 1 and stream + 2
    auto op = QuantizerOp::create(builder, loc, input, seed, histories, forward,
                                  backward, weightBackward, streamAttr);
    for (Value next : op.getNewHistories())
      appendResult(model, next);
    return op.getResult();
  }
};
} // namespace

LogicalResult QuantizeTrainingPass::override(StringRef option, StringRef text,
                                             QuantSpecAttr &spec) {
  text = text.trim();
  if (text.empty())
    return success();
  if (text == "none") {
    spec = {};
    return success();
  }
  // The option holds an attribute in the dialect's own syntax, parsed by
  // MLIR's parser rather than by hand.
  std::string full =
      text.starts_with("<") ? ("#qtrain.quant" + text).str() : text.str();
  Attribute attr = parseAttribute(full, &getContext());
  spec = dyn_cast_or_null<QuantSpecAttr>(attr);
  if (!spec)
    return getOperation().emitError()
           << "option '" << option << "' must be a #qtrain.quant<format, "
           << "rounding[, scaling <...>]> attribute or 'none', got '" << text
           << "'";
  return success();
}

void QuantizeTrainingPass::quantizeLayer(Operation *op, const LayerSpecs &specs,
                                         FunctionOpInterface model,
                                         int32_t &stream) {
  OpBuilder builder(op);
  QuantizerBuilder quantizers{builder, model, stream};
  Location loc = op->getLoc();
  auto linalgOp = cast<linalg::LinalgOp>(op);
  for (auto [index, spec] :
       {std::pair<unsigned, QuantSpecAttr>{0, specs.activation},
        {1, specs.weight}}) {
    if (!spec)
      continue;
    OpOperand *operand = linalgOp.getDpsInputOperand(index);
    operand->set(quantizers.create(loc, operand->get(), spec, {}));
  }
  if (!specs.gradient)
    return;
  builder.setInsertionPointAfter(op);
  Value result = op->getResult(0);
  Value gradient =
      quantizers.create(loc, result, {}, specs.gradient, specs.weightGradient);
  result.replaceAllUsesExcept(gradient, gradient.getDefiningOp());
}

/// Rounds the input of a batch norm (what its mean and centering read) and
/// the gradient entering it (at the op that applies the inverse standard
/// deviation), as the reference code of Banner et al. does.
void QuantizeTrainingPass::quantizeBatchNorm(const BatchNormMatch &bn,
                                             const Recipe &recipe,
                                             FunctionOpInterface model,
                                             int32_t &stream) {
  OpBuilder builder(&getContext());
  QuantizerBuilder quantizers{builder, model, stream};
  auto centering = bn.centered.getDefiningOp<linalg::GenericOp>();
  if (recipe.batchNormInput && centering) {
    for (OpOperand *operand : centering.getDpsInputOperands()) {
      Value input = operand->get();
      if (input.getType() != bn.centered.getType())
        continue;
      builder.setInsertionPointAfterValue(input);
      Value rounded = quantizers.create(centering.getLoc(), input,
                                        recipe.batchNormInput, {});
      input.replaceAllUsesExcept(rounded, rounded.getDefiningOp());
      break;
    }
  }
  if (!recipe.batchNormGradient)
    return;
  for (Operation *user : bn.inverseStd->getUsers()) {
    auto normalize = dyn_cast<linalg::GenericOp>(user);
    if (!normalize ||
        !llvm::is_contained(normalize.getDpsInputs(), bn.centered))
      continue;
    builder.setInsertionPointAfter(normalize);
    Value output = normalize.getResult(0);
    Value rounded = quantizers.create(normalize.getLoc(), output, {},
                                      recipe.batchNormGradient);
    output.replaceAllUsesExcept(rounded, rounded.getDefiningOp());
    return;
  }
}

void QuantizeTrainingPass::runOnOperation() {
  Recipe recipe = getRecipe(&getContext(), this->recipe);
  for (LayerSpecs *specs :
       {&recipe.layers, recipe.edge ? &*recipe.edge : nullptr}) {
    if (!specs)
      continue;
    if (failed(override("activation", activation, specs->activation)) ||
        failed(override("weight", weight, specs->weight)) ||
        failed(override("gradient", gradient, specs->gradient)) ||
        failed(
            override("weight-gradient", weightGradient, specs->weightGradient)))
      return signalPassFailure();
    if (amaxHistory < 0) {
      getOperation().emitError()
          << "amax-history must be a positive length or 0, got "
          << int64_t(amaxHistory);
      return signalPassFailure();
    }
    if (amaxHistory > 0)
      for (QuantSpecAttr *spec : {&specs->activation, &specs->weight,
                                  &specs->gradient, &specs->weightGradient})
        *spec = withHistory(*spec, amaxHistory);
    if (specs->weightGradient && !specs->gradient) {
      getOperation().emitError("a weight-gradient spec splits the gradient "
                               "spec; the recipe has none (gradient=none?)");
      return signalPassFailure();
    }
  }

  llvm::StringSet<> exempted(llvm::from_range, exempt);
  llvm::StringSet<> layerNames;
  for (auto model : getOperation().getOps<FunctionOpInterface>()) {
    if (!isModel(model))
      continue;
    SmallVector<Operation *> layers;
    model.walk([&](Operation *op) {
      if (isLayerOp(op))
        layers.push_back(op);
    });
    SmallVector<BatchNormMatch> batchNorms;
    model.walk([&](linalg::GenericOp op) {
      if (std::optional<BatchNormMatch> bn = matchBatchNorm(op))
        batchNorms.push_back(*bn);
    });
    int32_t stream = 0;
    for (auto [i, op] : llvm::enumerate(layers)) {
      std::string name = getLayerName(op);
      layerNames.insert(name);
      if (exempted.contains(name))
        continue;
      bool isEdge = i == 0 || i + 1 == layers.size();
      quantizeLayer(op, isEdge && recipe.edge ? *recipe.edge : recipe.layers,
                    model, stream);
    }
    for (const BatchNormMatch &bn : batchNorms)
      quantizeBatchNorm(bn, recipe, model, stream);
  }
  for (const auto &name : exempted.keys())
    if (!layerNames.contains(name)) {
      getOperation().emitError()
          << "exempt layer '" << name << "' names no layer; layers are named "
          << "by a 'qtrain.layer' attribute or a location name";
      return signalPassFailure();
    }
}
