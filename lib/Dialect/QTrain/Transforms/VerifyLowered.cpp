//===- VerifyLowered.cpp - Check that no qtrain op is left ----------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_VERIFYLOWEREDPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {
struct VerifyLoweredPass
    : mlir::qtrain::impl::VerifyLoweredPassBase<VerifyLoweredPass> {
  void runOnOperation() override {
    bool found = false;
    getOperation()->walk([&](Operation *op) {
      if (isa<QTrainDialect>(op->getDialect())) {
        op->emitOpError("was not lowered");
        found = true;
      }
    });
    if (found)
      signalPassFailure();
  }
};
} // namespace
