//===- TensorCoreContraction.cpp - GEMMs for tensor cores -----------------===//
//
// The parts of a tensor-core GEMM kernel that do not depend on the MMA
// instruction (TensorCoreKernelBuilder), but for its epilogue
// (TensorCoreEpilogue.cpp); the contractions it computes are recognized in
// TensorCoreMatch.cpp.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::qtrain;

Value TensorCoreKernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value TensorCoreKernelBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, v, 32);
}
Value TensorCoreKernelBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}
Value TensorCoreKernelBuilder::add(Value x, int64_t y) {
  return y ? add(x, index(y)) : x;
}
Value TensorCoreKernelBuilder::mul(Value x, int64_t y) {
  return y == 1 ? x : arith::MulIOp::create(b, x, index(y)).getResult();
}
Value TensorCoreKernelBuilder::lessThan(Value x, Value y) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
}
Value TensorCoreKernelBuilder::both(Value x, Value y) {
  return arith::AndIOp::create(b, x, y);
}

std::optional<int64_t>
TensorCoreKernelBuilder::staticSize(ArrayRef<unsigned> loops) {
  SmallVector<int64_t> ranges = c.op.getStaticLoopRanges();
  int64_t size = 1;
  for (unsigned dim : loops) {
    if (ShapedType::isDynamic(ranges[dim]))
      return std::nullopt;
    size *= ranges[dim];
  }
  return size;
}

Value TensorCoreKernelBuilder::loopSize(unsigned dim) {
  for (OpOperand &operand : c.op->getOpOperands()) {
    AffineMap map = c.op.getMatchingIndexingMap(&operand);
    for (auto [pos, expr] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(expr); d && d.getPosition() == dim)
        return memref::DimOp::create(b, operand.get(), pos);
  }
  llvm_unreachable("the matcher checked that every loop indexes an operand");
}

Value TensorCoreKernelBuilder::gemmSize(ArrayRef<unsigned> loops) {
  Value size;
  for (unsigned dim : loops) {
    loopSizes[dim] = loopSize(dim);
    size = size ? arith::MulIOp::create(b, size, loopSizes[dim]).getResult()
                : loopSizes[dim];
  }
  return size ? size : index(1);
}

SmallVector<Value>
TensorCoreKernelBuilder::operandIndices(unsigned operand,
                                        ArrayRef<Value> loopValues) {
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults())
    indices.push_back(
        affine::expandAffineExpr(b, b.getLoc(), expr, loopValues, {}));
  return indices;
}

void TensorCoreKernelBuilder::delinearize(Value linear,
                                          ArrayRef<unsigned> loops,
                                          SmallVector<Value> &values) {
  // The last loop varies fastest.
  for (unsigned dim : llvm::reverse(loops.drop_front())) {
    values[dim] = arith::RemUIOp::create(b, linear, loopSizes[dim]);
    linear = arith::DivUIOp::create(b, linear, loopSizes[dim]);
  }
  values[loops.front()] = linear;
}

SmallVector<Value> TensorCoreKernelBuilder::loopValues(Value m, Value n,
                                                       Value k) {
  // Null for the GEMM indices an operand does not read.
  SmallVector<Value> values(c.op.getNumLoops());
  if (!c.dims.batch.empty())
    values[c.dims.batch[0]] = batchIndex;
  if (m)
    delinearize(m, c.dims.m, values);
  if (n)
    delinearize(n, c.dims.n, values);
  if (k)
    delinearize(k, c.dims.k, values);
  return values;
}

Value TensorCoreKernelBuilder::roundToTF32(Value word) {
  // Round to nearest even at bit 13 by integer addition (a carry into the
  // exponent is the right result, up to infinity); NaNs keep a quiet-NaN
  // payload bit so that clearing the low bits cannot make them infinite.
  Value lsb = arith::AndIOp::create(b, arith::ShRUIOp::create(b, word, i32(13)),
                                    i32(1));
  Value rounded = arith::AndIOp::create(b, add(add(word, i32(0xFFF)), lsb),
                                        i32(int32_t(0xFFFFE000u)));
  Value magnitude = arith::AndIOp::create(b, word, i32(0x7FFFFFFF));
  Value isNaN = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, magnitude,
                                      i32(0x7F800000));
  Value quietNaN = arith::OrIOp::create(
      b, arith::AndIOp::create(b, word, i32(int32_t(0xFFFFE000u))),
      i32(0x00400000));
  return arith::SelectOp::create(b, isNaN, quietNaN, rounded);
}

