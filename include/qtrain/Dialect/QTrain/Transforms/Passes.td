//===- Passes.td - qtrain dialect passes -------------------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def VerifyLoweredPass : Pass<"qtrain-verify-lowered"> {
  let summary = "Fail if any qtrain op is left after lowering";
  let description = [{
    The backend contract of the qtrain lowering pipelines: after
    `convert-qtrain-to-linalg` no qtrain op may remain. This pass reports
    each one with an error at its location, so a pipeline stops with a
    diagnostic naming the op instead of failing later in LLVM conversion.

    Example: on
    ```mlir
    %0 = qtrain.round %x to float<f8E4M3FN> : tensor<4xf32>
    ```
    it reports `error: 'qtrain.round' op was not lowered`.
  }];
}

def VectorizeLinalgPass : Pass<"qtrain-vectorize-linalg"> {
  let summary = "Tile and vectorize the linalg ops of lowered qtrain code";
  let description = [{
    Tiles every linalg op on tensors whose indexing maps are projected
    permutations (the element-wise bodies of rounding, the reductions of
    compute_scale, the contractions of qmatmul) so that each tile covers one
        vector along the innermost dimension, and vectorizes the tiles with
    masked vectors where sizes do not divide. The innermost reduction of a
    two-operand contraction gets four vectors, a 64-byte int8 dot product on
    AVX-512. Reductions, and ops on f16/bf16 (whose masked loads and stores
    become soft-float calls on x86), are never masked: they take the largest
        power-of-two vector dividing the static extent, or stay scalar. Ops with
    other maps (convolutions) are left to scalar loops. f32 sums whose adds
    are `fastmath<reassoc>` (float contractions, whose order qtrain leaves
    unspecified) become reassociable vector reductions, i.e. trees of vector
    adds rather than chains of scalar ones.

    Built on upstream scf::tileUsingSCF and linalg::vectorize.

    Example: with `vector-width=16`, an element-wise `linalg.generic` on
    `tensor<8x100xf32>` becomes an `scf.for` nest over [8, 100] in steps of
    [1, 16] whose body reads `vector<1x16xf32>` (masked on the last step),
    computes on vectors and writes them back.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements per vector along the innermost dimension">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD
