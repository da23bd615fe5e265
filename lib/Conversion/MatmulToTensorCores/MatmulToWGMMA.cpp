//===- MatmulToWGMMA.cpp - low-precision contractions as wgmma (sm_90a) ---===//
//
// Rewrites the contractions convert-low-precision-matmul-to-mma-sync takes
// into kernels on Hopper's warpgroup MMA (PTX wgmma.mma_async, sm_90a),
// whose operands come from shared memory through 64-bit matrix
// descriptors.
//
// Each block is one warpgroup (128 threads) computing a 64x64 output tile
// with wgmma.m64n64k32 (k16 for f16/bf16, k8 for tf32: 32 bytes of k each), K
// in steps of that k. Per step the threads copy a 64x32 byte tile of A and
// of B (B as n rows of k, both "K-major", the only layout 8-bit and tf32
// wgmma read) into shared memory, one 16-byte row of a core matrix each,
// bounds-checked as the mma.sync kernels' fragment words are.
// The tiles use the no-swizzle canonical layout: core matrices of 8 rows x
// 16 bytes (128 contiguous bytes), the two along k 128 bytes apart (the
// descriptor's leading byte offset), the eight along m or n 256 bytes
// apart (its stride byte offset):
//   byte (r, k) of a tile at ((r / 8) * 2 + k / 16) * 128 + (r % 8) * 16
//   + k % 16, k counted in bytes.
// Then fence.proxy.async (the tensor cores read shared memory through the
// async proxy), a barrier, and wgmma fence / mma_async / commit / wait 0.
// The accumulators are the m16n8 C fragments of each warp's 16 rows, N/8
// of them: register i of thread (warp w, g = lane / 4, t = lane % 4) is
// row 16w + g + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2t + i % 2.
//
// Not yet done: TMA loads, multi-stage pipelining with mbarriers,
// swizzled layouts, larger N tiles; see docs/gpu.md.
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

constexpr int64_t kTileM = 64, kTileN = 64, kTileKBytes = 32;
constexpr int64_t kThreads = 128;
constexpr int64_t kAccumulators = kTileM * kTileN / kThreads;
// Shared memory in 16-byte chunks (rows of core matrices): A, then B.
constexpr int64_t kChunksPerTile = kTileM * kTileKBytes / 16;
constexpr int64_t kCoreMatrixBytes = 128;
constexpr int64_t kLeadingByteOffset = kCoreMatrixBytes;    // along k
constexpr int64_t kStrideByteOffset = 2 * kCoreMatrixBytes; // along m, n

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
  using TensorCoreKernelBuilder::TensorCoreKernelBuilder;
  void build();

private:
  /// A no-swizzle matrix descriptor of the tile at byte `address` of shared
  /// memory: (address, leading and stride byte offsets), each encoded as
  /// (x & 0x3FFFF) >> 4, at bits 0, 16 and 32.
  Value descriptor(Value address);
  /// Copies this thread's row of a core matrix of operand `operand` into
  /// chunk `chunk` of shared memory.
  void stageChunk(Value smem, unsigned operand, Value free, Value k,
                  Value chunk);
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

void WGMMAKernelBuilder::stageChunk(Value smem, unsigned operand, Value free,
                                    Value k, Value chunk) {
  SmallVector<Value, 4> words;
  for (int64_t j = 0; j < 4; ++j)
    words.push_back(loadWord(operand, free, add(k, c.elementsPerWord() * j)));
  Value row = vector::FromElementsOp::create(
      b, VectorType::get({4}, b.getI32Type()), words);
  memref::StoreOp::create(b, row, smem, chunk);
}

