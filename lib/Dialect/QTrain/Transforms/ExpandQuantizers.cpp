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
      OpBuilder builder(op);
      Value input = op.getInput(), forward = input;
      auto [history, newHistory] = op.getHistory(0);
      if (QuantSpecAttr spec = op.getForwardAttr())
        forward =
            QuantizerOp::buildRounding(builder, op.getLoc(), input, spec,
                                       op.getSeed(), op.getStream(), history);
      op.getResult().replaceAllUsesWith(forward);
      if (history)
        newHistory.replaceAllUsesWith(
            RecordAmaxOp::create(builder, op.getLoc(), input, history));
      // Outside a gradient function no gradient passes: backward histories
      // come back as they were.
      for (unsigned direction : {1, 2}) {
        auto [old, updated] = op.getHistory(direction);
        if (old)
          updated.replaceAllUsesWith(old);
      }
      op.erase();
    });
  }
};
} // namespace
