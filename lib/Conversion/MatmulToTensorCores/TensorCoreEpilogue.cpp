//===- TensorCoreEpilogue.cpp - the GEMM kernels' epilogues ---------------===//
//
// TensorCoreKernelBuilder's epilogue, shared by the mma.sync and wgmma
// kernels: each thread adds its accumulators to the output (or stores
// them), and applies the element-wise op and the reduction that
// matchEpilogue moved into the kernel to the elements it holds.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::qtrain;

/// Output elements whose epilogue operands accumulateOutput loads before it
/// stores any of them (even: the pairs of columns stay together). More
/// loads in flight, more registers held.
static constexpr size_t kPrefetchedElements = 16;

SmallVector<Value> TensorCoreKernelBuilder::zeroAccumulators(int64_t count) {
  Type element =
      cast<MemRefType>(c.op.getDpsInits()[0].getType()).getElementType();
  return SmallVector<Value>(
      count, arith::ConstantOp::create(b, b.getZeroAttr(element)));
}

void TensorCoreKernelBuilder::accumulateOutput(
    ArrayRef<std::pair<Value, Value>> positions, ArrayRef<Value> values,
    Value lane) {
  Value out = c.op.getDpsInits()[0];
  Type element = cast<MemRefType>(out.getType()).getElementType();
  // Where n is the output's contiguous last index and N even, each even
  // column and the next are one aligned 8-byte access (the fragments hold
  // them in consecutive registers), both in range or both out.
  bool pairs = c.dims.n.size() == 1 && lastIndexIs(2, c.dims.n[0], 2);
  auto pairType = VectorType::get({2}, element);
  // The thread's share of the epilogue reduction's results, if any,
  // carried through the positions' branches.
  SmallVector<Value> partials;
  if (c.reduction)
    for (Operation *combiner : c.reduction->combiners)
      partials.push_back(
          arith::ConstantOp::create(b, *arith::getNeutralElement(combiner)));
  // The epilogue ops' operands without loops (scales), loaded once.
  SmallVector<linalg::GenericOp, 2> epilogueOps;
  if (c.reduction)
    epilogueOps.push_back(c.reduction->op);
  if (c.map)
    epilogueOps.push_back(c.map->op);
  for (linalg::GenericOp op : epilogueOps)
    for (OpOperand *input : op.getDpsInputOperands())
      if (auto type = dyn_cast<MemRefType>(input->get().getType());
          type && type.getRank() == 0)
        scalarOperands[input] = memref::LoadOp::create(b, input->get());
  hoistUniformEpilogueOps(epilogueOps);
  // The map's results stored transposed in words, if any: the group's
  // elements are mapped before their branches, since lanes exchange them
  // after.
  SmallVector<unsigned> transposed;
  if (lane)
    transposed = transposedByteResults();
  for (size_t group = 0; group < positions.size();
       group += kPrefetchedElements) {
    size_t groupEnd = std::min(positions.size(), group + kPrefetchedElements);
    // The group's elements' indices in the output and epilogue operands
    // (each op's indexed by input).
    SmallVector<SmallVector<Value>> elementIndices, reductionOperands,
        mapOperands;
    for (size_t e = group; e < groupEnd; ++e) {
      elementIndices.push_back(operandIndices(
          2, loopValues(positions[e].first, positions[e].second, Value())));
      if (c.reduction)
        reductionOperands.push_back(loadElementOperands(
            c.reduction->op, c.reduction->gemmOutput, elementIndices.back()));
      if (c.map)
        mapOperands.push_back(loadElementOperands(c.map->op, c.map->gemmOutput,
                                                  elementIndices.back()));
    }
    // Speculated (pure ops on operands loaded in bounds; the output is a
    // zero fill, so the term is the accumulator).
    SmallVector<MappedTerm> mapped;
    if (!transposed.empty())
      for (size_t e = group; e < groupEnd; ++e)
        mapped.push_back(mapTerm(values[e], elementIndices[e - group],
                                 mapOperands[e - group]));
    for (size_t i = group; i < groupEnd; i += pairs ? 2 : 1) {
      auto [row, col] = positions[i];
      Value inRange = both(lessThan(row, sizeM), lessThan(col, sizeN));
      auto ifOp = scf::IfOp::create(b, ValueRange(partials).getTypes(), inRange,
                                    /*withElseRegion=*/!partials.empty());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      // The position's elements: one, or a pair of adjacent columns.
      ArrayRef<SmallVector<Value>> termIndices =
          ArrayRef(elementIndices).slice(i - group, pairs ? 2 : 1);
      ArrayRef<Value> indices = termIndices[0];
      Value sum = pairs ? vector::FromElementsOp::create(b, pairType,
                                                         values.slice(i, 2))
                              .getResult()
                        : values[i];
      if (!c.zeroInit) {
        Value prior = pairs
                          ? vector::LoadOp::create(b, pairType, out, indices,
                                                   /*nontemporal=*/false,
                                                   llvm::MaybeAlign(8))
                                .getResult()
                          : memref::LoadOp::create(b, out, indices).getResult();
        sum = c.isFloat ? arith::AddFOp::create(b, prior, sum).getResult()
                        : arith::AddIOp::create(b, prior, sum).getResult();
      }
      if (c.storeOutput && pairs)
        vector::StoreOp::create(b, sum, out, indices, /*nontemporal=*/false,
                                llvm::MaybeAlign(8));
      else if (c.storeOutput)
        memref::StoreOp::create(b, sum, out, indices);
      SmallVector<Value> terms;
      for (int64_t j = 0; j < (pairs ? 2 : 1); ++j)
        terms.push_back(pairs ? vector::ExtractOp::create(b, sum, j).getResult()
                              : sum);
      if (c.map && !transposed.empty()) {
        storeMapped(ArrayRef(mapped).slice(i - group, terms.size()),
                    transposed);
      } else if (c.map) {
        SmallVector<MappedTerm> termsMapped;
        for (auto [j, term] : llvm::enumerate(terms))
          termsMapped.push_back(
              mapTerm(term, termIndices[j], mapOperands[i - group + j]));
        storeMapped(termsMapped, {});
      }
      if (partials.empty())
        continue;
      SmallVector<Value> reduced = partials;
      for (auto [j, term] : llvm::enumerate(terms))
        reduced = reduceTerm(reduced, term, termIndices[j],
                             reductionOperands[i - group + j]);
      scf::YieldOp::create(b, reduced);
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, partials);
      partials = ifOp.getResults();
    }
    // After the branches: every lane shuffles.
    if (!transposed.empty())
      for (size_t quad = group; quad < groupEnd; quad += 4)
        storeTransposedWords(lane, positions.slice(quad, 4),
                             ArrayRef(mapped).slice(quad - group, 4),
                             transposed);
  }
  if (!partials.empty())
    combineReduction(partials);
}