void WGMMAKernelBuilder::build() {
  auto smemType = MemRefType::get(
      {2 * kChunksPerTile}, VectorType::get({4}, b.getI32Type()),
      MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
  gpu::LaunchOp launch = beginKernel(kTileM, kTileN, kThreads, {smemType});
  Value smem = launch.getWorkgroupAttributions()[0];
  Value tid = launch.getThreadIds().x;
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  Value warp = arith::DivUIOp::create(b, tid, index(32));
  Value lane = arith::RemUIOp::create(b, tid, index(32));
  Value g = arith::DivUIOp::create(b, lane, index(4));
  Value t = arith::RemUIOp::create(b, lane, index(4));
  Value mBlock = mul(blockIds.y, kTileM), nBlock = mul(blockIds.x, kTileN);

  SmallVector<std::pair<Value, Value>> positions;
  Value warpRow = add(add(mBlock, g), mul(warp, 16));
  Value threadCol = add(nBlock, mul(t, 2));
  for (int64_t i = 0; i < kAccumulators; ++i)
    positions.push_back(
        {add(warpRow, 8 * ((i / 2) % 2)), add(threadCol, 8 * (i / 4) + i % 2)});
  SmallVector<Value> init = loadOutput(positions);
  Type accType = init.front().getType();
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(kAccumulators, accType));
  Value accStruct = LLVM::PoisonOp::create(b, structType);
  for (auto [i, v] : llvm::enumerate(init))
    accStruct = LLVM::InsertValueOp::create(b, accStruct, v, i);

  // Descriptors of the two tiles (the same for every warp, as required).
  Value base = arith::IndexCastUIOp::create(
      b, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, smem));
  Value descA = descriptor(base);
  Value descB = descriptor(arith::AddIOp::create(
      b, base, arith::ConstantIntOp::create(b, kChunksPerTile * 16, 64)));

  // This thread's chunk: row tid / 2 of the tile, k half tid % 2.
  Value chunkRow = arith::DivUIOp::create(b, tid, index(2));
  Value kHalf = arith::RemUIOp::create(b, tid, index(2));
  Value chunk = add(
      mul(add(mul(arith::DivUIOp::create(b, chunkRow, index(8)), 2), kHalf), 8),
      arith::RemUIOp::create(b, chunkRow, index(8)));

  // The tile's k in elements: 32 bytes of them.
  int64_t tileK = 8 * c.elementsPerWord();
  auto loop = scf::ForOp::create(
      b, index(0), sizeK, index(tileK), ValueRange{accStruct},
      [&](OpBuilder &nested, Location, Value k0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value k = add(k0, mul(kHalf, tileK / 2));
        stageChunk(smem, 0, add(mBlock, chunkRow), k, chunk);
        stageChunk(smem, 1, add(nBlock, chunkRow), k,
                   add(chunk, kChunksPerTile));
        NVVM::FenceProxyOp::create(
            b, NVVM::ProxyKind::async_shared,
            NVVM::SharedSpaceAttr::get(b.getContext(),
                                       NVVM::SharedSpace::shared_cta));
        gpu::BarrierOp::create(b);
        NVVM::WgmmaFenceAlignedOp::create(b);
        auto shape =
            NVVM::MMAShapeAttr::get(b.getContext(), kTileM, kTileN, tileK);
        auto type = [&](NVVM::WGMMATypes t) {
          return NVVM::WGMMATypesAttr::get(b.getContext(), t);
        };
        Value d = NVVM::WgmmaMmaAsyncOp::create(
            b, structType, acc[0], descA, descB, shape, type(wgmmaType(c.lhs)),
            type(wgmmaType(c.rhs)),
            type(c.isFloat ? NVVM::WGMMATypes::f32 : NVVM::WGMMATypes::s32),
            NVVM::WGMMAScaleOutAttr::get(b.getContext(),
                                         NVVM::WGMMAScaleOut::one),
            NVVM::WGMMAScaleInAttr::get(b.getContext(),
                                        NVVM::WGMMAScaleIn::one),
            NVVM::WGMMAScaleInAttr::get(b.getContext(),
                                        NVVM::WGMMAScaleIn::one),
            NVVM::MMALayoutAttr::get(b.getContext(), NVVM::MMALayout::row),
            NVVM::MMALayoutAttr::get(b.getContext(), NVVM::MMALayout::col),
            /*satfinite=*/NVVM::MMAIntOverflowAttr());
        NVVM::WgmmaGroupSyncAlignedOp::create(b);
        NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
        // Nobody overwrites the tiles before every warp's MMA has read them.
        gpu::BarrierOp::create(b);
        scf::YieldOp::create(b, d);
      });
  SmallVector<Value> result;
  for (int64_t i = 0; i < kAccumulators; ++i)
    result.push_back(LLVM::ExtractValueOp::create(b, loop.getResult(0), i));
  storeOutput(positions, result);
  endKernel();
}

struct ConvertLowPrecisionMatmulToWGMMAPass
    : mlir::qtrain::impl::ConvertLowPrecisionMatmulToWGMMAPassBase<
          ConvertLowPrecisionMatmulToWGMMAPass> {
  void runOnOperation() override {
    for (TensorCoreContraction &contraction :
         collectTensorCoreContractions(getOperation())) {
      ImplicitLocOpBuilder b(contraction.op.getLoc(), contraction.op);
      WGMMAKernelBuilder(contraction, b).build();
      contraction.op.erase();
    }
  }
};

} // namespace
