//===- GPUEmulator.cpp - tensor-core MMAs for kernels run on CPU threads --===//
//
// libqtrain_gpu_emulator.so: what kernels that qtrain-emulate-gpu-launches
// runs on CPU threads call in place of the instructions a CPU lacks.
//
// The MMAs are written from the PTX ISA's descriptions of the fragments
// ("Matrix Fragments for mma.m16n8k8 / m16n8k16 / m16n8k32", "Register
// Fragments and Shared Memory Matrix Layouts" of wgmma), independently of
// the kernel builders that rely on them, so that a kernel that puts an
// element in the wrong register or shared-memory byte computes a wrong
// product here as it would on a GPU. Elements are decoded with LLVM's
// APFloat; products are exact in double, and each output is rounded once
// (to f32), or wraps (i32), after adding the accumulator. The hardware's
// summation order and intermediate precision are not specified; results
// agree with it up to f32 rounding of the sums.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Runtime/GPUEmulator.h"
#include "qtrain/Runtime/TensorMap.h"

#include "AsyncOperations.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include <sched.h>

using namespace mlir::qtrain;
using llvm::APFloat;
using llvm::APInt;

extern "C" int omp_get_thread_num();
extern "C" int omp_get_num_threads();

using qtrain::emulator::fail;

namespace {

/// Word `i` of row `row` (a thread of the block) of the scratch rows.
int32_t &scratchWord(StridedMemRefType<int32_t, 2> *scratch, int64_t row,
                     int64_t i) {
  return scratch->data[scratch->offset + row * scratch->strides[0] +
                       i * scratch->strides[1]];
}

// A block's threads wait at every barrier for the slowest one; with more
// threads than cores, spinning there starves the others. Before libomp
// reads its settings (at the first parallel region), unless set already.
[[maybe_unused]] const bool passiveWaiting =
    setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0) == 0;

EmulatedElement element(int64_t code) {
  if (code < 0 || code > int64_t(EmulatedElement::s32))
    fail("unknown element type");
  return EmulatedElement(code);
}

unsigned bitWidth(EmulatedElement e) {
  switch (e) {
  case EmulatedElement::e4m3:
  case EmulatedElement::e5m2:
  case EmulatedElement::s8:
  case EmulatedElement::u8:
    return 8;
  case EmulatedElement::f16:
  case EmulatedElement::bf16:
    return 16;
  default:
    return 32;
  }
}

bool isInteger(EmulatedElement e) {
  return e == EmulatedElement::s8 || e == EmulatedElement::u8 ||
         e == EmulatedElement::s32;
}

double viaAPFloat(const llvm::fltSemantics &semantics, unsigned width,
                  uint64_t bits) {
  APFloat value(semantics, APInt(width, bits));
  bool losesInfo;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

/// The values of every code of an 8- or 16-bit format, by APFloat once:
/// each MMA decodes thousands of elements.
std::vector<double> codeValues(const llvm::fltSemantics &semantics,
                               unsigned width) {
  std::vector<double> values(size_t(1) << width);
  for (uint64_t code = 0; code < values.size(); ++code)
    values[code] = viaAPFloat(semantics, width, code);
  return values;
}

/// The value of an element's bits (the low bitWidth(e) bits of `bits`).
double decode(EmulatedElement e, uint32_t bits) {
  static const std::vector<double> e4m3 =
      codeValues(APFloat::Float8E4M3FN(), 8);
  static const std::vector<double> e5m2 = codeValues(APFloat::Float8E5M2(), 8);
  static const std::vector<double> f16 = codeValues(APFloat::IEEEhalf(), 16);
  static const std::vector<double> bf16 = codeValues(APFloat::BFloat(), 16);
  switch (e) {
  case EmulatedElement::e4m3:
    return e4m3[bits & 0xFF];
  case EmulatedElement::e5m2:
    return e5m2[bits & 0xFF];
  case EmulatedElement::f16:
    return f16[bits & 0xFFFF];
  case EmulatedElement::bf16:
    return bf16[bits & 0xFFFF];
  case EmulatedElement::tf32:
    // A tf32 register is an f32 word. Which of its low 13 mantissa bits
    // the hardware reads is unspecified for values that are not tf32: the
    // emulator drops them, and the kernels round to tf32 themselves, so
    // that every reading agrees.
    return viaAPFloat(APFloat::IEEEsingle(), 32, bits & 0xFFFFE000u);
  case EmulatedElement::f32:
    return viaAPFloat(APFloat::IEEEsingle(), 32, bits);
  case EmulatedElement::s8:
    return int8_t(bits);
  case EmulatedElement::u8:
    return uint8_t(bits);
  case EmulatedElement::s32:
    return int32_t(bits);
  }
  fail("unknown element type");
}

/// Element `j` of a register holding 32 / width of them, the lowest in the
/// lowest bits.
uint32_t part(uint32_t reg, unsigned width, int64_t j) {
  return width == 32 ? reg : (reg >> (width * j)) & ((1u << width) - 1);
}

/// D = A * B + C, one output: products exact, one rounding (or wrap).
int32_t finish(EmulatedElement acc, double sum, int64_t intSum,
               uint32_t cBits) {
  if (acc == EmulatedElement::s32)
    return int32_t(uint32_t(intSum + int64_t(int32_t(cBits))));
  float result = float(sum + decode(EmulatedElement::f32, cBits));
  int32_t bits;
  std::memcpy(&bits, &result, sizeof bits);
  return bits;
}

} // namespace

