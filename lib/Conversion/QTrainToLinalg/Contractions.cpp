//===- Contractions.cpp - qmatmul/qconv2d to linalg -----------------------===//
//
// Integer formats contract their codes directly, widened per operand
// (sign- or zero-extended) to the i32/i64 accumulator: an unsigned-by-signed
// 8-bit product keeps the form x86 VNNI (vpdpbusd) executes. Float formats
// are decoded to the accumulator type first, which holds every value of the
// format (the verifier checks this), so the widening is exact; with an
// integer format, its codes are converted to f32 in the contraction. Where
// the target's GEMM units multiply narrower types (tensor cores), operands
// are decoded to the type they multiply instead (contractionForm).
//
// Zero points are applied after the contraction as in GEMMLOWP:
//   sum (a - za)(b - zb) = sum ab - zb sum a - za sum b + K za zb,
// then the result is scaled: y = ((acc - ...) * lhs_scale) * rhs_scale.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Numerics/Rounding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qtrain;
namespace num = ::qtrain::numerics;

namespace {

/// One contraction operand: its tensor, the map reading it, and how its
/// elements widen to the accumulator.
struct ContractionOperand {
  Value tensor;
  AffineMap map;
  num::Format format;
  /// A type that holds each of the (decoded) elements, which the GEMM units
  /// read them as (tf32), or null.
  Type readAs = {};
};

Value widen(ImplicitLocOpBuilder &b, Value element,
            const ContractionOperand &operand, Type accType) {
  // Exact: the decoded values are tf32 values.
  if (operand.readAs)
    return arith::ExtFOp::create(
        b, accType,
        arith::TruncFOp::create(b, operand.readAs, element).getResult());
  Type type = element.getType();
  if (type == accType)
    return element; // decoded to accType already
  // f8 codes, or values decoded to a narrower float type: exact.
  if (isa<FloatType>(type))
    return arith::ExtFOp::create(b, accType, element);
  // Integer codes, into an integer or (with a float operand) f32 sum.
  bool isSigned = operand.format.getInt().isSigned;
  if (isa<FloatType>(accType))
    return isSigned ? arith::SIToFPOp::create(b, accType, element).getResult()
                    : arith::UIToFPOp::create(b, accType, element).getResult();
  return isSigned ? arith::ExtSIOp::create(b, accType, element).getResult()
                  : arith::ExtUIOp::create(b, accType, element).getResult();
}

/// Decodes an operand to `type`, which holds each of its values (integer
/// codes: the codes themselves): the accumulator type by verification, the
/// GEMM units' type by contractionForm.
FailureOr<Value> decodeOperand(PatternRewriter &rewriter, Operation *op,
                               Value codes, const num::Format &format,
                               Type type) {
  return buildElementwise(
      rewriter, op, codes, {}, num::Granularity::perTensor(), type,
      /*key=*/std::nullopt,
      [&](ImplicitLocOpBuilder &b, Value storage, ValueRange, Value) {
        NumericsIRBuilder numerics(b);
        Value v = numerics.decode(format, numerics.codeFromStorage(storage));
        return fromF32(numerics, v, type);
      });
}

/// sum over the reduction dims of `a * b` (or of `a` alone when `b` is
/// null), accumulated in `accType` into a zero-filled tensor of `sizes`.
/// `extents` are extra inputs the body ignores, read only for their shapes
/// (loop bounds that no other operand determines).
Value contract(PatternRewriter &rewriter, Location loc,
               ArrayRef<ContractionOperand> operands, AffineMap outMap,
               ArrayRef<utils::IteratorType> iterators,
               ArrayRef<OpFoldResult> sizes, Type accType,
               ArrayRef<std::pair<Value, AffineMap>> extents = {}) {
  Value zero =
      arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(accType));
  Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, accType);
  Value init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (const ContractionOperand &operand : operands) {
    inputs.push_back(operand.tensor);
    maps.push_back(operand.map);
  }
  for (auto [tensor, map] : extents) {
    inputs.push_back(tensor);
    maps.push_back(map);
  }
  maps.push_back(outMap);
  bool isFloat = isa<FloatType>(accType);
  return linalg::GenericOp::create(
             rewriter, loc, init.getType(), inputs, init, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               ImplicitLocOpBuilder b(l, nested);
               NumericsIRBuilder numerics(b);
               Value term = widen(b, args[0], operands[0], accType);
               Value acc = args.back();
               Value sum;
               if (isFloat) {
                 if (operands.size() == 2)
                   term = mulInType(numerics, term,
                                    widen(b, args[1], operands[1], accType));
                 // The summation order of float contractions is
                 // unspecified (docs/numerics.md): f32 sums may be
                 // reassociated into tree reductions.
                 sum = accType.isF32()
                           ? arith::AddFOp::create(
                                 b, acc, term, arith::FastMathFlags::reassoc)
                                 .getResult()
                           : addInType(numerics, acc, term);
               } else {
                 if (operands.size() == 2)
                   term = arith::MulIOp::create(
                       b, term, widen(b, args[1], operands[1], accType));
                 sum = arith::AddIOp::create(b, acc, term);
               }
               linalg::YieldOp::create(b, sum);
             })
      .getResult(0);
}

