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
  /// The GEMM units of sm_80 (Ampere tensor cores), which multiply f16,
  /// bf16 and tf32 values into f32 sums: a `qtrain.qmatmul`/`qtrain.qconv2d`
  /// with f32 accumulation whose operands' values (integer codes, for an
  /// integer format with a float one) f16 or else bf16 holds exactly (every
  /// 8-bit float format, HFP8's 1-4-3 included; int8 codes with bf16) has
  /// them decoded to tensors of that type and widened by `arith.extf` in
  /// the contraction body, the form the tensor-core passes recognize. Float
  /// formats that TF32 holds, every value normal there (dlfloat16), are
  /// decoded to f32 and read as tf32 (`arith.truncf` to tf32 and
  /// `arith.extf` back in the body).
  ampereTensorCores,
  /// fp8Truncf and ampereTensorCores, and GEMM units that also multiply
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

/// Whether `target`'s GEMM units multiply f16, bf16 and tf32 values.
inline bool hasAmpereTensorCores(NumericsTarget target) {
  return target == NumericsTarget::ampereTensorCores ||
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
