//===- qtrain-opt.cpp - qtrain optimizer driver ---------------------------===//
//
// mlir-opt with the qtrain dialect and passes, plus every upstream dialect,
// extension and pass users combine them with.
//
//===----------------------------------------------------------------------===//

#include "qtrain/InitAllDialects.h"
#include "qtrain/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qtrain::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR (qtrain-lower-to-nvvm).
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::qtrain::registerAllDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qtrain optimizer driver\n", registry));
}
