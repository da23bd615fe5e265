//===- TensorCoreMatch.cpp - contractions the tensor cores take -----------===//
//
// Recognizing the matmul-shaped contractions that the tensor-core kernels
// compute (TensorCoreContraction.h), and the zero fills of their outputs.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreContraction.h"
#include "qtrain/Dialect/QTrain/Transforms/Reductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::qtrain;

StringRef mlir::qtrain::ptxName(MMAElement element) {
  switch (element) {
  case MMAElement::e4m3:
    return "e4m3";
  case MMAElement::e5m2:
    return "e5m2";
  case MMAElement::s8:
    return "s8";
  case MMAElement::u8:
    return "u8";
  case MMAElement::f16:
    return "f16";
  case MMAElement::bf16:
    return "bf16";
  case MMAElement::tf32:
    return "tf32";
  }
  llvm_unreachable("unknown MMA element");
}

namespace {

/// A block argument widened the way an MMA reads it: its element type
/// there, and the ops that widen it.
struct Widening {
  BlockArgument arg;
  MMAElement element;
  unsigned numOps;
};

/// The widening `cast` is, if any: an 8-bit, f16 or bf16 block argument
/// widened by one op, or an f32 one read as tf32 (`extf(truncf(arg) : tf32)`).
std::optional<Widening> matchWidening(Value cast, Type acc) {
  Operation *op = cast.getDefiningOp();
  if (!op || op->getNumOperands() != 1)
    return std::nullopt;
  if (auto ext = dyn_cast<arith::ExtFOp>(op);
      ext && acc.isF32() && ext.getIn().getType().isTF32()) {
    auto trunc = ext.getIn().getDefiningOp<arith::TruncFOp>();
    auto arg = trunc ? dyn_cast<BlockArgument>(trunc.getIn()) : nullptr;
    if (!arg || !arg.getType().isF32())
      return std::nullopt;
    return Widening{arg, MMAElement::tf32, 2};
  }
  auto arg = dyn_cast<BlockArgument>(op->getOperand(0));
  if (!arg)
    return std::nullopt;
  auto widening = [&](MMAElement element) { return Widening{arg, element, 1}; };
  Type from = arg.getType();
  if (acc.isF32() && isa<arith::ExtFOp>(op)) {
    if (isa<Float8E4M3FNType>(from))
      return widening(MMAElement::e4m3);
    if (isa<Float8E5M2Type>(from))
      return widening(MMAElement::e5m2);
    if (from.isF16())
      return widening(MMAElement::f16);
    if (from.isBF16())
      return widening(MMAElement::bf16);
  }
  if (acc.isInteger(32) && from.isInteger(8)) {
    if (isa<arith::ExtSIOp>(op))
      return widening(MMAElement::s8);
    if (isa<arith::ExtUIOp>(op))
      return widening(MMAElement::u8);
  }
  return std::nullopt;
}

} // namespace

/// The loops of `op` as a GEMM's: reductions are k; a parallel loop is m
/// if only A reads it, n if only B does, batch if both do. The output is
/// written at pure loop positions (each (m, n) once); A and B may read at
/// affine expressions of their loops (a convolution's window), which makes
/// the GEMM implicit. (Every loop indexes some operand by itself, which
/// gives its size: linalg's verifier requires invertible loop ranges.)
static FailureOr<linalg::ContractionDimensions>
classifyLoops(linalg::GenericOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[2].isProjectedPermutation(/*allowZeroInResults=*/false))
    return failure();
  linalg::ContractionDimensions dims;
  for (auto [dim, iterator] : llvm::enumerate(op.getIteratorTypesArray())) {
    bool inA = maps[0].isFunctionOfDim(dim), inB = maps[1].isFunctionOfDim(dim);
    bool inOut = maps[2].isFunctionOfDim(dim);
    if (iterator == utils::IteratorType::reduction) {
      if (inOut || !inA || !inB)
        return failure();
      dims.k.push_back(dim);
    } else if (!inOut) {
      return failure();
    } else if (inA && inB) {
      dims.batch.push_back(dim);
    } else if (inA) {
      dims.m.push_back(dim);
    } else if (inB) {
      dims.n.push_back(dim);
    } else {
      return failure();
    }
  }
  // A batch loop is read as itself by both operands.
  for (unsigned dim : dims.batch)
    for (AffineMap map : {maps[0], maps[1]})
      if (!llvm::is_contained(map.getResults(),
                              getAffineDimExpr(dim, op.getContext())))
        return failure();
  if (dims.m.empty() || dims.n.empty() || dims.k.empty() ||
      dims.batch.size() > 1)
    return failure();
  // m, n and k enumerate their loops in the order A (B for n) first reads
  // them, so that consecutive k are neighbours in A where they can be.
  auto byFirstUse = [&](SmallVector<unsigned, 2> &loops, AffineMap map) {
    SmallVector<unsigned, 2> ordered;
    for (AffineExpr expr : map.getResults())
      expr.walk([&](AffineExpr e) {
        if (auto d = dyn_cast<AffineDimExpr>(e);
            d && llvm::is_contained(loops, d.getPosition()) &&
            !llvm::is_contained(ordered, d.getPosition()))
          ordered.push_back(d.getPosition());
      });
    loops = ordered;
  };
  byFirstUse(dims.m, maps[2]);
  byFirstUse(dims.n, maps[2]);
  byFirstUse(dims.k, maps[0]);
  return dims;
}

