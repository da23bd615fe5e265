//===- MatmulToMMASync.cpp - 8-bit contractions as mma.sync kernels -------===//
//
// Rewrites matmul-shaped linalg contractions of 8-bit operands on buffers
// (E4M3FN/E5M2 into f32, i8 into i32) into GPU kernels built on the warp's
// 16x8x32 MMA (PTX mma.sync.aligned.m16n8k32). Upstream's vector-to-GPU
// route does not apply: nvgpu.mma.sync and nvvm.mma.sync reject f8 operands
// in MLIR 22, so the MMA is the LLVM intrinsic, called by name.
//
// Each 128-thread block computes a 64x64 output tile; each of its four
// warps a 32x32 quarter as 2x4 MMA tiles, stepping through K by 32. Every
// thread loads its own fragments straight from global memory (PTX ISA,
// "Matrix Fragments for mma.m16n8k32"; fp8 shares the 8-bit layouts). With
// g = lane / 4 and t = lane % 4:
//   A 16x32, row-major:  a0 = row g,   k 4t..4t+3    a1 = row g+8, k 4t..
//                        a2 = row g,   k 16+4t..     a3 = row g+8, k 16+4t..
//   B 32x8, column-major: b0 = col g,  k 4t..4t+3    b1 = col g,   k 16+4t..
//   C 16x8: c0, c1 = row g, cols 2t, 2t+1;  c2, c3 = row g+8, same cols,
// four 8-bit elements a register, the lowest k in the lowest byte. Reads
// outside the operands give zero codes (+0 for every format), so any M, N,
// K work; four bytes contiguous along k load as one aligned word.
//
// Not yet done: staging tiles in shared memory (ldmatrix, cp.async), and
// software pipelining; see docs/gpu.md.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_CONVERTLOWPRECISIONMATMULTOMMASYNCPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

// Warp and block tiling, in output elements.
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 32;
constexpr int64_t kWarpTilesM = 2, kWarpTilesN = 4;
constexpr int64_t kWarpM = kMmaM * kWarpTilesM, kWarpN = kMmaN * kWarpTilesN;
constexpr int64_t kWarpsM = 2, kWarpsN = 2;
constexpr int64_t kBlockM = kWarpM * kWarpsM, kBlockN = kWarpN * kWarpsN;
constexpr int64_t kThreads = 32 * kWarpsM * kWarpsN;
constexpr int64_t kAccPerTile = 4;

/// The element type an mma.sync operand is read as.
enum class MMAElement { e4m3, e5m2, s8, u8 };

StringRef ptxName(MMAElement element) {
  switch (element) {
  case MMAElement::e4m3:
    return "e4m3";
  case MMAElement::e5m2:
    return "e5m2";
  case MMAElement::s8:
    return "s8";
  case MMAElement::u8:
    return "u8";
  }
  llvm_unreachable("unknown MMA element");
}

/// A contraction `C[b, m, n] += cast(A[.. m .. k ..]) * cast(B[.. k .. n ..])`
/// that one mma.sync kernel computes.
struct MMAContraction {
  linalg::GenericOp op;
  linalg::ContractionDimensions dims;
  MMAElement lhs, rhs;
  bool isFloat; // f32 accumulation, else i32
};

/// The operand of `cast` if it widens an 8-bit block argument the way an
/// MMA reads it, with that element type.
std::optional<std::pair<BlockArgument, MMAElement>> matchWidening(Value cast,
                                                                  Type acc) {
  Operation *op = cast.getDefiningOp();
  if (!op || op->getNumOperands() != 1)
    return std::nullopt;
  auto arg = dyn_cast<BlockArgument>(op->getOperand(0));
  if (!arg)
    return std::nullopt;
  Type from = arg.getType();
  if (acc.isF32() && isa<arith::ExtFOp>(op)) {
    if (isa<Float8E4M3FNType>(from))
      return std::make_pair(arg, MMAElement::e4m3);
    if (isa<Float8E5M2Type>(from))
      return std::make_pair(arg, MMAElement::e5m2);
  }
  if (acc.isInteger(32) && from.isInteger(8)) {
    if (isa<arith::ExtSIOp>(op))
      return std::make_pair(arg, MMAElement::s8);
    if (isa<arith::ExtUIOp>(op))
      return std::make_pair(arg, MMAElement::u8);
  }
  return std::nullopt;
}

