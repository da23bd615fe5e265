//===- FlatInterfaceTest.cpp - One-buffer calling convention --------------===//

#include "qtrain/Runtime/FlatInterface.h"
#include "qtrain/Pipelines/Pipelines.h"
#include "qtrain/Runtime/JitModule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "gtest/gtest.h"

#include <cmath>
#include <vector>

using namespace mlir;
using ::qtrain::runtime::FlatInterfaceOptions;
using ::qtrain::runtime::FlatLayout;

namespace {

/// A function with scalars and tensors of ranks 0 to 2 among its arguments.
constexpr const char *kMixed = R"mlir(
func.func @mixed(%a: tensor<3xf32>, %seed: i64, %b: tensor<2x5xf32>,
                 %c: tensor<f32>) -> (tensor<f32>, tensor<7xf32>) {
  %e = tensor.empty() : tensor<7xf32>
  return %c, %e : tensor<f32>, tensor<7xf32>
}
)mlir";

/// Each tensor on 64 bytes (16 f32 elements).
FlatInterfaceOptions aligned() {
  FlatInterfaceOptions options;
  options.alignmentBytes = 64;
  return options;
}

/// Upstream's dialects and their interface models (bufferization's too),
/// as JitModule registers them.
DialectRegistry upstreamDialects() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  return registry;
}

class FlatInterfaceTest : public ::testing::Test {
protected:
  FlatInterfaceTest() : context(upstreamDialects()) {
    context.loadDialect<arith::ArithDialect, cf::ControlFlowDialect,
                        func::FuncDialect, linalg::LinalgDialect,
                        tensor::TensorDialect>();
  }
  func::FuncOp parse(const char *source, const char *name) {
    module = parseSourceString<ModuleOp>(source, &context);
    return module ? module->lookupSymbol<func::FuncOp>(name) : nullptr;
  }
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(FlatInterfaceTest, PackedLayout) {
  func::FuncOp func = parse(kMixed, "mixed");
  ASSERT_TRUE(func);
  FailureOr<FlatLayout> layout =
      ::qtrain::runtime::getFlatLayout(func, FlatInterfaceOptions());
  ASSERT_TRUE(succeeded(layout));
  EXPECT_EQ(layout->arguments, (SmallVector<int64_t>{0, -1, 3, 13}));
  EXPECT_EQ(layout->inSize, 14);
  EXPECT_EQ(layout->results, (SmallVector<int64_t>{0, 1}));
  EXPECT_EQ(layout->outSize, 8);
}

TEST_F(FlatInterfaceTest, AlignedLayout) {
  func::FuncOp func = parse(kMixed, "mixed");
  ASSERT_TRUE(func);
  // 64 bytes: 16 f32 elements.
  FailureOr<FlatLayout> layout =
      ::qtrain::runtime::getFlatLayout(func, aligned());
  ASSERT_TRUE(succeeded(layout));
  EXPECT_EQ(layout->arguments, (SmallVector<int64_t>{0, -1, 16, 32}));
  EXPECT_EQ(layout->inSize, 33);
  EXPECT_EQ(layout->results, (SmallVector<int64_t>{0, 16}));
  EXPECT_EQ(layout->outSize, 23);
}

TEST_F(FlatInterfaceTest, ResultsInArgumentPlaces) {
  func::FuncOp func = parse(kMixed, "mixed");
  ASSERT_TRUE(func);
  FlatInterfaceOptions options = aligned();
  // The rank-0 result in %c's place, the other after every argument.
  options.resultArguments = {3, -1};
  FailureOr<FlatLayout> layout =
      ::qtrain::runtime::getFlatLayout(func, options);
  ASSERT_TRUE(succeeded(layout));
  EXPECT_EQ(layout->arguments, (SmallVector<int64_t>{0, -1, 16, 32}));
  EXPECT_EQ(layout->results, (SmallVector<int64_t>{32, 48}));
  EXPECT_EQ(layout->inSize, 55);
  EXPECT_EQ(layout->outSize, 55);
}

TEST_F(FlatInterfaceTest, RejectsResultPlacesOfOtherTypes) {
  func::FuncOp func = parse(kMixed, "mixed");
  ASSERT_TRUE(func);
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    messages.push_back(diagnostic.str());
    return success();
  });
  FlatInterfaceOptions options;
  for (SmallVector<int64_t> places :
       {SmallVector<int64_t>{0, -1}, SmallVector<int64_t>{3, 1},
        SmallVector<int64_t>{3, 4}, SmallVector<int64_t>{3}}) {
    options.resultArguments = places;
    EXPECT_TRUE(failed(::qtrain::runtime::getFlatLayout(func, options)));
  }
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_NE(messages[0].find("result 0 ('tensor<f32>') cannot take the place "
                             "of argument 0"),
            std::string::npos)
      << messages[0];
  EXPECT_NE(messages[1].find("cannot take the place of argument 1"),
            std::string::npos)
      << messages[1];
  EXPECT_NE(messages[2].find("cannot take the place of argument 4"),
            std::string::npos)
      << messages[2];
  EXPECT_NE(messages[3].find("1 result places for 2 results"),
            std::string::npos)
      << messages[3];
}

