//===- MatmulToWGMMA.cpp - low-precision contractions as wgmma (sm_90a) ---===//
//
// Rewrites the contractions convert-low-precision-matmul-to-mma-sync takes
// into kernels on Hopper's warpgroup MMA (PTX wgmma.mma_async, sm_90a),
// whose operands come from shared memory through 64-bit matrix
// descriptors.
//
// Each warpgroup (128 threads) computes a 64xN output tile (N = 64, 128 or
// 256, as the GEMM's static N allows) with wgmma.m64nNk32 (k16 for
// f16/bf16, k8 for tf32: 32 bytes of k each, a "chunk"); a block is one
// warpgroup, or two on a 128xN tile (cp.async kernels where M >= 128).
// Each chunk's tile of A and Nx32-byte tile of B (B
// as n rows of k, both "K-major", the only layout 8-bit and tf32 wgmma
// read) are staged in shared memory in the no-swizzle canonical layout
// (TensorCoreKernelBuilder's staging), which the descriptors describe:
// core matrices of 8 rows x 16 bytes, the two along k 128 bytes apart (the
// leading byte offset), those along m or n 256 bytes apart (the stride
// byte offset). Three main loops: where the operands' tiles are boxes of
// tensors (k last and contiguous, one m or n index, a batch), a producer
// warp copies them with the TMA unit and the consumer warpgroups wait for
// them on mbarriers (tmaKernel: warp specialization, as CUTLASS's Hopper
// kernels do). There a k-step's tile of an operand is one box of rows of
// 32, 64 or 128 bytes of k, swizzled in as many bytes (the layout that
// CUTLASS's Hopper kernels use: one copy a tile, and wgmma reads it
// without bank conflicts), which the descriptors describe; where rows can be
// copied whole, every thread copies its rows with cp.async (copyAsyncLoop);
// else loads and stores through registers (loadStoreLoop). The TMA and cp.async
// loops' stages fill the shared memory the pass may use, dynamic shared
// memory beyond the static 48 KiB (sm_90: up to 227 KiB a block), so that
// a k-step can be four chunks, four wgmmas a step, on 128x256 tiles; the
// register loop keeps two stages of two chunks in static shared memory.
// The accumulators are the m16n8 C fragments of each warp's 16 rows, N/8
// of them: register i of thread (warp w, g = lane / 4, t = lane % 4) is
// row 16w + g + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2t + i % 2.
//
// Persistent blocks: see build().
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Runtime/TensorMap.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_CONVERTLOWPRECISIONMATMULTOWGMMAPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {

// A warpgroup's rows, and its threads.
constexpr int64_t kWarpgroupM = 64;
constexpr int64_t kWarpgroupThreads = 128;
constexpr int64_t kCoreMatrixBytes = 128;
// The staging layout's (TensorCoreKernelBuilder's) core-matrix offsets.
constexpr int64_t kLeadingByteOffset = kCoreMatrixBytes;    // along k
constexpr int64_t kStrideByteOffset = 2 * kCoreMatrixBytes; // along m, n
// Stages of the load/store loop, and its chunks (wgmmas) a k-step.
constexpr int64_t kStages = 2;
constexpr int64_t kLoadStoreChunks = 2;
// Bytes of k a chunk (one wgmma) stages, of each row of A and B.
constexpr int64_t kChunkBytes = 32;
// The cp.async loop's stages: at least four where the shared memory holds
// them (two steps of copies in flight), at most eight, and its chunks a
// k-step at most four (128 bytes of k a row).
constexpr int64_t kMinAsyncStages = 4, kMaxAsyncStages = 8;
constexpr int64_t kMaxAsyncChunks = 4;
// The shared memory an sm_90 block may have (cudaFuncSetAttribute's
// maximum).
constexpr int64_t kMaxSharedBytes = 227 * 1024;
// The TMA kernels' producer warp, and what their shared memory holds
// besides the stages: a full and an empty mbarrier (8 bytes each) a stage,
// and room to align the stages to 1024 bytes (TMA destinations must be
// 128-byte aligned; the dynamic shared memory's start is not).
constexpr int64_t kProducerThreads = 32;
constexpr int64_t kStageAlignment = 1024;
constexpr int64_t kTMAReservedBytes = kStageAlignment + 2 * 8 * kMaxAsyncStages;
// mbarrier.try_wait's suspend-time hint, in nanoseconds (CUTLASS's).
constexpr int64_t kWaitTicks = 0x989680;
// An sm_90 multiprocessor's shared memory, and what the system keeps of it
// for each block.
constexpr int64_t kSharedBytesPerSM = 228 * 1024;
constexpr int64_t kReservedSharedBytesPerBlock = 1024;

NVVM::WGMMATypes wgmmaType(MMAElement element) {
  switch (element) {
  case MMAElement::e4m3:
    return NVVM::WGMMATypes::e4m3;
  case MMAElement::e5m2:
    return NVVM::WGMMATypes::e5m2;
  case MMAElement::s8:
    return NVVM::WGMMATypes::s8;
  case MMAElement::u8:
    return NVVM::WGMMATypes::u8;
  case MMAElement::f16:
    return NVVM::WGMMATypes::f16;
  case MMAElement::bf16:
    return NVVM::WGMMATypes::bf16;
  case MMAElement::tf32:
    return NVVM::WGMMATypes::tf32;
  }
  llvm_unreachable("unknown MMA element");
}

class WGMMAKernelBuilder : TensorCoreKernelBuilder {
public:
  WGMMAKernelBuilder(TensorCoreContraction contraction, ImplicitLocOpBuilder &b,
                     const ConvertLowPrecisionMatmulToWGMMAPassOptions &options)
      : TensorCoreKernelBuilder(contraction, b),
        twoWarpgroups(options.twoWarpgroups), tmaLoads(options.tmaLoads),
        persistentBlocks(options.persistentBlocks),
        sharedMemoryBytes(options.sharedMemoryBytes),
        multiprocessors(options.multiprocessors) {}
  void build();

private:
  /// A matrix descriptor of the tile at byte `address` of shared memory:
  /// (address, `leading` and `stride` byte offsets), each encoded as
  /// (x & 0x3FFFF) >> 4, at bits 0, 16 and 32, and at bits 62-63 the
  /// layout of `swizzleBytes` (0: none; 128, 64, 32 bytes: 1, 2, 3).
  Value descriptor(Value address, int64_t leading = kLeadingByteOffset,
                   int64_t stride = kStrideByteOffset,
                   int64_t swizzleBytes = 0);
  /// Issues one k-step's wgmmas (fence, one per 32-byte chunk of stage
  /// `stage`, commit) on the accumulators `acc`; returns their results.
  Value multiply(Value acc, Value stage);
  /// The loops over K; each returns the accumulators, its wgmmas complete.
  Value copyAsyncLoop(Value acc);
  Value loadStoreLoop(Value acc);
  /// The TMA kernel's body: mbarriers, the producer warp's loop, and the
  /// consumers' loop, whose accumulators it passes to `epilogue`.
  void tmaKernel(Value tid, Value zeros,
                 llvm::function_ref<void(Value)> epilogue);
  /// Sizes the TMA and cp.async kernels' tiles and stages for
  /// `sharedMemoryBytes` less `reservedBytes`.
  void sizeAsyncPipeline(int64_t reservedBytes);
  /// Whether the GEMM (its static M and N) has a `rows` x `columns` tile
  /// for each of the `multiprocessors`.
  bool fillsGPU(int64_t rows, int64_t columns);

  /// Where a tensor map can describe `operand`'s tiles: identity layout,
  /// k its last index (rowsCopyWhole), every index one loop, one of them
  /// its free loop (m of A, n of B), the others the batch loop. Returns
  /// the free and batch loops' positions among its indices (-1: none).
  std::optional<std::pair<int64_t, int64_t>> tmaIndices(unsigned operand);
  /// Host code: the tensor map of `operand` (qtrainTensorMap), boxes of a
  /// k-step's bytes (tmaRowBytes, swizzled in as many) by `rows` rows; an
  /// i64.
  Value tensorMap(unsigned operand, int64_t rows);
  /// Device code: the TMA copies (one an operand) of the k-step at `k0`
  /// into stage `stage`, completing on `full`.
  void copyStepTMA(Value k0, Value stage, Value full);
  /// The bytes of k of a row of a TMA kernel's stage: 32, 64 or 128.
  int64_t tmaRowBytes() const { return chunks * kChunkBytes; }

  bool twoWarpgroups, tmaLoads, persistentBlocks;
  int64_t sharedMemoryBytes, multiprocessors;
  // The TMA kernel's tensor maps (i64, host values) and its aligned
  // staging address (i64).
  Value mapA, mapB, alignedStaging;
  // The descriptors' steps, >> 4, from stage to stage and from chunk to
  // chunk of a stage.
  int64_t stageStep = 0, chunkStep = 0;
  int64_t tileM = kWarpgroupM, tileN = 64;
  // 32-byte chunks of k (wgmmas) per k-step, and k-steps staged at once.
  int64_t chunks = kLoadStoreChunks, stages = kStages;
  // Elements of k per chunk and per step.
  int64_t tileK = 0, stepK = 0;
  Value descA, descB;
};

Value WGMMAKernelBuilder::descriptor(Value address, int64_t leading,
                                     int64_t stride, int64_t swizzleBytes) {
  auto constant = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, v, 64).getResult();
  };
  Value encoded = arith::ShRUIOp::create(
      b, arith::AndIOp::create(b, address, constant(0x3FFFF)), constant(4));
  uint64_t layout = swizzleBytes == 128  ? 1
                    : swizzleBytes == 64 ? 2
                    : swizzleBytes == 32 ? 3
                                         : 0;
  uint64_t fields =
      ((leading >> 4) << 16) | (uint64_t(stride >> 4) << 32) | (layout << 62);
  return arith::OrIOp::create(b, encoded, constant(int64_t(fields)));
}

