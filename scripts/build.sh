#!/usr/bin/env bash
# Configures (once) and builds qtrain in build/ with clang-22, ccache and
# Ninja, linking against Debian's libMLIR.so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTRAIN_BUILD_DIR:-$root/build}
# Paths relative to the checkout, so clones elsewhere (CI) hit the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    >/dev/null
fi
ninja -C "$build" -j"$(nproc)" "$@"
