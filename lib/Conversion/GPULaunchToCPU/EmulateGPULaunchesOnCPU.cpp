//===- EmulateGPULaunchesOnCPU.cpp - gpu.launch as CPU threads ------------===//
//
// Runs the kernels of the GPU lowering on the CPU, so that the kernels
// themselves (their indexing, fragment layouts, shared-memory staging and
// barriers) are tested where no GPU is. Each gpu.launch becomes loops over
// its blocks; a block's threads run one after another, or, where they
// synchronize (barriers, warp shuffles, warp and warpgroup MMAs), as an
// OpenMP team of one CPU thread each, barriers as omp.barrier.
// Tensor-core MMAs become calls into libqtrain_gpu_emulator.so, written
// from the PTX ISA's fragment descriptions; managed and device memory
// become host memory.
//
// Upstream offers no such lowering: the SCF-to-GPU direction only, and
// OpenMP lowerings of scf.parallel, which have no barriers or warps.
//
//===----------------------------------------------------------------------===//

#include "EmulatorCalls.h"

#include "qtrain/Conversion/Passes.h"
#include "qtrain/Runtime/GPUEmulator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_EMULATEGPULAUNCHESONCPUPASS
#include "qtrain/Conversion/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::emulator;

namespace {

constexpr StringLiteral kMMASyncFn = "qtrain_emulate_mma_sync";
constexpr StringLiteral kWGMMAFn = "qtrain_emulate_wgmma";
constexpr StringLiteral kLdMatrixFn = "qtrain_emulate_ldmatrix";
constexpr StringLiteral kThreadIdFn = "qtrain_emulate_thread_id";
constexpr StringLiteral kWarpBarrierFn = "qtrain_emulate_warp_barrier";
// cp.async and wgmma groups (lib/Runtime/GPUEmulator/AsyncOperations.cpp).
constexpr StringLiteral kCpAsyncFn = "qtrain_emulate_cp_async";
constexpr StringLiteral kCpAsyncCommitFn = "qtrain_emulate_cp_async_commit";
constexpr StringLiteral kCpAsyncWaitFn = "qtrain_emulate_cp_async_wait";
constexpr StringLiteral kWGMMACommitFn = "qtrain_emulate_wgmma_commit";
constexpr StringLiteral kWGMMAWaitFn = "qtrain_emulate_wgmma_wait";
constexpr StringLiteral kAsyncExitFn = "qtrain_emulate_async_exit";

/// What an `llvm.nvvm.mma.m16n8k*.row.col.*` intrinsic multiplies, from
/// its name (LLVM's NVPTX naming: f16 MMAs are named by their D and C
/// types, bf16 and tf32 ones by their operands, fp8 ones by D, A, B and C,
/// integer ones by A and B when they differ).
struct MMASyncKind {
  int64_t k;
  EmulatedElement a, b, acc;
};

std::optional<MMASyncKind> parseMMASync(StringRef name) {
  if (!name.consume_front("llvm.nvvm.mma.m16n8k"))
    return std::nullopt;
  int64_t k;
  if (name.consumeInteger(10, k) || !name.consume_front(".row.col."))
    return std::nullopt;
  SmallVector<StringRef> types;
  name.split(types, '.');
  auto element = [](StringRef type) {
    return llvm::StringSwitch<std::optional<EmulatedElement>>(type)
        .Case("e4m3", EmulatedElement::e4m3)
        .Case("e5m2", EmulatedElement::e5m2)
        .Case("s8", EmulatedElement::s8)
        .Case("u8", EmulatedElement::u8)
        .Default(std::nullopt);
  };
  using E = EmulatedElement;
  if (k == 16 && types == ArrayRef<StringRef>{"f32", "f32"})
    return MMASyncKind{k, E::f16, E::f16, E::f32};
  if (k == 16 && types == ArrayRef<StringRef>{"bf16"})
    return MMASyncKind{k, E::bf16, E::bf16, E::f32};
  if (k == 8 && types == ArrayRef<StringRef>{"tf32"})
    return MMASyncKind{k, E::tf32, E::tf32, E::f32};
  if (k != 32)
    return std::nullopt;
  if (types.size() == 4 && types[0] == "f32" && types[3] == "f32") {
    auto a = element(types[1]), b = element(types[2]);
    if (a && b && (*a == E::e4m3 || *a == E::e5m2) &&
        (*b == E::e4m3 || *b == E::e5m2))
      return MMASyncKind{k, *a, *b, E::f32};
    return std::nullopt;
  }
  if (types.size() > 2)
    return std::nullopt;
  auto a = element(types.front()), b = element(types.back());
  if (a && b && (*a == E::s8 || *a == E::u8) && (*b == E::s8 || *b == E::u8))
    return MMASyncKind{k, *a, *b, E::s32};
  return std::nullopt;
}

std::optional<EmulatedElement> emulatedElement(NVVM::WGMMATypes type) {
  switch (type) {
  case NVVM::WGMMATypes::e4m3:
    return EmulatedElement::e4m3;
  case NVVM::WGMMATypes::e5m2:
    return EmulatedElement::e5m2;
  case NVVM::WGMMATypes::s8:
    return EmulatedElement::s8;
  case NVVM::WGMMATypes::u8:
    return EmulatedElement::u8;
  case NVVM::WGMMATypes::f16:
    return EmulatedElement::f16;
  case NVVM::WGMMATypes::bf16:
    return EmulatedElement::bf16;
  case NVVM::WGMMATypes::tf32:
    return EmulatedElement::tf32;
  case NVVM::WGMMATypes::f32:
    return EmulatedElement::f32;
  case NVVM::WGMMATypes::s32:
    return EmulatedElement::s32;
  default:
    return std::nullopt;
  }
}

/// The runs of consecutive ops that `member` takes (as an `OpT`, null for
/// others) in each block of `region`, with nothing between them but ops
/// that `between` accepts (given the run so far).
template <typename OpT>
SmallVector<SmallVector<OpT>>
runsOf(Region &region, llvm::function_ref<OpT(Operation &)> member,
       llvm::function_ref<bool(Operation &, ArrayRef<OpT>)> between) {
  SmallVector<SmallVector<OpT>> runs;
  region.walk([&](Block *block) {
    SmallVector<OpT> run;
    for (Operation &op : *block) {
      if (OpT taken = member(op)) {
        run.push_back(taken);
        continue;
      }
      if (!run.empty() && between(op, run))
        continue;
      if (!run.empty())
        runs.push_back(std::move(run));
      run.clear();
    }
    if (!run.empty())
      runs.push_back(std::move(run));
  });
  return runs;
}

bool isWarpMMA(Operation *op) {
  auto call = dyn_cast<LLVM::CallIntrinsicOp>(op);
  return call && call.getIntrin().starts_with("llvm.nvvm.mma.");
}

/// Consecutive warp MMAs (those of a kernel's k-step), with nothing between
/// them but extractions of their results: they meet at one pair of
/// barriers.
using MMAGroup = SmallVector<LLVM::CallIntrinsicOp>;

SmallVector<MMAGroup> warpMMAGroups(Region &region) {
  return runsOf<LLVM::CallIntrinsicOp>(
      region,
      [](Operation &op) {
        return isWarpMMA(&op) ? cast<LLVM::CallIntrinsicOp>(op)
                              : LLVM::CallIntrinsicOp();
      },
      [](Operation &op, ArrayRef<LLVM::CallIntrinsicOp> run) {
        auto extract = dyn_cast<LLVM::ExtractValueOp>(op);
        return extract &&
               llvm::is_contained(run, extract.getContainer().getDefiningOp());
      });
}

/// Runs of consecutive ldmatrix ops: a warp exchanges their row addresses
/// at one pair of barriers.
using LdMatrixGroup = SmallVector<NVVM::LdMatrixOp>;

SmallVector<LdMatrixGroup> ldMatrixGroups(Region &region) {
  return runsOf<NVVM::LdMatrixOp>(
      region, [](Operation &op) { return dyn_cast<NVVM::LdMatrixOp>(op); },
      [](Operation &, ArrayRef<NVVM::LdMatrixOp>) { return false; });
}

/// Emulates one gpu.launch.
class LaunchEmulator {
public:
  LaunchEmulator(gpu::LaunchOp launch, bool guardDeviceMemory)
      : launch(launch), b(launch.getLoc(), launch),
        guardDeviceMemory(guardDeviceMemory) {}
  LogicalResult emulate();

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, v, 64); }
  Value toI64(Value v) {
    return b.createOrFold<arith::IndexCastOp>(b.getI64Type(), v);
  }
  /// Whether the block's threads must run at once: they meet at barriers
  /// or exchange registers in warp-wide MMAs.
  bool needsLockstep();
  /// The block's workgroup buffers, carved from one arena aligned to the
  /// shared window.
  LogicalResult allocateShared(IRMapping &mapping);
  /// Rewrites what a CPU cannot run in the cloned body.
  LogicalResult rewriteDeviceOps(Region &body, SmallVector<MMAGroup> groups);
  LogicalResult emulateMMASyncs(MMAGroup group);
  LogicalResult emulateWGMMA(NVVM::WgmmaMmaAsyncOp op);
  LogicalResult emulateLdMatrices(LdMatrixGroup group);
  LogicalResult emulateShuffle(gpu::ShuffleOp shuffle);
  /// Replaces `op` by a call of the emulator's `name` with `args`.
  LogicalResult replaceByCall(Operation *op, StringRef name, ValueRange args);
  /// Replaces a wait for all but `pending` groups by a call of `name`.
  LogicalResult replaceByWait(Operation *wait, StringRef name,
                              int64_t pending) {
    OpBuilder builder(wait);
    return replaceByCall(
        wait, name,
        {arith::ConstantIntOp::create(builder, wait->getLoc(), pending, 64)});
  }
  /// Stores `values` as words of this thread's scratch row, from word
  /// `first`, and loads them back as `types`.
  void storeWords(ValueRange values, int64_t first);
  SmallVector<Value> loadWords(TypeRange types, int64_t first);
  Value packStruct(Type structType, ValueRange values);

  func::FuncOp declare(StringRef name, TypeRange arguments, TypeRange results) {
    return emulator::declare(launch->getParentOfType<ModuleOp>(), name,
                             arguments, results);
  }

  gpu::LaunchOp launch;
  ImplicitLocOpBuilder b;
  bool guardDeviceMemory;
  // Sizes, and indices while the body is built.
  SmallVector<Value, 3> grid, block, blockIds, threadIds;
  // The thread's index in its block, its block's scratch rows (lockstep
  // blocks), and its workgroup memory.
  Value threadId, scratch, arena, arenaBytes;
  int64_t scratchWords = 0, dynamicOffset = 0, dynamicBytes = 0;
  // The first of the scratch words that shuffles use (two for values, the
  // thread's count of shuffles, and its warp's barrier's two counts in
  // lane 0's row), and the block's threads (lockstep blocks).
  int64_t shuffleWord = 0;
  Value blockThreads;
};