TEST_F(FlatInterfaceTest, RejectsDynamicTensorsWithADiagnostic) {
  func::FuncOp func = parse(R"mlir(
    func.func @dynamic(%a: tensor<?xf32>) -> tensor<?xf32> {
      return %a : tensor<?xf32>
    })mlir",
                            "dynamic");
  ASSERT_TRUE(func);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    message = diagnostic.str();
    return success();
  });
  EXPECT_TRUE(failed(::qtrain::runtime::addFlatInterface(func)));
  EXPECT_NE(message.find("flat interface needs static tensors"),
            std::string::npos)
      << message;
}

/// Whether `flat` calls `callee`.
bool calls(func::FuncOp flat, StringRef callee) {
  bool found = false;
  flat.walk([&](func::CallOp call) { found |= call.getCallee() == callee; });
  return found;
}

TEST_F(FlatInterfaceTest, InlinesOneBlockBodiesAndCallsOthers) {
  func::FuncOp func = parse(kMixed, "mixed");
  ASSERT_TRUE(func);
  ASSERT_TRUE(succeeded(::qtrain::runtime::addFlatInterface(func)));
  EXPECT_FALSE(
      calls(module->lookupSymbol<func::FuncOp>("mixed_flat"), "mixed"));

  func::FuncOp branchy = parse(R"mlir(
    func.func @branchy(%a: tensor<4xf32>) -> tensor<4xf32> {
      cf.br ^next
    ^next:
      return %a : tensor<4xf32>
    })mlir",
                               "branchy");
  ASSERT_TRUE(branchy);
  ASSERT_TRUE(succeeded(::qtrain::runtime::addFlatInterface(branchy)));
  EXPECT_TRUE(
      calls(module->lookupSymbol<func::FuncOp>("branchy_flat"), "branchy"));
}

/// Results are materialized into their slices in their own shapes, so that
/// after bufferization (eliminate-empty-tensors first, as the pipelines
/// do) the ops computing them write the flat buffer in place: no copies.
/// The two buffers are marked `llvm.noalias`.
TEST_F(FlatInterfaceTest, ResultsWrittenInPlace) {
  func::FuncOp func = parse(R"mlir(
    func.func @scaled(%x: tensor<2x3xf32>, %a: tensor<f32>)
        -> (tensor<2x3xf32>, tensor<f32>) {
      %e = tensor.empty() : tensor<2x3xf32>
      %r = linalg.generic {
          indexing_maps = [affine_map<(i, j) -> (i, j)>,
                           affine_map<(i, j) -> ()>,
                           affine_map<(i, j) -> (i, j)>],
          iterator_types = ["parallel", "parallel"]}
          ins(%x, %a : tensor<2x3xf32>, tensor<f32>)
          outs(%e : tensor<2x3xf32>) {
      ^bb0(%xi: f32, %ai: f32, %o: f32):
        %m = arith.mulf %ai, %xi : f32
        linalg.yield %m : f32
      } -> tensor<2x3xf32>
      %e0 = tensor.empty() : tensor<f32>
      %s = linalg.generic {
          indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>],
          iterator_types = []}
          ins(%a : tensor<f32>) outs(%e0 : tensor<f32>) {
      ^bb0(%ai: f32, %o: f32):
        %m = arith.mulf %ai, %ai : f32
        linalg.yield %m : f32
      } -> tensor<f32>
      return %r, %s : tensor<2x3xf32>, tensor<f32>
    })mlir",
                            "scaled");
  ASSERT_TRUE(func);
  ASSERT_TRUE(succeeded(::qtrain::runtime::addFlatInterface(func)));
  auto flat = module->lookupSymbol<func::FuncOp>("scaled_flat");
  for (unsigned i : {0u, 1u})
    EXPECT_TRUE(flat.getArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName()))
        << "argument " << i;
  PassManager pm(&context);
  mlir::qtrain::buildBufferizationPipeline(pm);
  ASSERT_TRUE(succeeded(pm.run(*module)));
  flat = module->lookupSymbol<func::FuncOp>("scaled_flat");
  int copies = 0, generics = 0;
  flat.walk([&](Operation *op) {
    copies += isa<memref::CopyOp, linalg::CopyOp>(op);
    generics += isa<linalg::GenericOp>(op);
  });
  EXPECT_EQ(copies, 0);
  EXPECT_EQ(generics, 2);
}

using FlatFn = void (*)(StridedMemRefType<float, 1> *,
                        StridedMemRefType<float, 1> *);