/// Matches `yield(acc + cast(a) * cast(b))` over a GEMM-shaped iteration
/// space (see classifyLoops): matmuls, and convolutions as implicit GEMMs.
FailureOr<TensorCoreContraction>
mlir::qtrain::matchTensorCoreContraction(linalg::GenericOp op) {
  if (!(op.hasPureBufferSemantics() || op.hasPureTensorSemantics()) ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return failure();
  FailureOr<linalg::ContractionDimensions> dims = classifyLoops(op);
  if (failed(dims))
    return failure();

  Block &body = op.getRegion().front();
  Type acc = body.getArgument(2).getType();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add || !isa<arith::AddFOp, arith::AddIOp>(add))
    return failure();
  Value product = add->getOperand(0) == body.getArgument(2)
                      ? add->getOperand(1)
                      : add->getOperand(0);
  if (add->getOperand(0) != body.getArgument(2) &&
      add->getOperand(1) != body.getArgument(2))
    return failure();
  Operation *mul = product.getDefiningOp();
  if (!mul || !isa<arith::MulFOp, arith::MulIOp>(mul))
    return failure();
  std::optional<Widening> x = matchWidening(mul->getOperand(0), acc);
  std::optional<Widening> y = matchWidening(mul->getOperand(1), acc);
  if (!x || !y || x->arg == y->arg)
    return failure();
  if (x->arg.getArgNumber() == 1)
    std::swap(x, y);
  if (x->arg.getArgNumber() != 0 || y->arg.getArgNumber() != 1)
    return failure();
  // Both operands of one MMA are fp8, both f16, both bf16, both tf32, or
  // both 8-bit integers (the accumulator type settles the last).
  auto kind = [](MMAElement e) {
    return e == MMAElement::f16 || e == MMAElement::bf16 ||
                   e == MMAElement::tf32
               ? int(e)
               : -1;
  };
  if (kind(x->element) != kind(y->element))
    return failure();
  bool isFloat = acc.isF32();
  // Nothing else may happen in the body: the widenings, the product, the
  // sum and the yield.
  if (body.getOperations().size() != x->numOps + y->numOps + 3)
    return failure();
  return TensorCoreContraction{op, *dims, x->element, y->element, isFloat};
}

/// The fill of zeros (+0.0 for floats) of `op`'s output buffer that only
/// `op` reads: a fresh allocation (host or GPU), filled in `op`'s block
/// before it, used by nothing else before `op` (no view of it either) nor
/// outside that block (its deallocation may be in a region there).
static linalg::FillOp zeroInitOf(linalg::GenericOp op) {
  Value out = op.getDpsInits()[0];
  if (!isa_and_present<memref::AllocOp, gpu::AllocOp>(out.getDefiningOp()))
    return {};
  linalg::FillOp fill;
  for (Operation *user : out.getUsers()) {
    if (user == op)
      continue;
    auto userFill = dyn_cast<linalg::FillOp>(user);
    if (userFill && !fill && userFill->getBlock() == op->getBlock() &&
        userFill->isBeforeInBlock(op)) {
      fill = userFill;
      continue;
    }
    Operation *after = op->getBlock()->findAncestorOpInBlock(*user);
    if (!after || !op->isBeforeInBlock(after))
      return {};
  }
  if (!fill)
    return {};
  Value value = fill.getInputs()[0];
  if (!matchPattern(value, m_PosZeroFloat()) && !matchPattern(value, m_Zero()))
    return {};
  return fill;
}

