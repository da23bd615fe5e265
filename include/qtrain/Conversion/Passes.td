//===- Passes.td - qtrain conversion passes ----------------*- tablegen -*-===//

#ifndef QTRAIN_CONVERSION_PASSES_TD
#define QTRAIN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQTrainToLinalgPass : Pass<"convert-qtrain-to-linalg"> {
  let summary = "Lower qtrain ops to linalg, tensor, arith, math and scf";
  let description = [{
    Rewrites every qtrain op into upstream ops on tensors that any MLIR
    backend can compile:

    * `qtrain.round`, `qtrain.quantize` and `qtrain.dequantize` become
      element-wise `linalg.generic` ops whose bodies compute the numerics
      library's encode/decode with integer bit manipulation (and
      Philox4x32-10 for stochastic rounding), so compiled results equal the
      library bit for bit and the bodies vectorize;
    * `qtrain.compute_scale` becomes reductions and an element-wise epilogue;
    * `qtrain.qmatmul` and `qtrain.qconv2d` become integer contractions with
      i32 accumulation (integer formats) or exact widening to the accumulator
      type (float formats), followed by a float rescale.

    Ops the lowering cannot handle (a dynamic dimension along a per-block
    axis, say) are reported with an error on the op.

    Example:
    ```mlir
    %0 = qtrain.round %x to float<f8E4M3FN> : tensor<16xf32>
    ```
    becomes
    ```mlir
    %e = tensor.empty() : tensor<16xf32>
    %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
           ins(%x : tensor<16xf32>) outs(%e : tensor<16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %bits = arith.bitcast %in : f32 to i32
      ...  // encode to E4M3FN and decode, as integer arithmetic
      linalg.yield %v : f32
    } -> tensor<16xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // QTRAIN_CONVERSION_PASSES_TD
