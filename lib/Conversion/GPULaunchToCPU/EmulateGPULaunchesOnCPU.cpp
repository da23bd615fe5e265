//===- EmulateGPULaunchesOnCPU.cpp - gpu.launch as CPU threads ------------===//
//
// Runs the kernels of the GPU lowering on the CPU, so that the kernels
// themselves (their indexing, fragment layouts, shared-memory staging and
// barriers) are tested where no GPU is. Each gpu.launch becomes loops over
// its blocks; a block's threads run one after another, or, where they
// synchronize (barriers, warp shuffles, warp and warpgroup MMAs), as an
// OpenMP team of one CPU thread each, barriers as omp.barrier.
// Tensor-core MMAs become calls into libqtrain_gpu_emulator.so, written
// from the PTX ISA's fragment descriptions; managed and device memory
// become host memory.
//
// Upstream offers no such lowering: the SCF-to-GPU direction only, and
// OpenMP lowerings of scf.parallel, which have no barriers or warps.
//
//===----------------------------------------------------------------------===//

#include "EmulatorCalls.h"
#include "LaunchEmulator.h"

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Runtime/GPUEmulator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_EMULATEGPULAUNCHESONCPUPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::emulator;

namespace {

/// The runs of consecutive ops that `member` takes (as an `OpT`, null for
/// others) in each block of `region`, with nothing between them but ops
/// that `between` accepts (given the run so far).
template <typename OpT>
SmallVector<SmallVector<OpT>>
runsOf(Region &region, llvm::function_ref<OpT(Operation &)> member,
       llvm::function_ref<bool(Operation &, ArrayRef<OpT>)> between) {
  SmallVector<SmallVector<OpT>> runs;
  region.walk([&](Block *block) {
    SmallVector<OpT> run;
    for (Operation &op : *block) {
      if (OpT taken = member(op)) {
        run.push_back(taken);
        continue;
      }
      if (!run.empty() && between(op, run))
        continue;
      if (!run.empty())
        runs.push_back(std::move(run));
      run.clear();
    }
    if (!run.empty())
      runs.push_back(std::move(run));
  });
  return runs;
}

bool isWarpMMA(Operation *op) {
  auto call = dyn_cast<LLVM::CallIntrinsicOp>(op);
  return call && call.getIntrin().starts_with("llvm.nvvm.mma.");
}

SmallVector<MMAGroup> warpMMAGroups(Region &region) {
  return runsOf<LLVM::CallIntrinsicOp>(
      region,
      [](Operation &op) {
        return isWarpMMA(&op) ? cast<LLVM::CallIntrinsicOp>(op)
                              : LLVM::CallIntrinsicOp();
      },
      [](Operation &op, ArrayRef<LLVM::CallIntrinsicOp> run) {
        auto extract = dyn_cast<LLVM::ExtractValueOp>(op);
        return extract &&
               llvm::is_contained(run, extract.getContainer().getDefiningOp());
      });
}

SmallVector<LdMatrixGroup> ldMatrixGroups(Region &region) {
  return runsOf<NVVM::LdMatrixOp>(
      region, [](Operation &op) { return dyn_cast<NVVM::LdMatrixOp>(op); },
      [](Operation &, ArrayRef<NVVM::LdMatrixOp>) { return false; });
}

} // namespace

/// Workgroup memory is host memory here: buffers derived from it (views of
/// dynamic shared memory) lose the workgroup address space, as the
/// workgroup buffers' replacements have none.
static void dropWorkgroupSpace(Region &body) {
  auto isWorkgroup = [](Attribute space) {
    auto gpuSpace = dyn_cast_if_present<gpu::AddressSpaceAttr>(space);
    return gpuSpace && gpuSpace.getValue() == gpu::AddressSpace::Workgroup;
  };
  body.walk([&](Operation *op) {
    for (Value result : op->getResults())
      if (auto type = dyn_cast<MemRefType>(result.getType());
          type && isWorkgroup(type.getMemorySpace()))
        result.setType(MemRefType::get(type.getShape(), type.getElementType(),
                                       type.getLayout()));
  });
}