/// The position of `dim` among the results of `map` (a projected
/// permutation's), if there.
static std::optional<unsigned> resultOfDim(AffineMap map, unsigned dim) {
  for (auto [pos, expr] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(expr); d && d.getPosition() == dim)
      return pos;
  return std::nullopt;
}

std::optional<std::pair<unsigned, unsigned>>
TensorCoreKernelBuilder::mapRowAndColumnLoops() {
  if (!c.map || c.dims.m.size() != 1 || c.dims.n.size() != 1)
    return std::nullopt;
  AffineMap output = c.op.getIndexingMapsArray()[2];
  std::optional<unsigned> m = resultOfDim(output, c.dims.m[0]),
                          n = resultOfDim(output, c.dims.n[0]);
  if (!m || !n)
    return std::nullopt;
  AffineMap read = c.map->op.getMatchingIndexingMap(c.map->gemmOutput);
  return std::make_pair(cast<AffineDimExpr>(read.getResult(*m)).getPosition(),
                        cast<AffineDimExpr>(read.getResult(*n)).getPosition());
}

SmallVector<unsigned> TensorCoreKernelBuilder::transposedByteResults() {
  std::optional<std::pair<unsigned, unsigned>> loops = mapRowAndColumnLoops();
  // The map runs before the branches: on a zero-filled output only (no
  // prior element to load), and only where its body may run on any
  // element (pure ops; loads are clamped in bounds).
  if (!loops || !c.zeroInit)
    return {};
  linalg::GenericOp op = c.map->op;
  for (Operation &bodyOp : op.getBlock()->without_terminator())
    if (!isPure(&bodyOp) && !isa<linalg::IndexOp>(bodyOp))
      return {};
  auto [rowLoop, columnLoop] = *loops;
  SmallVector<unsigned> results;
  for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    auto type = cast<MemRefType>(init.get().getType());
    int64_t rank = type.getRank();
    // Rows along the last index, columns along the one before, 4-byte
    // words of whole rows (so each lies in or out of range, aligned).
    if (rank < 2 || type.getElementTypeBitWidth() != 8 ||
        !type.getLayout().isIdentity() ||
        ShapedType::isDynamic(type.getShape().back()) ||
        type.getShape().back() % 4 != 0 ||
        map.getResult(rank - 1) != b.getAffineDimExpr(rowLoop) ||
        map.getResult(rank - 2) != b.getAffineDimExpr(columnLoop))
      continue;
    results.push_back(k);
  }
  return results;
}

