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

/// What the element-wise numerics may use beyond integer bit manipulation.
enum class NumericsTarget {
  /// Integer bit manipulation only: any backend, vectorizes on CPUs.
  portable,
  /// E4M3FN and E5M2 under nearest-even with saturation as `arith.truncf`
  /// of the value clamped to the format's finite range, which
  /// convert-clamped-fp8-truncf-to-nvvm turns into `cvt.rn.satfinite`
  /// (sm_89 and later).
  fp8Truncf,
  /// GEMM units that multiply f16 values into f32 sums (tensor cores,
  /// sm_80): `qtrain.qmatmul`/`qtrain.qconv2d` of float formats whose every
  /// value f16 holds (every 8-bit format, HFP8's 1-4-3 included) with f32
  /// accumulation and no zero points decode their operands to f16 tensors
  /// (exact) and widen them with `arith.extf` in the contraction body, the
  /// form the tensor-core passes recognize. Formats that TF32 holds, every
  /// value normal there (dlfloat16), are decoded to f32 and read as tf32
  /// (`arith.truncf` to tf32 and `arith.extf` back in the body).
  f16TensorCores,
  /// fp8Truncf and f16TensorCores, and GEMM units that also multiply
  /// E4M3FN/E5M2 codes themselves (sm_89 and later): a contraction of two
  /// such operands reads the codes as f8 values (`arith.extf` in the body)
  /// instead of decoding them first.
  tensorCores,
};

/// Whether `target` encodes E4M3FN/E5M2 nearest-even as clamped truncf.
inline bool usesFP8Truncf(NumericsTarget target) {
  return target == NumericsTarget::fp8Truncf ||
         target == NumericsTarget::tensorCores;
}

/// Whether `target`'s GEMM units multiply f16 values.
inline bool hasF16TensorCores(NumericsTarget target) {
  return target == NumericsTarget::f16TensorCores ||
         target == NumericsTarget::tensorCores;
}

/// qtrain.round, qtrain.quantize, qtrain.dequantize.
void populateQTrainElementwiseToLinalgPatterns(
    RewritePatternSet &patterns,
    NumericsTarget target = NumericsTarget::portable);
/// qtrain.compute_scale.
void populateQTrainScaleToLinalgPatterns(RewritePatternSet &patterns);
/// qtrain.qmatmul, qtrain.qconv2d.
void populateQTrainContractionToLinalgPatterns(
    RewritePatternSet &patterns,
    NumericsTarget target = NumericsTarget::portable);
/// qtrain.pack, qtrain.unpack.
void populateQTrainPackingToLinalgPatterns(RewritePatternSet &patterns);
/// All of the above.
void populateQTrainToLinalgPatterns(
    RewritePatternSet &patterns,
    NumericsTarget target = NumericsTarget::portable);

} // namespace mlir::qtrain

#endif // QTRAIN_CONVERSION_QTRAINTOLINALG_QTRAINTOLINALG_H
