//===- AutodiffGeneric.cpp - Gradients of linalg.generic ------------------===//
//
// The gradient of a generic with respect to an operand read through a
// projected permutation is another generic over the same iteration space:
// its body recomputes the primal body, takes the forward-mode derivative of
// the yielded value with respect to the operand's block argument, multiplies
// it by the output gradient and sums it into the operand's gradient. The
// dimensions the operand does not index become reductions, which is how
// broadcasts and contractions get their transposed products.
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::autodiff;

//===----------------------------------------------------------------------===//
// Adjoints and helpers
//===----------------------------------------------------------------------===//

Value autodiff::createZeros(OpBuilder &builder, Location loc,
                            RankedTensorType type) {
  Value empty = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                        type.getElementType());
  Value zero = arith::ConstantOp::create(
      builder, loc, builder.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(builder, loc, zero, empty).getResult(0);
}

Value autodiff::createElementwise(
    OpBuilder &builder, Location loc, Value a, Value b,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(a.getType());
  AffineMap id = builder.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> parallel(type.getRank(),
                                            utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                       type.getElementType());
  return linalg::GenericOp::create(
             builder, loc, type, ValueRange{a, b}, init,
             ArrayRef<AffineMap>{id, id, id}, parallel,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(nested, l,
                                       combine(nested, l, args[0], args[1]));
             })
      .getResult(0);
}

void Adjoints::add(Value value, Value gradient) {
  if (!isActive(value))
    return;
  Value &slot = adjoints[value];
  if (!slot) {
    slot = gradient;
    return;
  }
  slot = createElementwise(builder, gradient.getLoc(), slot, gradient,
                           [](OpBuilder &b, Location loc, Value x, Value y) {
                             return arith::AddFOp::create(b, loc, x, y);
                           });
}

//===----------------------------------------------------------------------===//
// Forward-mode derivatives of scalar bodies
//===----------------------------------------------------------------------===//

namespace {

/// Tangents (derivatives with respect to one block argument) of the values
/// of a generic's body, built next to a clone of the body. A null tangent is
/// zero, so only the ops on the path from the argument cost anything.
class BodyTangents {
public:
  BodyTangents(OpBuilder &builder, IRMapping &primal)
      : b(builder), primal(primal) {}

  void seed(Value arg) {
    tangents[arg] = arith::ConstantOp::create(
        b, arg.getLoc(), b.getFloatAttr(arg.getType(), 1.0));
  }
  Value get(Value v) const { return tangents.lookup(v); }

  /// Clones `op` and computes the tangent of its result.
  LogicalResult visit(Operation &op);

private:
  Value p(Value v) { return primal.lookupOrDefault(v); }
  Value constant(Type type, double value, Location loc) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  }
  Value orZero(Value tangent, Value like) {
    return tangent ? tangent : constant(like.getType(), 0.0, like.getLoc());
  }
  Value add(Value x, Value y, Location loc) {
    if (!x || !y)
      return x ? x : y;
    return arith::AddFOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y, Location loc) {
    if (!y)
      return x;
    if (!x)
      return arith::NegFOp::create(b, loc, y);
    return arith::SubFOp::create(b, loc, x, y);
  }
  Value mul(Value x, Value y, Location loc) {
    if (!x || !y)
      return Value();
    return arith::MulFOp::create(b, loc, x, y);
  }
  Value div(Value x, Value y, Location loc) {
    if (!x)
      return Value();
    return arith::DivFOp::create(b, loc, x, y);
  }
  /// The tangent of a select between `x` and `y`.
  Value select(Value cond, Value x, Value y, Value tx, Value ty, Location loc) {
    if (!tx && !ty)
      return Value();
    return arith::SelectOp::create(b, loc, cond, orZero(tx, x), orZero(ty, y));
  }

  FailureOr<Value> tangentOf(Operation &op, Value result);

  OpBuilder &b;
  IRMapping &primal;
  DenseMap<Value, Value> tangents;
};

} // namespace

