//===- QuantizeContractions.cpp - qtrain-quantize-contractions ------------===//
//
// Training graphs simulate quantization: operands are rounded onto a
// format's grid (`qtrain.round`, values stay f32) and multiplied by float
// GEMMs. Hardware with low-precision GEMM units wants the codes instead.
// This pass rewrites each matmul-shaped contraction of two rounded operands
// into `qtrain.qmatmul` of their `qtrain.quantize` codes, the scales
// applied once to the sums. The rounding (mode, seed, stream, overflow) is
// the same, so every operand value is the same; only the f32 rounding of
// each product (scale factored out) and the summation order may differ
// (docs/numerics.md §7).
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <limits>

namespace mlir::qtrain {
#define GEN_PASS_DEF_QUANTIZECONTRACTIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

namespace {

/// Whether the body is `yield(out + in0 * in1)` in f32 (any operand order).
bool isF32MulAddBody(Block &body) {
  if (body.getOperations().size() != 3 || body.getNumArguments() != 3 ||
      !llvm::all_of(body.getArgumentTypes(), [](Type t) { return t.isF32(); }))
    return false;
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                   : arith::AddFOp();
  if (!add)
    return false;
  Value out = body.getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if (add.getLhs() != out && add.getRhs() != out)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value x = body.getArgument(0), y = body.getArgument(1);
  return (mul.getLhs() == x && mul.getRhs() == y) ||
         (mul.getLhs() == y && mul.getRhs() == x);
}

bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.value(), m_AnyZeroFloat());
}

/// The position of loop dimension `dim` among the results of `map`.
std::optional<unsigned> positionOf(AffineMap map, unsigned dim) {
  for (auto [pos, expr] : llvm::enumerate(map.getResults()))
    if (cast<AffineDimExpr>(expr).getPosition() == dim)
      return pos;
  return std::nullopt;
}

/// The accumulator that holds every sum of `k` products of the two formats
/// exactly (integers) or that the formats widen to (floats).
Type accumulatorType(Builder &b, const num::Format &lhs, const num::Format &rhs,
                     int64_t k) {
  if (!lhs.isInt())
    return b.getF32Type();
  auto magnitude = [](const num::IntFormat &f) -> int64_t {
    return f.isSigned ? int64_t(1) << (f.bits - 1) : (int64_t(1) << f.bits) - 1;
  };
  int64_t largest = magnitude(lhs.getInt()) * magnitude(rhs.getInt());
  bool fits = !ShapedType::isDynamic(k) && largest > 0 &&
              k <= std::numeric_limits<int32_t>::max() / largest;
  return fits ? b.getI32Type() : b.getI64Type();
}

