//===- QTrainAttrs.td - qtrain attributes ------------------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_TD
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_TD

include "qtrain/Dialect/QTrain/IR/QTrainEnums.td"
include "mlir/IR/AttrTypeBase.td"

//===----------------------------------------------------------------------===//
// Numeric formats
//===----------------------------------------------------------------------===//

def QTrain_NumericFormatAttrInterface
    : AttrInterface<"NumericFormatAttrInterface"> {
  let cppNamespace = "::mlir::qtrain";
  let description = [{
    A numeric format: the set of values a tensor element may take after
    rounding, and the storage type that holds its codes.
  }];
  let methods = [
    InterfaceMethod<"The format as the numerics library describes it.",
      "::qtrain::numerics::Format", "getNumericFormat">,
    InterfaceMethod<[{
        The element type holding codes of this format: the builtin float type
        of the same format where MLIR has one, else a signless integer of the
        format's width.
      }], "::mlir::Type", "getStorageType">,
  ];
}

def QTrain_IntFormatAttr : QTrain_Attr<"IntFormat", "int",
    [DeclareAttrInterfaceMethods<QTrain_NumericFormatAttrInterface>]> {
  let summary = "Integer format of 2 to 16 bits";
  let description = [{
    A signed (two's complement) or unsigned integer format. Codes are stored in
    a signless integer of the same width. Integer formats have no special
    values; out-of-range values saturate and NaN becomes code 0.

    Examples: `#qtrain.int<8, signed>`, `#qtrain.int<4, unsigned>`
  }];
  let parameters = (ins "unsigned":$bits,
                        EnumParameter<QTrain_Signedness>:$signedness);
  let assemblyFormat = "`<` $bits `,` $signedness `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isSigned() const {
      return getSignedness() == ::mlir::qtrain::Signedness::Signed;
    }
  }];
}

def QTrain_FloatFormatAttr : QTrain_Attr<"FloatFormat", "float",
    [DeclareAttrInterfaceMethods<QTrain_NumericFormatAttrInterface>]> {
  let summary = "Small binary floating-point format";
  let description = [{
    A sign-magnitude float format with `exp` exponent bits and `man` explicit
    mantissa bits, at most 16 bits in all. Optional fields: `bias` (default
    2^(exp-1) - 1), `subnormals` (default `true`) and `specials`:

    * `ieee` (default): the all-ones exponent holds inf and NaN;
    * `fn`: no inf, the all-ones code of each sign is NaN;
    * `fnuz`: no inf, no negative zero, NaN is the code 0b100...0;
    * `finite_only`: every code is a finite value (NaN inputs saturate).

    Formats that match an MLIR builtin type can be written by that type's name
    and use it as storage: `f16`, `bf16`, `f8E5M2`, `f8E4M3`, `f8E3M4`,
    `f8E4M3FN`, `f8E4M3FNUZ`, `f8E5M2FNUZ`, `f8E4M3B11FNUZ`, `f6E2M3FN`,
    `f6E3M2FN`, `f4E2M1FN`. Two formats without a builtin type have short
    names too and are stored as integers: `hfp8_e4m3` (HFP8's 1-4-3, bias 11,
    finite-only) and `dlfloat16` (IBM's 1-6-9, bias 31, finite-only, no
    subnormals).

    Examples:
    ```mlir
    #qtrain.float<f8E4M3FN>
    #qtrain.float<hfp8_e4m3>
    #qtrain.float<exp = 4, man = 3, bias = 11, specials = finite_only>
    #qtrain.float<exp = 6, man = 9, bias = 31, subnormals = false, specials = finite_only>
    ```
  }];
  let parameters = (ins "unsigned":$expBits, "unsigned":$manBits, "int":$bias,
                        "bool":$subnormals,
                        EnumParameter<QTrain_SpecialValues>:$specials);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "const ::qtrain::numerics::FloatFormat &":$format)>
  ];
}

//===----------------------------------------------------------------------===//
// Scaling
//===----------------------------------------------------------------------===//

