//===- AsyncOperations.h - the emulator's asynchronous operations -*- C++
//-*-===//
//
// What the wgmma emulation tells the tracking of asynchronous operations
// (AsyncOperations.cpp): the shared memory a warpgroup MMA reads.
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

} // namespace qtrain::emulator

#endif // QTRAIN_LIB_RUNTIME_GPUEMULATOR_ASYNCOPERATIONS_H
