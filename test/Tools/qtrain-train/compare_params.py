"""Checks that two saved parameter files (QTRP header, then float32s) hold
the same number of parameters, equal within a relative tolerance."""
import argparse
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        assert f.read(4) == b"QTRP", f"{path}: not a parameter file"
        (count,) = struct.unpack("<Q", f.read(8))
        return struct.unpack(f"<{count}f", f.read(4 * count))


parser = argparse.ArgumentParser()
parser.add_argument("expected")
parser.add_argument("actual")
parser.add_argument("--rtol", type=float, required=True)
args = parser.parse_args()
expected, actual = read(args.expected), read(args.actual)
if len(expected) != len(actual):
    sys.exit(f"{len(actual)} parameters, expected {len(expected)}")
scale = max(abs(v) for v in expected)
bad = [i for i, (e, a) in enumerate(zip(expected, actual))
       if abs(a - e) > args.rtol * max(abs(e), 1e-3 * scale)]
for i in bad[:10]:
    print(f"parameter {i}: {actual[i]}, expected {expected[i]}")
sys.exit(1 if bad else 0)
