//===- AutodiffWindowed.cpp - Gradients of convolutions and poolings ------===//
//
// Windowed ops read their input through maps like `oh * s + kh * d`, so
// the input gradient is a scatter that a linalg.generic cannot write
// directly. For convolutions it is rewritten as a gather: a convolution of
// the output gradient, dilated by the stride and padded by the (dilated)
// kernel extent, with the flipped filter, dilated as the forward one. For
// poolings whose windows do not overlap, each input element belongs to exactly
// one window, read through `h floordiv s`. The filter gradient (and the
// gradient of an accumulated init) is a plain contraction, left to the generic
// rule on a generalized copy of the op.
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::autodiff;

namespace {
/// Where the dimensions of a 2-D windowed op live in its operands.
struct WindowLayout {
  unsigned channel;    // channel dimension of the input and output
  unsigned spatial[2]; // height and width dimensions of input and output
  unsigned filterIn;   // filter's input-channel dimension
  unsigned filterOut;  // filter's output-channel dimension
  unsigned kernel[2];  // filter's (or window's) height and width dimensions
};
constexpr WindowLayout kNCHW{1, {2, 3}, 1, 0, {2, 3}};
constexpr WindowLayout kNHWC{3, {1, 2}, 2, 3, {0, 1}};
} // namespace

static SmallVector<int64_t> toVector(DenseIntElementsAttr attr) {
  return llvm::to_vector(attr.getValues<int64_t>());
}

/// A zero-initialized convolution of layout `l` (NCHW/FCHW or NHWC/HWCF).
static Value createConvolution(OpBuilder &b, Location loc,
                               const WindowLayout &l, RankedTensorType type,
                               Value input, Value filter,
                               ArrayRef<int64_t> strides = {1, 1},
                               ArrayRef<int64_t> dilations = {1, 1}) {
  Value init = createZeros(b, loc, type);
  Operation *conv = &l == &kNCHW
                        ? linalg::Conv2DNchwFchwOp::create(
                              b, loc, type, ValueRange{input, filter}, init)
                              .getOperation()
                        : linalg::Conv2DNhwcHwcfOp::create(
                              b, loc, type, ValueRange{input, filter}, init)
                              .getOperation();
  // Unit strides and dilations are the ops' defaults and stay implicit.
  auto isOne = [](int64_t v) { return v == 1; };
  if (!llvm::all_of(strides, isOne) || !llvm::all_of(dilations, isOne)) {
    conv->setAttr("strides", b.getI64TensorAttr(strides));
    conv->setAttr("dilations", b.getI64TensorAttr(dilations));
  }
  return conv->getResult(0);
}

/// Input gradient of a convolution (see the file comment).
static Value convInputGradient(OpBuilder &b, Location loc, Value input,
                               Value filter, Value gradient,
                               const WindowLayout &l, ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> dilations) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto gType = cast<RankedTensorType>(gradient.getType());
  ArrayRef<int64_t> filterShape =
      cast<RankedTensorType>(filter.getType()).getShape();
  int64_t k[2] = {filterShape[l.kernel[0]], filterShape[l.kernel[1]]};

  // gp[.., z, ..] = g[.., (z - (K - 1) d) / s, ..] where divisible, else 0.
  SmallVector<int64_t> paddedShape(gType.getShape());
  SmallVector<int64_t> offsets(gType.getRank(), 0), steps(gType.getRank(), 1);
  for (int i = 0; i < 2; ++i) {
    int64_t extent = (k[i] - 1) * dilations[i];
    paddedShape[l.spatial[i]] = inType.getDimSize(l.spatial[i]) + extent;
    offsets[l.spatial[i]] = extent;
    steps[l.spatial[i]] = strides[i];
  }
  Value zeros = createZeros(
      b, loc, RankedTensorType::get(paddedShape, gType.getElementType()));
  MLIRContext *ctx = b.getContext();
  Value padded = tensor::InsertSliceOp::create(
      b, loc, gradient, zeros, getAsIndexOpFoldResult(ctx, offsets),
      getAsIndexOpFoldResult(ctx, gType.getShape()),
      getAsIndexOpFoldResult(ctx, steps));

  // gin[n, c, h, w] = sum_{f, a, b} gp[n, f, h + a d, w + b d] *
  // flipped[c, f, a, b] with flipped[c, f, a, b] = filter[f, c, KH - 1 - a,
  // KW - 1 - b]: a convolution of the same layout and dilations, which the
  // CPU pipeline turns into a matmul like the forward one.
  auto filterType = cast<RankedTensorType>(filter.getType());
  SmallVector<int64_t> flippedShape(filterShape);
  std::swap(flippedShape[l.filterIn], flippedShape[l.filterOut]);
  auto flippedType = filterType.clone(flippedShape);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> read(4);
  read[l.filterOut] = d(l.filterIn);
  read[l.filterIn] = d(l.filterOut);
  for (int i = 0; i < 2; ++i)
    read[l.kernel[i]] = -d(l.kernel[i]) + (k[i] - 1);
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  Value flipped =
      linalg::GenericOp::create(
          b, loc, flippedType, filter,
          tensor::EmptyOp::create(b, loc, flippedShape,
                                  filterType.getElementType())
              .getResult(),
          ArrayRef<AffineMap>{AffineMap::get(4, 0, read, ctx), id}, parallel,
          [](OpBuilder &nb, Location nl, ValueRange args) {
            linalg::YieldOp::create(nb, nl, args[0]);
          })
          .getResult(0);
  return createConvolution(b, loc, l, inType, padded, flipped,
                           /*strides=*/{1, 1}, dilations);
}