/// The tensor cores read shared memory through the async proxy: the
/// generic proxy's stores (and cp.async's) are fenced before they do.
static void fenceAsyncProxy(ImplicitLocOpBuilder &b) {
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}

Value WGMMAKernelBuilder::multiply(Value acc, Value stage) {
  MLIRContext *ctx = b.getContext();
  auto type = [&](NVVM::WGMMATypes t) {
    return NVVM::WGMMATypesAttr::get(ctx, t);
  };
  // The descriptors of a chunk's tiles are stage 0's, chunk 0's moved by
  // whole steps (>> 4 in the descriptor).
  Value stageOffset = arith::MulIOp::create(
      b, arith::IndexCastUIOp::create(b, b.getI64Type(), stage),
      arith::ConstantIntOp::create(b, stageStep, 64));
  auto moved = [&](Value desc, int64_t offset) -> Value {
    Value start = arith::AddIOp::create(b, desc, stageOffset);
    if (offset == 0)
      return start;
    return arith::AddIOp::create(b, start,
                                 arith::ConstantIntOp::create(b, offset, 64));
  };
  NVVM::WgmmaFenceAlignedOp::create(b);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    acc = NVVM::WgmmaMmaAsyncOp::create(
        b, acc.getType(), acc, moved(descA, chunk * chunkStep),
        moved(descB, chunk * chunkStep),
        NVVM::MMAShapeAttr::get(ctx, kWarpgroupM, tileN, tileK),
        type(wgmmaType(c.lhs)), type(wgmmaType(c.rhs)),
        type(c.isFloat ? NVVM::WGMMATypes::f32 : NVVM::WGMMATypes::s32),
        NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one),
        NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
        NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
        NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
        NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::col),
        /*satfinite=*/NVVM::MMAIntOverflowAttr());
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(b);
  return acc;
}

