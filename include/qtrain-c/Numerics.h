/*===- qtrain-c/Numerics.h - C API of the numerics library ---------*- C -*-===*\
|*                                                                            *|
|* A C interface to the qtrain numerics library, for runtimes and languages   *|
|* without C++ (the Python package binds it with ctypes). Semantics:          *|
|* docs/numerics.md.                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef QTRAIN_C_NUMERICS_H
#define QTRAIN_C_NUMERICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A numeric format. For integer formats only `bits` and `is_signed` matter. */
typedef struct {
  int32_t is_float;
  uint32_t bits;     /* integer formats: width */
  int32_t is_signed; /* integer formats */
  uint32_t exp_bits; /* float formats */
  uint32_t man_bits;
  int32_t bias;
  int32_t subnormals;
  int32_t specials; /* 0 ieee, 1 fn, 2 fnuz, 3 finite_only */
} QTrainFormat;

/* Rounding: 0 nearest_even, 1 nearest_away, 2 toward_zero, 3 upward,
   4 downward, 5 stochastic. Overflow: 0 saturate, 1 native. */

/* Fills `format` with a named float format ("f8E4M3FN", "hfp8_e4m3", ...).
   Returns 0 on success, -1 if the name is unknown. */
int qtrainFormatFromName(const char *name, QTrainFormat *format);

/* Writes an error message (at most `size` bytes, NUL-terminated) and returns
   -1 if `format` is invalid; returns 0 if it is valid. */
int qtrainFormatValidate(const QTrainFormat *format, char *message,
                         size_t size);

/* codes[i] = encode(x[i]) for i < n; stochastic rounding draws the bits of
   element i from (seed, stream, i). */
void qtrainEncode(const QTrainFormat *format, const float *x, size_t n,
                  int32_t rounding, int32_t overflow, uint64_t seed,
                  uint32_t stream, uint32_t *codes);

/* out[i] = decode(codes[i]). */
void qtrainDecode(const QTrainFormat *format, const uint32_t *codes, size_t n,
                  float *out);

/* The 32 random bits of element `index` (see docs/numerics.md). */
uint32_t qtrainStochasticBits(uint64_t seed, uint32_t stream, uint64_t index);

#ifdef __cplusplus
}
#endif

#endif /* QTRAIN_C_NUMERICS_H */