/// The aligned flat function reads each argument at its offset and writes
/// each result at its own, leaving the elements between untouched.
TEST(FlatInterfaceExecutionTest, AlignedSlotsOnTheCPU) {
  const char *source = R"mlir(
    func.func @axpy(%x: tensor<3xf32>, %a: tensor<f32>, %y: tensor<3xf32>)
        -> (tensor<f32>, tensor<3xf32>) {
      %e = tensor.empty() : tensor<3xf32>
      %r = linalg.generic {
          indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>,
                           affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
          iterator_types = ["parallel"]}
          ins(%x, %a, %y : tensor<3xf32>, tensor<f32>, tensor<3xf32>)
          outs(%e : tensor<3xf32>) {
      ^bb0(%xi: f32, %ai: f32, %yi: f32, %o: f32):
        %m = arith.mulf %ai, %xi : f32
        %s = arith.addf %m, %yi : f32
        linalg.yield %s : f32
      } -> tensor<3xf32>
      return %a, %r : tensor<f32>, tensor<3xf32>
    })mlir";
  FlatInterfaceOptions options = aligned();
  std::string error;
  auto jit = ::qtrain::runtime::JitModule::compile(
      source, error, ::qtrain::runtime::Target::cpu(), [&](ModuleOp m) {
        return ::qtrain::runtime::addFlatInterface(
            m.lookupSymbol<func::FuncOp>("axpy"), options);
      });
  ASSERT_TRUE(jit) << error;
  auto axpy = jit->lookup<FlatFn>("axpy_flat");
  ASSERT_TRUE(axpy);
  // x at 0, a at 16, y at 32; the result a at 0, a * x + y at 16.
  std::vector<float> in(35, 1000.0f), out(19, NAN);
  in[0] = 1, in[1] = 2, in[2] = 3;
  in[16] = 0.5f;
  in[32] = 10, in[33] = 20, in[34] = 30;
  auto inRef = ::qtrain::runtime::memref1D(in);
  auto outRef = ::qtrain::runtime::memref1D(out);
  axpy(&inRef, &outRef);
  EXPECT_EQ(out[0], 0.5f);
  EXPECT_EQ(out[16], 10.5f);
  EXPECT_EQ(out[17], 21.0f);
  EXPECT_EQ(out[18], 31.5f);
  for (int i = 1; i < 16; ++i)
    EXPECT_TRUE(std::isnan(out[i])) << "element " << i << " between results";
}

/// Results in their arguments' places: each call's output buffer is the
/// next call's input, nothing copied between calls.
TEST(FlatInterfaceExecutionTest, OutputsAreTheNextInputs) {
  const char *source = R"mlir(
    func.func @count(%x: tensor<3xf32>, %step: tensor<f32>)
        -> (tensor<f32>, tensor<3xf32>) {
      %e = tensor.empty() : tensor<3xf32>
      %r = linalg.generic {
          indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>,
                           affine_map<(i) -> (i)>],
          iterator_types = ["parallel"]}
          ins(%x, %step : tensor<3xf32>, tensor<f32>)
          outs(%e : tensor<3xf32>) {
      ^bb0(%xi: f32, %s: f32, %o: f32):
        %n = arith.addf %xi, %s : f32
        linalg.yield %n : f32
      } -> tensor<3xf32>
      %e0 = tensor.empty() : tensor<f32>
      %sum = linalg.generic {
          indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
          iterator_types = ["reduction"]}
          ins(%r : tensor<3xf32>) outs(%e0 : tensor<f32>) {
      ^bb0(%ri: f32, %acc: f32):
        %n = arith.addf %ri, %acc : f32
        linalg.yield %n : f32
      } -> tensor<f32>
      return %sum, %r : tensor<f32>, tensor<3xf32>
    })mlir";
  FlatInterfaceOptions options = aligned();
  options.resultArguments = {-1, 0};
  std::string error;
  auto jit = ::qtrain::runtime::JitModule::compile(
      source, error, ::qtrain::runtime::Target::cpu(), [&](ModuleOp m) {
        return ::qtrain::runtime::addFlatInterface(
            m.lookupSymbol<func::FuncOp>("count"), options);
      });
  ASSERT_TRUE(jit) << error;
  auto count = jit->lookup<FlatFn>("count_flat");
  ASSERT_TRUE(count);
  // x at 0, step at 16, the sum at 32 (the reduction's init: zeros).
  std::vector<float> buffers[2] = {std::vector<float>(33, 0.0f),
                                   std::vector<float>(33, 0.0f)};
  buffers[0][0] = 1, buffers[0][1] = 2, buffers[0][2] = 3;
  for (int call = 0; call < 3; ++call) {
    std::vector<float> &in = buffers[call % 2], &out = buffers[1 - call % 2];
    in[16] = float(call + 1); // what a driver uploads each call
    out[32] = 0;
    auto inRef = ::qtrain::runtime::memref1D(in);
    auto outRef = ::qtrain::runtime::memref1D(out);
    count(&inRef, &outRef);
  }
  // x + 1 + 2 + 3, in the buffer the third call wrote.
  EXPECT_EQ(buffers[1][0], 7.0f);
  EXPECT_EQ(buffers[1][1], 8.0f);
  EXPECT_EQ(buffers[1][2], 9.0f);
  EXPECT_EQ(buffers[1][32], 24.0f);
}

} // namespace