/// Workgroup memory is host memory here: buffers derived from it (views of
/// dynamic shared memory) lose the workgroup address space, as the
/// workgroup buffers' replacements have none.
static void dropWorkgroupSpace(Region &body) {
  auto isWorkgroup = [](Attribute space) {
    auto gpuSpace = dyn_cast_if_present<gpu::AddressSpaceAttr>(space);
    return gpuSpace && gpuSpace.getValue() == gpu::AddressSpace::Workgroup;
  };
  body.walk([&](Operation *op) {
    for (Value result : op->getResults())
      if (auto type = dyn_cast<MemRefType>(result.getType());
          type && isWorkgroup(type.getMemorySpace()))
        result.setType(MemRefType::get(type.getShape(), type.getElementType(),
                                       type.getLayout()));
  });
}

bool LaunchEmulator::needsLockstep() {
  return launch.getBody()
      .walk([](Operation *op) {
        return isa<gpu::BarrierOp, gpu::ShuffleOp>(op) || isWarpMMA(op) ||
                       isa<NVVM::NVVMDialect>(op->getDialect())
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

LogicalResult LaunchEmulator::allocateShared(IRMapping &mapping) {
  int64_t bytes = 0, dynamicBytes = 0;
  if (Value size = launch.getDynamicSharedMemorySize()) {
    // A constant, so that the arena is sized before the blocks run (the
    // tensor-core kernels' stages are).
    APInt constant;
    if (!matchPattern(size, m_ConstantInt(&constant)))
      return launch.emitOpError(
          "cannot emulate dynamic shared memory of a non-constant size");
    dynamicBytes = constant.getZExtValue();
  }
  SmallVector<int64_t> offsets;
  for (BlockArgument buffer : launch.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    // Kernels keep only sized scalars and vectors in workgroup memory (an
    // index there has no width before the kernel's index bitwidth is set).
    int64_t bytesPerElement = elementBytes(type.getElementType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getElementType().isIndex() || bytesPerElement == 0)
      return launch.emitOpError("cannot emulate workgroup buffer of type ")
             << type;
    bytes = llvm::alignTo(bytes, 16);
    offsets.push_back(bytes);
    bytes += type.getNumElements() * bytesPerElement;
  }
  // Dynamic shared memory follows the static buffers, 16-byte aligned as
  // PTX's `.extern .shared .align 16` array.
  dynamicOffset = llvm::alignTo(bytes, 16);
  this->dynamicBytes = dynamicBytes;
  if (dynamicBytes > 0)
    bytes = dynamicOffset + dynamicBytes;
  if (bytes == 0)
    return success();
  if (bytes > kEmulatedSharedWindow)
    return launch.emitOpError("workgroup buffers exceed the shared window");
  arenaBytes = i64(bytes);
  arena = memref::AllocOp::create(b, MemRefType::get({bytes}, b.getI8Type()),
                                  ValueRange(),
                                  b.getI64IntegerAttr(kEmulatedSharedWindow));
  for (auto [buffer, offset] :
       llvm::zip(launch.getWorkgroupAttributions(), offsets)) {
    auto type = cast<MemRefType>(buffer.getType());
    mapping.map(buffer,
                memref::ViewOp::create(
                    b, MemRefType::get(type.getShape(), type.getElementType()),
                    arena, index(offset), ValueRange()));
  }
  return success();
}

void LaunchEmulator::storeWords(ValueRange values, int64_t first) {
  for (auto [i, v] : llvm::enumerate(values)) {
    Value word = v.getType().isInteger(32)
                     ? v
                     : LLVM::BitcastOp::create(b, b.getI32Type(), v);
    memref::StoreOp::create(b, word, scratch,
                            ValueRange{threadId, index(first + i)});
  }
}

SmallVector<Value> LaunchEmulator::loadWords(TypeRange types, int64_t first) {
  SmallVector<Value> values;
  for (auto [i, type] : llvm::enumerate(types)) {
    Value word = memref::LoadOp::create(b, scratch,
                                        ValueRange{threadId, index(first + i)});
    values.push_back(type.isInteger(32)
                         ? word
                         : LLVM::BitcastOp::create(b, type, word).getResult());
  }
  return values;
}

Value LaunchEmulator::packStruct(Type structType, ValueRange values) {
  Value result = LLVM::PoisonOp::create(b, structType);
  for (auto [i, v] : llvm::enumerate(values))
    result = LLVM::InsertValueOp::create(b, result, v, i);
  return result;
}

LogicalResult LaunchEmulator::emulateMMASyncs(MMAGroup group) {
  // Each thread puts A, B and C of every MMA of the group in its row (slot
  // i at word kMMASyncSlotWords * i), the block meets, each warp's first thread
  // computes its warp's D (words 10-13 of the slots), the block meets again
  // (also so that no row is overwritten before it was read) and each thread
  // reads its D back: two barriers for the group, not for each MMA.
  SmallVector<MMASyncKind> kinds;
  for (auto [slot, call] : llvm::enumerate(group)) {
    std::optional<MMASyncKind> kind = parseMMASync(call.getIntrin());
    auto structType =
        call.getNumResults() == 1
            ? dyn_cast<LLVM::LLVMStructType>(call.getResult(0).getType())
            : nullptr;
    if (!kind || !structType || call.getArgs().size() != 10 ||
        structType.getBody().size() != 4)
      return call.emitOpError("cannot emulate ") << call.getIntrin();
    kinds.push_back(*kind);
    b.setInsertionPoint(call);
    b.setLoc(call.getLoc());
    storeWords(call.getArgs(), kMMASyncSlotWords * slot);
  }
  LLVM::CallIntrinsicOp last = group.back();
  b.setInsertionPointAfter(last);
  b.setLoc(last.getLoc());
  omp::BarrierOp::create(b);
  for (auto [slot, kind] : llvm::enumerate(kinds)) {
    SmallVector<Value> args{scratch,
                            toI64(threadId),
                            i64(kMMASyncSlotWords * slot),
                            i64(kind.k),
                            i64(int64_t(kind.a)),
                            i64(int64_t(kind.b)),
                            i64(int64_t(kind.acc))};
    func::CallOp::create(
        b, declare(kMMASyncFn, ValueRange(args).getTypes(), {}), args);
  }
  omp::BarrierOp::create(b);
  // The extractions of D between the group's calls move after it.
  SmallVector<Operation *> extractions;
  for (Operation *op = group.front(); op != last; op = op->getNextNode())
    if (isa<LLVM::ExtractValueOp>(op))
      extractions.push_back(op);
  for (auto [slot, call] : llvm::enumerate(group)) {
    auto structType = cast<LLVM::LLVMStructType>(call.getResult(0).getType());
    call.getResult(0).replaceAllUsesWith(
        packStruct(structType, loadWords(structType.getBody(),
                                         kMMASyncSlotWords * slot + 10)));
  }
  for (Operation *op : extractions) {
    op->moveBefore(b.getInsertionBlock(), b.getInsertionPoint());
  }
  for (LLVM::CallIntrinsicOp call : group)
    call.erase();
  return success();
}

/// A warp shuffle (shfl.sync) across the warp's threads, which run in
/// lockstep: each stores its value in its scratch row, the warp's lanes
/// meet at a warp barrier (the runtime's), and each reads the row of its
/// source lane in its warp (or keeps its own value where the source lies
/// outside the warp, as shfl.sync does). Shuffles alternate between two
/// words of the rows (the thread's count of its shuffles, in its row, says
/// which), so that one barrier is enough: a thread writes a word again
/// only two shuffles later, past the barrier of the one between, which
/// every lane reaches after its read. So every lane of a warp must reach
/// each of its shuffles, as shfl.sync with a full mask requires; 32-bit
/// values over whole warps only.
LogicalResult LaunchEmulator::emulateShuffle(gpu::ShuffleOp shuffle) {
  Type type = shuffle.getValue().getType();
  if ((!type.isInteger(32) && !type.isF32()) ||
      getConstantIntValue(shuffle.getWidth()) != 32)
    return shuffle.emitOpError("cannot emulate a shuffle but of 32-bit "
                               "values over warps of 32 lanes");
  b.setInsertionPoint(shuffle);
  b.setLoc(shuffle.getLoc());
  Value countAt = index(shuffleWord + 2);
  Value count =
      memref::LoadOp::create(b, scratch, ValueRange{threadId, countAt});
  Value one = arith::ConstantIntOp::create(b, 1, 32);
  memref::StoreOp::create(b, arith::AddIOp::create(b, count, one), scratch,
                          ValueRange{threadId, countAt});
  Value wordAt = arith::AddIOp::create(
      b, index(shuffleWord),
      arith::IndexCastUIOp::create(b, b.getIndexType(),
                                   arith::AndIOp::create(b, count, one)));
  Value mine = shuffle.getValue();
  if (type.isF32())
    mine = LLVM::BitcastOp::create(b, b.getI32Type(), mine);
  memref::StoreOp::create(b, mine, scratch, ValueRange{threadId, wordAt});
  SmallVector<Value> args{scratch, toI64(threadId), toI64(blockThreads),
                          i64(shuffleWord + 3)};
  func::CallOp::create(
      b, declare(kWarpBarrierFn, ValueRange(args).getTypes(), {}), args);
  Value warp = index(32);
  Value lane = arith::RemUIOp::create(b, threadId, warp);
  Value offset =
      arith::IndexCastUIOp::create(b, b.getIndexType(), shuffle.getOffset());
  Value source;
  switch (shuffle.getMode()) {
  case gpu::ShuffleMode::XOR:
    source = arith::XOrIOp::create(b, lane, offset);
    break;
  case gpu::ShuffleMode::DOWN:
    source = arith::AddIOp::create(b, lane, offset);
    break;
  case gpu::ShuffleMode::UP:
    // Wraps below lane 0 to a large index, out of the warp.
    source = arith::SubIOp::create(b, lane, offset);
    break;
  case gpu::ShuffleMode::IDX:
    source = offset;
    break;
  }
  Value valid =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, source, warp);
  Value row =
      arith::AddIOp::create(b, arith::SubIOp::create(b, threadId, lane),
                            arith::SelectOp::create(b, valid, source, lane));
  Value word = memref::LoadOp::create(b, scratch, ValueRange{row, wordAt});
  Value value =
      type.isF32() ? LLVM::BitcastOp::create(b, type, word).getResult() : word;
  shuffle.getShuffleResult().replaceAllUsesWith(value);
  shuffle.getValid().replaceAllUsesWith(valid);
  shuffle.erase();
  return success();
}

LogicalResult LaunchEmulator::emulateWGMMA(NVVM::WgmmaMmaAsyncOp op) {
  NVVM::MMAShapeAttr shape = op.getShape();
  std::optional<EmulatedElement> a = emulatedElement(op.getTypeA()),
                                 bType = emulatedElement(op.getTypeB()),
                                 acc = emulatedElement(op.getTypeD());
  auto structType = cast<LLVM::LLVMStructType>(op.getInouts().getType());
  if (!a || !bType || !acc || !arena || shape.getM() != 64 ||
      shape.getN() / 2 > scratchWords ||
      op.getLayoutA() != NVVM::MMALayout::row ||
      op.getLayoutB() != NVVM::MMALayout::col ||
      op.getScaleD() != NVVM::WGMMAScaleOut::one ||
      op.getScaleA() != NVVM::WGMMAScaleIn::one ||
      op.getScaleB() != NVVM::WGMMAScaleIn::one || op.getSatfinite())
    return op.emitOpError("cannot emulate this wgmma (K-major operands in "
                          "workgroup memory, m64, scales of one only)");
  b.setInsertionPoint(op);
  b.setLoc(op.getLoc());
  SmallVector<Value> accumulators;
  for (int64_t i = 0, e = structType.getBody().size(); i < e; ++i)
    accumulators.push_back(LLVM::ExtractValueOp::create(b, op.getInouts(), i));
  // Each thread's accumulators are its own; A and B are in the block's
  // shared memory, complete after the kernel's barrier.
  storeWords(accumulators, 0);
  Value arenaBase = toI64(
      memref::ExtractAlignedPointerAsIndexOp::create(b, arena).getResult());
  SmallVector<Value> args{scratch,
                          toI64(threadId),
                          arenaBase,
                          arenaBytes,
                          op.getDescriptorA(),
                          op.getDescriptorB(),
                          i64(shape.getN()),
                          i64(shape.getK()),
                          i64(int64_t(*a)),
                          i64(int64_t(*bType)),
                          i64(int64_t(*acc))};
  func::CallOp::create(b, declare(kWGMMAFn, ValueRange(args).getTypes(), {}),
                       args);
  op.getResult().replaceAllUsesWith(
      packStruct(structType, loadWords(structType.getBody(), 0)));
  op.erase();
  return success();
}

LogicalResult LaunchEmulator::emulateLdMatrices(LdMatrixGroup group) {
  // Each thread stores its row addresses (two words each) in its scratch
  // row; after a barrier, each takes its words from the rows its warp's
  // lanes address, and after another reads them back.
  int64_t ops = group.size();
  for (auto [slot, op] : llvm::enumerate(group)) {
    if (op.getLayout() != NVVM::MMALayout::row || op.getShape().getM() != 8 ||
        op.getShape().getN() != 8 ||
        op.getEltType() != NVVM::LdStMatrixEltType::B16 || !arena)
      return op.emitOpError("cannot emulate this ldmatrix (m8n8 b16 rows "
                            "in workgroup memory only)");
    b.setInsertionPoint(op);
    b.setLoc(op.getLoc());
    Value address = LLVM::PtrToIntOp::create(b, b.getI64Type(), op.getPtr());
    Value low = arith::TruncIOp::create(b, b.getI32Type(), address);
    Value high = arith::TruncIOp::create(
        b, b.getI32Type(), arith::ShRUIOp::create(b, address, i64(32)));
    storeWords({low, high}, 2 * int64_t(slot));
  }
  NVVM::LdMatrixOp last = group.back();
  b.setInsertionPointAfter(last);
  b.setLoc(last.getLoc());
  omp::BarrierOp::create(b);
  Value arenaBase = toI64(
      memref::ExtractAlignedPointerAsIndexOp::create(b, arena).getResult());
  for (auto [slot, op] : llvm::enumerate(group)) {
    SmallVector<Value> args{scratch,   toI64(threadId),  i64(ops),
                            i64(slot), i64(op.getNum()), arenaBase,
                            arenaBytes};
    func::CallOp::create(
        b, declare(kLdMatrixFn, ValueRange(args).getTypes(), {}), args);
  }
  omp::BarrierOp::create(b);
  for (auto [slot, op] : llvm::enumerate(group)) {
    int64_t first = ldMatrixResultWord(ops, slot);
    Type type = op.getRes().getType();
    if (auto structType = dyn_cast<LLVM::LLVMStructType>(type))
      op.getRes().replaceAllUsesWith(
          packStruct(structType, loadWords(structType.getBody(), first)));
    else
      op.getRes().replaceAllUsesWith(loadWords({type}, first).front());
    op.erase();
  }
  return success();
}

LogicalResult LaunchEmulator::replaceByCall(Operation *op, StringRef name,
                                            ValueRange args) {
  OpBuilder builder(op);
  func::CallOp::create(builder, op->getLoc(),
                       declare(name, args.getTypes(), {}), args);
  op->erase();
  return success();
}

LogicalResult LaunchEmulator::rewriteDeviceOps(Region &body,
                                               SmallVector<MMAGroup> groups) {
  for (MMAGroup &group : groups)
    if (failed(emulateMMASyncs(group)))
      return failure();
  bool async = body.walk([](Operation *op) {
                     return isa<NVVM::CpAsyncOp, NVVM::WgmmaMmaAsyncOp>(op)
                                ? WalkResult::interrupt()
                                : WalkResult::advance();
                   })
                   .wasInterrupted();
  SmallVector<Operation *> ops;
  body.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect, NVVM::NVVMDialect>(op->getDialect()) ||
        isa<LLVM::CallIntrinsicOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    LogicalResult result =
        TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](gpu::TerminatorOp terminator) {
              OpBuilder builder(terminator);
              if (async)
                func::CallOp::create(builder, terminator.getLoc(),
                                     declare(kAsyncExitFn, {}, {}),
                                     ValueRange());
              scf::YieldOp::create(builder, terminator.getLoc());
              terminator.erase();
              return success();
            })
            .Case([&](gpu::DynamicSharedMemoryOp dynamic) {
              OpBuilder builder(dynamic);
              Location loc = dynamic.getLoc();
              auto bytes =
                  MemRefType::get({ShapedType::kDynamic}, builder.getI8Type());
              dynamic.replaceAllUsesWith(
                  memref::ViewOp::create(
                      builder, loc, bytes, arena,
                      arith::ConstantIndexOp::create(builder, loc,
                                                     dynamicOffset),
                      ValueRange{arith::ConstantIndexOp::create(builder, loc,
                                                                dynamicBytes)})
                      .getResult());
              dynamic.erase();
              return success();
            })
            .Case([&](gpu::BarrierOp barrier) {
              OpBuilder builder(barrier);
              omp::BarrierOp::create(builder, barrier.getLoc());
              barrier.erase();
              return success();
            })
            .Case<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp,
                  gpu::GridDimOp>([&](Operation *id) {
              auto dim = id->getAttrOfType<gpu::DimensionAttr>("dimension");
              ArrayRef<Value> values = isa<gpu::ThreadIdOp>(id)   ? threadIds
                                       : isa<gpu::BlockIdOp>(id)  ? blockIds
                                       : isa<gpu::BlockDimOp>(id) ? block
                                                                  : grid;
              id->getResult(0).replaceAllUsesWith(
                  values[size_t(dim.getValue())]);
              id->erase();
              return success();
            })
            // CPU memory is coherent. wgmmas are computed when issued, and
            // their groups track the shared memory they read until waited
            // for (AsyncOperations.cpp).
            .Case<NVVM::FenceProxyOp, NVVM::WgmmaFenceAlignedOp>(
                [](Operation *fence) {
                  fence->erase();
                  return success();
                })
            .Case([&](NVVM::WgmmaGroupSyncAlignedOp commit) {
              return replaceByCall(commit, kWGMMACommitFn, {});
            })
            .Case([&](NVVM::WgmmaWaitGroupSyncOp wait) {
              return replaceByWait(wait, kWGMMAWaitFn, wait.getGroup());
            })
            .Case([&](LLVM::CallIntrinsicOp call) {
              return call.getIntrin().starts_with("llvm.nvvm.")
                         ? call.emitOpError("cannot emulate ")
                               << call.getIntrin()
                         : success();
            })
            .Case([&](NVVM::WgmmaMmaAsyncOp wgmma) {
              return emulateWGMMA(wgmma);
            })
            .Case(
                [&](gpu::ShuffleOp shuffle) { return emulateShuffle(shuffle); })
            // Copies complete at the wait that lets them, not before (see
            // AsyncOperations.cpp).
            .Case([&](NVVM::CpAsyncOp copy) {
              OpBuilder builder(copy);
              auto address = [&](Value pointer) {
                return LLVM::PtrToIntOp::create(builder, copy.getLoc(),
                                                builder.getI64Type(), pointer)
                    .getResult();
              };
              Value bytes = arith::ConstantIntOp::create(builder, copy.getLoc(),
                                                         copy.getSize(), 64);
              Value sourceBytes =
                  copy.getCpSize()
                      ? arith::ExtUIOp::create(builder, copy.getLoc(),
                                               builder.getI64Type(),
                                               copy.getCpSize())
                            .getResult()
                      : bytes;
              return replaceByCall(copy, kCpAsyncFn,
                                   {address(copy.getDst()),
                                    address(copy.getSrc()), bytes,
                                    sourceBytes});
            })
            .Case([&](NVVM::CpAsyncCommitGroupOp commit) {
              return replaceByCall(commit, kCpAsyncCommitFn, {});
            })
            .Case([&](NVVM::CpAsyncWaitGroupOp wait) {
              return replaceByWait(wait, kCpAsyncWaitFn, wait.getN());
            })
            .Default([](Operation *op) -> LogicalResult {
              if (std::optional<LogicalResult> emulated = emulateMBarrierOp(op))
                return *emulated;
              return op->emitOpError("cannot be emulated on the CPU");
            });
    if (failed(result))
      return failure();
  }
  return success();
}

