//===- QuantizeContractions.cpp - qtrain-quantize-contractions ------------===//
//
// Training graphs simulate quantization: operands are rounded onto a
// format's grid (`qtrain.round`, values stay f32) and multiplied by float
// GEMMs. Hardware with low-precision GEMM units wants the codes instead.
// This pass rewrites each matmul-shaped contraction and each 2-D
// convolution of two rounded operands into `qtrain.qmatmul` or
// `qtrain.qconv2d` of their `qtrain.quantize` codes, the scales applied once
// to the sums. Operands may reach the contraction through data movement
// (transposes, permuting or flipping copies, zero padding), which is then
// replayed on the codes. The rounding (mode, seed, stream, overflow) is
// the same, so every operand value is the same; only the f32 rounding of
// each product (scale factored out) and the summation order may differ
// (docs/numerics.md §7).
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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
/// exactly (integers) or that the formats widen to (floats, and an integer
/// format with a float one).
Type accumulatorType(Builder &b, const num::Format &lhs, const num::Format &rhs,
                     int64_t k) {
  if (!lhs.isInt() || !rhs.isInt())
    return b.getF32Type();
  auto magnitude = [](const num::IntFormat &f) -> int64_t {
    return f.isSigned ? int64_t(1) << (f.bits - 1) : (int64_t(1) << f.bits) - 1;
  };
  int64_t largest = magnitude(lhs.getInt()) * magnitude(rhs.getInt());
  bool fits = !ShapedType::isDynamic(k) && largest > 0 &&
              k <= std::numeric_limits<int32_t>::max() / largest;
  return fits ? b.getI32Type() : b.getI64Type();
}

/// Keeps what names a contraction (its layer), for reports and later
/// passes; linalg's own caches (memoized indexing maps) stay behind.
void copyNamingAttrs(Operation *from, Operation *to) {
  for (NamedAttribute attr : from->getDiscardableAttrs())
    if (!attr.getName().strref().starts_with("linalg."))
      to->setAttr(attr.getName(), attr.getValue());
}

/// Whether `op` only moves elements: a `linalg.generic` copy (one input,
/// every loop parallel, the body yields the input element), as autodiff
/// emits for flipped or transposed filters.
bool isCopy(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  return op.hasPureTensorSemantics() && op.getNumDpsInputs() == 1 &&
         op.getNumDpsInits() == 1 &&
         op.getNumParallelLoops() == op.getNumLoops() &&
         body.getOperations().size() == 1 &&
         body.getTerminator()->getOperand(0) == body.getArgument(0);
}

/// A contraction operand that is a rounded tensor, possibly moved by
/// `layout` ops (innermost first) on the way: transposes, copies and zero
/// padding, which map each value to one place (or add zeros) and so commute
/// with rounding by a per-tensor scale.
struct RoundedOperand {
  RoundOp round;
  SmallVector<Operation *> layout;
};

std::optional<RoundedOperand> traceRounded(Value operand) {
  RoundedOperand traced;
  while (!(traced.round = operand.getDefiningOp<RoundOp>())) {
    Operation *op = operand.getDefiningOp();
    if (auto transpose = dyn_cast_or_null<linalg::TransposeOp>(op);
        transpose && transpose.hasPureTensorSemantics())
      operand = transpose.getInput();
    else if (auto copy = dyn_cast_or_null<linalg::GenericOp>(op);
             copy && isCopy(copy))
      operand = copy.getDpsInputs()[0];
    else if (auto pad = dyn_cast_or_null<tensor::InsertSliceOp>(op);
             pad && isZeroFill(pad.getDest()))
      operand = pad.getSource();
    else
      return std::nullopt;
    traced.layout.insert(traced.layout.begin(), op);
  }
  if (traced.layout.empty())
    return traced;
  // Moved values keep their rounding only with one scale for all, and
  // padding zeros are code 0 only without a zero point.
  GranularityAttr g = traced.round.getGranularityAttr();
  if (g && g.getKind() != GranularityKind::per_tensor)
    return std::nullopt;
  if (traced.round.getZeroPoint() &&
      llvm::any_of(traced.layout, llvm::IsaPred<tensor::InsertSliceOp>))
    return std::nullopt;
  return traced;
}