/// Matches `yield(acc + cast(a) * cast(b))` over a matmul-shaped iteration
/// space (one m, n and k dimension, at most one batch dimension).
FailureOr<MMAContraction> matchMMAContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || dims->batch.size() > 1 ||
      op.getNumLoops() != 3 + dims->batch.size())
    return failure();
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return failure();

  Block &body = op.getRegion().front();
  Type acc = body.getArgument(2).getType();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add || !isa<arith::AddFOp, arith::AddIOp>(add))
    return failure();
  Value product = add->getOperand(0) == body.getArgument(2)
                      ? add->getOperand(1)
                      : add->getOperand(0);
  if (add->getOperand(0) != body.getArgument(2) &&
      add->getOperand(1) != body.getArgument(2))
    return failure();
  Operation *mul = product.getDefiningOp();
  if (!mul || !isa<arith::MulFOp, arith::MulIOp>(mul))
    return failure();
  auto x = matchWidening(mul->getOperand(0), acc);
  auto y = matchWidening(mul->getOperand(1), acc);
  if (!x || !y || x->first == y->first)
    return failure();
  if (x->first.getArgNumber() == 1)
    std::swap(x, y);
  if (x->first.getArgNumber() != 0 || y->first.getArgNumber() != 1)
    return failure();
  // Both operands of one MMA are fp8, or both are 8-bit integers.
  bool isFloat = acc.isF32();
  // Nothing else may happen in the body.
  if (body.getOperations().size() != 5)
    return failure();
  return MMAContraction{op, *dims, x->second, y->second, isFloat};
}

/// Emits the kernel of one contraction in place of its linalg op.
class MMAKernelBuilder {
public:
  MMAKernelBuilder(MMAContraction contraction, ImplicitLocOpBuilder &b)
      : c(contraction), b(b) {}

  void build();

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, v, 32); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, index(y)) : x; }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, x, index(y));
  }
  Value lessThan(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, x, y); }

  /// The extent of loop dimension `dim`, read from an operand that it
  /// indexes.
  Value loopSize(unsigned dim);
  /// Indices into operand `operand` for the given loop-dimension values.
  SmallVector<Value> operandIndices(unsigned operand,
                                    ArrayRef<Value> loopValues);
  /// The loop-dimension values at (batch, m, n, k); unused ones are null.
  SmallVector<Value> loopValues(Value m, Value n, Value k);

  /// One fragment register: the four elements of `operand` (0 = A, 1 = B)
  /// at free index `free` (m or n) and k = `k` .. `k` + 3, zero outside.
  Value loadRegister(unsigned operand, Value free, Value k);
  /// D = A * B + C on one 16x8 tile; returns D's four registers.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bRegs,
                         ArrayRef<Value> acc);
  /// Loads (`load`) or stores the accumulators of this thread from/to the
  /// output, skipping elements outside it.
  SmallVector<Value> loadAccumulators();
  void storeAccumulators(ArrayRef<Value> acc);
  /// Row and column of accumulator `i` of tile (mi, ni) of this thread.
  std::pair<Value, Value> accumulatorPosition(int64_t mi, int64_t ni,
                                              int64_t i);

  MMAContraction c;
  ImplicitLocOpBuilder &b;
  // Kernel-side values.
  Value batchIndex, g, t, mWarp, nWarp;
  Value sizeM, sizeN, sizeK;
};

Value MMAKernelBuilder::loopSize(unsigned dim) {
  for (OpOperand &operand : c.op->getOpOperands()) {
    AffineMap map = c.op.getMatchingIndexingMap(&operand);
    for (auto [pos, expr] : llvm::enumerate(map.getResults()))
      if (cast<AffineDimExpr>(expr).getPosition() == dim)
        return memref::DimOp::create(b, operand.get(), pos);
  }
  llvm_unreachable("every loop of a contraction indexes an operand");
}

SmallVector<Value>
MMAKernelBuilder::operandIndices(unsigned operand, ArrayRef<Value> loopValues) {
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults())
    indices.push_back(loopValues[cast<AffineDimExpr>(expr).getPosition()]);
  return indices;
}

SmallVector<Value> MMAKernelBuilder::loopValues(Value m, Value n, Value k) {
  SmallVector<Value> values(c.op.getNumLoops());
  if (!c.dims.batch.empty())
    values[c.dims.batch[0]] = batchIndex;
  values[c.dims.m[0]] = m;
  values[c.dims.n[0]] = n;
  values[c.dims.k[0]] = k;
  return values;
}

