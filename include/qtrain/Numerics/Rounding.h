//===- Rounding.h - Encode and decode values of a format --------*- C++ -*-===//
//
// Scalar conversions between f32 and the storage codes of a Format, with every
// rounding mode and overflow rule. Codes are returned in the low bitWidth()
// bits of a uint32_t (two's complement for signed integer formats).
// The rules are specified in docs/numerics.md.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_NUMERICS_ROUNDING_H
#define QTRAIN_NUMERICS_ROUNDING_H

#include "qtrain/Numerics/Format.h"

#include <cstdint>

namespace qtrain::numerics {

/// Encodes `x` into `format`. `randomBits` is only read for stochastic
/// rounding: the value rounds away from zero iff floor(frac * 2^32) >
/// randomBits, where frac in [0, 1) is the position of |x| between its two
/// neighbouring grid points.
uint32_t encode(const FloatFormat &format, float x, RoundingMode rounding,
                OverflowMode overflow, uint32_t randomBits = 0);
/// Rounds `t` (already scaled, zero point added) to an integer code. Integer
/// formats always saturate; NaN encodes as 0.
uint32_t encode(const IntFormat &format, float t, RoundingMode rounding,
                uint32_t randomBits = 0);
uint32_t encode(const Format &format, float x, RoundingMode rounding,
                OverflowMode overflow, uint32_t randomBits = 0);

/// The codes encode() gives for special inputs, by sign:
/// NaN: the format's canonical NaN (finite-only formats saturate);
uint32_t nanCode(const FloatFormat &format, bool negative);
/// +-inf: infinity, or NaN under the native rule where there is no infinity,
/// or the largest finite value when saturating;
uint32_t infinityCode(const FloatFormat &format, bool negative,
                      OverflowMode overflow);
/// finite values whose rounded magnitude exceeds the largest finite one
/// (APFloat's handleOverflow for the native rule; stochastic rounding counts
/// as rounding away from zero).
uint32_t overflowCode(const FloatFormat &format, bool negative,
                      RoundingMode rounding, OverflowMode overflow);
/// The code of the largest finite magnitude with a sign.
uint32_t maxFiniteCode(const FloatFormat &format, bool negative);

/// Decodes a storage code. NaN codes decode to the quiet NaN 0x7FC00000 with
/// the code's sign (positive for FNUZ, whose single NaN has no sign).
float decode(const FloatFormat &format, uint32_t code);
float decode(const IntFormat &format, uint32_t code);
float decode(const Format &format, uint32_t code);

/// decode(encode(x)): rounds `x` onto the grid of `format` (no scaling).
float roundToFormat(const Format &format, float x, RoundingMode rounding,
                    OverflowMode overflow, uint32_t randomBits = 0);

/// Sign-extends (signed integer formats) or zero-extends a code.
int64_t integerValue(const IntFormat &format, uint32_t code);

/// True if every value `inner` can produce (including its inf, NaN and -0)
/// comes back bit for bit from rounding to `outer` with overflow rule
/// `outerOverflow` (any rounding mode: grid values are exact), so rounding to
/// `inner` then `outer` equals rounding to `inner`. Decided exhaustively over
/// the codes of `inner`.
bool isGridSubset(const Format &inner, const Format &outer,
                  OverflowMode outerOverflow);

/// True if decode followed by encode gives back every code of `format`, i.e.
/// the format has no redundant encodings (several NaN codes, or codes a
/// format without subnormals never produces).
bool hasCanonicalEncodings(const Format &format);

} // namespace qtrain::numerics

#endif // QTRAIN_NUMERICS_ROUNDING_H
