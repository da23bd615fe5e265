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
// byte offset). Two main loops: cp.async copies (copyAsyncLoop) where the
// operands' rows can be copied whole, else loads and stores through
// registers (loadStoreLoop). The cp.async loop's stages fill the shared
// memory the pass may use, dynamic shared memory beyond the static 48 KiB
// (sm_90: up to 227 KiB a block), so that a k-step can be four chunks, four
// wgmmas a barrier, on 128x256 tiles; the register loop keeps two stages of
// two chunks in static shared memory.
// The accumulators are the m16n8 C fragments of each warp's 16 rows, N/8
// of them: register i of thread (warp w, g = lane / 4, t = lane % 4) is
// row 16w + g + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2t + i % 2.
//
// Not yet done: TMA loads with mbarriers and a producer warp, swizzled
// layouts; see docs/gpu.md.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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
        twoWarpgroups(options.twoWarpgroups),
        sharedMemoryBytes(options.sharedMemoryBytes),
        multiprocessors(options.multiprocessors) {}
  void build();

private:
  /// A no-swizzle matrix descriptor of the tile at byte `address` of shared
  /// memory: (address, leading and stride byte offsets), each encoded as
  /// (x & 0x3FFFF) >> 4, at bits 0, 16 and 32.
  Value descriptor(Value address);
  /// Issues one k-step's wgmmas (fence, one per 32-byte chunk of stage
  /// `stage`, commit) on the accumulators `acc`; returns their results.
  Value multiply(Value acc, Value stage);
  /// The loops over K; each returns the accumulators, its wgmmas complete.
  Value copyAsyncLoop(Value acc);
  Value loadStoreLoop(Value acc);
  /// Sizes the cp.async kernel's tiles and stages for `sharedMemoryBytes`.
  void sizeAsyncPipeline();

  bool twoWarpgroups;
  int64_t sharedMemoryBytes, multiprocessors;
  int64_t tileM = kWarpgroupM, tileN = 64;
  // 32-byte chunks of k (wgmmas) per k-step, and k-steps staged at once.
  int64_t chunks = kLoadStoreChunks, stages = kStages;
  // Elements of k per chunk and per step.
  int64_t tileK = 0, stepK = 0;
  Value descA, descB;
};

Value WGMMAKernelBuilder::descriptor(Value address) {
  auto constant = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, v, 64).getResult();
  };
  Value encoded = arith::ShRUIOp::create(
      b, arith::AndIOp::create(b, address, constant(0x3FFFF)), constant(4));
  int64_t offsets =
      ((kLeadingByteOffset >> 4) << 16) | ((kStrideByteOffset >> 4) << 32);
  return arith::OrIOp::create(b, encoded, constant(offsets));
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
  // A chunk's tiles are a staging slot; its descriptors are slot 0's
  // moved by stageWords() * 4 bytes a slot, >> 4 in the descriptor.
  int64_t slotStep = stageWords() / 4;
  Value stageOffset = arith::MulIOp::create(
      b, arith::IndexCastUIOp::create(b, b.getI64Type(), stage),
      arith::ConstantIntOp::create(b, chunks * slotStep, 64));
  NVVM::WgmmaFenceAlignedOp::create(b);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    Value offset = chunk ? arith::AddIOp::create(b, stageOffset,
                                                 arith::ConstantIntOp::create(
                                                     b, chunk * slotStep, 64))
                               .getResult()
                         : stageOffset;
    acc = NVVM::WgmmaMmaAsyncOp::create(
        b, acc.getType(), acc, arith::AddIOp::create(b, descA, offset),
        arith::AddIOp::create(b, descB, offset),
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

void WGMMAKernelBuilder::sizeAsyncPipeline() {
  // Two warpgroups where M allows, sharing each chunk of B: half the bytes
  // per product of 64-row tiles; 256 columns where the shared memory holds
  // them at full depth and there are still blocks for every multiprocessor,
  // halving A's bytes again.
  std::optional<int64_t> m = staticSize(c.dims.m), n = staticSize(c.dims.n);
  if (twoWarpgroups && m && *m >= 2 * kWarpgroupM)
    tileM = 2 * kWarpgroupM;
  auto stagesFitting = [&](int64_t tileN, int64_t chunks) {
    return sharedMemoryBytes / ((tileM + tileN) * kChunkBytes * chunks);
  };
  auto tiles = [&](int64_t tileN) {
    return int64_t(llvm::divideCeil(*m, tileM) * llvm::divideCeil(*n, tileN));
  };
  if (m && n && *n >= 256 &&
      stagesFitting(256, kMaxAsyncChunks) >= kMinAsyncStages &&
      tiles(256) >= multiprocessors)
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

void WGMMAKernelBuilder::build() {
  // Wider tiles where N allows: B's tile is read once per 64 rows of A.
  std::optional<int64_t> n = staticSize(c.dims.n);
  tileN = n && *n >= 128 ? 128 : 64;
  tileK = c.chunkElements();
  chunks = kLoadStoreChunks;
  bool copyAsync = canCopyTilesAsync();
  if (copyAsync)
    sizeAsyncPipeline();
  stepK = chunks * tileK;
  int64_t threads = kWarpgroupThreads * (tileM / kWarpgroupM);
  int64_t accumulators = kWarpgroupM * tileN / kWarpgroupThreads;
  MemRefType staging = stagingType(tileM, tileN, stages * chunks);
  gpu::LaunchOp launch = beginKernel(tileM, tileN, threads, staging);
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

  // Descriptors of slot 0's tiles, the same for every warp of a
  // warpgroup, as required: warpgroup w's rows of A start 64w rows (w * 8
  // core-matrix rows of 256 bytes) into the tile.
  Value base = arith::IndexCastUIOp::create(
      b, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, stagingBuffer));
  Value rowsA = arith::MulIOp::create(
      b, arith::IndexCastUIOp::create(b, b.getI64Type(), warpgroup),
      arith::ConstantIntOp::create(b, kWarpgroupM / 8 * kStrideByteOffset, 64));
  descA = descriptor(arith::AddIOp::create(b, base, rowsA));
  descB = descriptor(arith::AddIOp::create(
      b, base, arith::ConstantIntOp::create(b, stagedWordsA() * 4, 64)));

  Value acc = copyAsync ? copyAsyncLoop(zeros) : loadStoreLoop(zeros);
  SmallVector<Value> result;
  for (int64_t i = 0; i < accumulators; ++i)
    result.push_back(LLVM::ExtractValueOp::create(b, acc, i));
  SmallVector<std::pair<Value, Value>> positions;
  Value warpRow =
      add(add(add(tileRow, mul(warpgroup, kWarpgroupM)), g), mul(warp, 16));
  Value threadCol = add(tileColumn, mul(t, 2));
  for (int64_t i = 0; i < accumulators; ++i)
    positions.push_back(
        {add(warpRow, 8 * ((i / 2) % 2)), add(threadCol, 8 * (i / 4) + i % 2)});
  accumulateOutput(positions, result);
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
      ImplicitLocOpBuilder b(contraction.op.getLoc(), contraction.op);
      WGMMAKernelBuilder(contraction, b,
                         {twoWarpgroups, sharedMemoryBytes, multiprocessors})
          .build();
      contraction.erase();
    }
  }
};

} // namespace