/// mma.sync.aligned.m16n8k{8e}.row.col with e elements a register (k8 tf32,
/// k16 f16/bf16, k32 8-bit), for the warp of `thread`. Its 32 lanes' rows
/// of `scratch` hold A's 4, B's 2 and C's 4 registers from word `first`;
/// each lane's D goes to the 4 words after them. The warp's first thread
/// computes the warp's D; the others return.
extern "C" void _mlir_ciface_qtrain_emulate_mma_sync(
    StridedMemRefType<int32_t, 2> *scratch, int64_t thread, int64_t first,
    int64_t k, int64_t aCode, int64_t bCode, int64_t accCode) {
  if (thread % 32 != 0)
    return;
  EmulatedElement a = element(aCode), b = element(bCode),
                  acc = element(accCode);
  unsigned width = bitWidth(a);
  int64_t e = 32 / width;
  if (bitWidth(b) != width || k != 8 * e || first < 0 ||
      first + kMMASyncSlotWords > scratch->sizes[1])
    fail("unsupported mma.sync shape");
  auto word = [&](int64_t lane, int64_t i) -> int32_t & {
    return scratchWord(scratch, thread + lane, first + i);
  };
  // Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k*"): lane
  // (groupID g = lane / 4, threadID_in_group t = lane % 4) holds A's
  // elements a_i, i < 4e, e a register, at row g + 8 * ((i / e) % 2),
  // column t * e + i % e + 4e * (i / 2e); B's b_i, i < 2e, at row
  // t * e + i % e + 4e * (i / e), column g; C's and D's c_i, i < 4, at row
  // g + 8 * (i / 2), column 2t + i % 2.
  std::vector<double> av(16 * k), bv(k * 8);
  for (int64_t lane = 0; lane < 32; ++lane) {
    int64_t g = lane / 4, t = lane % 4;
    for (int64_t i = 0; i < 4 * e; ++i) {
      int64_t row = g + 8 * ((i / e) % 2),
              col = t * e + i % e + 4 * e * (i / (2 * e));
      av[row * k + col] = decode(a, part(word(lane, i / e), width, i % e));
    }
    for (int64_t i = 0; i < 2 * e; ++i) {
      int64_t row = t * e + i % e + 4 * e * (i / e), col = g;
      bv[row * 8 + col] = decode(b, part(word(lane, 4 + i / e), width, i % e));
    }
  }
  for (int64_t lane = 0; lane < 32; ++lane) {
    int64_t g = lane / 4, t = lane % 4;
    for (int64_t i = 0; i < 4; ++i) {
      int64_t row = g + 8 * (i / 2), col = 2 * t + i % 2;
      double sum = 0;
      int64_t intSum = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        // Integer products are exact in double too (|x * y| < 2^16).
        if (isInteger(a))
          intSum += int64_t(av[row * k + kk]) * int64_t(bv[kk * 8 + col]);
        else
          sum += av[row * k + kk] * bv[kk * 8 + col];
      }
      word(lane, 10 + i) = finish(acc, sum, intSum, word(lane, 6 + i));
    }
  }
}

namespace {

/// An operand tile in shared memory as a wgmma matrix descriptor describes
/// it (PTX ISA, "Matrix Descriptor Format"): start address, leading and
/// stride byte offsets, each stored >> 4 in 14 bits at bits 0, 16 and 32;
/// bits 49-51 a base offset (0 here) and 62-63 the layout: 0 no swizzle,
/// 1, 2, 3 the 128, 64 and 32-byte swizzles. K-major only (the kernels'
/// only form).
struct SharedTile {
  const uint8_t *shared;
  int64_t sharedBytes, start, leading, stride, swizzleBytes;

