//===- InitAllDialects.h - Register qtrain dialects -------------*- C++ -*-===//
//
// For compilers that embed qtrain: registers the qtrain dialect (upstream
// dialects are registered with mlir::registerAllDialects).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_INITALLDIALECTS_H
#define QTRAIN_INITALLDIALECTS_H

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/IR/DialectRegistry.h"

namespace mlir::qtrain {

inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<QTrainDialect>();
}

} // namespace mlir::qtrain

#endif // QTRAIN_INITALLDIALECTS_H
