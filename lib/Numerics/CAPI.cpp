//===- CAPI.cpp - C API of the numerics library ---------------------------===//

#include "qtrain-c/Numerics.h"
#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Philox.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include <cstring>

using namespace qtrain::numerics;

static Format toFormat(const QTrainFormat *f) {
  if (!f->is_float)
    return IntFormat{f->bits, f->is_signed != 0};
  return FloatFormat{f->exp_bits, f->man_bits, f->bias, f->subnormals != 0,
                     static_cast<SpecialValues>(f->specials)};
}

int qtrainFormatFromName(const char *name, QTrainFormat *format) {
  std::optional<FloatFormat> named = lookupFloatFormat(name);
  if (!named)
    return -1;
  *format = QTrainFormat{1,
                         0,
                         0,
                         named->expBits,
                         named->manBits,
                         named->bias,
                         named->subnormals,
                         static_cast<int32_t>(named->specials)};
  return 0;
}

int qtrainFormatValidate(const QTrainFormat *format, char *message,
                         size_t size) {
  std::optional<std::string> error;
  if (format->is_float && (format->specials < 0 || format->specials > 3))
    error = "special-value convention must be 0 to 3";
  else
    error = format->is_float ? validate(toFormat(format).getFloat())
                             : validate(toFormat(format).getInt());
  if (!error)
    return 0;
  if (size > 0) {
    std::strncpy(message, error->c_str(), size - 1);
    message[size - 1] = '\0';
  }
  return -1;
}

void qtrainEncode(const QTrainFormat *format, const float *x, size_t n,
                  int32_t rounding, int32_t overflow, uint64_t seed,
                  uint32_t stream, uint32_t *codes) {
  QuantizeOptions options;
  options.rounding = static_cast<RoundingMode>(rounding);
  options.overflow = static_cast<OverflowMode>(overflow);
  options.seed = seed;
  options.stream = stream;
  quantize(x, {int64_t(n)}, toFormat(format), nullptr, nullptr, options, codes);
}

void qtrainDecode(const QTrainFormat *format, const uint32_t *codes, size_t n,
                  float *out) {
  Format f = toFormat(format);
  for (size_t i = 0; i < n; ++i)
    out[i] = decode(f, codes[i]);
}

uint32_t qtrainStochasticBits(uint64_t seed, uint32_t stream, uint64_t index) {
  return stochasticBits(seed, stream, index);
}
