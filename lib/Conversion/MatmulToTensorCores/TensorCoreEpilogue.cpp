//===- TensorCoreEpilogue.cpp - the GEMM kernels' epilogues ---------------===//
//
// TensorCoreKernelBuilder's epilogue, shared by the mma.sync and wgmma
// kernels: each thread adds its accumulators to the output (or stores
// them), and applies the element-wise op and the reduction that
// matchEpilogue moved into the kernel to the elements it holds.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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
    ArrayRef<std::pair<Value, Value>> positions, ArrayRef<Value> values) {
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
      if (c.map)
        mapTerms(terms, termIndices,
                 ArrayRef(mapOperands).slice(i - group, terms.size()));
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
  }
  if (!partials.empty())
    combineReduction(partials);
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

void TensorCoreKernelBuilder::mapTerms(
    ValueRange terms, ArrayRef<SmallVector<Value>> termIndices,
    ArrayRef<SmallVector<Value>> elementOperands) {
  linalg::GenericOp op = c.map->op;
  SmallVector<SmallVector<Value>> results, loops(terms.size());
  // The map does not read its inits (matchEpilogue).
  for (auto [j, term] : llvm::enumerate(terms))
    results.push_back(cloneEpilogueBody(op, c.map->gemmOutput, term,
                                        termIndices[j], elementOperands[j],
                                        ValueRange(), loops[j]));
  AffineExpr outputLast =
      op.getMatchingIndexingMap(c.map->gemmOutput).getResults().back();
  for (auto [k, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    auto indicesAt = [&](size_t j) {
      return llvm::map_to_vector(map.getResults(), [&](AffineExpr expr) {
        return loops[j][cast<AffineDimExpr>(expr).getPosition()];
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
          ValueRange{results[0][k], results[1][k]});
      // Aligned to the two elements' bytes.
      vector::StoreOp::create(b, pair, init.get(), indicesAt(0),
                              /*nontemporal=*/false,
                              llvm::MaybeAlign(bits / 4));
      continue;
    }
    for (size_t j = 0; j < terms.size(); ++j)
      memref::StoreOp::create(b, results[j][k], init.get(), indicesAt(j));
  }
}

void TensorCoreKernelBuilder::combineReduction(ValueRange partials) {
  EpilogueReduction &reduction = *c.reduction;
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
    IRMapping mapping;
    mapping.map(combiner->getOperand(0), current);
    mapping.map(combiner->getOperand(1), partial);
    Value combined = b.clone(*combiner, mapping)->getResult(0);
    Value changes = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                          bits(combined), bits(current));
    auto ifOp = scf::IfOp::create(b, changes, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::AtomicRMWOp::create(b, kind, partial, result, origin);
  }
}