  SharedTile(int64_t sharedBase, int64_t sharedBytes, uint64_t desc)
      : shared(reinterpret_cast<const uint8_t *>(sharedBase)),
        sharedBytes(sharedBytes), start(int64_t(desc & 0x3FFF) << 4),
        leading(int64_t((desc >> 16) & 0x3FFF) << 4),
        stride(int64_t((desc >> 32) & 0x3FFF) << 4),
        swizzleBytes((desc >> 62) == 0 ? 0 : 256 >> (desc >> 62)) {
    if (((desc >> 49) & 7) != 0)
      fail("wgmma descriptor with a base offset");
  }

  /// Element (r, k) of a K-major tile of `width`-bit elements. Without
  /// swizzling: core matrices of 8 rows of 16 bytes, `leading` bytes apart
  /// along k and `stride` bytes apart along r. Swizzled: atoms of 8 rows
  /// of `swizzleBytes` bytes, `stride` bytes apart along r, the leading
  /// offset unused (a wgmma's k fits in a row), its bytes where the
  /// swizzle puts them (swizzledAddress: from the address's bits, as the
  /// start address moved along k within a row leaves them).
  int64_t offset(int64_t r, int64_t k, unsigned width) const {
    int64_t byte = k * width / 8;
    if (swizzleBytes == 0)
      return start + (r / 8) * stride + (byte / 16) * leading + (r % 8) * 16 +
             byte % 16;
    return mlir::qtrain::swizzledAddress(
        start + (r / 8) * stride + (r % 8) * swizzleBytes + byte, swizzleBytes);
  }

  /// The shared-memory bytes [begin, end) (absolute addresses) of a tile
  /// of `rows` rows and `k` elements of `width` bits.
  std::pair<int64_t, int64_t> extent(int64_t rows, int64_t k,
                                     unsigned width) const {
    int64_t first = start, last;
    if (swizzleBytes == 0) {
      last = offset(rows - 1, k - 1, width) | 15;
    } else {
      // Swizzling moves 16-byte units within a row.
      first = start & ~(swizzleBytes - 1);
      last = ((start + (rows / 8 - 1) * stride + 7 * swizzleBytes) |
              (swizzleBytes - 1));
    }
    int64_t base = reinterpret_cast<int64_t>(shared);
    return {base + first, base + last + 1};
  }

  uint32_t load(int64_t r, int64_t k, unsigned width) const {
    int64_t address = offset(r, k, width);
    if (address + width / 8 > sharedBytes)
      fail("wgmma operand outside the block's shared memory");
    uint32_t bits = 0;
    std::memcpy(&bits, shared + address, width / 8); // little-endian
    return bits;
  }
};

} // namespace

/// wgmma.mma_async.sync.aligned.m64n{n}k{k} with both operands K-major in
/// shared memory (`sharedBase`, 2^18-aligned so that addresses' low 18
/// bits are shared-memory offsets), scale-d 1: this thread's n / 2
/// accumulators in words 0.. of its row of `scratch` become D's.
extern "C" void _mlir_ciface_qtrain_emulate_wgmma(
    StridedMemRefType<int32_t, 2> *scratch, int64_t thread, int64_t sharedBase,
    int64_t sharedBytes, int64_t descA, int64_t descB, int64_t n, int64_t k,
    int64_t aCode, int64_t bCode, int64_t accCode) {
  EmulatedElement a = element(aCode), b = element(bCode),
                  acc = element(accCode);
  if (sharedBase % kEmulatedSharedWindow != 0)
    fail("emulated shared memory is not aligned to the shared window");
  if (n / 2 > scratch->sizes[1] || thread >= scratch->sizes[0])
    fail("unsupported wgmma shape");
  SharedTile tileA(sharedBase, sharedBytes, descA),
      tileB(sharedBase, sharedBytes, descB);
  // Computed now, but read until the wait that completes it.
  for (auto [begin, end] :
       {tileA.extent(64, k, bitWidth(a)), tileB.extent(n, k, bitWidth(b))})
    qtrain::emulator::readByWGMMA(begin, end);
  // D fragments (PTX ISA, "Register Fragments", wgmma .m64nNk*): warp w
  // of the warpgroup (of a block's 128-thread warpgroups, each its own
  // wgmmas) holds rows 16w..16w+15; its lane (g, t) holds d_i at row
  // 16w + g + 8 * ((i / 2) % 2), column 8 * (i / 4) + 2t + i % 2.
  int64_t w = thread % 128 / 32, g = thread % 32 / 4, t = thread % 4;
  for (int64_t i = 0; i < n / 2; ++i) {
    int64_t m = 16 * w + g + 8 * ((i / 2) % 2),
            col = 8 * (i / 4) + 2 * t + i % 2;
    double sum = 0;
    int64_t intSum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      double x = decode(a, tileA.load(m, kk, bitWidth(a)));
      double y = decode(b, tileB.load(col, kk, bitWidth(b)));
      if (isInteger(a))
        intSum += int64_t(x) * int64_t(y);
      else
        sum += x * y;
    }
    int32_t &slot = scratchWord(scratch, thread, i);
    slot = finish(acc, sum, intSum, uint32_t(slot));
  }
}

