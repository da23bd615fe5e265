//===- QuantizeTraining.cpp - qtrain-quantize-training --------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_QUANTIZETRAININGPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

/// The contractions a recipe quantizes; input #1 is the weight of each.
static bool isContraction(Operation *op) {
  return isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNchwFchwOp,
             linalg::Conv2DNhwcHwcfOp>(op);
}

/// `qtrain.layer`, or else the name of the op's location.
static std::string getLayerName(Operation *op) {
  if (auto name =
          op->getAttrOfType<StringAttr>(QTrainDialect::getLayerAttrName()))
    return name.str();
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  return "";
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
  Location loc = op->getLoc();
  auto seedFor = [&](QuantSpecAttr a, QuantSpecAttr b = {}) -> Value {
    if (!(a && a.isStochastic()) && !(b && b.isStochastic()))
      return {};
    if (BlockArgument seed = getArgWithRole(model, ArgRole::seed))
      return seed;
    return addArgWithRole(model, builder.getI64Type(), ArgRole::seed,
                          model.getLoc());
  };
  auto next = [&] {
    IntegerAttr s = builder.getI32IntegerAttr(stream);
    stream += 4; // a quantizer uses stream, stream + 1 and stream + 2
    return s;
  };
  auto linalgOp = cast<linalg::LinalgOp>(op);
  for (auto [index, spec] :
       {std::pair<unsigned, QuantSpecAttr>{0, specs.activation},
        {1, specs.weight}}) {
    if (!spec)
      continue;
    OpOperand *operand = linalgOp.getDpsInputOperand(index);
    Value input = operand->get();
    operand->set(QuantizerOp::create(builder, loc, input.getType(), input,
                                     seedFor(spec), spec, {}, {}, next()));
  }
  if (!specs.gradient)
    return;
  builder.setInsertionPointAfter(op);
  Value result = op->getResult(0);
  auto gradient =
      QuantizerOp::create(builder, loc, result.getType(), result,
                          seedFor(specs.gradient, specs.weightGradient), {},
                          specs.gradient, specs.weightGradient, next());
  result.replaceAllUsesExcept(gradient, gradient);
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
      if (isContraction(op))
        layers.push_back(op);
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
  }
  for (const auto &name : exempted.keys())
    if (!layerNames.contains(name)) {
      getOperation().emitError()
          << "exempt layer '" << name << "' names no layer; layers are named "
          << "by a 'qtrain.layer' attribute or a location name";
      return signalPassFailure();
    }
}