/// An f32 operand of the epilogue and the map reading it.
struct EpilogueOperand {
  Value tensor;
  AffineMap map;
};

/// y = (acc - zb * sumA - za * sumB + K * za * zb) * scaleA * scaleB, in f32,
/// converted to the result element type.
struct Epilogue {
  EpilogueOperand acc, scaleA, scaleB;
  std::optional<EpilogueOperand> zeroA, zeroB, sumA, sumB;
  Value contractionSize; // f32, only with both zero points
  /// A padded convolution with an input zero point: the sum of (b - zb)
  /// over the padding in each window, where the padded codes (0) stood for
  /// zeros that are no code: `za * paddedSumB` takes their share back.
  std::optional<EpilogueOperand> paddedSumB;

  Value build(PatternRewriter &rewriter, Location loc, Value like,
              Type resultType) const {
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    auto add = [&](const EpilogueOperand &operand) {
      inputs.push_back(operand.tensor);
      maps.push_back(operand.map);
      return inputs.size() - 1;
    };
    size_t accIndex = add(acc), scaleAIndex = add(scaleA),
           scaleBIndex = add(scaleB);
    std::optional<size_t> zeroAIndex, zeroBIndex, sumAIndex, sumBIndex;
    if (zeroA)
      zeroAIndex = add(*zeroA);
    if (zeroB)
      zeroBIndex = add(*zeroB);
    if (sumA)
      sumAIndex = add(*sumA);
    if (sumB)
      sumBIndex = add(*sumB);
    std::optional<size_t> paddedSumBIndex;
    if (paddedSumB)
      paddedSumBIndex = add(*paddedSumB);
    Value init = createTensor(rewriter, loc, like, resultType);
    maps.push_back(acc.map);
    unsigned rank = acc.map.getNumDims();
    return linalg::GenericOp::create(
               rewriter, loc, init.getType(), inputs, init, maps,
               SmallVector<utils::IteratorType>(rank,
                                                utils::IteratorType::parallel),
               [&](OpBuilder &nested, Location l, ValueRange args) {
                 ImplicitLocOpBuilder b(l, nested);
                 NumericsIRBuilder numerics(b);
                 auto toF32Value = [&](Value v) -> Value {
                   if (isa<IntegerType>(v.getType()))
                     return arith::SIToFPOp::create(b, b.getF32Type(), v);
                   return toF32(numerics, v);
                 };
                 auto mul = [&](Value x, Value y) -> Value {
                   return arith::MulFOp::create(b, x, y);
                 };
                 Value y = toF32Value(args[accIndex]);
                 if (zeroBIndex)
                   y = arith::SubFOp::create(
                       b, y,
                       mul(args[*zeroBIndex], toF32Value(args[*sumAIndex])));
                 if (zeroAIndex)
                   y = arith::SubFOp::create(
                       b, y,
                       mul(args[*zeroAIndex], toF32Value(args[*sumBIndex])));
                 if (zeroAIndex && zeroBIndex)
                   y = arith::AddFOp::create(
                       b, y,
                       mul(mul(contractionSize, args[*zeroAIndex]),
                           args[*zeroBIndex]));
                 if (paddedSumBIndex)
                   y = arith::AddFOp::create(
                       b, y, mul(args[*zeroAIndex], args[*paddedSumBIndex]));
                 y = mul(mul(y, args[scaleAIndex]), args[scaleBIndex]);
                 linalg::YieldOp::create(b, fromF32(numerics, y, resultType));
               })
        .getResult(0);
  }
};

