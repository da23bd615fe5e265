//===- ElementwiseExecutionTest.cpp - Compiled rounding vs the library ----===//
//
// Compiles qtrain.quantize/round/dequantize through qtrain-lower-to-cpu (and
// qtrain-lower-to-nvvm where there is a GPU), runs them on every f16 and
// bf16 value, edge cases and random f32 values, and requires the numerics
// library's bits exactly, for every named format and several integer
// formats, in every rounding mode and overflow rule.
//
//===----------------------------------------------------------------------===//

#include "Devices.h"
#include "KernelWriter.h"

#include "qtrain/Numerics/Format.h"
#include "qtrain/Numerics/Quantization.h"
#include "qtrain/Numerics/Rounding.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

using namespace qtrain::numerics;
using namespace qtrain::testing;

namespace {

struct FormatCase {
  std::string name;   // test name
  std::string syntax; // format in op syntax
  std::string storage;
  Format format;
};

std::vector<FormatCase> formatCases() {
  std::vector<FormatCase> cases;
  for (auto *it = namedFloatFormatsBegin(); it != namedFloatFormatsEnd(); ++it)
    cases.push_back(
        {std::string(it->name), "float<" + std::string(it->name) + ">",
         it->isBuiltin ? std::string(it->name)
                       : "i" + std::to_string(it->format.bitWidth()),
         it->format});
  cases.push_back({"fnuz_e3m2_nosub",
                   "float<exp = 3, man = 2, bias = 5, subnormals = false, "
                   "specials = fnuz>",
                   "i6", FloatFormat{3, 2, 5, false, SpecialValues::FNUZ}});
  for (auto [bits, isSigned] : {std::pair{8u, true}, std::pair{8u, false},
                                std::pair{4u, true}, std::pair{16u, true}})
    cases.push_back(
        {std::string(isSigned ? "int" : "uint") + std::to_string(bits),
         "int<" + std::to_string(bits) +
             (isSigned ? ", signed>" : ", unsigned>"),
         "i" + std::to_string(bits), IntFormat{bits, isSigned}});
  return cases;
}

const RoundingMode kModes[] = {
    RoundingMode::NearestEven, RoundingMode::NearestAway,
    RoundingMode::TowardZero,  RoundingMode::Upward,
    RoundingMode::Downward,    RoundingMode::Stochastic};

std::vector<OverflowMode> overflowModes(const Format &f) {
  if (f.isInt())
    return {OverflowMode::Saturate};
  return {OverflowMode::Saturate, OverflowMode::Native};
}

std::string kernelName(const char *op, RoundingMode r, OverflowMode o) {
  return std::string(op) + "_" + std::string(stringify(r)) + "_" +
         std::string(stringify(o));
}

/// A generic widening the codes of `storage` to i32.
std::string widen(const std::string &value, const std::string &storage,
                  unsigned width) {
  std::ostringstream s;
  bool isInt = storage[0] == 'i';
  s << "  %n = tensor.dim " << value << ", %c0 : tensor<?x" << storage << ">\n"
    << "  %e = tensor.empty(%n) : tensor<?xi32>\n"
    << "  %w = linalg.generic {indexing_maps = [#id, #id], iterator_types = "
       "[\"parallel\"]} ins("
    << value << " : tensor<?x" << storage << ">) outs(%e : tensor<?xi32>) {\n"
    << "  ^bb0(%in: " << storage << ", %out: i32):\n";
  std::string bits = "%in";
  if (!isInt) {
    s << "    %b = arith.bitcast %in : " << storage << " to i" << width << "\n";
    bits = "%b";
  }
  if (width < 32)
    s << "    %z = arith.extui " << bits << " : i" << width << " to i32\n"
      << "    linalg.yield %z : i32\n";
  else
    s << "    linalg.yield " << bits << " : i32\n";
  s << "  } -> tensor<?xi32>\n";
  return s.str();
}

std::string moduleSource(const FormatCase &c) {
  unsigned width = c.format.bitWidth();
  std::ostringstream s;
  s << "#id = affine_map<(d0) -> (d0)>\n";
  for (RoundingMode r : kModes) {
    for (OverflowMode o : overflowModes(c.format)) {
      std::string options = " rounding " + std::string(stringify(r));
      if (r == RoundingMode::Stochastic)
        options += " seed(%seed)";
      if (o == OverflowMode::Native)
        options += " overflow native";
      options += " {stream = 5 : i32}";
      // Codes of quantize.
      s << "func.func @" << kernelName("quantize", r, o)
        << "(%xm: memref<?xf32>, %om: memref<?xi32>, %seed: i64) "
           "attributes {llvm.emit_c_interface} {\n"
        << "  %c0 = arith.constant 0 : index\n"
        << "  %x = bufferization.to_tensor %xm restrict : memref<?xf32> to "
           "tensor<?xf32>\n"
        << "  %q = qtrain.quantize %x to " << c.syntax << options
        << " : tensor<?xf32> -> tensor<?x" << c.storage << ">\n"
        << widen("%q", c.storage, width)
        << "  bufferization.materialize_in_destination %w in restrict "
           "writable %om : (tensor<?xi32>, memref<?xi32>) -> ()\n"
        << "  return\n}\n";
      // Values of round, as bits.
      s << "func.func @" << kernelName("round", r, o)
        << "(%xm: memref<?xf32>, %om: memref<?xf32>, %seed: i64) "
           "attributes {llvm.emit_c_interface} {\n"
        << "  %x = bufferization.to_tensor %xm restrict : memref<?xf32> to "
           "tensor<?xf32>\n"
        << "  %r = qtrain.round %x to " << c.syntax << options
        << " : tensor<?xf32>\n"
        << "  bufferization.materialize_in_destination %r in restrict "
           "writable %om : (tensor<?xf32>, memref<?xf32>) -> ()\n"
        << "  return\n}\n";
    }
  }
  // dequantize of every code.
  s << "func.func @dequantize(%cm: memref<?xi32>, %om: memref<?xf32>) "
       "attributes {llvm.emit_c_interface} {\n"
    << "  %c0 = arith.constant 0 : index\n"
    << "  %codes = bufferization.to_tensor %cm restrict : memref<?xi32> to "
       "tensor<?xi32>\n"
    << "  %n = tensor.dim %codes, %c0 : tensor<?xi32>\n"
    << "  %e = tensor.empty(%n) : tensor<?x" << c.storage << ">\n"
    << "  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = "
       "[\"parallel\"]} ins(%codes : tensor<?xi32>) outs(%e : tensor<?x"
    << c.storage << ">) {\n"
    << "  ^bb0(%in: i32, %out: " << c.storage << "):\n";
  if (width < 32)
    s << "    %t = arith.trunci %in : i32 to i" << width << "\n";
  if (c.storage[0] != 'i')
    s << "    %f = arith.bitcast %t : i" << width << " to " << c.storage << "\n"
      << "    linalg.yield %f : " << c.storage << "\n";
  else
    s << "    linalg.yield %t : " << c.storage << "\n";
  s << "  } -> tensor<?x" << c.storage << ">\n"
    << "  %d = qtrain.dequantize %q from " << c.syntax << " : tensor<?x"
    << c.storage << "> -> tensor<?xf32>\n"
    << "  bufferization.materialize_in_destination %d in restrict writable "
       "%om : (tensor<?xf32>, memref<?xf32>) -> ()\n"
    << "  return\n}\n";
  return s.str();
}

float floatOf(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}
uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

/// Every f16 and bf16 value, f32 edge cases, random f32 values, and for
/// `format` every grid point, every midpoint between neighbouring grid points
/// (the ties) and the f32 values on either side of it, the largest finite
/// value and the first overflow.
std::vector<float> inputs(const Format &format) {
  std::vector<float> x;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    // bf16 values are the top half of an f32.
    x.push_back(floatOf(h << 16));
    // f16 values, built by hand: 1 sign, 5 exponent, 10 mantissa bits.
    uint32_t sign = (h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0    ? std::ldexp(float(m), -24)
              : e == 31 ? (m ? NAN : INFINITY)
                        : std::ldexp(float(1024 + m), int(e) - 25);
    x.push_back(sign ? -v : v);
  }
  for (float v : {FLT_MIN, FLT_MAX, FLT_TRUE_MIN, -FLT_TRUE_MIN, 0.0f, -0.0f})
    x.push_back(v);
  // The format's grid, sorted, with one more step past the largest value.
  std::vector<float> grid;
  for (uint32_t code = 0; code < (1u << format.bitWidth()); ++code) {
    float v = decode(format, code);
    if (std::isfinite(v) && !std::signbit(v))
      grid.push_back(v);
  }
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  grid.push_back(grid.back() + (grid.back() - grid[grid.size() - 2]));
  for (size_t i = 0; i + 1 < grid.size(); ++i) {
    float mid = float((double(grid[i]) + grid[i + 1]) / 2);
    for (float v : {grid[i], mid, std::nextafter(mid, 0.0f),
                    std::nextafter(mid, INFINITY)}) {
      x.push_back(v);
      x.push_back(-v);
    }
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 65536; ++i)
    x.push_back(floatOf(rng()));
  return x;
}

class ElementwiseExecutionTest
    : public ::testing::TestWithParam<std::tuple<FormatCase, Device>> {};

using QuantizeFn = void (*)(StridedMemRefType<float, 1> *,
                            StridedMemRefType<int32_t, 1> *, int64_t);
using RoundFn = void (*)(StridedMemRefType<float, 1> *,
                         StridedMemRefType<float, 1> *, int64_t);
using DequantizeFn = void (*)(StridedMemRefType<int32_t, 1> *,
                              StridedMemRefType<float, 1> *);

TEST_P(ElementwiseExecutionTest, BitExactAgainstLibrary) {
  const auto &c = std::get<0>(GetParam());
  Device device = std::get<1>(GetParam());
  std::string error;
  std::optional<Target> target = targetOf(device, error);
  if (!target)
    GTEST_SKIP() << error;
  std::unique_ptr<JitModule> jit =
      JitModule::compile(moduleSource(c), error, *target);
  ASSERT_TRUE(jit) << error;

  std::vector<float> x = inputs(c.format);
  auto xm = memref1D(x);
  const int64_t seed = 0x0123456789abcdefll;
  const Shape shape = {int64_t(x.size())};
  for (RoundingMode r : kModes) {
    for (OverflowMode o : overflowModes(c.format)) {
      QuantizeOptions options;
      options.rounding = r;
      options.overflow = o;
      options.seed = uint64_t(seed);
      options.stream = 5;
      std::vector<uint32_t> expectedCodes(x.size());
      quantize(x.data(), shape, c.format, nullptr, nullptr, options,
               expectedCodes.data());
      std::vector<float> expectedValues(x.size());
      roundTensor(x.data(), shape, c.format, nullptr, nullptr, options,
                  expectedValues.data());

      std::vector<int32_t> codes(x.size(), -1);
      auto codesM = memref1D(codes);
      auto quantizeFn = jit->lookup<QuantizeFn>(kernelName("quantize", r, o));
      ASSERT_TRUE(quantizeFn);
      quantizeFn(&xm, &codesM, seed);
      std::vector<float> values(x.size());
      auto valuesM = memref1D(values);
      auto roundFn = jit->lookup<RoundFn>(kernelName("round", r, o));
      ASSERT_TRUE(roundFn);
      roundFn(&xm, &valuesM, seed);
      expectNoGPUError(*target);

      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(uint32_t(codes[i]), expectedCodes[i])
            << c.name << " " << stringify(r) << " " << stringify(o)
            << " x=" << x[i] << " (0x" << std::hex << bitsOf(x[i]) << ")";
        ASSERT_EQ(bitsOf(values[i]), bitsOf(expectedValues[i]))
            << c.name << " round " << stringify(r) << " " << stringify(o)
            << " x=" << x[i];
      }
    }
  }

