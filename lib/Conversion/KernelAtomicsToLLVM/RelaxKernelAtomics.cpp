//===- RelaxKernelAtomics.cpp - qtrain-relax-kernel-atomics ---------------===//
//
// qtrain's kernels use memory atomics only to combine partial results
// (block reductions, GEMM epilogue reductions) that no thread reads back in
// the same kernel; later kernels and the host see them after the kernel
// ends. Upstream lowers memref.atomic_rmw to an acq_rel atomic at system
// scope (PTX `atom.acq_rel.sys`, a CAS loop for float min/max), whose
// fences make each warp wait until its earlier stores are visible to the
// host: on an H100 a quarter of a small GEMM's stalls. This pass lowers
// the atomics in device code itself, as relaxed (monotonic) atomics at
// device scope; float max/min (which NVPTX expands into CAS loops, repeated
// by every contending thread) as one integer max/min on the bits.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_RELAXKERNELATOMICSPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

/// The LLVM operation of an atomic kind; none for those LLVM lacks.
static std::optional<LLVM::AtomicBinOp> llvmBinOp(arith::AtomicRMWKind kind) {
  using K = arith::AtomicRMWKind;
  using B = LLVM::AtomicBinOp;
  switch (kind) {
  case K::addf:
    return B::fadd;
  case K::addi:
    return B::add;
  case K::assign:
    return B::xchg;
  case K::maximumf:
    return B::fmaximum;
  case K::minimumf:
    return B::fminimum;
  case K::maxnumf:
    return B::fmax;
  case K::minnumf:
    return B::fmin;
  case K::maxs:
    return B::max;
  case K::mins:
    return B::min;
  case K::maxu:
    return B::umax;
  case K::minu:
    return B::umin;
  case K::ori:
    return B::_or;
  case K::andi:
    return B::_and;
  default:
    return std::nullopt;
  }
}

namespace {
struct RelaxAtomicRMW : OpRewritePattern<memref::AtomicRMWOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::AtomicRMWOp op,
                                PatternRewriter &rewriter) const override {
    if (!op->getParentOfType<gpu::LaunchOp>() &&
        !op->getParentOfType<gpu::GPUModuleOp>())
      return rewriter.notifyMatchFailure(op, "not device code");
    std::optional<LLVM::AtomicBinOp> binOp = llvmBinOp(op.getKind());
    Type element = op.getMemRefType().getElementType();
    if (!binOp || !element.isIntOrFloat() ||
        element.getIntOrFloatBitWidth() % 8 != 0)
      return rewriter.notifyMatchFailure(op, "no LLVM atomic of this kind");
    // The element's address: the aligned pointer plus (offset + sum of
    // index * stride) elements.
    Location loc = op.getLoc();
    auto metadata =
        memref::ExtractStridedMetadataOp::create(rewriter, loc, op.getMemref());
    Value linear = metadata.getOffset();
    for (auto [index, stride] :
         llvm::zip(op.getIndices(), metadata.getStrides()))
      linear = arith::AddIOp::create(
          rewriter, loc, linear,
          arith::MulIOp::create(rewriter, loc, index, stride));
    Value bytes = arith::MulIOp::create(
        rewriter, loc, linear,
        arith::ConstantIndexOp::create(rewriter, loc,
                                       element.getIntOrFloatBitWidth() / 8));
    Value address =
        arith::AddIOp::create(rewriter, loc,
                              memref::ExtractAlignedPointerAsIndexOp::create(
                                  rewriter, loc, op.getMemref()),
                              bytes);
    Value pointer = LLVM::IntToPtrOp::create(
        rewriter, loc, LLVM::LLVMPointerType::get(rewriter.getContext()),
        arith::IndexCastUIOp::create(rewriter, loc, rewriter.getI64Type(),
                                     address)
            .getResult());
    if (isa<Float32Type, Float64Type>(element) &&
        (op.getKind() == arith::AtomicRMWKind::maximumf ||
         op.getKind() == arith::AtomicRMWKind::minimumf)) {
      rewriter.replaceOp(op, floatExtremumByIntegers(rewriter, op, pointer));
      return success();
    }
    rewriter.replaceOpWithNewOp<LLVM::AtomicRMWOp>(
        op, *binOp, pointer, op.getValue(), LLVM::AtomicOrdering::monotonic,
        /*syncscope=*/"device");
    return success();
  }

  /// An f32 or f64 maximumf/minimumf as one integer atomic on the bits,
  /// chosen by the value's sign: IEEE floats of one sign are ordered as
  /// their bits are, by magnitude. For max: a value with the sign clear
  /// (+0 up to +inf) by signed max (a result with the sign set is a
  /// negative integer, below it), one with the sign set by unsigned min
  /// (the smaller magnitude; a result with the sign clear is below it as
  /// unsigned). Min is the mirror image (signed min, unsigned max). A NaN
  /// becomes the quiet NaN of the sign that wins either way (+ for max, -
  /// for min), so that NaNs propagate as maximumf/minimumf have them; -0 <
  /// +0 as there too. Returns the old value, as the atomic would.
  static Value floatExtremumByIntegers(PatternRewriter &rewriter,
                                       memref::AtomicRMWOp op, Value pointer) {
    Location loc = op.getLoc();
    bool max = op.getKind() == arith::AtomicRMWKind::maximumf;
    auto floatType = cast<FloatType>(op.getValue().getType());
    auto intType = rewriter.getIntegerType(floatType.getWidth());
    auto constant = [&](const APInt &value) -> Value {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getIntegerAttr(intType, value));
    };
    Value bits =
        arith::BitcastOp::create(rewriter, loc, intType, op.getValue());
    Value isNaN = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::UNO, op.getValue(), op.getValue());
    APInt quietNaN =
        APFloat::getQNaN(floatType.getFloatSemantics(), /*Negative=*/!max)
            .bitcastToAPInt();
    bits =
        arith::SelectOp::create(rewriter, loc, isNaN, constant(quietNaN), bits);
    Value signSet =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, bits,
                              constant(APInt::getZero(floatType.getWidth())));
    auto branch = scf::IfOp::create(rewriter, loc, intType, signSet,
                                    /*withElseRegion=*/true);
    auto atomic = [&](Block *block, LLVM::AtomicBinOp binOp) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(block);
      Value old = LLVM::AtomicRMWOp::create(rewriter, loc, binOp, pointer, bits,
                                            LLVM::AtomicOrdering::monotonic,
                                            /*syncscope=*/"device");
      scf::YieldOp::create(rewriter, loc, old);
    };
    atomic(branch.thenBlock(),
           max ? LLVM::AtomicBinOp::umin : LLVM::AtomicBinOp::umax);
    atomic(branch.elseBlock(),
           max ? LLVM::AtomicBinOp::max : LLVM::AtomicBinOp::min);
    return arith::BitcastOp::create(rewriter, loc, floatType,
                                    branch.getResult(0));
  }
};

struct RelaxKernelAtomicsPass
    : mlir::qtrain::impl::RelaxKernelAtomicsPassBase<RelaxKernelAtomicsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RelaxAtomicRMW>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};
} // namespace
