# The sums that epilogue-transposed-words.mlir checks, computed with numpy
# and ml_dtypes from the test's patterns: an oracle independent of qtrain
# and LLVM.
#
# REQUIRES: ml_dtypes
# RUN: %qtrain_python %s | FileCheck %s
# CHECK:      CODES 991598
# CHECK-NEXT: GRADIENT -249832

import ml_dtypes
import numpy as np


def pattern(salt, rows, cols):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return (((7 * i + 3 * j + salt) % 17) - 8).astype(np.float32) / 4


def e4m3(x):
    return np.asarray(x, np.float32).astype(ml_dtypes.float8_e4m3fn)


# The operands are exact in E4M3 and every sum is exact in f32.
r = pattern(0, 80, 96) @ pattern(1, 96, 200)
h = np.maximum(r + pattern(2, 1, 200)[0], 0)
q = e4m3(h / 0.25)
print("CODES", int(q.view(np.uint8).astype(np.int64).sum()))
g = (q.astype(np.float32) * 0.25).T @ pattern(3, 80, 48)
print("GRADIENT", int((g * 64).astype(np.int64).sum()))
