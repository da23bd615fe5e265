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

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD
