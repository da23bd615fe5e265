#!/usr/bin/env bash
# Packs what the GPU checks need into one archive, for a GPU machine that has
# the CUDA driver and toolkit but no LLVM 22, no Debian and no network:
#
#   ./scripts/pack-gpu-host.sh [ARCHIVE]     # here, after ./scripts/build.sh
#   ./scripts/gpu-host-checks.sh [ARCHIVE]   # there, in a copy of this checkout
#
# The archive holds, at the absolute paths the build embeds (the runtime
# libraries' and the lit configuration's):
# - the build's tools, runtime libraries, GPU execution tests and lit
#   configurations (under this checkout's absolute path);
# - /usr/lib/llvm-22: libMLIR, libLLVM, the C runner utilities the JIT loads,
#   FileCheck, not and lit; under lib/qtrain-deps the Debian libraries that
#   libLLVM needs and a GPU machine's distribution may lack. libicudata is a
#   stub: libLLVM reaches ICU only through libxml2, which qtrain never calls
#   (its 31 MB of data would not fit the transfer limits of a lent machine);
# - a subset of Fashion-MNIST (12800 training and 2000 test images, the idx
#   headers rewritten) at /usr/share/datasets/fashion-mnist.
# The host's own libstdc++, libgcc_s and glibc are used (newer than Debian
# 12's, so backward compatible).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
archive="$(realpath -m "${1:-$root/.gpu-host/qtrain-gpu-host.tar.xz}")"
build="$root/build"
llvm=/usr/lib/llvm-22
for f in bin/qtrain-train bin/qtrain-bench-gpu unittests/bin/QTrainLoweringTests \
         unittests/bin/QTrainRuntimeTests lib/libqtrain_cuda_runtime.so; do
  [[ -e "$build/$f" ]] || { echo "error: $build/$f is missing: run ./scripts/build.sh" >&2; exit 1; }
done

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# The build, at its absolute path.
b="$stage$build"
mkdir -p "$b/bin" "$b/lib" "$b/unittests/bin"
cp "$build"/bin/qtrain-{train,bench-gpu,opt} "$b/bin/"
cp "$build"/lib/*.so "$b/lib/"
cp "$build"/unittests/bin/QTrain{Lowering,Runtime}Tests "$b/unittests/bin/"
(cd "$build" && find test -name 'lit.site.cfg.py' -exec cp --parents {} "$b/" \;)

# LLVM/MLIR 22 and the tools lit runs.
mkdir -p "$stage$llvm/lib/qtrain-deps" "$stage$llvm/bin" "$stage$llvm/utils"
cp -L "$llvm/lib/libMLIR.so.22.1" "$llvm/lib/libLLVM.so.22.1" \
      "$llvm"/lib/libmlir_{c_runner_utils,runner_utils}.so \
      "$llvm"/lib/libmlir_{float16_utils,apfloat_wrappers}.so.22.1 "$stage$llvm/lib/"
cp -L "$llvm"/bin/{FileCheck,not,count,lit} "$stage$llvm/bin/"
cp -rL "$llvm/utils/lit" "$stage$llvm/utils/"
find "$stage$llvm/utils" -name __pycache__ -prune -exec rm -rf {} +
deps="$stage$llvm/lib/qtrain-deps"
for lib in libz3.so.4 libxml2.so.2 libicuuc.so.72 libedit.so.2 libbsd.so.0 \
           libmd.so.0 libffi.so.8 libtinfo.so.6; do
  cp -L "/lib/x86_64-linux-gnu/$lib" "$deps/"
done
echo 'const char icudt72_dat[64] = {0};' > "$stage/icudata.c"
cc -shared -fPIC -Wl,-soname,libicudata.so.72 -o "$deps/libicudata.so.72" "$stage/icudata.c"
rm "$stage/icudata.c"

# The data subset.
python3 - "$stage/usr/share/datasets/fashion-mnist" <<'EOF'
import gzip, os, struct, sys
out = sys.argv[1]
os.makedirs(out)
src = "/usr/share/datasets/fashion-mnist/"
for name, count in [("train-images-idx3-ubyte", 12800), ("train-labels-idx1-ubyte", 12800),
                    ("t10k-images-idx3-ubyte", 2000), ("t10k-labels-idx1-ubyte", 2000)]:
    data = gzip.open(src + name + ".gz").read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    size = 1
    for d in dims[1:]:
        size *= d
    body = data[4 + 4 * rank:][:count * size]
    with gzip.open(os.path.join(out, name + ".gz"), "wb", compresslevel=9) as f:
        f.write(data[:4] + struct.pack(">" + "I" * rank, count, *dims[1:]) + body)
EOF

mkdir -p "$(dirname "$archive")"
tar -C "$stage" -cf - . | xz -9 -T2 > "$archive"
echo "$root" > "$archive.checkout"
echo "$archive: $(du -m "$archive" | cut -f1) MiB"
