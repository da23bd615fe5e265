#!/usr/bin/env bash
# The current main job: compile examples/rounding.mlir with qtrain-lower-to-cpu
# and run it on this CPU. (Training on Fashion-MNIST replaces it once the
# end-to-end driver lands.)
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
