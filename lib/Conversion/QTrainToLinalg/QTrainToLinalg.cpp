//===- QTrainToLinalg.cpp - The convert-qtrain-to-linalg pass -------------===//

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"
#include "qtrain/Conversion/Passes.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_CONVERTQTRAINTOLINALGPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {
struct ConvertQTrainToLinalgPass
    : mlir::qtrain::impl::ConvertQTrainToLinalgPassBase<
          ConvertQTrainToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQTrainToLinalgPatterns(patterns, target);
    // One walk is enough: every pattern replaces its op with upstream ops
    // only. Patterns that cannot lower an op report why on the op.
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    WalkResult left = getOperation()->walk([](Operation *op) {
      return isa<QTrainDialect>(op->getDialect()) ? WalkResult::interrupt()
                                                  : WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
