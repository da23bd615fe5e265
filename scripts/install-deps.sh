#!/usr/bin/env bash
# Installs every system package qtrain needs on a fresh Debian 12 machine.
# Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(
  # LLVM/MLIR 22 (bookworm-security): headers, libMLIR.so, mlir-opt, lit tools
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  # Compiler and build tools
  clang-22 cmake ninja-build ccache python3
  # Unit tests; LLVM's OpenMP runtime, on which the GPU emulator runs
  # thread blocks (kernels tested without a GPU)
  libgtest-dev libomp-22-dev
  # The data set the main job trains on
  dataset-fashion-mnist
)

# Python packages for the python/ tests (ml_dtypes is an independent oracle).
# matplotlib draws comparison curves (scripts/plot-comparison.py).
python_packages=(numpy ml_dtypes matplotlib)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c "import numpy, ml_dtypes, matplotlib" 2>/dev/null; then
  echo "install-deps: installing ${python_packages[*]} (pip)"
  python3 -m pip install --quiet --disable-pip-version-check \
    "${python_packages[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check \
      --break-system-packages "${python_packages[@]}"
fi

# With a CUDA toolkit (ptxas), the GPU tests also disassemble the cubins;
# the toolkit may lack nvdisasm, which PyPI ships on its own.
if { command -v ptxas >/dev/null || [ -x /usr/local/cuda/bin/ptxas ]; } &&
  ! command -v nvdisasm >/dev/null && [ ! -x /usr/local/cuda/bin/nvdisasm ] &&
  ! python3 -c "import glob, nvidia, os, sys; sys.exit(not any(glob.glob(os.path.join(p, '*', 'bin', 'nvdisasm')) for p in nvidia.__path__))" 2>/dev/null; then
  echo "install-deps: installing nvidia-cuda-nvdisasm (pip)"
  python3 -m pip install --quiet --disable-pip-version-check \
    nvidia-cuda-nvdisasm 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check \
      --break-system-packages nvidia-cuda-nvdisasm
fi
