"""Checks the first weight matrix of a saved MLP (784 x 256, the first
784 * 256 floats after the QTRP header) against an initialization:
He-normal has standard deviation sqrt(2 / 784); Glorot-uniform lies in
[-a, a], a = sqrt(6 / (784 + 256)), with standard deviation a / sqrt(3)."""
import math
import struct
import sys

path, init = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    assert f.read(4) == b"QTRP"
    (count,) = struct.unpack("<Q", f.read(8))
    n = 784 * 256
    w = struct.unpack(f"<{n}f", f.read(4 * n))
mean = sum(w) / n
std = math.sqrt(sum((v - mean) ** 2 for v in w) / n)
a = math.sqrt(6 / (784 + 256))
expected = {"he": math.sqrt(2 / 784), "glorot": a / math.sqrt(3)}[init]
failures = []
if abs(std / expected - 1) > 0.02:
    failures.append(f"{init}: standard deviation {std}, expected {expected}")
if abs(mean) > 0.01 * expected:
    failures.append(f"{init}: mean {mean}")
bound = max(abs(v) for v in w)
if (init == "glorot") != (bound <= a):
    failures.append(f"{init}: largest magnitude {bound} against {a}")
for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)