// Operands that cp.async copies whole (canCopyTilesAsync), in S stages of
// one, two or four chunks (sizeAsyncPipeline). Step i waits for its copies
// (issued S - 2 steps before), then one barrier, after which every warp
// has waited for step i - 1's wgmmas to leave at most one group pending,
// so step i - 2's are complete and its stage is free: the copies of step
// i + S - 2 go there while step i's wgmmas run, and step i - 1's may still
// be running.
Value WGMMAKernelBuilder::copyAsyncLoop(Value acc) {
  beginAsyncCopies();
  // Every step commits one group, zeros past K included, so that the
  // number of groups to leave pending is a constant.
  int64_t ahead = stages - 2;
  for (int64_t step = 0; step < ahead; ++step)
    copyStepAsync(index(step * stepK), index(step), chunks);
  scf::ForOp loop = forEachStep(
      stepK, acc, [&](Value k0, ValueRange acc) -> SmallVector<Value> {
        Value step = arith::DivUIOp::create(b, k0, index(stepK));
        NVVM::CpAsyncWaitGroupOp::create(b, ahead - 1);
        fenceAsyncProxy(b);
        gpu::BarrierOp::create(b);
        Value d =
            multiply(acc[0], arith::RemUIOp::create(b, step, index(stages)));
        copyStepAsync(
            add(k0, ahead * stepK),
            arith::RemUIOp::create(b, add(step, ahead), index(stages)), chunks);
        NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
        return {d};
      });
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  return loop.getResult(0);
}

