//===- Autodiff.h - Reverse-mode rules of qtrain-autodiff -------*- C++ -*-===//
//
// The adjoint bookkeeping shared by the differentiation rules of
// qtrain-autodiff, and the rules for the op families that need more than a
// few lines: linalg.generic (by differentiating its scalar body), and the
// convolutions and poolings (whose input gradients are scatters).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_AUTODIFF_H
#define QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_AUTODIFF_H

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::qtrain::autodiff {

/// The gradients of the loss with respect to the values of one function,
/// built before the function's return. Only active values (those that
/// depend on a parameter) get gradients.
class Adjoints {
public:
  Adjoints(OpBuilder &builder, llvm::DenseSet<Value> active)
      : builder(builder), active(std::move(active)) {}

  bool isActive(Value value) const { return active.contains(value); }
  /// The gradient of `value`, or null while nothing has reached it.
  Value get(Value value) const { return adjoints.lookup(value); }
  /// Adds `gradient` to the gradient of `value`; ignores inactive values.
  void add(Value value, Value gradient);

  /// Bifurcation (see qtrain.quantizer's `weight_backward`): the copy of
  /// the gradient of the contraction result `value` that its weight operand
  /// (input #1) is differentiated with.
  void setWeightGradient(Value value, Value gradient) {
    weightGradients[value] = gradient;
  }
  /// The gradient of `result` that `operand` of its producer `op` is
  /// differentiated with.
  Value getFor(Value result, linalg::LinalgOp op, OpOperand &operand) const {
    if (op.isDpsInput(&operand) && operand.getOperandNumber() == 1)
      if (Value weight = weightGradients.lookup(result))
        return weight;
    return get(result);
  }

  /// Delayed scaling of a gradient: `next`, the amax history recording the
  /// gradient, replaces `forwardValue` (the history as the forward pass
  /// returns it, unchanged) among the gradient function's results.
  void setStateUpdate(Value forwardValue, Value next) {
    stateUpdates[forwardValue] = next;
  }
  /// What the gradient function returns for the model's result `value`.
  Value getStateUpdate(Value value) const {
    Value next = stateUpdates.lookup(value);
    return next ? next : value;
  }

  OpBuilder &builder;

private:
  llvm::DenseSet<Value> active;
  llvm::DenseMap<Value, Value> adjoints;
  llvm::DenseMap<Value, Value> weightGradients;
  llvm::DenseMap<Value, Value> stateUpdates;
};

/// A tensor of `type` filled with zeros.
Value createZeros(OpBuilder &builder, Location loc, RankedTensorType type);

/// An element-wise `linalg.generic` over same-typed tensors `a` and `b`.
Value createElementwise(
    OpBuilder &builder, Location loc, Value a, Value b,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine);

/// `gradient` divided element-wise by `count`, the number of elements equal
/// to a max/min that share its gradient (ties), or by 1 where none does.
Value divideAmongTies(OpBuilder &builder, Location loc, Value gradient,
                      Value count);

/// Adds to the gradients of the operands `targets` of `op`. `result` is the
/// value whose gradient flows back (and that reductions compare with); it
/// differs from `op`'s own result when `op` is the generalized copy of a
/// named op.
LogicalResult differentiateGeneric(linalg::GenericOp op, Value result,
                                   ArrayRef<OpOperand *> targets,
                                   Adjoints &adjoints);

/// The rule for linalg.generic ops of the model: every active operand.
LogicalResult differentiateGeneric(linalg::GenericOp op, Adjoints &adjoints);

/// Rules for the 2-D convolutions and poolings; failure() with a diagnostic
/// when the op's attributes are not supported, and `std::nullopt` when `op`
/// is not one of them.
std::optional<LogicalResult> differentiateWindowed(linalg::LinalgOp op,
                                                   Adjoints &adjoints);

/// The float values a code tensor stands for under the straight-through
/// rule: the input of the qtrain.quantize that made the codes. Fails with a
/// diagnostic on `user` naming `operand` otherwise.
FailureOr<Value> straightThroughSource(Operation *user, Value codes,
                                       StringRef operand);

/// `codes` decoded to `element` values, as the qtrain ops on codes read them.
Value dequantizeCodes(OpBuilder &b, Location loc, Type element, Value codes,
                      Value scale, Value zeroPoint,
                      NumericFormatAttrInterface format,
                      GranularityAttr granularity);

/// The rule for qtrain.qconv2d on quantized codes.
LogicalResult differentiateQConv2D(QConv2DOp op, Adjoints &adjoints);

} // namespace mlir::qtrain::autodiff

#endif // QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_AUTODIFF_H
