//===- NumericsIR.cpp - The numerics library as scalar IR -----------------===//
//
// Each function follows its counterpart in lib/Numerics/Rounding.cpp and
// Philox.cpp step by step. Shifts by 32 or more are poison in LLVM, so shift
// amounts are clamped and out-of-range cases selected explicitly.
//
//===----------------------------------------------------------------------===//

#include "NumericsIR.h"

#include "qtrain/Numerics/Philox.h"
#include "qtrain/Numerics/Rounding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

namespace {
uint32_t bitsOfFloat(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

/// Terse arith builders for the bit manipulation below.
struct Arith {
  ImplicitLocOpBuilder &b;

  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value band(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value bxor(Value x, Value y) { return arith::XOrIOp::create(b, x, y); }
  Value shl(Value x, Value y) { return arith::ShLIOp::create(b, x, y); }
  Value shr(Value x, Value y) { return arith::ShRUIOp::create(b, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value fcmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value land(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value lor(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value lnot(Value x) {
    return arith::XOrIOp::create(
        b, x, arith::ConstantIntOp::create(b, b.getI1Type(), 1));
  }
  Value i1(bool v) {
    return arith::ConstantIntOp::create(b, b.getI1Type(), v ? 1 : 0);
  }
};
} // namespace

Value NumericsIRBuilder::i32(int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}
Value NumericsIRBuilder::i64(int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI64Type(), value);
}
Value NumericsIRBuilder::f32(float value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(value));
}

Value NumericsIRBuilder::encode(const num::Format &format, Value x,
                                num::RoundingMode rounding,
                                num::OverflowMode overflow, Value randomBits) {
  return format.isFloat()
             ? encodeFloat(format.getFloat(), x, rounding, overflow, randomBits)
             : encodeInt(format.getInt(), x, rounding, randomBits);
}

Value NumericsIRBuilder::decode(const num::Format &format, Value code) {
  return format.isFloat() ? decodeFloat(format.getFloat(), code)
                          : decodeInt(format.getInt(), code);
}

Value NumericsIRBuilder::encodeFloat(const num::FloatFormat &f, Value x,
                                     num::RoundingMode rounding,
                                     num::OverflowMode overflow,
                                     Value randomBits) {
  if (rounding == num::RoundingMode::NearestEven)
    if (Value code = encodeFloatWithTruncf(f, x, overflow))
      return code;
  if (rounding == num::RoundingMode::NearestEven)
    if (Value code = encodeFloatNearestEven(f, x, overflow))
      return code;
  if (rounding == num::RoundingMode::Stochastic)
    if (Value code = encodeFloatStochastic(f, x, overflow, randomBits))
      return code;
  Arith a{b};
  using P = arith::CmpIPredicate;
  const int m = int(f.manBits);
  const int emin = f.minNormalExponent();

  FloatInput input = splitFloatInput(x);
  Value negative = input.negative, absBits = input.absBits;

  // |x| = sig * 2^(e - 23) with sig normalized to 24 bits (f32 subnormals
  // are shifted up; zero gives sig = 0 and a tiny e).
  Value biasedExp = a.shr(absBits, i32(23));
  Value mantissa = a.band(absBits, i32(0x7FFFFF));
  Value isF32Subnormal = a.cmp(P::eq, biasedExp, i32(0));
  Value shift = a.sub(math::CountLeadingZerosOp::create(b, mantissa), i32(8));
  Value sig = a.select(isF32Subnormal, a.shl(mantissa, shift),
                       a.bor(mantissa, i32(0x800000)));
  Value e = a.select(isF32Subnormal, a.sub(i32(-126), shift),
                     a.sub(biasedExp, i32(127)));

  // Grid spacing exponent, and the bits below it.
  Value quantumExp = a.select(a.cmp(P::sge, e, i32(emin)), a.sub(e, i32(m)),
                              i32(f.subnormals ? emin - m : emin));
  Value d = a.add(a.sub(quantumExp, e), i32(23)); // >= 9
  Value dIsWide = a.cmp(P::sge, d, i32(32));
  Value dShift = a.min(d, i32(31));
  Value kept = a.select(dIsWide, i32(0), a.shr(sig, dShift));
  Value discarded =
      a.select(dIsWide, sig, a.band(sig, a.sub(a.shl(i32(1), dShift), i32(1))));

  // Code of the neighbour toward zero: (exponent field - 1) << m plus the
  // quantum count; 0 below the smallest normal of a no-subnormal format.
  Value flush = f.subnormals ? a.i1(false) : a.cmp(P::slt, e, i32(emin));
  Value base =
      a.select(flush, i32(0),
               a.shl(a.add(a.max(e, i32(emin)), i32(f.bias - 1)), i32(m)));
  Value keptCodeIsOdd = a.cmp(P::ne, a.band(a.add(base, kept), i32(1)), i32(0));

  Value away;
  Value discardedNonZero = a.cmp(P::ne, discarded, i32(0));
  switch (rounding) {
  case num::RoundingMode::NearestEven:
  case num::RoundingMode::NearestAway: {
    // d >= 9, and for d - 1 > 24 the half exceeds any 24-bit `discarded`.
    Value half = a.shl(i32(1), a.min(a.sub(d, i32(1)), i32(30)));
    away = rounding == num::RoundingMode::NearestAway
               ? a.cmp(P::uge, discarded, half)
               : a.lor(a.cmp(P::ugt, discarded, half),
                       a.land(a.cmp(P::eq, discarded, half), keptCodeIsOdd));
    break;
  }
  case num::RoundingMode::TowardZero:
    away = a.i1(false);
    break;
  case num::RoundingMode::Upward:
    away = a.land(discardedNonZero, a.lnot(negative));
    break;
  case num::RoundingMode::Downward:
    away = a.land(discardedNonZero, negative);
    break;
  case num::RoundingMode::Stochastic: {
    // floor(frac * 2^32) = discarded << (32 - d), or >> (d - 32).
    Value left = a.shl(discarded, a.max(a.sub(i32(32), d), i32(0)));
    Value rightAmount = a.sub(d, i32(32));
    Value right =
        a.select(a.cmp(P::sge, rightAmount, i32(32)), i32(0),
                 a.shr(discarded, a.min(a.max(rightAmount, i32(0)), i32(31))));
    Value scaled = a.select(a.cmp(P::sle, d, i32(32)), left, right);
    away = a.cmp(P::ugt, scaled, randomBits);
    break;
  }
  }
  Value magnitude =
      a.add(kept, arith::ExtUIOp::create(b, b.getI32Type(), away));
  Value code =
      a.select(flush, a.shl(magnitude, i32(m)), a.add(base, magnitude));

  return finishFloatCode(f, code, input, rounding, overflow);
}

NumericsIRBuilder::FloatInput NumericsIRBuilder::splitFloatInput(Value x) {
  Arith a{b};
  using P = arith::CmpIPredicate;
  Value bits = arith::BitcastOp::create(b, b.getI32Type(), x);
  Value absBits = a.band(bits, i32(0x7FFFFFFF));
  return {a.cmp(P::ne, a.shr(bits, i32(31)), i32(0)), absBits,
          a.cmp(P::ugt, absBits, i32(0x7F800000)),
          a.cmp(P::eq, absBits, i32(0x7F800000))};
}

Value NumericsIRBuilder::finishFloatCode(const num::FloatFormat &f, Value code,
                                         const FloatInput &input,
                                         num::RoundingMode rounding,
                                         num::OverflowMode overflow) {
  Arith a{b};
  using P = arith::CmpIPredicate;
  Value negative = input.negative;
  // Sign, zero, overflow and special inputs; their codes come from the
  // library.
  uint32_t signBit = uint32_t(1) << (f.expBits + f.manBits);
  auto bySign = [&](uint32_t positive, uint32_t negativeCode) {
    return a.select(negative, i32(negativeCode), i32(positive));
  };
  Value signed_ = a.bor(code, a.select(negative, i32(signBit), i32(0)));
  if (!f.hasNegativeZero())
    signed_ = a.select(a.cmp(P::eq, code, i32(0)), i32(0), signed_);
  Value overflowed =
      a.cmp(P::sgt, code, i32(int64_t(f.maxFiniteMagnitudeCode())));
  Value result =
      a.select(overflowed,
               bySign(num::overflowCode(f, false, rounding, overflow),
                      num::overflowCode(f, true, rounding, overflow)),
               signed_);
  result = a.select(input.isInf,
                    bySign(num::infinityCode(f, false, overflow),
                           num::infinityCode(f, true, overflow)),
                    result);
  return a.select(input.isNaN,
                  bySign(num::nanCode(f, false), num::nanCode(f, true)),
                  result);
}

Value NumericsIRBuilder::encodeFloatWithTruncf(const num::FloatFormat &f,
                                               Value x,
                                               num::OverflowMode overflow) {
  bool e4m3fn = f.expBits == 4 && f.manBits == 3 && f.bias == 7 &&
                f.subnormals && f.specials == num::SpecialValues::FN;
  bool e5m2 = f.expBits == 5 && f.manBits == 2 && f.bias == 15 &&
              f.subnormals && f.specials == num::SpecialValues::IEEE;
  if (!usesFP8Truncf(target) ||
      overflow != num::OverflowMode::Saturate || !(e4m3fn || e5m2))
    return Value();
  // Clamped to the finite range (infinities included; NaN passes), the
  // value rounds to nearest even without overflow: arith.truncf's own
  // semantics (as APFloat) give the library's codes. NaN's code is the
  // library's, selected below.
  Arith a{b};
  float largest = num::decode(f, uint32_t(f.maxFiniteMagnitudeCode()));
  Value clamped = arith::MinimumFOp::create(
      b, arith::MaximumFOp::create(b, x, f32(-largest)), f32(largest));
  Type fp8 = e4m3fn ? Type(b.getType<Float8E4M3FNType>())
                    : Type(b.getType<Float8E5M2Type>());
  Value code = arith::ExtUIOp::create(
      b, b.getI32Type(),
      arith::BitcastOp::create(b, b.getI8Type(),
                               arith::TruncFOp::create(b, fp8, clamped)));
  FloatInput input = splitFloatInput(x);
  return a.select(input.isNaN,
                  a.select(input.negative, i32(num::nanCode(f, true)),
                           i32(num::nanCode(f, false))),
                  code);
}

Value NumericsIRBuilder::encodeFloatNearestEven(const num::FloatFormat &f,
                                                Value x,
                                                num::OverflowMode overflow) {
  const int m = int(f.manBits), d = 23 - m;
  const int emin = f.minNormalExponent();
  // Both paths need f32 normals: the smallest target normal and the magic
  // constant 2^(emin - m + 23) below.
  if (emin < -126 || emin - m + 23 < -126 || !f.subnormals)
    return Value();
  Arith a{b};
  using P = arith::CmpIPredicate;
  FloatInput input = splitFloatInput(x);
  Value absBits = input.absBits;

  // Normal range: round the f32 pattern to m mantissa bits (ties to even);
  // a mantissa carry moves into the exponent by itself. Then rebias.
  Value lsb = a.band(a.shr(absBits, i32(d)), i32(1));
  Value roundedBits = a.add(a.add(absBits, i32((1 << (d - 1)) - 1)), lsb);
  Value normal = a.sub(a.shr(roundedBits, i32(d)), i32((127 - f.bias) << m));

  // Below the smallest normal the quantum is 2^(emin - m): adding
  // 2^(emin - m + 23) rounds |x| to a multiple of it (f32 addition rounds to
  // nearest even), and the difference of the bit patterns counts quanta. A
  // count of 2^m is the smallest normal's code.
  float magic = std::ldexp(1.0f, emin - m + 23);
  Value absX = arith::BitcastOp::create(b, b.getF32Type(), absBits);
  Value sum = arith::AddFOp::create(b, absX, f32(magic));
  Value subnormal = a.sub(arith::BitcastOp::create(b, b.getI32Type(), sum),
                          i32(int32_t(bitsOfFloat(magic))));
  Value isSmall =
      a.cmp(P::ult, absBits, i32(int32_t(bitsOfFloat(std::ldexp(1.0f, emin)))));
  Value code = a.select(isSmall, subnormal, normal);
  return finishFloatCode(f, code, input, num::RoundingMode::NearestEven,
                         overflow);
}

Value NumericsIRBuilder::encodeFloatStochastic(const num::FloatFormat &f,
                                               Value x,
                                               num::OverflowMode overflow,
                                               Value randomBits) {
  const int m = int(f.manBits), d = 23 - m;
  const int emin = f.minNormalExponent();
  // The subnormal path scales by 2^(m - emin), which must be an f32 (it is
  // not for bf16, whose subnormals take the general path).
  if (emin < -126 || m - emin > 127 || !f.subnormals)
    return Value();
  Arith a{b};
  using P = arith::CmpIPredicate;
  FloatInput input = splitFloatInput(x);
  Value absBits = input.absBits;

  // Normal range: the value rounds away from zero iff its d discarded bits
  // D satisfy D * 2^(32-d) > r, i.e. D > r >> (32 - d), i.e. adding
  // (~r) >> (32 - d) carries into the kept bits. Then rebias.
  Value addend = a.shr(a.bxor(randomBits, i32(-1)), i32(32 - d));
  Value normal =
      a.sub(a.shr(a.add(absBits, addend), i32(d)), i32((127 - f.bias) << m));

  // Below the smallest normal: count quanta of 2^(emin - m) exactly by
  // scaling, and round the fraction as integer formats do.
  Value absX = arith::BitcastOp::create(b, b.getF32Type(), absBits);
  Value t = arith::MulFOp::create(b, absX, f32(std::ldexp(1.0f, m - emin)));
  Value k = math::FloorOp::create(b, t);
  Value frac = arith::SubFOp::create(b, t, k);
  Value scaled = arith::FPToUIOp::create(
      b, b.getI32Type(), arith::MulFOp::create(b, frac, f32(4294967296.0f)));
  Value away = arith::ExtUIOp::create(b, b.getI32Type(),
                                      a.cmp(P::ugt, scaled, randomBits));
  Value subnormal = a.add(arith::FPToSIOp::create(b, b.getI32Type(), k), away);

  Value isSmall =
      a.cmp(P::ult, absBits, i32(int32_t(bitsOfFloat(std::ldexp(1.0f, emin)))));
  Value code = a.select(isSmall, subnormal, normal);
  return finishFloatCode(f, code, input, num::RoundingMode::Stochastic,
                         overflow);
}

Value NumericsIRBuilder::encodeInt(const num::IntFormat &f, Value t,
                                   num::RoundingMode rounding,
                                   Value randomBits) {
  Arith a{b};
  using P = arith::CmpIPredicate;
  using FP = arith::CmpFPredicate;
  Value isNaN = a.fcmp(FP::UNO, t, t);
  Value negative = a.cmp(
      P::ne, a.shr(arith::BitcastOp::create(b, b.getI32Type(), t), i32(31)),
      i32(0));
  // Clamping first (the bounds are integers) keeps every conversion below
  // in range; NaN is replaced and selected away at the end.
  Value clamped = arith::MaximumFOp::create(
      b, arith::MinimumFOp::create(b, t, f32(float(f.maxValue()))),
      f32(float(f.minValue())));
  clamped = a.select(isNaN, f32(0.0f), clamped);
  uint32_t mask = (uint32_t(1) << f.bits) - 1;

  // Directed modes and ties-to-even are single rounding instructions on the
  // clamped value (an integer plus a fraction, so exact); the general path
  // below is kept for ties-away (llvm.round has no x86 instruction) and
  // stochastic rounding.
  Value rounded;
  switch (rounding) {
  case num::RoundingMode::NearestEven:
    rounded = math::RoundEvenOp::create(b, clamped);
    break;
  case num::RoundingMode::TowardZero:
    rounded = math::TruncOp::create(b, clamped);
    break;
  case num::RoundingMode::Upward:
    rounded = math::CeilOp::create(b, clamped);
    break;
  case num::RoundingMode::Downward:
    rounded = math::FloorOp::create(b, clamped);
    break;
  case num::RoundingMode::NearestAway:
  case num::RoundingMode::Stochastic:
    break;
  }
  if (rounded)
    return a.band(arith::FPToSIOp::create(b, b.getI32Type(), rounded),
                  i32(mask));

  Value magnitudeF = math::AbsFOp::create(b, clamped);
  Value k = math::FloorOp::create(b, magnitudeF);
  Value frac = arith::SubFOp::create(b, magnitudeF, k);
  Value kInt = arith::FPToSIOp::create(b, b.getI32Type(), k);

  Value away;
  Value fracPositive = a.fcmp(FP::OGT, frac, f32(0.0f));
  switch (rounding) {
  case num::RoundingMode::NearestEven:
    away = a.lor(a.fcmp(FP::OGT, frac, f32(0.5f)),
                 a.land(a.fcmp(FP::OEQ, frac, f32(0.5f)),
                        a.cmp(P::ne, a.band(kInt, i32(1)), i32(0))));
    break;
  case num::RoundingMode::NearestAway:
    away = a.fcmp(FP::OGE, frac, f32(0.5f));
    break;
  case num::RoundingMode::TowardZero:
    away = a.i1(false);
    break;
  case num::RoundingMode::Upward:
    away = a.land(fracPositive, a.lnot(negative));
    break;
  case num::RoundingMode::Downward:
    away = a.land(fracPositive, negative);
    break;
  case num::RoundingMode::Stochastic: {
    // frac * 2^32 is exact and below 2^32; the conversion floors it.
    Value scaled = arith::FPToUIOp::create(
        b, b.getI32Type(), arith::MulFOp::create(b, frac, f32(4294967296.0f)));
    away = a.cmp(P::ugt, scaled, randomBits);
    break;
  }
  }
  Value magnitude =
      a.add(kInt, arith::ExtUIOp::create(b, b.getI32Type(), away));
  Value value = a.select(negative, a.sub(i32(0), magnitude), magnitude);
  value = a.select(isNaN, i32(0), value);
  return a.band(value, i32(mask));
}

Value NumericsIRBuilder::decodeFloat(const num::FloatFormat &f, Value code) {
  Arith a{b};
  using P = arith::CmpIPredicate;
  const int m = int(f.manBits);
  const uint32_t signBit = uint32_t(1) << (f.expBits + f.manBits);
  code = a.band(code, i32((int64_t(signBit) << 1) - 1));
  Value negative = a.cmp(P::ne, a.band(code, i32(signBit)), i32(0));
  Value magnitude = a.band(code, i32(signBit - 1));
  Value expField = a.shr(magnitude, i32(m));
  Value mantissa = a.band(magnitude, i32((1 << m) - 1));
  Value signBits = a.select(negative, i32(int32_t(0x80000000u)), i32(0));

  // Normal values: rebuild the f32 bit pattern directly when every normal of
  // the format is an f32 normal, else scale in two exact steps.
  Value normalBits;
  if (f.minNormalExponent() >= -126) {
    normalBits = a.bor(a.shl(a.add(expField, i32(127 - f.bias)), i32(23)),
                       a.shl(mantissa, i32(23 - m)));
  } else {
    // value = sig * 2^(E - bias - m) = (sig * 2^(E - bias - m + 64)) * 2^-64.
    Value sigF = arith::UIToFPOp::create(b, b.getF32Type(),
                                         a.bor(mantissa, i32(1 << m)));
    Value pow2 = arith::BitcastOp::create(
        b, b.getF32Type(),
        a.shl(a.add(expField, i32(127 - f.bias - m + 64)), i32(23)));
    Value scaled = arith::MulFOp::create(
        b, arith::MulFOp::create(b, sigF, pow2), f32(std::ldexp(1.0f, -64)));
    normalBits = arith::BitcastOp::create(b, b.getI32Type(), scaled);
  }
  // Subnormals: mantissa * 2^(emin - m), exact; without subnormals, 0.
  Value subnormalBits = i32(0);
  if (f.subnormals) {
    Value value = arith::MulFOp::create(
        b, arith::UIToFPOp::create(b, b.getF32Type(), mantissa),
        f32(std::ldexp(1.0f, f.minNormalExponent() - m)));
    subnormalBits = arith::BitcastOp::create(b, b.getI32Type(), value);
  }
  Value bits =
      a.bor(a.select(a.cmp(P::eq, expField, i32(0)), subnormalBits, normalBits),
            signBits);

  Value quietNaN = a.bor(i32(0x7FC00000), signBits);
  switch (f.specials) {
  case num::SpecialValues::IEEE: {
    Value topExponent =
        a.cmp(P::eq, expField, i32((int64_t(1) << f.expBits) - 1));
    Value special = a.select(a.cmp(P::eq, mantissa, i32(0)),
                             a.bor(i32(0x7F800000), signBits), quietNaN);
    bits = a.select(topExponent, special, bits);
    break;
  }
  case num::SpecialValues::FN:
    bits = a.select(a.cmp(P::eq, magnitude, i32(signBit - 1)), quietNaN, bits);
    break;
  case num::SpecialValues::FNUZ:
    bits = a.select(a.cmp(P::eq, code, i32(signBit)), i32(0x7FC00000), bits);
    break;
  case num::SpecialValues::FiniteOnly:
    break;
  }
  return arith::BitcastOp::create(b, b.getF32Type(), bits);
}

Value NumericsIRBuilder::decodeInt(const num::IntFormat &f, Value code) {
  Arith a{b};
  if (f.isSigned) {
    Value shift = i32(32 - int(f.bits));
    Value value = arith::ShRSIOp::create(b, a.shl(code, shift), shift);
    return arith::SIToFPOp::create(b, b.getF32Type(), value);
  }
  Value value = a.band(code, i32((int64_t(1) << f.bits) - 1));
  return arith::UIToFPOp::create(b, b.getF32Type(), value);
}

Value NumericsIRBuilder::stochasticBits(Value seed, uint32_t stream,
                                        Value index) {
  // block = 16 * (index / 64) + index % 16, word = (index / 16) % 4.
  Arith a{b};
  Value block =
      a.bor(a.shl(a.shr(index, i64(6)), i64(4)), a.band(index, i64(15)));
  Value word = a.band(a.shr(index, i64(4)), i64(3));
  return stochasticBitsOfBlock(seed, stream, block, word);
}

Value NumericsIRBuilder::stochasticBitsOfBlock(Value seed, uint32_t stream,
                                               Value block, Value word) {
  Arith a{b};
  Type i32Type = b.getI32Type();
  auto lo = [&](Value v) { return arith::TruncIOp::create(b, i32Type, v); };
  auto hi = [&](Value v) { return lo(a.shr(v, i64(32))); };
  Value lane = lo(word);
  Value c[4] = {lo(block), hi(block), i32(stream), i32(0)};
  Value key[2] = {lo(seed), hi(seed)};
  for (unsigned round = 0; round < num::kPhiloxRounds; ++round) {
    if (round != 0) {
      key[0] = a.add(key[0], i32(int32_t(num::kPhiloxW0)));
      key[1] = a.add(key[1], i32(int32_t(num::kPhiloxW1)));
    }
    // 32 x 32 -> 64-bit products, written out rather than with
    // arith.mului_extended, which does not convert to LLVM on n-D vectors;
    // x86 selects vpmuludq for this form.
    // The low half is a plain 32-bit product; the high half is its own
    // single-use 64-bit product, which LLVM turns into mulhu (two vpmuludq
    // and a shuffle per vector) instead of widening every lane.
    auto mulWide = [&](uint32_t multiplier, Value x) {
      Value low = arith::MulIOp::create(b, x, i32(int32_t(multiplier)));
      Value product =
          arith::MulIOp::create(b, arith::ExtUIOp::create(b, b.getI64Type(), x),
                                i64(int64_t(multiplier)));
      return std::make_pair(low, hi(product));
    };
    auto [lo0, hi0] = mulWide(num::kPhiloxM0, c[0]);
    auto [lo1, hi1] = mulWide(num::kPhiloxM1, c[2]);
    Value next[4] = {a.bxor(a.bxor(hi1, c[1]), key[0]), lo1,
                     a.bxor(a.bxor(hi0, c[3]), key[1]), lo0};
    std::copy(std::begin(next), std::end(next), std::begin(c));
  }
  using P = arith::CmpIPredicate;
  Value result = a.select(a.cmp(P::eq, lane, i32(2)), c[2], c[3]);
  result = a.select(a.cmp(P::eq, lane, i32(1)), c[1], result);
  return a.select(a.cmp(P::eq, lane, i32(0)), c[0], result);
}

Value NumericsIRBuilder::codeFromStorage(Value storage) {
  Type type = storage.getType();
  unsigned width = type.getIntOrFloatBitWidth();
  if (!isa<IntegerType>(type))
    storage = arith::BitcastOp::create(b, b.getIntegerType(width), storage);
  if (width == 32)
    return storage;
  return arith::ExtUIOp::create(b, b.getI32Type(), storage);
}

Value NumericsIRBuilder::storageFromCode(Value code, Type storageType) {
  unsigned width = storageType.getIntOrFloatBitWidth();
  Value bits = width == 32
                   ? code
                   : arith::TruncIOp::create(b, b.getIntegerType(width), code);
  if (isa<IntegerType>(storageType))
    return bits;
  return arith::BitcastOp::create(b, storageType, bits);
}