// Other operands go through registers, converted on the way (tf32
// rounding, gathered or transposed words), in two stages of two chunks:
// while step i's wgmmas run, the threads load step i + 1's tiles from
// global memory and store them into the other stage, then fence, wait for
// the wgmmas, and meet at one barrier a step.
Value WGMMAKernelBuilder::loadStoreLoop(Value acc) {
  stageFirstStep(chunks, [&] { fenceAsyncProxy(b); });
  scf::ForOp loop = forEachStep(
      stepK, acc, [&](Value k0, ValueRange acc) -> SmallVector<Value> {
        Value stage = arith::RemUIOp::create(
            b, arith::DivUIOp::create(b, k0, index(stepK)), index(stages));
        Value d = multiply(acc[0], stage);
        // The other stage's wgmmas, the previous step's, are complete.
        Value next = add(k0, stepK);
        auto more = scf::IfOp::create(b, lessThan(next, sizeK),
                                      /*withElseRegion=*/false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(more.thenBlock());
          // All loads first, so that their latencies overlap.
          SmallVector<SmallVector<Value>> tiles;
          for (int64_t chunk = 0; chunk < chunks; ++chunk)
            tiles.push_back(loadTiles(add(next, chunk * tileK)));
          Value other =
              mul(arith::SubIOp::create(b, index(stages - 1), stage), chunks);
          for (auto [chunk, rows] : llvm::enumerate(tiles))
            storeTiles(rows, add(other, int64_t(chunk)));
          fenceAsyncProxy(b);
        }
        NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
        // The next stage is complete, and nobody overwrites this one before
        // every warp's wgmmas have read it.
        gpu::BarrierOp::create(b);
        return {d};
      });
  return loop.getResult(0);
}

void WGMMAKernelBuilder::sizeAsyncPipeline(int64_t reservedBytes) {
  // Two warpgroups where M allows, sharing each chunk of B: half the bytes
  // per product of 64-row tiles; 256 columns where the shared memory holds
  // them at full depth and there are still blocks for every multiprocessor,
  // halving A's bytes again.
  // The 256 threads copy B's chunk in whole passes of 128 rows
  // (stagedRows): no two warpgroups on 64 columns.
  std::optional<int64_t> m = staticSize(c.dims.m), n = staticSize(c.dims.n);
  if (twoWarpgroups && tileN >= 2 * kWarpgroupM && m && *m >= 2 * kWarpgroupM &&
      fillsGPU(2 * kWarpgroupM, tileN))
    tileM = 2 * kWarpgroupM;
  auto stagesFitting = [&](int64_t tileN, int64_t chunks) {
    return (sharedMemoryBytes - reservedBytes) /
           ((tileM + tileN) * kChunkBytes * chunks);
  };
  if (n && *n >= 256 &&
      stagesFitting(256, kMaxAsyncChunks) >= kMinAsyncStages &&
      fillsGPU(tileM, 256))
    tileN = 256;
  // The most wgmmas a barrier that leave enough stages (the pass makes
  // sure one chunk does).
  chunks = kMaxAsyncChunks;
  while (chunks > 1 && stagesFitting(tileN, chunks) < kMinAsyncStages)
    chunks /= 2;
  stages = std::min(stagesFitting(tileN, chunks), kMaxAsyncStages);
  // Stages beyond the k-steps + 2 would only copy zeros; three at least,
  // one step of copies ahead (K = 0 too).
  if (std::optional<int64_t> k = staticSize(c.dims.k))
    stages = std::clamp<int64_t>(llvm::divideCeil(*k, chunks * tileK) + 2, 3,
                                 stages);
}

