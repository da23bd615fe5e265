//===- Reductions.h - What GPU reductions may reorder -----------*- C++ -*-===//
//
// Shared by the passes that give reductions GPU parallelism
// (qtrain-parallelize-reductions, qtrain-block-reductions) and the
// tensor-core GEMM kernels that reduce their outputs in their epilogues:
// all combine terms in another order than the sequential loop, which only
// some combiners allow, and blocks combine their results atomically where a
// memory atomic combines exactly as the combiner does.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_REDUCTIONS_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_REDUCTIONS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::qtrain {

/// The op combining each term into output `index` of `op`, if the reduction
/// has a single one.
Operation *reductionCombiner(linalg::GenericOp op, unsigned index);

/// The op combining each term into output `index` of `op`, if the reduction
/// has a single one whose result does not depend on the order of the terms
/// (max/min, integer add/mul/and/or/xor, a float add/mul marked `reassoc`).
Operation *orderFreeCombiner(linalg::GenericOp op, unsigned index);

/// The memref.atomic_rmw kind that combines as `combiner` does, exactly
/// and with an LLVM atomicrmw to lower to (max/min, integer add/and/or;
/// not float sums, whose bits would depend on the order of arrival, nor
/// integer mul or xor).
std::optional<arith::AtomicRMWKind> atomicKind(Operation *combiner);

/// Whether combining a value into a result that already holds it changes
/// nothing (max/min, and/or), so that a thread may skip an atomic that
/// would not change the result it has read.
bool isIdempotent(arith::AtomicRMWKind kind);

/// Lanes in a warp, the span of gpu.shuffle.
constexpr int64_t kWarpLanes = 32;

/// Combines each of `values` (32-bit: what gpu.shuffle moves) with the
/// lanes' around it by a butterfly of gpu.shuffle xor at lane distances
/// `from`, `from` / 2, ..., 1, `combine(b, i, mine, other)` combining
/// value `i`: after it, each lane holds the total of the 2 `from` lanes
/// of its aligned group. Every lane of the warp must run it.
void combineAcrossLanes(
    OpBuilder &b, Location loc, MutableArrayRef<Value> values, int64_t from,
    llvm::function_ref<Value(OpBuilder &, unsigned, Value, Value)> combine);

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_REDUCTIONS_H
