//===- qtrain-bench.cpp - Throughput of compiled qtrain code --------------===//
//
// Compiles kernels through qtrain-lower-to-cpu and times them in one run
// against baselines compiled the same way:
//   * quantizing a 64 MiB f32 tensor (int8, E4M3; nearest and stochastic)
//     against a plain f32 copy of it (the memory-bandwidth reference);
//   * int8 and E4M3 qmatmul against an f32 linalg.matmul at 1024^3.
// Single thread, median of repeated calls into preallocated buffers.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/JitModule.h"

#include "llvm/Support/CommandLine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

using namespace qtrain::runtime;

static llvm::cl::opt<int> repetitions("repetitions",
                                      llvm::cl::desc("Timed calls per kernel"),
                                      llvm::cl::init(11));
static llvm::cl::opt<int64_t>
    matmulSize("matmul-size", llvm::cl::desc("M = N = K of the matmuls"),
               llvm::cl::init(1024));

namespace {

/// Median wall time of `fn` in seconds, after one warm-up call.
double medianSeconds(const std::function<void()> &fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    auto stop = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(stop - start).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2,
                   times.end());
  return times[times.size() / 2];
}

std::unique_ptr<JitModule> compileOrDie(const std::string &source) {
  std::string error;
  auto jit = JitModule::compile(source, error);
  if (!jit) {
    std::fprintf(stderr, "qtrain-bench: compilation failed:\n%s\n%s\n",
                 error.c_str(), source.c_str());
    std::exit(1);
  }
  return jit;
}

/// A kernel from a flat f32 memref of `n` elements to a flat output memref
/// of `outType` elements; `body` maps %x (tensor<n x f32>) to %y.
std::string streamKernel(const std::string &name, int64_t n,
                         const std::string &outType, const std::string &body) {
  std::string N = std::to_string(n);
  return "func.func @" + name + "(%xm: memref<" + N + "xf32>, %ym: memref<" +
         N + "x" + outType +
         ">, %seed: i64) attributes "
         "{llvm.emit_c_interface} {\n"
         "  %x = bufferization.to_tensor %xm restrict : memref<" +
         N + "xf32> to tensor<" + N + "xf32>\n" + body +
         "  bufferization.materialize_in_destination %y in restrict writable "
         "%ym : (tensor<" +
         N + "x" + outType + ">, memref<" + N + "x" + outType +
         ">) -> ()\n  return\n}\n";
}

