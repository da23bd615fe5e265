//===- FlattenParallelLoops.cpp - qtrain-flatten-parallel-loops -----------===//
//
// The GPU lowering tiles each op's scf.parallel by 256 along its first
// dimension for the thread blocks. A multi-dimensional loop tiled that way
// puts threads along the outermost (strided) dimension, leaves most of a
// block idle when that dimension is short (a batch of 64), and maps the
// remaining dimensions to blocks one by one. Flattened first, one loop
// over all elements in row-major order puts consecutive threads on
// consecutive elements. Built on upstream's collapseParallelLoops.
//
//===----------------------------------------------------------------------===//

#include "qtrain/Dialect/QTrain/Transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace mlir::qtrain {
#define GEN_PASS_DEF_FLATTENPARALLELLOOPSPASS
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"
} // namespace mlir::qtrain

using namespace mlir;

namespace {
struct FlattenParallelLoopsPass
    : mlir::qtrain::impl::FlattenParallelLoopsPassBase<
          FlattenParallelLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) {
      // Outermost loops of two or more dimensions only. Upstream's collapse
      // drops the results of reducing loops, so those are left alone (the
      // linalg lowering emits none: reductions are sequential in a thread).
      if (loop.getNumLoops() > 1 && loop.getNumResults() == 0 &&
          !loop->getParentOfType<scf::ParallelOp>())
        loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : loops) {
      std::vector<unsigned> all(loop.getNumLoops());
      std::iota(all.begin(), all.end(), 0);
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {all});
    }
  }
};
} // namespace
