//===- qtrain-bench-gpu.cpp - FP8 GEMMs on the GPU against cuBLAS ---------===//
//
// Times an E4M3 x E4M3 `qtrain.qmatmul` (B stored n x k, f32 out, per-tensor
// scales) compiled by qtrain-lower-to-nvvm for the GPU at hand against, in
// the same run and on the same operands:
//   * cuBLASLt's FP8 GEMM (E4M3 x E4M3 into f32, "TN", sm_89 and later,
//     N a multiple of 16 as it requires);
//   * cuBLAS's bf16 GEMM (the E4M3 values, exact in bf16, f32 out).
// qtrain is timed two ways: its GEMM kernel alone (the runtime's kernel
// profile, events around each launch) and the whole call as a host program
// makes it (staging its host arguments in device memory included). cuBLAS
// is timed with events around back-to-back calls. Each result is checked
// against cuBLASLt's (or cuBLAS's) before its time is printed.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/CudaDevice.h"
#include "qtrain/Runtime/JitModule.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace qtrain::runtime;
namespace cl = llvm::cl;

static cl::OptionCategory benchOptions("qtrain-bench-gpu options");
static cl::list<int64_t> sizes("sizes", cl::cat(benchOptions),
                               cl::desc("M = N = K of each GEMM"),
                               cl::CommaSeparated);
static cl::opt<int> repetitions("repetitions", cl::cat(benchOptions),
                                cl::desc("Timed calls per GEMM"), cl::init(10));
static cl::opt<bool> compareWGMMATiles(
    "compare-wgmma-tiles", cl::cat(benchOptions),
    cl::desc("On sm_90a, also time the GEMM with cp.async copies from "
             "every thread instead of TMA copies from a producer warp "
             "(qtrain-lower-to-nvvm{wgmma-tma-loads=false}), with a block a "
             "tile instead of persistent blocks "
             "(wgmma-persistent-blocks=false), on "
             "one-warpgroup 64xN tiles (wgmma-two-warpgroups=false), in "
             "half the shared memory (two blocks an SM) and in static "
             "shared memory only (wgmma-shared-memory-bytes=49152)"));

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "qtrain-bench-gpu: %s\n", message.c_str());
  std::exit(1);
}

void check(cudaError_t result, const char *call) {
  if (result != cudaSuccess)
    fail(std::string(call) + ": " + cudaGetErrorString(result));
}
void check(cublasStatus_t result, const char *call) {
  if (result != CUBLAS_STATUS_SUCCESS)
    fail(std::string(call) + ": cuBLAS status " + std::to_string(result));
}
#define CHECK(call) check(call, #call)

/// The value of an E4M3FN code (finite codes only).
float e4m3Value(uint8_t code) {
  int exponent = (code >> 3) & 0xF, mantissa = code & 7;
  float magnitude = exponent ? std::ldexp(1.0f + mantissa / 8.0f, exponent - 7)
                             : std::ldexp(mantissa / 8.0f, -6);
  return code & 0x80 ? -magnitude : magnitude;
}

/// Random finite E4M3FN codes (no NaN: 0x7F, 0xFF).
std::vector<uint8_t> randomCodes(int64_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> codes(count);
  for (uint8_t &code : codes) {
    do
      code = uint8_t(rng());
    while ((code & 0x7F) == 0x7F);
  }
  return codes;
}

/// The worst |x - y| over max |y|, with `x` read through `xIndex`.
double relativeDifference(const std::vector<float> &x,
                          const std::vector<float> &y,
                          const std::function<size_t(size_t)> &xIndex) {
  double worst = 0, largest = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    worst = std::max(worst, std::fabs(double(x[xIndex(i)]) - y[i]));
    largest = std::max(largest, std::fabs(double(y[i])));
  }
  return largest > 0 ? worst / largest : worst;
}

/// Milliseconds per call of `fn` on the default stream, by events around
/// `repetitions` calls after one warm-up call.
double eventMilliseconds(const std::function<void()> &fn) {
  fn();
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  CHECK(cudaEventRecord(start));
  for (int i = 0; i < repetitions; ++i)
    fn();
  CHECK(cudaEventRecord(stop));
  CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, start, stop));
  CHECK(cudaEventDestroy(start));
  CHECK(cudaEventDestroy(stop));
  return ms / repetitions;
}

