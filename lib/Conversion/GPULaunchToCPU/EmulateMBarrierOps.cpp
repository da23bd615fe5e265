//===- EmulateMBarrierOps.cpp - mbarriers and TMA copies as calls ---------===//
//
// The kernel half of emulate-gpu-launches-on-cpu for the warp-specialized
// wgmma kernels: their mbarrier operations and TMA copies become calls into
// libqtrain_gpu_emulator.so (lib/Runtime/GPUEmulator/MBarriers.cpp), which
// keeps the barriers' phases and performs the copies from the tensor maps
// that qtrainTensorMap recorded. Forms the kernels do not use (predicates,
// arrival counts, multicast, im2col; predicates but an arrival's) are
// rejected, not approximated.
//
//===----------------------------------------------------------------------===//

#include "EmulatorCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qtrain;

namespace {

constexpr StringLiteral kInitFn = "qtrain_emulate_mbarrier_init";
constexpr StringLiteral kArriveFn = "qtrain_emulate_mbarrier_arrive";
constexpr StringLiteral kArriveExpectTxFn =
    "qtrain_emulate_mbarrier_arrive_expect_tx";
constexpr StringLiteral kWaitFn = "qtrain_emulate_mbarrier_wait";
constexpr StringLiteral kTMALoadFn = "qtrain_emulate_tma_load";

/// Replaces `op` by a call of `name` with `args`, each widened to i64
/// (pointers as their addresses, i32 sign-extended: TMA coordinates are
/// signed).
LogicalResult replaceByCall(Operation *op, StringRef name, ValueRange args) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  SmallVector<Value> widened;
  for (Value arg : args) {
    if (isa<LLVM::LLVMPointerType>(arg.getType()))
      widened.push_back(LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), arg));
    else if (!arg.getType().isInteger(64))
      widened.push_back(arith::ExtSIOp::create(b, loc, b.getI64Type(), arg));
    else
      widened.push_back(arg);
  }
  func::CallOp::create(b, loc,
                       emulator::declare(op->getParentOfType<ModuleOp>(), name,
                                         ValueRange(widened).getTypes(), {}),
                       widened);
  op->erase();
  return success();
}

LogicalResult
emulateTMALoad(NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp op) {
  int64_t rank = op.getCoordinates().size();
  if (rank < 1 || rank > 3 || op.getMode() != NVVM::TMALoadMode::TILE ||
      !op.getIm2colOffsets().empty() || op.getMulticastMask() ||
      op.getL2CacheHint() || op.getPredicate())
    return op.emitOpError("cannot emulate this TMA copy (tiles of 1 to 3 "
                          "dimensions into one block's shared memory only)");
  OpBuilder b(op);
  Value zero = arith::ConstantIntOp::create(b, op.getLoc(), 0, 64);
  SmallVector<Value> args{
      op.getDstMem(), op.getTmaDescriptor(), op.getMbar(),
      arith::ConstantIntOp::create(b, op.getLoc(), rank, 64)};
  for (int64_t d = 0; d < 3; ++d)
    args.push_back(d < rank ? op.getCoordinates()[d] : zero);
  return replaceByCall(op, kTMALoadFn, args);
}

} // namespace

std::optional<LogicalResult> emulator::emulateMBarrierOp(Operation *op) {
  auto unsupported = [](Operation *op) {
    return op->emitOpError("cannot emulate this form (no predicate but an "
                           "arrival's, no arrival count or used result)");
  };
  return TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](NVVM::MBarrierInitOp init) -> LogicalResult {
        if (init.getPredicate())
          return unsupported(init);
        return replaceByCall(init, kInitFn, {init.getAddr(), init.getCount()});
      })
      .Case([&](NVVM::MBarrierArriveOp arrive) -> LogicalResult {
        if (arrive.getCount() ||
            (arrive.getRes() && !arrive.getRes().use_empty()))
          return unsupported(arrive);
        return replaceByCall(arrive, kArriveFn, {arrive.getAddr()});
      })
      .Case([&](NVVM::MBarrierArriveExpectTxOp arrive) -> LogicalResult {
        if (arrive.getRes() && !arrive.getRes().use_empty())
          return unsupported(arrive);
        // A predicated arrival: the call in an scf.if.
        if (Value predicate = arrive.getPredicate()) {
          OpBuilder b(arrive);
          auto ifOp = scf::IfOp::create(b, arrive.getLoc(), predicate,
                                        /*withElseRegion=*/false);
          arrive->moveBefore(ifOp.thenBlock()->getTerminator());
        }
        return replaceByCall(arrive, kArriveExpectTxFn,
                             {arrive.getAddr(), arrive.getTxcount()});
      })
      .Case([&](NVVM::MBarrierTryWaitParityOp wait) -> LogicalResult {
        return replaceByCall(wait, kWaitFn, {wait.getAddr(), wait.getPhase()});
      })
      // The emulator's barriers are visible to all threads once made.
      .Case([&](NVVM::FenceMbarrierInitOp fence) -> LogicalResult {
        fence.erase();
        return success();
      })
      .Case([&](NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp copy) {
        return emulateTMALoad(copy);
      })
      .Default([](Operation *) { return std::nullopt; });
}
