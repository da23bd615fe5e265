//===- FlatModule.h - Compile models for execution tests --------*- C++ -*-===//

#ifndef QTRAIN_UNITTESTS_TRANSFORMS_FLATMODULE_H
#define QTRAIN_UNITTESTS_TRANSFORMS_FLATMODULE_H

#include "qtrain/Runtime/FlatInterface.h"
#include "qtrain/Runtime/JitModule.h"

#include "mlir/Pass/PassManager.h"

#include <functional>
#include <string>
#include <vector>

namespace qtrain::testing {

/// Adds the passes a test runs before the lowering.
using PassAdder = std::function<void(mlir::OpPassManager &)>;

/// `@<name>_flat`: tensors in one buffer, results in another (see
/// FlatInterface.h).
template <typename T>
using FlatFn = void (*)(StridedMemRefType<T, 1> *, StridedMemRefType<T, 1> *);
template <typename T>
using FlatFnWithSeed = void (*)(StridedMemRefType<T, 1> *,
                                StridedMemRefType<T, 1> *, int64_t);

/// Parses `source`, runs `passes`, lets `inspect` look at the module, adds
/// flat interfaces to `functions`, and compiles for the CPU with the
/// `lowering` options. Returns null and sets `error` on failure.
inline std::unique_ptr<runtime::JitModule>
compileFlat(const std::string &source, const PassAdder &passes,
            const std::vector<std::string> &functions, std::string &error,
            const std::function<void(mlir::ModuleOp)> &inspect = {},
            const mlir::qtrain::LowerToCPUOptions &lowering = {}) {
  return runtime::JitModule::compile(
      source, error, runtime::Target::cpu(&lowering),
      [&](mlir::ModuleOp module) {
        mlir::PassManager pm(module.getContext());
        if (passes)
          passes(pm);
        if (mlir::failed(pm.run(module)))
          return mlir::failure();
        if (inspect)
          inspect(module);
        for (const std::string &name : functions) {
          auto func = module.lookupSymbol<mlir::func::FuncOp>(name);
          if (!func || mlir::failed(runtime::addFlatInterface(func)))
            return mlir::failure();
        }
        return mlir::success();
      });
}

} // namespace qtrain::testing

#endif // QTRAIN_UNITTESTS_TRANSFORMS_FLATMODULE_H
