# Cross-checks the numerics library (through the Python binding) against
# ml_dtypes, an oracle independent of both qtrain and LLVM: every code decodes
# to ml_dtypes' value, and every f16 and bf16 input (plus midpoints and
# random f32 values) rounds like ml_dtypes' astype, which rounds to nearest
# even without saturating (our `native` overflow).
#
# REQUIRES: ml_dtypes
# RUN: %qtrain_python %s | FileCheck %s

import ml_dtypes
import numpy as np

from qtrain import numerics

FORMATS = {
    "bf16": ml_dtypes.bfloat16,
    "f8E5M2": ml_dtypes.float8_e5m2,
    "f8E4M3": ml_dtypes.float8_e4m3,
    "f8E3M4": ml_dtypes.float8_e3m4,
    "f8E4M3FN": ml_dtypes.float8_e4m3fn,
    "f8E4M3FNUZ": ml_dtypes.float8_e4m3fnuz,
    "f8E5M2FNUZ": ml_dtypes.float8_e5m2fnuz,
    "f8E4M3B11FNUZ": ml_dtypes.float8_e4m3b11fnuz,
    "f6E2M3FN": ml_dtypes.float6_e2m3fn,
    "f6E3M2FN": ml_dtypes.float6_e3m2fn,
    "f4E2M1FN": ml_dtypes.float4_e2m1fn,
}

halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
inputs = np.concatenate([
    halves.view(np.float16).astype(np.float32),
    halves.view(ml_dtypes.bfloat16).astype(np.float32),
    np.random.default_rng(7).standard_normal(1 << 18).astype(np.float32) *
    np.float32(64.0),
])

for name, dtype in FORMATS.items():
    fmt = numerics.Format.named(name)
    width = fmt.bit_width
    codes = np.arange(1 << width, dtype=np.uint32)
    storage = np.uint16 if width > 8 else np.uint8
    theirs = codes.astype(storage).view(dtype).astype(np.float32)
    ours = numerics.decode(fmt, codes)
    both_nan = np.isnan(theirs) & np.isnan(ours)
    assert np.array_equal(ours.view(np.uint32)[~both_nan],
                          theirs.view(np.uint32)[~both_nan]), name
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), name

    finite_only = not np.isnan(theirs).any()
    x = inputs[np.isfinite(inputs)] if finite_only else inputs
    # Midpoints between neighbouring values of the format.
    grid = np.unique(np.abs(theirs[np.isfinite(theirs)]))
    mids = ((grid[:-1] + grid[1:]) / 2).astype(np.float32)
    x = np.concatenate([x, mids, -mids])
    if finite_only:  # ml_dtypes saturates out-of-range values for these types
        x = x[np.abs(x) <= grid[-1]]
    expected = x.astype(dtype).astype(np.float32)
    got = numerics.round(fmt, x, overflow="native")
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(got), nan), name
    mismatch = np.flatnonzero(got.view(np.uint32)[~nan] !=
                              expected.view(np.uint32)[~nan])
    assert mismatch.size == 0, (name, x[~nan][mismatch[:5]])
    print(f"{name}: {1 << width} codes, {x.size} inputs agree")

# CHECK: bf16: 65536 codes, {{[0-9]+}} inputs agree
# CHECK: f8E5M2: 256 codes
# CHECK: f8E4M3: 256 codes
# CHECK: f8E3M4: 256 codes
# CHECK: f8E4M3FN: 256 codes
# CHECK: f8E4M3FNUZ: 256 codes
# CHECK: f8E5M2FNUZ: 256 codes
# CHECK: f8E4M3B11FNUZ: 256 codes
# CHECK: f6E2M3FN: 64 codes
# CHECK: f6E3M2FN: 64 codes
# CHECK: f4E2M1FN: 16 codes

# Stochastic rounding through the binding draws the library's bits.
e4m3 = numerics.Format.named("f8E4M3FN")
sr = numerics.encode(e4m3, np.full(8, 1.0625, np.float32),
                     rounding="stochastic", seed=5, stream=2)
bits = [numerics.stochastic_bits(5, 2, i) for i in range(8)]
assert [int(c) for c in sr] == [0x39 if b < 1 << 31 else 0x38 for b in bits]
print("stochastic ok")
# CHECK: stochastic ok
