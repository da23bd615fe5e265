//===- QTrainOps.h - qtrain operations --------------------------*- C++ -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_H
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qtrain/Dialect/QTrain/IR/QTrainAttrs.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#define GET_OP_CLASSES
#include "qtrain/Dialect/QTrain/IR/QTrainOps.h.inc"

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_H
