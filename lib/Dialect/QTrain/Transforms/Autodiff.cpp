//===- Autodiff.cpp - qtrain-autodiff -------------------------------------===//
//
// Reverse-mode automatic differentiation of model functions. The gradient
// function recomputes the forward pass (a copy of the model), then visits
// its ops backwards, from the loss to the parameters, building the adjoint
// of every active value before the return.
//
// Why not upstream: MLIR 22 has no reverse-mode differentiation (Enzyme-MLIR
// is out of tree and works on memrefs); training on tensors needs rules that
// know linalg and the qtrain quantizers.
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/SavedActivations.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::autodiff;

/// The gradient of the reshapes, slices and pads of the tensor dialect.
static std::optional<LogicalResult> differentiateTensorOp(Operation *op,
                                                          Adjoints &adjoints) {
  OpBuilder &b = adjoints.builder;
  Location loc = op->getLoc();
  Value g = op->getNumResults() ? adjoints.get(op->getResult(0)) : Value();
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](tensor::ExpandShapeOp expand) {
        adjoints.add(expand.getSrc(), tensor::CollapseShapeOp::create(
                                          b, loc, expand.getSrcType(), g,
                                          expand.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp collapse) {
        adjoints.add(
            collapse.getSrc(),
            tensor::ExpandShapeOp::create(b, loc, collapse.getSrcType(), g,
                                          collapse.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::ExtractSliceOp slice) {
        Value zeros = createZeros(b, loc, slice.getSourceType());
        adjoints.add(slice.getSource(),
                     tensor::InsertSliceOp::create(
                         b, loc, g, zeros, slice.getMixedOffsets(),
                         slice.getMixedSizes(), slice.getMixedStrides()));
        return success();
      })
      .Case([&](tensor::InsertSliceOp insert) {
        if (adjoints.isActive(insert.getSource()))
          adjoints.add(insert.getSource(),
                       tensor::ExtractSliceOp::create(
                           b, loc, insert.getSourceType(), g,
                           insert.getMixedOffsets(), insert.getMixedSizes(),
                           insert.getMixedStrides()));
        if (adjoints.isActive(insert.getDest())) {
          Value zeros = createZeros(b, loc, insert.getSourceType());
          adjoints.add(insert.getDest(),
                       tensor::InsertSliceOp::create(
                           b, loc, zeros, g, insert.getMixedOffsets(),
                           insert.getMixedSizes(), insert.getMixedStrides()));
        }
        return success();
      })
      .Case([&](tensor::PadOp pad) -> LogicalResult {
        if (adjoints.isActive(pad.getConstantPaddingValue()))
          return pad.emitOpError("cannot differentiate its padding value");
        RankedTensorType source = pad.getSourceType();
        SmallVector<OpFoldResult> sizes, strides;
        for (int64_t d : source.getShape()) {
          sizes.push_back(b.getIndexAttr(d));
          strides.push_back(b.getIndexAttr(1));
        }
        adjoints.add(pad.getSource(),
                     tensor::ExtractSliceOp::create(b, loc, source, g,
                                                    pad.getMixedLowPad(), sizes,
                                                    strides));
        return success();
      })
      .Case([&](tensor::CastOp cast) {
        adjoints.add(
            cast.getSource(),
            tensor::CastOp::create(b, loc, cast.getSource().getType(), g));
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// Straight-through, then the backward rounding(s) of the gradient; a
/// delayed one takes its scale from its amax history and records the
/// gradient's amax in the history the gradient function returns.
static LogicalResult differentiateQuantizer(QuantizerOp op,
                                            Adjoints &adjoints) {
  OpBuilder &b = adjoints.builder;
  Location loc = op.getLoc();
  Value input = op.getInput();
  Value g = adjoints.get(op.getResult());
  // Direction 1 is `backward`, 2 `weight_backward`, with streams to match.
  auto round = [&](unsigned direction) -> Value {
    QuantSpecAttr spec = op.getSpecs()[direction];
    if (!spec)
      return g;
    auto [history, forwardValue] = op.getHistory(direction);
    if (history) {
      // Recorded where the gradient is made, beside its codes (made there
      // too): the kernel computing it can take both.
      OpBuilder::InsertionGuard guard(b);
      Operation *producer = g.getDefiningOp();
      if (producer && producer->getBlock() == b.getInsertionBlock())
        b.setInsertionPointAfter(producer);
      adjoints.setStateUpdate(forwardValue,
                              RecordAmaxOp::create(b, loc, g, history));
    }
    return QuantizerOp::buildRounding(b, loc, g, spec, op.getSeed(),
                                      op.getStream() + direction, history);
  };
  if (op.getWeightBackwardAttr()) {
    auto producer = input.getDefiningOp<linalg::LinalgOp>();
    if (!producer || !input.hasOneUse() || producer.getNumDpsInputs() < 2)
      return op.emitOpError("with 'weight_backward' must be the only user of "
                            "a contraction's result");
    adjoints.setWeightGradient(input, round(2));
  }
  adjoints.add(input, round(1));
  return success();
}

/// The float values a code tensor stands for under the straight-through
/// rule: the input of the qtrain.quantize that made the codes.
Value autodiff::dequantizeCodes(OpBuilder &b, Location loc, Type element,
                                Value codes, Value scale, Value zeroPoint,
                                NumericFormatAttrInterface format,
                                GranularityAttr granularity) {
  auto type = cast<RankedTensorType>(codes.getType()).clone(element);
  return DequantizeOp::create(b, loc, type, codes, scale, zeroPoint, format,
                              granularity);
}

FailureOr<Value> autodiff::straightThroughSource(Operation *user, Value codes,
                                                 StringRef operand) {
  if (auto quantize = codes.getDefiningOp<QuantizeOp>())
    return quantize.getInput();
  return user->emitOpError("is differentiated with respect to its ")
         << operand << " only when it is the codes of a qtrain.quantize";
}

/// dA = g * B^T and dB = A^T * g on the dequantized operands, each as
/// stored (transposed or not, with or without the batch dimension), sent
/// straight through the quantizes that made the codes.
static LogicalResult differentiateQMatmul(QMatmulOp op, Adjoints &adjoints) {
  OpBuilder &b = adjoints.builder;
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Value g = adjoints.get(op.getResult());
  auto resultType = cast<RankedTensorType>(g.getType());
  bool batched = resultType.getRank() == 3;
  unsigned numLoops = batched ? 4 : 3; // [b,] m, n, k
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  unsigned m = batched ? 1 : 0, n = m + 1, k = m + 2;
  auto operandMap = [&](unsigned rows, unsigned cols, bool transposed) {
    SmallVector<AffineExpr> exprs;
    if (batched)
      exprs.push_back(d(0));
    exprs.push_back(transposed ? d(cols) : d(rows));
    exprs.push_back(transposed ? d(rows) : d(cols));
    return AffineMap::get(numLoops, 0, exprs, ctx);
  };
  AffineMap lhsMap = operandMap(m, k, op.getTransposeLhs());
  AffineMap rhsMap = operandMap(k, n, op.getTransposeRhs());
  AffineMap gMap = operandMap(m, n, false);
  // The gradient of one operand: the product of g with the other one,
  // summed over the dimension the operand does not index.
  auto gradientOf = [&](Value codes, AffineMap map, Value other,
                        AffineMap otherMap) -> Value {
    auto type = cast<RankedTensorType>(codes.getType())
                    .clone(resultType.getElementType());
    SmallVector<utils::IteratorType> iterators;
    for (unsigned i = 0; i < numLoops; ++i)
      iterators.push_back(map.isFunctionOfDim(i)
                              ? utils::IteratorType::parallel
                              : utils::IteratorType::reduction);
    return linalg::GenericOp::create(
               b, loc, type, ValueRange{g, other}, createZeros(b, loc, type),
               ArrayRef<AffineMap>{gMap, otherMap, map}, iterators,
               [](OpBuilder &nb, Location nl, ValueRange args) {
                 Value p = arith::MulFOp::create(nb, nl, args[0], args[1]);
                 Value sum = arith::AddFOp::create(nb, nl, args[2], p);
                 linalg::YieldOp::create(nb, nl, sum);
               })
        .getResult(0);
  };
  Type element = resultType.getElementType();
  Value lhs = op.getLhs(), rhs = op.getRhs();
  auto dequantizedLhs = [&] {
    return dequantizeCodes(b, loc, element, lhs, op.getLhsScale(),
                           op.getLhsZeroPoint(), op.getLhsFormat(),
                           op.getLhsGranularityAttr());
  };
  auto dequantizedRhs = [&] {
    return dequantizeCodes(b, loc, element, rhs, op.getRhsScale(),
                           op.getRhsZeroPoint(), op.getRhsFormat(),
                           op.getRhsGranularityAttr());
  };
  struct Side {
    Value codes;
    AffineMap map;
    StringRef name;
    function_ref<Value()> other;
    AffineMap otherMap;
  };
  for (const Side &side :
       {Side{lhs, lhsMap, "left operand", dequantizedRhs, rhsMap},
        Side{rhs, rhsMap, "right operand", dequantizedLhs, lhsMap}}) {
    if (!adjoints.isActive(side.codes))
      continue;
    FailureOr<Value> source = straightThroughSource(op, side.codes, side.name);
    if (failed(source))
      return failure();
    adjoints.add(*source,
                 gradientOf(side.codes, side.map, side.other(), side.otherMap));
  }
  return success();
}

/// Adds the gradient of the operands of `op`.
static LogicalResult differentiateOp(Operation *op, Adjoints &adjoints) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return differentiateGeneric(generic, adjoints);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    if (std::optional<LogicalResult> r =
            differentiateWindowed(linalgOp, adjoints))
      return *r;
  if (std::optional<LogicalResult> r = differentiateTensorOp(op, adjoints))
    return *r;
  if (auto round = dyn_cast<RoundOp>(op)) {
    // Straight-through: rounding passes the gradient unchanged.
    adjoints.add(round.getInput(), adjoints.get(round.getResult()));
    return success();
  }
  if (auto quantizer = dyn_cast<QuantizerOp>(op))
    return differentiateQuantizer(quantizer, adjoints);
  if (auto dequantize = dyn_cast<DequantizeOp>(op)) {
    // Straight-through over a quantize/dequantize pair: codes have no
    // gradient of their own, so it goes to the quantized float values.
    FailureOr<Value> source =
        straightThroughSource(op, dequantize.getInput(), "input");
    if (failed(source))
      return failure();
    adjoints.add(*source, adjoints.get(dequantize.getResult()));
    return success();
  }
  if (auto qmatmul = dyn_cast<QMatmulOp>(op))
    return differentiateQMatmul(qmatmul, adjoints);
  if (auto qconv = dyn_cast<QConv2DOp>(op))
    return differentiateQConv2D(qconv, adjoints);
  return op->emitOpError("cannot be differentiated by qtrain-autodiff");
}

/// Brings the copied forward pass to the forms the rules know: tensor
/// arithmetic as linalg.generic, named linalg ops (except convolutions and
/// poolings, which have their own rules) generalized.
static LogicalResult canonicalizeForward(
    func::FuncOp func,
    function_ref<LogicalResult(OpPassManager &, Operation *)> runPipeline) {
  OpPassManager pm(func::FuncOp::getOperationName());
  pm.addPass(createConvertElementwiseToLinalgPass());
  if (failed(runPipeline(pm, func)))
    return failure();
  IRRewriter rewriter(func.getContext());
  SmallVector<linalg::LinalgOp> named;
  func.walk([&](linalg::LinalgOp op) {
    if (!isa<linalg::GenericOp, linalg::FillOp>(op) &&
        !isa<linalg::ConvolutionOpInterface>(*op))
      named.push_back(op);
  });
  for (linalg::LinalgOp op : named) {
    rewriter.setInsertionPoint(op);
    // A generalized layer keeps its name, so later passes still see it.
    std::optional<std::string> layer;
    if (isLayerOp(op))
      layer = getLayerName(op);
    FailureOr<linalg::GenericOp> generic =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generic))
      return op->emitOpError("could not be generalized for differentiation");
    if (layer)
      (*generic)->setAttr(QTrainDialect::getLayerAttrName(),
                          rewriter.getStringAttr(*layer));
  }
  return success();
}

/// Values that depend on a parameter.
static DenseSet<Value> findActiveValues(func::FuncOp func) {
  DenseSet<Value> active;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (getArgRole(func, i) == ArgRole::parameter)
      active.insert(func.getArgument(i));
  for (Operation &op : func.getBody().front())
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      active.insert(op.getResults().begin(), op.getResults().end());
  return active;
}

static LogicalResult differentiate(
    func::FuncOp model, bool lossScale,
    function_ref<LogicalResult(OpPassManager &, Operation *)> runPipeline) {
  if (!model.getBody().hasOneBlock())
    return model.emitOpError("a model must have a single block");
  auto ret = cast<func::ReturnOp>(model.getBody().front().getTerminator());
  SmallVector<Type> expected = {Type()};
  for (BlockArgument state : getArgsWithRole(model, ArgRole::state))
    expected.push_back(state.getType());
  auto lossType = ret.getNumOperands() == expected.size()
                      ? dyn_cast<RankedTensorType>(ret.getOperand(0).getType())
                      : RankedTensorType();
  if (!lossType || lossType.getRank() != 0 ||
      !(lossType.getElementType().isF32() ||
        lossType.getElementType().isF64()) ||
      TypeRange(ret.getOperandTypes()).drop_front() !=
          TypeRange(expected).drop_front())
    return model.emitOpError("a model must return one scalar loss "
                             "(tensor<f32> or tensor<f64>), then the next "
                             "value of each #qtrain<role state> argument, "
                             "not ")
           << ret.getOperandTypes();
  if (lossScale && !lossType.getElementType().isF32())
    return model.emitOpError("loss scaling needs an f32 loss");

  std::string name = (model.getName() + "_grad").str();
  if (SymbolTable::lookupNearestSymbolFrom(
          model, StringAttr::get(model.getContext(), name)))
    return model.emitOpError("cannot add '")
           << name << "': a symbol of that name exists";
  OpBuilder builder(model);
  builder.setInsertionPointAfter(model);
  auto grad = cast<func::FuncOp>(builder.clone(*model));
  grad.setName(name);
  grad->setAttr(QTrainDialect::getGradientOfAttrName(),
                FlatSymbolRefAttr::get(model));
  Block &body = grad.getBody().front();
  Value lossScaleArg;
  if (lossScale)
    lossScaleArg =
        addArgWithRole(grad, lossType, ArgRole::loss_scale, model.getLoc());
  if (failed(canonicalizeForward(grad, runPipeline)))
    return failure();

  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    forward.push_back(&op);
  auto gradRet = cast<func::ReturnOp>(body.getTerminator());
  Value loss = gradRet.getOperand(0);
  builder.setInsertionPoint(gradRet);
  Adjoints adjoints(builder, findActiveValues(grad));
  Location loc = gradRet.getLoc();
  Value seed = lossScaleArg;
  if (!seed) {
    Value empty = tensor::EmptyOp::create(builder, loc, ArrayRef<int64_t>{},
                                          lossType.getElementType());
    Value one = arith::ConstantOp::create(
        builder, loc, builder.getFloatAttr(lossType.getElementType(), 1.0));
    seed = linalg::FillOp::create(builder, loc, one, empty).getResult(0);
  }
  adjoints.add(loss, seed);

  for (Operation *op : llvm::reverse(forward)) {
    if (llvm::none_of(op->getResults(),
                      [&](Value r) { return adjoints.get(r); }))
      continue;
    if (failed(differentiateOp(op, adjoints)))
      return failure();
  }

  SmallVector<Value> results = {loss};
  for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i) {
    if (getArgRole(model, i) != ArgRole::parameter)
      continue;
    Value arg = grad.getArgument(i);
    Value g = adjoints.get(arg);
    results.push_back(
        g ? g
          : createZeros(builder, loc, cast<RankedTensorType>(arg.getType())));
  }
  for (Value next : gradRet.getOperands().drop_front())
    results.push_back(adjoints.getStateUpdate(next));
  func::ReturnOp::create(builder, loc, results);
  gradRet.erase();
  grad.setFunctionType(builder.getFunctionType(grad.getArgumentTypes(),
                                               ValueRange(results).getTypes()));

  // Gradients nobody needs (of inputs, say) go before the count.
  DenseSet<Operation *> forwardSet(forward.begin(), forward.end());
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (!forwardSet.contains(&op) && isOpTriviallyDead(&op))
      op.erase();
  recordSavedActivationBytes(grad);

  // Gradient generics take every input of their primal op; drop those
  // their bodies do not read.
  RewritePatternSet patterns(grad.getContext());
  linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
  return applyPatternsGreedily(grad, std::move(patterns));
}

namespace {
struct AutodiffPass : mlir::qtrain::impl::AutodiffPassBase<AutodiffPass> {
  using AutodiffPassBase::AutodiffPassBase;

  void runOnOperation() override {
    SmallVector<func::FuncOp> models;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (isModel(func))
        models.push_back(func);
    auto run = [&](OpPassManager &pm, Operation *op) {
      return runPipeline(pm, op);
    };
    for (func::FuncOp model : models)
      if (failed(differentiate(model, lossScale, run)))
        return signalPassFailure();
  }
};
} // namespace
