//===- LoweringUtils.h - Shared helpers of the qtrain lowering --*- C++ -*-===//

#ifndef QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_LOWERINGUTILS_H
#define QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_LOWERINGUTILS_H

#include "NumericsIR.h"

#include "qtrain/Numerics/Quantization.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::qtrain {

/// Computes one result element from one data element, the elements of the
/// per-group operands for its scale group, and (for stochastic rounding) the
/// element's 32 random bits.
using ElementwiseBody =
    function_ref<Value(ImplicitLocOpBuilder &b, Value element,
                       ValueRange groupElements, Value randomBits)>;

/// The key of an op's stochastic rounding.
struct StochasticKey {
  Value seed; // i64
  uint32_t stream;
};

/// Emits a linalg.generic mapping every element of `data` to an element of
/// type `resultElementType`, with `groupOperands` (shaped like the scale of
/// `granularity`) broadcast to the elements of their group. Per-block data is
/// expanded to [..., blocks, block size, ...] so that every indexing map is a
/// projected permutation (which vectorizes). With a stochastic `key`, the
/// body also receives each element's random bits; when the innermost
/// dimension is a static multiple of 64 (and the scales do not index it), it
/// is split into [chunks, 4, 16] so that an element's Philox block does not
/// depend on the middle index: loop-invariant code motion then computes each
/// block once for the four words it serves. Fails with an error on `op` for
/// shapes it does not handle.
FailureOr<Value> buildElementwise(PatternRewriter &rewriter, Operation *op,
                                  Value data, ValueRange groupOperands,
                                  const ::qtrain::numerics::Granularity &g,
                                  Type resultElementType,
                                  std::optional<StochasticKey> key,
                                  ElementwiseBody body);

/// `data` reshaped for `granularity`: per-block data gets its block axis
/// split in two; otherwise `data` itself. `groupDims` receives the iteration
/// dimensions that index the scale.
FailureOr<Value> expandForGranularity(PatternRewriter &rewriter, Operation *op,
                                      Value data,
                                      const ::qtrain::numerics::Granularity &g,
                                      SmallVectorImpl<int64_t> &groupDims);

/// Widens f16/bf16 to f32 (exact), with the numerics decoder: arith.extf of
/// f16 may become a soft-float call on CPUs without F16C.
Value toF32(NumericsIRBuilder &numerics, Value value);
/// Converts f32 to `type` (f32, f16 or bf16) with round-to-nearest-even,
/// through the numerics encoder rather than arith.truncf (whose x86 bf16
/// instruction flushes subnormals, and which is a soft-float call without
/// AVX512-BF16).
Value fromF32(NumericsIRBuilder &numerics, Value value, Type type);

/// x + y and x * y in their type (f32, f16 or bf16), correctly rounded:
/// f16/bf16 operands are computed in f32 and rounded once more, which is
/// exact for + and * since 24 >= 2p + 2 for their precisions p.
Value addInType(NumericsIRBuilder &numerics, Value x, Value y);
Value mulInType(NumericsIRBuilder &numerics, Value x, Value y);

/// tensor.empty of `type`'s shape (dynamic sizes taken from `like`, which
/// has the same shape) filled with `value`, or unfilled if `value` is null.
Value createTensor(OpBuilder &b, Location loc, Value like, Type elementType,
                   Attribute fillValue = {});

} // namespace mlir::qtrain

#endif // QTRAIN_LIB_CONVERSION_QTRAINTOLINALG_LOWERINGUTILS_H
