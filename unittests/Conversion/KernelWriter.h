//===- KernelWriter.h - MLIR kernels for execution tests --------*- C++ -*-===//

#ifndef QTRAIN_UNITTESTS_CONVERSION_KERNELWRITER_H
#define QTRAIN_UNITTESTS_CONVERSION_KERNELWRITER_H

#include "qtrain/Runtime/JitModule.h"

#include <string>
#include <vector>

namespace qtrain::testing {

using runtime::JitModule;
using runtime::memref1D;

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

} // namespace qtrain::testing

#endif // QTRAIN_UNITTESTS_CONVERSION_KERNELWRITER_H