/// Filter gradient of a convolution with strides `s` and dilations `d`:
/// dW[f, c, kh, kw] = sum_{n, oh, ow} x[n, c, d kh + s oh, d kw + s ow]
/// g[n, f, oh, ow], the convolution of the input (batch and channels
/// swapped) with the output gradient as the filter: strides and dilations
/// trade places.
static Value convFilterGradient(OpBuilder &b, Location loc, Value input,
                                Value filter, Value gradient,
                                const WindowLayout &l,
                                ArrayRef<int64_t> strides,
                                ArrayRef<int64_t> dilations) {
  auto transpose = [&](Value v, ArrayRef<int64_t> perm) -> Value {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(type.getDimSize(p));
    Value empty = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    return linalg::TransposeOp::create(b, loc, v, empty, perm).getResult()[0];
  };
  // The permutations making the input, the output gradient and the filter
  // gradient the input, filter and output of a convolution of the same
  // layout: NCHW [C, N, H, W] * [F, N, OH, OW] -> [C, F, KH, KW], NHWC
  // [C, H, W, N] * [OH, OW, N, F] -> [C, KH, KW, F].
  bool nchw = &l == &kNCHW;
  SmallVector<int64_t> inputPerm = nchw ? SmallVector<int64_t>{1, 0, 2, 3}
                                        : SmallVector<int64_t>{3, 1, 2, 0};
  SmallVector<int64_t> gradientPerm = nchw ? SmallVector<int64_t>{1, 0, 2, 3}
                                           : SmallVector<int64_t>{1, 2, 0, 3};
  SmallVector<int64_t> filterPerm = nchw ? SmallVector<int64_t>{1, 0, 2, 3}
                                         : SmallVector<int64_t>{2, 0, 1, 3};
  auto filterType = cast<RankedTensorType>(filter.getType());
  SmallVector<int64_t> outShape;
  for (int64_t p : filterPerm)
    outShape.push_back(filterType.getDimSize(p));
  Value out = createConvolution(
      b, loc, l, filterType.clone(outShape), transpose(input, inputPerm),
      transpose(gradient, gradientPerm), /*strides=*/dilations,
      /*dilations=*/strides);
  return transpose(out, invertPermutationVector(filterPerm));
}