Value TensorCoreKernelBuilder::loadWord(unsigned operand, Value free, Value k) {
  Value word = loadRawWord(operand, free, k);
  // The contraction rounds f32 to tf32 (arith.truncf: to nearest even);
  // which low bits the tensor cores read of a value that is not tf32 is
  // unspecified, so the kernel rounds first.
  return c.lhs == MMAElement::tf32 ? roundToTF32(word) : word;
}

Value TensorCoreKernelBuilder::loadRawWord(unsigned operand, Value free,
                                           Value k) {
  Value memref = c.op.getDpsInputs()[operand];
  auto type = cast<MemRefType>(memref.getType());
  int64_t count = c.elementsPerWord(), bits = 32 / count;
  Value freeSize = operand == 0 ? sizeM : sizeN;
  Value zeroIndex = index(0);
  // Out-of-range elements read a clamped in-range address (every operand
  // has an element when a kernel runs) and are replaced by zeros.
  Value freeClamped =
      arith::SelectOp::create(b, lessThan(free, freeSize), free, zeroIndex);
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  unsigned kDim = c.dims.k[0];
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  bool kContiguous = c.dims.k.size() == 1 && type.getLayout().isIdentity() &&
                     last && last.getPosition() == kDim &&
                     !ShapedType::isDynamic(type.getShape().back()) &&
                     type.getShape().back() % count == 0;
  Type bitsType = b.getIntegerType(bits);
  Value m = operand == 0 ? freeClamped : Value();
  Value n = operand == 1 ? freeClamped : Value();
  if (kContiguous) {
    // K is a multiple of the word's elements and k of a register too: they
    // are all in range or all out, and 4-byte aligned.
    Value inRange = both(lessThan(free, freeSize), lessThan(k, sizeK));
    Value kClamped =
        arith::SelectOp::create(b, lessThan(k, sizeK), k, zeroIndex);
    Value elements = vector::LoadOp::create(
        b, VectorType::get({count}, type.getElementType()), memref,
        operandIndices(operand, loopValues(m, n, kClamped)),
        /*nontemporal=*/false, llvm::MaybeAlign(4));
    if (type.getElementType() != bitsType)
      elements = vector::BitCastOp::create(
          b, VectorType::get({count}, bitsType), elements);
    Value word = vector::ExtractOp::create(
        b,
        vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()),
                                  elements),
        ArrayRef<int64_t>{0});
    return arith::SelectOp::create(b, inRange, word, i32(0));
  }
  Value word = i32(0);
  for (int64_t j = 0; j < count; ++j) {
    Value kj = add(k, j);
    Value inRange = both(lessThan(free, freeSize), lessThan(kj, sizeK));
    Value kClamped =
        arith::SelectOp::create(b, lessThan(kj, sizeK), kj, zeroIndex);
    Value element = memref::LoadOp::create(
        b, memref, operandIndices(operand, loopValues(m, n, kClamped)));
    if (element.getType() != bitsType)
      element = arith::BitcastOp::create(b, bitsType, element);
    Value part = bits == 32
                     ? element
                     : arith::ExtUIOp::create(b, b.getI32Type(), element);
    part = arith::SelectOp::create(b, inRange, part, i32(0));
    if (j)
      part = arith::ShLIOp::create(b, part, i32(bits * j));
    word = arith::OrIOp::create(b, word, part);
  }
  return word;
}

MemRefType TensorCoreKernelBuilder::stagingType(int64_t tileM, int64_t tileN,
                                                int64_t stages) {
  int64_t words = stages * (tileM + tileN) * 2 * 4;
  return MemRefType::get(
      {words}, b.getI32Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
}

void TensorCoreKernelBuilder::beginStaging(Value tid, int64_t tileM,
                                           int64_t tileN, int64_t threads) {
  stagedTileM = tileM;
  stagedTileN = tileN;
  stagedChunksA = tileM * 2;
  stagedChunksB = tileN * 2;
  stagingTid = tid;
  stagingThreads = threads;
  stagingAddress =
      memref::ExtractAlignedPointerAsIndexOp::create(b, stagingBuffer);
  // Eight consecutive threads (a phase of 16-byte shared-memory accesses)
  // on the same half of eight consecutive rows: one core matrix's 128
  // contiguous bytes, no bank conflicts.
  stagingRow = add(arith::RemUIOp::create(b, tid, index(8)),
                   mul(arith::DivUIOp::create(b, tid, index(16)), 8));
  stagingHalf = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, tid, index(8)), index(2));
  for (unsigned operand : {0u, 1u})
    stagedTransposed[operand] = freeContiguous(operand);
}

