//===- MatmulToMMASync.cpp - low-precision contractions as mma.sync -------===//
//
// Rewrites matmul-shaped linalg contractions of 8-bit, 16-bit or tf32
// operands on buffers (E4M3FN/E5M2, f16, bf16 or tf32 into f32, i8 into i32)
// into GPU kernels built on the warp's MMA: 16x8x32 for 8-bit operands,
// 16x8x16 for f16 and bf16, 16x8x8 for tf32 (PTX mma.sync.aligned.m16n8k32
// / k16 / k8).
// Upstream's vector-to-GPU route does not apply: nvgpu.mma.sync and
// nvvm.mma.sync reject f8 operands in MLIR 22, so the MMA is the LLVM
// intrinsic, called by name (the others too, so that one path builds every
// kernel).
//
// Each 128-thread block computes a 64x64 output tile; each of its four
// warps a 32x32 quarter as 2x4 MMA tiles, stepping through K by the MMA's
// k. The block stages each k-step's 64x32-byte tiles of A and B in shared
// memory (TensorCoreKernelBuilder's staging: the core-matrix layout of
// the wgmma kernels, in which a warp's fragment words are 32 consecutive
// words, free of bank conflicts). Where the operands' 16-byte rows can be
// copied whole, cp.async copies them in four stages, three steps ahead;
// otherwise two stages: the next step's tiles are read from global memory
// before the step's MMAs and stored into the other stage after them. One
// barrier a step. Warps take their fragments from there by ldmatrix.x4
// (four 8x16-byte core matrices each). Fragments (PTX ISA, "Matrix
// Fragments for mma.m16n8k32", "mma.m16n8k16" and "mma.m16n8k8"; fp8
// shares the 8-bit layouts), with g = lane / 4, t = lane % 4 and e
// elements a register (4 of 8 bits, 2 of 16, 1 of tf32; the MMA's k is
// 8e):
//   A 16x8e, row-major:  a0 = row g,   k et..et+e-1  a1 = row g+8, k et..
//                        a2 = row g,   k 4e+et..     a3 = row g+8, k 4e+et..
//   B 8ex8, column-major: b0 = col g,  k et..et+e-1  b1 = col g,   k 4e+et..
//   C 16x8: c0, c1 = row g, cols 2t, 2t+1;  c2, c3 = row g+8, same cols,
// the lowest k in the lowest bits of a register. Reads outside the
// operands give zeros (+0 for every format), so any M, N, K work; elements
// contiguous along k (or m, n) load as aligned words.
//
// Not yet done: tiles per shape; see docs/gpu.md.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_CONVERTLOWPRECISIONMATMULTOMMASYNCPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {

// Warp and block tiling, in output elements (the MMA's k is 8 elements a
// register).
constexpr int64_t kMmaM = 16, kMmaN = 8;
constexpr int64_t kWarpTilesM = 2, kWarpTilesN = 4;
constexpr int64_t kWarpM = kMmaM * kWarpTilesM, kWarpN = kMmaN * kWarpTilesN;
constexpr int64_t kWarpsM = 2, kWarpsN = 2;
constexpr int64_t kBlockM = kWarpM * kWarpsM, kBlockN = kWarpN * kWarpsN;
constexpr int64_t kThreads = 32 * kWarpsM * kWarpsN;
constexpr int64_t kAccPerTile = 4;
// Stages of tiles loaded through registers, and of tiles cp.async copies.
constexpr int64_t kStages = 2;
constexpr int64_t kAsyncStages = 4;

class MMAKernelBuilder : TensorCoreKernelBuilder {
public:
  using TensorCoreKernelBuilder::TensorCoreKernelBuilder;
  void build();

private:
  /// D = A * B + C on one 16x8 tile; returns D's four registers.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bRegs,
                         ArrayRef<Value> acc);
  /// Calls the MMA intrinsic `name`; returns D's four registers.
  SmallVector<Value> callMMA(StringRef name, ArrayRef<Value> args);
  /// Row and column of accumulator `i` of tile (mi, ni) of this thread.
  std::pair<Value, Value> accumulatorPosition(int64_t mi, int64_t ni,
                                              int64_t i);

  /// The warps' MMAs on stage `stage`'s tiles: the new accumulators.
  SmallVector<Value> multiply(ValueRange acc, Value stage);
  /// The loops over K, on tiles that cp.async copies or that pass through
  /// registers.
  scf::ForOp copyAsyncLoop(ValueRange init);
  scf::ForOp loadStoreLoop(ValueRange init);

  // The thread's lane, its group and index in it, and its warp's tile
  // origin, in the output and in the block's tile.
  Value lane, g, t, mWarp, nWarp, mInBlock, nInBlock;
  // Elements of k a step (one MMA's k).
  int64_t mmaK = 0;
};

