//===- AsyncGPULaunches.cpp - qtrain-async-gpu-launches -------------------===//
//
// Host code waits for each kernel launch, copy, allocation and free on a
// stream of its own: a round trip to the GPU for each, dozens a training
// step. This pass chains the GPU operations of each block on one stream,
// asynchronous, and waits only where the host needs the work done: before
// host code with side effects (it may read what kernels wrote), before ops
// with regions, and before the block's terminator. A `qtrain.device_entry`
// function, whose callers pass device buffers and read results through
// copies queued behind its work, returns without waiting: a training step
// returns with its kernels queued, and the driver queues the next one (and
// the loss's download) behind them. So any function's host code may start
// while an earlier call's kernels still run, in buffers freed to the
// runtime's cache in stream order: its first access of memory waits for
// them.
//
// The runtime libraries queue all of host code's GPU work on one stream
// (lib/Runtime/CUDA/CudaRuntime.cpp; the emulator runs it at once), so a
// wait for a chain is a wait for everything queued before it.
//
// Upstream's gpu-async-region pass threads tokens the same way, but treats
// the synchronous `gpu.wait` that qtrain-gpu-host-buffers puts after each
// allocation, copy and free as a point where the host waits (the chain
// would break at every buffer), and makes managed (host_shared)
// allocations asynchronous, which the GPU-to-LLVM lowering rejects.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_ASYNCGPULAUNCHESPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// A `gpu.wait async` without dependencies whose token only `op` uses: the
/// fresh stream that qtrain-gpu-host-buffers gives each GPU operation.
gpu::WaitOp freshStreamOf(gpu::AsyncOpInterface op) {
  if (op.getAsyncDependencies().size() != 1)
    return {};
  Value token = op.getAsyncDependencies().front();
  auto wait = token.getDefiningOp<gpu::WaitOp>();
  if (!wait || !wait.getAsyncDependencies().empty() || !token.hasOneUse())
    return {};
  return wait;
}

/// The synchronous `gpu.wait` that is the only use of `token`, if any.
gpu::WaitOp hostWaitOn(Value token) {
  if (!token || !token.hasOneUse())
    return {};
  auto wait = dyn_cast<gpu::WaitOp>(*token.getUsers().begin());
  return wait && !wait.getAsyncToken() ? wait : gpu::WaitOp();
}

/// `launch` with `dependency` and a token result (its synchronous form has
/// neither). Cloned as upstream's gpu-async-region does: the op's builders
/// differ by version, its generic form does not.
Value makeAsync(OpBuilder &b, gpu::LaunchFuncOp launch, Value dependency) {
  gpu::addAsyncDependency(launch, dependency);
  Operation *op = launch;
  OperationState state(op->getLoc(), op->getName(), op->getOperands(),
                       {b.getType<gpu::AsyncTokenType>()}, {}, {}, {});
  state.propertiesAttr = op->getPropertiesAsAttribute();
  state.addAttributes(op->getDiscardableAttrDictionary().getValue());
  b.setInsertionPoint(op);
  Operation *async = b.create(state);
  op->erase();
  return async->getResult(0);
}

/// Whether the host must have the GPU's work done before `op` runs.
bool needsWait(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>() || op->getNumRegions() > 0)
    return true;
  // New memory is not in use: the host allocates it at once.
  if (isa<memref::AllocOp>(op) ||
      (isa<gpu::AllocOp>(op) && !cast<gpu::AllocOp>(op).getAsyncToken()))
    return false;
  // Nor do functions that touch no memory kernels use.
  if (auto call = dyn_cast<func::CallOp>(op)) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        op, call.getCalleeAttr());
    if (callee &&
        callee->hasAttr(mlir::qtrain::QTrainDialect::getHostOnlyAttrName()))
      return false;
  }
  return !isMemoryEffectFree(op);
}

/// Whether `func` has GPU operations: it may reuse buffers that an earlier
/// call's queued kernels still use.
bool queuesGPUWork(func::FuncOp func) {
  return func
      .walk([](Operation *op) {
        return isa<gpu::AsyncOpInterface, gpu::LaunchFuncOp>(op)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// Chains the GPU operations of `block` (and of blocks nested in its ops)
/// on one stream per run between host waits. With `earlierWork`, work
/// queued before the block may still run: the first op that needs the
/// host to wait waits for the queue. A `return` waits only if
/// `waitToReturn`.
void chainBlock(Block &block, bool earlierWork, bool waitToReturn) {
  OpBuilder b(block.getParentOp()->getContext());
  // The last GPU operation's token; null when the host has waited.
  Value chain;
  SmallVector<Operation *> ops =
      llvm::to_vector(llvm::make_pointer_range(block));
  DenseSet<Operation *> erased;
  for (Operation *op : ops) {
    if (erased.contains(op))
      continue;
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
        launch && !launch.getAsyncToken() &&
        launch.getAsyncDependencies().empty()) {
      if (!chain) {
        b.setInsertionPoint(launch);
        chain =
            gpu::WaitOp::create(b, launch.getLoc(),
                                b.getType<gpu::AsyncTokenType>(), ValueRange())
                .getAsyncToken();
      }
      chain = makeAsync(b, launch, chain);
      continue;
    }
    if (auto async = dyn_cast<gpu::AsyncOpInterface>(op)) {
      gpu::WaitOp stream = freshStreamOf(async);
      gpu::WaitOp hostWait = hostWaitOn(async.getAsyncToken());
      if (stream && hostWait) {
        // An operation that waited on a stream of its own joins the chain.
        if (chain) {
          op->replaceUsesOfWith(stream.getAsyncToken(), chain);
          stream.erase();
        }
        chain = async.getAsyncToken();
        erased.insert(hostWait);
        hostWait.erase();
        continue;
      }
    }
    if (auto wait = dyn_cast<gpu::WaitOp>(op);
        wait && wait.getAsyncToken() && !op->use_empty())
      continue; // a fresh stream, judged with its user
    if (needsWait(op) && !(isa<func::ReturnOp>(op) && !waitToReturn)) {
      b.setInsertionPoint(op);
      if (!chain && earlierWork)
        chain =
            gpu::WaitOp::create(b, op->getLoc(),
                                b.getType<gpu::AsyncTokenType>(), ValueRange())
                .getAsyncToken();
      if (chain)
        gpu::WaitOp::create(b, op->getLoc(), Type(), ValueRange{chain});
      chain = nullptr;
      earlierWork = false;
    }
    for (Region &region : op->getRegions())
      for (Block &nested : region)
        chainBlock(nested, /*earlierWork=*/false, /*waitToReturn=*/true);
  }
}

struct AsyncGPULaunchesPass
    : mlir::qtrain::impl::AsyncGPULaunchesPassBase<AsyncGPULaunchesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool earlierWork = queuesGPUWork(func);
    bool waitToReturn =
        !func->hasAttr(mlir::qtrain::QTrainDialect::getDeviceEntryAttrName());
    for (Block &block : func.getBody())
      chainBlock(block, earlierWork, waitToReturn);
  }
};

} // namespace
