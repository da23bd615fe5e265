//===- FlatInterface.cpp - One-buffer calling convention ------------------===//

#include "qtrain/Runtime/FlatInterface.h"

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace qtrain::runtime {

/// Reassociation merging all `rank` dimensions into one (none for rank 0).
static SmallVector<ReassociationIndices> allInOne(int64_t rank) {
  if (rank == 0)
    return {};
  ReassociationIndices all;
  for (int64_t i = 0; i < rank; ++i)
    all.push_back(i);
  return {all};
}

LogicalResult addFlatInterface(func::FuncOp func, bool deviceEntry) {
  FunctionType type = func.getFunctionType();
  Type element;
  int64_t inSize = 0, outSize = 0;
  auto check = [&](Type t, int64_t &size) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || !tensor.hasStaticShape() ||
        (element && tensor.getElementType() != element))
      return func.emitOpError("flat interface needs static tensors of one "
                              "element type, not ")
             << t;
    element = tensor.getElementType();
    size += tensor.getNumElements();
    return success();
  };
  SmallVector<Type> scalars;
  for (Type t : type.getInputs()) {
    if (t.isSignlessInteger()) { // seeds: passed by value after the buffers
      scalars.push_back(t);
      continue;
    }
    if (failed(check(t, inSize)))
      return failure();
  }
  for (Type t : type.getResults())
    if (failed(check(t, outSize)))
      return failure();

  MLIRContext *ctx = func.getContext();
  ctx->loadDialect<bufferization::BufferizationDialect, memref::MemRefDialect,
                   tensor::TensorDialect>();
  OpBuilder b(func);
  b.setInsertionPointAfter(func);
  Location loc = func.getLoc();
  auto inType = MemRefType::get({inSize}, element);
  auto outType = MemRefType::get({outSize}, element);
  SmallVector<Type> flatInputs = {inType, outType};
  flatInputs.append(scalars);
  auto flat = func::FuncOp::create(b, loc, (func.getName() + "_flat").str(),
                                   b.getFunctionType(flatInputs, {}));
  flat->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  if (deviceEntry)
    flat->setAttr(mlir::qtrain::QTrainDialect::getDeviceEntryAttrName(),
                  b.getUnitAttr());
  Block *entry = flat.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Value in = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get({inSize}, element), entry->getArgument(0),
      /*restrict=*/true);
  SmallVector<Value> args;
  int64_t offset = 0;
  unsigned nextScalar = 2;
  for (Type t : type.getInputs()) {
    if (t.isSignlessInteger()) {
      args.push_back(entry->getArgument(nextScalar++));
      continue;
    }
    auto tensor = cast<RankedTensorType>(t);
    int64_t n = tensor.getNumElements();
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, in, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    if (tensor.getRank() == 1)
      args.push_back(slice);
    else if (tensor.getRank() == 0)
      args.push_back(
          tensor::CollapseShapeOp::create(b, loc, tensor, slice, allInOne(0)));
    else
      args.push_back(tensor::ExpandShapeOp::create(b, loc, tensor, slice,
                                                   allInOne(tensor.getRank())));
    offset += n;
  }
  auto call = func::CallOp::create(b, loc, func, args);

  Value out =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{outSize}, element);
  offset = 0;
  for (Value result : call.getResults()) {
    auto tensor = cast<RankedTensorType>(result.getType());
    int64_t n = tensor.getNumElements();
    auto flatType = RankedTensorType::get({n}, element);
    Value flatResult = result;
    if (tensor.getRank() == 0)
      flatResult =
          tensor::ExpandShapeOp::create(b, loc, flatType, result, allInOne(0));
    else if (tensor.getRank() > 1)
      flatResult = tensor::CollapseShapeOp::create(b, loc, result,
                                                   allInOne(tensor.getRank()));
    out = tensor::InsertSliceOp::create(
        b, loc, flatResult, out, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    offset += n;
  }
  auto store = bufferization::MaterializeInDestinationOp::create(
      b, loc, TypeRange{}, out, entry->getArgument(1));
  store.setRestrict(true);
  store.setWritable(true);
  func::ReturnOp::create(b, loc);
  return success();
}

} // namespace qtrain::runtime