/// The map of a per-tensor or per-channel scale: () or (dim).
AffineMap scaleMap(GranularityAttr granularity, unsigned numDims,
                   unsigned channelDim, MLIRContext *ctx) {
  if (!granularity || granularity.getKind() == GranularityKind::per_tensor)
    return AffineMap::get(numDims, 0, {}, ctx);
  return AffineMap::get(numDims, 0, getAffineDimExpr(channelDim, ctx), ctx);
}

Value indexToF32(OpBuilder &b, Location loc, Value index) {
  return arith::UIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastOp::create(b, loc, b.getI64Type(), index));
}

/// What the GEMM units of a target multiply in a contraction with a float
/// format (zero points, which only integer operands have, are applied after
/// the sum).
enum class ContractionForm {
  /// The codes as they are stored: E4M3FN/E5M2 (the builtin f8 types, so
  /// `arith.extf` is exactly the format's decode).
  codes,
  /// f16 or bf16 values decoded exactly (every value of both operands, or
  /// every code of an integer one, is one).
  f16,
  bf16,
  /// f32 values decoded exactly, read as tf32 (every value of both formats
  /// is a normal tf32 value or zero): `arith.truncf` to tf32 and back in
  /// the contraction body says so.
  tf32,
  /// Float operands decoded to the accumulator type, integer codes widened
  /// in the contraction body.
  accumulator,
};

/// Whether every value of `format` (every code, for an integer format) is
/// exactly an `element` value.
bool holds(const num::FloatFormat &element, const num::Format &format) {
  if (format.isInt()) {
    const num::IntFormat &f = format.getInt();
    int64_t largest =
        f.isSigned ? int64_t(1) << (f.bits - 1) : (int64_t(1) << f.bits) - 1;
    return largest <= int64_t(1) << (element.manBits + 1);
  }
  return num::isGridSubset(format, element, num::OverflowMode::Native);
}

ContractionForm contractionForm(NumericsTarget target, Type accType, Value lhs,
                                const num::Format &lhsFormat, Value rhs,
                                const num::Format &rhsFormat) {
  // These tensor cores accumulate in f32.
  if (!hasAmpereTensorCores(target) || !accType.isF32())
    return ContractionForm::accumulator;
  auto isFP8Storage = [&](Value operand, const num::Format &f) {
    Type element = cast<ShapedType>(operand.getType()).getElementType();
    return isa<Float8E4M3FNType, Float8E5M2Type>(element) && f.isFloat() &&
           getBuiltinFloatType(element.getContext(), f.getFloat()) == element;
  };
  if (target == NumericsTarget::tensorCores && isFP8Storage(lhs, lhsFormat) &&
      isFP8Storage(rhs, rhsFormat))
    return ContractionForm::codes;
  MLIRContext *ctx = accType.getContext();
  auto holdsBoth = [&](const num::FloatFormat &element) {
    return holds(element, lhsFormat) && holds(element, rhsFormat);
  };
  if (holdsBoth(*getFloatFormatOfType(Float16Type::get(ctx))))
    return ContractionForm::f16;
  if (holdsBoth(*getFloatFormatOfType(BFloat16Type::get(ctx))))
    return ContractionForm::bf16;
  // TF32: 8 exponent bits (bias 127), 10 mantissa bits. Subnormals are
  // left out: whether the MMAs keep them is not documented.
  num::FloatFormat tf32{8, 10, 127, /*subnormals=*/true,
                        num::SpecialValues::IEEE};
  auto normalInTF32 = [&](const num::Format &f) {
    return f.isFloat() && f.getFloat().minPositive() >= tf32.minNormal() &&
           holds(tf32, f);
  };
  if (normalInTF32(lhsFormat) && normalInTF32(rhsFormat))
    return ContractionForm::tf32;
  return ContractionForm::accumulator;
}

