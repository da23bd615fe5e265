//===- Quantization.cpp - Scales and scaled (de)quantization --------------===//
//
// Arithmetic order matters for bit-exactness and is part of the spec
// (docs/numerics.md); this file is compiled with -ffp-contract=off so that the
// host compiler cannot fuse a multiply and an add into an FMA.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Philox.h"
#include "qtrain/Numerics/Rounding.h"

#include <cmath>
#include <limits>

namespace qtrain::numerics {

bool isAffine(ScaleMethod m) {
  return m == ScaleMethod::MinMax || m == ScaleMethod::BatchMinMax;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<std::string>
getScaleShape(const Shape &shape, const Granularity &g, Shape &scaleShape) {
  scaleShape.clear();
  if (g.kind == GranularityKind::PerTensor)
    return std::nullopt;
  int64_t rank = int64_t(shape.size());
  if (g.axis < 0 || g.axis >= rank)
    return "axis " + std::to_string(g.axis) + " is out of range for rank " +
           std::to_string(rank);
  if (g.kind == GranularityKind::PerChannel) {
    scaleShape.push_back(shape[g.axis]);
    return std::nullopt;
  }
  int64_t dim = shape[g.axis];
  if (g.blockSize <= 0 || (dim >= 0 && dim % g.blockSize != 0))
    return "block size " + std::to_string(g.blockSize) +
           " does not divide dimension " + std::to_string(g.axis) +
           " of size " + std::to_string(dim);
  scaleShape = shape;
  if (dim >= 0)
    scaleShape[g.axis] = dim / g.blockSize;
  return std::nullopt;
}

namespace {

/// Maps a row-major element index to the index of its scale.
class GroupIndexer {
public:
  GroupIndexer(const Shape &shape, const Granularity &g) : kind(g.kind) {
    if (kind == GranularityKind::PerTensor)
      return;
    inner = 1;
    for (size_t i = size_t(g.axis) + 1; i < shape.size(); ++i)
      inner *= shape[i];
    axisSize = shape[g.axis];
    blockSize = kind == GranularityKind::PerBlock ? g.blockSize : 1;
  }

  int64_t numGroups(const Shape &shape) const {
    if (kind == GranularityKind::PerTensor)
      return 1;
    if (kind == GranularityKind::PerChannel)
      return axisSize;
    return numElements(shape) / blockSize;
  }

  int64_t operator()(int64_t index) const {
    if (kind == GranularityKind::PerTensor)
      return 0;
    int64_t rest = index % inner;
    int64_t along = (index / inner) % axisSize;
    if (kind == GranularityKind::PerChannel)
      return along;
    int64_t outer = index / (inner * axisSize);
    return (outer * (axisSize / blockSize) + along / blockSize) * inner + rest;
  }

private:
  GranularityKind kind;
  int64_t inner = 1, axisSize = 1, blockSize = 1;
};

/// IEEE 754-2019 maximum/minimum (arith.maximumf/minimumf): a NaN anywhere
/// reaches the result, and -0 < +0.
float nanMax(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
float nanMin(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

/// Affine parameters mapping [lo, hi] onto [qmin, qmax].
void affineFromRange(const IntFormat &f, float lo, float hi, float &scale,
                     float &zeroPoint) {
  float levels = float(f.maxValue() - f.minValue());
  scale = (hi - lo) / levels;
  if (scale == 0.0f)
    scale = 1.0f; // a constant group: any scale reproduces it
  float inverse = 1.0f / scale;
  zeroPoint = float(f.minValue()) - lo * inverse;
}

} // namespace

Scales computeScales(const float *data, const Shape &shape,
                     const Format &format, ScaleMethod method,
                     const Granularity &granularity, int exponent) {
  GroupIndexer group(shape, granularity);
  int64_t numGroups = group.numGroups(shape);
  int64_t n = numElements(shape);
  Scales result;
  result.scale.assign(numGroups, 1.0f);

  switch (method) {
  case ScaleMethod::PowerOfTwo:
    result.scale.assign(numGroups, std::ldexp(1.0f, exponent));
    return result;
  case ScaleMethod::AbsMax: {
    std::vector<float> amax(numGroups, 0.0f);
    for (int64_t i = 0; i < n; ++i)
      amax[group(i)] = nanMax(std::fabs(data[i]), amax[group(i)]);
    float formatMax = float(format.maxMagnitude());
    for (int64_t g = 0; g < numGroups; ++g)
      result.scale[g] = amax[g] == 0.0f ? 1.0f : amax[g] / formatMax;
    return result;
  }
  case ScaleMethod::MinMax: {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> lo(numGroups, inf), hi(numGroups, -inf);
    for (int64_t i = 0; i < n; ++i) {
      lo[group(i)] = nanMin(data[i], lo[group(i)]);
      hi[group(i)] = nanMax(data[i], hi[group(i)]);
    }
    result.zeroPoint.resize(numGroups);
    for (int64_t g = 0; g < numGroups; ++g) {
      if (lo[g] == inf) // empty group
        lo[g] = hi[g] = 0.0f;
      affineFromRange(format.getInt(), lo[g], hi[g], result.scale[g],
                      result.zeroPoint[g]);
    }
    return result;
  }
  case ScaleMethod::BatchMinMax: {
    // Per-sample extremes along axis 0, averaged in sample order in f32.
    int64_t batch = shape.empty() ? 1 : shape[0];
    int64_t perSample = batch == 0 ? 0 : n / batch;
    float sumLo = 0.0f, sumHi = 0.0f;
    for (int64_t b = 0; b < batch; ++b) {
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (int64_t i = 0; i < perSample; ++i) {
        lo = nanMin(data[b * perSample + i], lo);
        hi = nanMax(data[b * perSample + i], hi);
      }
      if (perSample == 0)
        lo = hi = 0.0f;
      sumLo = sumLo + lo;
      sumHi = sumHi + hi;
    }
    float count = float(batch == 0 ? 1 : batch);
    result.zeroPoint.resize(1);
    affineFromRange(format.getInt(), sumLo / count, sumHi / count,
                    result.scale[0], result.zeroPoint[0]);
    return result;
  }
  }
  return result;
}

uint32_t quantizeValue(const Format &format, float x, float scale,
                       float zeroPoint, RoundingMode rounding,
                       OverflowMode overflow, uint32_t randomBits) {
  float t = x * (1.0f / scale);
  if (format.isInt())
    t = t + zeroPoint;
  return encode(format, t, rounding, overflow, randomBits);
}

float dequantizeValue(const Format &format, uint32_t code, float scale,
                      float zeroPoint) {
  float v = decode(format, code);
  if (format.isInt())
    v = v - zeroPoint;
  return v * scale;
}

void quantize(const float *data, const Shape &shape, const Format &format,
              const float *scale, const float *zeroPoint,
              const QuantizeOptions &options, uint32_t *codes) {
  GroupIndexer group(shape, options.granularity);
  bool stochastic = options.rounding == RoundingMode::Stochastic;
  for (int64_t i = 0, n = numElements(shape); i < n; ++i) {
    int64_t g = group(i);
    uint32_t bits =
        stochastic ? stochasticBits(options.seed, options.stream, i) : 0;
    codes[i] = quantizeValue(format, data[i], scale ? scale[g] : 1.0f,
                             zeroPoint ? zeroPoint[g] : 0.0f, options.rounding,
                             options.overflow, bits);
  }
}

void dequantize(const uint32_t *codes, const Shape &shape, const Format &format,
                const float *scale, const float *zeroPoint,
                const Granularity &granularity, float *data) {
  GroupIndexer group(shape, granularity);
  for (int64_t i = 0, n = numElements(shape); i < n; ++i) {
    int64_t g = group(i);
    data[i] = dequantizeValue(format, codes[i], scale ? scale[g] : 1.0f,
                              zeroPoint ? zeroPoint[g] : 0.0f);
  }
}

void roundTensor(const float *data, const Shape &shape, const Format &format,
                 const float *scale, const float *zeroPoint,
                 const QuantizeOptions &options, float *result) {
  std::vector<uint32_t> codes(numElements(shape));
  quantize(data, shape, format, scale, zeroPoint, options, codes.data());
  dequantize(codes.data(), shape, format, scale, zeroPoint, options.granularity,
             result);
}

} // namespace qtrain::numerics
