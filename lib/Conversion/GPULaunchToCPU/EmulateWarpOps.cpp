//===- EmulateWarpOps.cpp - A warp's register exchanges on CPU threads ----===//
//
// Tensor-core MMAs, ldmatrix and shuffles exchange registers among a warp's
// (or warpgroup's) threads. In an emulated block each thread is a CPU
// thread with a scratch row of words: each stores its registers there,
// the warp meets at a barrier, and one call of libqtrain_gpu_emulator.so,
// written from the PTX ISA's fragment layouts, computes every thread's
// results (or each thread reads its source lane's words).
//
//===----------------------------------------------------------------------===//

#include "LaunchEmulator.h"

#include "qtrain/Runtime/GPUEmulator.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::qtrain;
using namespace mlir::qtrain::emulator;

namespace {

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

} // namespace

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
