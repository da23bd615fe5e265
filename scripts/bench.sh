#!/usr/bin/env bash
# Builds and runs the benchmarks (docs/benchmarks.md records their output).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" qtrain-bench
exec "${QTRAIN_BUILD_DIR:-$root/build}/bin/qtrain-bench" "$@"
