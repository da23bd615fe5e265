//===- StepModule.cpp - A model compiled into its training step -----------===//

#include "StepModule.h"

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <random>

using namespace mlir;
using mlir::qtrain::ArgRole;
using mlir::qtrain::ParamInit;
using mlir::qtrain::RecipeKind;

namespace qtrain::train {

const char *recipeName(RecipeKind recipe) {
  switch (recipe) {
  case RecipeKind::fp32:
    return "fp32";
  case RecipeKind::int8:
    return "int8";
  case RecipeKind::hfp8:
    return "hfp8";
  case RecipeKind::fp8:
    return "fp8";
  case RecipeKind::bf16:
    return "bf16";
  }
  return "?";
}

static func::FuncOp findModel(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>())
    if (mlir::qtrain::isModel(func) && !func->hasAttr("qtrain.gradient_of"))
      return func;
  return {};
}

static const char *loweringName(runtime::Target::Device device) {
  switch (device) {
  case runtime::Target::Device::cpu:
    return "qtrain-lower-to-cpu";
  case runtime::Target::Device::cuda:
    return "qtrain-lower-to-nvvm";
  case runtime::Target::Device::gpuEmulator:
    return "qtrain-lower-to-gpu-emulator";
  }
  return "?";
}

bool compileStepModule(const std::string &source,
                       const StepModuleOptions &options, StepModule &out,
                       std::string &error) {
  const runtime::Target &target = options.target;
  std::string &modelName = out.name;
  out.jit = runtime::JitModule::compile(
      source, error, target,
      [&](ModuleOp module) -> LogicalResult {
        func::FuncOp model = findModel(module);
        if (!model)
          return module.emitError("no model: a function with "
                                  "#qtrain<role parameter> arguments "
                                  "(docs/training.md)");
        modelName = model.getName().str();
        auto logits = module.lookupSymbol<func::FuncOp>(modelName + "_logits");
        if (!logits || logits.getNumResults() != 1)
          return model.emitError("the model needs an evaluation function @")
                 << modelName << "_logits(parameters..., images) -> logits";
        auto logitsType =
            dyn_cast<RankedTensorType>(logits.getResultTypes()[0]);
        auto imagesType =
            dyn_cast<RankedTensorType>(logits.getArgumentTypes().back());
        if (!logitsType || logitsType.getRank() != 2 || !imagesType)
          return logits.emitError("expected images -> logits [batch, classes]");
        out.evalBatch = logitsType.getDimSize(0);
        out.classes = logitsType.getDimSize(1);
        out.pixels = imagesType.getNumElements() / out.evalBatch;
        if (options.dumpIR)
          llvm::outs() << "// ----- model\n" << module << "\n";

        PassManager pm(module.getContext());
        mlir::qtrain::buildTrainingStepPipeline(pm, options.step);
        if (failed(applyPassManagerCLOptions(pm)) || failed(pm.run(module)))
          return failure();
        if (options.dumpIR)
          llvm::outs() << "// ----- training step (qtrain-training-step, "
                       << recipeName(options.step.recipe) << ")\n"
                       << module << "\n";

        auto step = module.lookupSymbol<func::FuncOp>(modelName + "_step");
        if (auto grad = module.lookupSymbol<func::FuncOp>(modelName + "_grad"))
          if (auto saved = grad->getAttrOfType<IntegerAttr>(
                  mlir::qtrain::QTrainDialect::getSavedBytesAttrName()))
            out.savedBytes = saved.getInt();
        // On a GPU, the driver keeps the flat buffers on the device. Each
        // tensor starts on a cache line (and TMA's 16-byte alignment).
        runtime::FlatInterfaceOptions flat;
        flat.deviceEntry = target.device != runtime::Target::Device::cpu;
        flat.alignmentBytes = 64;
        // The step's results (the loss, then the new parameters and state
        // in argument order) in their arguments' places: the driver passes
        // one step's output buffer as the next one's input.
        runtime::FlatInterfaceOptions stepFlat = flat;
        stepFlat.resultArguments.push_back(-1);
        for (ArgRole group : {ArgRole::parameter, ArgRole::state})
          for (unsigned i = 0; i < step.getNumArguments(); ++i)
            if (mlir::qtrain::getArgRole(step, i) == group)
              stepFlat.resultArguments.push_back(i);
        auto stepLayout = runtime::getFlatLayout(step, stepFlat);
        auto logitsLayout = runtime::getFlatLayout(logits, flat);
        if (failed(stepLayout) || failed(logitsLayout))
          return failure();
        out.stepLayout = *stepLayout;
        out.logitsLayout = *logitsLayout;
        for (unsigned i = 0; i < step.getNumArguments(); ++i) {
          Type type = step.getArgumentTypes()[i];
          if (type.isInteger(64)) {
            out.hasSeed = true;
            continue;
          }
          auto tensor = cast<RankedTensorType>(type);
          std::optional<ArgRole> role = mlir::qtrain::getArgRole(step, i);
          std::optional<mlir::qtrain::ParamInit> init;
          if (auto attr = step.getArgAttrOfType<mlir::qtrain::ParamInitAttr>(
                  i, mlir::qtrain::QTrainDialect::getInitAttrName()))
            init = attr.getValue();
          out.slots.push_back(
              {role.value_or(ArgRole::input), tensor.getShape().vec(),
               out.stepLayout.arguments[i], tensor.getNumElements(), init});
        }
        if (failed(runtime::addFlatInterface(step, stepFlat)) ||
            failed(runtime::addFlatInterface(logits, flat)))
          return failure();
        // Only the flat functions are called: inlined into them, the
        // functions they call (the step's gradient function) read the flat
        // buffers in place too, and are then compiled once.
        for (auto func : module.getOps<func::FuncOp>())
          if (!func->hasAttr("llvm.emit_c_interface"))
            func.setPrivate();
        PassManager inlining(module.getContext());
        inlining.addPass(createInlinerPass());
        inlining.addPass(createSymbolDCEPass());
        return inlining.run(module);
      },
      options.sourceName,
      [&](ModuleOp module) {
        if (options.dumpIR)
          llvm::outs() << "// ----- lowered (" << loweringName(target.device)
                       << ")\n"
                       << module << "\n";
      });
  return bool(out.jit);
}