Value MMAKernelBuilder::loadRegister(unsigned operand, Value free, Value k) {
  Value memref = c.op.getDpsInputs()[operand];
  auto type = cast<MemRefType>(memref.getType());
  Value freeSize = operand == 0 ? sizeM : sizeN;
  Value zeroIndex = index(0);
  // Out-of-range elements read a clamped in-range address (every operand
  // has an element when a kernel runs) and are replaced by zero codes.
  Value freeClamped =
      arith::SelectOp::create(b, lessThan(free, freeSize), free, zeroIndex);
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  unsigned kDim = c.dims.k[0];
  bool kContiguous =
      type.getLayout().isIdentity() &&
      cast<AffineDimExpr>(map.getResults().back()).getPosition() == kDim &&
      !ShapedType::isDynamic(type.getShape().back()) &&
      type.getShape().back() % 4 == 0;
  Type i8 = b.getI8Type();
  auto asByte = [&](Value element) {
    return element.getType() == i8 ? element
                                   : arith::BitcastOp::create(b, i8, element);
  };
  Value m = operand == 0 ? freeClamped : Value();
  Value n = operand == 1 ? freeClamped : Value();
  if (kContiguous) {
    // K is a multiple of 4 and k of a register too: its four elements are
    // all in range or all out, and 4-byte aligned.
    Value inRange = both(lessThan(free, freeSize), lessThan(k, sizeK));
    Value kClamped =
        arith::SelectOp::create(b, lessThan(k, sizeK), k, zeroIndex);
    auto vectorType = VectorType::get({4}, type.getElementType());
    Value bytes = vector::LoadOp::create(
        b, vectorType, memref,
        operandIndices(operand, loopValues(m, n, kClamped)),
        /*nontemporal=*/false, llvm::MaybeAlign(4));
    if (!type.getElementType().isInteger(8))
      bytes = vector::BitCastOp::create(b, VectorType::get({4}, i8), bytes);
    Value word = vector::ExtractOp::create(
        b,
        vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()),
                                  bytes),
        ArrayRef<int64_t>{0});
    return arith::SelectOp::create(b, inRange, word, i32(0));
  }
  Value word = i32(0);
  for (int64_t j = 0; j < 4; ++j) {
    Value kj = add(k, j);
    Value inRange = both(lessThan(free, freeSize), lessThan(kj, sizeK));
    Value kClamped =
        arith::SelectOp::create(b, lessThan(kj, sizeK), kj, zeroIndex);
    Value element = memref::LoadOp::create(
        b, memref, operandIndices(operand, loopValues(m, n, kClamped)));
    Value byte = arith::ExtUIOp::create(b, b.getI32Type(), asByte(element));
    byte = arith::SelectOp::create(b, inRange, byte, i32(0));
    if (j)
      byte = arith::ShLIOp::create(b, byte, i32(8 * j));
    word = arith::OrIOp::create(b, word, byte);
  }
  return word;
}

SmallVector<Value> MMAKernelBuilder::mma(ArrayRef<Value> a,
                                         ArrayRef<Value> bRegs,
                                         ArrayRef<Value> acc) {
  // The NVVM intrinsics of m16n8k32 with row-major A and column-major B:
  // ...row.col.f32.<a>.<b>.f32 for fp8, and ...row.col.<a>[.<b>] for 8-bit
  // integers (one name when both match), without satfinite: i32 sums wrap
  // as on the CPU.
  std::string name = "llvm.nvvm.mma.m16n8k32.row.col.";
  if (c.isFloat) {
    name += ("f32." + ptxName(c.lhs) + "." + ptxName(c.rhs) + ".f32").str();
  } else {
    name += ptxName(c.lhs).str();
    if (c.lhs != c.rhs)
      name += ("." + ptxName(c.rhs)).str();
  }
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(kAccPerTile, acc.front().getType()));
  SmallVector<Value> args(a);
  llvm::append_range(args, bRegs);
  llvm::append_range(args, acc);
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

SmallVector<Value> MMAKernelBuilder::loadAccumulators() {
  Value out = c.op.getDpsInits()[0];
  Type element = cast<MemRefType>(out.getType()).getElementType();
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(element));
  SmallVector<Value> acc;
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
      for (int64_t i = 0; i < kAccPerTile; ++i) {
        auto [row, col] = accumulatorPosition(mi, ni, i);
        Value rowOk = lessThan(row, sizeM), colOk = lessThan(col, sizeN);
        Value rowClamped = arith::SelectOp::create(b, rowOk, row, index(0));
        Value colClamped = arith::SelectOp::create(b, colOk, col, index(0));
        Value v = memref::LoadOp::create(
            b, out,
            operandIndices(2, loopValues(rowClamped, colClamped, Value())));
        acc.push_back(arith::SelectOp::create(b, both(rowOk, colOk), v, zero));
      }
  return acc;
}

