//===- QTrainDialect.cpp - qtrain dialect ---------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qtrain;

#include "qtrain/Dialect/QTrain/IR/QTrainOpsDialect.cpp.inc"

namespace {
/// qtrain ops compute values from their operands and attributes alone (no
/// regions, nothing tied to the enclosing function), so they may be
/// inlined anywhere: the inliner then sees through calls of model
/// functions (a training step's call of its gradient function).
struct QTrainInlinerInterface : DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final {
    return true;
  }
};
} // namespace

void QTrainDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "qtrain/Dialect/QTrain/IR/QTrainOps.cpp.inc"
      >();
  addInterfaces<QTrainInlinerInterface>();
}

Operation *QTrainDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

LogicalResult QTrainDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  if (attr.getName() == getLayerAttrName()) {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitOpError() << "'" << getLayerAttrName()
                               << "' must be a string naming the layer";
    return success();
  }
  if (attr.getName() == getSavedBytesAttrName()) {
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitOpError()
             << "'" << getSavedBytesAttrName() << "' must be an integer";
    return success();
  }
  if (attr.getName() == getGradientOfAttrName()) {
    if (!isa<FlatSymbolRefAttr>(attr.getValue()))
      return op->emitOpError() << "'" << getGradientOfAttrName()
                               << "' must name the model function";
    return success();
  }
  if (attr.getName() == getHostOnlyAttrName()) {
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!isa<UnitAttr>(attr.getValue()) || !function || !function.isExternal())
      return op->emitOpError() << "'" << getHostOnlyAttrName()
                               << "' must be a unit attribute of a function "
                                  "declaration";
    return success();
  }
  if (attr.getName() == getDeviceEntryAttrName()) {
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!isa<UnitAttr>(attr.getValue()) || !function || function.isExternal() ||
        function.isPrivate())
      return op->emitOpError() << "'" << getDeviceEntryAttrName()
                               << "' must be a unit attribute of a public "
                                  "function with a body";
    if (llvm::any_of(function.getResultTypes(), llvm::IsaPred<MemRefType>))
      return op->emitOpError()
             << "'" << getDeviceEntryAttrName()
             << "' function returns a buffer; a device entry's callers pass "
                "the buffers it writes";
    return success();
  }
  return op->emitOpError() << "unknown qtrain attribute '"
                           << attr.getName().getValue() << "'";
}

LogicalResult QTrainDialect::verifyRegionArgAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned argIndex,
                                                      NamedAttribute attr) {
  if (attr.getName() == getInitAttrName()) {
    if (!isa<ParamInitAttr>(attr.getValue()))
      return op->emitError()
             << "'" << getInitAttrName()
             << "' must be a #qtrain<init ...>, got " << attr.getValue();
    return success();
  }
  if (attr.getName() != getRoleAttrName())
    return op->emitError() << "unknown qtrain argument attribute '"
                           << attr.getName().getValue() << "'";
  auto role = dyn_cast<ArgRoleAttr>(attr.getValue());
  if (!role)
    return op->emitError() << "'" << getRoleAttrName()
                           << "' must be a #qtrain<role ...>, got "
                           << attr.getValue();
  // Tensors, or the memrefs they become after bufferization.
  Type type = op->getRegion(regionIndex).getArgument(argIndex).getType();
  auto tensor = dyn_cast<ShapedType>(type);
  if (tensor && !tensor.hasRank())
    tensor = nullptr;
  bool ok;
  switch (role.getValue()) {
  case ArgRole::seed:
    ok = type.isInteger(64);
    break;
  case ArgRole::loss_scale:
  case ArgRole::learning_rate:
    ok = tensor && tensor.getRank() == 0 && tensor.getElementType().isF32();
    break;
  case ArgRole::parameter:
  case ArgRole::state:
    ok = tensor && tensor.hasStaticShape() &&
         isa<FloatType>(tensor.getElementType());
    break;
  default:
    ok = tensor && tensor.hasStaticShape();
  }
  if (!ok)
    return op->emitError() << "argument #" << argIndex << " of role '"
                           << stringifyArgRole(role.getValue()) << "' has type "
                           << type << "; expected "
                           << (role.getValue() == ArgRole::seed ? "i64"
                               : role.getValue() == ArgRole::loss_scale ||
                                       role.getValue() == ArgRole::learning_rate
                                   ? "tensor<f32>"
                               : role.getValue() == ArgRole::parameter ||
                                       role.getValue() == ArgRole::state
                                   ? "a static float tensor"
                                   : "a static tensor");
  return success();
}

//===----------------------------------------------------------------------===//
// Roles
//===----------------------------------------------------------------------===//

std::optional<ArgRole> mlir::qtrain::getArgRole(FunctionOpInterface func,
                                                unsigned index) {
  if (auto role = func.getArgAttrOfType<ArgRoleAttr>(
          index, QTrainDialect::getRoleAttrName()))
    return role.getValue();
  return std::nullopt;
}

bool mlir::qtrain::isModel(FunctionOpInterface func) {
  if (func.isExternal())
    return false;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (getArgRole(func, i) == ArgRole::parameter)
      return true;
  return false;
}

BlockArgument mlir::qtrain::getArgWithRole(FunctionOpInterface func,
                                           ArgRole role) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (getArgRole(func, i) == role)
      return func.getArgument(i);
  return {};
}

BlockArgument mlir::qtrain::addArgWithRole(FunctionOpInterface func, Type type,
                                           ArgRole role, Location loc) {
  MLIRContext *ctx = func.getContext();
  unsigned index = func.getNumArguments();
  auto attrs = DictionaryAttr::get(
      ctx,
      {NamedAttribute(StringAttr::get(ctx, QTrainDialect::getRoleAttrName()),
                      ArgRoleAttr::get(ctx, role))});
  (void)func.insertArgument(index, type, attrs, loc);
  return func.getArgument(index);
}

SmallVector<BlockArgument>
mlir::qtrain::getArgsWithRole(FunctionOpInterface func, ArgRole role) {
  SmallVector<BlockArgument> args;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (getArgRole(func, i) == role)
      args.push_back(func.getArgument(i));
  return args;
}

void mlir::qtrain::appendResult(FunctionOpInterface func, Value value) {
  Operation *ret = func.getFunctionBody().front().getTerminator();
  ret->insertOperands(ret->getNumOperands(), value);
  (void)func.insertResult(func.getNumResults(), value.getType(), {});
}