bool LaunchEmulator::needsLockstep() {
  return launch.getBody()
      .walk([](Operation *op) {
        return isa<gpu::BarrierOp, gpu::ShuffleOp>(op) || isWarpMMA(op) ||
                       isa<NVVM::NVVMDialect>(op->getDialect())
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

LogicalResult LaunchEmulator::allocateShared(IRMapping &mapping) {
  int64_t bytes = 0, dynamicBytes = 0;
  if (Value size = launch.getDynamicSharedMemorySize()) {
    // A constant, so that the arena is sized before the blocks run (the
    // tensor-core kernels' stages are).
    APInt constant;
    if (!matchPattern(size, m_ConstantInt(&constant)))
      return launch.emitOpError(
          "cannot emulate dynamic shared memory of a non-constant size");
    dynamicBytes = constant.getZExtValue();
  }
  SmallVector<int64_t> offsets;
  for (BlockArgument buffer : launch.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    // Kernels keep only sized scalars and vectors in workgroup memory (an
    // index there has no width before the kernel's index bitwidth is set).
    int64_t bytesPerElement = elementBytes(type.getElementType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getElementType().isIndex() || bytesPerElement == 0)
      return launch.emitOpError("cannot emulate workgroup buffer of type ")
             << type;
    bytes = llvm::alignTo(bytes, 16);
    offsets.push_back(bytes);
    bytes += type.getNumElements() * bytesPerElement;
  }
  // Dynamic shared memory follows the static buffers, 16-byte aligned as
  // PTX's `.extern .shared .align 16` array.
  dynamicOffset = llvm::alignTo(bytes, 16);
  this->dynamicBytes = dynamicBytes;
  if (dynamicBytes > 0)
    bytes = dynamicOffset + dynamicBytes;
  if (bytes == 0)
    return success();
  if (bytes > kEmulatedSharedWindow)
    return launch.emitOpError("workgroup buffers exceed the shared window");
  arenaBytes = i64(bytes);
  arena = memref::AllocOp::create(b, MemRefType::get({bytes}, b.getI8Type()),
                                  ValueRange(),
                                  b.getI64IntegerAttr(kEmulatedSharedWindow));
  for (auto [buffer, offset] :
       llvm::zip(launch.getWorkgroupAttributions(), offsets)) {
    auto type = cast<MemRefType>(buffer.getType());
    mapping.map(buffer,
                memref::ViewOp::create(
                    b, MemRefType::get(type.getShape(), type.getElementType()),
                    arena, index(offset), ValueRange()));
  }
  return success();
}

LogicalResult LaunchEmulator::replaceByCall(Operation *op, StringRef name,
                                            ValueRange args) {
  OpBuilder builder(op);
  func::CallOp::create(builder, op->getLoc(),
                       declare(name, args.getTypes(), {}), args);
  op->erase();
  return success();
}

LogicalResult LaunchEmulator::rewriteDeviceOps(Region &body,
                                               SmallVector<MMAGroup> groups) {
  for (MMAGroup &group : groups)
    if (failed(emulateMMASyncs(group)))
      return failure();
  bool async = body.walk([](Operation *op) {
                     return isa<NVVM::CpAsyncOp, NVVM::WgmmaMmaAsyncOp>(op)
                                ? WalkResult::interrupt()
                                : WalkResult::advance();
                   })
                   .wasInterrupted();
  SmallVector<Operation *> ops;
  body.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect, NVVM::NVVMDialect>(op->getDialect()) ||
        isa<LLVM::CallIntrinsicOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    LogicalResult result =
        TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](gpu::TerminatorOp terminator) {
              OpBuilder builder(terminator);
              if (async)
                func::CallOp::create(builder, terminator.getLoc(),
                                     declare(kAsyncExitFn, {}, {}),
                                     ValueRange());
              scf::YieldOp::create(builder, terminator.getLoc());
              terminator.erase();
              return success();
            })
            .Case([&](gpu::DynamicSharedMemoryOp dynamic) {
              OpBuilder builder(dynamic);
              Location loc = dynamic.getLoc();
              auto bytes =
                  MemRefType::get({ShapedType::kDynamic}, builder.getI8Type());
              dynamic.replaceAllUsesWith(
                  memref::ViewOp::create(
                      builder, loc, bytes, arena,
                      arith::ConstantIndexOp::create(builder, loc,
                                                     dynamicOffset),
                      ValueRange{arith::ConstantIndexOp::create(builder, loc,
                                                                dynamicBytes)})
                      .getResult());
              dynamic.erase();
              return success();
            })
            .Case([&](gpu::BarrierOp barrier) {
              OpBuilder builder(barrier);
              omp::BarrierOp::create(builder, barrier.getLoc());
              barrier.erase();
              return success();
            })
            .Case<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp,
                  gpu::GridDimOp>([&](Operation *id) {
              auto dim = id->getAttrOfType<gpu::DimensionAttr>("dimension");
              ArrayRef<Value> values = isa<gpu::ThreadIdOp>(id)   ? threadIds
                                       : isa<gpu::BlockIdOp>(id)  ? blockIds
                                       : isa<gpu::BlockDimOp>(id) ? block
                                                                  : grid;
              id->getResult(0).replaceAllUsesWith(
                  values[size_t(dim.getValue())]);
              id->erase();
              return success();
            })
            // CPU memory is coherent. wgmmas are computed when issued, and
            // their groups track the shared memory they read until waited
            // for (AsyncOperations.cpp).
            .Case<NVVM::FenceProxyOp, NVVM::WgmmaFenceAlignedOp>(
                [](Operation *fence) {
                  fence->erase();
                  return success();
                })
            .Case([&](NVVM::WgmmaGroupSyncAlignedOp commit) {
              return replaceByCall(commit, kWGMMACommitFn, {});
            })
            .Case([&](NVVM::WgmmaWaitGroupSyncOp wait) {
              return replaceByWait(wait, kWGMMAWaitFn, wait.getGroup());
            })
            .Case([&](LLVM::CallIntrinsicOp call) {
              return call.getIntrin().starts_with("llvm.nvvm.")
                         ? call.emitOpError("cannot emulate ")
                               << call.getIntrin()
                         : success();
            })
            .Case([&](NVVM::WgmmaMmaAsyncOp wgmma) {
              return emulateWGMMA(wgmma);
            })
            .Case(
                [&](gpu::ShuffleOp shuffle) { return emulateShuffle(shuffle); })
            // Copies complete at the wait that lets them, not before (see
            // AsyncOperations.cpp).
            .Case([&](NVVM::CpAsyncOp copy) {
              OpBuilder builder(copy);
              auto address = [&](Value pointer) {
                return LLVM::PtrToIntOp::create(builder, copy.getLoc(),
                                                builder.getI64Type(), pointer)
                    .getResult();
              };
              Value bytes = arith::ConstantIntOp::create(builder, copy.getLoc(),
                                                         copy.getSize(), 64);
              Value sourceBytes =
                  copy.getCpSize()
                      ? arith::ExtUIOp::create(builder, copy.getLoc(),
                                               builder.getI64Type(),
                                               copy.getCpSize())
                            .getResult()
                      : bytes;
              return replaceByCall(copy, kCpAsyncFn,
                                   {address(copy.getDst()),
                                    address(copy.getSrc()), bytes,
                                    sourceBytes});
            })
            .Case([&](NVVM::CpAsyncCommitGroupOp commit) {
              return replaceByCall(commit, kCpAsyncCommitFn, {});
            })
            .Case([&](NVVM::CpAsyncWaitGroupOp wait) {
              return replaceByWait(wait, kCpAsyncWaitFn, wait.getN());
            })
            .Default([](Operation *op) -> LogicalResult {
              if (std::optional<LogicalResult> emulated = emulateMBarrierOp(op))
                return *emulated;
              return op->emitOpError("cannot be emulated on the CPU");
            });
    if (failed(result))
      return failure();
  }
  return success();
}