LogicalResult BodyTangents::visit(Operation &op) {
  Operation *clone = b.clone(op, primal);
  (void)clone;
  if (op.getNumResults() != 1 || !isa<FloatType>(op.getResult(0).getType()))
    return success(); // comparisons, indices: no gradient flows
  if (llvm::none_of(op.getOperands(), [&](Value v) { return get(v); }))
    return success();
  FailureOr<Value> tangent = tangentOf(op, p(op.getResult(0)));
  if (failed(tangent))
    return op.emitOpError("cannot be differentiated by qtrain-autodiff");
  if (*tangent)
    tangents[op.getResult(0)] = *tangent;
  return success();
}

FailureOr<Value> BodyTangents::tangentOf(Operation &op, Value r) {
  Location loc = op.getLoc();
  auto t = [&](unsigned i) { return get(op.getOperand(i)); };
  auto x = [&](unsigned i) { return p(op.getOperand(i)); };
  auto cmp = [&](arith::CmpFPredicate pred) {
    return arith::CmpFOp::create(b, loc, pred, x(0), x(1));
  };
  Type type = r.getType();
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(&op)
      .Case([&](arith::AddFOp) { return add(t(0), t(1), loc); })
      .Case([&](arith::SubFOp) { return sub(t(0), t(1), loc); })
      .Case([&](arith::MulFOp) {
        return add(mul(t(0), x(1), loc), mul(x(0), t(1), loc), loc);
      })
      .Case([&](arith::DivFOp) { // (dx - r dy) / y
        return div(sub(t(0), mul(r, t(1), loc), loc), x(1), loc);
      })
      .Case([&](arith::NegFOp) { return sub(Value(), t(0), loc); })
      // Ties go to the second operand, so max(x, 0) has derivative 0 at 0.
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](Operation *) {
        return select(cmp(arith::CmpFPredicate::OGT), x(0), x(1), t(0), t(1),
                      loc);
      })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([&](Operation *) {
        return select(cmp(arith::CmpFPredicate::OLT), x(0), x(1), t(0), t(1),
                      loc);
      })
      .Case([&](arith::SelectOp) {
        return select(x(0), x(1), x(2), t(1), t(2), loc);
      })
      .Case<arith::ExtFOp, arith::TruncFOp>([&](Operation *) -> Value {
        if (isa<arith::ExtFOp>(op))
          return arith::ExtFOp::create(b, loc, type, t(0));
        return arith::TruncFOp::create(b, loc, type, t(0));
      })
      .Case([&](math::ExpOp) { return mul(t(0), r, loc); })
      .Case([&](math::ExpM1Op) {
        return mul(t(0), add(r, constant(type, 1.0, loc), loc), loc);
      })
      .Case([&](math::LogOp) { return div(t(0), x(0), loc); })
      .Case([&](math::Log1pOp) {
        return div(t(0), add(x(0), constant(type, 1.0, loc), loc), loc);
      })
      .Case([&](math::TanhOp) { // 1 - r^2
        return mul(t(0), sub(constant(type, 1.0, loc), mul(r, r, loc), loc),
                   loc);
      })
      .Case([&](math::SqrtOp) { // 1 / (2 r)
        return div(t(0), mul(constant(type, 2.0, loc), r, loc), loc);
      })
      .Case([&](math::RsqrtOp) { // -r / (2 x)
        Value d = div(r, mul(constant(type, -2.0, loc), x(0), loc), loc);
        return mul(t(0), d, loc);
      })
      .Case([&](math::AbsFOp) {
        Value sign =
            math::CopySignOp::create(b, loc, constant(type, 1.0, loc), x(0));
        return mul(t(0), sign, loc);
      })
      .Case([&](math::ErfOp) { // 2/sqrt(pi) exp(-x^2)
        Value sq = mul(x(0), x(0), loc);
        Value e = math::ExpOp::create(b, loc, sub(Value(), sq, loc));
        Value k = constant(type, 2.0 * llvm::numbers::inv_sqrtpi, loc);
        return mul(t(0), mul(k, e, loc), loc);
      })
      .Case([&](math::PowFOp) { // y x^(y-1) dx + r log(x) dy
        Value dx;
        if (t(0)) {
          Value ym1 = sub(x(1), constant(type, 1.0, loc), loc);
          Value d = mul(x(1), math::PowFOp::create(b, loc, x(0), ym1), loc);
          dx = mul(t(0), d, loc);
        }
        Value dy;
        if (t(1))
          dy = mul(t(1), mul(r, math::LogOp::create(b, loc, x(0)), loc), loc);
        return add(dx, dy, loc);
      })
      .Default([](Operation *) { return failure(); });
}

