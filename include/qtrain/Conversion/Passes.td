//===- Passes.td - qtrain conversion passes ----------------*- tablegen -*-===//

#ifndef QTRAIN_CONVERSION_PASSES_TD
#define QTRAIN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQTrainToLinalgPass : Pass<"convert-qtrain-to-linalg"> {
  let summary = "Lower qtrain ops to linalg, tensor, arith, math and scf";
  let description = [{
    Rewrites every qtrain op into upstream ops on tensors that any MLIR
    backend can compile:

    * `qtrain.round`, `qtrain.quantize` and `qtrain.dequantize` become
      element-wise `linalg.generic` ops whose bodies compute the numerics
      library's encode/decode with integer bit manipulation (and
      Philox4x32-10 for stochastic rounding), so compiled results equal the
      library bit for bit and the bodies vectorize;
    * `qtrain.compute_scale` becomes reductions and an element-wise epilogue;
    * `qtrain.qmatmul` and `qtrain.qconv2d` become integer contractions with
      i32 accumulation (integer formats) or exact widening to the accumulator
      type (float formats), followed by a float rescale.

    Ops the lowering cannot handle (a dynamic dimension along a per-block
    axis, say) are reported with an error on the op.

    `target=fp8-truncf` (used by `qtrain-lower-to-nvvm` for sm_89 and later)
    encodes E4M3FN and E5M2 under nearest-even rounding with saturation as
    `arith.truncf` of the value clamped to the format's finite range (the
    same codes; NaN still selects the library's), which
    `convert-clamped-fp8-truncf-to-nvvm` turns into `cvt.rn.satfinite`.
    `target=ampere-tensor-cores` (sm_80's f16, bf16 and tf32 MMAs)
    contracts with f32 accumulation on f16 values where f16 holds every
    value of both operands (every 8-bit float format, HFP8's included), on
    bf16 values where bf16 does (int8 codes with a bf16 operand): the
    operands are decoded to tensors of that type and widened by `arith.extf`
    in the contraction body. Float formats that TF32 holds, every value
    normal there (dlfloat16), are decoded to f32 and read as tf32
    (`arith.truncf` to `tf32` and `arith.extf` back in the body, exact).
    `target=tensor-cores` (sm_89 and later) is fp8-truncf and
    ampere-tensor-cores, and contracts two E4M3FN/E5M2 operands on their
    codes (`arith.extf` of the f8 values in the body) without decoding
    them.

    Example:
    ```mlir
    %0 = qtrain.round %x to float<f8E4M3FN> : tensor<16xf32>
    ```
    becomes
    ```mlir
    %e = tensor.empty() : tensor<16xf32>
    %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
           ins(%x : tensor<16xf32>) outs(%e : tensor<16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %bits = arith.bitcast %in : f32 to i32
      ...  // encode to E4M3FN and decode, as integer arithmetic
      linalg.yield %v : f32
    } -> tensor<16xf32>
    ```
  }];
  let options = [
    Option<"target", "target", "::mlir::qtrain::NumericsTarget",
           /*default=*/"::mlir::qtrain::NumericsTarget::portable",
           "What element-wise numerics may use",
           [{::llvm::cl::values(
             clEnumValN(::mlir::qtrain::NumericsTarget::portable, "portable",
                        "integer bit manipulation only"),
             clEnumValN(::mlir::qtrain::NumericsTarget::fp8Truncf, "fp8-truncf",
                        "arith.truncf of clamped values to E4M3FN/E5M2"),
             clEnumValN(::mlir::qtrain::NumericsTarget::ampereTensorCores,
                        "ampere-tensor-cores",
                        "contractions on f16, bf16 and tf32 values (sm_80)"),
             clEnumValN(::mlir::qtrain::NumericsTarget::tensorCores,
                        "tensor-cores",
                        "fp8-truncf, ampere-tensor-cores, and FP8 contractions "
                        "on f8 codes"))}]>,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertClampedFP8TruncFToNVVMPass
    : Pass<"convert-clamped-fp8-truncf-to-nvvm"> {
  let summary = "Clamped f32 -> E4M3FN/E5M2 truncation as NVVM cvt.rn.satfinite";
  let description = [{
    Rewrites `arith.truncf` from f32 to `f8E4M3FN` or `f8E5M2` (nearest-even
    rounding) whose operand is clamped to the format's finite range,
    `minimumf(maximumf(x, -M), M)` with M = 448 or 57344, into NVVM's
    `convert.f32x2.to.f8x2` with `rn` and `satfinite` (PTX
    `cvt.rn.satfinite.e4m3x2.f32`, sm_89 and later). NVVM has no
    conversion without `satfinite`; on a clamped value, whose rounding
    cannot overflow, the two agree. NaN converts to a NaN either way.
    Only device code is rewritten (ops in a `gpu.launch` or a `gpu.module`);
    truncations of unclamped values are left alone.

    Example:
    ```mlir
    %lo = arith.maximumf %x, %cm448 : f32
    %c = arith.minimumf %lo, %c448 : f32
    %t = arith.truncf %c : f32 to f8E4M3FN
    ```
    becomes
    ```mlir
    %p = nvvm.convert.f32x2.to.f8x2 %c, %c {rnd = #nvvm.fp_rnd_mode<rn>,
           sat = #nvvm.sat_mode<satfinite>} : i16 (f8E4M3FN)
    %b = arith.trunci %p : i16 to i8
    %t = arith.bitcast %b : i8 to f8E4M3FN
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

def RelaxKernelAtomicsPass : Pass<"qtrain-relax-kernel-atomics"> {
  let summary = "Device code's memref atomics as relaxed device-scope LLVM atomics";
  let description = [{
    Rewrites each `memref.atomic_rmw` in device code (a `gpu.launch` or a
    `gpu.module`) into an `llvm.atomicrmw` with `monotonic` ordering and
    the `device` sync scope on the element's address, computed from the
    memref's strided metadata. Upstream's lowering gives every memref
    atomic `acq_rel` ordering at system scope (PTX `atom.acq_rel.sys`),
    whose fences wait for the thread's earlier stores to reach the host.
    qtrain's kernels use atomics only to combine partial results that no
    thread reads back before the kernel ends (block and GEMM-epilogue
    reductions), so relaxed atomics at device scope suffice. Kinds without
    an LLVM atomic (`mulf`, `muli`) are left to upstream.

    `maximumf` and `minimumf` on f32 and f64, which NVPTX expands into
    compare-and-swap loops (retried by every thread that loses a race),
    become one integer atomic on the bits, chosen by the value's sign:
    floats of one sign are ordered as their bits are, so a value with the
    sign clear combines by signed max (min), one with the sign set by
    unsigned min (max). NaNs are made the quiet NaN of the winning sign
    first, so that they propagate as `maximumf`/`minimumf` have them, and
    -0 < +0 as there.

    Example:
    ```mlir
    %old = memref.atomic_rmw maximumf %v, %amax[%c0] : (f32, memref<1xf32>) -> f32
    ```
    becomes
    ```mlir
    %base, %offset, %size, %stride = memref.extract_strided_metadata %amax
    ...
    %p = llvm.inttoptr %address : i64 to !llvm.ptr
    %bits = arith.bitcast %v : f32 to i32
    %nan = arith.cmpf uno, %v, %v : f32
    %canonical = arith.select %nan, %c2143289344_i32, %bits : i32
    %negative = arith.cmpi slt, %canonical, %c0_i32 : i32
    %old_bits = scf.if %negative -> (i32) {
      %0 = llvm.atomicrmw umin %p, %canonical syncscope("device") monotonic : !llvm.ptr, i32
      scf.yield %0 : i32
    } else {
      %0 = llvm.atomicrmw max %p, %canonical syncscope("device") monotonic : !llvm.ptr, i32
      scf.yield %0 : i32
    }
    %old = arith.bitcast %old_bits : i32 to f32
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def ConvertLowPrecisionMatmulToMMASyncPass
    : Pass<"convert-low-precision-matmul-to-mma-sync"> {
  let summary = "Low-precision GEMMs and convolutions on buffers as mma.sync kernels";
  let description = [{
    Rewrites each `linalg.generic` on buffers that computes
    `C[b, m, n] += ext(A[.., m, .., k, ..]) * ext(B[.., k, .., n, ..])`
    with 8-bit, 16-bit or tf32 operands into a `gpu.launch` that computes
    it with the warp-level MMA of sm_80 and later (16x8x32 for 8-bit
    operands, 16x8x16 for f16 and bf16, 16x8x8 for tf32). Loops read only by A (and
    the output) are m, only by B n, by both a batch (at most one), reduction
    loops k; each of m, n and k may be several loops, enumerated row-major,
    and A and B may read at affine expressions of them. So a convolution
    (qconv2d's generic: m = (n, oh, ow), n = f, k = (c, kh, kw), the input
    read at `oh * stride + kh * dilation`) is an implicit GEMM, without an
    im2col matrix.

    | operands (`ext`)                             | accumulator | PTX |
    |----------------------------------------------|-------------|-----|
    | `f8E4M3FN`/`f8E5M2` (`arith.extf`), any mix  | f32         | `mma.sync...m16n8k32.row.col.f32.e4m3.e5m2.f32` (sm_89+) |
    | `i8` (`arith.extsi` / `arith.extui`), any mix | i32         | `mma.sync...m16n8k32.row.col.s32.s8.u8.s32` |
    | `f16` (`arith.extf`)                         | f32         | `mma.sync...m16n8k16.row.col.f32.f16.f16.f32` |
    | `bf16` (`arith.extf`)                        | f32         | `mma.sync...m16n8k16.row.col.f32.bf16.bf16.f32` |
    | `f32` read as `tf32` (`arith.truncf`, `arith.extf`) | f32  | `mma.sync...m16n8k8.row.col.f32.tf32.tf32.f32` |

    Integer sums wrap as the CPU's do. Float products are accumulated in f32
    by the tensor cores in an order (and, on sm_89/sm_90, with an
    intermediate precision) that the hardware defines: float contraction
    order is unspecified in qtrain (docs/numerics.md).

    Blocks of 128 threads compute 64x64 output tiles, each warp 32x32 as
    2x4 MMA tiles. Each k-step's tiles of A and B are staged in shared
    memory (bounds-checked: any sizes): copied by `cp.async` in four
    stages, three steps ahead, where both operands' k is contiguous and K
    a multiple of 16 bytes; else two stages deep, the next step's read from
    global memory before the step's MMAs and stored after them. One
    barrier a step; warps read their fragments from there by
    `ldmatrix.x4`. The
    accumulators start at zero; the output's prior values are added after
    the loop, unless a fill of zeros initializes the output for this
    contraction alone: then the sums are stored and the fill erased (one
    launch and one pass over the output fewer). A reduction of the output
    to one element a result (the absmax behind the next quantization's
    per-tensor scale, of the output or of an element-wise function of it
    such as relu(C * s + bias)) whose combiners are idempotent (max/min,
    and/or) goes into the kernel's epilogue: each thread applies its body
    to the elements it stores and combines its result into the
    reduction's by a memory atomic, skipped where the value read there
    already holds it. So does an element-wise op on the output (such as
    relu(C * s + bias) rounded to the next GEMM's operand format at a
    scale known before the GEMM): each thread applies it to the elements
    it holds and stores its results there, in pairs of columns where the
    output's are; operands without loops (scales) are loaded once. Where
    nothing else reads the output, the sums are not stored at all. The
    kernel then runs in the place of the last op it computes; only where
    that is sound: every operation between commutes with the kernel and
    the ops it took before (touches nothing they write, writes nothing
    they read), and their results alias nothing it reads or writes (a
    launch and a pass over the output fewer for each).
    `qtrain-lower-to-nvvm` runs it after bufferization;
    convert-qtrain-to-linalg with `target=tensor-cores` or
    `ampere-tensor-cores` emits float `qtrain.qmatmul` and `qtrain.qconv2d`
    in the forms it matches. Contractions in device code
    and other contractions are left alone.

    Example:
    ```mlir
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                     affine_map<(m, n, k) -> (n, k)>,
                                     affine_map<(m, n, k) -> (m, n)>],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<64x128xf8E4M3FN>, memref<96x128xf8E4M3FN>)
        outs(%c : memref<64x96xf32>) {
    ^bb0(%x: f8E4M3FN, %y: f8E4M3FN, %acc: f32):
      %0 = arith.extf %x : f8E4M3FN to f32
      %1 = arith.extf %y : f8E4M3FN to f32
      %2 = arith.mulf %0, %1 : f32
      %3 = arith.addf %acc, %2 : f32
      linalg.yield %3 : f32
    }
    ```
    becomes a `gpu.launch` of (2, 1, 1) blocks of 128 threads whose loop
    over K calls `llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertLowPrecisionMatmulToWGMMAPass
    : Pass<"convert-low-precision-matmul-to-wgmma"> {
  let summary = "Low-precision GEMMs and convolutions on buffers as wgmma kernels (sm_90a)";
  let description = [{
    Rewrites the contractions that convert-low-precision-matmul-to-mma-sync
    takes (E4M3FN/E5M2, f16, bf16 and tf32 into f32, i8 into i32, GEMMs and
    implicit GEMMs, any operand layout, any sizes) into kernels on Hopper's
    warpgroup MMA, `wgmma.mma_async.sync.aligned.m64nNk32` (`k16` for f16
    and bf16, `k8` for tf32; sm_90a only): one warpgroup of 128 threads a
    64xN output tile. The 64x32 and Nx32 byte tiles of A and B (a chunk of
    k, one wgmma) are staged in shared memory in the no-swizzle K-major
    layout that the matrix descriptors describe.

    Where both operands' k is contiguous and K a multiple of 16 bytes, the
    tiles are copied into stages that fill `shared-memory-bytes` (dynamic
    shared memory beyond 48 KiB), with copies for later steps and one group
    of wgmmas left in flight. Where each operand's indices are just k (last),
    its m or n, and the batch (`tma-loads`, the default), a producer warp
    after the consumer warpgroups copies them with the TMA unit
    (`cp.async.bulk.tensor`, one box of rows x 16 bytes for each 16 bytes of
    k, zeros out of range) from tensor maps that host code makes
    (`qtrainTensorMap`, declared `qtrain.host_only`), and the warps meet on
    a full and an empty mbarrier a stage instead of block barriers; such a
    kernel whose shared memory leaves no room for a second block on a
    multiprocessor is persistent (`persistent-blocks`): at most
    `multiprocessors` blocks, each looping over tiles, so that the
    producer copies a tile's first steps while the consumers store the
    previous tile's sums. Otherwise every thread copies 16-byte rows with
    `cp.async` (zero-filled out of range). Wide tiles only where the GEMM
    (its static M and N) still has a tile of that size for each of the
    `multiprocessors`: a small GEMM's few blocks would each run a long
    epilogue while the GPU idles, so it takes 64x64 tiles. Blocks of two
    warpgroups take 128xN tiles where M >= 128; N is 256 where the shared
    memory holds four stages of four chunks, else 128 or 64 as N allows; a k-step is the most chunks
    (four, two or one) that leave four stages, and the stages are as many
    as fit, at most 8 and, for a static K, its steps + 2. With 227 KiB, a
    large GEMM runs on 128x256 tiles in four stages of four chunks (192
    KiB), four wgmmas a barrier. Otherwise the tiles pass through
    registers (converted, gathered, transposed) in two stages of two
    chunks, the next step's loaded while the wgmmas run, on 64xN tiles, N =
    128 where N allows and the GEMM fills the multiprocessors, else 64.

    The accumulators start at zero and the output's prior values are added
    after the loop (stored, the fill erased, where zeros fill the output
    for this contraction alone, as for mma.sync), and a reduction of the
    output to one element and an element-wise op on it go into the
    epilogue as for mma.sync (each consumer thread's part of them after its
    stores). Accumulation as for
    mma.sync: f32 in the tensor cores' order for float operands, wrapping
    i32 for int8. `qtrain-lower-to-nvvm`
    uses it for `chip=sm_90a`.

    Example: the contraction of convert-low-precision-matmul-to-mma-sync's
    example (K = 128 codes, k contiguous) becomes, after two calls of
    `qtrainTensorMap`, a `gpu.launch` of (2, 1, 1) blocks of 160 threads
    (a warpgroup and the producer warp) with 49 KiB of dynamic shared
    memory (three stages of four 4 KiB chunks, K being one step, six
    mbarriers and room to align the stages), whose consumers' loop over K
    waits for its stage's mbarrier and issues four of
    ```mlir
    %d = nvvm.wgmma.mma_async %descA, %descB, %acc,
           #nvvm.shape<m = 64, n = 64, k = 32>,
           D [<f32>, #nvvm.wgmma_scale_out<one>],
           A [<e4m3>, #nvvm.wgmma_scale_in<one>, <row>],
           B [<e4m3>, #nvvm.wgmma_scale_in<one>, <col>]
           : !llvm.struct<(f32, ...)> -> !llvm.struct<(f32, ...)>
    ```
  }];
  let options = [
    Option<"twoWarpgroups", "two-warpgroups", "bool", /*default=*/"true",
           "Blocks of two warpgroups on 128xN tiles where M is at least 128 "
           "(cp.async kernels); one warpgroup on 64xN tiles otherwise">,
    Option<"tmaLoads", "tma-loads", "bool", /*default=*/"true",
           "Where an operand's tiles are boxes of a tensor (its indices the "
           "batch, its m or n, and k last and contiguous): a producer warp "
           "copies them with the TMA unit, synchronized with the consumer "
           "warpgroups by mbarriers; false: every thread copies rows with "
           "cp.async">,
    Option<"persistentBlocks", "persistent-blocks", "bool", /*default=*/"true",
           "TMA kernels whose shared memory leaves no room for a second "
           "block on a multiprocessor run one block a multiprocessor (at "
           "most `multiprocessors` blocks), each taking tiles in turn">,
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t",
           /*default=*/"227 * 1024",
           "Shared memory a cp.async kernel's block may use, in bytes (H100: "
           "227 KiB); beyond 48 KiB it is dynamic shared memory">,
    Option<"multiprocessors", "multiprocessors", "int64_t", /*default=*/"132",
           "The GPU's multiprocessors (H100 SXM: 132): tiles wider than "
           "64x64 only where the GEMM has a tile for each">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def KMajorGEMMOperandsPass : Pass<"qtrain-k-major-gemm-operands"> {
  let summary = "Have GEMM operands' producers also write them with k innermost";
  let description = [{
    The tensor-core kernels (convert-low-precision-matmul-to-wgmma,
    -mma-sync) copy operand tiles into shared memory asynchronously (TMA,
    `cp.async`) only where each operand row is contiguous along k: A as
    m x k, B as n x k. A training graph's other GEMMs read k x n operands
    (a layer's weight in the forward pass) or k x m ones (the weight
    gradient reads both its activation and its output gradient along the
    batch), which those kernels stage through registers at every k-step,
    on a few blocks: latency-bound.

    This pass runs on tensors, after elementwise fusion. For each
    contraction that the tensor-core kernels would take
    (matchTensorCoreContraction) with an operand read at plain loop
    indices, one of them its only k loop but not last, whose rows along k
    would be whole multiples of 16 bytes, and which an elementwise
    `linalg.generic` (all loops parallel, that result written at a
    permutation) produces, it gives that producer one more result: the
    same values with the k dimension moved last, written by the same
    loops (a transposing store, no extra kernel). The contraction reads
    that result instead, its indexing map permuted alike. A producer
    whose result other ops read keeps it; one transposed copy serves every
    contraction that wants it. Nothing is transposed where it would cost a
    kernel of its own (operands that are function arguments, or the
    results of reductions).

    ```mlir
    // Before: B = quantize(w) is k x n.
    %q = linalg.generic {indexing_maps = [#id, #scalar, #id], ...}
        ins(%w, %scale : tensor<784x256xf32>, tensor<f32>)
        outs(%e : tensor<784x256xf8E4M3FN>) {...}
    %y = linalg.generic {indexing_maps = [(m, n, k) -> (m, k),
                                          (m, n, k) -> (k, n),
                                          (m, n, k) -> (m, n)], ...}
        ins(%x, %q : tensor<64x784xf8E4M3FN>, tensor<784x256xf8E4M3FN>) ...
    // After: the quantization also writes q^T (n x k), which the GEMM reads.
    %q:2 = linalg.generic {indexing_maps = [#id, #scalar, #id,
                                            (i, j) -> (j, i)], ...}
        ins(%w, %scale : ...) outs(%e, %et : tensor<784x256xf8E4M3FN>,
                                            tensor<256x784xf8E4M3FN>) {...}
    %y = linalg.generic {indexing_maps = [(m, n, k) -> (m, k),
                                          (m, n, k) -> (n, k),
                                          (m, n, k) -> (m, n)], ...}
        ins(%x, %q#1 : ...) ...
    ```

    `qtrain-lower-to-nvvm` runs it (`k-major-gemm-operands`, default true).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def EmulateGPULaunchesOnCPUPass
    : Pass<"emulate-gpu-launches-on-cpu", "::mlir::ModuleOp"> {
  let summary = "Run gpu.launch kernels on CPU threads, tensor-core MMAs emulated";
  let description = [{
    Replaces each `gpu.launch` by loops over its blocks, so that the kernels
    of the GPU lowering run, and are tested, where no GPU is. A block's
    threads run one after another, unless they synchronize (`gpu.barrier`,
    warp-wide `mma.sync`, warpgroup `wgmma`): then they run as an OpenMP
    team (`omp.parallel`) of one CPU thread each, and barriers become
    `omp.barrier`. Workgroup buffers are carved from one host buffer per
    block, aligned to the 2^18-byte shared window so that the low 18 bits of
    an address are its shared-memory offset, as wgmma descriptors encode
    it; private buffers are per-thread `memref.alloca`s.

    `llvm.nvvm.mma.m16n8k*` intrinsic calls (fp8, int8, f16, bf16, tf32)
    and `nvvm.wgmma.mma_async` (K-major operands, no swizzle) become calls
    into `libqtrain_gpu_emulator.so`, which computes them from the PTX ISA's
    fragment and shared-memory layouts: each thread stores its registers in
    its block's scratch rows, the warp meets at a barrier, and each thread
    reads back its share of D. Asynchronous operations are timed so that
    missing waits show: `nvvm.cp.async.shared.global` copies land when a
    `cp.async.wait.group` completes their group, and a wgmma, computed when
    issued, keeps the shared memory it reads in use until its issuing
    threads wait for its group (a cp.async into it stops the program);
    fences are dropped (CPU memory is coherent).
    On the host, `gpu.alloc` (managed or device memory), `gpu.dealloc` and
    `gpu.memcpy` become their memref counterparts and `gpu.wait` goes.
    Any other GPU or NVVM op is an error.

    With `guard-device-memory` (the default), host code that touches a
    device buffer fails as it would on a GPU: each device `gpu.alloc` gets
    pages of its own, registered with the emulator library, which keeps
    them inaccessible except while a kernel or a `gpu.memcpy` runs; a host
    access outside that stops the program with a message naming the buffer.
    Managed (`host_shared`) buffers stay open to the host.

    Example:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
      ...
      gpu.barrier
      ...
      gpu.terminator
    }
    ```
    becomes
    ```mlir
    scf.for %z = %c0 to %c1 step %c1 {
      scf.for %y = %c0 to %c1 step %c1 {
        scf.for %x = %c0 to %c2 step %c1 {
          omp.parallel num_threads(%c128_i32 : i32) {
            %tid = func.call @qtrain_emulate_thread_id(%c128_i64) : (i64) -> i64
            scf.execute_region {
              ...
              omp.barrier
              ...
              scf.yield
            }
            omp.terminator
          }
        }
      }
    }
    ```
    `qtrain-lower-to-gpu-emulator` runs it in place of the NVVM lowering.
  }];
  let options = [
    Option<"guardDeviceMemory", "guard-device-memory", "bool",
           /*default=*/"true",
           "Stop host code that touches a device buffer (page protection)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::omp::OpenMPDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // QTRAIN_CONVERSION_PASSES_TD