SmallVector<Value> MMAKernelBuilder::mma(ArrayRef<Value> a,
                                         ArrayRef<Value> bRegs,
                                         ArrayRef<Value> acc) {
  // The NVVM intrinsics with row-major A and column-major B: m16n8k16
  // ...row.col.f32.f32 for f16 (named by D and C, its registers <2 x half>),
  // m16n8k16 ...row.col.bf16 and m16n8k8 ...row.col.tf32 (registers i32),
  // m16n8k32 ...row.col.f32.<a>.<b>.f32 for fp8, and ...row.col.<a>[.<b>]
  // for 8-bit integers (one name when both match), without satfinite: i32
  // sums wrap as on the CPU.
  if (c.lhs == MMAElement::f16) {
    auto half2 = VectorType::get({2}, b.getF16Type());
    SmallVector<Value> args;
    for (Value word : llvm::concat<const Value>(a, bRegs))
      args.push_back(LLVM::BitcastOp::create(b, half2, word));
    llvm::append_range(args, acc);
    return callMMA("llvm.nvvm.mma.m16n8k16.row.col.f32.f32", args);
  }
  SmallVector<Value> args(a);
  llvm::append_range(args, bRegs);
  llvm::append_range(args, acc);
  if (c.lhs == MMAElement::bf16)
    return callMMA("llvm.nvvm.mma.m16n8k16.row.col.bf16", args);
  if (c.lhs == MMAElement::tf32)
    return callMMA("llvm.nvvm.mma.m16n8k8.row.col.tf32", args);
  std::string name = "llvm.nvvm.mma.m16n8k32.row.col.";
  if (c.isFloat) {
    name += ("f32." + ptxName(c.lhs) + "." + ptxName(c.rhs) + ".f32").str();
  } else {
    name += ptxName(c.lhs).str();
    if (c.lhs != c.rhs)
      name += ("." + ptxName(c.rhs)).str();
  }
  return callMMA(name, args);
}

SmallVector<Value> MMAKernelBuilder::callMMA(StringRef name,
                                             ArrayRef<Value> args) {
  Type accType = args.back().getType();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(kAccPerTile, accType));
  Value result =
      LLVM::CallIntrinsicOp::create(b, resultType, b.getStringAttr(name), args)
          .getResult(0);
  SmallVector<Value> d;
  for (int64_t i = 0; i < kAccPerTile; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, result, i));
  return d;
}

std::pair<Value, Value>
MMAKernelBuilder::accumulatorPosition(int64_t mi, int64_t ni, int64_t i) {
  Value row = add(add(mWarp, mi * kMmaM + (i / 2) * 8), g);
  Value col = add(add(nWarp, ni * kMmaN + (i % 2)), mul(t, 2));
  return {row, col};
}

SmallVector<Value> MMAKernelBuilder::multiply(ValueRange acc, Value stage) {
  Value tileA = mul(stage, stageWords());
  Value tileB = add(tileA, stagedWordsA());
  // Fragments (word t + 4 * (r / 2) of A's rows, t + 4r of B's:
  // elements et.. and 4e + et..), four 8x16-byte core matrices at a time
  // by ldmatrix.x4 (its 16-bit elements pairs of the words): lanes 8i..
  // 8i + 7 address the rows of matrix i, and lane (g, t) gets word t of
  // row g of each. A's x4: rows 0-7 and 8-15 of its 16, k-words 0-3 and
  // then 4-7 (a0..a3); B's: k-words 0-3 and 4-7 of one 8-row tile, then
  // of the next (b0, b1 of two tiles).
  Value lanesRow = arith::RemUIOp::create(b, lane, index(8));
  Value lanesMatrix = arith::DivUIOp::create(b, lane, index(8));
  Value matrixBit0 = arith::RemUIOp::create(b, lanesMatrix, index(2));
  Value matrixBit1 = arith::DivUIOp::create(b, lanesMatrix, index(2));
  SmallVector<Value> pointers;
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    pointers.push_back(stagedPointer(stagedWordIndex(
        tileA,
        add(add(mInBlock, mi * kMmaM), add(mul(matrixBit0, 8), lanesRow)),
        mul(matrixBit1, 4))));
  for (int64_t ni = 0; ni < kWarpTilesN; ni += 2)
    pointers.push_back(stagedPointer(stagedWordIndex(
        tileB,
        add(add(nInBlock, ni * kMmaN), add(mul(matrixBit1, 8), lanesRow)),
        mul(matrixBit0, 4))));
  SmallVector<Value> matrices;
  auto fourWords = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, b.getI32Type()));
  for (Value pointer : pointers)
    matrices.push_back(NVVM::LdMatrixOp::create(
        b, fourWords, pointer, /*num=*/4, NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
        NVVM::LdStMatrixEltType::B16));
  auto word = [&](Value matrix, int64_t i) {
    return LLVM::ExtractValueOp::create(b, matrix, i).getResult();
  };
  SmallVector<SmallVector<Value, 4>> a(kWarpTilesM), bt(kWarpTilesN);
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t r = 0; r < 4; ++r)
      a[mi].push_back(word(matrices[mi], r));
  for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
    for (int64_t r = 0; r < 2; ++r)
      bt[ni].push_back(word(matrices[kWarpTilesM + ni / 2], (ni % 2) * 2 + r));
  SmallVector<Value> results;
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
      llvm::append_range(
          results,
          mma(a[mi], bt[ni],
              llvm::to_vector(acc.slice((mi * kWarpTilesN + ni) * kAccPerTile,
                                        kAccPerTile))));
  return results;
}

