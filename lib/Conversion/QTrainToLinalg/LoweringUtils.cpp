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

/// Splits the innermost dimension D of `data` into [D / 64, 4, 16], the
/// chunks of the stochastic-rounding keying (docs/numerics.md).
static Value splitIntoChunks(PatternRewriter &rewriter, Location loc,
                             Value data) {
  auto type = cast<RankedTensorType>(data.getType());
  int64_t rank = type.getRank(), size = type.getShape().back();
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.append({size / 64, 4, 16});
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0; i + 1 < rank; ++i)
    reassociation.push_back({i});
  reassociation.push_back({rank - 1, rank, rank + 1});
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, data);
  sizes.pop_back();
  sizes.append({rewriter.getIndexAttr(size / 64), rewriter.getIndexAttr(4),
                rewriter.getIndexAttr(16)});
  return tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get(shape, type.getElementType()), data,
      reassociation, sizes);
}

FailureOr<Value> mlir::qtrain::buildElementwise(
    PatternRewriter &rewriter, Operation *op, Value data,
    ValueRange groupOperands, const num::Granularity &g, Type resultElementType,
    std::optional<StochasticKey> key, ElementwiseBody body) {
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  auto dataType = cast<RankedTensorType>(data.getType());
  int64_t dataRank = dataType.getRank();
  int64_t innermost = dataRank ? dataType.getShape().back() : 0;
  bool chunked =
      key && dataRank > 0 && !ShapedType::isDynamic(innermost) &&
      innermost % 64 == 0 && g.kind != num::GranularityKind::PerBlock &&
      !(g.kind == num::GranularityKind::PerChannel && g.axis == dataRank - 1);
  SmallVector<int64_t> groupDims;
  FailureOr<Value> input =
      chunked ? FailureOr<Value>(splitIntoChunks(rewriter, loc, data))
              : expandForGranularity(rewriter, op, data, g, groupDims);
  if (failed(input))
    return failure();
  if (chunked && g.kind == num::GranularityKind::PerChannel)
    groupDims.push_back(g.axis); // an outer axis keeps its position
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

  // Sizes for index arithmetic, taken outside the body.
  SmallVector<Value> sizes;
  if (key)
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
        NumericsIRBuilder numerics(b);
        auto index = [&](int64_t dim) -> Value {
          return arith::IndexCastOp::create(b, b.getI64Type(),
                                            linalg::IndexOp::create(b, dim));
        };
        // Row-major linear index of the leading `count` dims.
        auto linearize = [&](int64_t count) {
          Value linear = numerics.i64(0);
          for (int64_t dim = 0; dim < count; ++dim)
            linear = arith::AddIOp::create(
                b, arith::MulIOp::create(b, linear, sizes[dim]), index(dim));
          return linear;
        };
        Value randomBits;
        if (chunked) {
          // Element (prefix, c, w, j): block 16 * (prefix * chunks + c) + j,
          // word w. The block does not depend on w.
          Value chunk = arith::AddIOp::create(
              b, arith::MulIOp::create(b, linearize(rank - 3), sizes[rank - 3]),
              index(rank - 3));
          Value block = arith::AddIOp::create(
              b, arith::MulIOp::create(b, chunk, numerics.i64(16)),
              index(rank - 1));
          randomBits = numerics.stochasticBitsOfBlock(key->seed, key->stream,
                                                      block, index(rank - 2));
        } else if (key) {
          randomBits =
              numerics.stochasticBits(key->seed, key->stream, linearize(rank));
        }
        Value result =
            body(b, args[0], args.slice(1, groupOperands.size()), randomBits);
        linalg::YieldOp::create(b, result);
      });
  Value result = generic.getResult(0);
  if (result.getType() == dataType.clone(resultElementType))
    return result;
  // Undo the expansion.
  auto expand = input->getDefiningOp<tensor::ExpandShapeOp>();
  return tensor::CollapseShapeOp::create(rewriter, loc, result,
                                         expand.getReassociationIndices())
      .getResult();
}
