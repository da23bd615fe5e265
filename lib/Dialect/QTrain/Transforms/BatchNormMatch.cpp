//===- BatchNormMatch.cpp - Recognize decomposed batch normalization ------===//

#include "BatchNormMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::qtrain;

static bool isElementwise(linalg::GenericOp op) {
  return op.getNumDpsInits() == 1 && op.getNumReductionLoops() == 0 &&
         llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); });
}

/// `acc + a * a` (possibly `acc + a * a * k`) with `a` the only input and
/// one dimension of the input kept.
static bool isSumOfSquares(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op.getNumParallelLoops() != 1 ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
    return false;
  BlockArgument a = op.getRegionInputArgs()[0];
  return llvm::any_of(op.getBlock()->getOps<arith::MulFOp>(),
                      [&](arith::MulFOp mul) {
                        return mul.getLhs() == a && mul.getRhs() == a;
                      });
}

/// The sum-of-squares reduction `v` is computed from through at most
/// `depth` element-wise generics (scaling by 1/n, adding epsilon).
static linalg::GenericOp findSumOfSquares(Value v, int depth) {
  auto producer = v.getDefiningOp<linalg::GenericOp>();
  if (!producer)
    return {};
  if (isSumOfSquares(producer))
    return producer;
  if (depth == 0 || !isElementwise(producer))
    return {};
  for (Value input : producer.getDpsInputs())
    if (linalg::GenericOp found = findSumOfSquares(input, depth - 1))
      return found;
  return {};
}

std::optional<BatchNormMatch>
mlir::qtrain::matchBatchNorm(linalg::GenericOp op) {
  if (!isElementwise(op) || op.getBlock()->getOps<math::RsqrtOp>().empty())
    return std::nullopt;
  for (Value input : op.getDpsInputs())
    if (linalg::GenericOp sum = findSumOfSquares(input, /*depth=*/3))
      return BatchNormMatch{sum.getDpsInputs()[0], sum, op};
  return std::nullopt;
}