/// Decodes the operands of a contraction with a float format to the type
/// its GEMM units multiply (or leaves codes that they multiply as stored);
/// returns the type they read the decoded elements as
/// (ContractionOperand::readAs), and fails where a decode does.
FailureOr<Type> prepareOperands(PatternRewriter &rewriter, Operation *op,
                                NumericsTarget target, Type accType, Value &lhs,
                                const num::Format &lhsFormat, Value &rhs,
                                const num::Format &rhsFormat) {
  if (lhsFormat.isInt() && rhsFormat.isInt())
    return Type();
  ContractionForm form =
      contractionForm(target, accType, lhs, lhsFormat, rhs, rhsFormat);
  if (form == ContractionForm::codes)
    return Type();
  Type type = form == ContractionForm::f16    ? rewriter.getF16Type()
              : form == ContractionForm::bf16 ? rewriter.getBF16Type()
                                              : accType;
  for (auto [operand, format] :
       {std::make_pair(&lhs, &lhsFormat), std::make_pair(&rhs, &rhsFormat)}) {
    if (form == ContractionForm::accumulator && format->isInt())
      continue;
    // A builtin type's codes are its values (a bf16 gradient copy).
    if (getElementTypeOrSelf(operand->getType()) == type && format->isFloat() &&
        getBuiltinFloatType(type.getContext(), format->getFloat()) == type)
      continue;
    FailureOr<Value> decoded =
        decodeOperand(rewriter, op, *operand, *format, type);
    if (failed(decoded))
      return failure();
    *operand = *decoded;
  }
  return form == ContractionForm::tf32 ? Type(rewriter.getTF32Type()) : Type();
}

struct QMatmulOpLowering : OpRewritePattern<QMatmulOp> {
  QMatmulOpLowering(MLIRContext *context, NumericsTarget target)
      : OpRewritePattern(context), target(target) {}
  NumericsTarget target;

  LogicalResult matchAndRewrite(QMatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    num::Format lhsFormat = op.getLhsFormat().getNumericFormat();
    num::Format rhsFormat = op.getRhsFormat().getNumericFormat();
    Type accType = op.getAccType();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    FailureOr<Type> readAs = prepareOperands(rewriter, op, target, accType, lhs,
                                             lhsFormat, rhs, rhsFormat);
    if (failed(readAs))
      return failure();

    // Iteration space [b,] m, n, k.
    bool batched = op.getLhs().getType().getRank() == 3;
    unsigned numDims = batched ? 4 : 3;
    unsigned m = batched, n = m + 1, k = m + 2;
    auto dims = [&](std::initializer_list<unsigned> positions) {
      SmallVector<AffineExpr> exprs;
      if (batched)
        exprs.push_back(getAffineDimExpr(0, ctx));
      for (unsigned p : positions)
        exprs.push_back(getAffineDimExpr(p, ctx));
      return AffineMap::get(numDims, 0, exprs, ctx);
    };
    AffineMap lhsMap = op.getTransposeLhs() ? dims({k, m}) : dims({m, k});
    AffineMap rhsMap = op.getTransposeRhs() ? dims({n, k}) : dims({k, n});
    AffineMap outMap = dims({m, n});
    SmallVector<utils::IteratorType> iterators(numDims,
                                               utils::IteratorType::parallel);
    iterators[k] = utils::IteratorType::reduction;

    SmallVector<OpFoldResult> lhsSizes =
        tensor::getMixedSizes(rewriter, loc, lhs);
    SmallVector<OpFoldResult> rhsSizes =
        tensor::getMixedSizes(rewriter, loc, rhs);
    unsigned b0 = batched ? 1 : 0;
    OpFoldResult mSize = lhsSizes[b0 + (op.getTransposeLhs() ? 1 : 0)];
    OpFoldResult kSize = lhsSizes[b0 + (op.getTransposeLhs() ? 0 : 1)];
    OpFoldResult nSize = rhsSizes[b0 + (op.getTransposeRhs() ? 0 : 1)];
    SmallVector<OpFoldResult> outSizes;
    if (batched)
      outSizes.push_back(lhsSizes[0]);
    outSizes.append({mSize, nSize});

    ContractionOperand a{lhs, lhsMap, lhsFormat, *readAs},
        b{rhs, rhsMap, rhsFormat, *readAs};
    Value acc =
        contract(rewriter, loc, {a, b}, outMap, iterators, outSizes, accType);

    Epilogue epilogue;
    epilogue.acc = {acc, rewriter.getMultiDimIdentityMap(batched ? 3 : 2)};
    // Epilogue maps are over the output dims [b,] m, n.
    unsigned outDims = batched ? 3 : 2, mOut = batched, nOut = mOut + 1;
    AffineMap lhsScaleMap =
        scaleMap(op.getLhsGranularityAttr(), outDims, mOut, ctx);
    AffineMap rhsScaleMap =
        scaleMap(op.getRhsGranularityAttr(), outDims, nOut, ctx);
    epilogue.scaleA = {op.getLhsScale(), lhsScaleMap};
    epilogue.scaleB = {op.getRhsScale(), rhsScaleMap};
    auto outProjection = [&](unsigned dim) {
      SmallVector<AffineExpr> exprs;
      if (batched)
        exprs.push_back(getAffineDimExpr(0, ctx));
      exprs.push_back(getAffineDimExpr(dim, ctx));
      return AffineMap::get(outDims, 0, exprs, ctx);
    };
    // Operand sums for the zero points, each in its own iteration space
    // [b,] free, k.
    unsigned sumDims = batched ? 3 : 2, free = batched, kk = free + 1;
    auto sumMap = [&](std::initializer_list<unsigned> positions) {
      SmallVector<AffineExpr> exprs;
      if (batched)
        exprs.push_back(getAffineDimExpr(0, ctx));
      for (unsigned p : positions)
        exprs.push_back(getAffineDimExpr(p, ctx));
      return AffineMap::get(sumDims, 0, exprs, ctx);
    };
    SmallVector<utils::IteratorType> sumIterators(
        sumDims, utils::IteratorType::parallel);
    sumIterators[kk] = utils::IteratorType::reduction;
    auto sumSizes = [&](OpFoldResult freeSize) {
      SmallVector<OpFoldResult> sizes;
      if (batched)
        sizes.push_back(outSizes[0]);
      sizes.push_back(freeSize);
      return sizes;
    };
    if (Value zeroB = op.getRhsZeroPoint()) {
      // sum_k a[b, m, k], read at (b, m) of the output.
      AffineMap map =
          op.getTransposeLhs() ? sumMap({kk, free}) : sumMap({free, kk});
      epilogue.zeroB = {zeroB, rhsScaleMap};
      epilogue.sumA = {contract(rewriter, loc, {{lhs, map, lhsFormat}},
                                sumMap({free}), sumIterators, sumSizes(mSize),
                                accType),
                       outProjection(mOut)};
    }
    if (Value zeroA = op.getLhsZeroPoint()) {
      // sum_k b[b, k, n], read at (b, n) of the output.
      AffineMap map =
          op.getTransposeRhs() ? sumMap({free, kk}) : sumMap({kk, free});
      epilogue.zeroA = {zeroA, lhsScaleMap};
      epilogue.sumB = {contract(rewriter, loc, {{rhs, map, rhsFormat}},
                                sumMap({free}), sumIterators, sumSizes(nSize),
                                accType),
                       outProjection(nOut)};
    }
    if (epilogue.zeroA && epilogue.zeroB)
      epilogue.contractionSize = indexToF32(
          rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, kSize));
    rewriter.replaceOp(
        op, epilogue.build(rewriter, loc, acc, op.getType().getElementType()));
    return success();
  }
};