void TensorCoreKernelBuilder::storeTransposedWords(
    Value lane, ArrayRef<std::pair<Value, Value>> quad,
    ArrayRef<MappedTerm> mapped, ArrayRef<unsigned> results) {
  // Lane (g, t) (lane 4g + t) holds, at column c = C + 2t and rows r = R +
  // g and r + 8, the four bytes x_k, k = 2h + p, of rows r + 8h, columns
  // c + p. The lanes g = 4a..4a + 3 of one t hold four rows' bytes of each
  // (h, p): a 4x4 transposition among them (bytes as numbered by lane
  // and k) leaves lane 4a + i with the word of (h, p) = (i / 2, i % 2),
  // rows R + 8h + 4a.. in order. Two butterfly steps do it: with the lane
  // of the other bit 1 of g (lane xor 8), a lane keeps the half of its
  // bytes whose k has its own bit 1 of g, and takes the partner's; then
  // likewise for bit 0 (lane xor 4), by k's bit 0.
  auto bits = [&](Value value, int64_t mask) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                 arith::AndIOp::create(b, value, index(mask)),
                                 index(0));
  };
  Value g = arith::DivUIOp::create(b, lane, index(4));
  Value bit1 = bits(g, 2), bit0 = bits(g, 1);
  Value row = add(arith::SubIOp::create(b, quad[0].first,
                                        arith::AndIOp::create(b, g, index(3))),
                  arith::SelectOp::create(b, bit1, index(8), index(0)));
  Value column = add(quad[0].second, arith::AndIOp::create(b, g, index(1)));
  Value inRange = both(lessThan(row, sizeM), lessThan(column, sizeN));
  auto [rowLoop, columnLoop] = *mapRowAndColumnLoops();
  SmallVector<Value> loops = mapped[0].loops;
  loops[rowLoop] = row;
  loops[columnLoop] = column;
  auto byteVector = VectorType::get({4}, b.getI8Type());
  auto wordVector = VectorType::get({1}, b.getI32Type());
  auto exchange = [&](Value bytes, int64_t laneMask) {
    Value word = vector::ExtractOp::create(
        b, vector::BitCastOp::create(b, wordVector, bytes), 0);
    Value other = gpu::ShuffleOp::create(b, word, laneMask * 4, kWarpLanes,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    return vector::BitCastOp::create(
        b, byteVector, vector::BroadcastOp::create(b, wordVector, other));
  };
  // Of the 8-byte pool (own 0..3, other 4..7), by the bit's value.
  auto pick = [&](Value bit, Value own, Value other, ArrayRef<int64_t> clear,
                  ArrayRef<int64_t> set) -> Value {
    return arith::SelectOp::create(
        b, bit, vector::ShuffleOp::create(b, own, other, set),
        vector::ShuffleOp::create(b, own, other, clear));
  };
  linalg::GenericOp op = c.map->op;
  for (unsigned k : results) {
    OpOperand &init = op.getDpsInitsMutable()[k];
    auto type = cast<MemRefType>(init.get().getType());
    SmallVector<Value> elementBytes;
    for (const MappedTerm &term : mapped)
      elementBytes.push_back(
          arith::BitcastOp::create(b, b.getI8Type(), term.results[k]));
    Value x = vector::FromElementsOp::create(b, byteVector, elementBytes);
    Value y = pick(bit1, x, exchange(x, 2), {0, 1, 4, 5}, {6, 7, 2, 3});
    Value z = pick(bit0, y, exchange(y, 1), {0, 4, 2, 6}, {5, 1, 7, 3});
    Value word = vector::BitCastOp::create(
        b, VectorType::get({4}, type.getElementType()), z);
    auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    SmallVector<Value> indices = llvm::map_to_vector(
        op.getMatchingIndexingMap(&init).getResults(), [&](AffineExpr expr) {
          return loops[cast<AffineDimExpr>(expr).getPosition()];
        });
    vector::StoreOp::create(b, word, init.get(), indices,
                            /*nontemporal=*/false, llvm::MaybeAlign(4));
  }
}