std::optional<std::pair<int64_t, int64_t>>
WGMMAKernelBuilder::tmaIndices(unsigned operand) {
  ArrayRef<unsigned> free = operand == 0 ? c.dims.m : c.dims.n;
  if (!rowsCopyWhole(operand) || free.size() != 1)
    return std::nullopt;
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  int64_t freePos = -1, batchPos = -1;
  for (auto [pos, expr] : llvm::enumerate(map.getResults().drop_back())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (dim && dim.getPosition() == free[0] && freePos < 0)
      freePos = pos;
    else if (dim && !c.dims.batch.empty() &&
             dim.getPosition() == c.dims.batch[0] && batchPos < 0)
      batchPos = pos;
    else
      return std::nullopt;
  }
  if (freePos < 0)
    return std::nullopt;
  return std::make_pair(freePos, batchPos);
}

Value WGMMAKernelBuilder::tensorMap(unsigned operand, int64_t rows) {
  auto [freePos, batchPos] = *tmaIndices(operand);
  Value memref = c.op.getDpsInputs()[operand];
  int64_t rank = cast<MemRefType>(memref.getType()).getRank();
  auto i64 = [&](Value index) -> Value {
    return arith::IndexCastUIOp::create(b, b.getI64Type(), index);
  };
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, v, 64);
  };
  // Row-major: the stride of index p is the product of the later sizes.
  auto size = [&](int64_t pos) {
    return b.createOrFold<memref::DimOp>(memref, pos);
  };
  auto strideBytes = [&](int64_t pos) {
    Value stride = index(c.elementBytes());
    for (int64_t later = pos + 1; later < rank; ++later)
      stride = b.createOrFold<arith::MulIOp>(stride, size(later));
    return i64(stride);
  };
  Value address =
      i64(memref::ExtractAlignedPointerAsIndexOp::create(b, memref));
  // Dimensions innermost first: k, the rows, the batch.
  bool batched = batchPos >= 0;
  SmallVector<Value> args{address,
                          constant(c.elementBytes()),
                          constant(batched ? 3 : 2),
                          i64(size(rank - 1)),
                          i64(size(freePos)),
                          batched ? i64(size(batchPos)) : constant(1),
                          strideBytes(freePos),
                          batched ? strideBytes(batchPos) : constant(0),
                          constant(tmaRowBytes() / c.elementBytes()),
                          constant(rows),
                          constant(tmaRowBytes())};
  auto module = c.op->getParentOfType<ModuleOp>();
  auto callee = module.lookupSymbol<func::FuncOp>(kTensorMapFunction);
  if (!callee) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    callee = func::FuncOp::create(
        b, kTensorMapFunction,
        b.getFunctionType(ValueRange(args).getTypes(), {b.getI64Type()}));
    callee.setPrivate();
    // It reads no memory that kernels use: no wait for the GPU before it.
    callee->setAttr(QTrainDialect::getHostOnlyAttrName(), b.getUnitAttr());
  }
  return func::CallOp::create(b, callee, args).getResult(0);
}

void WGMMAKernelBuilder::copyStepTMA(Value k0, Value stage, Value full) {
  MLIRContext *ctx = b.getContext();
  auto i32 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(b, b.getI32Type(), index);
  };
  auto pointer = [&](Value address, unsigned space) -> Value {
    return LLVM::IntToPtrOp::create(b, LLVM::LLVMPointerType::get(ctx, space),
                                    address);
  };
  auto i64 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, v, 64);
  };
  Value stageAddress = arith::AddIOp::create(
      b, alignedStaging,
      arith::MulIOp::create(
          b, arith::IndexCastUIOp::create(b, b.getI64Type(), stage),
          i64(stageStep * 16)));
  Value k = i32(k0);
  // Operands whose indices include the batch have a third coordinate.
  bool batched[2] = {tmaIndices(0)->second >= 0, tmaIndices(1)->second >= 0};
  for (unsigned operand : {0u, 1u}) {
    int64_t offset = operand == 0 ? 0 : tileM * tmaRowBytes();
    SmallVector<Value> coordinates{k, i32(operand == 0 ? tileRow : tileColumn)};
    if (batched[operand])
      coordinates.push_back(i32(batchIndex));
    // shared::cluster, as PTX 8.4 has it: a shared::cta address is one
    // (this block's).
    Value destination = LLVM::AddrSpaceCastOp::create(
        b,
        LLVM::LLVMPointerType::get(
            ctx, unsigned(NVVM::NVVMMemorySpace::SharedCluster)),
        pointer(arith::AddIOp::create(b, stageAddress, i64(offset)),
                unsigned(NVVM::NVVMMemorySpace::Shared)));
    NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
        b, destination, pointer(operand == 0 ? mapA : mapB, 0), coordinates,
        full, ValueRange(), Value(), Value(), NVVM::TMALoadModeAttr(),
        BoolAttr(), NVVM::CTAGroupKindAttr(), Value());
  }
}