/// `input` (static shape) inside zeros (code 0 of its element type):
/// `padding` is [top, left, bottom, right] of the spatial dimensions.
Value padInput(PatternRewriter &rewriter, Location loc, Value input,
               ArrayRef<int64_t> padding, bool nchw) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned h = nchw ? 2 : 1, w = h + 1;
  SmallVector<int64_t> shape(type.getShape());
  shape[h] += padding[0] + padding[2];
  shape[w] += padding[1] + padding[3];
  SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0)), sizes,
      strides(4, rewriter.getIndexAttr(1));
  offsets[h] = rewriter.getIndexAttr(padding[0]);
  offsets[w] = rewriter.getIndexAttr(padding[1]);
  for (int64_t size : type.getShape())
    sizes.push_back(rewriter.getIndexAttr(size));
  Type element = type.getElementType();
  Value zero = arith::ConstantOp::create(
      rewriter, loc, cast<TypedAttr>(rewriter.getZeroAttr(element)));
  Value zeros =
      linalg::FillOp::create(
          rewriter, loc, zero,
          tensor::EmptyOp::create(rewriter, loc, shape, element).getResult())
          .getResult(0);
  return tensor::InsertSliceOp::create(rewriter, loc, input, zeros, offsets,
                                       sizes, strides);
}