SmallVector<TensorCoreContraction>
mlir::qtrain::collectTensorCoreContractions(Operation *root) {
  SmallVector<TensorCoreContraction> contractions;
  root->walk([&](linalg::GenericOp op) {
    // Device code is left alone: a kernel cannot launch kernels.
    if (op->getParentOfType<gpu::LaunchOp>() ||
        op->getParentOfType<gpu::GPUModuleOp>())
      return;
    if (FailureOr<TensorCoreContraction> match = matchTensorCoreContraction(op);
        succeeded(match)) {
      match->zeroInit = zeroInitOf(op);
      contractions.push_back(*match);
    }
  });
  return contractions;
}

/// The buffer `value` is a view of, through view-like ops (subviews,
/// reshapes, casts); `value` itself where it is no view.
static Value bufferRoot(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

static bool isAllocation(Value buffer) {
  return isa_and_present<memref::AllocOp, gpu::AllocOp>(buffer.getDefiningOp());
}

/// Whether two buffers (roots) may share memory: distinct allocations do
/// not, nor an allocation and another buffer; other buffers (function
/// arguments) may.
static bool mayAlias(Value a, Value b) {
  return a == b || (!isAllocation(a) && !isAllocation(b));
}

/// The buffers (roots) that a GEMM kernel and the epilogue ops it takes
/// write (the GEMM's output first) and read.
struct KernelBuffers {
  SmallVector<Value, 4> writes, reads;

  bool mayWrite(Value root) const {
    return llvm::any_of(writes, [&](Value w) { return mayAlias(root, w); });
  }
  bool mayRead(Value root) const {
    return llvm::any_of(reads, [&](Value r) { return mayAlias(root, r); });
  }
  /// Adds what the epilogue op `op`, reading the output at `read`, reads
  /// and writes.
  void add(linalg::GenericOp op, OpOperand *read) {
    for (Value init : op.getDpsInits())
      writes.push_back(bufferRoot(init));
    for (OpOperand *input : op.getDpsInputOperands())
      if (input != read && isa<BaseMemRefType>(input->get().getType()))
        reads.push_back(bufferRoot(input->get()));
  }
};

/// Whether `op` may run after a kernel instead of before it: `op` touches
/// nothing the kernel writes, nor writes (or frees) what it reads.
static bool mayMovePast(Operation *op, const KernelBuffers &kernel) {
  // The launches are synchronous until qtrain-async-gpu-launches: a host
  // wait orders nothing that the kernel does.
  if (isa<gpu::WaitOp>(op))
    return true;
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return false;
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    if (isa<MemoryEffects::Allocate>(effect.getEffect()))
      continue;
    // Effects on no value, or on a pointer (a kernel built already), may
    // touch anything.
    Value value = effect.getValue();
    if (!value || !isa<BaseMemRefType>(value.getType()))
      return false;
    Value root = bufferRoot(value);
    if (kernel.mayWrite(root))
      return false;
    if (!isa<MemoryEffects::Read>(effect.getEffect()) && kernel.mayRead(root))
      return false;
  }
  return true;
}

/// The operand by which `op` reads the GEMM's output (`kernel.writes[0]`),
/// if `op` can run in the kernel's epilogue: on buffers, at projected
/// permutations; reading the output once, as itself (not a view: its
/// indices are the kernel's); its results aliasing nothing the kernel reads
/// or writes, nor each other; its other operands nothing the kernel or `op`
/// writes (the kernel writes the results while it reads the GEMM's
/// operands and runs the other epilogue ops).
static OpOperand *epilogueRead(linalg::GenericOp op,
                               const KernelBuffers &kernel) {
  if (!op.hasPureBufferSemantics() ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isProjectedPermutation(); }))
    return nullptr;
  KernelBuffers withResults = kernel;
  for (Value init : op.getDpsInits()) {
    Value result = bufferRoot(init);
    if (withResults.mayWrite(result) || kernel.mayRead(result))
      return nullptr;
    withResults.writes.push_back(result);
  }
  Value output = kernel.writes.front();
  OpOperand *read = nullptr;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (!isa<BaseMemRefType>(input->get().getType()))
      continue;
    Value root = bufferRoot(input->get());
    if (root != output) {
      if (withResults.mayWrite(root))
        return nullptr;
      continue;
    }
    if (read || input->get() != output)
      return nullptr;
    read = input;
  }
  return read;
}