//===----------------------------------------------------------------------===//
// The generic rule
//===----------------------------------------------------------------------===//

namespace {
/// How a reduction's body combines the accumulator with the new term.
enum class Combiner { none, add, extremum };
} // namespace

/// Checks the reduction form `yield (acc <op> term)` and returns the term.
static FailureOr<std::pair<Combiner, Value>>
matchCombiner(linalg::GenericOp op) {
  if (op.getNumReductionLoops() == 0)
    return std::make_pair(Combiner::none, Value());
  BlockArgument acc = op.getRegionOutputArgs()[0];
  Value yielded = op.getBlock()->getTerminator()->getOperand(0);
  Operation *def = yielded.getDefiningOp();
  if (def && def->getNumOperands() == 2 && acc.hasOneUse() &&
      llvm::is_contained(def->getOperands(), acc)) {
    Value term = def->getOperand(def->getOperand(0) == acc ? 1 : 0);
    if (isa<arith::AddFOp>(def))
      return std::make_pair(Combiner::add, term);
    if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
            arith::MinNumFOp>(def))
      return std::make_pair(Combiner::extremum, term);
  }
  return op.emitOpError(
      "reduction must combine the accumulator once with addf, maximumf, "
      "maxnumf, minimumf or minnumf to be differentiated");
}