def QTrain_GranularityAttr : QTrain_Attr<"Granularity", "granularity"> {
  let summary = "Which elements share one scale";
  let description = [{
    * `per_tensor`: one scale, a `tensor<f32>`;
    * `per_channel, axis = a`: one scale per index along `a`, a
      `tensor<D_a x f32>`;
    * `per_block, axis = a, size = b`: one scale per `b` consecutive elements
      along `a` (which `b` must divide), a tensor of the data's shape with
      `D_a` replaced by `D_a / b`.

    Examples:
    ```mlir
    #qtrain.granularity<per_tensor>
    #qtrain.granularity<per_channel, axis = 0>
    #qtrain.granularity<per_block, axis = 1, size = 32>
    ```
  }];
  let parameters = (ins EnumParameter<QTrain_GranularityKind>:$kind,
                        "int64_t":$axis, "int64_t":$blockSize);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    ::qtrain::numerics::Granularity getNumericGranularity() const;
    static GranularityAttr getPerTensor(::mlir::MLIRContext *context);
    /// The parameters without the surrounding `<` `>`.
    static GranularityAttr parseBody(::mlir::AsmParser &parser);
    void printBody(::mlir::AsmPrinter &printer) const;
  }];
}

def QTrain_ScalingAttr : QTrain_Attr<"Scaling", "scaling"> {
  let summary = "How scales are derived from data";
  let description = [{
    A scale method and a granularity:

    * `absmax`: symmetric, scale = amax / (largest value of the format);
    * `minmax`: affine over [min, max] with a zero point (integer formats);
    * `batch_minmax`: affine over [mean of per-sample min, mean of per-sample
      max] along the batch axis 0, as Banner et al. do for activations (per
      tensor only);
    * `pow2, exponent = k`: the constant 2^k.

    The granularity follows the method, written as in `#qtrain.granularity`
    (per tensor when omitted).

    Examples:
    ```mlir
    #qtrain.scaling<absmax>
    #qtrain.scaling<absmax, per_channel, axis = 0>
    #qtrain.scaling<minmax, per_block, axis = 1, size = 32>
    #qtrain.scaling<batch_minmax>
    #qtrain.scaling<pow2, exponent = -4>
    ```
  }];
  let parameters = (ins EnumParameter<QTrain_ScaleMethod>:$method,
                        "GranularityAttr":$granularity, "int":$exponent);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isAffine() const {
      return getMethod() == ::mlir::qtrain::ScaleMethod::minmax ||
             getMethod() == ::mlir::qtrain::ScaleMethod::batch_minmax;
    }
  }];
}


//===----------------------------------------------------------------------===//
// Quantizer specs
//===----------------------------------------------------------------------===//

def QTrain_QuantSpecAttr : QTrain_Attr<"QuantSpec", "quant"> {
  let summary = "A format, a rounding mode and a scaling: one rounding step";
  let description = [{
    What a `qtrain.quantizer` does in one direction: derive scales from the
    data with `scaling` (if given, as `qtrain.compute_scale` does), then
    round onto `format` with `rounding`, saturating (as `qtrain.round`
    does). Without a scaling the values themselves are rounded, which suits
    float formats whose range covers the data (or loss-scaled gradients).

    `history = N` asks for *delayed* scaling (Transformer Engine's
    `DelayedScaling`): the per-tensor `absmax` scale is derived from the
    largest amax of the previous N steps, kept in a `tensor<Nxf32>` state
    that the `qtrain.quantizer` carrying the spec takes and returns
    (`qtrain.record_amax` updates it), instead of from the data itself.

    Examples:
    ```mlir
    #qtrain.quant<float<f8E4M3FN>, nearest_even, scaling <absmax>>
    #qtrain.quant<int<8, unsigned>, stochastic, scaling <minmax>>
    #qtrain.quant<float<bf16>, nearest_even>
    #qtrain.quant<float<f8E5M2>, nearest_even, scaling <absmax>, history = 16>
    ```
  }];
  let parameters = (ins "NumericFormatAttrInterface":$format,
                        EnumParameter<QTrain_RoundingMode>:$rounding,
                        OptionalParameter<"ScalingAttr">:$scaling,
                        DefaultValuedParameter<"int64_t", "0">:$history);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isStochastic() const {
      return getRounding() == ::mlir::qtrain::RoundingMode::stochastic;
    }
    /// Whether the scale comes from an amax history state.
    bool isDelayed() const { return getHistory() > 0; }
    /// The type of the amax history state of a delayed spec.
    ::mlir::RankedTensorType getHistoryType() const;
  }];
}

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINATTRS_TD