void TensorCoreKernelBuilder::hoistUniformEpilogueOps(
    ArrayRef<linalg::GenericOp> ops) {
  // Without this, every element's branch would recompute them: LLVM does
  // not hoist an instruction out of a conditional block it does not
  // dominate, and a quantizing epilogue divides three scalars a term.
  uniformBodyOps.clear();
  uniformValues.clear();
  for (linalg::GenericOp op : ops) {
    for (OpOperand *input : op.getDpsInputOperands())
      if (Value loaded = scalarOperands.lookup(input))
        uniformValues.map(op.getMatchingBlockArgument(input), loaded);
    Region &body = op.getRegion();
    auto uniform = [&](Value v) {
      return uniformValues.contains(v) || !body.isAncestor(v.getParentRegion());
    };
    // Pure ops only: they run now even where no element is in range.
    for (Operation &bodyOp : op.getBlock()->without_terminator()) {
      if (!isPure(&bodyOp) || bodyOp.getNumRegions() != 0 ||
          isa<linalg::IndexOp>(bodyOp) ||
          !llvm::all_of(bodyOp.getOperands(), uniform))
        continue;
      b.clone(bodyOp, uniformValues);
      uniformBodyOps.insert(&bodyOp);
    }
  }
}

SmallVector<Value>
TensorCoreKernelBuilder::loadElementOperands(linalg::GenericOp op,
                                             OpOperand *gemmOutput,
                                             ArrayRef<Value> outputIndices) {
  // The op's loops at the output element, each clamped into the output:
  // an element outside it loads in bounds too (its results are not
  // stored), with no branch between the group's loads.
  SmallVector<Value> loops(op.getNumLoops(), index(0));
  AffineMap readMap = op.getMatchingIndexingMap(gemmOutput);
  for (auto [pos, expr, value] :
       llvm::enumerate(readMap.getResults(), outputIndices)) {
    Value last = arith::SubIOp::create(
        b, b.createOrFold<memref::DimOp>(gemmOutput->get(), pos), index(1));
    loops[cast<AffineDimExpr>(expr).getPosition()] =
        arith::MinUIOp::create(b, value, last);
  }
  SmallVector<Value> loaded(op.getNumDpsInputs());
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (input == gemmOutput || scalarOperands.contains(input) ||
        !isa<MemRefType>(input->get().getType()))
      continue;
    SmallVector<Value> indices;
    for (AffineExpr expr : op.getMatchingIndexingMap(input).getResults())
      indices.push_back(loops[cast<AffineDimExpr>(expr).getPosition()]);
    loaded[input->getOperandNumber()] =
        memref::LoadOp::create(b, input->get(), indices);
  }
  return loaded;
}