/// The [top, left, bottom, right] of `pad`, a zero padding of a
/// convolution input along its spatial dimensions only (static, unit
/// strides, the batch and channels whole); nullopt for other insertions.
std::optional<SmallVector<int64_t>> spatialPadding(tensor::InsertSliceOp pad,
                                                   bool nchw) {
  RankedTensorType source = pad.getSourceType(), dest = pad.getResultType();
  if (source.getRank() != 4 || !source.hasStaticShape() ||
      !dest.hasStaticShape() ||
      !llvm::all_of(pad.getStaticStrides(), [](int64_t s) { return s == 1; }))
    return std::nullopt;
  ArrayRef<int64_t> offsets = pad.getStaticOffsets();
  if (llvm::any_of(offsets, ShapedType::isDynamic))
    return std::nullopt;
  unsigned h = nchw ? 2 : 1;
  for (unsigned dim = 0; dim < 4; ++dim)
    if ((dim != h && dim != h + 1) &&
        (offsets[dim] != 0 || source.getDimSize(dim) != dest.getDimSize(dim)))
      return std::nullopt;
  auto after = [&](unsigned dim) {
    return dest.getDimSize(dim) - offsets[dim] - source.getDimSize(dim);
  };
  return SmallVector<int64_t>{offsets[h], offsets[h + 1], after(h),
                              after(h + 1)};
}

/// The codes of a traced operand: `qtrain.quantize` with the rounding's
/// parameters, moved by the same layout ops. Those of a value that a linalg
/// op computes are built where the value is made, not where the GEMM reads
/// it (just after the op where the rounding's operands are there, else
/// after the rounding), so that the GEMM producing the value can compute
/// them in its epilogue, next to the value's amax; those of arguments (and
/// views of them) at the contraction, with its other operand's, and so are
/// those padded at dynamic offsets or sizes (the values they take come
/// later).
Value codesOf(PatternRewriter &rewriter, const RoundedOperand &operand) {
  RoundOp round = operand.round;
  OpBuilder::InsertionGuard guard(rewriter);
  auto producer = round.getInput().getDefiningOp<linalg::LinalgOp>();
  if (producer && llvm::all_of(operand.layout, [](Operation *op) {
        auto pad = dyn_cast<tensor::InsertSliceOp>(op);
        return !pad || (pad.getOffsets().empty() && pad.getSizes().empty() &&
                        pad.getStrides().empty());
      })) {
    rewriter.setInsertionPointAfter(round);
    // Right after the producer where the rounding's other operands (scale,
    // seed) are there already.
    if (producer->getBlock() == round->getBlock() &&
        llvm::all_of(round->getOperands(), [&](Value v) {
          Operation *def = v.getDefiningOp();
          return !def || def->getBlock() != producer->getBlock() ||
                 def == producer.getOperation() ||
                 def->isBeforeInBlock(producer);
        }))
      rewriter.setInsertionPointAfter(producer);
  }
  Type storage = round.getFormat().getStorageType();
  Value codes = QuantizeOp::create(
      rewriter, round.getLoc(), round.getType().clone(storage),
      round.getInput(), round.getScale(), round.getZeroPoint(), round.getSeed(),
      round.getFormat(), round.getRoundingAttr(), round.getOverflowAttr(),
      round.getGranularityAttr(), round.getStreamAttr());
  for (Operation *op : operand.layout) {
    Location loc = op->getLoc();
    auto resultType =
        cast<RankedTensorType>(op->getResult(0).getType()).clone(storage);
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, resultType.getShape(), storage);
    if (auto transpose = dyn_cast<linalg::TransposeOp>(op)) {
      codes = linalg::TransposeOp::create(rewriter, loc, codes, empty,
                                          transpose.getPermutation())
                  .getResult()[0];
    } else if (auto copy = dyn_cast<linalg::GenericOp>(op)) {
      codes = linalg::GenericOp::create(
                  rewriter, loc, resultType, codes, empty,
                  copy.getIndexingMapsArray(), copy.getIteratorTypesArray(),
                  [](OpBuilder &b, Location l, ValueRange args) {
                    linalg::YieldOp::create(b, l, args[0]);
                  })
                  .getResult(0);
    } else {
      auto pad = cast<tensor::InsertSliceOp>(op);
      Value zero = arith::ConstantOp::create(
          rewriter, loc, cast<TypedAttr>(rewriter.getZeroAttr(storage)));
      Value zeros =
          linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
      codes = tensor::InsertSliceOp::create(
          rewriter, loc, codes, zeros, pad.getMixedOffsets(),
          pad.getMixedSizes(), pad.getMixedStrides());
    }
  }
  return codes;
}

