//===- Quantization.h - Scales and scaled (de)quantization ------*- C++ -*-===//
//
// Tensor-level reference semantics of qtrain.compute_scale, qtrain.quantize,
// qtrain.dequantize and qtrain.round on dense row-major buffers.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_NUMERICS_QUANTIZATION_H
#define QTRAIN_NUMERICS_QUANTIZATION_H

#include "qtrain/Numerics/Format.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qtrain::numerics {

using Shape = std::vector<int64_t>;

enum class GranularityKind : uint8_t { PerTensor, PerChannel, PerBlock };

/// Which elements share one scale.
struct Granularity {
  GranularityKind kind = GranularityKind::PerTensor;
  /// The channel axis, or the axis blocks run along.
  int64_t axis = 0;
  /// Elements per block (PerBlock only).
  int64_t blockSize = 0;

  static Granularity perTensor() { return {}; }
  static Granularity perChannel(int64_t axis) {
    return {GranularityKind::PerChannel, axis, 0};
  }
  static Granularity perBlock(int64_t axis, int64_t size) {
    return {GranularityKind::PerBlock, axis, size};
  }
};

/// How compute_scale derives a scale from the data.
enum class ScaleMethod : uint8_t {
  /// Symmetric: scale = amax / format max.
  AbsMax,
  /// Affine over [min, max] (integer formats), as in Banner et al.
  MinMax,
  /// Affine over [mean of per-sample min, mean of per-sample max] along the
  /// batch axis 0 (Banner et al.'s activations).
  BatchMinMax,
  /// A fixed power of two, 2^exponent.
  PowerOfTwo,
};

bool isAffine(ScaleMethod m);

/// The shape of the scale tensor for `granularity` on `shape`, or an error.
/// Per tensor: []; per channel: [shape[axis]]; per block: `shape` with
/// shape[axis] divided by the block size (which must divide it).
std::optional<std::string> getScaleShape(const Shape &shape,
                                         const Granularity &granularity,
                                         Shape &scaleShape);

int64_t numElements(const Shape &shape);

/// Scales (and zero points, for affine methods) of a tensor.
struct Scales {
  std::vector<float> scale;
  /// Empty for symmetric methods.
  std::vector<float> zeroPoint;
};

/// Computes the scale of every group of `data` (shape `shape`).
/// Preconditions (checked by the op verifier): the granularity fits the shape,
/// affine methods have an integer format, BatchMinMax is per tensor on a
/// tensor of rank >= 1.
Scales computeScales(const float *data, const Shape &shape,
                     const Format &format, ScaleMethod method,
                     const Granularity &granularity, int exponent = 0);

/// Everything that determines how one tensor is quantized.
struct QuantizeOptions {
  RoundingMode rounding = RoundingMode::NearestEven;
  OverflowMode overflow = OverflowMode::Saturate;
  Granularity granularity;
  /// Stochastic rounding only.
  uint64_t seed = 0;
  uint32_t stream = 0;
};

/// Quantizes `data` to codes: t = x * (1 / scale) + zeroPoint, all in f32, then
/// encoded. `scale` and `zeroPoint` may be null (1 and 0); otherwise they hold
/// one value per group.
void quantize(const float *data, const Shape &shape, const Format &format,
              const float *scale, const float *zeroPoint,
              const QuantizeOptions &options, uint32_t *codes);

/// x = (decode(code) - zeroPoint) * scale, in f32.
void dequantize(const uint32_t *codes, const Shape &shape, const Format &format,
                const float *scale, const float *zeroPoint,
                const Granularity &granularity, float *data);

/// dequantize(quantize(x)).
void roundTensor(const float *data, const Shape &shape, const Format &format,
                 const float *scale, const float *zeroPoint,
                 const QuantizeOptions &options, float *result);

/// Scalar forms of the same arithmetic, for one element.
uint32_t quantizeValue(const Format &format, float x, float scale,
                       float zeroPoint, RoundingMode rounding,
                       OverflowMode overflow, uint32_t randomBits);
float dequantizeValue(const Format &format, uint32_t code, float scale,
                      float zeroPoint);

} // namespace qtrain::numerics

#endif // QTRAIN_NUMERICS_QUANTIZATION_H