/// Builds the gradient of the value that the operands `targets` read (all
/// through one indexing map): see the file comment. Returns null when the
/// body does not depend on it.
static FailureOr<Value> buildOperandGradient(linalg::GenericOp op,
                                             Value accSource, Value gradient,
                                             ArrayRef<OpOperand *> targets,
                                             Combiner combiner, Value term,
                                             OpBuilder &builder) {
  Location loc = op.getLoc();
  OpOperand *init = op.getDpsInitOperand(0);
  OpOperand &target = *targets.front();
  auto targetType = cast<RankedTensorType>(target.get().getType());
  AffineMap targetMap = op.getMatchingIndexingMap(&target);

  SmallVector<Value> inputs(op.getDpsInputs());
  inputs.append({accSource, gradient});
  SmallVector<AffineMap> maps;
  for (OpOperand *in : op.getDpsInputOperands())
    maps.push_back(op.getMatchingIndexingMap(in));
  AffineMap outMap = op.getMatchingIndexingMap(init);
  maps.append({outMap, outMap, targetMap});
  SmallVector<utils::IteratorType> iterators;
  for (unsigned d = 0, e = op.getNumLoops(); d < e; ++d)
    iterators.push_back(targetMap.isFunctionOfDim(d)
                            ? utils::IteratorType::parallel
                            : utils::IteratorType::reduction);

  OpBuilder::InsertionGuard guard(builder);
  Value zeros = createZeros(builder, loc, targetType);
  auto grad = linalg::GenericOp::create(builder, loc, targetType, inputs, zeros,
                                        maps, iterators);
  SmallVector<Type> argTypes;
  for (Value v : inputs)
    argTypes.push_back(cast<ShapedType>(v.getType()).getElementType());
  argTypes.push_back(targetType.getElementType());
  SmallVector<Location> argLocs(argTypes.size(), loc);
  Block *block = builder.createBlock(&grad.getRegion(), {}, argTypes, argLocs);

  Block &body = *op.getBlock();
  unsigned numInputs = op.getNumDpsInputs();
  IRMapping primal;
  for (unsigned i = 0; i < numInputs; ++i)
    primal.map(body.getArgument(i), block->getArgument(i));
  primal.map(body.getArgument(numInputs), block->getArgument(numInputs));
  Value g = block->getArgument(numInputs + 1);
  Value acc = block->getArgument(numInputs + 2);

  // A value read by several operands (x * x) gets the sum of their
  // derivatives: seed each of its block arguments.
  BodyTangents tangents(builder, primal);
  for (OpOperand *operand : targets)
    tangents.seed(op.getMatchingBlockArgument(operand));
  for (Operation &bodyOp : body.without_terminator())
    if (failed(tangents.visit(bodyOp))) {
      grad.erase();
      return failure();
    }

  Value contribution;
  if (combiner == Combiner::none) {
    Value dy = tangents.get(body.getTerminator()->getOperand(0));
    if (dy)
      contribution = arith::MulFOp::create(builder, loc, dy, g);
  } else if (Value dTerm = tangents.get(term)) {
    contribution = arith::MulFOp::create(builder, loc, dTerm, g);
    if (combiner == Combiner::extremum) {
      // Only the arg-max / arg-min elements, those equal to the result.
      Value isExtreme = arith::CmpFOp::create(
          builder, loc, arith::CmpFPredicate::OEQ, primal.lookup(term),
          block->getArgument(numInputs));
      Value zero = arith::ConstantOp::create(
          builder, loc, builder.getZeroAttr(contribution.getType()));
      contribution =
          arith::SelectOp::create(builder, loc, isExtreme, contribution, zero);
    }
  }
  if (!contribution) {
    grad.erase();
    return Value();
  }
  Type elementType = targetType.getElementType();
  if (contribution.getType() != elementType) {
    if (elementType.getIntOrFloatBitWidth() >
        contribution.getType().getIntOrFloatBitWidth())
      contribution =
          arith::ExtFOp::create(builder, loc, elementType, contribution);
    else
      contribution =
          arith::TruncFOp::create(builder, loc, elementType, contribution);
  }
  Value sum = arith::AddFOp::create(builder, loc, acc, contribution);
  linalg::YieldOp::create(builder, loc, sum);
  return grad.getResult(0);
}

/// `gradient` divided, per element of the result of the max/min reduction
/// `op`, by the number of terms equal to that result, so that ties share
/// the gradient (as torch.amax does) instead of each receiving all of it:
/// a range over values that saturated at a quantization bound has many.
/// The count is kept in the result's type (exact up to 2^24 ties in f32).
static Value splitAmongTies(linalg::GenericOp op, Value result, Value term,
                            Value gradient, OpBuilder &builder) {
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(result.getType());
  Type element = resultType.getElementType();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<Value> inputs(op.getDpsInputs());
  inputs.push_back(result);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  maps.pop_back();
  maps.append({outMap, outMap});
  Block &body = *op.getBlock();
  unsigned numInputs = op.getNumDpsInputs();
  Value count =
      linalg::GenericOp::create(
          builder, loc, resultType, inputs,
          createZeros(builder, loc, resultType), maps,
          op.getIteratorTypesArray(),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            IRMapping primal;
            for (unsigned i = 0; i < numInputs; ++i)
              primal.map(body.getArgument(i), args[i]);
            for (Operation &bodyOp : body.without_terminator())
              nb.clone(bodyOp, primal);
            Value tie =
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                      primal.lookup(term), args[numInputs]);
            Value one = arith::ConstantOp::create(
                nb, nl, nb.getFloatAttr(element, 1.0));
            Value zero =
                arith::ConstantOp::create(nb, nl, nb.getZeroAttr(element));
            Value add = arith::SelectOp::create(nb, nl, tie, one, zero);
            Value sum = arith::AddFOp::create(nb, nl, args.back(), add);
            linalg::YieldOp::create(nb, nl, sum);
          })
          .getResult(0);
  return divideAmongTies(builder, loc, gradient, count);
}

