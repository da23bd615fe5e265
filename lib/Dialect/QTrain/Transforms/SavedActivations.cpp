//===- SavedActivations.cpp - Layers and what backward keeps --------------===//

#include "qtrain/Dialect/QTrain/Transforms/SavedActivations.h"

#include "qtrain/Dialect/QTrain/IR/QTrainOps.h"
#include "qtrain/Dialect/QTrain/IR/Roles.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::qtrain;

bool mlir::qtrain::isLayerOp(Operation *op) {
  return isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNchwFchwOp,
             linalg::Conv2DNhwcHwcfOp>(op) ||
         (isa<linalg::GenericOp>(op) &&
          op->hasAttr(QTrainDialect::getLayerAttrName()));
}

std::string mlir::qtrain::getLayerName(Operation *op) {
  if (auto name =
          op->getAttrOfType<StringAttr>(QTrainDialect::getLayerAttrName()))
    return name.str();
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  return "";
}

/// The values of `op`'s body that reach its yield: a gradient generic
/// copies its primal body, of which it may use only a part.
static DenseSet<Value> readByBody(linalg::LinalgOp op) {
  DenseSet<Value> read;
  SmallVector<Value> worklist(op.getBlock()->getTerminator()->getOperands());
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (!read.insert(v).second)
      continue;
    if (Operation *def = v.getDefiningOp())
      worklist.append(def->operand_begin(), def->operand_end());
  }
  return read;
}

Operation *mlir::qtrain::getLossDefinition(func::FuncOp grad) {
  auto ret = cast<func::ReturnOp>(grad.getBody().front().getTerminator());
  return ret.getNumOperands() ? ret.getOperand(0).getDefiningOp() : nullptr;
}

void mlir::qtrain::walkForward(
    func::FuncOp grad, function_ref<void(Operation *, StringRef layer)> fn) {
  Operation *lossDef = getLossDefinition(grad);
  if (!lossDef)
    return;
  std::string layer = "input";
  int64_t layers = 0;
  for (Operation &op : grad.getBody().front()) {
    if (isLayerOp(&op)) {
      std::string name = getLayerName(&op);
      layer = name.empty() ? "layer " + std::to_string(layers) : name;
      ++layers;
    }
    fn(&op, layer);
    if (&op == lossDef)
      break;
  }
}

SmallVector<SavedActivation>
mlir::qtrain::findSavedActivations(func::FuncOp grad) {
  Block &body = grad.getBody().front();
  // Activations, and the layer each comes from.
  DenseSet<Operation *> forward;
  DenseMap<Value, std::string> activations;
  for (unsigned i = 0, e = grad.getNumArguments(); i < e; ++i)
    if (getArgRole(grad, i) == ArgRole::input ||
        getArgRole(grad, i) == ArgRole::label)
      activations[grad.getArgument(i)] = "input";
  walkForward(grad, [&](Operation *op, StringRef layer) {
    forward.insert(op);
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return activations.contains(v); }))
      for (Value r : op->getResults())
        activations[r] = layer.str();
  });

  llvm::SetVector<Value> saved;
  for (Operation &op : body) {
    if (forward.contains(&op) || isa<func::ReturnOp>(op))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    DenseSet<Value> read;
    if (linalgOp)
      read = readByBody(linalgOp);
    for (OpOperand &use : op.getOpOperands()) {
      Operation *def = use.get().getDefiningOp();
      if (!def || !forward.contains(def) || !activations.contains(use.get()))
        continue;
      if (linalgOp && !read.contains(linalgOp.getMatchingBlockArgument(&use)))
        continue;
      // A reshape is a view of its source's buffer: count the buffer once.
      Value value = use.get();
      while (Operation *view = value.getDefiningOp()) {
        if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(view) ||
            !activations.contains(view->getOperand(0)))
          break;
        value = view->getOperand(0);
      }
      saved.insert(value);
    }
  }

  SmallVector<SavedActivation> result;
  for (Value v : saved) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape())
      continue;
    int64_t bits = type.getElementTypeBitWidth();
    // A quantizer's result counts at its format's width, since that is what
    // a compressed store would hold.
    if (auto quantizer = v.getDefiningOp<QuantizerOp>())
      if (QuantSpecAttr spec = quantizer.getForwardAttr())
        bits = spec.getFormat().getNumericFormat().bitWidth();
    result.push_back(
        {v, (type.getNumElements() * bits + 7) / 8, activations.lookup(v)});
  }
  return result;
}

void mlir::qtrain::recordSavedActivationBytes(func::FuncOp grad) {
  int64_t total = 0;
  for (const SavedActivation &saved : findSavedActivations(grad))
    total += saved.bytes;
  grad->setAttr(QTrainDialect::getSavedBytesAttrName(),
                Builder(grad).getI64IntegerAttr(total));
}
