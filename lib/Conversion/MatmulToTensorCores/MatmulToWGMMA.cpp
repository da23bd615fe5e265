//===- MatmulToWGMMA.cpp - low-precision contractions as wgmma (sm_90a) ---===//
//
// Rewrites the contractions convert-low-precision-matmul-to-mma-sync takes
// into kernels on Hopper's warpgroup MMA (PTX wgmma.mma_async, sm_90a),
// whose operands come from shared memory through 64-bit matrix
// descriptors.
//
// Each block is one warpgroup (128 threads) computing a 64xN output tile,
// N = 128 where the GEMM's N is at least 128 (known statically), else 64,
// with wgmma.m64nNk32 (k16 for f16/bf16, k8 for tf32: 32 bytes of k each), K
// in steps of that k. Each k-step's 64x32-byte tile of A and Nx32-byte tile
// of B (B as n rows of k, both "K-major", the only layout 8-bit and tf32
// wgmma read) are staged in shared memory in the no-swizzle canonical
// layout (TensorCoreKernelBuilder::beginStaging), which the descriptors
// describe: core matrices of 8 rows x 16 bytes, the two along k 128 bytes
// apart (the leading byte offset), those along m or n 256 bytes apart (the
// stride byte offset).
// Two stages: while the MMA of step i reads one, the threads load step
// i + 1's tiles from global memory and store them into the other, then
// fence.proxy.async (the tensor cores read shared memory through the async
// proxy), wait for the MMA, and meet at one barrier a step.
// The accumulators are the m16n8 C fragments of each warp's 16 rows, N/8
// of them: register i of thread (warp w, g = lane / 4, t = lane % 4) is
// row 16w + g + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2t + i % 2.
//
// Not yet done: TMA loads, deeper pipelines with mbarriers, swizzled
// layouts, N tiles beyond 128; see docs/gpu.md.
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

constexpr int64_t kTileM = 64;
constexpr int64_t kThreads = 128;
constexpr int64_t kCoreMatrixBytes = 128;
constexpr int64_t kLeadingByteOffset = kCoreMatrixBytes;    // along k
constexpr int64_t kStrideByteOffset = 2 * kCoreMatrixBytes; // along m, n
constexpr int64_t kStages = 2;

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

  int64_t tileN = 64;
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
/// generic proxy's stores are fenced before they do.
static void fenceAsyncProxy(ImplicitLocOpBuilder &b) {
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}

void WGMMAKernelBuilder::build() {
  // Wider tiles where N allows: B's tile is read once per 64 rows of A.
  std::optional<int64_t> n = staticSizeN();
  tileN = n && *n >= 128 ? 128 : 64;
  int64_t accumulators = kTileM * tileN / kThreads;
  gpu::LaunchOp launch =
      beginKernel(kTileM, tileN, kThreads, {stagingType(tileN, kStages)});
  Value smem = launch.getWorkgroupAttributions()[0];
  Value tid = launch.getThreadIds().x;
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  Value warp = arith::DivUIOp::create(b, tid, index(32));
  Value lane = arith::RemUIOp::create(b, tid, index(32));
  Value g = arith::DivUIOp::create(b, lane, index(4));
  Value t = arith::RemUIOp::create(b, lane, index(4));
  Value mBlock = mul(blockIds.y, kTileM), nBlock = mul(blockIds.x, tileN);
  beginStaging(smem, tid, mBlock, nBlock, tileN);

  SmallVector<std::pair<Value, Value>> positions;
  Value warpRow = add(add(mBlock, g), mul(warp, 16));
  Value threadCol = add(nBlock, mul(t, 2));
  for (int64_t i = 0; i < accumulators; ++i)
    positions.push_back(
        {add(warpRow, 8 * ((i / 2) % 2)), add(threadCol, 8 * (i / 4) + i % 2)});
  SmallVector<Value> init = loadOutput(positions);
  Type accType = init.front().getType();
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(accumulators, accType));
  Value accStruct = LLVM::PoisonOp::create(b, structType);
  for (auto [i, v] : llvm::enumerate(init))
    accStruct = LLVM::InsertValueOp::create(b, accStruct, v, i);

  // Descriptors of stage 0's tiles (the same for every warp, as required);
  // stage 1's start stageWords() * 4 bytes on, >> 4 in the descriptor.
  Value base = arith::IndexCastUIOp::create(
      b, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, smem));
  Value descA = descriptor(base);
  Value descB = descriptor(arith::AddIOp::create(
      b, base, arith::ConstantIntOp::create(b, stagedWordsA() * 4, 64)));
  Value stageStep = arith::ConstantIntOp::create(b, stageWords() / 4, 64);

  // The tile's k in elements: 32 bytes of them.
  int64_t tileK = 8 * c.elementsPerWord();
  stageFirstStep([&] { fenceAsyncProxy(b); });
  auto loop = scf::ForOp::create(
      b, index(0), sizeK, index(tileK), ValueRange{accStruct},
      [&](OpBuilder &nested, Location, Value k0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value stage = arith::RemUIOp::create(
            b, arith::DivUIOp::create(b, k0, index(tileK)), index(kStages));
        Value offset = arith::MulIOp::create(
            b, arith::IndexCastUIOp::create(b, b.getI64Type(), stage),
            stageStep);
        NVVM::WgmmaFenceAlignedOp::create(b);
        auto shape =
            NVVM::MMAShapeAttr::get(b.getContext(), kTileM, tileN, tileK);
        auto type = [&](NVVM::WGMMATypes t) {
          return NVVM::WGMMATypesAttr::get(b.getContext(), t);
        };
        Value d = NVVM::WgmmaMmaAsyncOp::create(
            b, structType, acc[0], arith::AddIOp::create(b, descA, offset),
            arith::AddIOp::create(b, descB, offset), shape,
            type(wgmmaType(c.lhs)), type(wgmmaType(c.rhs)),
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
        // While the MMA runs, the next step's tiles go into the other stage
        // (whose MMA, the previous step's, is complete).
        Value next = add(k0, tileK);
        auto more = scf::IfOp::create(b, lessThan(next, sizeK),
                                      /*withElseRegion=*/false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(more.thenBlock());
          storeTiles(loadTiles(next),
                     arith::SubIOp::create(b, index(kStages - 1), stage));
          fenceAsyncProxy(b);
        }
        NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
        // The next stage is complete, and nobody overwrites this one before
        // every warp's MMA has read it.
        gpu::BarrierOp::create(b);
        scf::YieldOp::create(b, d);
      });
  SmallVector<Value> result;
  for (int64_t i = 0; i < accumulators; ++i)
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
