//===- ReassociateFloatSums.cpp - qtrain-reassociate-float-sums -----------===//
//
// GPU pipelines leave the order of a reduction's float sum unspecified, so
// that it may run as partial sums rather than one thread per output.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_REASSOCIATEFLOATSUMSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

struct ReassociateFloatSumsPass
    : mlir::qtrain::impl::ReassociateFloatSumsPassBase<
          ReassociateFloatSumsPass> {
  void runOnOperation() override {
    getOperation()->walk([](linalg::GenericOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      for (unsigned i = 0, e = op.getNumDpsInits(); i < e; ++i) {
        Operation *combiner = mlir::qtrain::reductionCombiner(op, i);
        if (!isa_and_nonnull<arith::AddFOp, arith::MulFOp>(combiner))
          continue;
        auto fastMath = cast<arith::ArithFastMathInterface>(combiner);
        fastMath->setAttr(
            fastMath.getFastMathAttrName(),
            arith::FastMathFlagsAttr::get(
                op.getContext(), fastMath.getFastMathFlagsAttr().getValue() |
                                     arith::FastMathFlags::reassoc));
      }
    });
  }
};

} // namespace
