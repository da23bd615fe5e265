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
/// With `deviceEntry`, the wrapper is a `qtrain.device_entry` function: on
/// a GPU target its callers pass device buffers (see DeviceMemory.h), which
/// stay on the device from call to call.
mlir::LogicalResult addFlatInterface(mlir::func::FuncOp func,
                                     bool deviceEntry = false);

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_FLATINTERFACE_H
