//===- JitModule.h - Compile MLIR source for execution tests ----*- C++ -*-===//
//
// Parses MLIR source, lowers it with qtrain-lower-to-cpu and JIT-compiles it
// with mlir::ExecutionEngine, so tests can call the compiled functions (those
// marked llvm.emit_c_interface) on real data.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_UNITTESTS_CONVERSION_JITMODULE_H
#define QTRAIN_UNITTESTS_CONVERSION_JITMODULE_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <memory>
#include <string>
#include <vector>

namespace qtrain::testing {

class JitModule {
public:
  /// Compiles `source`; on failure returns null and sets `error` (with the
  /// diagnostics).
  static std::unique_ptr<JitModule> compile(const std::string &source,
                                            std::string &error);

  /// The C interface (_mlir_ciface_<name>) of a compiled function.
  template <typename Fn> Fn lookup(const std::string &name) {
    auto symbol = engine->lookup("_mlir_ciface_" + name);
    if (!symbol) {
      llvm::consumeError(symbol.takeError());
      return nullptr;
    }
    return reinterpret_cast<Fn>(*symbol);
  }

private:
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

/// Writes MLIR kernels whose arguments are flat static memrefs, reshaped to
/// the shapes a test needs, and whose results are written back flat.
class KernelWriter {
public:
  explicit KernelWriter(std::string name) : name(std::move(name)) {}

  /// Adds an argument `%<arg>` of `shape` and element type `type` (passed as
  /// a flat memref) and returns the name of the reshaped tensor value.
  std::string arg(const std::string &arg, const std::vector<int64_t> &shape,
                  const std::string &type);
  /// Adds a scalar argument.
  std::string scalar(const std::string &arg, const std::string &type);
  /// Adds an output `%<arg>` receiving `value` (a tensor of `shape`).
  void output(const std::string &arg, const std::string &value,
              const std::vector<int64_t> &shape, const std::string &type);
  /// Adds a line of the body.
  void line(const std::string &text) { body += "  " + text + "\n"; }

  std::string str() const;

  static std::string tensorType(const std::vector<int64_t> &shape,
                                const std::string &type);

private:
  std::string name, args, body, outputs;
  int counter = 0;
};

/// A 1-D memref descriptor over a vector's storage.
template <typename T> StridedMemRefType<T, 1> memref1D(std::vector<T> &v) {
  return StridedMemRefType<T, 1>{
      v.data(), v.data(), 0, {int64_t(v.size())}, {1}};
}

} // namespace qtrain::testing

#endif // QTRAIN_UNITTESTS_CONVERSION_JITMODULE_H
