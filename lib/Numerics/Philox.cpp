//===- Philox.cpp - Counter-based random bits -----------------------------===//

#include "qtrain/Numerics/Philox.h"

namespace qtrain::numerics {

PhiloxCounter philox4x32(PhiloxCounter c, PhiloxKey k) {
  for (unsigned round = 0; round < kPhiloxRounds; ++round) {
    if (round != 0) {
      k[0] += kPhiloxW0;
      k[1] += kPhiloxW1;
    }
    uint64_t p0 = uint64_t(kPhiloxM0) * c[0];
    uint64_t p1 = uint64_t(kPhiloxM1) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1),
         uint32_t(p0 >> 32) ^ c[3] ^ k[1], uint32_t(p0)};
  }
  return c;
}

uint32_t stochasticBits(uint64_t seed, uint32_t stream, uint64_t index) {
  return stochasticBitsOfBlock(seed, stream, stochasticBlock(index),
                               stochasticWord(index));
}

uint32_t stochasticBitsOfBlock(uint64_t seed, uint32_t stream, uint64_t block,
                               unsigned word) {
  PhiloxCounter counter = {uint32_t(block), uint32_t(block >> 32), stream, 0};
  PhiloxKey key = {uint32_t(seed), uint32_t(seed >> 32)};
  return philox4x32(counter, key)[word];
}

} // namespace qtrain::numerics