struct QuantizedContraction : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 || op->getNumRegions() != 1 ||
        !isF32MulAddBody(op->getRegion(0).front()) ||
        !isZeroFill(op.getDpsInits()[0]))
      return rewriter.notifyMatchFailure(op, "not a zero-initialized f32 "
                                             "multiply-add contraction");
    auto lhsRound = op.getDpsInputs()[0].getDefiningOp<RoundOp>();
    auto rhsRound = op.getDpsInputs()[1].getDefiningOp<RoundOp>();
    if (!lhsRound || !rhsRound)
      return rewriter.notifyMatchFailure(op, "an operand is not rounded");
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
        dims->k.size() != 1 || dims->batch.size() > 1 ||
        op.getNumLoops() != 3 + dims->batch.size() ||
        !llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
          return map.isProjectedPermutation(/*allowZeroInResults=*/false);
        }))
      return rewriter.notifyMatchFailure(op, "not matmul-shaped");

    // qmatmul's layout: a leading batch dimension everywhere, the result
    // [b,] rows, columns; the lhs holds the rows.
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    unsigned batch = dims->batch.empty() ? 0 : 1;
    if (batch)
      for (AffineMap map : maps)
        if (positionOf(map, dims->batch[0]) != 0u)
          return rewriter.notifyMatchFailure(op, "batch is not leading");
    unsigned rows = cast<AffineDimExpr>(maps[2].getResult(batch)).getPosition();
    unsigned k = dims->k[0];
    unsigned lhsIndex = positionOf(maps[0], rows) ? 0 : 1;
    RoundOp lhs = lhsIndex == 0 ? lhsRound : rhsRound;
    RoundOp rhs = lhsIndex == 0 ? rhsRound : lhsRound;
    AffineMap lhsMap = maps[lhsIndex], rhsMap = maps[1 - lhsIndex];
    bool transposeLhs = *positionOf(lhsMap, k) == batch;
    bool transposeRhs = *positionOf(rhsMap, k) == batch + 1;

    num::Format lhsFormat = lhs.getFormat().getNumericFormat();
    num::Format rhsFormat = rhs.getFormat().getNumericFormat();
    if (lhsFormat.isInt() != rhsFormat.isInt())
      return rewriter.notifyMatchFailure(op, "mixes integer and float");
    // Scales factor out of the sums only per tensor or per free channel.
    auto scaleFactors = [&](RoundOp round, bool transposed, bool isLhs) {
      GranularityAttr g = round.getGranularityAttr();
      if (!g || g.getKind() == GranularityKind::per_tensor)
        return true;
      int64_t freeAxis = batch + ((isLhs == transposed) ? 1 : 0);
      return g.getKind() == GranularityKind::per_channel &&
             g.getAxis() == freeAxis;
    };
    if (!scaleFactors(lhs, transposeLhs, true) ||
        !scaleFactors(rhs, transposeRhs, false))
      return rewriter.notifyMatchFailure(op, "scale does not factor out");
    if (lhsFormat.isFloat() && (lhs.getZeroPoint() || rhs.getZeroPoint()))
      return rewriter.notifyMatchFailure(op, "float zero point");

    Location loc = op.getLoc();
    auto codes = [&](RoundOp round) {
      auto type = cast<RankedTensorType>(round.getType());
      return QuantizeOp::create(
          rewriter, round.getLoc(),
          type.clone(round.getFormat().getStorageType()), round.getInput(),
          round.getScale(), round.getZeroPoint(), round.getSeed(),
          round.getFormat(), round.getRoundingAttr(), round.getOverflowAttr(),
          round.getGranularityAttr(), round.getStreamAttr());
    };
    Value one;
    auto scaleOf = [&](RoundOp round) -> Value {
      if (round.getScale())
        return round.getScale();
      if (!one)
        one = arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(
                RankedTensorType::get({}, rewriter.getF32Type()), 1.0f));
      return one;
    };
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    Type accType = accumulatorType(rewriter, lhsFormat, rhsFormat, ranges[k]);
    rewriter.setInsertionPoint(op);
    Value lhsCodes = codes(lhs), rhsCodes = codes(rhs);
    auto qmatmul = QMatmulOp::create(
        rewriter, loc, op->getResult(0).getType(), lhsCodes, rhsCodes,
        scaleOf(lhs), scaleOf(rhs), lhs.getZeroPoint(), rhs.getZeroPoint(),
        lhs.getFormat(), rhs.getFormat(), accType, transposeLhs, transposeRhs,
        lhs.getGranularityAttr(), rhs.getGranularityAttr());
    // Keep what names the op (the layer), for reports and later passes.
    for (NamedAttribute attr : op->getDiscardableAttrs())
      qmatmul->setAttr(attr.getName(), attr.getValue());
    rewriter.replaceOp(op, qmatmul.getResult());
    if (lhs->use_empty())
      rewriter.eraseOp(lhs);
    if (rhs != lhs && rhs->use_empty())
      rewriter.eraseOp(rhs);
    return success();
  }
};

struct QuantizeContractionsPass
    : mlir::qtrain::impl::QuantizeContractionsPassBase<
          QuantizeContractionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<QuantizedContraction>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
