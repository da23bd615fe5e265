//===- FlatInterface.h - One-buffer calling convention ----------*- C++ -*-===//
//
// Functions on many tensors are awkward to call through the C interface
// (one memref descriptor per argument). A flat interface takes all tensor
// arguments concatenated in one buffer and writes all results concatenated
// into another, so a host program calls any model function the same way.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_FLATINTERFACE_H
#define QTRAIN_RUNTIME_FLATINTERFACE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qtrain::runtime {

/// Adds `@<name>_flat(%in: memref<N x T>, %out: memref<M x T>, ...)` (with
/// `llvm.emit_c_interface`) next to `func`, which must take and return
/// static tensors of element type T, and may take integer scalars (seeds).
/// `%in` holds the tensor arguments in order, each flattened row-major;
/// `%out` receives the results likewise; the scalars follow, in order.
mlir::LogicalResult addFlatInterface(mlir::func::FuncOp func);

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_FLATINTERFACE_H
