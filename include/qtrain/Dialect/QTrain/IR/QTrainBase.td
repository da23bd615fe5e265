//===- QTrainBase.td - qtrain dialect definition -----------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_IR_QTRAINBASE_TD
#define QTRAIN_DIALECT_QTRAIN_IR_QTRAINBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def QTrain_Dialect : Dialect {
  let name = "qtrain";
  let cppNamespace = "::mlir::qtrain";
  let summary = "Low-precision formats, rounding and scaling for training";
  let description = [{
    The `qtrain` dialect describes low-precision neural-network training:
    numeric formats (integers of 2 to 16 bits and small floats given by their
    exponent, mantissa, bias, subnormals and special values), rounding modes
    including reproducible stochastic rounding, overflow rules and scaling.

    Its ops work on ranked tensors:

    * `qtrain.round` rounds float values onto a format's grid and back
      (simulated, "fake" quantization);
    * `qtrain.quantize` / `qtrain.dequantize` convert between floats and the
      storage type of a format, with run-time scales as SSA operands;
    * `qtrain.compute_scale` derives scales (and zero points) from data;
    * `qtrain.qmatmul` / `qtrain.qconv2d` contract quantized operands with an
      explicit accumulator type.

    Every op's numerics are defined by the `qtrain::numerics` C++ library and
    specified bit for bit in `docs/numerics.md`.

    Scales are run-time values, which is why the upstream `!quant.uniform`
    types (whose scales are compile-time constants) do not fit these ops.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Folded tensors become arith.constant ops.
  let hasConstantMaterializer = 1;
  // Checks the `qtrain.role` argument attribute.
  let hasRegionArgAttrVerify = 1;
  // Checks `qtrain.layer`, `qtrain.gradient_of`, `qtrain.host_only` and
  // `qtrain.device_entry`.
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let extraClassDeclaration = [{
    /// Defined next to the attribute storage classes (QTrainAttrs.cpp).
    void registerAttributes();

    /// The argument attribute holding a model argument's `ArgRoleAttr`.
    static ::llvm::StringRef getRoleAttrName() { return "qtrain.role"; }
    /// The argument attribute holding a parameter's `ParamInitAttr`.
    static ::llvm::StringRef getInitAttrName() { return "qtrain.init"; }
    /// The name of a contraction's layer, for recipes' exemptions.
    static ::llvm::StringRef getLayerAttrName() { return "qtrain.layer"; }
    /// On a gradient function: bytes of forward values its backward half
    /// reads (see qtrain-autodiff).
    static ::llvm::StringRef getSavedBytesAttrName() {
      return "qtrain.saved_activation_bytes";
    }
    /// On a gradient function: the model it differentiates.
    static ::llvm::StringRef getGradientOfAttrName() {
      return "qtrain.gradient_of";
    }
    /// On a host function declaration (a unit attribute): the function
    /// reads and writes no memory that kernels use (a tensor map's
    /// creation), so qtrain-async-gpu-launches lets the GPU's queued work
    /// run on across its calls.
    static ::llvm::StringRef getHostOnlyAttrName() {
      return "qtrain.host_only";
    }
    /// On a public function with a body (a unit attribute): in a GPU
    /// lowering, its callers pass GPU buffers (device memory) and it
    /// returns none, so qtrain-gpu-host-buffers does not stage its
    /// arguments through host memory (a training loop whose model state
    /// stays on the GPU).
    static ::llvm::StringRef getDeviceEntryAttrName() {
      return "qtrain.device_entry";
    }
  }];
}

class QTrain_Op<string mnemonic, list<Trait> traits = []>
    : Op<QTrain_Dialect, mnemonic, traits>;

class QTrain_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QTrain_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // QTRAIN_DIALECT_QTRAIN_IR_QTRAINBASE_TD
