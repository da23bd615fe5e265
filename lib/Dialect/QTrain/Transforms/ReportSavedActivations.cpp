//===- ReportSavedActivations.cpp - qtrain-report-saved-activations -------===//

#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/Transforms/Passes.h"
#include "qtrain/Dialect/QTrain/Transforms/SavedActivations.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_REPORTSAVEDACTIVATIONSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;

namespace {
struct ReportSavedActivationsPass
    : mlir::qtrain::impl::ReportSavedActivationsPassBase<
          ReportSavedActivationsPass> {
  void runOnOperation() override {
    func::FuncOp grad = getOperation();
    if (!grad->hasAttr(QTrainDialect::getGradientOfAttrName()))
      return;
    SmallVector<SavedActivation> saved = findSavedActivations(grad);
    llvm::MapVector<StringRef, int64_t> perLayer;
    int64_t total = 0;
    for (const SavedActivation &s : saved) {
      perLayer[s.layer] += s.bytes;
      total += s.bytes;
    }
    InFlightDiagnostic remark = grad.emitRemark()
                                << "saved for backward: " << total << " bytes";
    StringRef separator = "; ";
    for (auto [layer, bytes] : perLayer) {
      remark << separator << layer << " " << bytes;
      separator = ", ";
    }
    for (const SavedActivation &s : saved)
      remark.attachNote(s.value.getLoc())
          << s.layer << ": " << s.bytes << " bytes of " << s.value.getType();
  }
};
} // namespace
