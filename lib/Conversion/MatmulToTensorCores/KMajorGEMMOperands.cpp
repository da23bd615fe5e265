//===- KMajorGEMMOperands.cpp - qtrain-k-major-gemm-operands --------------===//
//
// Tensor-core GEMMs copy their operand tiles asynchronously (TMA, cp.async)
// only where each row is contiguous along k; a training graph's k x n
// weights and its weight gradients' k x m activations go through registers
// instead. Their producers are elementwise (quantizations, casts), whose
// kernels can as well store a second copy with k innermost: no launch more,
// and the GEMM reads that copy. Upstream's linalg.transpose would be a
// kernel of its own (elementwise fusion fuses a producer of one use only),
// so the producer gets the transposed result itself.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_KMAJORGEMMOPERANDSPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {

/// Rows that TMA and cp.async copy whole are multiples of 16 bytes.
constexpr int64_t kCopyGranuleBytes = 16;

/// The order of `operand`'s dimensions with its k dimension last (the
/// others in their order), where the contraction would read it so on
/// tensor cores and asynchronous copies: the operand is read at plain
/// loops, its one k loop is not last, and its rows along k would be whole
/// 16-byte granules. Empty otherwise.
SmallVector<int64_t> kMajorOrder(TensorCoreContraction &c, unsigned operand) {
  if (c.dims.k.size() != 1)
    return {};
  auto type = cast<RankedTensorType>(c.op.getDpsInputs()[operand].getType());
  AffineMap map = c.op.getIndexingMapsArray()[operand];
  if (!type.hasStaticShape() || !map.isProjectedPermutation())
    return {};
  std::optional<int64_t> kPos =
      map.getResultPosition(getAffineDimExpr(c.dims.k[0], c.op.getContext()));
  if (!kPos || *kPos == map.getNumResults() - 1 ||
      type.getDimSize(*kPos) * c.elementBytes() % kCopyGranuleBytes != 0)
    return {};
  SmallVector<int64_t> order;
  for (int64_t dim = 0, e = map.getNumResults(); dim < e; ++dim)
    if (dim != *kPos)
      order.push_back(dim);
  order.push_back(*kPos);
  return order;
}

/// The elementwise op whose result `value` is (all loops parallel, that
/// result written at a permutation of them), if any.
linalg::GenericOp elementwiseProducer(Value value) {
  auto producer = value.getDefiningOp<linalg::GenericOp>();
  if (!producer || !producer.hasPureTensorSemantics() ||
      producer.getNumReductionLoops() != 0)
    return {};
  AffineMap map = producer.getIndexingMapMatchingResult(cast<OpResult>(value));
  return map.isPermutation() ? producer : linalg::GenericOp();
}

/// `map`'s results in `order` (result i is the old result order[i]).
AffineMap permuteResults(AffineMap map, ArrayRef<int64_t> order) {
  SmallVector<AffineExpr> results;
  for (int64_t old : order)
    results.push_back(map.getResult(old));
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

/// A transposed copy that a producer is to write: of its result `result`,
/// dimensions in `order`.
struct TransposedResult {
  unsigned result;
  SmallVector<int64_t> order;
  bool operator==(const TransposedResult &other) const {
    return result == other.result && order == other.order;
  }
};

/// Replaces `producer` with an op that computes the same results and,
/// after them, each of `copies`; returns those.
SmallVector<Value> addTransposedResults(linalg::GenericOp producer,
                                        ArrayRef<TransposedResult> copies) {
  OpBuilder b(producer);
  Location loc = producer.getLoc();
  SmallVector<Value> inits(producer.getDpsInits());
  SmallVector<AffineMap> maps = producer.getIndexingMapsArray();
  for (const TransposedResult &copy : copies) {
    OpResult value = producer->getResult(copy.result);
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> shape;
    for (int64_t old : copy.order)
      shape.push_back(type.getDimSize(old));
    inits.push_back(
        tensor::EmptyOp::create(b, loc, shape, type.getElementType()));
    maps.push_back(permuteResults(producer.getIndexingMapMatchingResult(value),
                                  copy.order));
  }
  auto fused = linalg::GenericOp::create(b, loc, ValueRange(inits).getTypes(),
                                         producer.getDpsInputs(), inits, maps,
                                         producer.getIteratorTypesArray());
  fused->setDiscardableAttrs(producer->getDiscardableAttrDictionary());

  // The body, with a block argument (unread) for each new init, and each
  // copied result's value yielded once more.
  IRMapping mapping;
  producer.getRegion().cloneInto(&fused.getRegion(), mapping);
  Block &body = fused.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  for (const TransposedResult &copy : copies) {
    Value element = yield->getOperand(copy.result);
    body.addArgument(element.getType(), loc);
    yield->insertOperands(yield->getNumOperands(), element);
  }

  unsigned results = producer->getNumResults();
  producer->replaceAllUsesWith(fused->getResults().take_front(results));
  producer->erase();
  return SmallVector<Value>(fused->getResults().drop_front(results));
}

/// An operand that a contraction is to read transposed.
struct Request {
  linalg::GenericOp contraction;
  unsigned operand;
  TransposedResult copy;
};

struct KMajorGEMMOperandsPass
    : mlir::qtrain::impl::KMajorGEMMOperandsPassBase<KMajorGEMMOperandsPass> {
  void runOnOperation() override {
    // By producer, so that each is replaced once, with every copy asked of
    // it (one for each result and order, whichever contractions read it).
    llvm::MapVector<Operation *, SmallVector<Request>> requests;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      FailureOr<TensorCoreContraction> c = matchTensorCoreContraction(op);
      if (failed(c))
        return;
      for (unsigned operand : {0u, 1u}) {
        SmallVector<int64_t> order = kMajorOrder(*c, operand);
        Value value = op.getDpsInputs()[operand];
        if (linalg::GenericOp producer = elementwiseProducer(value);
            producer && !order.empty())
          requests[producer].push_back(
              {op, operand, {cast<OpResult>(value).getResultNumber(), order}});
      }
    });
    SmallVector<Operation *> producers;
    for (auto &[producer, asked] : requests) {
      SmallVector<TransposedResult> copies;
      for (const Request &request : asked)
        if (!llvm::is_contained(copies, request.copy))
          copies.push_back(request.copy);
      SmallVector<Value> values =
          addTransposedResults(cast<linalg::GenericOp>(producer), copies);
      producers.push_back(values.front().getDefiningOp());
      for (const Request &request : asked) {
        linalg::GenericOp op = request.contraction;
        SmallVector<AffineMap> maps = op.getIndexingMapsArray();
        maps[request.operand] =
            permuteResults(maps[request.operand], request.copy.order);
        op.setIndexingMapsAttr(
            Builder(op.getContext()).getAffineMapArrayAttr(maps));
        op->setOperand(
            request.operand,
            values[llvm::find(copies, request.copy) - copies.begin()]);
      }
    }
    // Results that only the contractions read, in the layout they no
    // longer read (a weight's that its forward GEMM alone reads), are not
    // written at all.
    RewritePatternSet patterns(&getContext());
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyOpPatternsGreedily(producers, std::move(patterns)))) {
      getOperation()->emitError(
          "qtrain-k-major-gemm-operands: erasing the unread results of the "
          "operands' producers did not converge");
      return signalPassFailure();
    }
  }
};

} // namespace
