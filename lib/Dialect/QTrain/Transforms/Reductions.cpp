//===- Reductions.cpp - What GPU reductions may reorder -------------------===//
//
// Reductions.h's queries, shared by the reduction passes and the tensor-core
// GEMM kernels (whose epilogues take reductions of their outputs).
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

Operation *mlir::qtrain::reductionCombiner(linalg::GenericOp op,
                                           unsigned index) {
  SmallVector<Operation *, 1> combiners;
  if (!matchReduction(op.getRegionOutputArgs(), index, combiners) ||
      combiners.size() != 1)
    return nullptr;
  return combiners.front();
}

Operation *mlir::qtrain::orderFreeCombiner(linalg::GenericOp op,
                                           unsigned index) {
  Operation *combiner = reductionCombiner(op, index);
  if (!combiner)
    return nullptr;
  if (isa<arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
          arith::MinNumFOp, arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp,
          arith::MinUIOp, arith::AddIOp, arith::MulIOp, arith::AndIOp,
          arith::OrIOp, arith::XOrIOp>(combiner))
    return combiner;
  if (auto fastMath = dyn_cast<arith::ArithFastMathInterface>(combiner);
      fastMath && isa<arith::AddFOp, arith::MulFOp>(combiner) &&
      arith::bitEnumContainsAll(fastMath.getFastMathFlagsAttr().getValue(),
                                arith::FastMathFlags::reassoc))
    return combiner;
  return nullptr;
}

std::optional<arith::AtomicRMWKind>
mlir::qtrain::atomicKind(Operation *combiner) {
  using Kind = arith::AtomicRMWKind;
  return llvm::TypeSwitch<Operation *, std::optional<Kind>>(combiner)
      .Case([](arith::MaximumFOp) { return Kind::maximumf; })
      .Case([](arith::MinimumFOp) { return Kind::minimumf; })
      .Case([](arith::MaxNumFOp) { return Kind::maxnumf; })
      .Case([](arith::MinNumFOp) { return Kind::minnumf; })
      .Case([](arith::MaxSIOp) { return Kind::maxs; })
      .Case([](arith::MinSIOp) { return Kind::mins; })
      .Case([](arith::MaxUIOp) { return Kind::maxu; })
      .Case([](arith::MinUIOp) { return Kind::minu; })
      .Case([](arith::AddIOp) { return Kind::addi; })
      .Case([](arith::AndIOp) { return Kind::andi; })
      .Case([](arith::OrIOp) { return Kind::ori; })
      .Default([](Operation *) { return std::nullopt; });
}

bool mlir::qtrain::isIdempotent(arith::AtomicRMWKind kind) {
  using Kind = arith::AtomicRMWKind;
  switch (kind) {
  case Kind::maximumf:
  case Kind::minimumf:
  case Kind::maxnumf:
  case Kind::minnumf:
  case Kind::maxs:
  case Kind::mins:
  case Kind::maxu:
  case Kind::minu:
  case Kind::andi:
  case Kind::ori:
    return true;
  default:
    return false;
  }
}

void mlir::qtrain::combineAcrossLanes(
    OpBuilder &b, Location loc, MutableArrayRef<Value> values, int64_t from,
    llvm::function_ref<Value(OpBuilder &, unsigned, Value, Value)> combine) {
  Value width = arith::ConstantIntOp::create(b, loc, kWarpLanes, 32);
  for (int64_t distance = from; distance >= 1; distance /= 2) {
    Value offset = arith::ConstantIntOp::create(b, loc, distance, 32);
    // The values' shuffles at one distance are independent: issued
    // together, their latencies overlap.
    for (auto [i, value] : llvm::enumerate(values)) {
      Value other = gpu::ShuffleOp::create(b, loc, value, offset, width,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(b, i, value, other);
    }
  }
}