// The fan-in is every dimension but the output one (the first of an [in,
// out] matrix, the last three of an [F, C, KH, KW] filter), the fan-out
// every dimension but the input one.
void initializeParameters(const StepModule &module, MutableArrayRef<float> in,
                          ParamInit defaultInit, unsigned seed) {
  std::mt19937 rng(seed);
  for (const Slot &s : module.slots) {
    if (s.role != ArgRole::parameter)
      continue;
    ParamInit init =
        s.init.value_or(s.shape.size() >= 2 ? defaultInit : ParamInit::zeros);
    bool matrix = s.shape.size() == 2;
    float fanIn = float(matrix ? s.shape[0] : s.size / s.shape[0]);
    float fanOut = float(matrix               ? s.shape[1]
                         : s.shape.size() > 1 ? s.size / s.shape[1]
                                              : s.size);
    std::normal_distribution<float> he(0.0f, std::sqrt(2.0f / fanIn));
    float a = std::sqrt(6.0f / (fanIn + fanOut));
    std::uniform_real_distribution<float> glorot(-a, a);
    for (int64_t i = 0; i < s.size; ++i) {
      float &v = in[s.offset + i];
      switch (init) {
      case ParamInit::he_normal:
        v = he(rng);
        break;
      case ParamInit::glorot_uniform:
        v = glorot(rng);
        break;
      case ParamInit::ones:
        v = 1.0f;
        break;
      case ParamInit::zeros:
        v = 0.0f;
        break;
      }
    }
  }
}

SmallVector<std::pair<int64_t, int64_t>>
slotRuns(ArrayRef<Slot> slots, ArrayRef<const Slot *> chosen) {
  SmallVector<const Slot *> byOffset =
      llvm::map_to_vector(slots, [](const Slot &s) { return &s; });
  llvm::sort(byOffset, [](const Slot *a, const Slot *b) {
    return a->offset < b->offset;
  });
  SmallVector<std::pair<int64_t, int64_t>> runs;
  bool extend = false;
  for (const Slot *slot : byOffset) {
    if (!llvm::is_contained(chosen, slot)) {
      extend = false;
      continue;
    }
    if (extend)
      runs.back().second = slot->offset + slot->size - runs.back().first;
    else
      runs.push_back({slot->offset, slot->size});
    extend = true;
  }
  return runs;
}

} // namespace qtrain::train
