//===- TrainingStepGPUTest.cpp - Training steps compiled for the GPU ------===//
//
// The example models' training steps, as qtrain-train --device=cuda builds
// them (qtrain-training-step, flat interfaces, qtrain-lower-to-nvvm, the
// execution engine), compile for every chip and recipe on any machine with
// the CUDA toolkit; running them needs a GPU
// (test/Tools/qtrain-train/device-cuda.test).
//
//===----------------------------------------------------------------------===//

#include "Devices.h"

#include "qtrain/Pipelines/Pipelines.h"
#include "qtrain/Runtime/FlatInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace ::qtrain::testing;
using mlir::qtrain::RecipeKind;

namespace {

struct StepCase {
  const char *model;
  RecipeKind recipe;
  const char *recipeName;
};

class TrainingStepGPUTest : public ::testing::TestWithParam<StepCase> {};

TEST_P(TrainingStepGPUTest, CompilesForEveryChip) {
  const StepCase &c = GetParam();
  auto source = llvm::MemoryBuffer::getFile(std::string(QTRAIN_EXAMPLES_DIR) +
                                            "/" + c.model + ".mlir");
  ASSERT_TRUE(source) << c.model;
  expectCompilesForEveryChip(
      (*source)->getBuffer().str(), [&](ModuleOp module) -> LogicalResult {
        PassManager pm(module.getContext());
        mlir::qtrain::TrainingStepOptions options;
        options.recipe = c.recipe;
        mlir::qtrain::buildTrainingStepPipeline(pm, options);
        if (failed(pm.run(module)))
          return failure();
        ::qtrain::runtime::FlatInterfaceOptions flat;
        flat.deviceEntry = true;
        flat.alignmentBytes = 64;
        for (const char *suffix : {"_step", "_logits"}) {
          auto func =
              module.lookupSymbol<func::FuncOp>(std::string(c.model) + suffix);
          if (!func || failed(::qtrain::runtime::addFlatInterface(func, flat)))
            return module.emitError("no ") << suffix << " function";
        }
        return success();
      });
}

INSTANTIATE_TEST_SUITE_P(
    Examples, TrainingStepGPUTest,
    ::testing::Values(StepCase{"mlp", RecipeKind::fp8, "fp8"},
                      StepCase{"mlp", RecipeKind::int8, "int8"},
                      StepCase{"lenet_bn", RecipeKind::hfp8, "hfp8"}),
    [](const auto &info) {
      return std::string(info.param.model) + "_" + info.param.recipeName;
    });

} // namespace
