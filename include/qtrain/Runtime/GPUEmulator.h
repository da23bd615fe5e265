//===- GPUEmulator.h - GPU kernels on CPU threads ---------------*- C++ -*-===//
//
// What qtrain-emulate-gpu-launches and the emulator library
// (libqtrain_gpu_emulator.so) agree on: the element types of the tensor-core
// MMAs the emulator computes, and the shapes of the scratch buffer that
// emulated kernels pass its C entry points (one row of 32-bit words a thread
// of the block).
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

/// Words of a thread's scratch row that a wgmma's accumulators need (64x64
/// tiles: 32 a thread). Rows are wider where a thread has several mma.sync
/// in flight: 14 words each (its 4 A, 2 B and 4 C registers, then D).
constexpr int64_t kEmulatorWGMMAWords = 32;
/// Alignment of a block's emulated shared memory: the whole 18-bit shared
/// window, so that a CPU address's low 18 bits are its shared-memory
/// offset, as matrix descriptors encode it.
constexpr int64_t kEmulatedSharedWindow = int64_t(1) << 18;

} // namespace mlir::qtrain

#endif // QTRAIN_RUNTIME_GPUEMULATOR_H
