//===- StepModule.h - A model compiled into its training step ---*- C++ -*-===//
//
// qtrain-train's compilation: a model in qtrain's input contract
// (docs/training.md) rewritten by qtrain-training-step, its step and its
// `_logits` evaluation function given flat interfaces (FlatInterface.h),
// and lowered for a target by the JIT.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_TOOLS_QTRAIN_TRAIN_STEPMODULE_H
#define QTRAIN_TOOLS_QTRAIN_TRAIN_STEPMODULE_H

#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Pipelines/Pipelines.h"
#include "qtrain/Runtime/FlatInterface.h"
#include "qtrain/Runtime/JitModule.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qtrain::train {

/// Where each tensor argument of the step lives in the flat input buffer.
struct Slot {
  mlir::qtrain::ArgRole role;
  std::vector<int64_t> shape;
  int64_t offset, size;
  std::optional<mlir::qtrain::ParamInit> init;
};

/// The compiled step (`<name>_step_flat`) and evaluation function
/// (`<name>_logits_flat`) of the model `name`.
struct StepModule {
  std::string name;
  std::unique_ptr<runtime::JitModule> jit;
  std::vector<Slot> slots;
  /// Whether the step takes a seed (stochastic rounding) after its buffers.
  bool hasSeed = false;
  /// Where the step's and the evaluation function's tensors are in their
  /// flat buffers.
  runtime::FlatLayout stepLayout, logitsLayout;
  int64_t evalBatch = 0, classes = 0, pixels = 0;
  int64_t savedBytes = 0; // activations kept for backward, per step
};

struct StepModuleOptions {
  mlir::qtrain::TrainingStepOptions step;
  runtime::Target target;
  /// The source's file name, for diagnostics.
  std::string sourceName;
  /// Print the model, its training step and the lowered module.
  bool dumpIR = false;
};

/// Compiles the model of `source` into `out`; false, with the diagnostics
/// printed and `error` set, where that fails.
bool compileStepModule(const std::string &source,
                       const StepModuleOptions &options, StepModule &out,
                       std::string &error);

/// The initial parameters, into their slots of the step's flat input `in`.
/// As each parameter's `qtrain.init` says; by default `defaultInit` for
/// weights (rank >= 2) and zeros for rank-1 parameters (biases).
void initializeParameters(const StepModule &module,
                          llvm::MutableArrayRef<float> in,
                          mlir::qtrain::ParamInit defaultInit, unsigned seed);

/// The elements of `slots` that `chosen` take, as (offset, size) runs:
/// one run for chosen slots next to each other in the flat layout (no other
/// slot between them), so that one copy moves them.
llvm::SmallVector<std::pair<int64_t, int64_t>>
slotRuns(llvm::ArrayRef<Slot> slots, llvm::ArrayRef<const Slot *> chosen);

const char *recipeName(mlir::qtrain::RecipeKind recipe);

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_STEPMODULE_H