// The TMA kernel (warp specialized): thread 0 initializes the mbarriers;
// the threads after the consumer warpgroups are the producer warp, whose
// first thread, for each k-step i, waits until stage i % S is free (its
// empty mbarrier's phase i / S - 1 completed; in the first round the
// phase "before" phase 0, which counts as complete), expects the stage's
// bytes on its full mbarrier and issues the TMA copies that complete them.
// Each consumer warpgroup waits for the full mbarrier's phase i / S,
// issues step i's wgmmas, waits until only they are pending, and then step
// i - 1's are complete: each of its threads arrives on that stage's empty
// mbarrier (count: the consumer threads; one thread a warpgroup would do on
// a GPU, where a warpgroup's wgmma groups complete together, but not in the
// emulator, whose threads wait for their groups one by one). No block
// barrier in the loop.
void WGMMAKernelBuilder::tmaKernel(Value tid, Value zeros,
                                   llvm::function_ref<void(Value)> epilogue) {
  MLIRContext *ctx = b.getContext();
  auto i32 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, v, 32);
  };
  auto parity = [&](Value round) -> Value {
    return arith::IndexCastUIOp::create(
        b, b.getI32Type(), arith::RemUIOp::create(b, round, index(2)));
  };
  auto equal = [&](Value x, int64_t y) -> Value {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, x, index(y));
  };
  int64_t consumers = tileM / kWarpgroupM * kWarpgroupThreads;
  // The mbarriers follow the stages: stage s's full one is barrier s, its
  // empty one barrier S + s.
  auto barrier = [&](Value i) -> Value {
    Value offset = arith::IndexCastUIOp::create(
        b, b.getI64Type(), add(mul(i, 8), index(stages * stageStep * 16)));
    return LLVM::IntToPtrOp::create(
        b,
        LLVM::LLVMPointerType::get(ctx,
                                   unsigned(NVVM::NVVMMemorySpace::Shared)),
        arith::AddIOp::create(b, alignedStaging, offset).getResult());
  };
  auto wait = [&](Value mbarrier, Value phaseParity) {
    NVVM::MBarrierTryWaitParityOp::create(b, mbarrier, phaseParity,
                                          i32(kWaitTicks));
  };
  auto cta = NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA);
  {
    OpBuilder::InsertionGuard guard(b);
    auto first = scf::IfOp::create(b, equal(tid, 0), false);
    b.setInsertionPointToStart(first.thenBlock());
    for (int64_t stage = 0; stage < stages; ++stage) {
      NVVM::MBarrierInitOp::create(b, barrier(index(stage)), i32(1), Value());
      NVVM::MBarrierInitOp::create(b, barrier(index(stages + stage)),
                                   i32(consumers), Value());
    }
    // The inits, visible to the TMA unit's complete-tx.
    NVVM::FenceMbarrierInitOp::create(b);
  }
  gpu::BarrierOp::create(b);

  // The k-steps of the block's earlier tiles count too: stages and phases
  // go on from one tile to the next.
  Value stepsPerTile = arith::CeilDivUIOp::create(b, sizeK, index(stepK));
  auto globalStep = [&](Value iteration, Value k0) -> Value {
    return add(arith::MulIOp::create(b, iteration, stepsPerTile),
               arith::DivUIOp::create(b, k0, index(stepK)));
  };
  auto role = scf::IfOp::create(b, lessThan(tid, index(consumers)),
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(role.thenBlock());
  forEachTile([&](Value iteration) {
    scf::ForOp loop = forEachStep(
        stepK, zeros, [&](Value k0, ValueRange acc) -> SmallVector<Value> {
          Value step = globalStep(iteration, k0);
          Value stage = arith::RemUIOp::create(b, step, index(stages));
          wait(barrier(stage),
               parity(arith::DivUIOp::create(b, step, index(stages))));
          Value d = multiply(acc[0], stage);
          NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
          // Step i - 1's wgmmas are complete: its stage is free once every
          // consumer thread says so. A predicated arrival (expecting no
          // bytes), not a branch: LLVM would peel the first step off the loop
          // and move the accumulators' zeros between its wgmma.fence and its
          // wgmmas, where ptxas must fence them again.
          Value previous =
              arith::RemUIOp::create(b, add(step, stages - 1), index(stages));
          NVVM::MBarrierArriveExpectTxOp::create(
              b, Type(), barrier(add(previous, stages)), i32(0), cta,
              b.getBoolAttr(false),
              arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, step,
                                    index(0)));
          return {d};
        });
    NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
    epilogue(loop.getResult(0));
  });

  b.setInsertionPointToStart(role.elseBlock());
  auto producer = scf::IfOp::create(b, equal(tid, consumers), false);
  b.setInsertionPointToStart(producer.thenBlock());
  forEachTile([&](Value iteration) {
    forEachStep(stepK, {}, [&](Value k0, ValueRange) -> SmallVector<Value> {
      Value step = globalStep(iteration, k0);
      Value stage = arith::RemUIOp::create(b, step, index(stages));
      Value round = arith::DivUIOp::create(b, step, index(stages));
      wait(barrier(add(stage, stages)), parity(add(round, 1)));
      Value full = barrier(stage);
      NVVM::MBarrierArriveExpectTxOp::create(b, Type(), full,
                                             i32(stageStep * 16), cta,
                                             b.getBoolAttr(false), Value());
      copyStepTMA(k0, stage, full);
      return {};
    });
  });
}

