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

/// The 32 random bits of element `index` (row-major linear index) of an op
/// with stream id `stream`, under `seed`:
///   key     = {seed[31:0], seed[63:32]}
///   counter = {(index/4)[31:0], (index/4)[63:32], stream, 0}
///   bits    = philox4x32(counter, key)[index % 4]
/// Four consecutive elements share one block, as curand's Philox does.
uint32_t stochasticBits(uint64_t seed, uint32_t stream, uint64_t index);

} // namespace qtrain::numerics

#endif // QTRAIN_NUMERICS_PHILOX_H
