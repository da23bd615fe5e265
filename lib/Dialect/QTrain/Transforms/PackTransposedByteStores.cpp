//===- PackTransposedByteStores.cpp - qtrain-pack-transposed-byte-stores --===//
//
// The GPU lowering runs an elementwise loop nest as one thread an element,
// consecutive threads along its last loop. A value stored transposed (a
// GEMM operand's k-major copy) then takes one byte store a thread, each a
// row of the buffer away from its neighbour's. Here each iteration of the
// loop computes four consecutive rows instead and stores the transposed
// bytes, contiguous there, as one word. Upstream's loop unrolling works on
// scf.for, and its vectorizers on linalg ops whose results all share one
// layout; this needs four rows in one iteration of a parallel loop, and a
// vector store for one result only.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::qtrain {
#define GEN_PASS_DEF_PACKTRANSPOSEDBYTESTORESPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {

/// Rows an iteration computes: a word of 8-bit elements.
constexpr int64_t kRows = 4;

/// Whether `buffer` is an allocation whose base is word-aligned: gpu.alloc
/// (256 bytes) or memref.alloc (malloc's 16 bytes, or gpu.alloc's once on
/// the device) without a smaller requested alignment. A function argument
/// may start anywhere.
bool hasWordAlignedBase(Value buffer) {
  if (buffer.getDefiningOp<gpu::AllocOp>())
    return true;
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  return alloc && alloc.getAlignment().value_or(kRows) >= kRows;
}

/// The stores of `loop` that store 8-bit elements transposed, at [j, i] of
/// its induction variables (i, j), into a word-aligned buffer of identity
/// layout whose rows (along i) are a multiple of kRows long, and whose
/// stored elements no later op of the body reads or overwrites (the word
/// is stored after the body's four copies). None unless the rewrite
/// applies: two induction variables over static ranges from 0 with unit
/// steps, the first's extent a multiple of kRows, no results, and a body
/// of one block of ops without regions.
SmallVector<memref::StoreOp> transposedByteStores(scf::ParallelOp loop,
                                                  AliasAnalysis &aliases) {
  if (loop.getNumLoops() != 2 || loop.getNumResults() != 0 ||
      !loop.getRegion().hasOneBlock())
    return {};
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
    if (!isConstantIntValue(lower, 0) || !isConstantIntValue(step, 1) ||
        !getConstantIntValue(upper))
      return {};
  if (*getConstantIntValue(loop.getUpperBound()[0]) % kRows != 0)
    return {};
  Value i = loop.getInductionVars()[0], j = loop.getInductionVars()[1];
  Block::iterator end = loop.getBody()->without_terminator().end();
  auto untouchedLater = [&](memref::StoreOp store) {
    return llvm::all_of(
        llvm::make_range(std::next(store->getIterator()), end),
        [&](Operation &later) {
          return aliases.getModRef(&later, store.getMemRef()).isNoModRef();
        });
  };
  SmallVector<memref::StoreOp> stores;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (op.getNumRegions() != 0)
      return {};
    auto store = dyn_cast<memref::StoreOp>(op);
    if (!store)
      continue;
    MemRefType type = store.getMemRefType();
    if (type.getRank() == 2 && type.getElementTypeBitWidth() == 8 &&
        type.getLayout().isIdentity() &&
        !ShapedType::isDynamic(type.getShape()[1]) &&
        type.getShape()[1] % kRows == 0 && store.getIndices()[0] == j &&
        store.getIndices()[1] == i && hasWordAlignedBase(store.getMemRef()) &&
        loop.isDefinedOutsideOfLoop(store.getMemRef()) && untouchedLater(store))
      stores.push_back(store);
  }
  return stores;
}

/// Replaces `loop` by one over (i / kRows, j) whose iterations run the body
/// for rows kRows (i / kRows).. and store each of `stores`' four rows as
/// one word.
void packTransposedStores(scf::ParallelOp loop,
                          ArrayRef<memref::StoreOp> stores) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  // The constants, rows' offsets included, once before the loop.
  SmallVector<Value> offsets;
  for (int64_t r = 0; r <= kRows; ++r)
    offsets.push_back(arith::ConstantIndexOp::create(b, loc, r));
  Value zero = offsets[0], one = offsets[1];
  int64_t rows = *getConstantIntValue(loop.getUpperBound()[0]);
  auto packed = scf::ParallelOp::create(
      b, loc, ValueRange{zero, zero},
      ValueRange{arith::ConstantIndexOp::create(b, loc, rows / kRows),
                 loop.getUpperBound()[1]},
      ValueRange{one, one});
  b.setInsertionPointToStart(packed.getBody());
  Value firstRow = arith::MulIOp::create(b, loc, packed.getInductionVars()[0],
                                         offsets[kRows]);
  DenseMap<Operation *, SmallVector<Value>> words;
  for (int64_t r = 0; r < kRows; ++r) {
    IRMapping mapping;
    mapping.map(loop.getInductionVars()[0],
                r == 0 ? firstRow
                       : arith::AddIOp::create(b, loc, firstRow, offsets[r]));
    mapping.map(loop.getInductionVars()[1], packed.getInductionVars()[1]);
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (llvm::is_contained(stores, &op))
        words[&op].push_back(
            mapping.lookupOrDefault(cast<memref::StoreOp>(op).getValue()));
      else
        b.clone(op, mapping);
    }
  }
  for (memref::StoreOp store : stores) {
    Value word = vector::FromElementsOp::create(
        b, loc,
        VectorType::get({kRows}, store.getMemRefType().getElementType()),
        words[store]);
    vector::StoreOp::create(b, loc, word, store.getMemRef(),
                            ValueRange{packed.getInductionVars()[1], firstRow},
                            /*nontemporal=*/false, llvm::MaybeAlign(kRows));
  }
  loop.erase();
}

struct PackTransposedByteStoresPass
    : mlir::qtrain::impl::PackTransposedByteStoresPassBase<
          PackTransposedByteStoresPass> {
  void runOnOperation() override {
    SmallVector<std::pair<scf::ParallelOp, SmallVector<memref::StoreOp>>> loops;
    AliasAnalysis &aliases = getAnalysis<AliasAnalysis>();
    getOperation()->walk([&](scf::ParallelOp loop) {
      SmallVector<memref::StoreOp> stores = transposedByteStores(loop, aliases);
      if (!stores.empty())
        loops.push_back({loop, std::move(stores)});
    });
    for (auto &[loop, stores] : loops)
      packTransposedStores(loop, stores);
  }
};

} // namespace