bool WGMMAKernelBuilder::fillsGPU(int64_t rows, int64_t columns) {
  std::optional<int64_t> m = staticSize(c.dims.m), n = staticSize(c.dims.n);
  return m && n &&
         int64_t(llvm::divideCeil(*m, rows) * llvm::divideCeil(*n, columns)) >=
             multiprocessors;
}

void WGMMAKernelBuilder::build() {
  // Wider tiles where N allows and the GEMM still has a tile for each
  // multiprocessor: B's tile is read once per 64 rows of A. A small GEMM
  // (a training step's) takes 64x64 tiles: more blocks, and each thread's
  // epilogue, the longest part of such a kernel, half as long.
  std::optional<int64_t> n = staticSize(c.dims.n);
  tileN = n && *n >= 128 && fillsGPU(kWarpgroupM, 128) ? 128 : 64;
  tileK = c.chunkElements();
  chunks = kLoadStoreChunks;
  bool copyAsync = canCopyTilesAsync();
  bool tma = copyAsync && tmaLoads && tmaIndices(0) && tmaIndices(1);
  if (copyAsync)
    sizeAsyncPipeline(tma ? kTMAReservedBytes : 0);
  stepK = chunks * tileK;
  int64_t consumers = kWarpgroupThreads * (tileM / kWarpgroupM);
  int64_t threads = consumers + (tma ? kProducerThreads : 0);
  int64_t accumulators = kWarpgroupM * tileN / kWarpgroupThreads;
  MemRefType staging = stagingType(tileM, tileN, stages * chunks);
  if (tma)
    staging =
        MemRefType::get({staging.getNumElements() + kTMAReservedBytes / 4},
                        staging.getElementType(), staging.getLayout(),
                        staging.getMemorySpace());
  // A TMA kernel whose shared memory leaves no room for a second block on
  // a multiprocessor is persistent: one block a multiprocessor takes the
  // tiles in turn, its producer copying the next tile's first steps while
  // the consumers store the last one's sums.
  int64_t stagingBytes = staging.getNumElements() * 4;
  bool persistent =
      tma && persistentBlocks &&
      kSharedBytesPerSM / (stagingBytes + kReservedSharedBytesPerBlock) == 1;
  beginKernel(
      tileM, tileN, threads, staging,
      [&] {
        if (tma) {
          mapA = tensorMap(0, tileM);
          mapB = tensorMap(1, tileN);
        }
      },
      persistent ? multiprocessors : 0);
  Value tid = launch.getThreadIds().x;
  Value warpgroup = arith::DivUIOp::create(b, tid, index(kWarpgroupThreads));
  Value warp = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, tid, index(32)), index(4));
  Value lane = arith::RemUIOp::create(b, tid, index(32));
  Value g = arith::DivUIOp::create(b, lane, index(4));
  Value t = arith::RemUIOp::create(b, lane, index(4));

  Type accType = c.isFloat ? Type(b.getF32Type()) : Type(b.getI32Type());
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(accumulators, accType));
  Value zeros = LLVM::ZeroOp::create(b, structType);

  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, v, 64);
  };
  Value base = arith::IndexCastUIOp::create(
      b, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, stagingBuffer));
  // Descriptors of stage 0's, chunk 0's tiles, the same for every warp of a
  // warpgroup, as required; warpgroup w's rows of A start 64w rows into
  // the tile.
  Value rowsA = arith::MulIOp::create(
      b, arith::IndexCastUIOp::create(b, b.getI64Type(), warpgroup),
      constant(tma ? kWarpgroupM * tmaRowBytes()
                   : kWarpgroupM / 8 * kStrideByteOffset));
  if (tma) {
    // A stage: A's tile (tileM rows of a step's k, swizzled in atoms of 8
    // rows), then B's; every tile starts on a 1024-byte boundary, which a
    // 128-byte swizzle's atom needs. A chunk's descriptors point 32 bytes
    // further along the rows; the leading byte offset is unused (16).
    alignedStaging = arith::AndIOp::create(
        b, arith::AddIOp::create(b, base, constant(kStageAlignment - 1)),
        constant(~(kStageAlignment - 1)));
    int64_t rowBytes = tmaRowBytes();
    stageStep = (tileM + tileN) * rowBytes / 16;
    chunkStep = kChunkBytes / 16;
    descA = descriptor(arith::AddIOp::create(b, alignedStaging, rowsA), 16,
                       8 * rowBytes, rowBytes);
    descB = descriptor(
        arith::AddIOp::create(b, alignedStaging, constant(tileM * rowBytes)),
        16, 8 * rowBytes, rowBytes);
  } else {
    // A chunk's tiles are a staging slot (stageWords() words).
    stageStep = chunks * stageWords() / 4;
    chunkStep = stageWords() / 4;
    descA = descriptor(arith::AddIOp::create(b, base, rowsA));
    descB = descriptor(
        arith::AddIOp::create(b, base, constant(stagedWordsA() * 4)));
  }

  auto epilogue = [&](Value acc) {
    SmallVector<Value> result;
    for (int64_t i = 0; i < accumulators; ++i)
      result.push_back(LLVM::ExtractValueOp::create(b, acc, i));
    SmallVector<std::pair<Value, Value>> positions;
    Value warpRow =
        add(add(add(tileRow, mul(warpgroup, kWarpgroupM)), g), mul(warp, 16));
    Value threadCol = add(tileColumn, mul(t, 2));
    for (int64_t i = 0; i < accumulators; ++i)
      positions.push_back({add(warpRow, 8 * ((i / 2) % 2)),
                           add(threadCol, 8 * (i / 4) + i % 2)});
    accumulateOutput(positions, result, lane);
  };
  if (tma)
    tmaKernel(tid, zeros, epilogue);
  else
    epilogue(copyAsync ? copyAsyncLoop(zeros) : loadStoreLoop(zeros));
  endKernel();
}