struct Timing {
  double gemmKernelMs = 0, kernelsMs = 0, callMs = 0;
  std::string gemmKernel;
};

/// qtrain: compiles the qmatmul for `target` and runs it `repetitions`
/// times (after a warm-up call) on host buffers; y = a * b^T.
Timing runQTrain(int64_t n, const Target &target, std::vector<uint8_t> &a,
                 std::vector<uint8_t> &b, std::vector<float> &y) {
  std::string N = std::to_string(n);
  std::string codes = "memref<" + N + "x" + N + "xf8E4M3FN>";
  std::string codesT = "tensor<" + N + "x" + N + "xf8E4M3FN>";
  std::string out = "memref<" + N + "x" + N + "xf32>";
  std::string outT = "tensor<" + N + "x" + N + "xf32>";
  std::string source =
      "func.func @gemm(%am: " + codes + ", %bm: " + codes +
      ", %sm: memref<f32>, %ym: " + out +
      ") attributes {llvm.emit_c_interface} {\n"
      "  %a = bufferization.to_tensor %am restrict : " +
      codes + " to " + codesT +
      "\n"
      "  %b = bufferization.to_tensor %bm restrict : " +
      codes + " to " + codesT +
      "\n"
      "  %s = bufferization.to_tensor %sm restrict : memref<f32> to "
      "tensor<f32>\n"
      "  %y = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : "
      "tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>) "
      "accumulate f32 : " +
      codesT + ", " + codesT + " -> " + outT +
      "\n"
      "  bufferization.materialize_in_destination %y in restrict writable "
      "%ym : (" +
      outT + ", " + out +
      ") -> ()\n"
      "  return\n}\n";
  std::string error;
  auto jit = JitModule::compile(source, error, target);
  if (!jit)
    fail("compiling the qtrain GEMM: " + error);
  using Codes = StridedMemRefType<uint8_t, 2>;
  using Out = StridedMemRefType<float, 2>;
  using Scalar = StridedMemRefType<float, 0>;
  auto gemm = jit->lookup<void (*)(Codes *, Codes *, Scalar *, Out *)>("gemm");
  if (!gemm)
    fail("the compiled module has no gemm");
  float one = 1;
  Codes am{a.data(), a.data(), 0, {n, n}, {n, 1}};
  Codes bm{b.data(), b.data(), 0, {n, n}, {n, 1}};
  Scalar sm{&one, &one, 0};
  Out ym{y.data(), y.data(), 0, {n, n}, {n, 1}};
  gemm(&am, &bm, &sm, &ym); // loads the kernels
  if (llvm::Error e = profileKernels(true))
    fail(llvm::toString(std::move(e)));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repetitions; ++i)
    gemm(&am, &bm, &sm, &ym);
  auto stop = std::chrono::steady_clock::now();
  if (llvm::Error e = takeCudaError())
    fail("running the qtrain GEMM: " + llvm::toString(std::move(e)));
  auto times = kernelTimes();
  if (!times)
    fail(llvm::toString(times.takeError()));
  if (llvm::Error e = profileKernels(false))
    fail(llvm::toString(std::move(e)));
  Timing t;
  t.callMs = std::chrono::duration<double, std::milli>(stop - start).count() /
             repetitions;
  // The GEMM is the tensor-core kernel (qtrain-name-gpu-kernels names it
  // by its MMAs), the slowest one if several.
  auto isGEMM = [](llvm::StringRef name) {
    return name.contains("_wgmma_") || name.contains("_mma_");
  };
  for (const KernelTime &k : *times) {
    t.kernelsMs += k.milliseconds / repetitions;
    if (isGEMM(k.name) && k.milliseconds / repetitions > t.gemmKernelMs) {
      t.gemmKernelMs = k.milliseconds / repetitions;
      t.gemmKernel = k.name;
    }
  }
  if (t.gemmKernel.empty())
    fail("no tensor-core kernel in the qtrain GEMM's profile");
  return t;
}

template <typename T> T *deviceCopy(const std::vector<T> &host) {
  T *device = nullptr;
  CHECK(cudaMalloc(&device, host.size() * sizeof(T)));
  CHECK(cudaMemcpy(device, host.data(), host.size() * sizeof(T),
                   cudaMemcpyHostToDevice));
  return device;
}

