//===- Optimizer.cpp - qtrain-optimizer -----------------------------------===//
//
// Builds `@<model>_step` around `@<model>_grad`: a call to the gradient
// function, the SGD update of each parameter in one element-wise generic
// (plus the rounding of the master-weight form), and, with dynamic loss
// scaling, a finiteness test whose result selects between the updated and
// the old values, so that the step stays a pure, branch-free function.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_OPTIMIZERPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

/// Stochastic rounding streams of the weight update, clear of the streams
/// qtrain-quantize-training gives quantizers (4 per quantizer from 0).
static constexpr int32_t kUpdateStreamBase = 1 << 24;

namespace {
/// Builds element-wise generics over tensors of one shape, with rank-0
/// tensors (scalars such as the learning rate) broadcast.
struct ElementwiseBuilder {
  OpBuilder &b;
  Location loc;

  SmallVector<Value>
  build(RankedTensorType type, ValueRange inputs, TypeRange resultElements,
        function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
            body) {
    MLIRContext *ctx = b.getContext();
    unsigned rank = type.getRank();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap scalar = AffineMap::get(rank, 0, {}, ctx);
    SmallVector<AffineMap> maps;
    for (Value v : inputs)
      maps.push_back(cast<RankedTensorType>(v.getType()).getRank() == 0 &&
                             rank != 0
                         ? scalar
                         : id);
    SmallVector<Value> inits;
    SmallVector<Type> resultTypes;
    for (Type element : resultElements) {
      inits.push_back(
          tensor::EmptyOp::create(b, loc, type.getShape(), element));
      resultTypes.push_back(type.clone(element));
      maps.push_back(id);
    }
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto op = linalg::GenericOp::create(
        b, loc, resultTypes, inputs, inits, maps, parallel,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, body(nb, nl, args));
        });
    return SmallVector<Value>(op.getResults());
  }
};

struct OptimizerPass : mlir::qtrain::impl::OptimizerPassBase<OptimizerPass> {
  using OptimizerPassBase::OptimizerPassBase;

  void runOnOperation() override;
  LogicalResult buildStep(func::FuncOp grad);
};
} // namespace

static Value constant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

/// A rank-0 tensor holding whether every gradient is finite: the sum of
/// `g - g` over all gradients is 0 exactly when none holds an inf or NaN.
static Value allFinite(OpBuilder &b, Location loc, ValueRange gradients) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, f32);
  Value sum = linalg::FillOp::create(b, loc, constant(b, loc, f32, 0.0), empty)
                  .getResult(0);
  for (Value g : gradients) {
    auto type = cast<RankedTensorType>(g.getType());
    unsigned rank = type.getRank();
    SmallVector<utils::IteratorType> reduction(rank,
                                               utils::IteratorType::reduction);
    sum = linalg::GenericOp::create(
              b, loc, sum.getType(), g, sum,
              ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                  AffineMap::get(rank, 0, {}, ctx)},
              reduction,
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value d = arith::SubFOp::create(nb, nl, args[0], args[0]);
                if (d.getType() != f32)
                  d = arith::TruncFOp::create(nb, nl, f32, d);
                Value s = arith::AddFOp::create(nb, nl, args[1], d);
                linalg::YieldOp::create(nb, nl, s);
              })
              .getResult(0);
  }
  ElementwiseBuilder eb{b, loc};
  return eb.build(cast<RankedTensorType>(sum.getType()), sum, b.getI1Type(),
                  [&](OpBuilder &nb, Location nl, ValueRange args) {
                    Value zero = constant(nb, nl, f32, 0.0);
                    return SmallVector<Value>{arith::CmpFOp::create(
                        nb, nl, arith::CmpFPredicate::OEQ, args[0], zero)};
                  })[0];
}