/// For a padded convolution with an input zero point: per output channel
/// and position, the f32 sum of (w - zw) over the window positions that fall
/// into the padding, P[f, oh, ow]. (Its cost is the convolution's over a
/// batch of one.)
Value paddedFilterSums(PatternRewriter &rewriter, Location loc, QConv2DOp op,
                       Value filter, const num::Format &filterFormat,
                       RankedTensorType unpaddedInput,
                       ArrayRef<OpFoldResult> outSizes, bool nchw) {
  MLIRContext *ctx = rewriter.getContext();
  // Iteration space (f, oh, ow, c, kh, kw).
  enum : unsigned { F, OH, OW, C, KH, KW, NumDims };
  SmallVector<int64_t, 4> positions = op.getFilterDimPositions();
  SmallVector<AffineExpr> filterExprs(4);
  for (auto [logical, dim] : llvm::enumerate(ArrayRef<unsigned>{F, C, KH, KW}))
    filterExprs[positions[logical]] = getAffineDimExpr(dim, ctx);
  auto d = [&](unsigned dim) { return getAffineDimExpr(dim, ctx); };
  SmallVector<Value> inputs = {filter};
  SmallVector<AffineMap> maps = {AffineMap::get(NumDims, 0, filterExprs, ctx)};
  Value zeroW = op.getFilterZeroPoint();
  if (zeroW) {
    GranularityAttr g = op.getFilterGranularityAttr();
    bool perChannel = g && g.getKind() == GranularityKind::per_channel;
    inputs.push_back(zeroW);
    maps.push_back(perChannel ? AffineMap::get(NumDims, 0, d(F), ctx)
                              : AffineMap::get(NumDims, 0, {}, ctx));
  }
  maps.push_back(AffineMap::get(NumDims, 0, {d(F), d(OH), d(OW)}, ctx));
  SmallVector<utils::IteratorType> iterators(NumDims,
                                             utils::IteratorType::parallel);
  for (unsigned dim : {C, KH, KW})
    iterators[dim] = utils::IteratorType::reduction;
  unsigned fOut = nchw ? 1 : 3, hOut = nchw ? 2 : 1;
  SmallVector<OpFoldResult> sizes = {outSizes[fOut], outSizes[hOut],
                                     outSizes[hOut + 1]};
  Type f32 = rewriter.getF32Type();
  Value zero = arith::ConstantOp::create(rewriter, loc, f32,
                                         rewriter.getF32FloatAttr(0));
  Value init =
      linalg::FillOp::create(
          rewriter, loc, zero,
          tensor::EmptyOp::create(rewriter, loc, sizes, f32).getResult())
          .getResult(0);
  ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(),
                    padding = op.getPadding();
  unsigned hIn = nchw ? 2 : 1;
  int64_t extents[2] = {unpaddedInput.getDimSize(hIn),
                        unpaddedInput.getDimSize(hIn + 1)};
  ContractionOperand filterOperand{filter, maps[0], filterFormat};
  return linalg::GenericOp::create(
             rewriter, loc, init.getType(), inputs, init, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               ImplicitLocOpBuilder b(l, nested);
               Value w = widen(b, args[0], filterOperand, f32);
               if (zeroW)
                 w = arith::SubFOp::create(b, w, args[1]);
               // Whether input row (column) o * stride + k * dilation -
               // padding lies outside the unpadded input.
               Value outside;
               for (int i = 0; i < 2; ++i) {
                 Value o = linalg::IndexOp::create(b, i ? OW : OH);
                 Value k = linalg::IndexOp::create(b, i ? KW : KH);
                 auto constant = [&](int64_t v) {
                   return arith::ConstantIndexOp::create(b, v).getResult();
                 };
                 // In padded coordinates: inside iff padding <= p <
                 // padding + extent.
                 Value p = arith::AddIOp::create(
                     b, arith::MulIOp::create(b, o, constant(strides[i])),
                     arith::MulIOp::create(b, k, constant(dilations[i])));
                 Value before = arith::CmpIOp::create(
                     b, arith::CmpIPredicate::ult, p, constant(padding[i]));
                 Value after =
                     arith::CmpIOp::create(b, arith::CmpIPredicate::uge, p,
                                           constant(padding[i] + extents[i]));
                 Value either = arith::OrIOp::create(b, before, after);
                 outside =
                     outside
                         ? arith::OrIOp::create(b, outside, either).getResult()
                         : either;
               }
               Value term = arith::SelectOp::create(b, outside, w, zero);
               linalg::YieldOp::create(
                   b, arith::AddFOp::create(b, args.back(), term).getResult());
             })
      .getResult(0);
}