/// `op`, reading the GEMM's output at `read` (epilogueRead), as an
/// epilogue reduction (see matchEpilogue).
static std::optional<EpilogueReduction>
matchOutputReduction(linalg::GenericOp op, OpOperand *read) {
  if (op.getNumReductionLoops() == 0)
    return std::nullopt;
  // Each output element is one term: the loops the output's map leaves
  // out, and the parallel ones (each result is one element), run once.
  AffineMap readMap = op.getMatchingIndexingMap(read);
  for (auto [dim, range, iterator] :
       llvm::enumerate(op.getStaticLoopRanges(), op.getIteratorTypesArray()))
    if ((iterator == utils::IteratorType::parallel ||
         !readMap.isFunctionOfDim(dim)) &&
        range != 1)
      return std::nullopt;
  EpilogueReduction match{op, read, {}, {}};
  for (unsigned i = 0, e = op.getNumDpsInits(); i < e; ++i) {
    Operation *combiner = orderFreeCombiner(op, i);
    std::optional<arith::AtomicRMWKind> kind =
        combiner ? atomicKind(combiner) : std::nullopt;
    if (!kind || !isIdempotent(*kind) || !arith::getNeutralElement(combiner))
      return std::nullopt;
    match.combiners.push_back(combiner);
    match.kinds.push_back(*kind);
  }
  return match;
}

/// Whether `op`, reading the GEMM's output at `read` (epilogueRead), is an
/// epilogue map: elementwise, one loop an output element (the output read
/// at a permutation), each result element written once (permutations)
/// and not read.
static bool isEpilogueMap(linalg::GenericOp op, OpOperand *read) {
  return op.getNumReductionLoops() == 0 &&
         op.getMatchingIndexingMap(read).isPermutation() &&
         llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
           return op.getMatchingIndexingMap(&init).isPermutation() &&
                  !op.payloadUsesValueFromOperand(&init);
         });
}

void mlir::qtrain::matchEpilogue(TensorCoreContraction &c) {
  Value output = c.op.getDpsInits()[0];
  if (!isAllocation(output))
    return;
  KernelBuffers kernel{
      {output},
      {bufferRoot(c.op.getDpsInputs()[0]), bufferRoot(c.op.getDpsInputs()[1])}};
  for (Operation *next = c.op->getNextNode(); next && !(c.reduction && c.map);
       next = next->getNextNode()) {
    auto op = dyn_cast<linalg::GenericOp>(next);
    OpOperand *read = op ? epilogueRead(op, kernel) : nullptr;
    if (read && !c.reduction) {
      if ((c.reduction = matchOutputReduction(op, read))) {
        kernel.add(op, read);
        continue;
      }
    }
    if (read && !c.map && isEpilogueMap(op, read)) {
      c.map = EpilogueMap{op, read};
      kernel.add(op, read);
      continue;
    }
    if (!mayMovePast(next, kernel))
      break;
  }
  if (!c.map && !c.reduction)
    return;
  // Nothing else reads the output (nor a view of it): the epilogue ops
  // take the sums from registers, and nothing needs them stored.
  // (Ownership-based deallocation records the buffer's address in a
  // buffer of indices, to compare it with others'.)
  auto recordsAddress = [](Operation *user) {
    auto address = dyn_cast<memref::ExtractAlignedPointerAsIndexOp>(user);
    return address && llvm::all_of(address->getUsers(), [&](Operation *use) {
             auto store = dyn_cast<memref::StoreOp>(use);
             return store && store.getValueToStore() == address.getResult();
           });
  };
  c.storeOutput = llvm::any_of(output.getUsers(), [&](Operation *user) {
    return user != c.op && user != c.zeroInit.getOperation() &&
           !(c.reduction && user == c.reduction->op) &&
           !(c.map && user == c.map->op) &&
           !isa<memref::DeallocOp, gpu::DeallocOp>(user) &&
           !recordsAddress(user);
  });
}
