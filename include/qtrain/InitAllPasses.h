//===- InitAllPasses.h - Register qtrain passes and pipelines ---*- C++ -*-===//

#ifndef QTRAIN_INITALLPASSES_H
#define QTRAIN_INITALLPASSES_H

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Pipelines/Pipelines.h"

namespace mlir::qtrain {

/// Registers every qtrain pass and pipeline (upstream ones are registered
/// with mlir::registerAllPasses).
inline void registerAllPasses() {
  registerQTrainPasses();
  registerQTrainConversionPasses();
  registerPipelines();
}

} // namespace mlir::qtrain

#endif // QTRAIN_INITALLPASSES_H