/// Input gradient of a pooling with non-overlapping windows.
static Value poolInputGradient(OpBuilder &b, Location loc, Value input,
                               Value result, Value gradient, bool isMax,
                               const WindowLayout &l,
                               ArrayRef<int64_t> strides) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(result.getType());
  SmallVector<int64_t> covered(outType.getShape());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> windowExprs;
  for (unsigned i = 0; i < 4; ++i)
    windowExprs.push_back(getAffineDimExpr(i, ctx));
  for (int i = 0; i < 2; ++i) {
    covered[l.spatial[i]] *= strides[i];
    windowExprs[l.spatial[i]] = windowExprs[l.spatial[i]].floorDiv(strides[i]);
  }
  auto coveredType = RankedTensorType::get(covered, inType.getElementType());
  SmallVector<int64_t> zeros(4, 0), ones(4, 1);
  Value inputSlice = tensor::ExtractSliceOp::create(
      b, loc, coveredType, input, getAsIndexOpFoldResult(ctx, zeros),
      getAsIndexOpFoldResult(ctx, covered), getAsIndexOpFoldResult(ctx, ones));
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap window = AffineMap::get(4, 0, windowExprs, ctx);
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  Value empty =
      tensor::EmptyOp::create(b, loc, covered, inType.getElementType());
  if (isMax) {
    // Ties share a window's gradient, as in the max reductions: divide it
    // by the count of elements equal to the maximum, a sum pooling of the
    // tie mask over the same windows.
    Value mask =
        linalg::GenericOp::create(
            b, loc, coveredType, ValueRange{inputSlice, result}, empty,
            ArrayRef<AffineMap>{id, window, id}, parallel,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Type t = args[0].getType();
              Value tie = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OEQ, args[0], args[1]);
              Value one =
                  arith::ConstantOp::create(nb, nl, nb.getFloatAttr(t, 1.0));
              Value zero = arith::ConstantOp::create(nb, nl, nb.getZeroAttr(t));
              linalg::YieldOp::create(
                  nb, nl,
                  arith::SelectOp::create(nb, nl, tie, one, zero).getResult());
            })
            .getResult(0);
    Value windowShape = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{strides[0], strides[1]},
        inType.getElementType());
    Value init = createZeros(b, loc, outType);
    auto stridesAttr = b.getI64TensorAttr(strides);
    auto dilationsAttr = b.getI64TensorAttr({1, 1});
    Value counts =
        &l == &kNCHW
            ? linalg::PoolingNchwSumOp::create(b, loc, outType,
                                               ValueRange{mask, windowShape},
                                               init, stridesAttr, dilationsAttr)
                  .getResult(0)
            : linalg::PoolingNhwcSumOp::create(b, loc, outType,
                                               ValueRange{mask, windowShape},
                                               init, stridesAttr, dilationsAttr)
                  .getResult(0);
    gradient = divideAmongTies(b, loc, gradient, counts);
  }
  Value grad =
      linalg::GenericOp::create(
          b, loc, coveredType, ValueRange{inputSlice, result, gradient}, empty,
          ArrayRef<AffineMap>{id, window, window, id}, parallel,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value g = args[2];
            if (isMax) { // only the arg-max elements of each window
              Value isMaxElt = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OEQ, args[0], args[1]);
              Value zero = arith::ConstantOp::create(
                  nb, nl, nb.getZeroAttr(g.getType()));
              g = arith::SelectOp::create(nb, nl, isMaxElt, g, zero);
            }
            linalg::YieldOp::create(nb, nl, g);
          })
          .getResult(0);
  if (covered == SmallVector<int64_t>(inType.getShape()))
    return grad;
  return tensor::InsertSliceOp::create(
      b, loc, grad, createZeros(b, loc, inType),
      getAsIndexOpFoldResult(ctx, zeros), getAsIndexOpFoldResult(ctx, covered),
      getAsIndexOpFoldResult(ctx, ones));
}

/// The generic rule on a generalized copy of `op`, for `targets` (operand
/// numbers).
static LogicalResult differentiateAsGeneric(linalg::LinalgOp op,
                                            ArrayRef<unsigned> targets,
                                            Adjoints &adjoints) {
  SmallVector<unsigned> active;
  for (unsigned t : targets)
    if (adjoints.isActive(op->getOperand(t)))
      active.push_back(t);
  if (active.empty())
    return success();
  IRRewriter rewriter(adjoints.builder);
  auto copy = cast<linalg::LinalgOp>(adjoints.builder.clone(*op));
  FailureOr<linalg::GenericOp> generic =
      linalg::generalizeNamedOp(rewriter, copy);
  if (failed(generic))
    return op->emitOpError("could not be generalized for differentiation");
  SmallVector<OpOperand *> operands;
  for (unsigned t : active)
    operands.push_back(&(*generic)->getOpOperand(t));
  LogicalResult result =
      differentiateGeneric(*generic, op->getResult(0), operands, adjoints);
  rewriter.eraseOp(*generic);
  return result;
}