LogicalResult LaunchEmulator::emulate() {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      launch.hasClusterSize())
    return launch.emitOpError(
        "cannot emulate asynchronous launches or clusters");
  bool lockstep = needsLockstep();
  if (guardDeviceMemory)
    callGuard(b, launch.getLoc(), kDeviceBeginFn);
  grid = {launch.getGridSizeX(), launch.getGridSizeY(), launch.getGridSizeZ()};
  block = {launch.getBlockSizeX(), launch.getBlockSizeY(),
           launch.getBlockSizeZ()};
  IRMapping mapping;
  gpu::KernelDim3 gridArgs = launch.getGridSize(),
                  blockArgs = launch.getBlockSize();
  for (auto [arg, size] :
       llvm::zip(ArrayRef<Value>{gridArgs.x, gridArgs.y, gridArgs.z,
                                 blockArgs.x, blockArgs.y, blockArgs.z},
                 llvm::concat<Value>(grid, block)))
    mapping.map(arg, size);

  // Blocks one after another, x fastest.
  auto loopsOver = [&](ArrayRef<Value> sizes) {
    SmallVector<Value, 3> ivs(3);
    for (int d = 2; d >= 0; --d) {
      auto loop = scf::ForOp::create(b, index(0), sizes[d], index(1));
      b.setInsertionPointToStart(loop.getBody());
      ivs[d] = loop.getInductionVar();
    }
    return ivs;
  };
  blockIds = loopsOver(grid);
  Block *blockLoop = b.getInsertionBlock();
  gpu::KernelDim3 blockIdArgs = launch.getBlockIds();
  mapping.map(blockIdArgs.x, blockIds[0]);
  mapping.map(blockIdArgs.y, blockIds[1]);
  mapping.map(blockIdArgs.z, blockIds[2]);
  if (failed(allocateShared(mapping)))
    return failure();
  omp::ParallelOp team;
  Value threads;
  if (lockstep) {
    // Folded: launches' block sizes are mostly constants.
    threads = b.createOrFold<arith::MulIOp>(
        b.createOrFold<arith::MulIOp>(block[0], block[1]), block[2]);
    blockThreads = threads;
    omp::ParallelOperands clauses;
    clauses.numThreads =
        b.createOrFold<arith::IndexCastOp>(b.getI32Type(), threads);
    team = omp::ParallelOp::create(b, clauses);
    b.setInsertionPointToStart(&team.getRegion().emplaceBlock());
    omp::TerminatorOp::create(b);
    b.setInsertionPointToStart(&team.getRegion().front());
    threadId = arith::IndexCastOp::create(
        b, b.getIndexType(),
        func::CallOp::create(
            b, declare(kThreadIdFn, {b.getI64Type()}, {b.getI64Type()}),
            ValueRange{toI64(threads)})
            .getResult(0));
    // x fastest, as CUDA numbers a block's threads.
    Value xy = b.createOrFold<arith::MulIOp>(block[0], block[1]);
    threadIds = {
        b.createOrFold<arith::RemUIOp>(threadId, block[0]),
        b.createOrFold<arith::RemUIOp>(
            b.createOrFold<arith::DivUIOp>(threadId, block[0]), block[1]),
        b.createOrFold<arith::DivUIOp>(threadId, xy)};
  } else {
    threadIds = loopsOver(block);
  }
  gpu::KernelDim3 threadIdArgs = launch.getThreadIds();
  mapping.map(threadIdArgs.x, threadIds[0]);
  mapping.map(threadIdArgs.y, threadIds[1]);
  mapping.map(threadIdArgs.z, threadIds[2]);
  // Private buffers: one per thread.
  for (BlockArgument buffer : launch.getPrivateAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    mapping.map(buffer, memref::AllocaOp::create(
                            b, MemRefType::get(type.getShape(),
                                               type.getElementType())));
  }

  // The body, as a region of its own (it may have several blocks).
  auto body = scf::ExecuteRegionOp::create(b, TypeRange());
  launch.getBody().cloneInto(&body.getRegion(), mapping);
  SmallVector<MMAGroup> groups = warpMMAGroups(body.getRegion());
  SmallVector<LdMatrixGroup> ldMatrices = ldMatrixGroups(body.getRegion());
  if (team) {
    // Scratch rows wide enough for the largest group of warp MMAs or of
    // ldmatrix ops (two address words and four result words each), or for
    // a warpgroup MMA's accumulators.
    for (MMAGroup &group : groups)
      scratchWords =
          std::max(scratchWords, kMMASyncSlotWords * int64_t(group.size()));
    for (LdMatrixGroup &group : ldMatrices)
      scratchWords = std::max(scratchWords,
                              ldMatrixResultWord(group.size(), group.size()));
    body.getRegion().walk([&](NVVM::WgmmaMmaAsyncOp wgmma) {
      scratchWords =
          std::max(scratchWords, int64_t(wgmma.getShape().getN()) / 2);
    });
    // Shuffles' five words, after the MMAs' words; the counts start at 0
    // in each block.
    bool shuffles =
        body.getRegion()
            .walk([](gpu::ShuffleOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (shuffles) {
      shuffleWord = scratchWords;
      scratchWords += 5;
    }
    if (scratchWords > 0) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(team);
      scratch = memref::AllocOp::create(
          b,
          MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                          b.getI32Type()),
          ValueRange{threads, index(scratchWords)});
    }
    if (shuffles) {
      // The warp barriers' counts, before any lane arrives at one.
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(team);
      Value zero = arith::ConstantIntOp::create(b, 0, 32);
      auto rows = scf::ForOp::create(b, index(0), threads, index(1));
      b.setInsertionPointToStart(rows.getBody());
      for (int64_t word : {shuffleWord + 3, shuffleWord + 4})
        memref::StoreOp::create(
            b, zero, scratch, ValueRange{rows.getInductionVar(), index(word)});
    }
    if (shuffles) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(body);
      memref::StoreOp::create(b, arith::ConstantIntOp::create(b, 0, 32),
                              scratch,
                              ValueRange{threadId, index(shuffleWord + 2)});
    }
  }
  for (LdMatrixGroup &group : ldMatrices)
    if (failed(emulateLdMatrices(group)))
      return failure();
  if (failed(rewriteDeviceOps(body.getRegion(), std::move(groups))))
    return failure();
  dropWorkgroupSpace(body.getRegion());

  b.setInsertionPoint(blockLoop->getTerminator());
  b.setLoc(launch.getLoc());
  if (scratch)
    memref::DeallocOp::create(b, scratch);
  if (arena)
    memref::DeallocOp::create(b, arena);
  if (guardDeviceMemory) {
    b.setInsertionPoint(launch);
    callGuard(b, launch.getLoc(), kDeviceEndFn);
  }
  launch.erase();
  return success();
}

struct EmulateGPULaunchesOnCPUPass
    : mlir::qtrain::impl::EmulateGPULaunchesOnCPUPassBase<
          EmulateGPULaunchesOnCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::LaunchOp> launches;
    module.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches)
      if (failed(LaunchEmulator(launch, guardDeviceMemory).emulate()))
        return signalPassFailure();
    if (failed(emulateHostOps(module, guardDeviceMemory)))
      return signalPassFailure();
  }
};

} // namespace
