//===- ExpandQuantizers.cpp - qtrain-expand-quantizers --------------------===//

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_EXPANDQUANTIZERSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {
struct ExpandQuantizersPass
    : mlir::qtrain::impl::ExpandQuantizersPassBase<ExpandQuantizersPass> {
  void runOnOperation() override {
    getOperation()->walk([](QuantizerOp op) {
      Value forward = op.getInput();
      if (QuantSpecAttr spec = op.getForwardAttr()) {
        OpBuilder builder(op);
        forward = QuantizerOp::buildRounding(
            builder, op.getLoc(), forward, spec, op.getSeed(), op.getStream());
      }
      op.replaceAllUsesWith(forward);
      op.erase();
    });
  }
};
} // namespace
