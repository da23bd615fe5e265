//===- EmulatorCalls.h - what emulated kernels and host code call --------===//
//
// Shared by the two halves of emulate-gpu-launches-on-cpu: the kernels
// (EmulateGPULaunchesOnCPU.cpp, EmulateMBarrierOps.cpp) and host code's GPU
// operations (EmulateHostGPUOps.cpp). The functions named here are those of
// libqtrain_gpu_emulator.so's device-memory guard
// (lib/Runtime/GPUEmulator/DeviceMemoryGuard.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_EMULATORCALLS_H
#define QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_EMULATORCALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qtrain::emulator {

constexpr StringLiteral kGPUAllocFn = "qtrain_emulate_gpu_alloc";
constexpr StringLiteral kGPUFreeFn = "qtrain_emulate_gpu_free";
constexpr StringLiteral kHostFreeFn = "qtrain_emulate_host_free";
constexpr StringLiteral kDeviceBeginFn = "qtrain_emulate_device_begin";
constexpr StringLiteral kDeviceEndFn = "qtrain_emulate_device_end";

/// `name`, declared in `module` unless it is there; emulator entry points
/// with memref arguments take them by C interface.
func::FuncOp declare(ModuleOp module, StringRef name, TypeRange arguments,
                     TypeRange results);

/// Calls the guard's `name` (no results) at the builder.
void callGuard(OpBuilder &b, Location loc, StringRef name,
               ValueRange args = {});

/// Bytes of one element of a buffer as the host lays it out (scalars in
/// whole bytes, vectors of byte-sized scalars packed), or 0 where the
/// emulator does not place such buffers.
int64_t elementBytes(Type element);

/// Replaces an mbarrier operation or TMA copy of a kernel body by its call
/// into the emulator library (EmulateMBarrierOps.cpp); std::nullopt for
/// other ops.
std::optional<LogicalResult> emulateMBarrierOp(Operation *op);

/// Managed and device buffers become host buffers (registered with the
/// guard, device ones closed to host code where `guardDeviceMemory`);
/// copies become memref.copy and the host's waits go.
LogicalResult emulateHostOps(ModuleOp module, bool guardDeviceMemory);

} // namespace mlir::qtrain::emulator

#endif // QTRAIN_LIB_CONVERSION_GPULAUNCHTOCPU_EMULATORCALLS_H
