#!/usr/bin/env bash
# Compiles examples/rounding.mlir (qtrain's rounding ops alone) with
# qtrain-lower-to-cpu and runs it on this CPU. The main job is train.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTRAIN_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" qtrain-opt
lib=/usr/lib/llvm-22/lib
"$build/bin/qtrain-opt" "$root/examples/rounding.mlir" -qtrain-lower-to-cpu |
  /usr/lib/llvm-22/bin/mlir-runner -e main -entry-point-result=void \
    -shared-libs="$lib/libmlir_c_runner_utils.so,$lib/libmlir_runner_utils.so" |
  sed 's/Unranked Memref.*data = $//' | paste -d ' ' - -