struct QConv2DOpLowering : OpRewritePattern<QConv2DOp> {
  QConv2DOpLowering(MLIRContext *context, NumericsTarget target)
      : OpRewritePattern(context), target(target) {}
  NumericsTarget target;

  LogicalResult matchAndRewrite(QConv2DOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    if (!op.getType().hasStaticShape() ||
        !op.getInput().getType().hasStaticShape() ||
        !op.getFilter().getType().hasStaticShape())
      return op.emitOpError("convolutions with dynamic shapes are not "
                            "supported by the lowering");
    num::Format inputFormat = op.getInputFormat().getNumericFormat();
    num::Format filterFormat = op.getFilterFormat().getNumericFormat();
    Type accType = op.getAccType();
    Value input = op.getInput(), filter = op.getFilter();
    bool nchw = op.getLayout() == ConvLayout::nchw_fchw;
    FailureOr<Type> readAs =
        prepareOperands(rewriter, op, target, accType, input, inputFormat,
                        filter, filterFormat);
    if (failed(readAs))
      return failure();
    // Padding: code 0 around the (prepared) input, which is the value 0
    // except under a zero point (see paddedSumB).
    ArrayRef<int64_t> padding = op.getPadding();
    bool padded = llvm::any_of(padding, [](int64_t p) { return p != 0; });
    auto unpaddedType = cast<RankedTensorType>(input.getType());
    if (padded)
      input = padInput(rewriter, loc, input, padding, nchw);

    // Iteration space (n, f, oh, ow, c, kh, kw).
    enum : unsigned { N, F, OH, OW, C, KH, KW, NumDims };
    auto d = [&](unsigned dim) { return getAffineDimExpr(dim, ctx); };
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    AffineExpr h = d(OH) * strides[0] + d(KH) * dilations[0];
    AffineExpr w = d(OW) * strides[1] + d(KW) * dilations[1];
    auto map = [&](ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(NumDims, 0, exprs, ctx);
    };
    AffineMap inputMap =
        nchw ? map({d(N), d(C), h, w}) : map({d(N), h, w, d(C)});
    SmallVector<int64_t, 4> positions = op.getFilterDimPositions();
    SmallVector<AffineExpr> filterExprs(4);
    filterExprs[positions[0]] = d(F);
    filterExprs[positions[1]] = d(C);
    filterExprs[positions[2]] = d(KH);
    filterExprs[positions[3]] = d(KW);
    AffineMap filterMap = map(filterExprs);
    AffineMap outMap = nchw ? map({d(N), d(F), d(OH), d(OW)})
                            : map({d(N), d(OH), d(OW), d(F)});
    SmallVector<utils::IteratorType> iterators(NumDims,
                                               utils::IteratorType::parallel);
    for (unsigned dim : {C, KH, KW})
      iterators[dim] = utils::IteratorType::reduction;

    auto resultType = op.getType();
    SmallVector<OpFoldResult> outSizes;
    for (int64_t size : resultType.getShape())
      outSizes.push_back(rewriter.getIndexAttr(size));
    ContractionOperand x{input, inputMap, inputFormat, *readAs},
        wt{filter, filterMap, filterFormat, *readAs};
    Value acc =
        contract(rewriter, loc, {x, wt}, outMap, iterators, outSizes, accType);

    // Epilogue over the output dims, in output order.
    unsigned fOut = nchw ? 1 : 3;
    Epilogue epilogue;
    epilogue.acc = {acc, rewriter.getMultiDimIdentityMap(4)};
    AffineMap perTensor = AffineMap::get(4, 0, {}, ctx);
    AffineMap filterScaleMap =
        scaleMap(op.getFilterGranularityAttr(), 4, fOut, ctx);
    epilogue.scaleA = {op.getInputScale(), perTensor};
    epilogue.scaleB = {op.getFilterScale(), filterScaleMap};
    auto outDims = [&](ArrayRef<unsigned> dims) {
      SmallVector<AffineExpr> exprs;
      for (unsigned dim : dims)
        exprs.push_back(getAffineDimExpr(dim, ctx));
      return AffineMap::get(4, 0, exprs, ctx);
    };
    if (Value zeroF = op.getFilterZeroPoint()) {
      // Window sums of the input over (c, kh, kw), in the iteration space
      // (n, oh, ow, c, kh, kw); read at (n, oh, ow) of the output.
      enum : unsigned { WN, WOH, WOW, WC, WKH, WKW, WindowDims };
      auto e = [&](unsigned dim) { return getAffineDimExpr(dim, ctx); };
      AffineExpr wh = e(WOH) * strides[0] + e(WKH) * dilations[0];
      AffineExpr ww = e(WOW) * strides[1] + e(WKW) * dilations[1];
      AffineMap windowInput =
          AffineMap::get(WindowDims, 0,
                         nchw ? SmallVector<AffineExpr>{e(WN), e(WC), wh, ww}
                              : SmallVector<AffineExpr>{e(WN), wh, ww, e(WC)},
                         ctx);
      AffineMap windowOut =
          AffineMap::get(WindowDims, 0, {e(WN), e(WOH), e(WOW)}, ctx);
      SmallVector<utils::IteratorType> windowIterators(
          WindowDims, utils::IteratorType::reduction);
      for (unsigned dim : {WN, WOH, WOW})
        windowIterators[dim] = utils::IteratorType::parallel;
      SmallVector<OpFoldResult> sizes = outSizes;
      sizes.erase(sizes.begin() + fOut);
      epilogue.zeroB = {zeroF, filterScaleMap};
      // The kernel extents come from an unused [kh, kw] operand.
      auto filterType = op.getFilter().getType();
      Value kernelExtent = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{filterType.getDimSize(positions[2]),
                            filterType.getDimSize(positions[3])},
          rewriter.getI8Type());
      AffineMap kernelMap =
          AffineMap::get(WindowDims, 0, {e(WKH), e(WKW)}, ctx);
      epilogue.sumA = {contract(rewriter, loc,
                                {{input, windowInput, inputFormat}}, windowOut,
                                windowIterators, sizes, accType,
                                {{kernelExtent, kernelMap}}),
                       nchw ? outDims({0, 2, 3}) : outDims({0, 1, 2})};
    }
    if (Value zeroX = op.getInputZeroPoint()) {
      // Filter sums over (c, kh, kw) per output channel, in the iteration
      // space (f, c, kh, kw).
      SmallVector<AffineExpr> exprs(4);
      for (unsigned logical = 0; logical < 4; ++logical)
        exprs[positions[logical]] = getAffineDimExpr(logical, ctx);
      AffineMap filterSumInput = AffineMap::get(4, 0, exprs, ctx);
      AffineMap filterSumOut =
          AffineMap::get(4, 0, getAffineDimExpr(0, ctx), ctx);
      SmallVector<utils::IteratorType> filterIterators(
          4, utils::IteratorType::reduction);
      filterIterators[0] = utils::IteratorType::parallel;
      epilogue.zeroA = {zeroX, perTensor};
      epilogue.sumB = {
          contract(rewriter, loc, {{filter, filterSumInput, filterFormat}},
                   filterSumOut, filterIterators, {outSizes[fOut]}, accType),
          outDims({fOut})};
      if (padded)
        epilogue.paddedSumB = {paddedFilterSums(rewriter, loc, op, filter,
                                                filterFormat, unpaddedType,
                                                outSizes, nchw),
                               nchw ? outDims({1, 2, 3}) : outDims({3, 1, 2})};
    }
    if (epilogue.zeroA && epilogue.zeroB) {
      auto filterType = op.getFilter().getType();
      int64_t size = filterType.getDimSize(positions[1]) *
                     filterType.getDimSize(positions[2]) *
                     filterType.getDimSize(positions[3]);
      epilogue.contractionSize = arith::ConstantFloatOp::create(
          rewriter, loc, rewriter.getF32Type(), APFloat(float(size)));
    }
    rewriter.replaceOp(
        op, epilogue.build(rewriter, loc, acc, resultType.getElementType()));
    return success();
  }
};

} // namespace

void mlir::qtrain::populateQTrainContractionToLinalgPatterns(
    RewritePatternSet &patterns, NumericsTarget target) {
  patterns.add<QMatmulOpLowering>(patterns.getContext(), target);
  patterns.add<QConv2DOpLowering>(patterns.getContext(), target);
}

void mlir::qtrain::populateQTrainToLinalgPatterns(RewritePatternSet &patterns,
                                                  NumericsTarget target) {
  populateQTrainElementwiseToLinalgPatterns(patterns, target);
  populateQTrainScaleToLinalgPatterns(patterns);
  populateQTrainContractionToLinalgPatterns(patterns, target);
  populateQTrainPackingToLinalgPatterns(patterns);
}
