//===- QTrainDialect.h - qtrain dialect -------------------------*- C++ -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINDIALECT_H
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "qtrain/Dialect/QTrain/IR/QTrainOpsDialect.h.inc"

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINDIALECT_H
