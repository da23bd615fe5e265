//===- QTrainToLinalg.h - qtrain to linalg conversion -----------*- C++ -*-===//
//
// Patterns that rewrite every qtrain op into linalg/tensor/arith/math/scf on
// tensors, with the numerics of qtrain::numerics written out as integer bit
// manipulation. One populate function per op family, plus one for all.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_CONVERSION_QTRAINTOLINALG_QTRAINTOLINALG_H
#define QTRAIN_CONVERSION_QTRAINTOLINALG_QTRAINTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::qtrain {

/// qtrain.round, qtrain.quantize, qtrain.dequantize.
void populateQTrainElementwiseToLinalgPatterns(RewritePatternSet &patterns);
/// qtrain.compute_scale.
void populateQTrainScaleToLinalgPatterns(RewritePatternSet &patterns);
/// qtrain.qmatmul, qtrain.qconv2d.
void populateQTrainContractionToLinalgPatterns(RewritePatternSet &patterns);
/// qtrain.pack, qtrain.unpack.
void populateQTrainPackingToLinalgPatterns(RewritePatternSet &patterns);
/// All of the above.
void populateQTrainToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::qtrain

#endif // QTRAIN_CONVERSION_QTRAINTOLINALG_QTRAINTOLINALG_H
