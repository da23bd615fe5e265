#!/usr/bin/env bash
# Refreshes docs/generated/ from the TableGen-generated docs of a build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
ninja -C "$build" qtrain-doc >/dev/null
mkdir -p "$root/docs/generated"
for doc in QTrainDialect QTrainPasses QTrainConversionPasses; do
  cp "$build/docs/QTrain/$doc.md" "$root/docs/generated/$doc.md"
done
echo "updated docs/generated/"
