//===- Packing.cpp - pack/unpack to linalg --------------------------------===//
//
// Strided slices pair the codes of each byte (elements 2j and 2j + 1 of the
// innermost dimension); one element-wise generic combines or splits them.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qtrain;

namespace {

/// Offsets, sizes and strides selecting the elements 2j + `parity` of the
/// innermost dimension of a tensor of shape `codes`.
struct PairSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;

  PairSlice(OpBuilder &b, ArrayRef<int64_t> codes, int64_t parity) {
    for (auto [i, size] : llvm::enumerate(codes)) {
      bool inner = i + 1 == codes.size();
      offsets.push_back(b.getIndexAttr(inner ? parity : 0));
      sizes.push_back(b.getIndexAttr(inner ? size / 2 : size));
      strides.push_back(b.getIndexAttr(inner ? 2 : 1));
    }
  }
};

/// An element-wise generic over `inputs` (all of `type`'s shape) with one
/// result per type of `resultElements`.
SmallVector<Value> mapElements(
    PatternRewriter &rewriter, Location loc, RankedTensorType type,
    ValueRange inputs, TypeRange resultElements,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Value> inits;
  SmallVector<Type> resultTypes;
  for (Type element : resultElements) {
    inits.push_back(
        tensor::EmptyOp::create(rewriter, loc, type.getShape(), element));
    resultTypes.push_back(type.clone(element));
  }
  AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
  auto op = linalg::GenericOp::create(
      rewriter, loc, resultTypes, inputs, inits,
      SmallVector<AffineMap>(inputs.size() + inits.size(), id),
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l,
                                body(b, l, args.take_front(inputs.size())));
      });
  return SmallVector<Value>(op.getResults());
}

struct PackOpLowering : OpRewritePattern<PackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType codes = op.getInput().getType();
    RankedTensorType bytes = op.getResult().getType();
    SmallVector<Value> halves;
    for (int64_t parity : {0, 1}) {
      PairSlice slice(rewriter, codes.getShape(), parity);
      halves.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, bytes.clone(codes.getElementType()), op.getInput(),
          slice.offsets, slice.sizes, slice.strides));
    }
    Type i8 = rewriter.getI8Type();
    rewriter.replaceOp(
        op,
        mapElements(rewriter, loc, bytes, halves, i8,
                    [&](OpBuilder &b, Location l, ValueRange v) {
                      Value four = arith::ConstantIntOp::create(b, l, i8, 4);
                      Value mask = arith::ConstantIntOp::create(b, l, i8, 15);
                      Value high = arith::ShLIOp::create(b, l, v[0], four);
                      Value low = arith::AndIOp::create(b, l, v[1], mask);
                      return SmallVector<Value>{
                          arith::OrIOp::create(b, l, high, low)};
                    }));
    return success();
  }
};

struct UnpackOpLowering : OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType bytes = op.getInput().getType();
    RankedTensorType codes = op.getResult().getType();
    Type i8 = codes.getElementType();
    SmallVector<Value> halves = mapElements(
        rewriter, loc, bytes, op.getInput(), {i8, i8},
        [&](OpBuilder &b, Location l, ValueRange v) {
          Value four = arith::ConstantIntOp::create(b, l, i8, 4);
          Value mask = arith::ConstantIntOp::create(b, l, i8, 15);
          return SmallVector<Value>{arith::ShRUIOp::create(b, l, v[0], four),
                                    arith::AndIOp::create(b, l, v[0], mask)};
        });
    Value result = tensor::EmptyOp::create(rewriter, loc, codes.getShape(), i8);
    for (int64_t parity : {0, 1}) {
      PairSlice slice(rewriter, codes.getShape(), parity);
      result = tensor::InsertSliceOp::create(rewriter, loc, halves[parity],
                                             result, slice.offsets, slice.sizes,
                                             slice.strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::qtrain::populateQTrainPackingToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<PackOpLowering, UnpackOpLowering>(patterns.getContext());
}