/// bar.warp.sync, as the shuffles' emulation needs it (the
/// EmulateGPULaunchesOnCPU pass): the lanes of `thread`'s warp (32, fewer
/// in a block's last, partial warp of `threads`) wait until all have come.
/// Words `word` (arrivals) and `word` + 1 (barriers passed) of the warp's
/// lane 0's scratch row, zero before the block's threads start, count
/// them; other warps go on meanwhile (a TMA kernel's producer warp never
/// shuffles). The GCC atomics give a word of the plain int32 rows atomic
/// access (std::atomic_ref is C++20).
extern "C" void
_mlir_ciface_qtrain_emulate_warp_barrier(StridedMemRefType<int32_t, 2> *scratch,
                                         int64_t thread, int64_t threads,
                                         int64_t word) {
  int64_t first = thread - thread % 32;
  int32_t lanes = int32_t(std::min<int64_t>(32, threads - first));
  int32_t *arrivals = &scratchWord(scratch, first, word);
  int32_t *passed = &scratchWord(scratch, first, word + 1);
  // Read before arriving: the count moves on only once every lane has.
  int32_t barrier = __atomic_load_n(passed, __ATOMIC_ACQUIRE);
  if (__atomic_add_fetch(arrivals, 1, __ATOMIC_ACQ_REL) == lanes) {
    __atomic_store_n(arrivals, 0, __ATOMIC_RELAXED);
    __atomic_store_n(passed, barrier + 1, __ATOMIC_RELEASE);
    return;
  }
  // More threads than cores: wait without holding one.
  while (__atomic_load_n(passed, __ATOMIC_ACQUIRE) == barrier)
    sched_yield();
}

/// ldmatrix.sync.aligned.m8n8.x{count}.shared.b16 (PTX ISA, "Warp-level
/// matrix load instruction: ldmatrix"), the `slot`th of `ops` a warp runs
/// together: lanes 8i..8i + 7 hold the addresses of matrix i's eight
/// 16-byte rows, in words 2 slot (low) and 2 slot + 1 (high) of their
/// scratch rows, and lane l receives 32 bits of each matrix, row l / 4 at
/// byte 4 (l % 4) (two 16-bit elements), in words ldMatrixResultWord(ops,
/// slot) + i of its row.
extern "C" void _mlir_ciface_qtrain_emulate_ldmatrix(
    StridedMemRefType<int32_t, 2> *scratch, int64_t thread, int64_t ops,
    int64_t slot, int64_t count, int64_t sharedBase, int64_t sharedBytes) {
  if (count != 1 && count != 2 && count != 4)
    fail("unsupported ldmatrix count");
  int64_t lane = thread % 32, warp = thread - lane;
  for (int64_t i = 0; i < count; ++i) {
    int64_t source = warp + 8 * i + lane / 4;
    int64_t address =
        int64_t(uint32_t(scratchWord(scratch, source, 2 * slot))) |
        int64_t(uint32_t(scratchWord(scratch, source, 2 * slot + 1))) << 32;
    if (address % 16 != 0 || address < sharedBase ||
        address + 16 > sharedBase + sharedBytes)
      fail("ldmatrix row outside the block's shared memory or not 16-byte "
           "aligned");
    std::memcpy(
        &scratchWord(scratch, thread, ldMatrixResultWord(ops, slot) + i),
        reinterpret_cast<const char *>(address) + 4 * (lane % 4), 4);
  }
}

/// This CPU thread's index in its block, checking that the OpenMP team has
/// the block's `threads` threads (a smaller team would skip threads).
extern "C" int64_t qtrain_emulate_thread_id(int64_t threads) {
  if (omp_get_num_threads() != threads)
    fail("the OpenMP team is smaller than the thread block (OMP_THREAD_LIMIT "
         "or OMP_DYNAMIC?)");
  return omp_get_thread_num();
}