std::optional<LogicalResult>
autodiff::differentiateWindowed(linalg::LinalgOp op, Adjoints &adjoints) {
  const WindowLayout *layout = nullptr;
  bool isConv = false, isMax = false;
  DenseIntElementsAttr stridesAttr, dilationsAttr;
  if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(*op)) {
    layout = &kNCHW, isConv = true;
    stridesAttr = conv.getStrides(), dilationsAttr = conv.getDilations();
  } else if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(*op)) {
    layout = &kNHWC, isConv = true;
    stridesAttr = conv.getStrides(), dilationsAttr = conv.getDilations();
  } else if (auto pool = dyn_cast<linalg::PoolingNchwMaxOp>(*op)) {
    layout = &kNCHW, isMax = true;
    stridesAttr = pool.getStrides(), dilationsAttr = pool.getDilations();
  } else if (auto pool = dyn_cast<linalg::PoolingNhwcMaxOp>(*op)) {
    layout = &kNHWC, isMax = true;
    stridesAttr = pool.getStrides(), dilationsAttr = pool.getDilations();
  } else if (auto pool = dyn_cast<linalg::PoolingNchwSumOp>(*op)) {
    layout = &kNCHW;
    stridesAttr = pool.getStrides(), dilationsAttr = pool.getDilations();
  } else if (auto pool = dyn_cast<linalg::PoolingNhwcSumOp>(*op)) {
    layout = &kNHWC;
    stridesAttr = pool.getStrides(), dilationsAttr = pool.getDilations();
  } else {
    return std::nullopt;
  }
  SmallVector<int64_t> strides = toVector(stridesAttr);
  SmallVector<int64_t> dilations = toVector(dilationsAttr);

  OpBuilder &b = adjoints.builder;
  Location loc = op.getLoc();
  Value input = op.getDpsInputs()[0];
  Value result = op->getResult(0);
  Value gradient = adjoints.get(result);
  if (isConv) {
    Value filter = op.getDpsInputs()[1];
    if (adjoints.isActive(input))
      adjoints.add(input, convInputGradient(b, loc, input, filter, gradient,
                                            *layout, strides, dilations));
    if (adjoints.isActive(filter))
      adjoints.add(filter, convFilterGradient(
                               b, loc, input, filter,
                               adjoints.getFor(result, op, op->getOpOperand(1)),
                               *layout, strides, dilations));
    // The init accumulates: its gradient is the output's.
    unsigned initNumber = op.getDpsInitsMutable()[0].getOperandNumber();
    return differentiateAsGeneric(op, {initNumber}, adjoints);
  }

  if (llvm::any_of(dilations, [](int64_t d) { return d != 1; }))
    return op->emitOpError("with dilations other than 1 cannot be "
                           "differentiated by qtrain-autodiff");
  ArrayRef<int64_t> window =
      cast<RankedTensorType>(op.getDpsInputs()[1].getType()).getShape();
  if (window[0] != strides[0] || window[1] != strides[1])
    return op->emitOpError("with overlapping or gapped windows (strides ")
           << stridesAttr << " differ from the window) cannot be "
           << "differentiated by qtrain-autodiff";
  if (adjoints.isActive(input))
    adjoints.add(input, poolInputGradient(b, loc, input, result, gradient,
                                          isMax, *layout, strides));
  if (adjoints.isActive(op.getDpsInits()[0])) {
    if (isMax)
      return op->emitOpError("cannot differentiate the initial value of a max "
                             "pooling");
    adjoints.add(op.getDpsInits()[0], gradient);
  }
  return success();
}

LogicalResult autodiff::differentiateQConv2D(QConv2DOp op, Adjoints &adjoints) {
  OpBuilder &b = adjoints.builder;
  Location loc = op.getLoc();
  Value g = adjoints.get(op.getResult());
  Type element = cast<RankedTensorType>(g.getType()).getElementType();
  const WindowLayout &layout =
      op.getLayout() == ConvLayout::nchw_fchw ? kNCHW : kNHWC;
  Value input =
      dequantizeCodes(b, loc, element, op.getInput(), op.getInputScale(),
                      op.getInputZeroPoint(), op.getInputFormat(), {});
  Value filter =
      dequantizeCodes(b, loc, element, op.getFilter(), op.getFilterScale(),
                      op.getFilterZeroPoint(), op.getFilterFormat(),
                      op.getFilterGranularityAttr());
  // A transposed filter swaps its two channel dimensions; the rules take
  // the filter as the linalg convolution of the layout reads it, and give
  // its gradient back in the stored order. The permutation is its own
  // inverse.
  SmallVector<int64_t> swapChannels = {0, 1, 2, 3};
  std::swap(swapChannels[layout.filterIn], swapChannels[layout.filterOut]);
  auto transposeFilter = [&](Value v) -> Value {
    if (!op.getTransposeFilter())
      return v;
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape =
        applyPermutation(type.getShape(), swapChannels);
    Value empty = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    return linalg::TransposeOp::create(b, loc, v, empty, swapChannels)
        .getResult()[0];
  };
  filter = transposeFilter(filter);
  if (adjoints.isActive(op.getInput())) {
    FailureOr<Value> source = straightThroughSource(op, op.getInput(), "input");
    if (failed(source))
      return failure();
    adjoints.add(*source,
                 convInputGradient(b, loc, input, filter, g, layout,
                                   op.getStrides(), op.getDilations()));
  }
  if (adjoints.isActive(op.getFilter())) {
    FailureOr<Value> source =
        straightThroughSource(op, op.getFilter(), "filter");
    if (failed(source))
      return failure();
    adjoints.add(*source, transposeFilter(convFilterGradient(
                              b, loc, input, filter, g, layout, op.getStrides(),
                              op.getDilations())));
  }
  return success();
}
