//===- ClampedFP8ToNVVM.cpp - convert-clamped-fp8-truncf-to-nvvm ----------===//
//
// NVVM's f32 -> E4M3/E5M2 conversion only exists with `.satfinite`, so a
// plain `arith.truncf` (which overflows to NaN or inf) has no instruction.
// Once its operand is clamped to the format's finite range, the two agree:
// nearest-even rounding of an in-range value never overflows. This pass
// rewrites exactly that form, which convert-qtrain-to-linalg emits with
// `target=fp8-truncf`.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_CONVERTCLAMPEDFP8TRUNCFTONVVMPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

/// Whether `v` is `min(max(x, -bound), bound)` (in either nesting), with
/// NaN-propagating min and max.
static bool isClampedTo(Value v, double bound) {
  auto isConstant = [](Value c, double expected) {
    FloatAttr attr;
    return matchPattern(c, m_Constant(&attr)) &&
           attr.getValueAsDouble() == expected;
  };
  auto clampsBy = [&](Operation *op, double limit) {
    return op && op->getNumOperands() == 2 &&
           (isConstant(op->getOperand(1), limit) ||
            isConstant(op->getOperand(0), limit));
  };
  auto other = [&](Operation *op, double limit) {
    return isConstant(op->getOperand(1), limit) ? op->getOperand(0)
                                                : op->getOperand(1);
  };
  if (auto min = v.getDefiningOp<arith::MinimumFOp>(); clampsBy(min, bound)) {
    auto max = other(min, bound).getDefiningOp<arith::MaximumFOp>();
    return clampsBy(max, -bound);
  }
  if (auto max = v.getDefiningOp<arith::MaximumFOp>(); clampsBy(max, -bound)) {
    auto min = other(max, -bound).getDefiningOp<arith::MinimumFOp>();
    return clampsBy(min, bound);
  }
  return false;
}

namespace {
struct ClampedTruncFToNVVM : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    // Device code only: in a kernel, or in a launch not yet outlined (whose
    // clamp bounds are still visible constants of the host function).
    if (!op->getParentOfType<gpu::LaunchOp>() &&
        !op->getParentOfType<gpu::GPUModuleOp>())
      return rewriter.notifyMatchFailure(op, "not device code");
    if (!op.getIn().getType().isF32() ||
        !isa<Float8E4M3FNType, Float8E5M2Type>(type) ||
        (op.getRoundingmode() &&
         *op.getRoundingmode() != arith::RoundingMode::to_nearest_even))
      return rewriter.notifyMatchFailure(op, "not a nearest-even f32 -> fp8");
    double largest = isa<Float8E4M3FNType>(type) ? 448.0 : 57344.0;
    if (!isClampedTo(op.getIn(), largest))
      return rewriter.notifyMatchFailure(op, "operand not clamped");
    // Both halves convert the value, so the byte order does not matter.
    Location loc = op.getLoc();
    Value pair = NVVM::ConvertF32x2ToF8x2Op::create(
        rewriter, loc, rewriter.getI16Type(), op.getIn(), op.getIn(),
        NVVM::FPRoundingMode::RN, NVVM::SaturationMode::SATFINITE,
        /*relu=*/false, type);
    Value byte =
        arith::TruncIOp::create(rewriter, loc, rewriter.getI8Type(), pair);
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, type, byte);
    return success();
  }
};

struct ConvertClampedFP8TruncFToNVVMPass
    : mlir::qtrain::impl::ConvertClampedFP8TruncFToNVVMPassBase<
          ConvertClampedFP8TruncFToNVVMPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ClampedTruncFToNVVM>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};
} // namespace
