//===- GradientCheck.h - Gradients of compiled models -----------*- C++ -*-===//
//
// Compiles a model and its qtrain-autodiff gradient function for execution,
// and checks gradients against central finite differences of the compiled
// forward function.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_UNITTESTS_TRANSFORMS_GRADIENTCHECK_H
#define QTRAIN_UNITTESTS_TRANSFORMS_GRADIENTCHECK_H

#include "FlatModule.h"

#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

namespace qtrain::testing {

using ::qtrain::runtime::JitModule;
using ::qtrain::runtime::memref1D;

/// A compiled model: its forward function and its gradient function, both
/// through the flat interface, and which slices of the argument buffer are
/// parameters.
template <typename T> struct CompiledModel {
  std::unique_ptr<JitModule> jit;
  FlatFn<T> forward = nullptr, gradient = nullptr;
  int64_t numArgs = 0;                             // elements
  std::vector<std::pair<int64_t, int64_t>> params; // offset, size

  T loss(std::vector<T> &args) const {
    std::vector<T> out(1);
    auto in = memref1D(args), res = memref1D(out);
    forward(&in, &res);
    return out[0];
  }
  /// The loss followed by the gradients.
  std::vector<T> lossAndGradients(std::vector<T> &args) const {
    int64_t numGrads = 0;
    for (auto [offset, size] : params)
      numGrads += size;
    std::vector<T> out(1 + numGrads);
    auto in = memref1D(args), res = memref1D(out);
    gradient(&in, &res);
    return out;
  }
};

template <typename T>
inline CompiledModel<T> compile(const std::string &source,
                                const std::string &name,
                                const PassAdder &before = {}) {
  CompiledModel<T> model;
  std::string error;
  PassAdder passes = [&](mlir::OpPassManager &pm) {
    if (before)
      before(pm);
    pm.addPass(mlir::qtrain::createAutodiffPass());
  };
  model.jit = compileFlat(source, passes, {name, name + "_grad"}, error,
                          [&](mlir::ModuleOp module) {
                            auto f =
                                module.lookupSymbol<mlir::func::FuncOp>(name);
                            for (unsigned i = 0; i < f.getNumArguments(); ++i) {
                              int64_t n = mlir::cast<mlir::RankedTensorType>(
                                              f.getArgumentTypes()[i])
                                              .getNumElements();
                              if (mlir::qtrain::getArgRole(f, i) ==
                                  mlir::qtrain::ArgRole::parameter)
                                model.params.push_back({model.numArgs, n});
                              model.numArgs += n;
                            }
                          });
  EXPECT_TRUE(model.jit) << error;
  if (!model.jit)
    return model;
  model.forward = model.jit->template lookup<FlatFn<T>>(name + "_flat");
  model.gradient = model.jit->template lookup<FlatFn<T>>(name + "_grad_flat");
  return model;
}

/// Compares the gradient of `name` with central differences at random
/// arguments drawn from N(0, 1) with `seed`.
inline void checkGradients(const std::string &source, const std::string &name,
                           const PassAdder &before = {}, unsigned seed = 1) {
  CompiledModel<double> model = compile<double>(source, name, before);
  ASSERT_TRUE(model.forward && model.gradient);
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> args(model.numArgs);
  for (double &a : args)
    a = normal(rng);

  std::vector<double> out = model.lossAndGradients(args);
  EXPECT_DOUBLE_EQ(out[0], model.loss(args)) << "loss of the gradient function";

  const double h = 1e-5;
  int64_t g = 1;
  for (auto [offset, size] : model.params)
    for (int64_t i = offset; i < offset + size; ++i, ++g) {
      double saved = args[i];
      args[i] = saved + h;
      double up = model.loss(args);
      args[i] = saved - h;
      double down = model.loss(args);
      args[i] = saved;
      double fd = (up - down) / (2 * h);
      EXPECT_NEAR(out[g], fd, 1e-7 + 1e-6 * std::fabs(fd))
          << "gradient element " << g - 1 << " (argument element " << i << ")";
    }
}

} // namespace qtrain::testing

#endif // QTRAIN_UNITTESTS_TRANSFORMS_GRADIENTCHECK_H