/// The scale of `round`; for roundings without one, a per-tensor scale of
/// one, made once (in `one`) for both operands.
Value scaleOf(PatternRewriter &rewriter, Location loc, RoundOp round,
              Value &one) {
  if (round.getScale())
    return round.getScale();
  if (!one)
    one = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, rewriter.getF32Type()),
                               1.0f));
  return one;
}

/// Erases the moves and roundings that the codes replaced.
void eraseIfDead(PatternRewriter &rewriter,
                 ArrayRef<const RoundedOperand *> operands) {
  llvm::SetVector<Operation *> ops;
  for (const RoundedOperand *operand : operands)
    ops.insert(operand->layout.rbegin(), operand->layout.rend());
  for (const RoundedOperand *operand : operands)
    ops.insert(operand->round);
  for (Operation *op : ops)
    if (op->use_empty())
      rewriter.eraseOp(op);
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
    std::optional<RoundedOperand> lhsRound = traceRounded(op.getDpsInputs()[0]);
    std::optional<RoundedOperand> rhsRound = traceRounded(op.getDpsInputs()[1]);
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
    const RoundedOperand &lhsOperand = lhsIndex == 0 ? *lhsRound : *rhsRound;
    const RoundedOperand &rhsOperand = lhsIndex == 0 ? *rhsRound : *lhsRound;
    RoundOp lhs = lhsOperand.round, rhs = rhsOperand.round;
    AffineMap lhsMap = maps[lhsIndex], rhsMap = maps[1 - lhsIndex];
    bool transposeLhs = *positionOf(lhsMap, k) == batch;
    bool transposeRhs = *positionOf(rhsMap, k) == batch + 1;

    num::Format lhsFormat = lhs.getFormat().getNumericFormat();
    num::Format rhsFormat = rhs.getFormat().getNumericFormat();
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

    Location loc = op.getLoc();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    Type accType = accumulatorType(rewriter, lhsFormat, rhsFormat, ranges[k]);
    rewriter.setInsertionPoint(op);
    Value lhsCodes = codesOf(rewriter, lhsOperand), one;
    Value rhsCodes = codesOf(rewriter, rhsOperand);
    auto qmatmul = QMatmulOp::create(
        rewriter, loc, op->getResult(0).getType(), lhsCodes, rhsCodes,
        scaleOf(rewriter, loc, lhs, one), scaleOf(rewriter, loc, rhs, one),
        lhs.getZeroPoint(), rhs.getZeroPoint(), lhs.getFormat(),
        rhs.getFormat(), accType, transposeLhs, transposeRhs,
        lhs.getGranularityAttr(), rhs.getGranularityAttr());
    copyNamingAttrs(op, qmatmul);
    rewriter.replaceOp(op, qmatmul.getResult());
    eraseIfDead(rewriter, {&lhsOperand, &rhsOperand});
    return success();
  }
};

