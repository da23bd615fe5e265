//===- Passes.td - qtrain dialect passes -------------------*- tablegen -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def VerifyLoweredPass : Pass<"qtrain-verify-lowered"> {
  let summary = "Fail if any qtrain op is left after lowering";
  let description = [{
    The backend contract of the qtrain lowering pipelines: after
    `convert-qtrain-to-linalg` no qtrain op may remain. This pass reports
    each one with an error at its location, so a pipeline stops with a
    diagnostic naming the op instead of failing later in LLVM conversion.

    Example: on
    ```mlir
    %0 = qtrain.round %x to float<f8E4M3FN> : tensor<4xf32>
    ```
    it reports `error: 'qtrain.round' op was not lowered`.
  }];
}

def SplitSharedInitsPass : Pass<"qtrain-split-shared-inits"> {
  let summary = "Give each op that writes into an empty or filled tensor its own";
  let description = [{
    One-shot bufferization gives a tensor that several ops write into a
    single buffer, and copies that buffer for every writer but one. When
    the tensor is a `tensor.empty` (undefined contents) or a fill of one
    (`linalg.fill`, or a `linalg.generic` that yields a scalar, as
    `linalg::isaFillOpInterface` recognizes; its empty tensor may be
    reshaped), sharing it buys nothing: the buffer is held from the first
    writer to the last, and each copy reads and writes the whole tensor.
    CSE merges identical inits into such shared ones, and after
    vectorization the writers are loops whose iteration arguments start
    from the init. This pass, run just before bufferization, gives every
    writer but the first (the init of a destination-style op or of a
    loop's iteration arguments) a copy of the init placed right before it;
    a fill is copied with a fresh empty tensor (and reshapes of it). Writers through reshapes
    of the init (static `tensor.expand_shape`/`collapse_shape` in its
    block: the 0-d scales that reductions keeping a unit dimension write)
    get a fresh init and copies of the reshapes; otherwise bufferization
    may write every scale into one buffer, which orders each GPU kernel
    writing a scale after every kernel reading the previous one. Ops that
    only read the tensor keep sharing it.

    Example:
    ```mlir
    %e = tensor.empty() : tensor<1024xf32>
    %a = linalg.generic ... outs(%e : tensor<1024xf32>)
    ...
    %b = linalg.generic ... outs(%e : tensor<1024xf32>)
    ```
    becomes
    ```mlir
    %e = tensor.empty() : tensor<1024xf32>
    %a = linalg.generic ... outs(%e : tensor<1024xf32>)
    ...
    %e2 = tensor.empty() : tensor<1024xf32>
    %b = linalg.generic ... outs(%e2 : tensor<1024xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwiseKernelsPass : Pass<"qtrain-fuse-elementwise-kernels"> {
  let summary = "Fuse elementwise linalg.generic ops into consumers that read each element once";
  let description = [{
    On the GPU each `linalg.generic` becomes a kernel launch, and a
    training step's quantizers (scale, round, saturate, dequantize) are
    chains of elementwise ops: a launch and a pass over memory each. This
    pass fuses an elementwise producer (all loops parallel, one use) into
    its consumer, upstream's elementwise fusion, but only where every
    iteration of the consumer reads a different element of it (the
    operand's indexing map is a permutation of the consumer's loops):
    elementwise consumers, and reductions over the whole operand (amax).
    Consumers that reuse an element (contractions, broadcasts) keep reading
    it from memory, so that a GEMM's operands are not recomputed for every
    row or column and stay plain codes for the tensor-core kernels. A
    producer with several uses is fused into each such consumer (cloned,
    leaving no extra result) where it costs no more to recompute than to
    read back: scalar ops, and elementwise ops with at most one operand
    read element by element, no wider than the result, whose body does not
    read its init. Such a consumer then reads the producer's operand
    instead of its result, the same bytes or fewer, and no longer depends
    on the producer's kernel: the amax of a GEMM epilogue's output no
    longer waits for the epilogue (nor, with delayed scaling, the output's
    quantization), and `qtrain-fuse-independent-launches` runs them as one
    launch. A producer whose uses are all elementwise or reductions to
    one element, each fusing it, is recomputed in each of them where that
    reads no more than computing it once and reading it back (uses x
    operand bytes <= operand bytes + result bytes + uses x result bytes):
    the backward pass's relu-gradient product of two full-size operands,
    read by its amax and its quantization, is no longer materialized.
    First, an elementwise op whose body reads an init made by
    `linalg.fill` (autodiff accumulates gradients into zeros) reads the
    fill's value instead, which every element of the init holds: the op
    then reads no init and can be recomputed. Each element is computed by
    the same operations as before: results are bit-identical.

    Example:
    ```mlir
    %s = linalg.generic {indexing_maps = [#id, #id], ...}
           ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
      ... arith.mulf ...
    } -> tensor<64xf32>
    %q = linalg.generic {indexing_maps = [#id, #id], ...}
           ins(%s : tensor<64xf32>) outs(%e2 : tensor<64xf8E4M3FN>) {
      ... arith.truncf ...
    } -> tensor<64xf8E4M3FN>
    ```
    becomes one `linalg.generic` reading `%x` whose body multiplies and
    truncates.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AsyncGPULaunchesPass
    : Pass<"qtrain-async-gpu-launches", "::mlir::func::FuncOp"> {
  let summary = "Chain host code's GPU operations on one stream, "
                "asynchronously";
  let description = [{
    After kernel outlining, host code waits for every GPU operation: each
    `gpu.launch_func` is synchronous, and `qtrain-gpu-host-buffers` runs
    each `gpu.alloc`, `gpu.dealloc` and `gpu.memcpy` on a stream of its own
    (`gpu.wait async`) and waits for it (`gpu.wait`). This pass makes the
    operations of each block one chain of async tokens, so that the host
    queues them on one stream without waiting, and waits (`gpu.wait`) only
    before an op that needs the work done: an op with side effects on the
    host (a host `memref.load`, `memref.copy` or `memref.dealloc`, a call
    of a function not declared `qtrain.host_only`), an op with regions
    (whose blocks get chains of their own) and the block's terminator.
    Allocations do not wait (new memory is not in use), nor do calls of
    `qtrain.host_only` functions (a tensor map's creation touches no memory
    kernels use);
    managed memory's `gpu.alloc host_shared` stays synchronous, as the
    GPU-to-LLVM lowering requires. Launches from a synchronous host become
    launches on a stream whose order alone keeps a kernel after the work it
    depends on.

    A `qtrain.device_entry` function does not wait before it returns: its
    callers pass device buffers and read its results through copies queued
    behind its work (`runtime::DeviceMemory`), so a training loop queues
    the next step while this one runs. Any function's host code may then
    start while an earlier call's kernels still run, in buffers the
    runtime's cache handed back in stream order: in a function with GPU
    operations, the first op that needs the host to wait before any of them
    waits for the queue (a fresh `gpu.wait async` and `gpu.wait`). The pass
    assumes that the runtime queues all GPU work on one stream, as qtrain's
    CUDA runtime does (a wait for a chain then waits for all work before
    it).

    Upstream's `gpu-async-region` threads tokens alike, but would treat the
    host waits after each allocation as host synchronization (breaking the
    chain at every buffer) and would make managed allocations asynchronous.

    Example:
    ```mlir
    %s = gpu.wait async
    %b, %t = gpu.alloc async [%s] () : memref<64xf32>
    gpu.wait [%t]
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%b : memref<64xf32>)
    %v = memref.load %host[%c0] : memref<1xf32>
    ```
    becomes
    ```mlir
    %s = gpu.wait async
    %b, %t = gpu.alloc async [%s] () : memref<64xf32>
    %l = gpu.launch_func async [%t] @k::@k blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%b : memref<64xf32>)
    gpu.wait [%l]
    %v = memref.load %host[%c0] : memref<1xf32>
    ```
  }];
}

def BlockReductionsPass : Pass<"qtrain-block-reductions"> {
  let summary = "Reduce in thread blocks: warp shuffles, then across warps";
  let description = [{
    The generic GPU lowering gives a reduction one thread per output
    element, looping over the terms; a reduction to one element (the
    maximum of an absmax's partial results, a small tensor's absmax) is then
    one busy thread whose every load waits for the one before, and one to a
    few elements of many terms (batch norm's per-channel sums, or their
    partial sums) a few such threads. This pass rewrites host code's
    `linalg.generic` ops on buffers with static loops, outputs indexed by
    the parallel loops alike (any affine maps for the inputs), a body
    without `linalg.index`, and combiners whose results do not depend on
    the order of the terms (max/min, integer add/mul/and/or/xor, float
    add/mul marked `reassoc`), where the parallel loops have one point or
    at most 65536 points of at least 256 terms each, into a `gpu.launch` of
    blocks of 256 threads. Each block works on one point (its index,
    row-major over the parallel loops); thread t of the S blocks on a point
    combines its terms t, t + 256 S, ... (row-major over the reduction
    loops) starting from each combiner's neutral element. Each warp then
    combines its lanes' values in a butterfly of `gpu.shuffle xor` (lanes
    16 down to 1 apart: every lane ends with the warp's value); where more
    than one warp holds terms, lane 0 of each stores the warp's value in a
    workgroup buffer of a value a warp, and after one barrier every warp
    combines those eight in three more shuffles. 32-bit values only
    (`shfl.sync` moves 32 bits): others go through workgroup buffers of a
    value a thread, whose lower half combines the upper half in at each of
    eight barriers. Thread j combines the block's j-th total into its
    output: into its initial value and stored where a block is alone on
    its point, by a `memref.atomic_rmw` where blocks share it. A reduction to one element
    of one output gets one block for each 4096 terms, at most 256 blocks,
    and one block only where no atomic read-modify-write combines as its
    combiner does (integer mul and xor, float sums); any other reduction
    gets a block for each point. The maximum, minimum and integer combiners
    are exact, so the order in which blocks arrive does not change the
    bits; float sums combine in a fixed order (the blocks share no point).

    Reductions of one block each that do not depend on one another (delayed
    scaling's amax-history maxima, one for each quantized tensor of a step)
    share one launch: at most 16 outputs in one block, each thread
    combining its share of every one of them before their shuffles (or
    trees) interleave, thread j storing the j-th output. Such a group runs where its first
    reduction was; a later one joins it where alias analysis finds that no
    op in between writes what it reads, or reads or writes what it writes,
    and the allocations and views it uses can move up with it. A thread
    with at most one term takes it in a branch, not a loop, so that the
    loads of a group's reductions are in flight together. Where a fill of
    the whole output just before a reduction of one block a point writes
    its initial value (`linalg.fill`, or a parallel `linalg.generic`
    yielding a scalar input), the scalar is combined in and the fill goes.

    Example:
    ```mlir
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,
                                     affine_map<(d0, d1) -> (d0)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%partials : memref<784xf32>) outs(%amax : memref<1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %out, %in : f32
      linalg.yield %m : f32
    }
    ```
    becomes a one-block `gpu.launch` with a `memref<8xf32, 3>` workgroup
    buffer, each thread taking the maximum of about three partials, then
    five shuffles, a barrier and three shuffles; over 50176 terms, a
    launch of 13 blocks ending in `memref.atomic_rmw maximumf`. The `reassoc` sums of a
    `memref<64x8x24x24xf32>` over `(d0, d2, d3)` into a `memref<8xf32>`
    are a launch of 8 blocks, one for each channel's 36864 terms. Ten
    16-step history maxima, each after the fill of its output with 0, are
    one launch of 40 shuffles in warp 0, no barrier and no shared memory,
    where one launch each had a fill, a barrier and a tree of five
    barriers.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def PackTransposedByteStoresPass
    : Pass<"qtrain-pack-transposed-byte-stores"> {
  let summary = "Parallel loops' transposed 8-bit stores made a 4-byte word "
                "(four rows) an iteration";
  let description = [{
    An elementwise loop nest `scf.parallel (%i, %j)` that stores an 8-bit
    value transposed, at `[%j, %i]` of a buffer (the k-major copies of
    `qtrain-k-major-gemm-operands`), runs as one GPU thread an element,
    consecutive threads along `%j`: each writes one byte, a whole row of
    the buffer apart from its neighbours'. Where the loop is over static
    ranges from 0 with unit steps, the extent of `%i` a multiple of 4, and
    its body one block of ops without regions, and the buffer is an
    allocation (`gpu.alloc`, or `memref.alloc` aligned to 4 bytes or more)
    of identity layout with rows a multiple of 4 bytes long that no later
    op of the body reads or writes (by upstream alias analysis), this pass
    rewrites it into
    a loop over `(%i / 4, %j)` whose body is the old one four times (rows
    4 (%i / 4) to 4 (%i / 4) + 3; a parallel loop's iterations may run in
    any order) and stores the four rows' transposed bytes as one aligned
    4-byte `vector.store`: a quarter of those stores, each a word. Other
    stores stay (consecutive threads on consecutive elements).
    `qtrain-lower-to-nvvm` runs it after fusing parallel loops, before
    flattening them into threads.

    Example:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c784, %c256) step (%c1, %c1) {
      %x = memref.load %w[%i, %j] : memref<784x256xf32>
      %q = ... : f8E4M3FN
      memref.store %q, %t[%j, %i] : memref<256x784xf8E4M3FN>
    }
    ```
    becomes
    ```mlir
    scf.parallel (%i4, %j) = (%c0, %c0) to (%c196, %c256) step (%c1, %c1) {
      %i = arith.muli %i4, %c4 : index
      ... (the body for rows %i, %i + 1, %i + 2, %i + 3)
      %word = vector.from_elements %q0, %q1, %q2, %q3 : vector<4xf8E4M3FN>
      vector.store %word, %t[%j, %i] {alignment = 4 : i64}
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def FlattenParallelLoopsPass : Pass<"qtrain-flatten-parallel-loops"> {
  let summary = "Collapse each outermost multi-dimensional scf.parallel into one dimension";
  let description = [{
    Rewrites every outermost `scf.parallel` of two or more dimensions into a
    one-dimensional loop over all its iterations in row-major order
    (upstream `collapseParallelLoops`), delinearizing the indices in the
    body. `qtrain-lower-to-nvvm` runs it before tiling loops into thread
    blocks, so that consecutive threads handle consecutive elements and
    every thread of a block has work. Nested loops (reductions inside a
    thread) are left alone.

    Example:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c32) step (%c1, %c1) { ... }
    ```
    becomes a loop over `%k` from 0 to 2048 whose body computes `%i = %k
    floordiv 32` and `%j = %k mod 32`.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def FuseIndependentLaunchesPass
    : Pass<"qtrain-fuse-independent-launches", "::mlir::func::FuncOp"> {
  let summary = "Run consecutive independent gpu.launch ops as one launch, "
                "each on its own range of blocks";
  let description = [{
    Consecutive kernels that do not depend on each other (the
    quantizations of a GEMM's two operands, an optimizer's update of each
    parameter) need not wait for each other. This pass fuses runs of
    synchronous `gpu.launch` ops with constant one-dimensional grids and
    the same constant block size, and no private or dynamic shared memory,
    when no body writes memory that another reads or writes
    (by the values their ops' memory effects name, and alias analysis): one
    launch of all their blocks, each block running the body of the kernel
    whose range holds its id, with the block id made relative to that range
    and the grid size that kernel's own (horizontal fusion). Ops between
    the launches must be free of memory effects and regions (constants,
    views), allocations and the waits for them, or calls of
    `qtrainTensorMap` (a TMA tensor map encodes a buffer's address, not its
    contents); the fused launch takes the last launch's place. A launch of
    another grid (a GEMM's two-dimensional one) joins no group, but
    launches that do not depend on it may move past it. A launch that depends on the group
    before it may still join an earlier group, moving up past the later
    ones, where it depends on none of them nor they on it and everything
    its body uses is defined by then, or is a view or constant that can
    move up with it (the copy of a value a later kernel needs, joining the
    kernels before the one that makes it wait). Else
    an earlier group may move down to it, past the later groups, where
    they do not depend on each other and it does not depend on the
    launch (an amax history's update, which only the next step reads,
    joins the next kernel of its block size). The NVVM tensor-core ops
    (`wgmma`, `mma.sync` and the `llvm.nvvm.mma.*` intrinsic calls that
    stand for the FP8 ones, `ldmatrix`, proxy fences) touch only the block's
    registers and shared memory, as do the other NVVM ops whose pointers
    all point into shared memory (mbarriers) or that take none (fences,
    the waits of asynchronous copies); a body that takes a buffer's
    address (`memref.extract_aligned_pointer_as_index`) may read and write
    it; `cp.async` reads the buffer its source address points into, and a
    TMA copy (`cp.async.bulk.tensor`) the one whose address host code gave
    `qtrainTensorMap` for its tensor map. A body using other NVVM ops, or
    copies whose source is not traced to a buffer, stops every run.
    Each body keeps its own workgroup buffers. A group stops growing where its kernel's parameters
    (the memref descriptors and scalars its bodies use) would pass 4 KiB,
    the limit of every CUDA driver, or its workgroup buffers the 48 KiB of
    static shared memory.

    Example:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c196, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      ... quantize A ...
    }
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c784, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      ... quantize B ...
    }
    ```
    becomes one launch of 980 blocks: blocks 0 to 195 quantize A, blocks 196
    to 979 (as blocks 0 to 783) quantize B.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def FuseParallelLoopsPass : Pass<"qtrain-fuse-parallel-loops"> {
  let summary = "Fuse adjacent scf.parallel loops of one iteration space, "
                "across the allocations between them";
  let description = [{
    Each outermost `scf.parallel` becomes a GPU kernel, so loops over the
    same iteration space that run one after the other (a reduction and the
    fill of its initial values; a dequantization and the bias add reading
    its result at the same point; the row reductions of a softmax) are
    better one loop: one launch instead of several, and values passed
    through registers where a later body reads what an earlier one stored
    at the same index.

    Upstream's `naivelyFuseParallelOps` (the `scf-parallel-loop-fusion`
    pass) fuses such loops when nothing with side effects separates them.
    Between the loops of qtrain's host code stand the allocations of the
    next loops' buffers (`memref.alloc`, and `gpu.alloc` with the
    `gpu.wait` ops around it), so this pass first moves every allocation
    with static sizes above the run of loops (and kernels already made,
    `gpu.launch`) and side-effect-free ops just before it (a new buffer cannot be touched by loops that precede its
    allocation), then fuses with upstream's function and alias analysis.
    Deallocations are left where they are: qtrain's host code frees after
    the last kernel.

    Example:
    ```mlir
    scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
      memref.store %zero, %a[%i] : memref<64xf32>
    }
    %b = memref.alloc() : memref<64xf32>
    scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
      %x = memref.load %a[%i] : memref<64xf32>
      memref.store %x, %b[%i] : memref<64xf32>
    }
    ```
    becomes the allocation of `%b` followed by one loop with both bodies.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ReassociateFloatSumsPass : Pass<"qtrain-reassociate-float-sums"> {
  let summary = "Let reductions' float sums and products combine their terms "
                "in any order";
  let description = [{
    Imported models reduce with plain `arith.addf` (batch norm's statistics
    and their gradients), whose sequential order keeps a GPU reduction at
    one thread per output: a batch norm over a `64x8x24x24` activation is
    8 threads of 36864 terms each, 8 ms a step on an H100. Like XLA and
    cuDNN, qtrain's GPU pipelines leave the order of a float reduction
    unspecified: this pass marks `reassoc` the combiner of each
    `linalg.generic` output that is a reduction (a single `arith.addf` or
    `arith.mulf` of the output's running value and a term), so that
    `qtrain-parallelize-reductions` may split it into partial sums. Other
    fast-math flags are kept; other ops (the terms' arithmetic, maxima)
    are left alone. Results differ from the sequential sum's by rounding;
    the split reductions are deterministic (their partials are combined in
    a fixed order, never by float atomics). `qtrain-lower-to-nvvm` and
    `qtrain-lower-to-gpu-emulator` run it unless
    `reassociate-float-sums=false`; the CPU pipeline keeps each sum's order.

    Example:
    ```mlir
    %mean = linalg.generic {
        indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                         affine_map<(d0, d1, d2, d3) -> (d1)>],
        iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
        ins(%x : tensor<64x8x24x24xf32>) outs(%zero : tensor<8xf32>) {
    ^bb0(%in: f32, %acc: f32):
      %s = arith.addf %acc, %in : f32
      linalg.yield %s : f32
    } -> tensor<8xf32>
    ```
    gets `%s = arith.addf %acc, %in fastmath<reassoc> : f32`.
  }];
}

def ParallelizeReductionsPass : Pass<"qtrain-parallelize-reductions"> {
  let summary = "Give GPU kernels of reductions parallelism";
  let description = [{
    GPU kernels get one thread per point of an op's parallel loops, and each
    thread runs the reduction loops. An absmax over a whole tensor (the
    per-tensor scale of every quantizer) has no parallel loop at all, so it
    would run serially on the host, over memory the device wrote. This pass
    rewrites `linalg.generic` ops on tensors with static loops:

    - A reduction with fewer than 4096 outputs and at least 4096 terms per
      output, whose combiner is exact in any order (max/min, integer
      add/mul/and/or/xor, or a float add/mul marked `reassoc`), is split:
      its outermost reduction loops (whole loops, while at most 2^20
      partial results remain, each of 32 terms or more) become parallel in
      a first op that writes partial results into a buffer filled with the
      combiner's neutral element, and a second op combines the partials
      into the original output. Float sums without `reassoc` keep their
      order (and their serial loop).
    - An op without parallel loops (a 0-d `linalg.fill` too) gets a
      parallel loop of one iteration, writing its result through a
      `tensor.expand_shape`, so that it runs as a one-thread kernel rather
      than on the host.

    `qtrain-lower-to-nvvm` runs it after the lowering to linalg.

    Example: the absmax of a `tensor<64x8x24x24xf32>` (all four loops
    reductions) becomes 512 partial maxima over `(d0, d1)` (576 terms each)
    into a `tensor<64x8xf32>` filled with `-inf`, then their maximum into
    the original 0-d output, computed in a loop of one iteration. With
    `whole-atomic-reductions`, a reduction to one element whose combiner
    memory atomics provide (max/min, integer add/and/or) is left whole
    (in its loop of one iteration) for `qtrain-block-reductions`, which
    gives it several blocks combining their results atomically: one kernel
    instead of two.
  }];
  let options = [
    Option<"wholeAtomicReductions", "whole-atomic-reductions", "bool",
           /*default=*/"false",
           "Leave reductions to one element whole where an atomic "
           "read-modify-write combines partial results "
           "(qtrain-block-reductions' blocks)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GPUHostBuffersPass : Pass<"qtrain-gpu-host-buffers", "::mlir::ModuleOp"> {
  let summary = "Put host code's buffers where GPU kernels can address them";
  let description = [{
    GPU kernels launched by host code read and write its buffers, so those
    must be memory the GPU can address. After bufferization and
    deallocation, host functions (those outside `gpu.module`s) allocate
    every buffer with `gpu.alloc` and free it with `gpu.dealloc`, and the
    program's `memref.copy`s become `linalg.copy`s (kernels, later), so that
    the host does not touch data between launches.

    `memory=device` (the default): the buffers are device memory
    (`cuMemAlloc`), which the host cannot read, so constants
    (`memref.get_global`) are copied to device buffers on entry with
    `gpu.memcpy`. Buffers that host code reads or writes itself
    (`memref.load`, `memref.store`, vector transfers outside the body of a
    linalg op, whose loads run in its kernel, or a call of a
    function without a body, such as the runner's `printMemref`) stay host
    memory where no kernel uses them (ownership-based deallocation's
    pointer lists) and are managed memory where kernels do (a scale that a
    host loop reduces), as are the staged copies of arguments that host
    code reads. Each buffer is followed through its views, into the
    functions it is passed to, out of the calls that return it, and
    through `scf.for` and `scf.yield`.
    `memory=managed`: CUDA managed memory (`gpu.alloc host_shared`,
    `cuMemAllocManaged`), which pages migrate in and out of on first touch
    (slow), and copies stay `memref.copy`.

    Public functions keep the CPU calling convention: each becomes a
    wrapper that stages its memref arguments in GPU buffers, calls its
    body (now a private `@<name>_gpu`, which the module's own calls call
    directly), copies back the arguments that the body may write (results
    written into arguments arrive) and returns the results in
    `memref.alloc`'d (malloc) buffers. A public function marked
    `qtrain.device_entry` is left as it is: its callers pass GPU buffers
    (a training loop keeping the model's state on the GPU skips copying
    it in and out every step), so its host code must not access them (an
    error otherwise).
    A stack buffer (`memref.alloca`) in host code is an error: kernels made
    later may read it. Copies, and frees, are the `async` forms on a stream
    of their own, waited for, since upstream's GPU-to-LLVM lowering
    converts only those. `qtrain-lower-to-nvvm` runs it.

    Example:
    ```mlir
    func.func @f(%x: memref<4xf32>) -> memref<4xf32> {
      %y = memref.alloc() : memref<4xf32>
      memref.copy %x, %y : memref<4xf32> to memref<4xf32>
      return %y : memref<4xf32>
    }
    ```
    becomes
    ```mlir
    func.func private @f_gpu(%x: memref<4xf32>) -> memref<4xf32> {
      %y = gpu.alloc () : memref<4xf32>
      linalg.copy ins(%x : memref<4xf32>) outs(%y : memref<4xf32>)
      return %y : memref<4xf32>
    }
    func.func @f(%x: memref<4xf32>) -> memref<4xf32> {
      %xd = gpu.alloc () : memref<4xf32>
      %t0 = gpu.wait async
      %t1 = gpu.memcpy async [%t0] %xd, %x : memref<4xf32>, memref<4xf32>
      gpu.wait [%t1]
      %y = call @f_gpu(%xd) : (memref<4xf32>) -> memref<4xf32>
      ... (%xd is only read: not copied back)
      %r = memref.alloc() : memref<4xf32>
      ... (%y copied to %r)
      %t2 = gpu.wait async
      %t3 = gpu.dealloc async [%t2] %xd : memref<4xf32>
      gpu.wait [%t3]
      ... (the same for %y)
      return %r : memref<4xf32>
    }
    ```
  }];
  let options = [
    Option<"memory", "memory", "::mlir::qtrain::GPUBufferMemory",
           /*default=*/"::mlir::qtrain::GPUBufferMemory::device",
           "Where the buffers are", [{::llvm::cl::values(
             clEnumValN(::mlir::qtrain::GPUBufferMemory::device, "device",
                        "device memory, staged by copies"),
             clEnumValN(::mlir::qtrain::GPUBufferMemory::managed, "managed",
                        "CUDA managed memory"))}]>,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def InnermostReductionsPass : Pass<"qtrain-innermost-reductions"> {
  let summary = "Move each linalg op's reduction loops inside its parallel ones";
  let description = [{
    `convert-linalg-to-parallel-loops` nests an op's loops in the order of
    its iterators: a reduction iterator before a parallel one (a bias
    gradient, the sum over the batch `d0` of a `[batch, channels]` tensor;
    a weight gradient whose `k` comes first) becomes a sequential loop
    around the parallel one, which the GPU lowering turns into a host loop
    launching one kernel per reduction step. This pass permutes the
    iterators of such ops (`linalg.generic`, and named ops generalized
    first) so that the parallel ones come first, in their order, then the
    reductions, in theirs: each GPU thread then loops over its output's
    terms. Every output keeps its order of summation, so results keep their
    bits. Ops whose reductions already come last are left as they are.
    `qtrain-lower-to-nvvm` runs it before the parallel loops are made.

    Example:
    ```mlir
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                     affine_map<(d0, d1) -> (d1)>],
                    iterator_types = ["reduction", "parallel"]}
        ins(%g : memref<64x10xf32>) outs(%b : memref<10xf32>) { ... }
    ```
    becomes
    ```mlir
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>,
                                     affine_map<(d0, d1) -> (d0)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%g : memref<64x10xf32>) outs(%b : memref<10xf32>) { ... }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def HoistAccumulatorsPass : Pass<"qtrain-hoist-accumulators"> {
  let summary = "Carry a loop's running sum in iter_args, not in memory";
  let description = [{
    `convert-linalg-to-parallel-loops` lowers a reduction to a loop over its
    terms that loads the output element, combines a term into it and
    stores it back at every term: on a GPU (one thread an output, the
    bias gradients' sums over the batch) each load of the element waits
    for the store before it, and the loop's other loads cannot move past
    the store, which might alias them. Where an `scf.for` body loads and
    later stores one element at indices defined outside the loop, and no
    other op in the loop may touch that buffer (upstream alias analysis;
    ops of unknown effects keep the loop as it is), this pass loads the
    element once before the loop, carries it in a new iter_arg, and stores
    it once after the loop. The combination's order is the same, so results
    keep their bits. `qtrain-lower-to-nvvm` runs it after the parallel
    loops are made. Upstream's `affine-scalrep` takes affine loads and
    stores only.

    Example:
    ```mlir
    scf.for %k = %c0 to %c64 step %c1 {
      %t = memref.load %g[%k, %i] : memref<64x10xf32>
      %s = memref.load %sum[%i] : memref<10xf32>
      %n = arith.addf %s, %t : f32
      memref.store %n, %sum[%i] : memref<10xf32>
    }
    ```
    becomes
    ```mlir
    %s0 = memref.load %sum[%i] : memref<10xf32>
    %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%s = %s0) -> (f32) {
      %t = memref.load %g[%k, %i] : memref<64x10xf32>
      %n = arith.addf %s, %t : f32
      scf.yield %n : f32
    }
    memref.store %r, %sum[%i] : memref<10xf32>
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def MergeSingleBlockLaunchesPass
    : Pass<"qtrain-merge-single-block-launches", "::mlir::func::FuncOp"> {
  let summary = "Merge consecutive one-block gpu.launch ops, a barrier "
                "between their bodies";
  let description = [{
    The final steps of small reductions (the combination of an absmax's
    partial results, a loss's row sums) are kernels of one thread block,
    often several in a row, each a launch the host waits for. Within one
    block, `gpu.barrier` orders two bodies as a new launch does (`bar.sync`
    makes the global and shared memory writes of each thread before it
    visible to the block's threads after it), so this pass merges
    consecutive synchronous `gpu.launch` ops whose grid is one block and
    whose block sizes are the same constants, and which have no private
    or dynamic shared memory: the second body follows the first after a
    barrier, each keeping its own workgroup buffers (while together they
    fit the 48 KiB of static shared memory). No barrier where the second
    body neither reads nor writes what the bodies before it write, nor
    writes what they read (the fills of several outputs). Ops between the launches must
    be free of memory effects and regions (constants, views) or be
    allocations and the waits for them; they move before the merged
    launch. Other launches between them may be passed: a one-block launch
    moves up to join the earliest one-block launch where no launch between
    writes what it reads or writes, nor reads what it writes (alias
    analysis, as in `qtrain-fuse-independent-launches`) — the copies of a
    shared initial value into each reduction's output, for one, which
    would otherwise each wait for the reduction before them, or the scales
    of a step's weights, which delayed scaling computes from their
    histories, all in the step's first launch.

    Example:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      ... partial maxima ...
      gpu.terminator
    }
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      ... their maximum ...
      gpu.terminator
    }
    ```
    becomes one launch whose body is the partial maxima, `gpu.barrier`,
    their maximum.
  }];
}

def NameGPUKernelsPass : Pass<"qtrain-name-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Give each gpu.launch a kernel name of its own";
  let description = [{
    Upstream's `gpu-kernel-outlining` names every kernel of a function
    `<function>_kernel`, so the kernels of a training step share one name
    in profiles (`QTRAIN_CUDA_PROFILE`, Nsight). This pass sets the
    `module` and `function` of each `gpu.launch` that has none to
    `<function>_<kind>_<n>`: `n` counts the function's launches in order,
    and `kind` says what the kernel does: `wgmma` (warpgroup MMAs), `mma`
    (warp MMAs), `loop` (each thread loops: reductions, convolution
    windows) or `map` (one element a thread). `qtrain-lower-to-nvvm` runs
    it before outlining.

    Example: the third launch of `@step`, an elementwise kernel,
    ```mlir
    gpu.launch blocks(...) in (...) threads(...) in (...) { ... }
    ```
    becomes
    ```mlir
    gpu.launch blocks(...) in (...) threads(...) in (...)
        module(@step_map_2) function(@step_map_2) { ... }
    ```
  }];
}

def FreeBuffersEarlyPass : Pass<"qtrain-free-buffers-early",
                                "::mlir::func::FuncOp"> {
  let summary = "Move each buffer's deallocation to its last use";
  let description = [{
    Upstream ownership-based buffer deallocation frees the buffers of a
    block at its end. A training step allocates the whole forward pass
    before its backward half begins, so with frees at the end its peak
    memory is every buffer at once, and keeping activations compressed
    for backward (`qtrain-compress-activations`) could not lower it. This
    pass moves each `memref.dealloc` of a `memref.alloc` of the same block
    up to just after the last op of the block that uses the buffer or a
    view of it (view-like ops, followed transitively). Buffers used by an
    op that may alias them otherwise (an op with memref results that is not
    a view) or used in another block are left alone.

    Example:
    ```mlir
    %a = memref.alloc() : memref<1024xf32>
    linalg.generic ... outs(%a ...)
    linalg.generic ins(%a ...) outs(%b ...)
    ... (a long computation)
    memref.dealloc %a : memref<1024xf32>
    ```
    gets its dealloc right after the second generic.
  }];
}

def VectorizeLinalgPass : Pass<"qtrain-vectorize-linalg"> {
  let summary = "Tile and vectorize the linalg ops of lowered qtrain code";
  let description = [{
    Tiles every linalg op on tensors whose indexing maps are projected
    permutations (the element-wise bodies of rounding, the reductions of
    compute_scale, the contractions of qmatmul) so that each tile covers one
        vector along the innermost dimension, and vectorizes the tiles with
    masked vectors where sizes do not divide. The innermost reduction of a
    two-operand contraction gets four vectors, a 64-byte int8 dot product on
    AVX-512. Generics are first interchanged so that the vectorized loop is
    one every operand reads contiguously (a matmul `C[m, n] += A[m, k] *
    B[k, n]` becomes broadcast multiply-adds along `n`), and 2-D
    convolutions are first rewritten as an im2col gather and a
    matmul-shaped contraction (upstream `rewriteInIm2Col`). A convolution
    whose im2col matrix would exceed `im2col-bytes` is first tiled along its
    batch, then its input channels (accumulating), with tile sizes dividing
    the extents, so that one tile's matrix is live at a time. Reductions,
    and ops on f16/bf16 (whose masked loads and stores become soft-float
    calls on x86), are never masked: they take the largest
    power-of-two vector dividing the static extent, or stay scalar. Ops with
    other maps (convolutions) are left to scalar loops. f32 sums whose adds
    are `fastmath<reassoc>` (float contractions, whose order qtrain leaves
    unspecified) become reassociable vector reductions, i.e. trees of vector
    adds rather than chains of scalar ones.

    Built on upstream scf::tileUsingSCF and linalg::vectorize.

    Example: with `vector-width=16`, an element-wise `linalg.generic` on
    `tensor<8x100xf32>` becomes an `scf.for` nest over [8, 100] in steps of
    [1, 16] whose body reads `vector<1x16xf32>` (masked on the last step),
    computes on vectors and writes them back.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements per vector along the innermost dimension">,
    Option<"im2colBytes", "im2col-bytes", "int64_t", /*default=*/"1048576",
           "Largest im2col matrix of one convolution tile in bytes (the L2 "
           "of one core by default; 0: one matrix per convolution)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}


def AutodiffPass : Pass<"qtrain-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of models into gradient functions";
  let description = [{
    For every function with `#qtrain<role parameter>` arguments that returns
    one scalar loss (`tensor<f32>` or `tensor<f64>`), then the next value
    of each `#qtrain<role state>` argument, adds a function `@<name>_grad`
    taking the same arguments and returning the loss, the gradient of the
    loss with respect to each parameter, in argument order, and the next
    states. The model function is kept (it is the evaluation step).

    The forward computation is copied into the gradient function, tensor
    arithmetic is turned into `linalg.generic` (upstream
    elementwise-to-linalg) and named linalg ops other than convolutions and
    poolings are generalized. Reverse mode then visits ops from the loss
    back to the parameters:

    * `linalg.generic`: each operand read through a projected permutation
      gets a generic over the same iteration space that multiplies the
      output gradient by the derivative of the body with respect to that
      operand, summing over the dimensions the operand does not index.
      Reductions must combine with `addf`, `maximumf`/`maxnumf` or
      `minimumf`/`minnumf`; the gradient of a max or min is shared evenly
      by the elements equal to the result (the arg-max / arg-min; ties
      split it, as `torch.amax` does);
    * convolutions (`linalg.conv_2d_nchw_fchw`, `linalg.conv_2d_nhwc_hwcf`,
      any strides and dilations): both gradients are convolutions of the
      same layout, the input gradient of the padded, stride-dilated output
      gradient with the flipped filter (dilated as forward), the filter
      gradient of the input (batch and channels swapped) with the output
      gradient, strides and dilations trading places;
    * poolings (`linalg.pooling_{nchw,nhwc}_{max,sum}`) with windows that
      do not overlap (strides equal to the window); ties of a max share the
      window's gradient;
    * tensor reshapes, slices, inserts and pads, by their adjoint moves;
    * `qtrain.quantizer`: the straight-through estimator, followed by the
      rounding of the gradient to the quantizer's backward formats (a
      delayed backward spec scales from its amax history, and the
      gradient function returns that history with the gradient's amax
      recorded);
      `qtrain.round`, and `qtrain.dequantize` of a `qtrain.quantize`: the
      straight-through estimator; `qtrain.qmatmul` and `qtrain.qconv2d` of
      `qtrain.quantize` codes: the float gradients of the dequantized
      operands, straight through to the quantized values.

    Only values that depend on a parameter are differentiated. Any other op
    on that path is an error naming the op.

    The gradient function records in `qtrain.saved_activation_bytes` the
    bytes of the forward values its backward half reads (arguments and
    constants excluded; a `qtrain.quantizer` result at its format's width):
    the memory a training step keeps between its two halves.

    With `loss-scale`, the gradient function takes a trailing
    `tensor<f32>` argument (`#qtrain<role loss_scale>`) that seeds the
    backward pass, so gradients come out multiplied by it.

    Example:
    ```mlir
    func.func @f(%w: tensor<4xf32> {qtrain.role = #qtrain<role parameter>},
                 %x: tensor<4xf32> {qtrain.role = #qtrain<role input>})
        -> tensor<f32>
    ```
    gains
    ```mlir
    func.func @f_grad(%w: tensor<4xf32> {...}, %x: tensor<4xf32> {...})
        -> (tensor<f32>, tensor<4xf32>)
    ```
  }];
  let options = [
    Option<"lossScale", "loss-scale", "bool", /*default=*/"false",
           "Seed the backward pass with a loss-scale argument">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}


def ReportSavedActivationsPass : Pass<"qtrain-report-saved-activations",
                                      "::mlir::func::FuncOp"> {
  let summary = "Report the bytes a training step keeps for backward";
  let description = [{
    On every gradient function (`qtrain.gradient_of`), emits a remark with
    the bytes of activations that its backward half reads from its forward
    half, in total and per layer (the layer whose forward computation made
    them: see SavedActivations.h), and a note per value. Works after any
    pipeline stage that keeps the gradient function.

    Example:
    ```
    remark: saved for backward: 744832 bytes; input 200704, conv1 ..., conv2 ...
    ```
  }];
}

def CompressActivationsPass : Pass<"qtrain-compress-activations",
                                   "::mlir::ModuleOp"> {
  let summary = "Keep the activations saved for backward in 4 or 8 bits "
                "(Chakrabarti & Moseley)";
  let description = [{
    Approximate activations (Chakrabarti & Moseley 2019) on the gradient
    functions of `qtrain-autodiff`: the forward pass stays exact, and each
    batch-norm + ReLU unit whose values the backward half reads is kept
    between the two halves as K-bit codes instead of f32.

    A unit is a `linalg.generic` computing `max(c * i * g + b, 0)` from a
    full tensor `c` (the centered batch-norm input) and per-channel `i`
    (inverse standard deviation, or Range BN's inverse range), `g` and `b`
    (scale and shift), as models write batch norm + ReLU
    (docs/training.md). With `x = c * i` and `v = x + b / g`, its codes are

        q = clamp(ceil(v / D) + s - 1, 0, 2^K - 1),  D = 6 / 2^K,
        s = max(1, 2^(K-1) - floor((b / g) / D))

    per channel: a window of `x` in [-3, 3) (about 3 standard deviations)
    shifted by less than a bin so that the ReLU threshold `v = 0` is a bin
    edge. Backward decodes at bin centres, `v~ = (q - s + 1/2) D`, so the
    ReLU mask it recomputes is the forward one (`q >= s`) up to f32
    rounding at the threshold. The backward half then reads, instead of the
    f32 values: `c~ = (v~ - b / g) / i` for `c`, the unit applied to `c~`
    for its output, and poolings, pads and reshapes of that output
    recomputed from it (through backward-only `qtrain.quantizer`s). 4-bit
    codes are packed two per byte (`qtrain.pack`). A batch norm whose ReLU
    comes after another op (a residual add) is not such a unit and stays
    exact.

    As in the reference method, the input of the last layer stays exact
    (`keep-last`), units whose output feeds it are otherwise compressed
    (a unit whose codes would free no f32 value is left alone);
    `exempt` keeps the units of the named layers (the layer whose output
    the batch norm normalizes) exact. Units are found in any recipe's
    gradient function (after `qtrain-range-batchnorm` too).
    `qtrain.saved_activation_bytes` is updated, and a remark reports the
    bytes before and after.

    Example: with `bits=4`, a unit on a `tensor<64x8x24x24xf32>` is kept as
    ```mlir
    %q = qtrain.quantize %c to int<8, unsigned> scale(%d : tensor<8xf32>)
           zero_point(%z : tensor<8xf32>) rounding upward
           granularity <per_channel, axis = 1> : ... -> tensor<64x8x24x24xi8>
    %p = qtrain.pack %q4 : tensor<64x8x24x24xi8> -> tensor<64x8x24x12xi8>
    ```
    and decoded with `qtrain.unpack` and `qtrain.dequantize` where the
    backward half begins.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"4",
           "Bits per saved activation: 4 or 8">,
    Option<"keepLast", "keep-last", "bool", /*default=*/"true",
           "Keep the input of the last layer exact">,
    ListOption<"exempt", "exempt", "std::string",
               "Layers whose batch-norm units stay exact">,
  ];
  let dependentDialects = ["::mlir::qtrain::QTrainDialect",
                           "::mlir::math::MathDialect"];
}

def ExpandQuantizersPass : Pass<"qtrain-expand-quantizers"> {
  let summary = "Replace quantizers by their forward rounding";
  let description = [{
    After `qtrain-autodiff` has used the backward specs of the
    `qtrain.quantizer` ops, each one is replaced by its forward rounding:
    `qtrain.compute_scale` (when the spec has a scaling) and `qtrain.round`,
    or by its input when it has no forward spec. Runs first in
    `qtrain-lower-to-cpu`.

    Example:
    ```mlir
    %y = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax>>
           : tensor<4x8xf32>
    ```
    becomes
    ```mlir
    %s = qtrain.compute_scale %x for float<f8E4M3FN> using <absmax>
           : tensor<4x8xf32> -> tensor<f32>
    %y = qtrain.round %x to float<f8E4M3FN> scale(%s : tensor<f32>) : tensor<4x8xf32>
    ```
  }];
}

def QuantizeContractionsPass : Pass<"qtrain-quantize-contractions"> {
  let summary = "Contract the codes of rounded operands (qmatmul, qconv2d)";
  let description = [{
    Rewrites each matmul-shaped contraction on tensors (`linalg.matmul`,
    `linalg.batch_matmul`, or a `linalg.generic` with one m, n and k
    dimension and at most one leading batch dimension) of two
    `qtrain.round` results, computing `out + a * b` in f32 into a zero fill,
    into `qtrain.qmatmul` of the operands' `qtrain.quantize` codes. The
    codes come from the same rounding (mode, seed, stream, scale, zero
    point), so the operand values are unchanged; the scales, per tensor or
    per channel along an operand's free dimension, are applied to the sums.
    Float formats accumulate in f32, integer formats in i32 (i64 when
    `K * max|a| * max|b|` may not fit), an integer format with a float one
    (INT8 training's 8-bit activations times its bf16 gradient copy) in
    f32. The f32 rounding of each product
    and the summation order may differ from the simulated contraction's.
    Rounded values with other users keep their `qtrain.round`.

    Likewise `linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf` of
    rounded operands become `qtrain.qconv2d` (same strides and dilations),
    with a per-tensor input scale and a filter scale per tensor or per
    output channel.

    Operands may reach the contraction through data movement, as autodiff's
    backward contractions read them: `linalg.transpose`, `linalg.generic`
    copies (flipped, channel-swapped filters) and `tensor.insert_slice`
    into a zero fill (padding). Those are replayed on the codes (padding
    with code 0), provided the rounding's scale is per tensor and, under
    padding, it has no zero point (0 is a code only then).

    The codes of a value that a linalg op computes are built where the
    value is made rather than at the contraction: just after the op, where
    the rounding's scale and seed are known there (a delayed scale, a
    current scale computed from the value), else just after the rounding.
    The GEMM kernel that produces the value can then compute them in its
    epilogue, beside the value's amax. Codes of arguments and of views of
    them stay at the contraction, near the other operand's.

    `qtrain-lower-to-nvvm` runs it after `qtrain-expand-quantizers`, so that
    training steps multiply FP8 and int8 codes on tensor cores.

    Example:
    ```mlir
    %a = qtrain.round %x to float<f8E4M3FN> scale(%sx : tensor<f32>) : tensor<64x784xf32>
    %b = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<f32>) : tensor<784x256xf32>
    %y = linalg.matmul ins(%a, %b : tensor<64x784xf32>, tensor<784x256xf32>)
           outs(%zero : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```
    becomes
    ```mlir
    %qa = qtrain.quantize %x to float<f8E4M3FN> scale(%sx : tensor<f32>)
            : tensor<64x784xf32> -> tensor<64x784xf8E4M3FN>
    %qb = qtrain.quantize %w to float<f8E4M3FN> scale(%sw : tensor<f32>)
            : tensor<784x256xf32> -> tensor<784x256xf8E4M3FN>
    %y = qtrain.qmatmul %qa, %qb lhs(float<f8E4M3FN>, scale %sx : tensor<f32>)
           rhs(float<f8E4M3FN>, scale %sw : tensor<f32>) accumulate f32
           : tensor<64x784xf8E4M3FN>, tensor<784x256xf8E4M3FN> -> tensor<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QuantizeTrainingPass : Pass<"qtrain-quantize-training", "::mlir::ModuleOp"> {
  let summary = "Put a recipe's quantizers on every contraction of a model";
  let description = [{
    For every model function (one with `#qtrain<role parameter>`
    arguments), wraps each contraction (`linalg.matmul`,
    `linalg.batch_matmul`, `linalg.conv_2d_nchw_fchw`,
    `linalg.conv_2d_nhwc_hwcf`) in `qtrain.quantizer` ops as the recipe
    says: its input (activation) and its weight (input #1) get forward
    specs, its result a quantizer whose backward spec rounds the layer
    gradient, with a `weight_backward` copy where the recipe bifurcates.
    `qtrain-autodiff` then builds the backward pass from them.

    Recipes (docs/recipes.md has their precision tables), and `fp32`,
    which adds nothing:
    * `int8` (Banner et al.): affine uint8 activations (batch-mean min/max)
      and weights (min/max), round to nearest; layer gradients uint8
      affine with stochastic rounding, and a bf16 copy for the weight
      gradients; batch norms (in the form `qtrain-range-batchnorm`
      recognizes) get their input and their incoming gradient rounded the
      same way;
    * `hfp8` (Sun et al.): 1-4-3 with bias 11 forward, 1-5-2 backward, no
      scales (it relies on loss scaling); the first and last contraction in
      DLFloat16;
    * `fp8`: E4M3 forward, E5M2 backward, per-tensor scales from the current
      absolute maximum;
    * `bf16`: bf16 operands and gradients, as frameworks' mixed precision
      (the 16-bit baseline).

    A layer is named by its `qtrain.layer` string attribute, or else by the
    name of its location (`loc("fc1")`); `exempt` keeps the named layers in
    full precision. The role options replace a recipe's spec with a
    `#qtrain.quant<...>` attribute (the dialect parses it; the prefix may
    be left out) or remove it with `none`. Stochastic specs use the model's
    `#qtrain<role seed>` argument, which is added when missing.

    `amax-history=N` turns the per-tensor `absmax` specs (all of `fp8`'s)
    into delayed scaling, as Transformer Engine's `DelayedScaling` does:
    each such spec gets `history = N`, and its quantizer an amax history,
    a new `#qtrain<role state>` argument of the model (start it at zeros)
    whose next value the model returns after the loss.

    Example: `qtrain-opt -qtrain-quantize-training="recipe=fp8 exempt=fc3"`
    turns `linalg.matmul ins(%x, %w ...)` into
    ```mlir
    %qx = qtrain.quantizer %x forward <float<f8E4M3FN>, nearest_even, scaling <absmax>> : tensor<32x784xf32>
    %qw = qtrain.quantizer %w forward <float<f8E4M3FN>, nearest_even, scaling <absmax>> {stream = 4 : i32} : tensor<784x256xf32>
    %y = linalg.matmul ins(%qx, %qw ...)
    %yq = qtrain.quantizer %y backward <float<f8E5M2>, nearest_even, scaling <absmax>> {stream = 8 : i32} : tensor<32x256xf32>
    ```
  }];
  let options = [
    Option<"recipe", "recipe", "::mlir::qtrain::RecipeKind",
           /*default=*/"::mlir::qtrain::RecipeKind::int8",
           "The recipe", [{::llvm::cl::values(
             clEnumValN(::mlir::qtrain::RecipeKind::fp32, "fp32",
                        "no quantizers (the float baseline)"),
             clEnumValN(::mlir::qtrain::RecipeKind::int8, "int8",
                        "Banner et al. 2018"),
             clEnumValN(::mlir::qtrain::RecipeKind::hfp8, "hfp8",
                        "Sun et al. 2019 (HFP8)"),
             clEnumValN(::mlir::qtrain::RecipeKind::fp8, "fp8",
                        "OCP E4M3 forward / E5M2 backward"),
             clEnumValN(::mlir::qtrain::RecipeKind::bf16, "bf16",
                        "bf16 mixed precision (the 16-bit baseline)"))}]>,
    ListOption<"exempt", "exempt", "std::string",
               "Layers kept in full precision">,
    Option<"activation", "activation", "std::string", /*default=*/"",
           "Spec of contraction inputs (#qtrain.quant<...> or none)">,
    Option<"weight", "weight", "std::string", /*default=*/"",
           "Spec of contraction weights (#qtrain.quant<...> or none)">,
    Option<"gradient", "gradient", "std::string", /*default=*/"",
           "Spec of layer gradients (#qtrain.quant<...> or none)">,
    Option<"weightGradient", "weight-gradient", "std::string",
           /*default=*/"",
           "Spec of the weight-gradient copy (#qtrain.quant<...> or none)">,
    Option<"amaxHistory", "amax-history", "int64_t", /*default=*/"0",
           "Delayed scaling: per-tensor absmax specs take their scale from "
           "the largest amax of the last N steps (0: of the tensor itself)">,
  ];
  let dependentDialects = ["::mlir::qtrain::QTrainDialect"];
}


def RangeBatchNormPass : Pass<"qtrain-range-batchnorm", "::mlir::func::FuncOp"> {
  let summary = "Replace batch normalization by Range BN (Banner et al.)";
  let description = [{
    Batch normalization divides by the standard deviation, whose sum of
    squares needs more than 8 bits. Range BN (Banner et al. 2018) divides
    by a scaled range instead: `(x - mean) / (C(n) * range(x - mean) + eps)`,
    with `range` the per-channel max minus min and `C(n)` a constant of the
    number `n` of values each range covers.

    Recognized form (after upstream elementwise-to-linalg), per channel `c`:
    ```
    %xc  = x - mean                      // any op
    %sq  = linalg.generic: reduction of %xc over every dimension but c,
           body  acc + a * a  (optionally times a constant)
    %var = zero or more element-wise generics on tensor<C> (e.g. * 1/n)
    %inv = element-wise generic on tensor<C> whose body takes math.rsqrt
           (typically rsqrt(var + eps))
    ```
    `%inv` is replaced by `1 / (C(n) * range(%xc) + epsilon)`; the variance
    computation becomes dead. The normalization, scale and shift that use
    `%inv` stay as they are.

    With `chunks = k > 1` (the reference code uses 16), the batch (dimension
    0, which must be reduced) is split into k chunks, or into the largest
    number below k that divides it (a model's training and evaluation
    functions have different batches; `n` follows), and
    the range is the mean over chunks of each chunk's max minus min, with
    `n` the chunk size. `constant` picks `C(n)`: `paper` is
    `1 / sqrt(2 ln n)`, `reference` the code's
    `0.5 * 0.35 * (1 + sqrt(pi ln 4)) / sqrt(2 ln n)`.

    Under `qtrain-autodiff` the gradient of each max and min reaches the
    arg-max and arg-min elements, as in the reference implementation.

    Example: with `%xc : tensor<64x8x24x24xf32>` centered per channel 1,
    ```mlir
    %sq = linalg.generic {...reduction over d0, d2, d3...} ins(%xc) { acc + a * a }
    %inv = linalg.generic {...} ins(%sq : tensor<8xf32>) { rsqrt(v * k + eps) }
    ```
    becomes
    ```mlir
    %max = linalg.generic {...} ins(%xc) { maximumf(acc, a) } -> tensor<8xf32>
    %min = linalg.generic {...} ins(%xc) { minimumf(acc, a) } -> tensor<8xf32>
    %range = arith.subf %max, %min : tensor<8xf32>
    %inv = linalg.generic {...} ins(%range) { 1 / (r * C(36864) + 1e-5) }
    ```
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"1",
           "Chunks of the batch whose ranges are averaged">,
    Option<"constant", "constant", "::mlir::qtrain::RangeConstant",
           /*default=*/"::mlir::qtrain::RangeConstant::paper",
           "The constant C(n)", [{::llvm::cl::values(
             clEnumValN(::mlir::qtrain::RangeConstant::paper, "paper",
                        "1 / sqrt(2 ln n)"),
             clEnumValN(::mlir::qtrain::RangeConstant::reference, "reference",
                        "0.5 * 0.35 * (1 + sqrt(pi ln 4)) / sqrt(2 ln n)"))}]>,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-5",
           "Added to the scaled range">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}


def OptimizerPass : Pass<"qtrain-optimizer", "::mlir::ModuleOp"> {
  let summary = "Turn gradient functions into training steps (SGD, loss scaling)";
  let description = [{
    For every gradient function `@<model>_grad` of `qtrain-autodiff`, adds
    `@<model>_step`, a pure function: it takes the gradient function's
    arguments (without the loss scale), a `learning_rate` and the optimizer
    `state`, and returns the loss, the updated parameters and the updated
    state, in argument order, so a driver feeds each call's results into the
    next call. The model's own state (amax histories of delayed scaling)
    comes first among the states, as the gradient function returns it: it
    is statistics, updated even on a step that loss scaling skips.

    The update is SGD with momentum `mu` and weight decay `wd` (as PyTorch):
    `g = grad / scale + wd * w`, `v' = mu * v + g`, `w' = w - lr * v'`,
    with the master weights kept as `master-weights` says:
    * `f32`: the parameter itself;
    * `f16-stochastic`: `w'` rounded to DLFloat16 (1-6-9) with stochastic
      rounding (Wang et al.; the seed argument is added when missing);
    * `f8-residual` (HFP8): the parameter holds an 8-bit weight (1-4-3, bias
      11) and a state tensor the DLFloat16 rounding residual; the master
      value `w + r` is updated, then split again into
      `w' = round_hfp8(m)` and `r' = round_dlfloat16(m - w')`.

    State per parameter, in parameter order: its momentum, then (for
    `f8-residual`) its residual. With `loss-scaling` (which needs
    `qtrain-autodiff=loss-scale`), two scalar states follow: the loss scale
    and the count of clean steps. A step whose gradients hold an inf or NaN
    changes no parameter or momentum, multiplies the scale by `backoff` and
    resets the count; after `growth-interval` clean steps in a row the scale
    is multiplied by `growth`.

    Example: `@mlp_grad(%w, %x, %y, %scale)` gains
    ```mlir
    func.func @mlp_step(%w, %x, %y,
        %lr: tensor<f32> {qtrain.role = #qtrain<role learning_rate>},
        %v: tensor<...> {qtrain.role = #qtrain<role state>},
        %scale: tensor<f32> {qtrain.role = #qtrain<role state>},
        %clean: tensor<f32> {qtrain.role = #qtrain<role state>})
        -> (tensor<f32>, tensor<...>, tensor<...>, tensor<f32>, tensor<f32>)
    ```
  }];
  let options = [
    Option<"momentum", "momentum", "double", /*default=*/"0.9",
           "Momentum of SGD">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "L2 weight decay">,
    Option<"masterWeights", "master-weights", "::mlir::qtrain::MasterWeights",
           /*default=*/"::mlir::qtrain::MasterWeights::f32",
           "How the weights are kept", [{::llvm::cl::values(
             clEnumValN(::mlir::qtrain::MasterWeights::f32, "f32",
                        "f32 parameters"),
             clEnumValN(::mlir::qtrain::MasterWeights::f16Stochastic,
                        "f16-stochastic",
                        "DLFloat16 with stochastic rounding"),
             clEnumValN(::mlir::qtrain::MasterWeights::f8PlusResidual,
                        "f8-residual",
                        "HFP8 weight plus DLFloat16 residual"))}]>,
    Option<"lossScaling", "loss-scaling", "bool", /*default=*/"false",
           "Dynamic loss scaling">,
    Option<"growthInterval", "growth-interval", "int64_t", /*default=*/"1000",
           "Clean steps before the loss scale grows">,
    Option<"growth", "growth", "double", /*default=*/"2.0",
           "Factor of the loss scale after growth-interval clean steps">,
    Option<"backoff", "backoff", "double", /*default=*/"0.5",
           "Factor of the loss scale after a step with inf/NaN gradients">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::qtrain::QTrainDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_TD