Value TensorCoreKernelBuilder::stagedChunk(Value row, Value half) {
  return add(
      mul(add(mul(arith::DivUIOp::create(b, row, index(8)), 2), half), 8),
      arith::RemUIOp::create(b, row, index(8)));
}

SmallVector<TensorCoreKernelBuilder::StagedRow>
TensorCoreKernelBuilder::stagedRows() {
  // Row r + P of a tile (P a multiple of 8) is P / 8 core-matrix rows,
  // P * 2 chunks, after row r.
  // A pass of the block's threads copies threads / 2 rows; the kernels'
  // tiles are whole passes.
  int64_t rowsPerPass = stagingThreads / 2;
  assert(stagedTileM % rowsPerPass == 0 && stagedTileN % rowsPerPass == 0 &&
         "a tile of part of a pass of rows");
  // stagedChunk(stagingRow, stagingHalf), which is the thread's index:
  // the threads copy a pass's chunks in order.
  Value chunk = stagingTid;
  SmallVector<StagedRow> rows;
  for (int64_t j = 0; j < stagedTileM / rowsPerPass; ++j)
    rows.push_back({0, add(tileRow, add(stagingRow, rowsPerPass * j)),
                    add(chunk, j * 2 * rowsPerPass)});
  for (int64_t j = 0; j < stagedTileN / rowsPerPass; ++j)
    rows.push_back({1, add(tileColumn, add(stagingRow, rowsPerPass * j)),
                    add(chunk, stagedChunksA + j * 2 * rowsPerPass)});
  return rows;
}

bool TensorCoreKernelBuilder::lastIndexIs(unsigned operand, unsigned dim,
                                          int64_t multiple) {
  // Operands in order: A, B, then the output.
  auto type = cast<MemRefType>(c.op->getOperand(operand).getType());
  if (!type.getLayout().isIdentity() || type.getRank() == 0 ||
      ShapedType::isDynamic(type.getShape().back()) ||
      type.getShape().back() % multiple != 0)
    return false;
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  return last && last.getPosition() == dim &&
         llvm::none_of(map.getResults().drop_back(),
                       [&](AffineExpr e) { return e.isFunctionOfDim(dim); });
}

bool TensorCoreKernelBuilder::freeContiguous(unsigned operand) {
  // Their m (A) or n (B) is one loop, its extent a multiple of 4 (aligned
  // units, all in or all out of range); k is one loop.
  ArrayRef<unsigned> free = operand == 0 ? c.dims.m : c.dims.n;
  return free.size() == 1 && c.dims.k.size() == 1 &&
         lastIndexIs(operand, free[0], 4);
}

int64_t TensorCoreKernelBuilder::stagedUnits(unsigned operand) {
  // Rows of 16 bytes, or 4 x 4-byte units: two a row of the tile either way.
  return (operand == 0 ? stagedTileM : stagedTileN) * 2 / stagingThreads;
}

std::pair<Value, Value>
TensorCoreKernelBuilder::transposedUnit(unsigned operand, int64_t pass) {
  // Consecutive threads on consecutive groups of 4 rows (their loads
  // consecutive in memory), then along k.
  int64_t groups = (operand == 0 ? stagedTileM : stagedTileN) / 4;
  Value unit = add(stagingTid, pass * stagingThreads);
  return {mul(arith::RemUIOp::create(b, unit, index(groups)), 4),
          arith::DivUIOp::create(b, unit, index(groups))};
}

