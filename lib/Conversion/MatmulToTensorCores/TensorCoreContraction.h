//===- TensorCoreContraction.h - GEMMs for tensor cores ---------*- C++ -*-===//
//
// What the tensor-core GEMM passes share: recognizing a matmul-shaped
// linalg contraction of 8-bit, 16-bit or tf32 operands on buffers, and emitting
// the parts of its kernel that do not depend on the MMA instruction (the
// launch, the sizes, bounds-checked operand words and output elements).
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_LIB_CONVERSION_MATMULTOTENSORCORES_TENSORCORECONTRACTION_H
#define QTRAIN_LIB_CONVERSION_MATMULTOTENSORCORES_TENSORCORECONTRACTION_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::qtrain {

/// The shared memory every block has without asking for more (dynamic
/// shared memory, sm_80 on).
constexpr int64_t kStaticSharedBytes = 48 * 1024;

/// Rows of output tiles that consecutive blocks take column by column.
constexpr int64_t kTileGroupRows = 8;

/// A reduction of a GEMM's output to one element a result (an absmax, or a
/// min and a max) that its kernel computes in its epilogue
/// (matchEpilogue): each thread applies the reduction's body to
/// the output elements it writes, and combines its results into the
/// reduction's with memory atomics, each skipped where the value read there
/// already holds the thread's (the combiners are idempotent). The kernel
/// replaces it too (TensorCoreContraction::kernelPosition): the output's
/// range behind a per-tensor scale costs no launch and no second pass over
/// the output.
struct EpilogueReduction {
  linalg::GenericOp op;
  /// The operand reading the GEMM's output (once per element).
  OpOperand *gemmOutput;
  /// Each result's combiner, and the atomic that combines as it does.
  SmallVector<Operation *, 2> combiners;
  SmallVector<arith::AtomicRMWKind, 2> kinds;
};

/// An elementwise op on a GEMM's output that its kernel computes in its
/// epilogue (matchEpilogue): each thread applies the op's body to the
/// output elements it writes and stores the op's results at their
/// positions, e.g. relu(C + bias) rounded to the next GEMM's operand
/// format. The kernel replaces it too: a launch and a pass over the output
/// fewer.
struct EpilogueMap {
  linalg::GenericOp op;
  /// The operand reading the GEMM's output (once per element).
  OpOperand *gemmOutput;
};

/// The element type a tensor-core MMA reads an operand as.
enum class MMAElement { e4m3, e5m2, s8, u8, f16, bf16, tf32 };

/// Its PTX name (`e4m3`, `e5m2`, `s8`, `u8`, `f16`, `bf16`, `tf32`).
StringRef ptxName(MMAElement element);

/// `C[b, m, n] += ext(A[.. m .. k ..]) * ext(B[.. k .. n ..])` on buffers
/// (the kernels' input) or tensors (qtrain-k-major-gemm-operands),
/// operands widened to f32 (E4M3FN/E5M2, or both f16 or both bf16, by
/// arith.extf; both f32 read as tf32 by arith.truncf to tf32 and
/// arith.extf) or i32 (i8 by arith.extsi/extui). m, n and k may each be several
/// loops, enumerated row-major (a convolution's (n, oh, ow), f and (c, kh, kw):
/// an implicit GEMM), and A and B may read at affine expressions of them; at
/// most one batch loop. The output is written at pure loop positions.
struct TensorCoreContraction {
  linalg::GenericOp op;
  linalg::ContractionDimensions dims;
  MMAElement lhs, rhs;
  bool isFloat; // f32 accumulation, else i32
  /// The fill of zeros that initializes the output for this contraction
  /// alone, if any: the kernel then stores its sums instead of adding them
  /// to the output's elements, and the fill goes (a launch and a pass over
  /// the output fewer).
  linalg::FillOp zeroInit = {};
  /// The reduction of the output and the elementwise op on it that the
  /// kernel computes too, if any.
  std::optional<EpilogueReduction> reduction = {};
  std::optional<EpilogueMap> map = {};
  /// Whether the kernel stores the output: not where nothing but the
  /// epilogue ops reads it (they take the sums from registers).
  bool storeOutput = true;

