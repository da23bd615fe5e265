//===- AsyncOperations.h - The emulator's asynchronous ops -----*- C++ -*-===//
//
// What the wgmma emulation tells the tracking of asynchronous operations
// (AsyncOperations.cpp): the shared memory a warpgroup MMA reads; and how
// the emulator library stops a program.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_RUNTIME_GPUEMULATOR_ASYNCOPERATIONS_H
#define QTRAIN_LIB_RUNTIME_GPUEMULATOR_ASYNCOPERATIONS_H

#include <cstdint>

namespace qtrain::emulator {

/// Records that this thread's next wgmma group reads bytes [begin, end) of
/// shared memory (absolute addresses) until a wgmma.wait_group completes
/// it: no cp.async may write them before.
void readByWGMMA(int64_t begin, int64_t end);

/// Stops the program with `message` if a pending wgmma of the block reads
/// any of bytes [begin, end): an asynchronous copy may write them at once.
void checkNotReadByWGMMA(int64_t begin, int64_t end, const char *message);

/// Reports `message` ("qtrain GPU emulator: ...") and aborts: what a GPU
/// would fault on, compute wrongly or hang at.
[[noreturn]] void fail(const char *message);

} // namespace qtrain::emulator

#endif // QTRAIN_LIB_RUNTIME_GPUEMULATOR_ASYNCOPERATIONS_H