LogicalResult LaunchEmulator::emulate() {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      launch.hasClusterSize())
    return launch.emitOpError(
        "cannot emulate asynchronous launches or clusters");
  bool lockstep = needsLockstep();
  if (guardDeviceMemory)
    callGuard(b, launch.getLoc(), kDeviceBeginFn);
  grid = {launch.getGridSizeX(), launch.getGridSizeY(), launch.getGridSizeZ()};
  block = {launch.getBlockSizeX(), launch.getBlockSizeY(),
           launch.getBlockSizeZ()};
  IRMapping mapping;
  gpu::KernelDim3 gridArgs = launch.getGridSize(),
                  blockArgs = launch.getBlockSize();
  for (auto [arg, size] :
       llvm::zip(ArrayRef<Value>{gridArgs.x, gridArgs.y, gridArgs.z,
                                 blockArgs.x, blockArgs.y, blockArgs.z},
                 llvm::concat<Value>(grid, block)))
    mapping.map(arg, size);

  // Blocks one after another, x fastest.
  auto loopsOver = [&](ArrayRef<Value> sizes) {
    SmallVector<Value, 3> ivs(3);
    for (int d = 2; d >= 0; --d) {
      auto loop = scf::ForOp::create(b, index(0), sizes[d], index(1));
      b.setInsertionPointToStart(loop.getBody());
      ivs[d] = loop.getInductionVar();
    }
    return ivs;
  };
  blockIds = loopsOver(grid);
  Block *blockLoop = b.getInsertionBlock();
  gpu::KernelDim3 blockIdArgs = launch.getBlockIds();
  mapping.map(blockIdArgs.x, blockIds[0]);
  mapping.map(blockIdArgs.y, blockIds[1]);
  mapping.map(blockIdArgs.z, blockIds[2]);
  if (failed(allocateShared(mapping)))
    return failure();
  omp::ParallelOp team;
  Value threads;
  if (lockstep) {
    // Folded: launches' block sizes are mostly constants.
    threads = b.createOrFold<arith::MulIOp>(
        b.createOrFold<arith::MulIOp>(block[0], block[1]), block[2]);
    blockThreads = threads;
    omp::ParallelOperands clauses;
    clauses.numThreads =
        b.createOrFold<arith::IndexCastOp>(b.getI32Type(), threads);
    team = omp::ParallelOp::create(b, clauses);
    b.setInsertionPointToStart(&team.getRegion().emplaceBlock());
    omp::TerminatorOp::create(b);
    b.setInsertionPointToStart(&team.getRegion().front());
    threadId = arith::IndexCastOp::create(
        b, b.getIndexType(),
        func::CallOp::create(
            b, declare(kThreadIdFn, {b.getI64Type()}, {b.getI64Type()}),
            ValueRange{toI64(threads)})
            .getResult(0));
    // x fastest, as CUDA numbers a block's threads.
    Value xy = b.createOrFold<arith::MulIOp>(block[0], block[1]);
    threadIds = {
        b.createOrFold<arith::RemUIOp>(threadId, block[0]),
        b.createOrFold<arith::RemUIOp>(
            b.createOrFold<arith::DivUIOp>(threadId, block[0]), block[1]),
        b.createOrFold<arith::DivUIOp>(threadId, xy)};
  } else {
    threadIds = loopsOver(block);
  }
  gpu::KernelDim3 threadIdArgs = launch.getThreadIds();
  mapping.map(threadIdArgs.x, threadIds[0]);
  mapping.map(threadIdArgs.y, threadIds[1]);
  mapping.map(threadIdArgs.z, threadIds[2]);
  // Private buffers: one per thread.
  for (BlockArgument buffer : launch.getPrivateAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    mapping.map(buffer, memref::AllocaOp::create(
                            b, MemRefType::get(type.getShape(),
                                               type.getElementType())));
  }

  // The body, as a region of its own (it may have several blocks).
  auto body = scf::ExecuteRegionOp::create(b, TypeRange());
  launch.getBody().cloneInto(&body.getRegion(), mapping);
  SmallVector<MMAGroup> groups = warpMMAGroups(body.getRegion());
  SmallVector<LdMatrixGroup> ldMatrices = ldMatrixGroups(body.getRegion());
  if (team) {
    // Scratch rows wide enough for the largest group of warp MMAs or of
    // ldmatrix ops (two address words and four result words each), or for
    // a warpgroup MMA's accumulators.
    for (MMAGroup &group : groups)
      scratchWords =
          std::max(scratchWords, kMMASyncSlotWords * int64_t(group.size()));
    for (LdMatrixGroup &group : ldMatrices)
      scratchWords = std::max(scratchWords,
                              ldMatrixResultWord(group.size(), group.size()));
    body.getRegion().walk([&](NVVM::WgmmaMmaAsyncOp wgmma) {
      scratchWords =
          std::max(scratchWords, int64_t(wgmma.getShape().getN()) / 2);
    });
    // Shuffles' five words, after the MMAs' words; the counts start at 0
    // in each block.
    bool shuffles =
        body.getRegion()
            .walk([](gpu::ShuffleOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (shuffles) {
      shuffleWord = scratchWords;
      scratchWords += 5;
    }
    if (scratchWords > 0) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(team);
      scratch = memref::AllocOp::create(
          b,
          MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                          b.getI32Type()),
          ValueRange{threads, index(scratchWords)});
    }
    if (shuffles) {
      // The warp barriers' counts, before any lane arrives at one.
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(team);
      Value zero = arith::ConstantIntOp::create(b, 0, 32);
      auto rows = scf::ForOp::create(b, index(0), threads, index(1));
      b.setInsertionPointToStart(rows.getBody());
      for (int64_t word : {shuffleWord + 3, shuffleWord + 4})
        memref::StoreOp::create(
            b, zero, scratch, ValueRange{rows.getInductionVar(), index(word)});
    }
    if (shuffles) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(body);
      memref::StoreOp::create(b, arith::ConstantIntOp::create(b, 0, 32),
                              scratch,
                              ValueRange{threadId, index(shuffleWord + 2)});
    }
  }
  for (LdMatrixGroup &group : ldMatrices)
    if (failed(emulateLdMatrices(group)))
      return failure();
  if (failed(rewriteDeviceOps(body.getRegion(), std::move(groups))))
    return failure();
  dropWorkgroupSpace(body.getRegion());

  b.setInsertionPoint(blockLoop->getTerminator());
  b.setLoc(launch.getLoc());
  if (scratch)
    memref::DeallocOp::create(b, scratch);
  if (arena)
    memref::DeallocOp::create(b, arena);
  if (guardDeviceMemory) {
    b.setInsertionPoint(launch);
    callGuard(b, launch.getLoc(), kDeviceEndFn);
  }
  launch.erase();
  return success();
}

namespace {

struct EmulateGPULaunchesOnCPUPass
    : mlir::qtrain::impl::EmulateGPULaunchesOnCPUPassBase<
          EmulateGPULaunchesOnCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::LaunchOp> launches;
    module.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches)
      if (failed(LaunchEmulator(launch, guardDeviceMemory).emulate()))
        return signalPassFailure();
    if (failed(emulateHostOps(module, guardDeviceMemory)))
      return signalPassFailure();
  }
};

} // namespace