Value TensorCoreKernelBuilder::loadTransposedUnit(unsigned operand, Value free,
                                                  Value k) {
  // Rows k, k + 1, ... (one a word's element) of 4 elements along m or n,
  // transposed: word i holds element i of each, the lowest k lowest.
  Value memref = c.op.getDpsInputs()[operand];
  auto type = cast<MemRefType>(memref.getType());
  int64_t count = c.elementsPerWord(), bits = 32 / count;
  Type bitsType = b.getIntegerType(bits);
  Value freeSize = operand == 0 ? sizeM : sizeN;
  Value freeInRange = lessThan(free, freeSize);
  Value freeClamped = arith::SelectOp::create(b, freeInRange, free, index(0));
  SmallVector<Value> words(4, i32(0));
  for (int64_t j = 0; j < count; ++j) {
    Value kj = add(k, j);
    Value inRange = both(freeInRange, lessThan(kj, sizeK));
    Value kClamped =
        arith::SelectOp::create(b, lessThan(kj, sizeK), kj, index(0));
    Value elements = vector::LoadOp::create(
        b, VectorType::get({4}, type.getElementType()), memref,
        operandIndices(operand, loopValues(operand == 0 ? freeClamped : Value(),
                                           operand == 1 ? freeClamped : Value(),
                                           kClamped)),
        /*nontemporal=*/false, llvm::MaybeAlign(4 * bits / 8));
    if (type.getElementType() != bitsType)
      elements = vector::BitCastOp::create(b, VectorType::get({4}, bitsType),
                                           elements);
    for (int64_t i = 0; i < 4; ++i) {
      Value element = vector::ExtractOp::create(b, elements, int64_t(i));
      Value part =
          bits == 32
              ? element
              : arith::ExtUIOp::create(b, b.getI32Type(), element).getResult();
      part = arith::SelectOp::create(b, inRange, part, i32(0));
      if (j)
        part = arith::ShLIOp::create(b, part, i32(bits * j));
      words[i] = arith::OrIOp::create(b, words[i], part);
    }
  }
  if (c.lhs == MMAElement::tf32)
    for (Value &word : words)
      word = roundToTF32(word);
  return vector::FromElementsOp::create(b, VectorType::get({4}, b.getI32Type()),
                                        words);
}

SmallVector<Value> TensorCoreKernelBuilder::loadTiles(Value k0) {
  int64_t tileK = c.chunkElements();
  Value k = add(k0, mul(stagingHalf, tileK / 2));
  SmallVector<Value> rows;
  for (const StagedRow &row : stagedRows()) {
    if (stagedTransposed[row.operand])
      continue;
    SmallVector<Value, 4> words;
    for (int64_t j = 0; j < 4; ++j)
      words.push_back(
          loadWord(row.operand, row.free, add(k, c.elementsPerWord() * j)));
    rows.push_back(vector::FromElementsOp::create(
        b, VectorType::get({4}, b.getI32Type()), words));
  }
  // Transposed operands' units come after the others' rows (storeTiles
  // takes them in this order).
  for (unsigned operand : {0u, 1u}) {
    if (!stagedTransposed[operand])
      continue;
    Value base = operand == 0 ? tileRow : tileColumn;
    for (int64_t pass = 0; pass < stagedUnits(operand); ++pass) {
      auto [free, kWord] = transposedUnit(operand, pass);
      rows.push_back(loadTransposedUnit(
          operand, add(base, free),
          add(k0,
              arith::MulIOp::create(b, kWord, index(c.elementsPerWord())))));
    }
  }
  return rows;
}

void TensorCoreKernelBuilder::storeTiles(ArrayRef<Value> rows, Value stage) {
  Value base = arith::MulIOp::create(b, stage, index(stageWords()));
  size_t next = 0;
  for (const StagedRow &staged : stagedRows())
    if (!stagedTransposed[staged.operand])
      vector::StoreOp::create(b, rows[next++], stagingBuffer,
                              add(base, mul(staged.chunk, 4)),
                              /*nontemporal=*/false, llvm::MaybeAlign(16));
  for (unsigned operand : {0u, 1u}) {
    if (!stagedTransposed[operand])
      continue;
    Value tile = operand == 0 ? base : add(base, stagedWordsA());
    for (int64_t pass = 0; pass < stagedUnits(operand); ++pass) {
      auto [free, kWord] = transposedUnit(operand, pass);
      Value unit = rows[next++];
      for (int64_t i = 0; i < 4; ++i)
        memref::StoreOp::create(b, vector::ExtractOp::create(b, unit, i),
                                stagingBuffer,
                                stagedWordIndex(tile, add(free, i), kWord));
    }
  }
}

bool TensorCoreKernelBuilder::rowsCopyWhole(unsigned operand) {
  return c.lhs != MMAElement::tf32 && c.dims.k.size() == 1 &&
         lastIndexIs(operand, c.dims.k[0], 16 / c.elementBytes());
}

bool TensorCoreKernelBuilder::canCopyTilesAsync() {
  return rowsCopyWhole(0) && rowsCopyWhole(1);
}

