//===- Philox.h - Counter-based random bits for stochastic rounding -*- C++
//-*-===//
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11) and the keying qtrain uses for stochastic rounding, so that every
// backend draws the same bits for the same element.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_NUMERICS_PHILOX_H
#define QTRAIN_NUMERICS_PHILOX_H

#include <array>
#include <cstdint>

namespace qtrain::numerics {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
inline constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
inline constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
inline constexpr unsigned kPhiloxRounds = 10;

/// The Philox4x32 block function with 10 rounds.
PhiloxCounter philox4x32(PhiloxCounter counter, PhiloxKey key);

/// Elements are grouped in chunks of 64: element 64c + 16w + j (j < 16,
/// w < 4) takes word w of Philox block 16c + j. A vector of 16 consecutive
/// elements thus draws 16 different blocks, and the four vectors of a chunk
/// share them: code computing 16 blocks at once uses all four words without
/// moving data between lanes.
inline uint64_t stochasticBlock(uint64_t index) {
  return ((index >> 6) << 4) | (index & 15);
}
inline unsigned stochasticWord(uint64_t index) {
  return unsigned(index >> 4) & 3;
}

/// The 32 random bits of element `index` (row-major linear index) of an op
/// with stream id `stream`, under `seed`:
///   key     = {seed[31:0], seed[63:32]}
///   counter = {block[31:0], block[63:32], stream, 0}, block = stochasticBlock
///   bits    = philox4x32(counter, key)[stochasticWord(index)]
uint32_t stochasticBits(uint64_t seed, uint32_t stream, uint64_t index);
uint32_t stochasticBitsOfBlock(uint64_t seed, uint32_t stream, uint64_t block,
                               unsigned word);

} // namespace qtrain::numerics

#endif // QTRAIN_NUMERICS_PHILOX_H