  /// Where the kernel goes: in the place of the last op it computes.
  Operation *kernelPosition() {
    Operation *last = op;
    for (Operation *epilogue :
         {reduction ? reduction->op.getOperation() : nullptr,
          map ? map->op.getOperation() : nullptr})
      if (epilogue && last->isBeforeInBlock(epilogue))
        last = epilogue;
    return last;
  }
  /// Erases the contraction, its zero fill and its epilogue ops, which a
  /// kernel replaced.
  void erase() {
    op.erase();
    if (zeroInit)
      zeroInit.erase();
    if (reduction)
      reduction->op.erase();
    if (map)
      map->op.erase();
  }

  /// Operand elements in a 32-bit register: 4 of 8 bits, 2 of 16, 1 of
  /// tf32.
  int64_t elementsPerWord() const {
    switch (lhs) {
    case MMAElement::f16:
    case MMAElement::bf16:
      return 2;
    case MMAElement::tf32:
      return 1;
    default:
      return 4;
    }
  }
  /// Bytes of an operand element.
  int64_t elementBytes() const { return 4 / elementsPerWord(); }
  /// Elements in a chunk of k: 32 bytes, one MMA's k (8 words).
  int64_t chunkElements() const { return 8 * elementsPerWord(); }
};

FailureOr<TensorCoreContraction> matchTensorCoreContraction(linalg::GenericOp);

/// Every contraction outside device code that one kernel can compute.
SmallVector<TensorCoreContraction> collectTensorCoreContractions(Operation *);

/// Finds the ops after `c.op` in its block that its kernel can compute in
/// its epilogue, and sets `c.reduction` and `c.map`: the first reduction of
/// the output to one element a result with idempotent combiners that have
/// memory atomics (max/min, and/or), and the first elementwise op on the
/// output. Each is a linalg.generic reading the output once an element,
/// as itself, through a permutation of its loops (other operands at
/// projected permutations), and writes results that nothing the kernel
/// reads or writes may alias; the map writes its results at the element's
/// position and does not read them. The output must be an allocation. The
/// kernel goes to the last op it takes, which must be sound: every op
/// between commutes with the kernel and the epilogue ops before it (does
/// not touch what they write, nor write what they read; kernels already
/// built end the search). Match just before building `c`'s kernel: the
/// kernels built before it count.
void matchEpilogue(TensorCoreContraction &c);

/// Emits a kernel in place of a contraction: subclasses fill the launch
/// body between `beginKernel` and `endKernel`.
class TensorCoreKernelBuilder {
public:
  TensorCoreKernelBuilder(TensorCoreContraction contraction,
                          ImplicitLocOpBuilder &b)
      : c(contraction), b(b) {}

protected:
  /// Launches ceil(N / tileN) x ceil(M / tileM) x batch blocks of `threads`
  /// threads (none when the result is empty) as `launch`, and leaves the
  /// builder at the start of the launch body, `stagingBuffer` a buffer of type
  /// `staging` in shared memory: a workgroup buffer within the 48 KiB of static
  /// shared memory, else a view of the block's dynamic shared memory.
  /// `tileRow` and `tileColumn` are the block's output tile's first row
  /// and column: blocks, numbered x fastest, take the tiles in groups of
  /// kTileGroupRows rows of tiles, down each column of the group before
  /// the next, so that the blocks running at once share rows of A and
  /// columns of B in L2 (rather than sweeping all of B for each row).
  /// `beforeLaunch`, if any, builds host code just before the launch (the
  /// GEMM is not empty there). With `persistentBlocks` > 0, the grid is at
  /// most that many blocks, which take the tiles in turn (forEachTile).
  void beginKernel(int64_t tileM, int64_t tileN, int64_t threads,
                   MemRefType staging,
                   llvm::function_ref<void()> beforeLaunch = {},
                   int64_t persistentBlocks = 0);
  /// Builds `body` for each of the block's output tiles (tileRow,
  /// tileColumn and batchIndex set): once in a kernel of a block a tile,
  /// in a loop in a persistent one, `iteration` counting the block's tiles
  /// from 0.
  void forEachTile(llvm::function_ref<void(Value iteration)> body);
  void endKernel() { gpu::TerminatorOp::create(b); }

