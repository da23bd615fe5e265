//===- SavedActivations.h - Layers and what backward keeps ------*- C++ -*-===//
//
// Layers are the contractions of a model (named by `qtrain.layer` or their
// location). A gradient function of qtrain-autodiff computes the forward
// pass up to the loss, then the backward pass; the activations its backward
// half reads are what a training step keeps in memory between the two.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_SAVEDACTIVATIONS_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_SAVEDACTIVATIONS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mlir::qtrain {

/// The contractions that recipes quantize and that name layers: matmul,
/// batch_matmul and the 2-D convolutions (input #1 is the weight), and the
/// generics qtrain-autodiff generalizes them to, which keep a
/// `qtrain.layer` attribute.
bool isLayerOp(Operation *op);

/// `qtrain.layer`, or else the name of the op's location, or "".
std::string getLayerName(Operation *op);

/// The op that defines the loss (the first result) of gradient function
/// `grad`: the last op of its forward half, or null.
Operation *getLossDefinition(func::FuncOp grad);

/// Calls `fn` on each op of the forward half of `grad`, in order, with the
/// layer it belongs to: the name of the last layer op up to it, "layer N"
/// for the N-th layer when that one has no name, or "input" before the
/// first.
void walkForward(func::FuncOp grad,
                 function_ref<void(Operation *, StringRef layer)> fn);

/// A forward value that the backward half of a gradient function reads.
struct SavedActivation {
  Value value;
  /// At the width of a quantizer's format for its results.
  int64_t bytes;
  /// The layer whose forward computation made it: the last layer op before
  /// it, or "input" before the first.
  std::string layer;
};

/// The activations (forward values that depend on the batch: inputs,
/// labels and what is computed from them) that the backward half of
/// `grad` reads. The forward half is every op up to the definition of the
/// loss (the first result); arguments themselves and constants are not
/// counted.
SmallVector<SavedActivation> findSavedActivations(func::FuncOp grad);

/// Sets `qtrain.saved_activation_bytes` of `grad` to their total.
void recordSavedActivationBytes(func::FuncOp grad);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_SAVEDACTIVATIONS_H