void TensorCoreKernelBuilder::beginAsyncCopies() {
  int64_t bytes = c.elementBytes();
  auto row = [&](unsigned operand, Value free) {
    Value memref = c.op.getDpsInputs()[operand];
    Value inRange = lessThan(free, operand == 0 ? sizeM : sizeN);
    Value clamped = arith::SelectOp::create(b, inRange, free, index(0));
    SmallVector<Value> indices = operandIndices(
        operand, loopValues(operand == 0 ? clamped : Value(),
                            operand == 1 ? clamped : Value(), index(0)));
    // Row-major: the layout is the identity.
    Value linear = index(0);
    for (auto [d, i] : llvm::enumerate(indices))
      linear = add(arith::MulIOp::create(
                       b, linear, b.createOrFold<memref::DimOp>(memref, d)),
                   i);
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, memref);
    return AsyncRow{add(base, mul(linear, bytes)), inRange, Value()};
  };
  asyncRows.clear();
  for (const StagedRow &staged : stagedRows()) {
    AsyncRow copied = row(staged.operand, staged.free);
    copied.chunk = staged.chunk;
    asyncRows.push_back(copied);
  }
}

void TensorCoreKernelBuilder::copyTilesAsync(Value k0, Value slot) {
  // cp.async takes pointers, not memrefs: nvgpu.device_async_copy would,
  // but wants one element type on both sides, and the staging buffer is of
  // words whatever the operands are.
  MLIRContext *ctx = b.getContext();
  int64_t tileK = c.chunkElements(), bytes = c.elementBytes();
  Value k = add(k0, mul(stagingHalf, tileK / 2));
  Value kInRange = lessThan(k, sizeK);
  Value kOffset = mul(arith::SelectOp::create(b, kInRange, k, index(0)), bytes);
  Value stageAddress = add(
      stagingAddress, arith::MulIOp::create(b, slot, index(stageWords() * 4)));
  for (const AsyncRow &row : asyncRows) {
    Value destination = pointerTo(add(stageAddress, mul(row.chunk, 16)),
                                  unsigned(NVVM::NVVMMemorySpace::Shared));
    // A generic address (the memref's), cast to the global space.
    Value source = LLVM::AddrSpaceCastOp::create(
        b,
        LLVM::LLVMPointerType::get(ctx,
                                   unsigned(NVVM::NVVMMemorySpace::Global)),
        pointerTo(add(row.address, kOffset), 0));
    Value sourceBytes = arith::SelectOp::create(b, both(row.inRange, kInRange),
                                                i32(16), i32(0));
    NVVM::CpAsyncOp::create(b, destination, source, b.getI32IntegerAttr(16),
                            NVVM::LoadCacheModifierKindAttr::get(
                                ctx, NVVM::LoadCacheModifierKind::CG),
                            sourceBytes);
  }
}

void TensorCoreKernelBuilder::copyStepAsync(Value k0, Value stage,
                                            int64_t chunks) {
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    copyTilesAsync(add(k0, chunk * c.chunkElements()),
                   add(mul(stage, chunks), chunk));
  NVVM::CpAsyncCommitGroupOp::create(b);
}

scf::ForOp TensorCoreKernelBuilder::forEachStep(
    int64_t stepK, ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value k0, ValueRange acc)> body) {
  return scf::ForOp::create(
      b, index(0), sizeK, index(stepK), init,
      [&](OpBuilder &nested, Location, Value k0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        scf::YieldOp::create(b, body(k0, acc));
      });
}

void TensorCoreKernelBuilder::stageFirstStep(int64_t chunks,
                                             llvm::function_ref<void()> fence) {
  auto hasK = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, sizeK, index(0)),
      /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(hasK.thenBlock());
  int64_t tileK = c.chunkElements();
  SmallVector<SmallVector<Value>> tiles;
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    tiles.push_back(loadTiles(index(chunk * tileK)));
  for (auto [chunk, rows] : llvm::enumerate(tiles))
    storeTiles(rows, index(chunk));
  if (fence)
    fence();
  gpu::BarrierOp::create(b);
}

Value TensorCoreKernelBuilder::stagedWordIndex(Value tileWord, Value row,
                                               Value kWord) {
  Value half = arith::DivUIOp::create(b, kWord, index(4));
  Value word = add(mul(stagedChunk(row, half), 4),
                   arith::RemUIOp::create(b, kWord, index(4)));
  return add(tileWord, word);
}

Value TensorCoreKernelBuilder::pointerTo(Value address, unsigned space) {
  Value i64 = arith::IndexCastUIOp::create(b, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext(), space), i64);
}

