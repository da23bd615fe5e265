//===- QTrainEnums.td - qtrain enums -----------------------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINENUMS_TD
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINENUMS_TD

include "qtrain/Dialect/QTrain/IR/QTrainBase.td"
include "mlir/IR/EnumAttr.td"

def QTrain_RoundingMode : I32EnumAttr<"RoundingMode",
    "how a value between two grid points is rounded", [
      I32EnumAttrCase<"nearest_even", 0>,
      I32EnumAttrCase<"nearest_away", 1>,
      I32EnumAttrCase<"toward_zero", 2>,
      I32EnumAttrCase<"upward", 3>,
      I32EnumAttrCase<"downward", 4>,
      I32EnumAttrCase<"stochastic", 5>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_RoundingModeAttr : EnumAttr<QTrain_Dialect, QTrain_RoundingMode,
                                       "rounding"> {
  let summary = "Rounding mode";
  let description = [{
    `nearest_even` and `nearest_away` round to the nearest grid point and
    break ties to the even point or away from zero; `toward_zero`, `upward`
    and `downward` are IEEE directed rounding; `stochastic` rounds away from
    zero with probability equal to the distance from the grid point toward
    zero, using Philox4x32-10 bits keyed by a seed operand, the op's stream
    id and the element index.

    Example: `#qtrain<rounding stochastic>`
  }];
}

def QTrain_OverflowMode : I32EnumAttr<"OverflowMode",
    "what happens to values beyond the largest finite value", [
      I32EnumAttrCase<"saturate", 0>,
      I32EnumAttrCase<"native", 1>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_OverflowModeAttr : EnumAttr<QTrain_Dialect, QTrain_OverflowMode,
                                       "overflow"> {
  let summary = "Overflow rule";
  let description = [{
    `saturate` clamps out-of-range values and infinities to the largest finite
    value; `native` follows the format's own special values, as LLVM's
    APFloat does (inf for IEEE formats, NaN for formats with NaN but no inf).
    Integer formats always saturate.

    Example: `#qtrain<overflow native>`
  }];
}

def QTrain_SpecialValues : I32EnumAttr<"SpecialValues",
    "how a float format encodes inf and NaN", [
      I32EnumAttrCase<"ieee", 0>,
      I32EnumAttrCase<"fn", 1>,
      I32EnumAttrCase<"fnuz", 2>,
      I32EnumAttrCase<"finite_only", 3>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_Signedness : I32EnumAttr<"Signedness",
    "integer format signedness", [
      I32EnumAttrCase<"Signed", 0, "signed">,
      I32EnumAttrCase<"Unsigned", 1, "unsigned">]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_GranularityKind : I32EnumAttr<"GranularityKind",
    "which elements share a scale", [
      I32EnumAttrCase<"per_tensor", 0>,
      I32EnumAttrCase<"per_channel", 1>,
      I32EnumAttrCase<"per_block", 2>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_ScaleMethod : I32EnumAttr<"ScaleMethod",
    "how a scale is derived from data", [
      I32EnumAttrCase<"absmax", 0>,
      I32EnumAttrCase<"minmax", 1>,
      I32EnumAttrCase<"batch_minmax", 2>,
      I32EnumAttrCase<"pow2", 3>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_ConvLayout : I32EnumAttr<"ConvLayout",
    "data and filter layouts of a 2-D convolution", [
      I32EnumAttrCase<"nchw_fchw", 0>,
      I32EnumAttrCase<"nhwc_hwcf", 1>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_ConvLayoutAttr : EnumAttr<QTrain_Dialect, QTrain_ConvLayout,
                                     "conv_layout"> {
  let summary = "Convolution layout";
  let description = [{
    The layouts of `linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf`.

    Example: `#qtrain<conv_layout nhwc_hwcf>`
  }];
}


def QTrain_ArgRole : I32EnumAttr<"ArgRole",
    "what a model argument is to the training rewrite", [
      I32EnumAttrCase<"parameter", 0>,
      I32EnumAttrCase<"input", 1>,
      I32EnumAttrCase<"label", 2>,
      I32EnumAttrCase<"seed", 3>,
      I32EnumAttrCase<"loss_scale", 4>,
      I32EnumAttrCase<"learning_rate", 5>,
      I32EnumAttrCase<"state", 6>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_ArgRoleAttr : EnumAttr<QTrain_Dialect, QTrain_ArgRole, "role"> {
  let summary = "Role of a model argument";
  let description = [{
    Marks the arguments of a model function (the `qtrain.role` argument
    attribute): `parameter`s are trained and get gradients, `input`s and
    `label`s are the batch, `seed` is the i64 key of stochastic rounding,
    `loss_scale` the tensor<f32> factor the backward pass starts from,
    `learning_rate` the tensor<f32> step size of a training step, and
    `state` the tensors a training step carries from one call to the next
    (momenta, weight residuals, the loss scale); a step returns their new
    values after the loss and the new parameters, in argument order.

    Example: `func.func @mlp(%w: tensor<784x10xf32> {qtrain.role = #qtrain<role parameter>}, ...)`
  }];
}


def QTrain_ParamInit : I32EnumAttr<"ParamInit",
    "how a driver initializes a parameter", [
      I32EnumAttrCase<"he_normal", 0>,
      I32EnumAttrCase<"zeros", 1>,
      I32EnumAttrCase<"ones", 2>,
      I32EnumAttrCase<"glorot_uniform", 3>]> {
  let cppNamespace = "::mlir::qtrain";
  let genSpecializedAttr = 0;
}

def QTrain_ParamInitAttr : EnumAttr<QTrain_Dialect, QTrain_ParamInit, "init"> {
  let summary = "Initialization of a parameter";
  let description = [{
    The `qtrain.init` argument attribute tells drivers such as qtrain-train
    how to initialize a parameter: `he_normal` (normal with variance
    2 / fan-in, the fan-in being every dimension but the output one),
    `glorot_uniform` (uniform on [-a, a] with a = sqrt(6 / (fan-in +
    fan-out)), the fan-out being every dimension but the input one),
    `zeros` or `ones` (batch-norm scales). Without it, parameters of rank 2
    or more are initialized as the driver's default (qtrain-train
    `--init`, He by default) and the others `zeros`.

    Example: `%gamma: tensor<8xf32> {qtrain.role = #qtrain<role parameter>, qtrain.init = #qtrain<init ones>}`
  }];
}

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINENUMS_TD
