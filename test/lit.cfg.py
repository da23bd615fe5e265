# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QTRAIN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qtrain_obj_root, "test")
# test/Unit is a nested suite (its own lit.site.cfg.py, googletest format).
config.excludes = ["lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%qtrain_src_root", config.qtrain_src_root))
config.substitutions.append(("%qtrain_obj_root", config.qtrain_obj_root))
config.substitutions.append(("%cxx_compiler", config.cxx_compiler))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# FileCheck, not, count and split-file come from Debian's LLVM.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# %run_cpu: lower with qtrain-lower-to-cpu and run @main under mlir-runner.
mlir_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
runner_libs = ",".join(
    os.path.join(mlir_lib_dir, lib)
    for lib in ["libmlir_c_runner_utils.so", "libmlir_runner_utils.so"])
config.substitutions.append(("%mlir_lib_dir", mlir_lib_dir))
config.substitutions.append(
    ("%run_cpu",
     "qtrain-opt -qtrain-lower-to-cpu %s | mlir-runner -e main "
     "-entry-point-result=void -shared-libs=" + runner_libs))

tool_dirs = [config.qtrain_tools_dir, config.llvm_tools_dir]
tools = ["qtrain-opt", "qtrain-train", "mlir-opt", "mlir-runner", "mlir-translate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
# The GPU benchmark, built where the CUDA toolkit and its cuBLAS are.
if os.path.exists(os.path.join(config.qtrain_tools_dir, "qtrain-bench-gpu")):
    config.available_features.add("qtrain-bench-gpu")
    llvm_config.add_tool_substitutions(["qtrain-bench-gpu"], tool_dirs)

# Python tests use the qtrain package from the source tree and the numerics
# C library from the build tree.
import shutil
import subprocess
import sys

# The python3 on PATH (where install-deps.sh put numpy and ml_dtypes), which
# need not be the interpreter running lit.
python = shutil.which("python3") or sys.executable
config.substitutions.append(("%qtrain_python", python))
config.environment["PYTHONPATH"] = os.path.join(config.qtrain_src_root, "python")
config.environment["QTRAIN_NUMERICS_LIBRARY"] = os.path.join(
    config.qtrain_obj_root, "lib", "libQTrainNumericsC.so")
if subprocess.call([python, "-c", "import ml_dtypes, numpy"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("ml_dtypes")
if subprocess.call([python, "-c", "import matplotlib"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("matplotlib")

# ptxas (CUDA toolkit) assembles the PTX of qtrain-lower-to-nvvm; tests that
# need it are UNSUPPORTED without a toolkit.
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas"
    if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
    # Where gpu-module-to-binary finds libdevice (math functions in kernels).
    config.environment["CUDA_HOME"] = os.path.dirname(os.path.dirname(
        os.path.realpath(ptxas)))

# nvdisasm disassembles the cubins ptxas makes, to check the SASS (which
# tensor-core instructions the GEMMs use). The toolkit's, or the one
# scripts/install-deps.sh installs from PyPI (nvidia-cuda-nvdisasm).
_FIND_PYPI_NVDISASM = (
    "import glob, nvidia, os\n"
    "for root in nvidia.__path__:\n"
    "    for path in sorted(glob.glob(os.path.join(root, '*', 'bin', "
    "'nvdisasm'))):\n"
    "        print(path)\n")


def find_nvdisasm():
    found = shutil.which("nvdisasm")
    if found:
        return found
    candidates = ["/usr/local/cuda/bin/nvdisasm"]
    # The PyPI wheel lives in the python3 that the tests run.
    result = subprocess.run([python, "-c", _FIND_PYPI_NVDISASM],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    candidates += result.stdout.split()
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


nvdisasm = find_nvdisasm() if ptxas else None
if nvdisasm:
    config.available_features.add("nvdisasm")
    config.substitutions.append(("%nvdisasm", nvdisasm))

# libqtrain_cuda_runtime.so, built where the CUDA toolkit was found.
if config.qtrain_cuda_runtime:
    config.available_features.add("cuda-runtime")
    config.substitutions.append(
        ("%qtrain_cuda_runtime_dir", os.path.dirname(config.qtrain_cuda_runtime)))
    # A GPU to run on: the tests that execute kernels need one (CI has none).
    try:
        gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                              text=True, timeout=30)
        if gpus.returncode == 0 and "GPU" in gpus.stdout:
            config.available_features.add("cuda-gpu")
    except (OSError, subprocess.TimeoutExpired):
        pass

# The GPU emulator (libqtrain_gpu_emulator.so, built where libomp is): the
# kernels of the GPU lowering run on CPU threads, so that they are tested
# without a GPU. %run_gpu_emulator runs @main of qtrain-lower-to-gpu-emulator
# output.
gpu_emulator = os.path.join(config.qtrain_obj_root, "lib",
                            "libqtrain_gpu_emulator.so")
if os.path.exists(gpu_emulator):
    config.available_features.add("gpu-emulator")
    emulator_libs = ",".join(
        [os.path.join(mlir_lib_dir, lib) for lib in [
            "libmlir_c_runner_utils.so", "libmlir_runner_utils.so",
            "libmlir_apfloat_wrappers.so", "libomp.so"]] + [gpu_emulator])
    config.substitutions.append(
        ("%run_gpu_emulator",
         "mlir-runner -e main -entry-point-result=void -shared-libs=" +
         emulator_libs))
