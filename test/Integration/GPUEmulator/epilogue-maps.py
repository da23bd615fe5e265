# The sums that epilogue-maps.mlir checks, computed with numpy and ml_dtypes
# from the test's patterns, an oracle independent of qtrain and LLVM (the
# stochastically rounded E5M2 codes are checked against the CPU lowering's
# only).
#
# REQUIRES: ml_dtypes
# RUN: %qtrain_python %s | FileCheck %s
# CHECK:      SUM0 864149
# CHECK-NEXT: SCALE0 1039625655
# CHECK-NEXT: SUM2 510451467
# CHECK-NEXT: SUM5 1014397417

import ml_dtypes
import numpy as np


def pattern(salt, rows, cols):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return (((7 * i + 3 * j + salt) % 17) - 8).astype(np.float32) / 4


def e4m3(x):
    return np.asarray(x, np.float32).astype(ml_dtypes.float8_e4m3fn)


def bits(a, dtype):
    return int(a.view(dtype).astype(np.int64).sum())


# The operands are exact in E4M3/E5M2 and every sum is exact in f32.
r0 = pattern(0, 70, 96) @ pattern(5, 96, 200)
h0 = np.maximum(r0 + pattern(1, 1, 200)[0], 0)
print("SUM0", bits(e4m3(h0 / 0.25), np.uint8))
print("SCALE0", int(np.float32(np.abs(h0).max() / 448).view(np.int32)))
r2 = pattern(2, 70, 336) @ pattern(3, 200, 336).T
print("SUM2", bits(r2.astype(ml_dtypes.bfloat16), np.uint16))
a5 = pattern(9, 140, 96).reshape(2, 70, 96)
b5 = pattern(10, 400, 96).reshape(2, 200, 96)
r5 = np.einsum("bik,bjk->bij", a5, b5)
print("SUM5", bits(r5.astype(ml_dtypes.bfloat16), np.uint16))