LogicalResult OptimizerPass::buildStep(func::FuncOp grad) {
  MLIRContext *ctx = &getContext();
  auto model = grad->getAttrOfType<FlatSymbolRefAttr>(
      QTrainDialect::getGradientOfAttrName());
  std::string name = (model.getValue() + "_step").str();
  if (SymbolTable::lookupNearestSymbolFrom(grad, StringAttr::get(ctx, name)))
    return grad.emitOpError("cannot add '")
           << name << "': a symbol of that name exists";
  BlockArgument lossScaleArg = getArgWithRole(grad, ArgRole::loss_scale);
  if (lossScaling && !lossScaleArg)
    return grad.emitOpError("loss scaling needs the loss-scale argument of "
                            "qtrain-autodiff=loss-scale");

  // The step's arguments: the gradient function's, less the loss scale,
  // then the seed (if the update needs one), the learning rate and the
  // state.
  OpBuilder b(grad);
  b.setInsertionPointAfter(grad);
  Location loc = grad.getLoc();
  auto step = func::FuncOp::create(b, loc, name, b.getFunctionType({}, {}));
  Block *entry = step.addEntryBlock();
  SmallVector<Value> callArgs;
  SmallVector<BlockArgument> params;
  for (BlockArgument arg : grad.getArguments()) {
    if (arg == lossScaleArg) {
      callArgs.push_back(Value()); // filled in below
      continue;
    }
    (void)step.insertArgument(step.getNumArguments(), arg.getType(),
                              grad.getArgAttrDict(arg.getArgNumber()),
                              arg.getLoc());
    BlockArgument stepArg = step.getArgument(step.getNumArguments() - 1);
    callArgs.push_back(stepArg);
    if (getArgRole(grad, arg.getArgNumber()) == ArgRole::parameter)
      params.push_back(stepArg);
  }
  Value seed = getArgWithRole(step, ArgRole::seed);
  if (masterWeights == MasterWeights::f16Stochastic && !seed)
    seed = addArgWithRole(step, b.getI64Type(), ArgRole::seed, loc);
  auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
  Value lr = addArgWithRole(step, scalarF32, ArgRole::learning_rate, loc);
  SmallVector<Value> momenta, residuals;
  for (BlockArgument p : params) {
    momenta.push_back(addArgWithRole(step, p.getType(), ArgRole::state, loc));
    if (masterWeights == MasterWeights::f8PlusResidual)
      residuals.push_back(
          addArgWithRole(step, p.getType(), ArgRole::state, loc));
  }
  Value scale, clean;
  if (lossScaling) {
    scale = addArgWithRole(step, scalarF32, ArgRole::state, loc);
    clean = addArgWithRole(step, scalarF32, ArgRole::state, loc);
  }

  b.setInsertionPointToStart(entry);
  ElementwiseBuilder eb{b, loc};
  if (lossScaleArg) {
    Value one = scale;
    if (!one) {
      Value empty =
          tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getF32Type());
      one = linalg::FillOp::create(b, loc,
                                   constant(b, loc, b.getF32Type(), 1.0), empty)
                .getResult(0);
    }
    callArgs[lossScaleArg.getArgNumber()] = one;
  }
  auto call = func::CallOp::create(b, loc, grad, callArgs);
  Value loss = call.getResult(0);
  ValueRange gradients = call.getResults().slice(1, params.size());
  Value ok = lossScaling ? allFinite(b, loc, gradients) : Value();

  // The model's state first, then the optimizer's.
  SmallVector<Value> newParams,
      newState(call.getResults().drop_front(1 + params.size()));
  for (auto [index, p] : llvm::enumerate(params)) {
    size_t k = index;
    auto type = cast<RankedTensorType>(p.getType());
    Type element = type.getElementType();
    if (masterWeights != MasterWeights::f32 && !element.isF32())
      return grad.emitOpError("master weights other than f32 need f32 "
                              "parameters, got ")
             << type;
    Value residual = residuals.empty() ? Value() : residuals[k];
    SmallVector<Value> inputs = {p, gradients[k], momenta[k], lr};
    if (scale)
      inputs.push_back(scale);
    if (residual)
      inputs.push_back(residual);
    SmallVector<Value> updated = eb.build(
        type, inputs, {element, element},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          auto asElement = [&](Value v) -> Value {
            return v.getType() == element
                       ? v
                       : arith::ExtFOp::create(nb, nl, element, v);
          };
          Value w = args[0], g = args[1], v = args[2];
          Value rate = asElement(args[3]);
          if (residual)
            w = arith::AddFOp::create(nb, nl, w, args[scale ? 5 : 4]);
          if (scale)
            g = arith::DivFOp::create(nb, nl, g, asElement(args[4]));
          if (weightDecay != 0.0)
            g = arith::AddFOp::create(
                nb, nl, g,
                arith::MulFOp::create(
                    nb, nl, constant(nb, nl, element, weightDecay), w));
          Value vNew = arith::AddFOp::create(
              nb, nl,
              arith::MulFOp::create(nb, nl, constant(nb, nl, element, momentum),
                                    v),
              g);
          Value wNew = arith::SubFOp::create(
              nb, nl, w, arith::MulFOp::create(nb, nl, rate, vNew));
          return SmallVector<Value>{wNew, vNew};
        });
    Value master = updated[0], vNew = updated[1];
    Value wNew = master, rNew;
    auto round = [&](Value x, const num::FloatFormat &format,
                     RoundingMode rounding, Value seedValue) -> Value {
      return RoundOp::create(
          b, loc, type, x, Value(), Value(), seedValue,
          FloatFormatAttr::get(ctx, format),
          RoundingModeAttr::get(ctx, rounding),
          OverflowModeAttr::get(ctx, OverflowMode::saturate), GranularityAttr(),
          b.getI32IntegerAttr(kUpdateStreamBase + int32_t(k)));
    };
    num::FloatFormat dlfloat16 = *num::lookupFloatFormat("dlfloat16");
    if (masterWeights == MasterWeights::f16Stochastic) {
      wNew = round(master, dlfloat16, RoundingMode::stochastic, seed);
    } else if (masterWeights == MasterWeights::f8PlusResidual) {
      wNew = round(master, *num::lookupFloatFormat("hfp8_e4m3"),
                   RoundingMode::nearest_even, Value());
      Value rest = eb.build(type, {master, wNew}, element,
                            [](OpBuilder &nb, Location nl, ValueRange args) {
                              return SmallVector<Value>{arith::SubFOp::create(
                                  nb, nl, args[0], args[1])};
                            })[0];
      rNew = round(rest, dlfloat16, RoundingMode::nearest_even, Value());
    }
    // A step with non-finite gradients keeps the old values.
    auto keepIfBad = [&](Value updatedValue, Value old) -> Value {
      if (!ok)
        return updatedValue;
      return eb.build(type, {ok, updatedValue, old}, element,
                      [](OpBuilder &nb, Location nl, ValueRange args) {
                        return SmallVector<Value>{arith::SelectOp::create(
                            nb, nl, args[0], args[1], args[2])};
                      })[0];
    };
    newParams.push_back(keepIfBad(wNew, p));
    newState.push_back(keepIfBad(vNew, momenta[k]));
    if (residual)
      newState.push_back(keepIfBad(rNew, residual));
  }

  if (lossScaling) {
    Type f32 = b.getF32Type();
    SmallVector<Value> scaleState = eb.build(
        scalarF32, {ok, scale, clean}, {f32, f32},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value good = args[0], s = args[1], count = args[2];
          Value zero = constant(nb, nl, f32, 0.0);
          Value next =
              arith::AddFOp::create(nb, nl, count, constant(nb, nl, f32, 1.0));
          Value grow = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OGE, next,
              constant(nb, nl, f32, double(growthInterval)));
          Value grown = arith::SelectOp::create(
              nb, nl, grow,
              arith::MulFOp::create(nb, nl, s, constant(nb, nl, f32, growth)),
              s);
          Value backedOff =
              arith::MulFOp::create(nb, nl, s, constant(nb, nl, f32, backoff));
          Value newScale =
              arith::SelectOp::create(nb, nl, good, grown, backedOff);
          Value newCount = arith::SelectOp::create(
              nb, nl, good, arith::SelectOp::create(nb, nl, grow, zero, next),
              zero);
          return SmallVector<Value>{newScale, newCount};
        });
    newState.append(scaleState);
  }

  SmallVector<Value> results = {loss};
  results.append(newParams);
  results.append(newState);
  func::ReturnOp::create(b, loc, results);
  step.setFunctionType(b.getFunctionType(step.getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  return success();
}

void OptimizerPass::runOnOperation() {
  SmallVector<func::FuncOp> grads;
  for (auto func : getOperation().getOps<func::FuncOp>())
    if (func->hasAttr(QTrainDialect::getGradientOfAttrName()))
      grads.push_back(func);
  for (func::FuncOp grad : grads)
    if (failed(buildStep(grad)))
      return signalPassFailure();
}
