//===- CompressActivations.cpp - qtrain-compress-activations --------------===//
//
// Approximate activations (Chakrabarti & Moseley 2019) on gradient
// functions: codes of each batch-norm + ReLU unit are computed right after
// the unit in the forward half, decoded where the backward half begins, and
// the backward half's reads of the unit's values are redirected to the
// decoded ones, so the f32 values die with the forward half. The code
// arithmetic is `qtrain.quantize` / `qtrain.dequantize` with per-channel
// scales and zero points (docs/numerics.md), not a kernel of its own.
//
// Post-activation residual blocks end in a batch norm without ReLU whose
// output meets the skip in `max(a + skip, 0)`. The reference method only
// knows pre-activation blocks; here such a unit keeps two sets of codes:
// those of its centered values (for the batch-norm gradient) and those of
// the block's output on [0, amax] per channel, whose code 0 is exactly the
// ReLU's zero (for its mask and for the layers after it).
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/SavedActivations.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_COMPRESSACTIVATIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {

/// A batch-norm + ReLU unit `max(c * i * g + b, 0)`, or a batch norm
/// `a = c * i * g + b` whose output a residual `max(a + skip, 0)` reads.
struct Unit {
  linalg::GenericOp apply;
  Value centered, inverse, scale, shift; // c, i, g, b
  unsigned channel;                      // dimension of c indexing i, g, b
  bool relu;                             // whether `apply` ends in the ReLU
  linalg::GenericOp residual;            // set by the pass where !relu
  unsigned skipIndex = 0;                // which input of `residual` is skip
};

/// `v` for a body value `max(v, 0)`, else null.
Value matchRelu(Value yielded) {
  Operation *max = yielded.getDefiningOp();
  if (!isa_and_nonnull<arith::MaximumFOp, arith::MaxNumFOp>(max))
    return Value();
  Value v = max->getOperand(0), zero = max->getOperand(1);
  if (!matchPattern(zero, m_AnyZeroFloat()))
    std::swap(v, zero);
  return matchPattern(zero, m_AnyZeroFloat()) ? v : Value();
}

/// An elementwise generic of static f32 tensors with `inputs` inputs.
bool isElementwiseF32(linalg::GenericOp op, unsigned inputs) {
  if (op.getNumDpsInputs() != inputs || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  auto type = dyn_cast<RankedTensorType>(op.getResult(0).getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

std::optional<Unit> matchUnit(linalg::GenericOp op) {
  if (!isElementwiseF32(op, 4))
    return std::nullopt;
  auto type = cast<RankedTensorType>(op.getResult(0).getType());
  Block &body = *op.getBlock();
  Value v = body.getTerminator()->getOperand(0);
  Value beforeRelu = matchRelu(v);
  if (beforeRelu)
    v = beforeRelu;
  // v = c * i * g + b, with c read through the identity and i, g, b through
  // one single-dimension map.
  auto add = v.getDefiningOp<arith::AddFOp>();
  auto outer = add ? add.getLhs().getDefiningOp<arith::MulFOp>() : nullptr;
  Value shiftArg = add ? add.getRhs() : Value();
  if (add && !outer) {
    outer = add.getRhs().getDefiningOp<arith::MulFOp>();
    shiftArg = add.getLhs();
  }
  if (!outer)
    return std::nullopt;
  auto inner = outer.getLhs().getDefiningOp<arith::MulFOp>();
  Value scaleArg = outer.getRhs();
  if (!inner) {
    inner = outer.getRhs().getDefiningOp<arith::MulFOp>();
    scaleArg = outer.getLhs();
  }
  if (!inner)
    return std::nullopt;
  SmallVector<Value> args = {inner.getLhs(), inner.getRhs(), scaleArg,
                             shiftArg};
  SmallVector<OpOperand *> operands;
  for (Value arg : args) {
    auto blockArg = dyn_cast<BlockArgument>(arg);
    if (!blockArg || blockArg.getOwner() != &body ||
        blockArg.getArgNumber() >= 4)
      return std::nullopt;
    operands.push_back(op.getDpsInputOperand(blockArg.getArgNumber()));
  }
  // Which of the product's factors is the full tensor.
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(type.getRank(), op.getContext());
  if (op.getMatchingIndexingMap(operands[0]) != identity)
    std::swap(operands[0], operands[1]);
  if (op.getMatchingIndexingMap(operands[0]) != identity ||
      op.getMatchingIndexingMap(op.getDpsInitOperand(0)) != identity)
    return std::nullopt;
  AffineMap channelMap = op.getMatchingIndexingMap(operands[1]);
  if (channelMap.getNumResults() != 1 ||
      !isa<AffineDimExpr>(channelMap.getResult(0)))
    return std::nullopt;
  for (OpOperand *operand : ArrayRef(operands).drop_front(2))
    if (op.getMatchingIndexingMap(operand) != channelMap)
      return std::nullopt;
  if (llvm::is_contained(args, Value()) ||
      llvm::count(ArrayRef(operands), operands[0]) != 1)
    return std::nullopt;
  return Unit{op,
              operands[0]->get(),
              operands[1]->get(),
              operands[2]->get(),
              operands[3]->get(),
              cast<AffineDimExpr>(channelMap.getResult(0)).getPosition(),
              bool(beforeRelu),
              /*residual=*/nullptr};
}

/// Whether `op` is the residual `max(x0 + x1, 0)` over identity maps.
bool isResidualRelu(linalg::GenericOp op) {
  if (!isElementwiseF32(op, 2) ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return false;
  Block &body = *op.getBlock();
  Value sum = matchRelu(body.getTerminator()->getOperand(0));
  auto add = sum ? sum.getDefiningOp<arith::AddFOp>() : nullptr;
  return add && llvm::is_contained(add->getOperands(), body.getArgument(0)) &&
         llvm::is_contained(add->getOperands(), body.getArgument(1));
}

struct CompressActivationsPass
    : mlir::qtrain::impl::CompressActivationsPassBase<CompressActivationsPass> {
  using CompressActivationsPassBase::CompressActivationsPassBase;

  void runOnOperation() override;
  void compress(func::FuncOp grad);
};

} // namespace

static Value constantF32(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// Per channel, from i, g and b: the quantization scale D / i and the zero
/// points of the codes (b / g) / D + s - 1 and of their bin centres, half a
/// code above.
static SmallVector<Value> buildCodeParameters(OpBuilder &b, Location loc,
                                              const Unit &unit,
                                              int64_t levels) {
  auto type = cast<RankedTensorType>(unit.inverse.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  SmallVector<Value> inits(
      3, tensor::EmptyOp::create(b, loc, type.getShape(), b.getF32Type()));
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{type, type, type},
      ValueRange{unit.inverse, unit.scale, unit.shift}, inits,
      SmallVector<AffineMap>(6, id),
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value inverse = args[0], g = args[1], shift = args[2];
        double bin = 6.0 / double(levels);
        // A zero scale would make the shift infinite; its unit's output and
        // gradients do not depend on the codes then.
        Value zero = constantF32(nb, nl, 0.0);
        Value isZero =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, g, zero);
        g = arith::SelectOp::create(nb, nl, isZero, constantF32(nb, nl, 1e-8),
                                    g);
        Value offset = arith::DivFOp::create(
            nb, nl, arith::DivFOp::create(nb, nl, shift, g),
            constantF32(nb, nl, bin));
        Value s = arith::MaximumFOp::create(
            nb, nl, constantF32(nb, nl, 1.0),
            arith::SubFOp::create(nb, nl, constantF32(nb, nl, levels / 2),
                                  math::FloorOp::create(nb, nl, offset)));
        Value scale =
            arith::DivFOp::create(nb, nl, constantF32(nb, nl, bin), inverse);
        Value codeZero = arith::AddFOp::create(
            nb, nl, offset,
            arith::SubFOp::create(nb, nl, s, constantF32(nb, nl, 1.0)));
        Value centreZero =
            arith::AddFOp::create(nb, nl, codeZero, constantF32(nb, nl, 0.5));
        linalg::YieldOp::create(nb, nl,
                                ValueRange{scale, codeZero, centreZero});
      });
  return SmallVector<Value>(op.getResults());
}

/// `f` applied to each element of `x`.
static Value mapElements(OpBuilder &b, Location loc, Value x,
                         function_ref<Value(OpBuilder &, Location, Value)> f) {
  auto type = cast<RankedTensorType>(x.getType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return linalg::GenericOp::create(
             b, loc, type, x,
             tensor::EmptyOp::create(b, loc, type.getShape(),
                                     type.getElementType())
                 .getResult(),
             ArrayRef<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(type.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, f(nb, nl, args[0]));
             })
      .getResult(0);
}

/// `codes` clamped to the `levels` codes of the narrower format.
static Value clampCodes(OpBuilder &b, Location loc, Value codes,
                        int64_t levels) {
  return mapElements(b, loc, codes, [&](OpBuilder &nb, Location nl, Value q) {
    Value top = arith::ConstantIntOp::create(nb, nl, q.getType(), levels - 1);
    return arith::MinUIOp::create(nb, nl, q, top).getResult();
  });
}

static Value relu(OpBuilder &b, Location loc, Value x) {
  return mapElements(b, loc, x, [](OpBuilder &nb, Location nl, Value v) {
    Value zero = constantF32(nb, nl, 0.0);
    return arith::MaximumFOp::create(nb, nl, v, zero).getResult();
  });
}

/// `v` itself or seen through reshapes and casts.
static Value throughViews(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::CastOp>(
            def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

void CompressActivationsPass::compress(func::FuncOp grad) {
  Block &body = grad.getBody().front();
  Operation *ret = body.getTerminator();
  Operation *lossDef = getLossDefinition(grad);
  if (!lossDef)
    return;
  auto isBackward = [&](OpOperand &use) {
    Operation *owner = body.findAncestorOpInBlock(*use.getOwner());
    return owner && lossDef->isBeforeInBlock(owner) && owner != ret;
  };
  auto hasBackwardUse = [&](Value v) {
    return llvm::any_of(v.getUses(), isBackward);
  };

  // The units outside exempt layers, and the last layer's input (for
  // keep-last).
  llvm::StringSet<> exempted(llvm::from_range, exempt);
  SmallVector<Unit> units;
  Value lastInput;
  walkForward(grad, [&](Operation *op, StringRef layer) {
    if (isLayerOp(op))
      lastInput = throughViews(op->getOperand(0));
    auto generic = dyn_cast<linalg::GenericOp>(op);
    std::optional<Unit> unit = generic ? matchUnit(generic) : std::nullopt;
    if (!unit || exempted.contains(layer))
      return;
    if (!unit->relu) {
      // Only as the residual's input, which must be its only forward use.
      Value a = unit->apply.getResult(0);
      auto forwardUses = llvm::make_filter_range(
          a.getUses(), [&](OpOperand &use) { return !isBackward(use); });
      if (!llvm::hasSingleElement(forwardUses))
        return;
      OpOperand &use = *forwardUses.begin();
      unit->residual = dyn_cast<linalg::GenericOp>(use.getOwner());
      if (!unit->residual || !isResidualRelu(unit->residual) ||
          unit->residual.getDpsInputOperand(0)->get() ==
              unit->residual.getDpsInputOperand(1)->get())
        return;
      unit->skipIndex = 1 - use.getOperandNumber();
    }
    units.push_back(*unit);
  });

  int64_t levels = int64_t(1) << bits;
  int64_t before = 0, after = 0;
  for (const SavedActivation &saved : findSavedActivations(grad))
    before += saved.bytes;
  MLIRContext *ctx = &getContext();
  auto format = IntFormatAttr::get(ctx, 8, Signedness::Unsigned);
  // Last unit first: a residual unit stops its gradients from reading the
  // skip, so the unit that computed the skip is decoded later.
  for (Unit &unit : llvm::reverse(units)) {
    Value output =
        unit.residual ? unit.residual.getResult(0) : unit.apply.getResult(0);
    // The output as the forward half uses it: through reshapes,
    // backward-only quantizers, poolings and pads, all cheap to recompute.
    SmallVector<Value> outputs = {output};
    for (unsigned i = 0; i < outputs.size(); ++i)
      for (Operation *user : outputs[i].getUsers()) {
        auto quantizer = dyn_cast<QuantizerOp>(user);
        bool view = (quantizer && !quantizer.getForwardAttr()) ||
                    isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(user);
        bool pool = isa<linalg::PoolingNchwMaxOp, linalg::PoolingNhwcMaxOp,
                        linalg::PoolingNchwSumOp, linalg::PoolingNhwcSumOp,
                        tensor::PadOp>(user) &&
                    user->getOperand(0) == outputs[i];
        if ((view || pool) && !isBackward(user->getOpOperand(0)))
          outputs.push_back(user->getResult(0));
      }
    // Codes pay off only if some f32 value the backward half reads can be
    // freed after the forward half: the centered values (unless the caller
    // owns them), or an output that does not stay exact for the last layer.
    bool frees =
        !isa<BlockArgument>(unit.centered) && hasBackwardUse(unit.centered);
    for (Value v : outputs)
      frees |= hasBackwardUse(v) && !(keepLast && throughViews(v) == lastInput);
    if (!frees)
      continue;
    // The residual's gradients (qtrain-autodiff's generic rule: the primal
    // inputs first, then the output gradient) read the batch norm's output
    // and the skip only through the sign of their sum: they are rebuilt from
    // the output's codes and zeros, so every backward read of the batch
    // norm's output must be one of them.
    SmallVector<linalg::GenericOp> residualGradients;
    if (unit.residual) {
      unsigned outputIndex = 1 - unit.skipIndex;
      bool rebuildable = true;
      for (OpOperand &use : unit.apply.getResult(0).getUses()) {
        if (!isBackward(use))
          continue;
        auto gradient = dyn_cast<linalg::GenericOp>(use.getOwner());
        rebuildable &= gradient && gradient.getNumDpsInputs() >= 2 &&
                       use.getOperandNumber() == outputIndex &&
                       gradient.getIndexingMapsArray()[unit.skipIndex] ==
                           unit.residual.getIndexingMapsArray()[0];
        if (rebuildable)
          residualGradients.push_back(gradient);
      }
      if (!rebuildable) {
        unit.apply.emitRemark("kept exact: the residual after this batch "
                              "norm has a gradient this pass does not know");
        continue;
      }
    }
    auto type = cast<RankedTensorType>(unit.centered.getType());
    if (bits == 4 && type.getShape().back() % 2 != 0) {
      unit.apply.emitRemark("kept exact: 4-bit codes are packed in pairs "
                            "along the innermost dimension, which is odd");
      continue;
    }
    Location loc = unit.apply.getLoc();
    auto granularity = GranularityAttr::get(ctx, GranularityKind::per_channel,
                                            unit.channel, 0);
    auto rounding = RoundingModeAttr::get(ctx, RoundingMode::upward);
    auto overflow = OverflowModeAttr::get(ctx, OverflowMode::saturate);

    // Codes as the forward half stores them (4-bit ones packed), and back.
    OpBuilder b(unit.apply);
    auto codeType = type.clone(b.getI8Type());
    auto encode = [&](Value x, Value scale, Value zeroPoint) -> Value {
      Value codes = QuantizeOp::create(b, loc, codeType, x, scale, zeroPoint,
                                       Value(), format, rounding, overflow,
                                       granularity, b.getI32IntegerAttr(0));
      if (bits != 4)
        return codes;
      SmallVector<int64_t> packedShape(type.getShape());
      packedShape.back() /= 2;
      return PackOp::create(b, loc, type.clone(packedShape, b.getI8Type()),
                            clampCodes(b, loc, codes, levels))
          .getResult();
    };
    auto decode = [&](Value stored, Value scale, Value zeroPoint) -> Value {
      if (bits == 4)
        stored = UnpackOp::create(b, loc, codeType, stored);
      return DequantizeOp::create(b, loc, type, stored, scale, zeroPoint,
                                  format, granularity)
          .getResult();
    };

    b.setInsertionPointAfter(unit.apply);
    SmallVector<Value> params = buildCodeParameters(b, loc, unit, levels);
    Value storedCentered = encode(unit.centered, params[0], params[1]);
    Value step, storedOutput;
    if (unit.residual) {
      // The output's codes: ceil(r / step) with step = amax / (2^K - 1) per
      // channel, so only r = 0 gets code 0.
      b.setInsertionPointAfter(unit.residual);
      auto channels = RankedTensorType::get({type.getDimSize(unit.channel)},
                                            b.getF32Type());
      auto absmax = ScalingAttr::get(ctx, ScaleMethod::absmax, granularity, 0);
      step = ComputeScaleOp::create(
                 b, loc, channels, Type(), output,
                 IntFormatAttr::get(ctx, bits, Signedness::Unsigned), absmax)
                 .getScale();
      storedOutput = encode(output, step, Value());
    }

    // Decoded where the backward half first reads the unit, not where it
    // begins: decoded f32 values are as large as the exact ones, and
    // decoding every unit up front would hold them all at once.
    Operation *firstRead = ret;
    SmallVector<Value> readValues(outputs);
    readValues.push_back(unit.centered);
    readValues.push_back(unit.apply.getResult(0));
    for (Value v : readValues)
      for (OpOperand &use : v.getUses())
        if (isBackward(use)) {
          Operation *user = body.findAncestorOpInBlock(*use.getOwner());
          if (user->isBeforeInBlock(firstRead))
            firstRead = user;
        }
    b.setInsertionPoint(firstRead);
    Value centered = decode(storedCentered, params[0], params[2]);
    IRMapping decoded;
    decoded.map(unit.centered, centered);
    SmallVector<Value> approximations;
    for (Value v : outputs) {
      if (v == output && unit.residual) {
        // Bin centres (q - 1/2) step, and 0 for code 0.
        auto channels = cast<RankedTensorType>(step.getType());
        Value half = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(channels, b.getF32FloatAttr(0.5)));
        Value approximate = relu(b, loc, decode(storedOutput, step, half));
        decoded.map(v, approximate);
        approximations.push_back(approximate);
        continue;
      }
      Operation *copy = b.clone(*v.getDefiningOp(), decoded);
      decoded.map(v, copy->getResult(0));
      approximations.push_back(copy->getResult(0));
    }

    // Backward reads of the last layer's input stay exact under keep-last,
    // except those of a pooling gradient, which compares the pooling's
    // result with its (approximate) input.
    for (auto [index, exact, approximate] :
         llvm::enumerate(outputs, approximations)) {
      auto readsEarlierOutput = [&, index = index](Operation *user) {
        return llvm::any_of(user->getOperands(), [&](Value operand) {
          if (auto slice = operand.getDefiningOp<tensor::ExtractSliceOp>())
            operand = slice.getSource();
          return llvm::is_contained(ArrayRef(outputs).take_front(index),
                                    operand) ||
                 llvm::is_contained(ArrayRef(approximations).take_front(index),
                                    operand);
        });
      };
      bool keep = keepLast && throughViews(exact) == lastInput;
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : exact.getUses()) {
        Operation *user = body.findAncestorOpInBlock(*use.getOwner());
        if (isBackward(use) && user != approximate.getDefiningOp() &&
            (!keep || readsEarlierOutput(user)))
          uses.push_back(&use);
      }
      for (OpOperand *use : uses)
        use->set(approximate);
    }
    unit.centered.replaceUsesWithIf(centered, isBackward);
    if (unit.residual) {
      Value skip = unit.residual.getDpsInputs()[unit.skipIndex];
      Value zeros =
          autodiff::createZeros(b, loc, cast<RankedTensorType>(skip.getType()));
      for (linalg::GenericOp gradient : residualGradients) {
        gradient->setOperand(1 - unit.skipIndex, approximations.front());
        gradient->setOperand(unit.skipIndex, zeros);
      }
    }
  }
  // Copies nobody reads (an output the backward half did not use).
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (lossDef->isBeforeInBlock(&op) && isOpTriviallyDead(&op))
      op.erase();

  recordSavedActivationBytes(grad);
  after =
      grad->getAttrOfType<IntegerAttr>(QTrainDialect::getSavedBytesAttrName())
          .getInt();
  grad.emitRemark() << "activations saved for backward: " << before
                    << " bytes exact, " << after << " bytes with "
                    << int64_t(bits) << "-bit batch-norm units";
}

void CompressActivationsPass::runOnOperation() {
  if (bits != 4 && bits != 8) {
    getOperation().emitError()
        << "qtrain-compress-activations: bits must be 4 or 8, got "
        << int64_t(bits);
    return signalPassFailure();
  }
  for (auto func : getOperation().getOps<func::FuncOp>())
    if (func->hasAttr(QTrainDialect::getGradientOfAttrName()))
      compress(func);
}
