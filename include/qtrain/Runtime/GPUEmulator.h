//===- GPUEmulator.h - GPU kernels on CPU threads ---------------*- C++ -*-===//
//
// What emulate-gpu-launches-on-cpu and the emulator library
// (libqtrain_gpu_emulator.so) agree on: the element types of the tensor-core
// MMAs the emulator computes, the layout of the scratch rows (32-bit words,
// one row a thread of the block) through which emulated kernels pass it
// registers, and the alignment of emulated shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_RUNTIME_GPUEMULATOR_H
#define QTRAIN_RUNTIME_GPUEMULATOR_H

#include <cstdint>

namespace mlir::qtrain {

/// An MMA operand or accumulator element, as the emulator decodes it.
enum class EmulatedElement : int64_t {
  e4m3,
  e5m2,
  s8,
  u8,
  f16,
  bf16,
  tf32,
  f32,
  s32
};

/// Words of a thread's scratch row that one mma.sync uses: its 4 A, 2 B
/// and 4 C registers, then its 4 D registers.
constexpr int64_t kMMASyncSlotWords = 14;
/// Words of a thread's scratch row that a run of `ops` ldmatrix ops uses:
/// op s's row address in words 2s (low) and 2s + 1 (high), then its (up to
/// four) result words from this one.
constexpr int64_t ldMatrixResultWord(int64_t ops, int64_t slot) {
  return 2 * ops + 4 * slot;
}

/// Alignment of a block's emulated shared memory: the whole 18-bit shared
/// window, so that a CPU address's low 18 bits are its shared-memory
/// offset, as matrix descriptors encode it.
constexpr int64_t kEmulatedSharedWindow = int64_t(1) << 18;

} // namespace mlir::qtrain

#endif // QTRAIN_RUNTIME_GPUEMULATOR_H
