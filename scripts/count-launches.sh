#!/usr/bin/env bash
# Counts the GPU launches of a model's training step as qtrain-lower-to-nvvm
# builds it (no GPU needed): launch sites before kernel outlining, and in
# the step's functions after qtrain-async-gpu-launches the launches
# (`gpu.launch_func`) and the host's blocking waits (top-level `gpu.wait`
# without a result) of `@<model>_grad_gpu` and `@<model>_step_gpu`.
#
#   ./scripts/count-launches.sh MODEL [TRAINING-STEP-OPTIONS] [CHIP]
#   ./scripts/count-launches.sh mlp "recipe=fp8 amax-history=16"
#   ./scripts/count-launches.sh lenet_bn recipe=int8 sm_89
#
# MODEL names examples/MODEL.mlir; options are qtrain-training-step's
# (default recipe=fp32); CHIP is qtrain-lower-to-nvvm's (default sm_90a).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model=$1
options=${2:-recipe=fp32}
chip=${3:-sm_90a}
dump="$(mktemp)"
trap 'rm -f "$dump"' EXIT
"$root/build/bin/qtrain-opt" "$root/examples/$model.mlir" \
  -qtrain-training-step="$options" -qtrain-lower-to-nvvm=chip="$chip" \
  --mlir-print-ir-before=gpu-kernel-outlining \
  --mlir-print-ir-after=qtrain-async-gpu-launches 2> "$dump" > /dev/null
python3 - "$model" "$dump" <<'PY'
import re
import sys

model, path = sys.argv[1], sys.argv[2]
dumps = open(path).read().split("// -----// IR Dump")
before = next(d for d in dumps if d.startswith(" Before GpuKernelOutlining"))
# The function-level dumps of the step's two functions.
step = "".join(
    d for d in dumps
    if d.startswith(" After AsyncGPULaunches")
    and re.search(rf"\nfunc\.func private @{model}_(grad|step)_gpu\(", d))
waits = len(re.findall(r"\n  gpu\.wait \[", step))
print(f"sites {before.count('gpu.launch ')} "
      f"launches {step.count('gpu.launch_func')} waits {waits}")
PY