/// `linalg.conv_2d_nchw_fchw` / `_nhwc_hwcf` of rounded operands into a
/// zero fill -> `qtrain.qconv2d` of their codes. The input scale must be
/// per tensor (qconv2d's); the filter's per tensor or per output channel.
template <typename ConvOp>
struct QuantizedConvolution : OpRewritePattern<ConvOp> {
  QuantizedConvolution(MLIRContext *context, ConvLayout layout)
      : OpRewritePattern<ConvOp>(context), layout(layout) {}
  ConvLayout layout;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() ||
        !isF32MulAddBody(op->getRegion(0).front()) ||
        !isZeroFill(op.getDpsInits()[0]))
      return rewriter.notifyMatchFailure(op, "not a zero-initialized f32 "
                                             "convolution");
    bool nchw = layout == ConvLayout::nchw_fchw;
    Value inputValue = op.getDpsInputs()[0];
    std::optional<RoundedOperand> input = traceRounded(inputValue);
    // Zeros padding an asymmetric rounding are no code: the padding becomes
    // the qconv2d's own, of values.
    SmallVector<int64_t> padding = {0, 0, 0, 0};
    if (auto pad = inputValue.getDefiningOp<tensor::InsertSliceOp>();
        !input && pad && isZeroFill(pad.getDest()))
      if (std::optional<SmallVector<int64_t>> spatial =
              spatialPadding(pad, nchw)) {
        input = traceRounded(pad.getSource());
        padding = *spatial;
      }
    std::optional<RoundedOperand> filter = traceRounded(op.getDpsInputs()[1]);
    if (!input || !filter)
      return rewriter.notifyMatchFailure(op, "an operand is not rounded");
    RoundOp x = input->round, w = filter->round;
    num::Format inputFormat = x.getFormat().getNumericFormat();
    num::Format filterFormat = w.getFormat().getNumericFormat();
    GranularityAttr xg = x.getGranularityAttr(), wg = w.getGranularityAttr();
    if ((xg && xg.getKind() != GranularityKind::per_tensor) ||
        (wg && wg.getKind() != GranularityKind::per_tensor &&
         (wg.getKind() != GranularityKind::per_channel ||
          wg.getAxis() != (nchw ? 0 : 3))))
      return rewriter.notifyMatchFailure(op, "scale does not factor out");

    // The sums run over the input channels and the kernel window.
    auto filterType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    int64_t k =
        filterType.getNumElements() / filterType.getDimSize(nchw ? 0 : 3);
    Type accType = accumulatorType(rewriter, inputFormat, filterFormat, k);
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    Value inputCodes = codesOf(rewriter, *input), one;
    Value filterCodes = codesOf(rewriter, *filter);
    auto qconv = QConv2DOp::create(
        rewriter, loc, op->getResult(0).getType(), inputCodes, filterCodes,
        scaleOf(rewriter, loc, x, one), scaleOf(rewriter, loc, w, one),
        x.getZeroPoint(), w.getZeroPoint(), x.getFormat(), w.getFormat(),
        accType, layout,
        llvm::to_vector(op.getStrides().template getValues<int64_t>()),
        llvm::to_vector(op.getDilations().template getValues<int64_t>()),
        padding, /*transpose_filter=*/false, wg);
    copyNamingAttrs(op, qconv);
    rewriter.replaceOp(op, qconv.getResult());
    eraseIfDead(rewriter, {&*input, &*filter});
    return success();
  }
};

struct QuantizeContractionsPass
    : mlir::qtrain::impl::QuantizeContractionsPassBase<
          QuantizeContractionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<QuantizedContraction>(&getContext());
    patterns.add<QuantizedConvolution<linalg::Conv2DNchwFchwOp>>(
        &getContext(), ConvLayout::nchw_fchw);
    patterns.add<QuantizedConvolution<linalg::Conv2DNhwcHwcfOp>>(
        &getContext(), ConvLayout::nhwc_hwcf);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
