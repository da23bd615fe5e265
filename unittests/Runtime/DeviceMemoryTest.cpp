//===- DeviceMemoryTest.cpp - Buffers that stay on the device -------------===//
//
// A driver keeps a `qtrain.device_entry` function's buffers in device
// memory from call to call (qtrain-train's training loop): these tests
// call such a function twice on buffers that never leave the device but
// for the inputs going in and the results coming out, on the GPU emulator
// (whose device buffers fault on host access, as device memory does on a
// GPU) and on a CUDA GPU where there is one.
//
//===----------------------------------------------------------------------===//

#include "Devices.h"

#include "qtrain/Runtime/DeviceMemory.h"
#include "qtrain/Runtime/FlatInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "gtest/gtest.h"

#include <vector>

using namespace ::qtrain::runtime;
using namespace ::qtrain::testing;
using mlir::qtrain::GPUBufferMemory;
using mlir::qtrain::GPUChip;

namespace {

constexpr int64_t kSize = 1000;

/// (x + y, x * y) of two vectors, and the sum of x.
constexpr const char *kSource = R"mlir(
#map = affine_map<(d0) -> (d0)>
#sum = affine_map<(d0) -> ()>
func.func @step(%x: tensor<1000xf32>, %y: tensor<1000xf32>)
    -> (tensor<1000xf32>, tensor<1000xf32>, tensor<f32>) {
  %e = tensor.empty() : tensor<1000xf32>
  %r:2 = linalg.generic {indexing_maps = [#map, #map, #map, #map],
                         iterator_types = ["parallel"]}
      ins(%x, %y : tensor<1000xf32>, tensor<1000xf32>) outs(%e, %e : tensor<1000xf32>, tensor<1000xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32, %p: f32):
    %add = arith.addf %a, %b : f32
    %mul = arith.mulf %a, %b : f32
    linalg.yield %add, %mul : f32, f32
  } -> (tensor<1000xf32>, tensor<1000xf32>)
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<f32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %sum = linalg.generic {indexing_maps = [#map, #sum],
                         iterator_types = ["reduction"]}
      ins(%x : tensor<1000xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %r#0, %r#1, %sum : tensor<1000xf32>, tensor<1000xf32>, tensor<f32>
}
)mlir";

using FlatFn = void (*)(StridedMemRefType<float, 1> *,
                        StridedMemRefType<float, 1> *);

/// Calls the step twice with x kept on the device: x, then x + y.
void runTwice(const Target &target) {
  std::string error;
  auto jit = JitModule::compile(kSource, error, target, [](mlir::ModuleOp m) {
    ::qtrain::runtime::FlatInterfaceOptions options;
    options.deviceEntry = true;
    return addFlatInterface(m.lookupSymbol<mlir::func::FuncOp>("step"),
                            options);
  });
  ASSERT_TRUE(jit) << error;
  auto step = jit->lookup<FlatFn>("step_flat");
  ASSERT_TRUE(step);
  auto memory = DeviceMemory::open(target);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  ASSERT_FALSE(memory->isHost());

  std::vector<float> x(kSize), y(kSize);
  for (int64_t i = 0; i < kSize; ++i) {
    x[i] = float(i % 7) - 3.0f;
    y[i] = 0.25f * float(i % 5);
  }
  auto *in = static_cast<float *>(memory->allocate(2 * kSize * sizeof(float)));
  auto *out =
      static_cast<float *>(memory->allocate((2 * kSize + 1) * sizeof(float)));
  ASSERT_TRUE(in && out);
  memory->copy(in, x.data(), kSize * sizeof(float));
  memory->copy(in + kSize, y.data(), kSize * sizeof(float));
  StridedMemRefType<float, 1> inRef{in, in, 0, {2 * kSize}, {1}};
  StridedMemRefType<float, 1> outRef{out, out, 0, {2 * kSize + 1}, {1}};
  for (int call = 0; call < 2; ++call) {
    step(&inRef, &outRef);
    std::vector<float> result(2 * kSize + 1);
    memory->copy(result.data(), out, result.size() * sizeof(float));
    expectNoGPUError(target);
    float sum = 0;
    for (int64_t i = 0; i < kSize; ++i) {
      float xi = x[i] + float(call) * y[i]; // exact: small multiples of 1/4
      ASSERT_EQ(result[i], xi + y[i]) << "call " << call << " element " << i;
      ASSERT_EQ(result[kSize + i], xi * y[i]) << "call " << call;
      sum += xi;
    }
    EXPECT_EQ(result[2 * kSize], sum) << "call " << call;
    // The next call's x is this one's x + y: device to device.
    memory->copy(in, out, kSize * sizeof(float));
  }
  memory->release(in);
  memory->release(out);
  expectNoGPUError(target);
}

/// x + y in x's place, and the sum of x.
constexpr const char *kAccumulate = R"mlir(
#map = affine_map<(d0) -> (d0)>
#sum = affine_map<(d0) -> ()>
func.func @accumulate(%x: tensor<1000xf32>, %y: tensor<1000xf32>)
    -> (tensor<1000xf32>, tensor<f32>) {
  %e = tensor.empty() : tensor<1000xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel"]}
      ins(%x, %y : tensor<1000xf32>, tensor<1000xf32>) outs(%e : tensor<1000xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %add = arith.addf %a, %b : f32
    linalg.yield %add : f32
  } -> tensor<1000xf32>
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<f32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %sum = linalg.generic {indexing_maps = [#map, #sum],
                         iterator_types = ["reduction"]}
      ins(%x : tensor<1000xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %r, %sum : tensor<1000xf32>, tensor<f32>
}
)mlir";

/// qtrain-train's loop with overlapping steps: two buffers of one layout
/// alternate (x + y written in x's place), each call's y goes up and its
/// sum comes back in queued copies from and to page-locked host memory,
/// and each sum is read one call late, after the next call is queued. On
/// a GPU with a queue, a call returns with its kernels queued: a missing
/// wait or order shows as a wrong sum.
void runQueued(const Target &target) {
  std::string error;
  auto jit =
      JitModule::compile(kAccumulate, error, target, [](mlir::ModuleOp m) {
        FlatInterfaceOptions options;
        options.deviceEntry = true;
        options.resultArguments = {0, -1};
        return addFlatInterface(
            m.lookupSymbol<mlir::func::FuncOp>("accumulate"), options);
      });
  ASSERT_TRUE(jit) << error;
  auto accumulate = jit->lookup<FlatFn>("accumulate_flat");
  ASSERT_TRUE(accumulate);
  auto memory = DeviceMemory::open(target);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());

  // x at 0, y at kSize, the sum at 2 * kSize.
  constexpr int64_t kLayout = 2 * kSize + 1, kCalls = 12;
  std::vector<float> host[2] = {std::vector<float>(kLayout, 0.0f),
                                std::vector<float>(kLayout, 0.0f)};
  float *device[2];
  bool pinned[2];
  for (int b = 0; b < 2; ++b) {
    device[b] = static_cast<float *>(memory->allocate(kLayout * sizeof(float)));
    ASSERT_TRUE(device[b]);
    pinned[b] = memory->pin(host[b].data(), kLayout * sizeof(float));
  }
  std::vector<float> x(kSize);
  for (int64_t i = 0; i < kSize; ++i)
    x[i] = float(i % 7) - 3.0f;
  memory->copy(device[0], x.data(), kSize * sizeof(float));
  // y of call k: k/4 everywhere; the sum of call k: the sum of x plus
  // (0 + 1 + ... + k - 1) / 4 a element, exact.
  float xSum = 0;
  for (float xi : x)
    xSum += xi;
  auto expectedSum = [&](int64_t k) {
    return xSum + float(kSize) * float(k * (k - 1) / 2) / 4.0f;
  };
  DeviceMemory::Fence pending = nullptr;
  for (int64_t k = 0; k < kCalls; ++k) {
    float *in = device[k % 2], *out = device[1 - k % 2];
    // Call k - 2 uploaded from this staging, and was waited for.
    std::vector<float> &staging = host[k % 2];
    std::fill(staging.begin() + kSize, staging.begin() + 2 * kSize,
              float(k) / 4.0f);
    memory->copyAsync(in + kSize, staging.data() + kSize,
                      kSize * sizeof(float));
    StridedMemRefType<float, 1> inRef{in, in, 0, {kLayout}, {1}};
    StridedMemRefType<float, 1> outRef{out, out, 0, {kLayout}, {1}};
    accumulate(&inRef, &outRef);
    memory->copyAsync(host[1 - k % 2].data() + 2 * kSize, out + 2 * kSize,
                      sizeof(float));
    DeviceMemory::Fence done = memory->fence();
    // Call k - 1's sum, with call k queued.
    if (k > 0) {
      memory->wait(pending);
      EXPECT_EQ(host[k % 2][2 * kSize], expectedSum(k - 1)) << "call " << k;
    }
    pending = done;
  }
  memory->wait(pending);
  EXPECT_EQ(host[kCalls % 2][2 * kSize], expectedSum(kCalls - 1));
  expectNoGPUError(target);
  for (int b = 0; b < 2; ++b) {
    memory->release(device[b]);
    if (pinned[b])
      memory->unpin(host[b].data());
  }
  expectNoGPUError(target);
}

std::optional<Target> emulator(std::string &whyNot) {
  Target target = Target::gpuEmulator(GPUChip::sm_90a, GPUBufferMemory::device);
  if (auto memory = DeviceMemory::open(target))
    return target;
  else
    whyNot = llvm::toString(memory.takeError());
  return std::nullopt;
}

TEST(DeviceMemoryTest, CPUBuffersAreHostMemory) {
  auto memory = DeviceMemory::open(Target::cpu());
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  EXPECT_TRUE(memory->isHost());
  float a[3] = {1, 2, 3}, b[3] = {};
  memory->copy(b, a, sizeof(a));
  EXPECT_EQ(b[2], 3.0f);
}

std::optional<Target> cuda(std::string &whyNot) {
  return targetOf(Device::cuda, whyNot);
}

/// Runs `body` on the target that `find` finds, or skips the test saying
/// why there is none.
void runOn(std::optional<Target> (*find)(std::string &),
           void (*body)(const Target &)) {
  std::string whyNot;
  std::optional<Target> target = find(whyNot);
  if (!target)
    GTEST_SKIP() << whyNot;
  body(*target);
}

TEST(DeviceMemoryTest, DeviceEntryCallsOnTheEmulator) {
  runOn(emulator, runTwice);
}

TEST(DeviceMemoryTest, DeviceEntryCallsOnCUDA) { runOn(cuda, runTwice); }

TEST(DeviceMemoryTest, QueuedCallsOnTheEmulator) { runOn(emulator, runQueued); }

TEST(DeviceMemoryTest, QueuedCallsOnCUDA) { runOn(cuda, runQueued); }

TEST(DeviceMemoryDeathTest, EmulatedDeviceBuffersAreClosedToTheHost) {
  std::string whyNot;
  std::optional<Target> target = emulator(whyNot);
  if (!target)
    GTEST_SKIP() << whyNot;
  auto memory = DeviceMemory::open(*target);
  auto *buffer = static_cast<volatile float *>(memory->allocate(64));
  float value = 1.0f;
  memory->copy(const_cast<float *>(buffer), &value, sizeof(value));
  EXPECT_DEATH((void)buffer[0], "host code accessed device memory");
  memory->release(const_cast<float *>(buffer));
}

} // namespace
