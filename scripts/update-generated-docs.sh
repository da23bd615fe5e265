#!/usr/bin/env bash
# Refreshes docs/generated/ from the TableGen-generated docs of a build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
ninja -C "$build" qtrain-doc >/dev/null
mkdir -p "$root/docs/generated"
cp "$build/docs/QTrain/QTrainDialect.md" "$root/docs/generated/QTrainDialect.md"
echo "updated docs/generated/QTrainDialect.md"