SmallVector<Value> TensorCoreKernelBuilder::cloneEpilogueBody(
    linalg::GenericOp op, OpOperand *gemmOutput, Value term,
    ArrayRef<Value> outputIndices, ArrayRef<Value> elementOperands,
    ValueRange inits, SmallVectorImpl<Value> &loops) {
  // The op's loops at this output element: the output's indices, zero for
  // its unit loops.
  loops.assign(op.getNumLoops(), index(0));
  AffineMap readMap = op.getMatchingIndexingMap(gemmOutput);
  for (auto [expr, value] : llvm::zip(readMap.getResults(), outputIndices))
    loops[cast<AffineDimExpr>(expr).getPosition()] = value;
  IRMapping mapping = uniformValues;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value value = input->get();
    if (input == gemmOutput) {
      value = term;
    } else if (Value loaded = scalarOperands.lookup(input)) {
      value = loaded;
    } else if (Value loaded = elementOperands[input->getOperandNumber()]) {
      value = loaded;
    }
    mapping.map(op.getMatchingBlockArgument(input), value);
  }
  if (!inits.empty())
    mapping.map(op.getRegionOutputArgs(), inits);
  for (Operation &bodyOp : op.getBlock()->without_terminator()) {
    // Stochastic rounding keys its random bits on the element's indices.
    if (auto loop = dyn_cast<linalg::IndexOp>(bodyOp))
      mapping.map(loop.getResult(), loops[loop.getDim()]);
    else if (!uniformBodyOps.contains(&bodyOp))
      b.clone(bodyOp, mapping);
  }
  return llvm::map_to_vector(
      op.getBlock()->getTerminator()->getOperands(),
      [&](Value yielded) { return mapping.lookupOrDefault(yielded); });
}

SmallVector<Value>
TensorCoreKernelBuilder::reduceTerm(ValueRange partials, Value term,
                                    ArrayRef<Value> outputIndices,
                                    ArrayRef<Value> elementOperands) {
  SmallVector<Value> loops;
  return cloneEpilogueBody(c.reduction->op, c.reduction->gemmOutput, term,
                           outputIndices, elementOperands, partials, loops);
}

TensorCoreKernelBuilder::MappedTerm
TensorCoreKernelBuilder::mapTerm(Value term, ArrayRef<Value> indices,
                                 ArrayRef<Value> elementOperands) {
  // The map does not read its inits (matchEpilogue).
  MappedTerm mapped;
  mapped.results =
      cloneEpilogueBody(c.map->op, c.map->gemmOutput, term, indices,
                        elementOperands, ValueRange(), mapped.loops);
  return mapped;
}

