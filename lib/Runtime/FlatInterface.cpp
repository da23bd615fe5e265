//===- FlatInterface.cpp - One-buffer calling convention ------------------===//

#include "qtrain/Runtime/FlatInterface.h"

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"

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

FailureOr<FlatLayout> getFlatLayout(func::FuncOp func,
                                    const FlatInterfaceOptions &options) {
  FunctionType type = func.getFunctionType();
  Type element;
  FlatLayout layout;
  auto place = [&](Type t, int64_t &size) -> FailureOr<int64_t> {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || !tensor.hasStaticShape() ||
        (element && tensor.getElementType() != element) ||
        !tensor.getElementType().isIntOrFloat())
      return func.emitOpError("flat interface needs static tensors of one "
                              "element type, not ")
             << t;
    element = tensor.getElementType();
    int64_t elementBytes =
        std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
    int64_t alignment =
        std::max<int64_t>(1, options.alignmentBytes / elementBytes);
    int64_t offset = llvm::alignTo(size, alignment);
    size = offset + tensor.getNumElements();
    return offset;
  };
  for (Type t : type.getInputs()) {
    if (t.isSignlessInteger()) { // seeds: passed by value after the buffers
      layout.arguments.push_back(-1);
      continue;
    }
    FailureOr<int64_t> offset = place(t, layout.inSize);
    if (failed(offset))
      return failure();
    layout.arguments.push_back(*offset);
  }
  ArrayRef<int64_t> tied = options.resultArguments;
  if (tied.empty()) {
    for (Type t : type.getResults()) {
      FailureOr<int64_t> offset = place(t, layout.outSize);
      if (failed(offset))
        return failure();
      layout.results.push_back(*offset);
    }
    return layout;
  }

  // Results in their arguments' places, the others after every argument,
  // in one layout for both buffers.
  if (tied.size() != type.getNumResults())
    return func.emitOpError("flat interface: ")
           << tied.size() << " result places for " << type.getNumResults()
           << " results";
  llvm::SmallDenseSet<int64_t> taken;
  for (auto [i, t] : llvm::enumerate(type.getResults())) {
    int64_t argument = tied[i];
    if (argument < 0) {
      FailureOr<int64_t> offset = place(t, layout.inSize);
      if (failed(offset))
        return failure();
      layout.results.push_back(*offset);
      continue;
    }
    if (argument >= int64_t(type.getNumInputs()) ||
        type.getInput(argument) != t || !taken.insert(argument).second)
      return func.emitOpError("flat interface: result ")
             << i << " (" << t << ") cannot take the place of argument "
             << argument;
    layout.results.push_back(layout.arguments[argument]);
  }
  layout.outSize = layout.inSize;
  return layout;
}

/// `func`'s results for `args`: its body inlined where it is one block (no
/// copies between the flat buffers and buffers of the function's own at
/// the call's boundary), else a call.
static SmallVector<Value> callOrInline(OpBuilder &b, Location loc,
                                       func::FuncOp func, ValueRange args) {
  if (!func.getBody().hasOneBlock())
    return func::CallOp::create(b, loc, func, args).getResults();
  Block &body = func.getBody().front();
  IRMapping mapping;
  mapping.map(body.getArguments(), args);
  for (Operation &op : body.without_terminator())
    b.clone(op, mapping);
  return llvm::map_to_vector(body.getTerminator()->getOperands(),
                             [&](Value v) { return mapping.lookup(v); });
}

LogicalResult addFlatInterface(func::FuncOp func,
                               const FlatInterfaceOptions &options) {
  FailureOr<FlatLayout> layout = getFlatLayout(func, options);
  if (failed(layout))
    return failure();
  FunctionType type = func.getFunctionType();
  SmallVector<Type> scalars;
  Type element;
  for (Type t : type.getInputs()) {
    if (t.isSignlessInteger())
      scalars.push_back(t);
    else
      element = cast<RankedTensorType>(t).getElementType();
  }
  for (Type t : type.getResults())
    element = cast<RankedTensorType>(t).getElementType();

  MLIRContext *ctx = func.getContext();
  ctx->loadDialect<bufferization::BufferizationDialect, memref::MemRefDialect,
                   tensor::TensorDialect>();
  OpBuilder b(func);
  b.setInsertionPointAfter(func);
  Location loc = func.getLoc();
  auto inType = MemRefType::get({layout->inSize}, element);
  auto outType = MemRefType::get({layout->outSize}, element);
  SmallVector<Type> flatInputs = {inType, outType};
  flatInputs.append(scalars);
  auto flat = func::FuncOp::create(b, loc, (func.getName() + "_flat").str(),
                                   b.getFunctionType(flatInputs, {}));
  flat->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  // The two buffers are distinct memory: kernels writing slices of one may
  // run together with kernels reading the other.
  for (unsigned i : {0u, 1u})
    flat.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                    b.getUnitAttr());
  if (options.deviceEntry)
    flat->setAttr(mlir::qtrain::QTrainDialect::getDeviceEntryAttrName(),
                  b.getUnitAttr());
  Block *entry = flat.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Value in = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get({layout->inSize}, element),
      entry->getArgument(0),
      /*restrict=*/true);
  SmallVector<Value> args;
  unsigned nextScalar = 2;
  for (auto [t, offset] :
       llvm::zip_equal(type.getInputs(), layout->arguments)) {
    if (t.isSignlessInteger()) {
      args.push_back(entry->getArgument(nextScalar++));
      continue;
    }
    auto tensor = cast<RankedTensorType>(t);
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, in, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(tensor.getNumElements())},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    if (tensor.getRank() == 1)
      args.push_back(slice);
    else if (tensor.getRank() == 0)
      args.push_back(
          tensor::CollapseShapeOp::create(b, loc, tensor, slice, allInOne(0)));
    else
      args.push_back(tensor::ExpandShapeOp::create(b, loc, tensor, slice,
                                                   allInOne(tensor.getRank())));
  }

  // Each result goes to its own slice of %out, in its own shape, so that
  // eliminate-empty-tensors can have its producer write there in place.
  for (auto [result, offset] :
       llvm::zip_equal(callOrInline(b, loc, func, args), layout->results)) {
    auto tensor = cast<RankedTensorType>(result.getType());
    int64_t n = tensor.getNumElements();
    Value slot = memref::SubViewOp::create(
        b, loc, entry->getArgument(1),
        ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    if (tensor.getRank() == 0)
      slot = memref::CollapseShapeOp::create(b, loc, slot, allInOne(0));
    else if (tensor.getRank() > 1)
      slot = memref::ExpandShapeOp::create(b, loc, tensor.getShape(), slot,
                                           allInOne(tensor.getRank()));
    auto store = bufferization::MaterializeInDestinationOp::create(
        b, loc, TypeRange{}, result, slot);
    store.setRestrict(true);
    store.setWritable(true);
  }
  func::ReturnOp::create(b, loc);
  return success();
}

} // namespace qtrain::runtime