Value autodiff::divideAmongTies(OpBuilder &builder, Location loc,
                                Value gradient, Value count) {
  // A NaN extremum equals no element: its count stays 0, and g / max(n, 1)
  // is a gradient that no element receives.
  return createElementwise(
      builder, loc, gradient, count,
      [](OpBuilder &nb, Location nl, Value g, Value n) -> Value {
        Value one =
            arith::ConstantOp::create(nb, nl, nb.getFloatAttr(n.getType(), 1));
        return arith::DivFOp::create(nb, nl, g,
                                     arith::MaximumFOp::create(nb, nl, n, one));
      });
}

LogicalResult autodiff::differentiateGeneric(linalg::GenericOp op, Value result,
                                             ArrayRef<OpOperand *> targets,
                                             Adjoints &adjoints) {
  if (op.getNumDpsInits() != 1)
    return op.emitOpError("with several results cannot be differentiated by "
                          "qtrain-autodiff");
  FailureOr<std::pair<Combiner, Value>> combiner = matchCombiner(op);
  if (failed(combiner))
    return failure();
  OpOperand *init = op.getDpsInitOperand(0);
  // The accumulator argument holds the init element in element-wise ops
  // and, for the derivative of a reduction's term, the final result.
  Value accSource = combiner->first == Combiner::none ? init->get() : result;

  // Operands that read one value through one map, with one gradient, are
  // differentiated together.
  struct Group {
    Value value, gradient;
    AffineMap map;
    SmallVector<OpOperand *> operands;
  };
  SmallVector<Group> groups;
  DenseMap<Value, Value> shared; // output gradient -> split among ties
  for (OpOperand *target : targets) {
    Value gradient = adjoints.getFor(result, op, *target);
    if (target == init && combiner->first != Combiner::none) {
      // The init enters a reduction once, through the combiner.
      if (combiner->first != Combiner::add)
        return op.emitOpError("cannot differentiate the initial value of a "
                              "max/min reduction");
      adjoints.add(init->get(), gradient);
      continue;
    }
    if (!op.getMatchingIndexingMap(target).isProjectedPermutation())
      return op.emitOpError("operand #")
             << target->getOperandNumber()
             << " is read through a non-permutation indexing map, whose "
                "gradient would be a scatter; qtrain-autodiff supports this "
                "only for named convolutions and poolings";
    if (combiner->first == Combiner::extremum) {
      Value &split = shared[gradient];
      if (!split)
        split = splitAmongTies(op, result, combiner->second, gradient,
                               adjoints.builder);
      gradient = split;
    }
    AffineMap map = op.getMatchingIndexingMap(target);
    auto same = llvm::find_if(groups, [&](const Group &g) {
      return g.value == target->get() && g.map == map && g.gradient == gradient;
    });
    if (same != groups.end())
      same->operands.push_back(target);
    else
      groups.push_back({target->get(), gradient, map, {target}});
  }
  for (const Group &group : groups) {
    FailureOr<Value> grad = buildOperandGradient(
        op, accSource, group.gradient, group.operands, combiner->first,
        combiner->second, adjoints.builder);
    if (failed(grad))
      return failure();
    if (*grad)
      adjoints.add(group.value, *grad);
  }
  return success();
}

LogicalResult autodiff::differentiateGeneric(linalg::GenericOp op,
                                             Adjoints &adjoints) {
  SmallVector<OpOperand *> targets;
  for (OpOperand &operand : op->getOpOperands())
    if (adjoints.isActive(operand.get()))
      targets.push_back(&operand);
  return differentiateGeneric(op, op.getResult(0), targets, adjoints);
}
