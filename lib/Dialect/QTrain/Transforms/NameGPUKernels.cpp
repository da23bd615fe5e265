//===- NameGPUKernels.cpp - qtrain-name-gpu-kernels -----------------------===//
//
// A kernel name of its own for each gpu.launch (upstream's outlining names
// them all after their function), saying what the kernel does, so that
// profiles tell a step's kernels apart.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_NAMEGPUKERNELSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// What `launch`'s kernel does, most telling first.
StringRef kindOf(gpu::LaunchOp launch) {
  bool wgmma = false, mma = false, loop = false;
  launch.getBody().walk([&](Operation *op) {
    if (isa<NVVM::WgmmaMmaAsyncOp>(op))
      wgmma = true;
    else if (auto call = dyn_cast<LLVM::CallIntrinsicOp>(op))
      mma |= call.getIntrin().starts_with("llvm.nvvm.mma.");
    else if (isa<scf::ForOp, scf::WhileOp>(op))
      loop = true;
  });
  return wgmma ? "wgmma" : mma ? "mma" : loop ? "loop" : "map";
}

struct NameGPUKernelsPass
    : mlir::qtrain::impl::NameGPUKernelsPassBase<NameGPUKernelsPass> {
  void runOnOperation() override {
    getOperation().walk([](FunctionOpInterface func) {
      unsigned next = 0;
      func.walk([&](gpu::LaunchOp launch) {
        unsigned place = next++;
        if (launch.getFunctionAttr() || launch.getModuleAttr())
          return;
        auto name = FlatSymbolRefAttr::get(
            launch.getContext(),
            (func.getName() + "_" + kindOf(launch) + "_" + Twine(place)).str());
        launch.setModuleAttr(name);
        launch.setFunctionAttr(name);
      });
    });
  }
};

} // namespace