  /// One 32-bit word of `operand` (0 = A, 1 = B): its elementsPerWord()
  /// elements at free index `free` (m of A, n of B) and k = `k`, `k` + 1,
  /// ..., the lowest k in the lowest bits; zeros outside the operand. f32
  /// read as tf32 is rounded to tf32 (nearest even), as the contraction's
  /// arith.truncf does.
  Value loadWord(unsigned operand, Value free, Value k);
  /// The staging buffer for `stages` chunks of tileM x tileN tiles
  /// (beginStaging).
  MemRefType stagingType(int64_t tileM, int64_t tileN, int64_t stages);
  /// Words of one stage, and of A's tile in it (where B's starts).
  int64_t stageWords() const { return 4 * (stagedChunksA + stagedChunksB); }
  int64_t stagedWordsA() const { return 4 * stagedChunksA; }
  /// This thread's share of the tiles at k0, read from global memory, as
  /// vectors of four words: 16-byte rows of operands whose k is contiguous
  /// (A's, then B's), then units of operands whose m or n is
  /// (freeContiguous): four rows' 4-byte words at one k-word, read as rows
  /// of k and transposed in registers, so that global loads are whole words
  /// along the contiguous index either way.
  SmallVector<Value> loadTiles(Value k0);
  /// Stores them into stage `stage`.
  void storeTiles(ArrayRef<Value> rows, Value stage);
  /// Stages the first k-step's tiles, `chunks` chunks of k, in staging
  /// slots 0.. where K > 0, then `fence` (if any) and a barrier.
  void stageFirstStep(int64_t chunks = 1,
                      llvm::function_ref<void()> fence = {});
  /// Whether cp.async can copy every 16-byte row of the staged tiles from
  /// global memory whole: 8- or 16-bit operands (tf32 is rounded on the
  /// way) whose k is the last, contiguous index, its extent a multiple of
  /// 16 bytes, so that a row is aligned and all in or all out of range.
  bool canCopyTilesAsync();
  /// Whether `operand`'s 16-byte rows can be copied whole (the first half
  /// of canCopyTilesAsync).
  bool rowsCopyWhole(unsigned operand);
  /// Computes, once, what copyTilesAsync needs: this thread's rows' global
  /// addresses at k = 0 and the staging buffer's shared address.
  void beginAsyncCopies();
  /// Issues cp.async copies of this thread's rows of the tiles at k0 into
  /// staging slot `slot`, zero-filling rows outside the operands (their
  /// sources are not read); the caller commits and waits.
  void copyTilesAsync(Value k0, Value slot);
  /// Copies a k-step of `chunks` chunks at k0 into stage `stage` (slots
  /// stage * chunks..) and commits them as one group.
  void copyStepAsync(Value k0, Value stage, int64_t chunks);
  /// `for k0 = 0 to sizeK step stepK iter_args(init)` at the builder, its
  /// body built by `body` from k0 and the accumulators (yielding the new
  /// ones).
  scf::ForOp forEachStep(
      int64_t stepK, ValueRange init,
      llvm::function_ref<SmallVector<Value>(Value k0, ValueRange acc)> body);
  /// The index in the staging buffer of word `kWord` (of 8) of row `row`
  /// of a staged tile whose first word is `tileWord`.
  Value stagedWordIndex(Value tileWord, Value row, Value kWord);
  /// A shared-memory pointer to word `wordIndex` of the staging buffer.
  Value stagedPointer(Value wordIndex);

