#!/usr/bin/env bash
# Runs qtrain's GPU checks on a machine with a CUDA GPU, from the archive that
# ./scripts/pack-gpu-host.sh made (see there), in a copy of this checkout:
#
#   ./scripts/gpu-host-checks.sh ARCHIVE LOGDIR [CHECK...]
#
# CHECKs (the first eight by default; each writes LOGDIR/<check>.log):
#   unit            the GPU cases of QTrainLoweringTests and QTrainRuntimeTests
#   lit             the lit tests that need a GPU
#   bench           qtrain-bench-gpu: sm_90a GEMMs on each tile variant
#   step-times      the MLP and LeNet-BN steps under fp32, bf16, fp8 and fp8
#                   with delayed scaling (the issue's FP8-vs-bf16 target)
#   step-times-transposed-operands
#                   the same under bf16 and fp8 with the GEMMs' k x n and k x m
#                   operands read through registers as before
#                   (--gpu-k-major-gemm-operands=false), to compare
#   step-times-waiting
#                   the same under bf16 and fp8, each step waiting for its
#                   loss before the next is queued (--gpu-overlap-steps=false),
#                   to compare
#   step-times-graphs
#                   the step-times runs with each step's work recorded once
#                   (a CUDA graph for each way round of the step buffers) and
#                   replayed (--gpu-step-graphs), to compare
#   train           the MLP under each recipe, with the kernel profile
#   train-sync      the same, each kernel waited for (--gpu-async-launches=false)
#   train-cp-async  the same with the sm_90a GEMMs' tiles copied by cp.async
#                   (--gpu-wgmma-tma-loads=false)
#   train-device    the same in device memory (--gpu-memory=device)
#   profile         each kernel's time in the MLP and LeNet-BN steps under
#                   bf16, fp8 and fp8 with delayed scaling (QTRAIN_CUDA_PROFILE=1)
#   timeline        the same runs' GPU time in kernels and idle between them,
#                   and each kernel's time on the GPU's clock
#                   (QTRAIN_CUDA_PROFILE=timeline: no launch waited for)
#   ncu             Nsight Compute's speed-of-light, warp-state, occupancy and
#                   memory sections for the benchmark's GEMMs at 4096^3 (the
#                   lent H100s have Nsight Compute, not Nsight Systems)
#
# A table of results comes last. Unpacks into /usr/lib/llvm-22,
# /usr/share/datasets and the packing checkout's path (a link to this
# checkout where they differ): for a lent, throwaway machine. A crash prints
# a stack trace.
set -uo pipefail
archive="$(realpath "$1")"
logs="$(realpath -m "$2")"
shift 2
checks=("$@")
[[ ${#checks[@]} -gt 0 ]] ||
  checks=(unit lit bench step-times train train-sync train-cp-async train-device)
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$logs"

# The packing checkout's path is where the build's embedded paths point.
packed="$(cat "$archive.checkout")"
if [[ "$packed" != "$here" ]]; then
  [[ -e "$packed" ]] && { echo "error: $packed exists and is not this checkout" >&2; exit 1; }
  mkdir -p "$(dirname "$packed")" && ln -s "$here" "$packed"
fi
tar -xJf "$archive" -C / --keep-directory-symlink --no-same-owner || exit 1

# cuBLAS for qtrain-bench-gpu: the toolkit's, or the one pip installed.
cublas="$(dirname "$(find /usr/local/cuda*/ /usr/lib /opt -name 'libcublasLt.so.13*' \
  2>/dev/null | head -1)")"
export LD_LIBRARY_PATH="/usr/lib/llvm-22/lib/qtrain-deps:$cublas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$packed/build/bin:/usr/lib/llvm-22/bin:$PATH:/usr/local/cuda/bin"
cd "$packed"

nvidia-smi -L | tee "$logs/device.log"
results=()
run() { # name seconds command...: at most that long (a hung kernel ends it)
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout -k 10 "$limit" "$@" > "$logs/$name.log" 2>&1
  local rc=$?
  results+=("$(printf '%-6s rc=%-3s %4ss' "$name" "$rc" $((SECONDS - start)))")
  tail -n 25 "$logs/$name.log"
}

train() { # memory async-launches [tma-loads]
  local memory=$1 async=$2 tma=${3:-true}
  for recipe in fp32 fp8 int8 hfp8 bf16; do
    echo "== $recipe ($memory memory, async launches: $async, TMA: $tma)"
    QTRAIN_CUDA_PROFILE=1 qtrain-train examples/mlp.mlir --recipe=$recipe \
      --epochs=1 --device=cuda --gpu-memory=$memory \
      --gpu-async-launches=$async --gpu-wgmma-tma-loads=$tma \
      --csv="$logs/train-$memory-$async-$tma-$recipe.csv" || return
  done
}

for check in "${checks[@]}"; do
  case $check in
  unit) run unit 240 bash -c "build/unittests/bin/QTrainLoweringTests \
         --gtest_filter='*_cuda' && build/unittests/bin/QTrainRuntimeTests \
         --gtest_filter='*CUDA*'" ;;
  step-times)
    run step-times 300 bash -c "set -e
      qtrain-train examples/mlp.mlir --recipe=fp32,bf16,fp8 --epochs=1 \
        --device=cuda --csv='$logs/step-times-mlp.csv'
      qtrain-train examples/mlp.mlir --recipe=fp8 --amax-history=16 \
        --epochs=1 --device=cuda --csv='$logs/step-times-mlp-delayed.csv'
      qtrain-train examples/lenet_bn.mlir --recipe=fp32,bf16,fp8 --epochs=1 \
        --train-limit=12800 --device=cuda --csv='$logs/step-times-lenet.csv'
      qtrain-train examples/lenet_bn.mlir --recipe=fp8 --amax-history=16 \
        --epochs=1 --train-limit=12800 --device=cuda \
        --csv='$logs/step-times-lenet-delayed.csv'" ;;
  step-times-graphs)
    run step-times-graphs 300 bash -c "set -e
      qtrain-train examples/mlp.mlir --recipe=fp32,bf16,fp8 --epochs=1 \
        --device=cuda --gpu-step-graphs
      qtrain-train examples/mlp.mlir --recipe=fp8 --amax-history=16 \
        --epochs=1 --device=cuda --gpu-step-graphs
      qtrain-train examples/lenet_bn.mlir --recipe=fp32,bf16,fp8 --epochs=1 \
        --train-limit=12800 --device=cuda --gpu-step-graphs
      qtrain-train examples/lenet_bn.mlir --recipe=fp8 --amax-history=16 \
        --epochs=1 --train-limit=12800 --device=cuda --gpu-step-graphs" ;;
  step-times-transposed-operands)
    run step-times-transposed-operands 300 bash -c "set -e
      qtrain-train examples/mlp.mlir --recipe=bf16,fp8 --epochs=1 \
        --device=cuda --gpu-k-major-gemm-operands=false
      qtrain-train examples/lenet_bn.mlir --recipe=bf16,fp8 --epochs=1 \
        --train-limit=12800 --device=cuda --gpu-k-major-gemm-operands=false" ;;
  step-times-waiting)
    run step-times-waiting 300 bash -c "set -e
      qtrain-train examples/mlp.mlir --recipe=bf16,fp8 --epochs=1 \
        --device=cuda --gpu-overlap-steps=false
      qtrain-train examples/lenet_bn.mlir --recipe=bf16,fp8 --epochs=1 \
        --train-limit=12800 --device=cuda --gpu-overlap-steps=false" ;;
  profile)
    run profile 240 bash -c "set -e
      for recipe in bf16 fp8 'fp8 --amax-history=16'; do
        for model in mlp lenet_bn; do
          echo \"== \$model \$recipe\"
          QTRAIN_CUDA_PROFILE=1 qtrain-train examples/\$model.mlir \
            --recipe=\$recipe --epochs=1 --train-limit=1280 --test-limit=500 \
            --device=cuda
        done
      done" ;;
  timeline)
    run timeline 240 bash -c "set -e
      for recipe in bf16 fp8 'fp8 --amax-history=16'; do
        for model in mlp lenet_bn; do
          echo \"== \$model \$recipe\"
          QTRAIN_CUDA_PROFILE=timeline qtrain-train examples/\$model.mlir \
            --recipe=\$recipe --epochs=1 --train-limit=1280 --test-limit=500 \
            --device=cuda 2>&1 | grep -vE '^(device|qtrain CUDA memory):'
        done
      done" ;;
  ncu)
    run ncu 420 ncu --kernel-name regex:wgmma --launch-count 12 \
      --section SpeedOfLight --section WarpStateStats --section Occupancy \
      --section LaunchStats --section MemoryWorkloadAnalysis \
      qtrain-bench-gpu --sizes=4096 --repetitions=1 --compare-wgmma-tiles ;;
  lit) run lit 300 python3 /usr/lib/llvm-22/bin/lit -v build/test \
         --filter 'device-cuda|Bench/gpu' ;;
  bench) run bench 180 qtrain-bench-gpu --compare-wgmma-tiles ;;
  train) export -f train; run train 240 bash -c "logs='$logs' train managed true" ;;
  train-sync)
    export -f train
    run train-sync 240 bash -c "logs='$logs' train managed false" ;;
  train-cp-async)
    export -f train
    run train-cp-async 240 bash -c "logs='$logs' train managed true false" ;;
  train-device)
    export -f train
    run train-device 240 bash -c "logs='$logs' train device true" ;;
  *) echo "unknown check: $check" >&2; exit 2 ;;
  esac
done
printf '%s\n' "${results[@]}"