void MMAKernelBuilder::storeAccumulators(ArrayRef<Value> acc) {
  Value out = c.op.getDpsInits()[0];
  unsigned next = 0;
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
      for (int64_t i = 0; i < kAccPerTile; ++i) {
        auto [row, col] = accumulatorPosition(mi, ni, i);
        Value inRange = both(lessThan(row, sizeM), lessThan(col, sizeN));
        auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        memref::StoreOp::create(
            b, acc[next++], out,
            operandIndices(2, loopValues(row, col, Value())));
      }
}

void MMAKernelBuilder::build() {
  auto size = [&](ArrayRef<unsigned> dims) {
    return dims.empty() ? index(1) : loopSize(dims[0]);
  };
  sizeM = size(c.dims.m);
  sizeN = size(c.dims.n);
  sizeK = size(c.dims.k);
  Value sizeBatch = size(c.dims.batch);
  auto blocks = [&](Value extent, int64_t tile) {
    return arith::CeilDivUIOp::create(b, extent, index(tile));
  };
  auto positive = [&](Value v) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, v, index(0));
  };
  // An empty result needs no kernel (and a grid cannot be empty).
  auto nonEmpty = scf::IfOp::create(
      b, both(both(positive(sizeM), positive(sizeN)), positive(sizeBatch)),
      /*withElseRegion=*/false);
  b.setInsertionPointToStart(nonEmpty.thenBlock());
  auto launch =
      gpu::LaunchOp::create(b, blocks(sizeN, kBlockN), blocks(sizeM, kBlockM),
                            sizeBatch, index(kThreads), index(1), index(1));
  b.setInsertionPointToStart(&launch.getBody().front());

  Value tid = launch.getThreadIds().x;
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  Value lane = arith::RemUIOp::create(b, tid, index(32));
  Value warp = arith::DivUIOp::create(b, tid, index(32));
  g = arith::DivUIOp::create(b, lane, index(4));
  t = arith::RemUIOp::create(b, lane, index(4));
  mWarp = add(mul(blockIds.y, kBlockM),
              mul(arith::DivUIOp::create(b, warp, index(kWarpsN)), kWarpM));
  nWarp = add(mul(blockIds.x, kBlockN),
              mul(arith::RemUIOp::create(b, warp, index(kWarpsN)), kWarpN));
  batchIndex = blockIds.z;

  SmallVector<Value> init = loadAccumulators();
  auto loop = scf::ForOp::create(
      b, index(0), sizeK, index(kMmaK), init,
      [&](OpBuilder &nested, Location, Value k0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value kThread = add(k0, mul(t, 4));
        SmallVector<SmallVector<Value, 4>> a(kWarpTilesM), bt(kWarpTilesN);
        for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
          for (int64_t r = 0; r < 4; ++r)
            a[mi].push_back(
                loadRegister(0, add(add(mWarp, mi * kMmaM + (r % 2) * 8), g),
                             add(kThread, (r / 2) * 16)));
        for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
          for (int64_t r = 0; r < 2; ++r)
            bt[ni].push_back(loadRegister(1, add(add(nWarp, ni * kMmaN), g),
                                          add(kThread, r * 16)));
        SmallVector<Value> next;
        for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
          for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
            llvm::append_range(
                next,
                mma(a[mi], bt[ni],
                    llvm::to_vector(acc.slice(
                        (mi * kWarpTilesN + ni) * kAccPerTile, kAccPerTile))));
        scf::YieldOp::create(b, next);
      });
  storeAccumulators(SmallVector<Value>(loop.getResults()));
  gpu::TerminatorOp::create(b);
}

struct ConvertLowPrecisionMatmulToMMASyncPass
    : mlir::qtrain::impl::ConvertLowPrecisionMatmulToMMASyncPassBase<
          ConvertLowPrecisionMatmulToMMASyncPass> {
  void runOnOperation() override {
    SmallVector<MMAContraction> contractions;
    getOperation()->walk([&](linalg::GenericOp op) {
      // Device code is left alone: a kernel cannot launch kernels.
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<gpu::GPUModuleOp>())
        return;
      if (FailureOr<MMAContraction> match = matchMMAContraction(op);
          succeeded(match))
        contractions.push_back(*match);
    });
    for (MMAContraction &contraction : contractions) {
      ImplicitLocOpBuilder b(contraction.op.getLoc(), contraction.op);
      MMAKernelBuilder(contraction, b).build();
      contraction.op.erase();
    }
  }
};

} // namespace