struct ConvertLowPrecisionMatmulToWGMMAPass
    : mlir::qtrain::impl::ConvertLowPrecisionMatmulToWGMMAPassBase<
          ConvertLowPrecisionMatmulToWGMMAPass> {
  using Base::Base;
  void runOnOperation() override {
    // Four stages of the narrowest tiles must fit, and sm_90's blocks have
    // at most 227 KiB.
    if (sharedMemoryBytes < kStaticSharedBytes ||
        sharedMemoryBytes > kMaxSharedBytes) {
      getOperation()->emitError()
          << "shared-memory-bytes must be within [" << kStaticSharedBytes
          << ", " << kMaxSharedBytes << "] (sm_90a's shared memory a block), "
          << "not " << int64_t(sharedMemoryBytes);
      return signalPassFailure();
    }
    for (TensorCoreContraction &contraction :
         collectTensorCoreContractions(getOperation())) {
      // Matched now, after the kernels before it were built.
      matchEpilogue(contraction);
      ImplicitLocOpBuilder b(contraction.op.getLoc(),
                             contraction.kernelPosition());
      WGMMAKernelBuilder(contraction, b,
                         {twoWarpgroups, tmaLoads, persistentBlocks,
                          sharedMemoryBytes, multiprocessors})
          .build();
      contraction.erase();
    }
  }
};

} // namespace
