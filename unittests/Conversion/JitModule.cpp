//===- JitModule.cpp - Compile MLIR source for execution tests ------------===//

#include "JitModule.h"

#include "qtrain/InitAllDialects.h"
#include "qtrain/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;

namespace qtrain::testing {

std::unique_ptr<JitModule> JitModule::compile(const std::string &source,
                                              std::string &error) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  mlir::qtrain::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);

  llvm::raw_string_ostream errors(error);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, errors);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  if (!module)
    return nullptr;
  PassManager pm(&context);
  mlir::qtrain::buildLowerToCPUPipeline(pm, mlir::qtrain::LowerToCPUOptions());
  if (failed(pm.run(*module)))
    return nullptr;

  // ExecutionEngineOptions::transformer is a function_ref: keep the
  // transformer alive until the engine is created.
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0, nullptr);
  ExecutionEngineOptions options;
  options.transformer = transformer;
  auto engine = ExecutionEngine::create(*module, options);
  if (!engine) {
    errors << llvm::toString(engine.takeError());
    return nullptr;
  }
  auto result = std::unique_ptr<JitModule>(new JitModule());
  result->engine = std::move(*engine);
  return result;
}

} // namespace qtrain::testing