struct Row {
  std::string name;
  double seconds;
  double bytes;
};

} // namespace

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "qtrain benchmarks\n");
  qtrain::runtime::keepLargeAllocationsMapped();

  //===--------------------------------------------------------------------===//
  // Quantization of 64 MiB against a copy.
  //===--------------------------------------------------------------------===//
  const int64_t n = (64 << 20) / 4;
  const std::string N = std::to_string(n);
  std::string scale = "  %s = arith.constant dense<0.03125> : tensor<f32>\n";
  // One kernel per (format, rounding) pair: only these two vary.
  auto quantizeKernel = [&](const std::string &name, const std::string &format,
                            const std::string &storage, bool stochastic) {
    std::string rounding = stochastic ? " rounding stochastic seed(%seed)" : "";
    return streamKernel(name, n, storage,
                        scale + "  %y = qtrain.quantize %x to " + format +
                            " scale(%s : tensor<f32>)" + rounding +
                            " : tensor<" + N + "xf32> -> tensor<" + N + "x" +
                            storage + ">\n");
  };
  std::string source =
      "#id = affine_map<(d0) -> (d0)>\n" +
      streamKernel(
          "copy", n, "f32",
          "  %e = tensor.empty() : tensor<" + N +
              "xf32>\n"
              "  %y = linalg.generic {indexing_maps = [#id, #id], "
              "iterator_types = [\"parallel\"]} ins(%x : tensor<" +
              N + "xf32>) outs(%e : tensor<" + N +
              "xf32>) {\n"
              "  ^bb0(%in: f32, %out: f32):\n    linalg.yield %in : f32\n"
              "  } -> tensor<" +
              N + "xf32>\n") +
      quantizeKernel("int8_nearest", "int<8, signed>", "i8", false) +
      quantizeKernel("int8_stochastic", "int<8, signed>", "i8", true) +
      quantizeKernel("e4m3_nearest", "float<f8E4M3FN>", "f8E4M3FN", false) +
      quantizeKernel("e4m3_stochastic", "float<f8E4M3FN>", "f8E4M3FN", true);
  auto stream = compileOrDie(source);

  std::vector<float> x(n), copyOut(n);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float &v : x)
    v = normal(rng);
  std::vector<uint8_t> codes(n);
  auto xm = memref1D(x);
  auto copyM = memref1D(copyOut);
  auto codesM = memref1D(codes);
  using F32Kernel = void (*)(StridedMemRefType<float, 1> *,
                             StridedMemRefType<float, 1> *, int64_t);
  using CodeKernel = void (*)(StridedMemRefType<float, 1> *,
                              StridedMemRefType<uint8_t, 1> *, int64_t);
  auto copy = stream->lookup<F32Kernel>("copy");
  double copySeconds = medianSeconds([&] { copy(&xm, &copyM, 1); });
  double copyBytes = 2.0 * 4 * n;
  std::vector<Row> rows;
  for (const char *name :
       {"int8_nearest", "e4m3_nearest", "int8_stochastic", "e4m3_stochastic"}) {
    auto kernel = stream->lookup<CodeKernel>(name);
    int64_t seed = 0;
    double seconds = medianSeconds([&] { kernel(&xm, &codesM, ++seed); });
    rows.push_back({name, seconds, 5.0 * n}); // 4 bytes in, 1 out
  }

  std::printf("qtrain-bench: 1 thread, median of %d calls\n\n",
              int(repetitions));
  std::printf("Quantizing 64 MiB of f32 (16.8 M elements):\n");
  std::printf("  %-18s %9s %9s %14s\n", "kernel", "ms", "GB/s", "vs copy GB/s");
  double copyRate = copyBytes / copySeconds;
  std::printf("  %-18s %9.2f %9.1f %13.0f%%\n", "f32 copy", copySeconds * 1e3,
              copyRate / 1e9, 100.0);
  for (const Row &row : rows) {
    double rate = row.bytes / row.seconds;
    std::printf("  %-18s %9.2f %9.1f %13.0f%%\n", row.name.c_str(),
                row.seconds * 1e3, rate / 1e9, 100.0 * rate / copyRate);
  }

  //===--------------------------------------------------------------------===//
  // Matmuls: A [M, K] row-major, B stored [N, K] (transposed, the layout of
  // linear-layer weights), C [M, N] f32.
  //===--------------------------------------------------------------------===//
  const int64_t s = matmulSize;
  const std::string S = std::to_string(s), SS = std::to_string(s * s);
  auto matmulKernel = [&](const std::string &name, const std::string &type,
                          const std::string &body) {
    return "func.func @" + name + "(%am: memref<" + SS + "x" + type +
           ">, %bm: memref<" + SS + "x" + type + ">, %cm: memref<" + SS +
           "xf32>) attributes {llvm.emit_c_interface} {\n"
           "  %af = bufferization.to_tensor %am restrict : memref<" +
           SS + "x" + type + "> to tensor<" + SS + "x" + type +
           ">\n"
           "  %bf = bufferization.to_tensor %bm restrict : memref<" +
           SS + "x" + type + "> to tensor<" + SS + "x" + type +
           ">\n"
           "  %a = tensor.expand_shape %af [[0, 1]] output_shape [" +
           S + ", " + S + "] : tensor<" + SS + "x" + type + "> into tensor<" +
           S + "x" + S + "x" + type +
           ">\n"
           "  %b = tensor.expand_shape %bf [[0, 1]] output_shape [" +
           S + ", " + S + "] : tensor<" + SS + "x" + type + "> into tensor<" +
           S + "x" + S + "x" + type + ">\n" + body +
           "  %cf = tensor.collapse_shape %c [[0, 1]] : tensor<" + S + "x" + S +
           "xf32> into tensor<" + SS +
           "xf32>\n"
           "  bufferization.materialize_in_destination %cf in restrict "
           "writable %cm : (tensor<" +
           SS + "xf32>, memref<" + SS + "xf32>) -> ()\n  return\n}\n";
  };
  std::string mm = "tensor<" + S + "x" + S;
  std::string one = "  %one = arith.constant dense<1.0> : tensor<f32>\n";
  std::string matmuls =
      "#a = affine_map<(m, n, k) -> (m, k)>\n"
      "#bt = affine_map<(m, n, k) -> (n, k)>\n"
      "#c = affine_map<(m, n, k) -> (m, n)>\n" +
      matmulKernel("f32", "f32",
                   "  %zero = arith.constant 0.0 : f32\n"
                   "  %e = tensor.empty() : " +
                       mm +
                       "xf32>\n"
                       "  %init = linalg.fill ins(%zero : f32) outs(%e : " +
                       mm + "xf32>) -> " + mm +
                       "xf32>\n"
                       "  %c = linalg.matmul indexing_maps = [#a, #bt, #c] "
                       "ins(%a, %b : " +
                       mm + "xf32>, " + mm +
                       "xf32>) outs(%init "
                       ": " +
                       mm + "xf32>) -> " + mm + "xf32>\n") +
      matmulKernel("int8", "i8",
                   one +
                       "  %c = qtrain.qmatmul %a, %b lhs(int<8, signed>, "
                       "scale %one : tensor<f32>) rhs(int<8, signed> "
                       "transposed, scale %one : tensor<f32>) accumulate "
                       "i32 : " +
                       mm + "xi8>, " + mm + "xi8> -> " + mm + "xf32>\n") +
      matmulKernel("uint8_int8", "i8",
                   one +
                       "  %c = qtrain.qmatmul %a, %b lhs(int<8, unsigned>, "
                       "scale %one : tensor<f32>) rhs(int<8, signed> "
                       "transposed, scale %one : tensor<f32>) accumulate "
                       "i32 : " +
                       mm + "xi8>, " + mm + "xi8> -> " + mm + "xf32>\n") +
      matmulKernel("e4m3", "f8E4M3FN",
                   one +
                       "  %c = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, "
                       "scale %one : tensor<f32>) rhs(float<f8E4M3FN> "
                       "transposed, scale %one : tensor<f32>) accumulate "
                       "f32 : " +
                       mm + "xf8E4M3FN>, " + mm + "xf8E4M3FN> -> " + mm +
                       "xf32>\n");
  auto matmulJit = compileOrDie(matmuls);
  std::vector<float> af(s * s), bf(s * s), c(s * s);
  std::vector<uint8_t> a8(s * s), b8(s * s);
  for (int64_t i = 0; i < s * s; ++i) {
    af[i] = normal(rng);
    bf[i] = normal(rng);
    a8[i] = uint8_t(rng() % 0x70); // finite E4M3 codes, small int8 values
    b8[i] = uint8_t(rng() % 0x70);
  }
  auto afm = memref1D(af), bfm = memref1D(bf), cm = memref1D(c);
  auto a8m = memref1D(a8), b8m = memref1D(b8);
  using F32Matmul =
      void (*)(StridedMemRefType<float, 1> *, StridedMemRefType<float, 1> *,
               StridedMemRefType<float, 1> *);
  using CodeMatmul =
      void (*)(StridedMemRefType<uint8_t, 1> *, StridedMemRefType<uint8_t, 1> *,
               StridedMemRefType<float, 1> *);
  auto f32Fn = matmulJit->lookup<F32Matmul>("f32");
  double f32Seconds = medianSeconds([&] { f32Fn(&afm, &bfm, &cm); });
  double flops = 2.0 * double(s) * s * s;
  std::printf("\nMatmul %ld^3, B stored transposed ([N, K]), f32 result:\n",
              long(s));
  std::printf("  %-18s %9s %9s %14s\n", "kernel", "ms", "GFLOP/s",
              "speed-up vs f32");
  std::printf("  %-18s %9.1f %9.1f %14.2f\n", "f32 linalg.matmul",
              f32Seconds * 1e3, flops / f32Seconds / 1e9, 1.0);
  for (const char *name : {"int8", "uint8_int8", "e4m3"}) {
    auto fn = matmulJit->lookup<CodeMatmul>(name);
    double seconds = medianSeconds([&] { fn(&a8m, &b8m, &cm); });
    std::printf("  %-18s %9.1f %9.1f %14.2f\n",
                (std::string(name) + " qmatmul").c_str(), seconds * 1e3,
                flops / seconds / 1e9, f32Seconds / seconds);
  }
  return 0;
}