void TensorCoreKernelBuilder::storeMapped(ArrayRef<MappedTerm> terms,
                                          ArrayRef<unsigned> skipped) {
  linalg::GenericOp op = c.map->op;
  AffineExpr outputLast =
      op.getMatchingIndexingMap(c.map->gemmOutput).getResults().back();
  for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    if (llvm::is_contained(skipped, k))
      continue;
    AffineMap map = op.getMatchingIndexingMap(&init);
    auto indicesAt = [&](size_t j) {
      return llvm::map_to_vector(map.getResults(), [&](AffineExpr expr) {
        return terms[j].loops[cast<AffineDimExpr>(expr).getPosition()];
      });
    };
    // Where the result's last index is the output's, contiguous, and its
    // extent even, a pair is one aligned access, as the output's.
    auto type = cast<MemRefType>(init.get().getType());
    unsigned bits = type.getElementTypeBitWidth();
    if (terms.size() == 2 && map.getResults().back() == outputLast &&
        type.getLayout().isIdentity() && bits % 8 == 0 &&
        !ShapedType::isDynamic(type.getShape().back()) &&
        type.getShape().back() % 2 == 0) {
      Value pair = vector::FromElementsOp::create(
          b, VectorType::get({2}, type.getElementType()),
          ValueRange{terms[0].results[k], terms[1].results[k]});
      // Aligned to the two elements' bytes.
      vector::StoreOp::create(b, pair, init.get(), indicesAt(0),
                              /*nontemporal=*/false,
                              llvm::MaybeAlign(bits / 4));
      continue;
    }
    for (size_t j = 0; j < terms.size(); ++j)
      memref::StoreOp::create(b, terms[j].results[k], init.get(), indicesAt(j));
  }
}

/// `combiner` (a binary op of the reduction's body) on `x` and `y`.
static Value applyCombiner(OpBuilder &b, Operation *combiner, Value x,
                           Value y) {
  IRMapping mapping;
  mapping.map(combiner->getOperand(0), x);
  mapping.map(combiner->getOperand(1), y);
  return b.clone(*combiner, mapping)->getResult(0);
}

void TensorCoreKernelBuilder::combineReduction(ValueRange threadPartials) {
  EpilogueReduction &reduction = *c.reduction;
  // Each warp combines its lanes' 32-bit partials by shuffles first, and
  // lane 0 alone combines the warp's into the results: a thirty-second of
  // the atomics on the same few addresses, where float max/min are CAS
  // loops that contending threads repeat.
  SmallVector<Value> partials(threadPartials);
  SmallVector<Value> shuffled;
  SmallVector<unsigned> shuffledIndices;
  for (auto [i, partial] : llvm::enumerate(partials))
    if (partial.getType().getIntOrFloatBitWidth() == 32) {
      shuffled.push_back(partial);
      shuffledIndices.push_back(i);
    }
  combineAcrossLanes(
      b, b.getLoc(), shuffled, kWarpLanes / 2,
      [&](OpBuilder &builder, unsigned i, Value mine, Value other) {
        return applyCombiner(builder, reduction.combiners[shuffledIndices[i]],
                             mine, other);
      });
  for (auto [i, value] : llvm::zip(shuffledIndices, shuffled))
    partials[i] = value;
  Value firstLane = arith::CmpIOp::create(
      b, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, launch.getThreadIds().x, index(kWarpLanes)),
      index(0));
  auto bits = [&](Value v) -> Value {
    unsigned width = v.getType().getIntOrFloatBitWidth();
    return v.getType().isInteger()
               ? v
               : arith::BitcastOp::create(b, b.getIntegerType(width), v)
                     .getResult();
  };
  for (auto [partial, result, combiner, kind] :
       llvm::zip(partials, reduction.op.getDpsInits(), reduction.combiners,
                 reduction.kinds)) {
    SmallVector<Value> origin(cast<MemRefType>(result.getType()).getRank(),
                              index(0));
    // The combiner is idempotent: where combining the partial into the
    // value read changes nothing, no atomic can, now or later (the result
    // only moves one way), and most threads skip theirs.
    Value current = memref::LoadOp::create(b, result, origin);
    Value combined = applyCombiner(b, combiner, current, partial);
    Value changes = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                          bits(combined), bits(current));
    if (partial.getType().getIntOrFloatBitWidth() == 32)
      changes = both(changes, firstLane);
    auto ifOp = scf::IfOp::create(b, changes, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::AtomicRMWOp::create(b, kind, partial, result, origin);
  }
}
