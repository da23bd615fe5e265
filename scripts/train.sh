#!/usr/bin/env bash
# The main job: installs dependencies (Fashion-MNIST included), builds, and
# trains the MLP of examples/mlp.mlir on Fashion-MNIST under fp32 and each
# recipe (int8, hfp8, fp8) through the qtrain pipeline, then prints the
# comparison table. EPOCHS (default 3) sets the length; extra arguments go
# to qtrain-train (see qtrain-train --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTRAIN_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" qtrain-train
exec "$build/bin/qtrain-train" "$root/examples/mlp.mlir" \
  --recipe=fp32,int8,hfp8,fp8 --epochs="${EPOCHS:-3}" \
  --csv="$build/mlp-comparison.csv" "$@"
