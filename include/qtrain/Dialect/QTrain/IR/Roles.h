//===- Roles.h - Model argument roles ---------------------------*- C++ -*-===//
//
// A model is a function whose arguments carry `qtrain.role` attributes; the
// training passes find parameters, the seed, the loss scale and model state
// through these helpers.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_ROLES_H
#define QTRAIN_DIALECT_QTRAIN_IR_ROLES_H

#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::qtrain {

/// The role of argument `index` of `func`, if it has one.
std::optional<ArgRole> getArgRole(FunctionOpInterface func, unsigned index);

/// Whether `func` is a model: a definition with a parameter argument.
bool isModel(FunctionOpInterface func);

/// The first argument of `func` with `role`, or null.
BlockArgument getArgWithRole(FunctionOpInterface func, ArgRole role);

/// Appends an argument of `type` with `role` to `func`.
BlockArgument addArgWithRole(FunctionOpInterface func, Type type, ArgRole role,
                             Location loc);

/// The arguments of `func` with `role`, in order.
SmallVector<BlockArgument> getArgsWithRole(FunctionOpInterface func,
                                           ArgRole role);

/// Appends `value` to the results of `func`, a function of one block. A
/// model returns its loss, then the next value of each of its
/// `#qtrain<role state>` arguments, in argument order; a pass adding state
/// adds the argument with addArgWithRole and its next value with this.
void appendResult(FunctionOpInterface func, Value value);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_IR_ROLES_H
