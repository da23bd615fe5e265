// REQUIRES: ptxas
// Kernel files are globbed: none may be left from an earlier run.
// RUN: rm -f %t.*
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a multiprocessors=2" -o %t.sm90a.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90a.mlir %t.sm90a \
// RUN:   --kernels-using "cp\.async\.[a-z0-9_.:]*|mbarrier\.[a-z0-9_.:]*|wgmma\.mma_async[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=PTX90
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_90a wgmma-tma-loads=false multiprocessors=2" -o %t.sm90acp.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm90acp.mlir %t.sm90acp \
// RUN:   --kernels-using "cp\.async\.[a-z_.]*|wgmma\.mma_async[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=PTX90-CP-ASYNC
// RUN: qtrain-opt %s -qtrain-lower-to-nvvm="chip=sm_89" -o %t.sm89.mlir
// RUN: %qtrain_python -m qtrain.gpu_binary %t.sm89.mlir %t.sm89 \
// RUN:   --kernels-using "cp\.async\.[a-z_.]*|mma\.sync[.a-z0-9]*" \
// RUN:   | FileCheck %s --check-prefix=PTX89
// ptxas assembles every kernel and has nothing to say: where a kernel
// used wgmma results too early it would say so ("(C7517) warpgroup.wait is
// injected ..."), and where it had to serialize wgmmas, that too.
// RUN: for c in sm90a:sm_90a sm90acp:sm_90a sm89:sm_89; do \
// RUN:   for f in %t.${c%%:*}.*.ptx; do \
// RUN:     %ptxas -arch=${c#*:} $f -o ${f%.ptx}.cubin 2>&1 || exit 1; done; done \
// RUN:   | count 0
// RUN: %if nvdisasm %{ %nvdisasm %t.sm90a.tall_gpu_wgmma_0.cubin | FileCheck %s --check-prefix=SASS-TALL %}
// RUN: %if nvdisasm %{ %nvdisasm %t.sm90a.short_gpu_wgmma_0.cubin | FileCheck %s --check-prefix=SASS-SHORT %}
// RUN: %if nvdisasm %{ %nvdisasm %t.sm89.tall_gpu_mma_0.cubin | FileCheck %s --check-prefix=SASS89 %}
// RUN: %if nvdisasm %{ %nvdisasm %t.sm90a.large_gpu_wgmma_0.cubin | FileCheck %s --check-prefix=SASS-LARGE %}
// RUN: %if nvdisasm %{ %nvdisasm %t.sm90acp.large_gpu_wgmma_0.cubin | FileCheck %s --check-prefix=SASS-CP-ASYNC %}
// The 128x256 kernel's 128 accumulators a thread fit without spilling.
// It reads global memory by TMA only but for the scale, once (its output
// is a fill of zeros, stored, not added to), and stores its sums times
// the scales in 64 pairs of columns: the scaling is its epilogue, the
// unscaled sums never stored.
// RUN: grep -c "ld.global" %t.sm90a.large_gpu_wgmma_0.ptx | FileCheck %s --check-prefix=LOADS
// LOADS: {{^}}1{{$}}
// RUN: grep -c "st.global.v2.b32" %t.sm90a.large_gpu_wgmma_0.ptx | FileCheck %s --check-prefix=PAIRS
// PAIRS: {{^}}64{{$}}
// RUN: %ptxas -v -arch=sm_90a %t.sm90a.large_gpu_wgmma_0.ptx -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=REGISTERS

// GEMMs whose operands' k is contiguous, K a multiple of 16 bytes, take the
// pipelined kernels (multiprocessors=2: these small GEMMs take the wide
// tiles of GEMMs with a tile for each multiprocessor): on sm_90a an FP8
// GEMM with M >= 128 on 128x256 tiles of two warpgroups, an int8 one with
// M = 64 on 64x128 tiles of one, and
// the benchmark's 4096^3 FP8 GEMM on 128x256 tiles (192 KiB of dynamic
// shared memory), their tiles copied by a producer warp's TMA copies
// (UTMALDG) that complete on mbarriers (SYNCS), or with
// wgmma-tma-loads=false by every thread's cp.async; on sm_89 all on
// mma.sync. The SASS copies global memory into shared memory without
// registers (UTMALDG, LDGSTS) and multiplies on the tensor cores;
// mma.sync's fragments come from shared memory by ldmatrix (LDSM).
// PTX90:      {{^}}3 kernels: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX90-NEXT: {{^}}3 kernels: mbarrier.arrive.expect_tx.shared.b64
// PTX90-NEXT: {{^}}3 kernels: mbarrier.init.shared.b64
// PTX90-NEXT: {{^}}3 kernels: mbarrier.try_wait.parity.shared.b64
// PTX90-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8
// PTX90-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3
// PTX90-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e5m2
// PTX90-CP-ASYNC:      {{^}}3 kernels: cp.async.cg.shared.global
// PTX90-CP-ASYNC-NEXT: {{^}}3 kernels: cp.async.commit_group
// PTX90-CP-ASYNC-NEXT: {{^}}3 kernels: cp.async.wait_group
// PTX90-CP-ASYNC-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8
// PTX90-CP-ASYNC-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3
// PTX90-CP-ASYNC-NEXT: {{^}}1 kernels: wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e5m2
// PTX89:      {{^}}3 kernels: cp.async.cg.shared.global
// PTX89-NEXT: {{^}}3 kernels: cp.async.commit_group
// PTX89-NEXT: {{^}}3 kernels: cp.async.wait_group
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32
// PTX89-NEXT: {{^}}1 kernels: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// SASS-TALL-DAG:  UTMALDG.2D
// SASS-TALL-DAG:  SYNCS.PHASECHK.TRANS64.TRYWAIT
// SASS-TALL-DAG:  QGMMA.64x256x32.F32.E4M3.E5M2
// SASS-TALL-DAG:  WARPGROUP.DEPBAR.LE
// SASS-SHORT-DAG: UTMALDG.2D
// SASS-SHORT-DAG: IGMMA.64x128x32.S8.S8
// SASS89-DAG:     LDGSTS.E.BYPASS.128
// SASS89-DAG:     QMMA.16832.F32.E4M3.E5M2
// SASS89-DAG:     LDSM.16.M88.4
// SASS-LARGE-DAG: UTMALDG.2D
// SASS-LARGE-DAG: QGMMA.64x256x32.F32.E4M3.E4M3
// SASS-LARGE-DAG: WARPGROUP.DEPBAR.LE
// SASS-LARGE-NOT: LDGSTS
// SASS-CP-ASYNC-DAG: LDGSTS.E.BYPASS.128
// SASS-CP-ASYNC-DAG: QGMMA.64x256x32.F32.E4M3.E4M3
// SASS-CP-ASYNC-DAG: WARPGROUP.DEPBAR.LE
// REGISTERS: Compiling entry function 'large_gpu_wgmma_0' for 'sm_90a'
// REGISTERS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @tall(%a: tensor<256x256xf8E4M3FN>, %b: tensor<256x256xf8E5M2>, %s: tensor<f32>) -> tensor<256x256xf32> {
  %y = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E5M2> transposed, scale %s : tensor<f32>) accumulate f32 : tensor<256x256xf8E4M3FN>, tensor<256x256xf8E5M2> -> tensor<256x256xf32>
  return %y : tensor<256x256xf32>
}

func.func @short(%a: tensor<64x256xi8>, %b: tensor<256x256xi8>, %s: tensor<f32>) -> tensor<64x256xf32> {
  %y = qtrain.qmatmul %a, %b lhs(int<8, signed>, scale %s : tensor<f32>) rhs(int<8, signed> transposed, scale %s : tensor<f32>) accumulate i32 : tensor<64x256xi8>, tensor<256x256xi8> -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}

func.func @large(%a: tensor<4096x4096xf8E4M3FN>, %b: tensor<4096x4096xf8E4M3FN>, %s: tensor<f32>) -> tensor<4096x4096xf32> {
  %y = qtrain.qmatmul %a, %b lhs(float<f8E4M3FN>, scale %s : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %s : tensor<f32>) accumulate f32 : tensor<4096x4096xf8E4M3FN>, tensor<4096x4096xf8E4M3FN> -> tensor<4096x4096xf32>
  return %y : tensor<4096x4096xf32>
}
