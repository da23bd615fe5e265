//===- QTrainDialect.cpp - qtrain dialect ---------------------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qtrain;

#include "qtrain/Dialect/QTrain/IR/QTrainOpsDialect.cpp.inc"

void QTrainDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "qtrain/Dialect/QTrain/IR/QTrainOps.cpp.inc"
      >();
}

Operation *QTrainDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}
