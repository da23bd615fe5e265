//===- EmulateHostGPUOps.cpp - host code's GPU operations on the CPU ------===//
//
// The host half of emulate-gpu-launches-on-cpu: gpu.alloc, gpu.dealloc,
// gpu.memcpy and gpu.wait in host code, on host memory. With the
// device-memory guard, device buffers get pages of their own that only
// kernels and copies may touch, and each free must match its allocation.
//
//===----------------------------------------------------------------------===//

#include "EmulatorCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::emulator;

func::FuncOp emulator::declare(ModuleOp module, StringRef name,
                               TypeRange arguments, TypeRange results) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  auto builder = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(builder, module.getLoc(), name,
                                 builder.getFunctionType(arguments, results));
  fn.setPrivate();
  if (llvm::any_of(arguments, llvm::IsaPred<MemRefType>))
    fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                builder.getUnitAttr());
  return fn;
}

void emulator::callGuard(OpBuilder &b, Location loc, StringRef name,
                         ValueRange args) {
  func::CallOp::create(
      b, loc,
      declare(b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>(),
              name, args.getTypes(), {}),
      args);
}

int64_t emulator::elementBytes(Type element) {
  if (element.isIndex())
    return 8;
  if (auto vector = dyn_cast<VectorType>(element)) {
    Type scalar = vector.getElementType();
    return scalar.isIntOrFloat() && scalar.getIntOrFloatBitWidth() % 8 == 0
               ? vector.getNumElements() * scalar.getIntOrFloatBitWidth() / 8
               : 0;
  }
  if (!element.isIntOrFloat())
    return 0;
  return llvm::divideCeil(element.getIntOrFloatBitWidth(), 8);
}

namespace {

constexpr int64_t kPageBytes = 4096;

/// The aligned base address of `memref`'s buffer, as the guard takes it.
Value addressOf(OpBuilder &b, Location loc, Value memref) {
  Value address =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
}

/// A device buffer on pages of its own, registered with the guard: an i8
/// buffer of whole pages, page-aligned, viewed as `alloc`'s type.
Value allocateGuarded(OpBuilder &b, gpu::AllocOp alloc) {
  MemRefType type = alloc.getMemref().getType();
  int64_t bytesPerElement = elementBytes(type.getElementType());
  if (!type.getLayout().isIdentity() || bytesPerElement == 0)
    return nullptr;
  Location loc = alloc.getLoc();
  auto constant = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value bytes = constant(bytesPerElement);
  unsigned nextDynamic = 0;
  for (int64_t size : type.getShape())
    bytes = arith::MulIOp::create(b, loc, bytes,
                                  ShapedType::isDynamic(size)
                                      ? alloc.getDynamicSizes()[nextDynamic++]
                                      : constant(size));
  // At least one page, whole pages.
  Value pages = arith::DivUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, bytes, constant(kPageBytes)),
      constant(kPageBytes));
  Value rounded = arith::MulIOp::create(b, loc, pages, constant(kPageBytes));
  Value raw = memref::AllocOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
      ValueRange{rounded}, b.getI64IntegerAttr(kPageBytes));
  callGuard(b, loc, kGPUAllocFn,
            {addressOf(b, loc, raw),
             arith::IndexCastOp::create(b, loc, b.getI64Type(), rounded),
             arith::ConstantIntOp::create(b, loc, 1, 1)});
  return memref::ViewOp::create(b, loc, type, raw, constant(0),
                                alloc.getDynamicSizes());
}

} // namespace

LogicalResult emulator::emulateHostOps(ModuleOp module,
                                       bool guardDeviceMemory) {
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect>(op->getDialect()))
      ops.push_back(op);
  });
  // Host code's own frees (before gpu.dealloc becomes one) must not free
  // GPU buffers.
  if (guardDeviceMemory)
    module.walk([&](memref::DeallocOp dealloc) {
      OpBuilder b(dealloc);
      callGuard(b, dealloc.getLoc(), kHostFreeFn,
                {addressOf(b, dealloc.getLoc(), dealloc.getMemref())});
    });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto alloc = dyn_cast<gpu::AllocOp>(op)) {
      Value buffer;
      if (guardDeviceMemory && !alloc.getHostShared())
        buffer = allocateGuarded(b, alloc);
      if (!buffer) {
        buffer = memref::AllocOp::create(
            b, loc, alloc.getMemref().getType(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), b.getI64IntegerAttr(64));
        if (guardDeviceMemory)
          callGuard(b, loc, kGPUAllocFn,
                    {addressOf(b, loc, buffer),
                     arith::ConstantIntOp::create(b, loc, 0, 64),
                     arith::ConstantIntOp::create(b, loc, 0, 1)});
      }
      alloc.getMemref().replaceAllUsesWith(buffer);
    } else if (auto dealloc = dyn_cast<gpu::DeallocOp>(op)) {
      if (guardDeviceMemory)
        callGuard(b, loc, kGPUFreeFn, {addressOf(b, loc, dealloc.getMemref())});
      memref::DeallocOp::create(b, loc, dealloc.getMemref());
    } else if (auto copy = dyn_cast<gpu::MemcpyOp>(op)) {
      if (guardDeviceMemory)
        callGuard(b, loc, kDeviceBeginFn);
      memref::CopyOp::create(b, loc, copy.getSrc(), copy.getDst());
      if (guardDeviceMemory)
        callGuard(b, loc, kDeviceEndFn);
    } else if (!isa<gpu::WaitOp>(op)) {
      return op->emitOpError("cannot be emulated on the CPU");
    }
  }
  // Async tokens are used by these ops only: erase users first.
  for (Operation *op : llvm::reverse(ops)) {
    for (Value token : op->getResults())
      if (isa<gpu::AsyncTokenType>(token.getType()) &&
          llvm::any_of(token.getUsers(), [&](Operation *user) {
            return !llvm::is_contained(ops, user);
          }))
        return op->emitOpError("async token used outside GPU host ops");
    op->dropAllUses();
    op->erase();
  }
  return success();
}
