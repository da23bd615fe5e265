//===- QTrainOps.td - qtrain operations --------------------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_TD
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_TD

include "qtrain/Dialect/QTrain/IR/QTrainAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

defvar QTrain_FloatTensor = RankedTensorOf<[F32, F16, BF16]>;
defvar QTrain_ScaleTensor = RankedTensorOf<[F32]>;

// Arguments shared by the ops that round: format, rounding, overflow,
// granularity of the scale operands, and the stochastic-rounding stream id.
defvar QTrain_RoundingArgs = (ins
  QTrain_NumericFormatAttrInterface:$format,
  DefaultValuedAttr<QTrain_RoundingModeAttr,
                    "::mlir::qtrain::RoundingMode::nearest_even">:$rounding,
  DefaultValuedAttr<QTrain_OverflowModeAttr,
                    "::mlir::qtrain::OverflowMode::saturate">:$overflow,
  OptionalAttr<QTrain_GranularityAttr>:$granularity,
  DefaultValuedAttr<I32Attr, "0">:$stream
);

// Assembly of the optional scale, zero point and granularity.
defvar QTrain_ScaleOperandsFormat = [{
  (`scale` `(` $scale^ `:` type($scale) `)`)?
  (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
  (`granularity` $granularity^)?
}];
defvar QTrain_RoundingFormat = [{
  (`rounding` `` $rounding^)? (`seed` `(` $seed^ `)`)? (`overflow` `` $overflow^)?
}];

//===----------------------------------------------------------------------===//
// Rounding and conversion
//===----------------------------------------------------------------------===//

def QTrain_RoundOp : QTrain_Op<"round", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Round float values onto a format's grid and back";
  let description = [{
    Simulated ("fake") quantization: `dequantize(quantize(x))` in one op, with
    the same arithmetic. Each element is scaled (`t = x * (1 / scale) +
    zero_point`), rounded to `format` with `rounding` and `overflow`, decoded,
    and scaled back (`(v - zero_point) * scale`), in f32. Without a scale the
    op rounds the values themselves, and then the format must be exactly
    representable in the element type.

    `rounding stochastic` needs a `seed` (i64); the random bits of element `i`
    are word `(i / 16) % 4` of Philox4x32-10 with key `seed` and counter
    `{16 * (i / 64) + i % 16, stream, 0}` (docs/numerics.md), so every
    backend draws the same bits. Give each op a distinct `stream` to
    decorrelate them.

    Examples:
    ```mlir
    %0 = qtrain.round %x to float<f8E4M3FN> : tensor<16xf32>
    %1 = qtrain.round %x to int<8, signed>
           scale(%s : tensor<16xf32>) granularity <per_channel, axis = 0>
           rounding stochastic seed(%seed) {stream = 3 : i32}
           : tensor<16x8xf32>
    ```
  }];
  let arguments = !con((ins QTrain_FloatTensor:$input,
                            Optional<QTrain_ScaleTensor>:$scale,
                            Optional<QTrain_ScaleTensor>:$zero_point,
                            Optional<I64>:$seed),
                       QTrain_RoundingArgs);
  let results = (outs QTrain_FloatTensor:$result);
  let assemblyFormat = !strconcat("$input `to` custom<NumericFormat>($format)",
      QTrain_ScaleOperandsFormat, QTrain_RoundingFormat,
      "attr-dict `:` type($input)");
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QTrain_QuantizeOp : QTrain_Op<"quantize", [Pure,
    AttrSizedOperandSegments]> {
  let summary = "Convert float values to codes of a format";
  let description = [{
    `code = encode(x * (1 / scale) + zero_point)`, computed in f32 and
    encoded into `format` with `rounding` and `overflow`. The result element
    type is the format's storage type: the builtin float type of the same
    format, or a signless integer. A zero point is only allowed with integer
    formats. Stochastic rounding draws bits as `qtrain.round` does.

    Example:
    ```mlir
    %q = qtrain.quantize %x to float<f8E4M3FN>
           scale(%s : tensor<f32>) : tensor<4x8xf32> -> tensor<4x8xf8E4M3FN>
    ```
  }];
  let arguments = !con((ins QTrain_FloatTensor:$input,
                            Optional<QTrain_ScaleTensor>:$scale,
                            Optional<QTrain_ScaleTensor>:$zero_point,
                            Optional<I64>:$seed),
                       QTrain_RoundingArgs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = !strconcat("$input `to` custom<NumericFormat>($format)",
      QTrain_ScaleOperandsFormat, QTrain_RoundingFormat,
      "attr-dict `:` type($input) `->` type($result)");
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QTrain_DequantizeOp : QTrain_Op<"dequantize", [Pure,
    AttrSizedOperandSegments]> {
  let summary = "Convert codes of a format back to float values";
  let description = [{
    `x = (decode(code) - zero_point) * scale`, computed in f32 and converted
    to the result element type with round-to-nearest-even.

    Example:
    ```mlir
    %x = qtrain.dequantize %q from int<8, unsigned>
           scale(%s : tensor<f32>) zero_point(%zp : tensor<f32>)
           : tensor<4x8xi8> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       Optional<QTrain_ScaleTensor>:$scale,
                       Optional<QTrain_ScaleTensor>:$zero_point,
                       QTrain_NumericFormatAttrInterface:$format,
                       OptionalAttr<QTrain_GranularityAttr>:$granularity);
  let results = (outs QTrain_FloatTensor:$result);
  let assemblyFormat = !strconcat("$input `from` custom<NumericFormat>($format)",
      QTrain_ScaleOperandsFormat,
      "attr-dict `:` type($input) `->` type($result)");
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def QTrain_ComputeScaleOp : QTrain_Op<"compute_scale", [Pure]> {
  let summary = "Derive the scale (and zero point) of a tensor";
  let description = [{
    Computes one scale per group of `scaling`'s granularity, and for the
    affine methods (`minmax`, `batch_minmax`) a zero point, such that
    quantizing with them maps the data onto `format`. See
    `#qtrain.scaling` and `docs/numerics.md` for the exact arithmetic. NaNs
    propagate into the scale.

    Examples:
    ```mlir
    %s = qtrain.compute_scale %w for float<f8E4M3FN>
           using <absmax, per_channel, axis = 0> : tensor<16x8xf32> -> tensor<16xf32>
    %s2, %zp = qtrain.compute_scale %a for int<8, unsigned>
           using <batch_minmax> : tensor<32x64xf32> -> tensor<f32>, tensor<f32>
    ```
  }];
  let arguments = (ins QTrain_FloatTensor:$input,
                       QTrain_NumericFormatAttrInterface:$format,
                       QTrain_ScalingAttr:$scaling);
  let results = (outs QTrain_ScaleTensor:$scale,
                      Optional<QTrain_ScaleTensor>:$zero_point);
  let assemblyFormat = [{
    $input `for` custom<NumericFormat>($format) `using` $scaling attr-dict `:` type($input) `->`
    type($scale) (`,` type($zero_point)^)?
  }];
  let hasVerifier = 1;
}

def QTrain_PackOp : QTrain_Op<"pack", [Pure]> {
  let summary = "Pack 4-bit codes two per byte";
  let description = [{
    `result[..., j] = (input[..., 2j] << 4) | (input[..., 2j + 1] & 15)`:
    the codes of a 4-bit format (`int<4, unsigned>` values 0 to 15, held
    one per i8), element `2j` in the high nibble, as the CUDA kernel of
    Chakrabarti & Moseley stores its 4-bit activations. Bits above the
    fourth of the codes are dropped. The innermost dimension must be even;
    the result's is half of it.

    Codes are held in i8 rather than i4 because a bufferized i4 tensor
    takes a byte per element when accessed as scalars but a nibble per
    element through LLVM vectors, so the two kinds of access disagree.

    Example:
    ```mlir
    %p = qtrain.pack %codes : tensor<64x8x24x24xi8> -> tensor<64x8x24x12xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def QTrain_UnpackOp : QTrain_Op<"unpack", [Pure]> {
  let summary = "Unpack bytes into two 4-bit codes each";
  let description = [{
    The inverse of `qtrain.pack`: `result[..., 2j]` is the high nibble of
    `input[..., j]` and `result[..., 2j + 1]` the low one, each a code 0 to
    15 in an i8.

    Example:
    ```mlir
    %codes = qtrain.unpack %p : tensor<64x8x24x12xi8> -> tensor<64x8x24x24xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def QTrain_RecordAmaxOp : QTrain_Op<"record_amax", [Pure,
    AllTypesMatch<["history", "result"]>]> {
  let summary = "Push the amax of a tensor onto an amax history";
  let description = [{
    The state update of delayed scaling: `result[0] = max |input|` and
    `result[i] = history[i - 1]` for `0 < i < N`, so the oldest entry drops
    out. An amax that is not finite (the input holds an inf or a NaN, as
    on a step that loss scaling skips) is recorded as 0, which no scale
    ever comes from, so one bad step cannot poison the next N scales.
    `qtrain.compute_scale` with per-tensor `absmax` on the history gives
    the delayed scale: the largest recorded amax over the format's largest
    value, or 1 while the history is all zeros.

    Example:
    ```mlir
    %h2 = qtrain.record_amax %x into %h : tensor<32x784xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins QTrain_FloatTensor:$input,
                       TensorRankOf<[F32], [1]>:$history);
  let results = (outs TensorRankOf<[F32], [1]>:$result);
  let assemblyFormat = [{
    $input `into` $history attr-dict `:` type($input) `,` type($history)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def QTrain_QMatmulOp : QTrain_Op<"qmatmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "Matrix product of quantized operands";
  let description = [{
    `result[b, m, n] = lhs_scale * rhs_scale *
      sum_k (decode(lhs[b, m, k]) - lhs_zp) * (decode(rhs[b, k, n]) - rhs_zp)`,
    with the sum accumulated in `accumulate` (i32 for integer formats; f32,
    f16 or bf16 for float formats; f32 for an integer format with a float
    one, the integer codes widened exactly) and the result converted to the
    result's float type. The batch dimension `b` is optional (rank 2 or 3).

    `transposed` operands are stored `k x m` (lhs) and `n x k` (rhs), the
    forms backward GEMMs need. Scales are per tensor, or per channel along the
    free dimension (`m` of lhs, `n` of rhs), the granularity axis counting
    dimensions of the operand as stored.

    Example:
    ```mlir
    %c = qtrain.qmatmul %a, %b
           lhs(int<8, signed>, scale %sa : tensor<f32>)
           rhs(int<8, signed> transposed, scale %sb : tensor<16xf32>
               granularity <per_channel, axis = 0>)
           accumulate i32 : tensor<4x8xi8>, tensor<16x8xi8> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       QTrain_ScaleTensor:$lhs_scale,
                       QTrain_ScaleTensor:$rhs_scale,
                       Optional<QTrain_ScaleTensor>:$lhs_zero_point,
                       Optional<QTrain_ScaleTensor>:$rhs_zero_point,
                       QTrain_NumericFormatAttrInterface:$lhs_format,
                       QTrain_NumericFormatAttrInterface:$rhs_format,
                       TypeAttr:$acc_type,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs,
                       OptionalAttr<QTrain_GranularityAttr>:$lhs_granularity,
                       OptionalAttr<QTrain_GranularityAttr>:$rhs_granularity);
  let results = (outs QTrain_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs
    `lhs` `(` custom<NumericFormat>($lhs_format) (`transposed` $transpose_lhs^)? `,`
      `scale` $lhs_scale `:` type($lhs_scale)
      (`zero_point` $lhs_zero_point^ `:` type($lhs_zero_point))?
      (`granularity` $lhs_granularity^)? `)`
    `rhs` `(` custom<NumericFormat>($rhs_format) (`transposed` $transpose_rhs^)? `,`
      `scale` $rhs_scale `:` type($rhs_scale)
      (`zero_point` $rhs_zero_point^ `:` type($rhs_zero_point))?
      (`granularity` $rhs_granularity^)? `)`
    `accumulate` $acc_type attr-dict `:` type($lhs) `,` type($rhs) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def QTrain_QConv2DOp : QTrain_Op<"qconv2d", [Pure, AttrSizedOperandSegments]> {
  let summary = "2-D convolution of quantized operands";
  let description = [{
    The convolution of `linalg.conv_2d_nchw_fchw` (or `_nhwc_hwcf`, by
    `layout`) on dequantized operands, with `strides` and `dilations`,
    accumulated in `accumulate` and scaled by `input_scale * filter_scale`.
    The input scale is per tensor; the filter scale per tensor or per output
    channel (axis 0 for `fchw`, 3 for `hwcf`).

    `padding [top, left, bottom, right]` surrounds the dequantized input
    with that many rows and columns of zeros, values rather than codes: an
    asymmetric format (a zero point that is not a code) has no code for
    them. Without it, pad before quantizing, as linalg does.

    A `transposed` filter has its output- and input-channel dimensions
    swapped (`fchw` storage read as `cfhw`, `hwcf` as `hwfc`): the
    input-gradient convolution uses the forward filter that way without
    materializing a transpose. Its per-channel scale then runs along axis 1
    (`fchw`) or 2 (`hwcf`).

    Example:
    ```mlir
    %y = qtrain.qconv2d %x, %w
           input(float<f8E4M3FN>, scale %sx : tensor<f32>)
           filter(float<f8E4M3FN>, scale %sw : tensor<8xf32>
                  granularity <per_channel, axis = 0>)
           accumulate f32 strides [2, 2]
           : tensor<1x3x9x9xf8E4M3FN>, tensor<8x3x3x3xf8E4M3FN> -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$filter,
                       QTrain_ScaleTensor:$input_scale,
                       QTrain_ScaleTensor:$filter_scale,
                       Optional<QTrain_ScaleTensor>:$input_zero_point,
                       Optional<QTrain_ScaleTensor>:$filter_zero_point,
                       QTrain_NumericFormatAttrInterface:$input_format,
                       QTrain_NumericFormatAttrInterface:$filter_format,
                       TypeAttr:$acc_type,
                       DefaultValuedAttr<QTrain_ConvLayoutAttr,
                           "::mlir::qtrain::ConvLayout::nchw_fchw">:$layout,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       UnitAttr:$transpose_filter,
                       OptionalAttr<QTrain_GranularityAttr>:$filter_granularity);
  let results = (outs QTrain_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $filter
    `input` `(` custom<NumericFormat>($input_format) `,` `scale` $input_scale `:` type($input_scale)
      (`zero_point` $input_zero_point^ `:` type($input_zero_point))? `)`
    `filter` `(` custom<NumericFormat>($filter_format)
      (`transposed` $transpose_filter^)? `,` `scale` $filter_scale `:`
      type($filter_scale)
      (`zero_point` $filter_zero_point^ `:` type($filter_zero_point))?
      (`granularity` $filter_granularity^)? `)`
    `accumulate` $acc_type (`layout` `` $layout^)? (`strides` $strides^)?
    (`dilations` $dilations^)? (`padding` $padding^)? attr-dict `:`
    type($input) `,` type($filter)
    `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Positions in the filter of its output channel, input channel, kernel
    /// height and kernel width dimensions.
    ::llvm::SmallVector<int64_t, 4> getFilterDimPositions();
  }];
}


//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

def QTrain_QuantizerOp : QTrain_Op<"quantizer", [Pure,
    AttrSizedOperandSegments, InferTypeOpAdaptor]> {
  let summary = "Round values forward and their gradient backward";
  let description = [{
    The unit of quantized training, like QPyTorch's
    `Quantizer(forward, backward)`: the result is the input rounded as
    `forward` says (or the input itself without `forward`), and under
    `qtrain-autodiff` the gradient flowing back through it is rounded as
    `backward` says (straight-through otherwise).

    `weight_backward` marks a bifurcation point (Banner et al.): placed on a
    contraction's result, the gradient of that result is rounded with
    `backward` for the activation-gradient product and with
    `weight_backward` for the weight-gradient product, which
    `qtrain-autodiff` then builds from the two copies.

    Stochastic rounding in any direction needs `seed`; the forward rounding
    uses stream `stream`, the backward ones `stream + 1` and `stream + 2`,
    so give quantizers streams four apart. `qtrain-expand-quantizers`
    replaces quantizers by their forward rounding after differentiation.

    A spec with delayed scaling (`history = N`) takes its scale from an
    amax history: `histories` holds one `tensor<Nxf32>` per delayed spec,
    in the order forward, backward, weight_backward, and `new_histories`
    the updated ones. The forward history records the input's amax
    (`qtrain.record_amax`); a backward history comes back unchanged from
    the forward computation, and `qtrain-autodiff` replaces it, where the
    gradient function returns it, by the history recording the gradient's
    amax.

    Examples:
    ```mlir
    %y = qtrain.quantizer %x
           forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
           backward <float<f8E5M2>, nearest_even, scaling <absmax>>
           : tensor<32x784xf32>
    %z, %hf, %hb = qtrain.quantizer %x
           history(%h0, %h1 : tensor<16xf32>, tensor<16xf32>)
           forward <float<f8E4M3FN>, nearest_even, scaling <absmax>, history = 16>
           backward <float<f8E5M2>, nearest_even, scaling <absmax>, history = 16>
           : tensor<32x784xf32>
    ```
  }];
  let arguments = (ins QTrain_FloatTensor:$input, Optional<I64>:$seed,
                       Variadic<TensorRankOf<[F32], [1]>>:$histories,
                       OptionalAttr<QTrain_QuantSpecAttr>:$forward,
                       OptionalAttr<QTrain_QuantSpecAttr>:$backward,
                       OptionalAttr<QTrain_QuantSpecAttr>:$weight_backward,
                       DefaultValuedAttr<I32Attr, "0">:$stream);
  let results = (outs QTrain_FloatTensor:$result,
                      Variadic<TensorRankOf<[F32], [1]>>:$new_histories);
  let assemblyFormat = [{
    $input (`seed` `(` $seed^ `)`)?
    (`history` `(` $histories^ `:` type($histories) `)`)?
    (`forward` $forward^)?
    (`backward` $backward^)? (`weight_backward` $weight_backward^)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The forward, backward and weight_backward specs, null where absent;
    /// the histories of the delayed ones follow this order.
    std::array<QuantSpecAttr, 3> getSpecs();
    /// The amax history of spec `direction` (an index into getSpecs()) and
    /// the result carrying its update; nulls unless that spec is delayed.
    std::pair<::mlir::Value, ::mlir::Value> getHistory(unsigned direction);

    /// `x` rounded as `spec` says, with `qtrain.compute_scale` and
    /// `qtrain.round` ops: the forward or a backward rounding. A delayed
    /// spec takes its scale from `history` rather than from `x`.
    static ::mlir::Value buildRounding(::mlir::OpBuilder &builder,
                                       ::mlir::Location loc, ::mlir::Value x,
                                       QuantSpecAttr spec, ::mlir::Value seed,
                                       int32_t stream,
                                       ::mlir::Value history = {});
  }];
}

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINOPS_TD