scf::ForOp MMAKernelBuilder::copyAsyncLoop(ValueRange init) {
  // cp.async copies (operands' rows copied whole), kAsyncStages stages:
  // step i waits for its group (issued kAsyncStages - 1 steps before),
  // and after one barrier, which every warp passes once done with step
  // i - 1's stage, copies step i + kAsyncStages - 1 into that stage
  // before its own MMAs.
  beginAsyncCopies();
  int64_t ahead = kAsyncStages - 1;
  for (int64_t step = 0; step < ahead; ++step)
    copyStepAsync(index(step * mmaK), index(step), /*chunks=*/1);
  scf::ForOp loop = forEachStep(mmaK, init, [&](Value k0, ValueRange acc) {
    Value step = arith::DivUIOp::create(b, k0, index(mmaK));
    NVVM::CpAsyncWaitGroupOp::create(b, ahead - 1);
    gpu::BarrierOp::create(b);
    copyStepAsync(
        add(k0, ahead * mmaK),
        arith::RemUIOp::create(b, add(step, ahead), index(kAsyncStages)),
        /*chunks=*/1);
    return multiply(acc, arith::RemUIOp::create(b, step, index(kAsyncStages)));
  });
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  return loop;
}

scf::ForOp MMAKernelBuilder::loadStoreLoop(ValueRange init) {
  stageFirstStep();
  auto rowType = VectorType::get({4}, b.getI32Type());
  return forEachStep(mmaK, init, [&](Value k0, ValueRange acc) {
    Value stage = arith::RemUIOp::create(
        b, arith::DivUIOp::create(b, k0, index(mmaK)), index(kStages));
    // The next step's tiles, read from global memory before the MMAs
    // so that their latency overlaps them.
    Value next = add(k0, mmaK);
    Value hasNext = lessThan(next, sizeK);
    SmallVector<Type> rowTypes(1 + kBlockN / kBlockM, rowType);
    auto prefetch = scf::IfOp::create(b, rowTypes, hasNext,
                                      /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(prefetch.thenBlock());
      scf::YieldOp::create(b, loadTiles(next));
      b.setInsertionPointToStart(prefetch.elseBlock());
      Value zero = arith::ConstantOp::create(
          b, DenseElementsAttr::get(rowType, b.getI32IntegerAttr(0)));
      scf::YieldOp::create(b, SmallVector<Value>(rowTypes.size(), zero));
    }
    SmallVector<Value> results = multiply(acc, stage);
    // Into the other stage, which every warp finished reading before
    // the last barrier.
    auto store = scf::IfOp::create(b, hasNext, /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(store.thenBlock());
      storeTiles(SmallVector<Value>(prefetch.getResults()),
                 arith::SubIOp::create(b, index(kStages - 1), stage));
    }
    gpu::BarrierOp::create(b);
    return results;
  });
}

void MMAKernelBuilder::build() {
  mmaK = c.chunkElements();
  bool copyAsync = canCopyTilesAsync();
  beginKernel(
      kBlockM, kBlockN, kThreads,
      stagingType(kBlockM, kBlockN, copyAsync ? kAsyncStages : kStages));
  Value tid = launch.getThreadIds().x;
  lane = arith::RemUIOp::create(b, tid, index(32));
  Value warp = arith::DivUIOp::create(b, tid, index(32));
  g = arith::DivUIOp::create(b, lane, index(4));
  t = arith::RemUIOp::create(b, lane, index(4));
  // The warp's tile in the block's, and in the output.
  mInBlock = mul(arith::DivUIOp::create(b, warp, index(kWarpsN)), kWarpM);
  nInBlock = mul(arith::RemUIOp::create(b, warp, index(kWarpsN)), kWarpN);
  mWarp = add(tileRow, mInBlock);
  nWarp = add(tileColumn, nInBlock);

  SmallVector<std::pair<Value, Value>> positions;
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
      for (int64_t i = 0; i < kAccPerTile; ++i)
        positions.push_back(accumulatorPosition(mi, ni, i));
  SmallVector<Value> init = zeroAccumulators(positions.size());
  scf::ForOp loop = copyAsync ? copyAsyncLoop(init) : loadStoreLoop(init);
  accumulateOutput(positions, SmallVector<Value>(loop.getResults()), lane);
  endKernel();
}

struct ConvertLowPrecisionMatmulToMMASyncPass
    : mlir::qtrain::impl::ConvertLowPrecisionMatmulToMMASyncPassBase<
          ConvertLowPrecisionMatmulToMMASyncPass> {
  void runOnOperation() override {
    for (TensorCoreContraction &contraction :
         collectTensorCoreContractions(getOperation())) {
      // Matched now, after the kernels before it were built.
      matchEpilogue(contraction);
      ImplicitLocOpBuilder b(contraction.op.getLoc(),
                             contraction.kernelPosition());
      MMAKernelBuilder(contraction, b).build();
      contraction.erase();
    }
  }
};

} // namespace