/// cuBLASLt FP8: D (column-major M x N) = A^T B with A stored K x M and B
/// K x N column-major, i.e. the row-major a (M x K) and b (N x K); D is y
/// transposed.
double runCublasLtFP8(int64_t n, const std::vector<uint8_t> &a,
                      const std::vector<uint8_t> &b, std::vector<float> &d) {
  cublasLtHandle_t lt;
  CHECK(cublasLtCreate(&lt));
  uint8_t *da = deviceCopy(a), *db = deviceCopy(b);
  float *dd = nullptr;
  CHECK(cudaMalloc(&dd, n * n * sizeof(float)));
  size_t workspaceBytes = 32 << 20;
  void *workspace = nullptr;
  CHECK(cudaMalloc(&workspace, workspaceBytes));

  cublasLtMatmulDesc_t desc;
  CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  cublasOperation_t transA = CUBLAS_OP_T, transB = CUBLAS_OP_N;
  CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                       &transA, sizeof(transA)));
  CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                       &transB, sizeof(transB)));
  cublasLtMatrixLayout_t la, lb, ld;
  CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, n, n, n));
  CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, n, n, n));
  CHECK(cublasLtMatrixLayoutCreate(&ld, CUDA_R_32F, n, n, n));
  cublasLtMatmulPreference_t preference;
  CHECK(cublasLtMatmulPreferenceCreate(&preference));
  CHECK(cublasLtMatmulPreferenceSetAttribute(
      preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspaceBytes,
      sizeof(workspaceBytes)));
  cublasLtMatmulHeuristicResult_t heuristic;
  int found = 0;
  CHECK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, ld, ld, preference, 1,
                                       &heuristic, &found));
  if (found == 0)
    fail("cuBLASLt has no FP8 GEMM algorithm for this device");
  float alpha = 1, beta = 0;
  double ms = eventMilliseconds([&] {
    CHECK(cublasLtMatmul(lt, desc, &alpha, da, la, db, lb, &beta, dd, ld, dd,
                         ld, &heuristic.algo, workspace, workspaceBytes,
                         nullptr));
  });
  CHECK(
      cudaMemcpy(d.data(), dd, n * n * sizeof(float), cudaMemcpyDeviceToHost));
  cublasLtMatmulPreferenceDestroy(preference);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(ld);
  cublasLtMatmulDescDestroy(desc);
  cudaFree(workspace);
  cudaFree(dd);
  cudaFree(db);
  cudaFree(da);
  cublasLtDestroy(lt);
  return ms;
}