  /// `count` zero accumulators of the output's element type. The kernels
  /// sum from zero and add the output's prior elements last
  /// (accumulateOutput): loaded before the loop over K, the output's
  /// positions, bounds and values would hold registers throughout it.
  SmallVector<Value> zeroAccumulators(int64_t count);
  /// Adds `values` to the output elements at (row, col) positions (stores
  /// them where the output is a zero fill), skipping positions outside it.
  /// Positions come in pairs of adjacent columns, the first even (both
  /// kernels' accumulator fragments), which become 8-byte accesses where
  /// the output allows. With an epilogue map, stores its results for each
  /// element written; with an epilogue reduction, reduces the elements
  /// written and combines the thread's result into the reduction's.
  /// `lane`, if given, says that the positions come in quads of m16n8
  /// accumulator fragments (mma.sync's and wgmma's): (r, c), (r, c + 1),
  /// (r + 8, c), (r + 8, c + 1), r = R + lane / 4 with R a multiple of 16,
  /// c = C + 2 (lane % 4); 8-bit map results stored transposed then go
  /// out in 4-byte words that the lanes assemble (storeTransposedWords),
  /// and every lane of the warp must run it.
  void accumulateOutput(ArrayRef<std::pair<Value, Value>> positions,
                        ArrayRef<Value> values, Value lane = {});
  /// Loads the operands of the epilogue op `op` that have elements (not the
  /// GEMM's output, not scalars) at the output element at `outputIndices`,
  /// clamped into the output; indexed by input, null for the others.
  /// accumulateOutput loads a group of elements' operands before it stores
  /// any: the stores may alias them, so a load after a store would wait
  /// for its value before the next element's load is issued.
  SmallVector<Value> loadElementOperands(linalg::GenericOp op,
                                         OpOperand *gemmOutput,
                                         ArrayRef<Value> outputIndices);
  /// Clones the body of the epilogue op `op` for the output element `term`
  /// at `outputIndices`, its other operands `elementOperands`
  /// (loadElementOperands) or scalars, and its inits' block arguments
  /// mapped to `inits` (none where the body reads none); returns the
  /// values it yields and sets `loops` to its loops' values there (zero for
  /// unit loops).
  SmallVector<Value> cloneEpilogueBody(linalg::GenericOp op,
                                       OpOperand *gemmOutput, Value term,
                                       ArrayRef<Value> outputIndices,
                                       ArrayRef<Value> elementOperands,
                                       ValueRange inits,
                                       SmallVectorImpl<Value> &loops);
  /// The epilogue reduction's body on `partials` and the output element
  /// `term` at `outputIndices`, whose operands are `elementOperands`.
  SmallVector<Value> reduceTerm(ValueRange partials, Value term,
                                ArrayRef<Value> outputIndices,
                                ArrayRef<Value> elementOperands);
  /// The epilogue map's results for one output element, and its loops'
  /// values there.
  struct MappedTerm {
    SmallVector<Value> results, loops;
  };
  /// The epilogue map's body on the output element `term` at `indices`,
  /// whose operands are `elementOperands`.
  MappedTerm mapTerm(Value term, ArrayRef<Value> indices,
                     ArrayRef<Value> elementOperands);
  /// Stores the epilogue map's results for output elements `terms` (one,
  /// or a pair of adjacent columns), but for the results `skipped`.
  void storeMapped(ArrayRef<MappedTerm> terms, ArrayRef<unsigned> skipped);
  /// The epilogue map's loops along the GEMM's m and n, where each is one
  /// loop of the output.
  std::optional<std::pair<unsigned, unsigned>> mapRowAndColumnLoops();
  /// The epilogue map's results that storeTransposedWords can store: 8-bit
  /// ones indexed (.., n, m), m contiguous in whole 4-byte words, of a map
  /// that may run on any element of a zero-filled output (its body pure).
  SmallVector<unsigned> transposedByteResults();
  /// Stores results `results` of the map of a quad of fragment elements
  /// (accumulateOutput's `lane`), `mapped`, in words of four rows: two
  /// shuffles a word exchange the quads' bytes among each 4 lanes of a
  /// column pair, and each lane stores one word where it is in range: a
  /// quarter of the stores of a byte an element.
  void storeTransposedWords(Value lane, ArrayRef<std::pair<Value, Value>> quad,
                            ArrayRef<MappedTerm> mapped,
                            ArrayRef<unsigned> results);
  /// Combines the threads' `partials` into the epilogue reduction's
  /// results: across each warp by shuffles (32-bit ones), then by memory
  /// atomics, where that changes them. Every thread of the block's warps
  /// that hold accumulators must run it.
  void combineReduction(ValueRange partials);

  /// The product of `loops`' sizes where each is static (the GEMM's M or
  /// N).
  std::optional<int64_t> staticSize(ArrayRef<unsigned> loops);

  Value index(int64_t v);
  Value i32(int64_t v);
  Value add(Value x, Value y);
  Value add(Value x, int64_t y);
  Value mul(Value x, int64_t y);
  Value lessThan(Value x, Value y);
  Value both(Value x, Value y);

  TensorCoreContraction c;
  ImplicitLocOpBuilder &b;
  // GEMM sizes (read before the launch), the block's batch index, output
  // tile and staging buffer.
  Value sizeM, sizeN, sizeK, batchIndex, tileRow, tileColumn, stagingBuffer;
  gpu::LaunchOp launch;

private:
  /// Sets the output tile of block `block` of a batch's grid of tiles.
  void setTile(Value block, Value batch);
  // The output tiles (host values), and whether blocks loop over them.
  int64_t kernelTileM = 0, kernelTileN = 0;
  Value tilesN, tilesM, totalTiles;
  bool persistent = false;
  /// The epilogue ops' operands without loops (scales), loaded once a tile
  /// before its elements (accumulateOutput).
  DenseMap<OpOperand *, Value> scalarOperands;
  /// The epilogue ops' body ops that read no element (a scale's reciprocal
  /// from the scalar operands), computed once a tile before its elements
  /// (hoistUniformEpilogueOps), and their values there.
  DenseSet<Operation *> uniformBodyOps;
  IRMapping uniformValues;
  void hoistUniformEpilogueOps(ArrayRef<linalg::GenericOp> ops);