Value TensorCoreKernelBuilder::stagedPointer(Value wordIndex) {
  return pointerTo(add(stagingAddress, mul(wordIndex, 4)),
                   unsigned(NVVM::NVVMMemorySpace::Shared));
}

void TensorCoreKernelBuilder::beginKernel(
    int64_t tileM, int64_t tileN, int64_t threads, MemRefType staging,
    llvm::function_ref<void()> beforeLaunch, int64_t persistentBlocks) {
  loopSizes.assign(c.op.getNumLoops(), Value());
  sizeM = gemmSize(c.dims.m);
  sizeN = gemmSize(c.dims.n);
  sizeK = gemmSize(c.dims.k);
  Value sizeBatch = gemmSize(c.dims.batch);
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
  int64_t stagingBytes =
      staging.getNumElements() * staging.getElementTypeBitWidth() / 8;
  bool dynamicShared = stagingBytes > kStaticSharedBytes;
  // Outside the launch, folded where the sizes are static (the kernel
  // then divides by constants), unlike the launch's grid arguments.
  kernelTileM = tileM;
  kernelTileN = tileN;
  tilesN = blocks(sizeN, tileN);
  tilesM = blocks(sizeM, tileM);
  persistent = persistentBlocks > 0;
  if (persistent)
    totalTiles = arith::MulIOp::create(
        b, arith::MulIOp::create(b, tilesN, tilesM), sizeBatch);
  if (beforeLaunch)
    beforeLaunch();
  Value gridX = persistent ? arith::MinUIOp::create(b, totalTiles,
                                                    index(persistentBlocks))
                           : tilesN;
  launch = gpu::LaunchOp::create(
      b, gridX, persistent ? index(1) : tilesM,
      persistent ? index(1) : sizeBatch, index(threads), index(1), index(1),
      dynamicShared ? arith::ConstantIntOp::create(b, stagingBytes, 32)
                    : Value(),
      /*asyncTokenType=*/Type(), /*asyncDependencies=*/ValueRange(),
      dynamicShared ? TypeRange() : TypeRange(staging));
  b.setInsertionPointToStart(&launch.getBody().front());
  if (!persistent) {
    gpu::KernelDim3 ids = launch.getBlockIds();
    setTile(add(arith::MulIOp::create(b, ids.y, tilesN), ids.x), ids.z);
  }
  if (dynamicShared) {
    auto bytes =
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(), staging.getMemorySpace());
    stagingBuffer = memref::ViewOp::create(
        b, staging, gpu::DynamicSharedMemoryOp::create(b, bytes), index(0),
        ValueRange());
  } else {
    stagingBuffer = launch.getWorkgroupAttributions()[0];
  }
  beginStaging(launch.getThreadIds().x, tileM, tileN, threads);
}

void TensorCoreKernelBuilder::setTile(Value block, Value batch) {
  batchIndex = batch;
  // Block p of the x-y grid (nx columns, my rows of tiles): group
  // p / (G nx) of G rows of tiles (fewer in the last), q = p % (G nx) in
  // it, tile (first + q % rows, q / rows).
  Value groupTiles = mul(tilesN, kTileGroupRows);
  Value first =
      mul(arith::DivUIOp::create(b, block, groupTiles), kTileGroupRows);
  Value rows = arith::MinUIOp::create(
      b, arith::SubIOp::create(b, tilesM, first), index(kTileGroupRows));
  Value inGroup = arith::RemUIOp::create(b, block, groupTiles);
  tileRow =
      mul(add(first, arith::RemUIOp::create(b, inGroup, rows)), kernelTileM);
  tileColumn = mul(arith::DivUIOp::create(b, inGroup, rows), kernelTileN);
}

void TensorCoreKernelBuilder::forEachTile(
    llvm::function_ref<void(Value iteration)> body) {
  if (!persistent) {
    body(index(0));
    return;
  }
  // Tile t = block + i * blocks, numbered as the non-persistent grid's
  // blocks are (x fastest, then y, then the batch).
  Value block = launch.getBlockIds().x, blocks = launch.getGridSize().x;
  auto loop = scf::ForOp::create(b, block, totalTiles, blocks);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value tile = loop.getInductionVar();
  Value perBatch = arith::MulIOp::create(b, tilesN, tilesM);
  setTile(arith::RemUIOp::create(b, tile, perBatch),
          arith::DivUIOp::create(b, tile, perBatch));
  body(
      arith::DivUIOp::create(b, arith::SubIOp::create(b, tile, block), blocks));
}
