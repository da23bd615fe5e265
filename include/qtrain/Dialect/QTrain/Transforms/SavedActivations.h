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
