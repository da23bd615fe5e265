//===- BatchNormMatch.h - Recognize decomposed batch normalization -*- C++
//-*-===//
//
// The form recognized is documented with qtrain-range-batchnorm (Passes.td):
// the rsqrt of a (scaled) sum of squares of centered values, reduced over
// every dimension but the channel.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_BATCHNORMMATCH_H
#define QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_BATCHNORMMATCH_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::qtrain {

/// A matched batch normalization: the centered values, the reduction that
/// sums their squares, and the inverse standard deviation.
struct BatchNormMatch {
  Value centered;
  linalg::GenericOp sumOfSquares;
  linalg::GenericOp inverseStd;
};

/// Matches `op` as the inverse standard deviation of a batch norm.
std::optional<BatchNormMatch> matchBatchNorm(linalg::GenericOp op);

} // namespace mlir::qtrain

#endif // QTRAIN_LIB_DIALECT_QTRAIN_TRANSFORMS_BATCHNORMMATCH_H
