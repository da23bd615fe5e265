"""Compares two runs' printMemref outputs element by element.

    python3 -m qtrain.compare_memrefs expected.txt actual.txt --rtol 1e-5

Each file holds memrefs printed by the MLIR runner utils (a header line
"Unranked Memref base@ = ... sizes = [...]" followed by the values). The
runs must print the same memrefs with the same shapes; every element must
satisfy |actual - expected| <= rtol * max |expected| of its memref (the
scale of summation-order differences between float contractions) or be the
same NaN/infinity. Prints the worst relative difference of each memref and
exits with 1 on the first failure.
"""

import argparse
import math
import re
import sys

_HEADER = re.compile(r"Unranked Memref base@ = \S+ rank = \d+ offset = \d+ "
                     r"sizes = \[([^\]]*)\]")
_NUMBER = re.compile(r"[-+]?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)",
                     re.IGNORECASE)


def parse(path):
    """[(sizes, [values])] in the order printed."""
    memrefs = []
    with open(path) as f:
        for line in f:
            header = _HEADER.search(line)
            if header:
                memrefs.append((header.group(1), []))
            elif memrefs:
                memrefs[-1][1].extend(float(v) for v in _NUMBER.findall(line))
    return memrefs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("expected")
    parser.add_argument("actual")
    parser.add_argument("--rtol", type=float, required=True)
    args = parser.parse_args(argv)
    expected, actual = parse(args.expected), parse(args.actual)
    if not expected or len(expected) != len(actual):
        print(f"memref count differs: {len(expected)} vs {len(actual)}")
        return 1
    for n, ((esizes, evals), (asizes, avals)) in enumerate(zip(expected,
                                                               actual)):
        if esizes != asizes or len(evals) != len(avals):
            print(f"memref {n}: sizes [{esizes}] vs [{asizes}]")
            return 1
        scale = max((abs(v) for v in evals if math.isfinite(v)), default=0.0)
        worst = 0.0
        for i, (e, a) in enumerate(zip(evals, avals)):
            if not (math.isfinite(e) and math.isfinite(a)):
                same = (math.isnan(e) and math.isnan(a)) or e == a
                if not same:
                    print(f"memref {n} element {i}: {a} vs {e}")
                    return 1
                continue
            diff = abs(a - e) / scale if scale else abs(a - e)
            worst = max(worst, diff)
            if diff > args.rtol:
                print(f"memref {n} element {i}: {a} vs {e} "
                      f"(relative to the largest {scale}: {diff:.3g})")
                return 1
        print(f"memref {n} [{esizes}]: worst difference {worst:.3g} "
              f"of the largest magnitude")
    return 0


if __name__ == "__main__":
    sys.exit(main())