  /// Staging of operand tiles in shared memory (beginKernel begins it), as
  /// wgmma's descriptors read them and the mma.sync kernels too: per k-step
  /// (or chunk of one), the `tileM` x 32-byte tile of A and the `tileN` x
  /// 32-byte tile of B (B as n rows of k), each in the no-swizzle K-major
  /// layout of core matrices (8 rows x 16 bytes, 128 contiguous bytes; the
  /// two along k 128 bytes apart, those along the rows 256 bytes apart),
  /// A's then B's, `stages` times over. Byte (r, kb) of a tile is at
  /// ((r / 8) * 2 + kb / 16) * 128 + (r % 8) * 16 + kb % 16. The buffer is
  /// of i32 words; each of the block's `threads` threads copies the 16-byte
  /// rows (r, half) with r = tid % 8 + 8 (tid / 16) + (threads / 2) j,
  /// half = (tid / 8) % 2.
  void beginStaging(Value tid, int64_t tileM, int64_t tileN, int64_t threads);
  /// The chunk (16 bytes) of row `row`, k half `half` of a staged tile.
  Value stagedChunk(Value row, Value half);
  /// A 16-byte row of a staged tile that this thread copies: its operand,
  /// its m (A) or n (B), and its chunk in stage 0.
  struct StagedRow {
    unsigned operand;
    Value free, chunk;
  };
  /// This thread's rows, A's then B's.
  SmallVector<StagedRow> stagedRows();
  /// Whether `operand`'s (A, B or the output) contiguous last index is
  /// exactly loop `dim`, the only one of its indices that reads it, and
  /// its static extent a multiple of `multiple` elements.
  bool lastIndexIs(unsigned operand, unsigned dim, int64_t multiple);
  /// Whether `operand`'s m (A) or n (B) is its contiguous last index, so
  /// that loadTiles reads it in units transposed in registers.
  bool freeContiguous(unsigned operand);
  /// `address` (an index) as a pointer into address space `space`.
  Value pointerTo(Value address, unsigned space);
  /// This thread's rows or units of `operand` (the same number either way).
  int64_t stagedUnits(unsigned operand);
  /// The first of a transposed unit's 4 rows in the tile, and its k-word.
  std::pair<Value, Value> transposedUnit(unsigned operand, int64_t pass);
  /// The unit's four words: rows `free`..`free` + 3 at k `k`.., zeros out of
  /// range.
  Value loadTransposedUnit(unsigned operand, Value free, Value k);

  /// A row this thread copies by cp.async: its byte address at k = 0,
  /// whether its m (A) or n (B) is in range, and its chunk in stage 0.
  struct AsyncRow {
    Value address, inRange, chunk;
  };
  SmallVector<AsyncRow> asyncRows;
  Value stagingAddress;

  int64_t stagedTileM = 0, stagedTileN = 0;
  int64_t stagedChunksA = 0, stagedChunksB = 0;
  Value stagingTid, stagingRow, stagingHalf;
  int64_t stagingThreads = 0;
  bool stagedTransposed[2] = {false, false};

  Value loadRawWord(unsigned operand, Value free, Value k);
  /// f32 bits rounded to tf32 bits (low 13 bits zero), nearest even.
  Value roundToTF32(Value word);
  Value loopSize(unsigned dim);
  /// The product of `loops`' sizes (1 for none), recording each.
  Value gemmSize(ArrayRef<unsigned> loops);
  /// Splits a GEMM index into the values of its `loops`.
  void delinearize(Value linear, ArrayRef<unsigned> loops,
                   SmallVector<Value> &values);
  SmallVector<Value> operandIndices(unsigned operand,
                                    ArrayRef<Value> loopValues);
  SmallVector<Value> loopValues(Value m, Value n, Value k);

  SmallVector<Value> loopSizes; // by loop, read before the launch
};

} // namespace mlir::qtrain

#endif // QTRAIN_LIB_CONVERSION_MATMULTOTENSORCORES_TENSORCORECONTRACTION_H
