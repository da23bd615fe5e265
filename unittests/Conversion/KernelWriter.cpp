//===- KernelWriter.cpp - MLIR kernels for execution tests ----------------===//

#include "KernelWriter.h"

namespace qtrain::testing {

static int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string KernelWriter::tensorType(const std::vector<int64_t> &shape,
                                     const std::string &type) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + type + ">";
}

/// The reassociation collapsing all of `rank` dimensions into one.
static std::string allDims(size_t rank) {
  std::string s = "[[";
  for (size_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(i);
  return s + "]]";
}

static std::string shapeList(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string KernelWriter::arg(const std::string &arg,
                              const std::vector<int64_t> &shape,
                              const std::string &type) {
  int64_t n = product(shape);
  std::string flat = "memref<" + std::to_string(n) + "x" + type + ">";
  args += std::string(args.empty() ? "" : ", ") + "%" + arg + ": " + flat;
  std::string t = "%" + arg + "_flat";
  line(t + " = bufferization.to_tensor %" + arg + " restrict : " + flat +
       " to " + tensorType({n}, type));
  std::string v = "%" + arg + "_t";
  if (shape.empty())
    line(v + " = tensor.collapse_shape " + t +
         " [] : " + tensorType({1}, type) + " into " + tensorType({}, type));
  else
    line(v + " = tensor.expand_shape " + t + " " + allDims(shape.size()) +
         " output_shape " + shapeList(shape) + " : " + tensorType({n}, type) +
         " into " + tensorType(shape, type));
  return v;
}

std::string KernelWriter::scalar(const std::string &arg,
                                 const std::string &type) {
  args += std::string(args.empty() ? "" : ", ") + "%" + arg + ": " + type;
  return "%" + arg;
}

void KernelWriter::output(const std::string &arg, const std::string &value,
                          const std::vector<int64_t> &shape,
                          const std::string &type) {
  int64_t n = product(shape);
  std::string flat = "memref<" + std::to_string(n) + "x" + type + ">";
  args += std::string(args.empty() ? "" : ", ") + "%" + arg + ": " + flat;
  std::string v = "%" + arg + "_out" + std::to_string(counter++);
  if (shape.empty())
    outputs += "  " + v + " = tensor.expand_shape " + value +
               " [] output_shape [1] : " + tensorType({}, type) + " into " +
               tensorType({1}, type) + "\n";
  else
    outputs += "  " + v + " = tensor.collapse_shape " + value + " " +
               allDims(shape.size()) + " : " + tensorType(shape, type) +
               " into " + tensorType({n}, type) + "\n";
  outputs += "  bufferization.materialize_in_destination " + v +
             " in restrict writable %" + arg + " : (" + tensorType({n}, type) +
             ", " + flat + ") -> ()\n";
}

std::string KernelWriter::str() const {
  return "func.func @" + name + "(" + args +
         ") attributes {llvm.emit_c_interface} {\n" + body + outputs +
         "  return\n}\n";
}

} // namespace qtrain::testing