/// cuBLAS bf16 (the same values, f32 out, f32 compute), laid out as the
/// FP8 GEMM.
double runCublasBF16(int64_t n, const std::vector<uint8_t> &a,
                     const std::vector<uint8_t> &b, std::vector<float> &d) {
  cublasHandle_t handle;
  CHECK(cublasCreate(&handle));
  // bf16 bits: the upper half of the f32's (exact: E4M3 values have 4
  // significant bits).
  auto toBF16 = [](const std::vector<uint8_t> &codes) {
    std::vector<uint16_t> bits(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) {
      float value = e4m3Value(codes[i]);
      uint32_t word;
      std::memcpy(&word, &value, 4);
      bits[i] = uint16_t(word >> 16);
    }
    return bits;
  };
  uint16_t *da = deviceCopy(toBF16(a)), *db = deviceCopy(toBF16(b));
  float *dd = nullptr;
  CHECK(cudaMalloc(&dd, n * n * sizeof(float)));
  float alpha = 1, beta = 0;
  double ms = eventMilliseconds([&] {
    CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, da,
                       CUDA_R_16BF, n, db, CUDA_R_16BF, n, &beta, dd,
                       CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  });
  CHECK(
      cudaMemcpy(d.data(), dd, n * n * sizeof(float), cudaMemcpyDeviceToHost));
  cudaFree(dd);
  cudaFree(db);
  cudaFree(da);
  cublasDestroy(handle);
  return ms;
}

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(benchOptions);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qtrain-bench-gpu: an FP8 GEMM through qtrain-lower-to-nvvm against "
      "cuBLASLt FP8 and cuBLAS bf16\n");
  if (sizes.empty()) {
    sizes.push_back(4096);
    sizes.push_back(8192);
  }
  llvm::Expected<CudaDevice> device = openCudaDevice();
  if (!device)
    fail(llvm::toString(device.takeError()));
  bool fp8 = device->major > 8 || device->minor >= 9;
  std::printf("%s (sm_%d%d), %d timed calls each; TFLOP/s = 2 N^3 / time\n",
              device->name.c_str(), device->major, device->minor,
              int(repetitions));
  std::printf("%6s  %-38s %10s %9s %12s %12s\n", "N", "GEMM", "ms", "TFLOP/s",
              "/ cuBLASLt", "/ cuBLAS bf16");
  for (int64_t n : sizes) {
    std::vector<uint8_t> a = randomCodes(n * n, 1), b = randomCodes(n * n, 2);
    std::vector<float> y(n * n), lt(n * n), bf16(n * n);
    Target target = device->target();
    Timing q = runQTrain(n, target, a, b, y);
    // The same GEMM on other tiles, each checked against the first.
    std::vector<std::pair<std::string, Timing>> variants;
    auto variant = [&](const std::string &name, Target other) {
      std::vector<float> yOther(n * n);
      variants.push_back({name, runQTrain(n, other, a, b, yOther)});
      if (relativeDifference(y, yOther, [](size_t i) { return i; }) > 1e-3)
        fail("the GEMM on " + name + " differs from the default's");
    };
    if (compareWGMMATiles && device->chip() == mlir::qtrain::GPUChip::sm_90a) {
      Target cpAsync = target, oneWarpgroup = target, twoBlocks = target,
             staticShared = target;
      cpAsync.wgmmaTMALoads = false;
      variant("cp.async loads", cpAsync);
      Target blockATile = target;
      blockATile.wgmmaPersistentBlocks = false;
      variant("a block a tile", blockATile);
      oneWarpgroup.wgmmaTwoWarpgroups = false;
      variant("64xN tiles", oneWarpgroup);
      // Half of the 227 KiB: two blocks an SM, on 128x128 tiles.
      twoBlocks.wgmmaSharedMemoryBytes = target.wgmmaSharedMemoryBytes / 2;
      variant("2 blocks/SM", twoBlocks);
      staticShared.wgmmaSharedMemoryBytes = 48 * 1024;
      variant("48 KiB smem", staticShared);
    }
    // cuBLASLt's FP8 GEMMs need dimensions that are multiples of 16.
    bool withLt = fp8 && n % 16 == 0;
    double ltMs = withLt ? runCublasLtFP8(n, a, b, lt) : 0;
    double bfMs = runCublasBF16(n, a, b, bf16);
    // Same values and f32 sums in other orders, on sm_89/sm_90 FP8 tensor
    // cores with an accumulator narrower than f32 (about 1e-3 of the
    // results at K = 8192): a wrong fragment layout or index is off by the
    // results' own magnitude.
    auto transposed = [n](size_t i) { return (i % n) * n + i / n; };
    double qVsBf16 = relativeDifference(bf16, y, transposed);
    double qVsLt = withLt ? relativeDifference(lt, y, transposed) : 0;
    double flop = 2.0 * n * n * n;
    auto row = [&](const std::string &name, double ms) {
      std::printf("%6lld  %-38s %10.3f %9.1f", (long long)n, name.c_str(), ms,
                  flop / ms * 1e-9);
      if (withLt)
        std::printf(" %11.0f%%", ltMs / ms * 100);
      else
        std::printf(" %12s", "-");
      std::printf(" %11.0f%%\n", bfMs / ms * 100);
    };
    row("qtrain FP8 qmatmul (GEMM kernel)", q.gemmKernelMs);
    for (const auto &[name, timing] : variants)
      row("qtrain FP8 (GEMM kernel, " + name + ")", timing.gemmKernelMs);
    row("qtrain FP8 qmatmul (all kernels)", q.kernelsMs);
    row("qtrain FP8 qmatmul (whole call)", q.callMs);
    if (withLt)
      row("cuBLASLt FP8 (E4M3, f32 out)", ltMs);
    row("cuBLAS bf16 (f32 out)", bfMs);
    std::printf("%6s  GEMM kernel: %s; worst difference from cuBLAS bf16 "
                "%.2g, from cuBLASLt FP8 %s of the largest result\n",
                "", q.gemmKernel.c_str(), qVsBf16,
                withLt ? std::to_string(qVsLt).c_str() : "-");
    if (qVsBf16 > 1e-2 || qVsLt > 1e-2)
      fail("qtrain's GEMM differs from cuBLAS's beyond summation rounding");
  }
  return 0;
}
