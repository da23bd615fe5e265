//===- FlatInterface.h - One-buffer calling convention ----------*- C++ -*-===//
//
// Functions on many tensors are awkward to call through the C interface
// (one memref descriptor per argument). A flat interface takes all tensor
// arguments concatenated in one buffer and writes all results concatenated
// into another, so a host program calls any model function the same way.
// The two buffers must not overlap (the wrapper marks them `llvm.noalias`).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_FLATINTERFACE_H
#define QTRAIN_RUNTIME_FLATINTERFACE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qtrain::runtime {

struct FlatInterfaceOptions {
  /// Marks the wrapper a `qtrain.device_entry` function: on a GPU target
  /// its callers pass device buffers (DeviceMemory.h), which stay on the
  /// device from call to call.
  bool deviceEntry = false;
  /// Each tensor starts at a multiple of this many bytes of its flat
  /// buffer (the elements between are unused); 0: tensors are packed. GPU
  /// kernels need 16-byte aligned operands for TMA copies and vector loads.
  int64_t alignmentBytes = 0;
  /// For each result, the argument whose place it takes in the output
  /// buffer (-1: a place after every argument's); empty: results are
  /// placed on their own. Where results take arguments' places, both
  /// buffers have one layout, so that a caller passes a call's output as
  /// the next call's input: a training step's new parameters and state
  /// become the next step's arguments without a copy.
  llvm::SmallVector<int64_t> resultArguments;
};

/// Where the tensors of a function lie in its flat buffers, in elements.
struct FlatLayout {
  /// Offset of each argument in the input buffer; -1 for integer scalars.
  llvm::SmallVector<int64_t> arguments;
  /// Offset of each result in the output buffer.
  llvm::SmallVector<int64_t> results;
  /// Equal where results take arguments' places (resultArguments).
  int64_t inSize = 0, outSize = 0;
};

/// The layout of `func`'s flat buffers, which must hold static tensors of
/// one element type (integer scalars are passed by value), each result
/// that takes an argument's place of that argument's type; fails with a
/// diagnostic on `func` otherwise.
mlir::FailureOr<FlatLayout> getFlatLayout(mlir::func::FuncOp func,
                                          const FlatInterfaceOptions &options);

/// Adds `@<name>_flat(%in: memref<N x T>, %out: memref<M x T>, ...)` (with
/// `llvm.emit_c_interface`) next to `func`: `%in` holds the tensor
/// arguments as getFlatLayout places them, each flattened row-major; `%out`
/// receives the results likewise; the scalars follow, in order. A body of
/// one block is inlined, so that its code reads the arguments and writes
/// the results in place in the flat buffers, without copying them to or
/// from buffers of their own.
mlir::LogicalResult addFlatInterface(mlir::func::FuncOp func,
                                     const FlatInterfaceOptions &options = {});

} // namespace qtrain::runtime

#endif // QTRAIN_RUNTIME_FLATINTERFACE_H