  std::vector<int32_t> allCodes(size_t(1) << c.format.bitWidth());
  for (size_t i = 0; i < allCodes.size(); ++i)
    allCodes[i] = int32_t(i);
  std::vector<float> decoded(allCodes.size());
  auto codesM = memref1D(allCodes);
  auto decodedM = memref1D(decoded);
  auto dequantizeFn = jit->lookup<DequantizeFn>("dequantize");
  ASSERT_TRUE(dequantizeFn);
  dequantizeFn(&codesM, &decodedM);
  expectNoGPUError(*target);
  for (size_t i = 0; i < allCodes.size(); ++i)
    ASSERT_EQ(bitsOf(decoded[i]), bitsOf(decode(c.format, uint32_t(i))))
        << c.name << " code " << i;
}

/// The GPU cases above need a GPU; their compilation does not.
TEST(ElementwiseGPUCompilation, LowersForEveryChip) {
  for (const FormatCase &c : formatCases())
    if (c.name == "f8E4M3FN" || c.name == "hfp8_e4m3" || c.name == "int8")
      expectCompilesForEveryChip(moduleSource(c));
}

INSTANTIATE_TEST_SUITE_P(Lowering, ElementwiseExecutionTest,
                         ::testing::Combine(::testing::ValuesIn(formatCases()),
                                            ::testing::Values(Device::cpu,
                                                              Device::cuda)),
                         [](const auto &info) {
                           return std::get<0>(info.param).name + "_" +
                                  deviceName(std::get<1>(info.param));
                         });

} // namespace
