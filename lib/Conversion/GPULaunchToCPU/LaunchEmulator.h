//===- LaunchEmulator.h - One gpu.launch run on CPU threads -----*- C++ -*-===//
//
// The kernel half of emulate-gpu-launches-on-cpu: EmulateGPULaunchesOnCPU.cpp
// turns a launch into loops over its blocks and threads, and
// EmulateWarpOps.cpp the ops by which a warp's threads exchange registers
// (tensor-core MMAs, ldmatrix, shuffles) into calls of
// libqtrain_gpu_emulator.so (lib/Runtime/GPUEmulator).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_LAUNCHEMULATOR_H
#define QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_LAUNCHEMULATOR_H

#include "EmulatorCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::qtrain::emulator {

constexpr StringLiteral kMMASyncFn = "qtrain_emulate_mma_sync";
constexpr StringLiteral kWGMMAFn = "qtrain_emulate_wgmma";
constexpr StringLiteral kLdMatrixFn = "qtrain_emulate_ldmatrix";
constexpr StringLiteral kThreadIdFn = "qtrain_emulate_thread_id";
constexpr StringLiteral kWarpBarrierFn = "qtrain_emulate_warp_barrier";
// cp.async and wgmma groups (lib/Runtime/GPUEmulator/AsyncOperations.cpp).
constexpr StringLiteral kCpAsyncFn = "qtrain_emulate_cp_async";
constexpr StringLiteral kCpAsyncCommitFn = "qtrain_emulate_cp_async_commit";
constexpr StringLiteral kCpAsyncWaitFn = "qtrain_emulate_cp_async_wait";
constexpr StringLiteral kWGMMACommitFn = "qtrain_emulate_wgmma_commit";
constexpr StringLiteral kWGMMAWaitFn = "qtrain_emulate_wgmma_wait";
constexpr StringLiteral kAsyncExitFn = "qtrain_emulate_async_exit";

/// Consecutive warp MMAs (those of a kernel's k-step), with nothing between
/// them but extractions of their results: they meet at one pair of
/// barriers.
using MMAGroup = SmallVector<LLVM::CallIntrinsicOp>;

/// Runs of consecutive ldmatrix ops: a warp exchanges their row addresses
/// at one pair of barriers.
using LdMatrixGroup = SmallVector<NVVM::LdMatrixOp>;

/// Emulates one gpu.launch.
class LaunchEmulator {
public:
  LaunchEmulator(gpu::LaunchOp launch, bool guardDeviceMemory)
      : launch(launch), b(launch.getLoc(), launch),
        guardDeviceMemory(guardDeviceMemory) {}
  LogicalResult emulate();

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, v, 64); }
  Value toI64(Value v) {
    return b.createOrFold<arith::IndexCastOp>(b.getI64Type(), v);
  }
  /// Whether the block's threads must run at once: they meet at barriers
  /// or exchange registers in warp-wide MMAs.
  bool needsLockstep();
  /// The block's workgroup buffers, carved from one arena aligned to the
  /// shared window.
  LogicalResult allocateShared(IRMapping &mapping);
  /// Rewrites what a CPU cannot run in the cloned body.
  LogicalResult rewriteDeviceOps(Region &body, SmallVector<MMAGroup> groups);
  LogicalResult emulateMMASyncs(MMAGroup group);
  LogicalResult emulateWGMMA(NVVM::WgmmaMmaAsyncOp op);
  LogicalResult emulateLdMatrices(LdMatrixGroup group);
  LogicalResult emulateShuffle(gpu::ShuffleOp shuffle);
  /// Replaces `op` by a call of the emulator's `name` with `args`.
  LogicalResult replaceByCall(Operation *op, StringRef name, ValueRange args);
  /// Replaces a wait for all but `pending` groups by a call of `name`.
  LogicalResult replaceByWait(Operation *wait, StringRef name,
                              int64_t pending) {
    OpBuilder builder(wait);
    return replaceByCall(
        wait, name,
        {arith::ConstantIntOp::create(builder, wait->getLoc(), pending, 64)});
  }
  /// Stores `values` as words of this thread's scratch row, from word
  /// `first`, and loads them back as `types`.
  void storeWords(ValueRange values, int64_t first);
  SmallVector<Value> loadWords(TypeRange types, int64_t first);
  Value packStruct(Type structType, ValueRange values);

  func::FuncOp declare(StringRef name, TypeRange arguments, TypeRange results) {
    return emulator::declare(launch->getParentOfType<ModuleOp>(), name,
                             arguments, results);
  }

  gpu::LaunchOp launch;
  ImplicitLocOpBuilder b;
  bool guardDeviceMemory;
  // Sizes, and indices while the body is built.
  SmallVector<Value, 3> grid, block, blockIds, threadIds;
  // The thread's index in its block, its block's scratch rows (lockstep
  // blocks), and its workgroup memory.
  Value threadId, scratch, arena, arenaBytes;
  int64_t scratchWords = 0, dynamicOffset = 0, dynamicBytes = 0;
  // The first of the scratch words that shuffles use (two for values, the
  // thread's count of shuffles, and its warp's barrier's two counts in
  // lane 0's row), and the block's threads (lockstep blocks).
  int64_t shuffleWord = 0;
  Value blockThreads;
};

} // namespace mlir::qtrain::emulator

#endif // QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_LAUNCHEMULATOR_H
