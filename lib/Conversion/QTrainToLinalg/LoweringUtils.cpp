//===- LoweringUtils.cpp - Shared helpers of the qtrain lowering ----------===//

#include "LoweringUtils.h"

#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"

#include "qtrain/Numerics/Rounding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

Value mlir::qtrain::toF32(NumericsIRBuilder &numerics, Value value) {
  Type type = value.getType();
  if (type.isF32())
    return value;
  return numerics.decode(*getFloatFormatOfType(type),
                         numerics.codeFromStorage(value));
}

Value mlir::qtrain::fromF32(NumericsIRBuilder &numerics, Value value,
                            Type type) {
  if (type.isF32())
    return value;
  Value code = numerics.encode(*getFloatFormatOfType(type), value,
                               num::RoundingMode::NearestEven,
                               num::OverflowMode::Native, Value());
  return numerics.storageFromCode(code, type);
}

Value mlir::qtrain::addInType(NumericsIRBuilder &numerics, Value x, Value y) {
  ImplicitLocOpBuilder &b = numerics.builder();
  Value sum = arith::AddFOp::create(b, toF32(numerics, x), toF32(numerics, y));
  return fromF32(numerics, sum, x.getType());
}

Value mlir::qtrain::mulInType(NumericsIRBuilder &numerics, Value x, Value y) {
  ImplicitLocOpBuilder &b = numerics.builder();
  Value product =
      arith::MulFOp::create(b, toF32(numerics, x), toF32(numerics, y));
  return fromF32(numerics, product, x.getType());
}

Value mlir::qtrain::createTensor(OpBuilder &b, Location loc, Value like,
                                 Type elementType, Attribute fillValue) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  Value empty = tensor::EmptyOp::create(b, loc, sizes, elementType);
  if (!fillValue)
    return empty;
  Value scalar = arith::ConstantOp::create(b, loc, cast<TypedAttr>(fillValue));
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

FailureOr<Value>
mlir::qtrain::expandForGranularity(PatternRewriter &rewriter, Operation *op,
                                   Value data, const num::Granularity &g,
                                   SmallVectorImpl<int64_t> &groupDims) {
  auto type = cast<RankedTensorType>(data.getType());
  int64_t rank = type.getRank();
  groupDims.clear();
  if (g.kind == num::GranularityKind::PerTensor)
    return data;
  if (g.kind == num::GranularityKind::PerChannel) {
    groupDims.push_back(g.axis);
    return data;
  }
  int64_t size = type.getDimSize(g.axis);
  if (ShapedType::isDynamic(size)) {
    op->emitOpError() << "per-block scales need a static size along axis "
                      << g.axis << " to be lowered";
    return failure();
  }
  // [..., D] -> [..., D / b, b, ...]: blocks are contiguous in row-major
  // order, so linear indices are unchanged.
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  SmallVector<ReassociationIndices> reassociation;
  SmallVector<OpFoldResult> mixed =
      tensor::getMixedSizes(rewriter, op->getLoc(), data);
  for (int64_t i = 0; i < rank; ++i) {
    if (i != g.axis) {
      reassociation.push_back({int64_t(shape.size())});
      shape.push_back(type.getDimSize(i));
      sizes.push_back(mixed[i]);
      groupDims.push_back(int64_t(shape.size()) - 1);
      continue;
    }
    reassociation.push_back({int64_t(shape.size()), int64_t(shape.size()) + 1});
    groupDims.push_back(int64_t(shape.size()));
    shape.append({size / g.blockSize, g.blockSize});
    sizes.append({rewriter.getIndexAttr(size / g.blockSize),
                  rewriter.getIndexAttr(g.blockSize)});
  }
  auto expandedType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExpandShapeOp::create(rewriter, op->getLoc(), expandedType,
                                       data, reassociation, sizes)
      .getResult();
}

FailureOr<Value> mlir::qtrain::buildElementwise(
    PatternRewriter &rewriter, Operation *op, Value data,
    ValueRange groupOperands, const num::Granularity &g, Type resultElementType,
    bool needsLinearIndex, ElementwiseBody body) {
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<int64_t> groupDims;
  FailureOr<Value> input =
      expandForGranularity(rewriter, op, data, g, groupDims);
  if (failed(input))
    return failure();
  auto inputType = cast<RankedTensorType>(input->getType());
  int64_t rank = inputType.getRank();

  SmallVector<AffineExpr> groupExprs;
  for (int64_t dim : groupDims)
    groupExprs.push_back(getAffineDimExpr(dim, ctx));
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap groupMap = AffineMap::get(rank, 0, groupExprs, ctx);
  SmallVector<AffineMap> maps = {identity};
  maps.append(groupOperands.size(), groupMap);
  maps.push_back(identity);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);

  // Sizes for the linear index, taken outside the body.
  SmallVector<Value> sizes;
  if (needsLinearIndex)
    for (OpFoldResult size : tensor::getMixedSizes(rewriter, loc, *input))
      sizes.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getI64Type(),
          getValueOrCreateConstantIndexOp(rewriter, loc, size)));

  Value init = createTensor(rewriter, loc, *input, resultElementType);
  SmallVector<Value> inputs = {*input};
  inputs.append(groupOperands.begin(), groupOperands.end());
  auto generic = linalg::GenericOp::create(
      rewriter, loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        ImplicitLocOpBuilder b(nestedLoc, nested);
        Value linear;
        if (needsLinearIndex) {
          linear = arith::ConstantIntOp::create(b, b.getI64Type(), 0);
          for (int64_t dim = 0; dim < rank; ++dim) {
            Value index = arith::IndexCastOp::create(
                b, b.getI64Type(), linalg::IndexOp::create(b, dim));
            linear = arith::AddIOp::create(
                b, arith::MulIOp::create(b, linear, sizes[dim]), index);
          }
        }
        Value result =
            body(b, args[0], args.slice(1, groupOperands.size()), linear);
        linalg::YieldOp::create(b, result);
      });
  Value result = generic.getResult(0);
  if (result.getType() ==
      cast<RankedTensorType>(data.getType()).clone(resultElementType))
    return result;
  // Undo the per-block expansion.
  auto expand = input->getDefiningOp<tensor::ExpandShapeOp>();
  return tensor::CollapseShapeOp::create(rewriter, loc, result,
                                         expand.getReassociationIndices())
      .getResult();
}
