"""Compares the loss curves of two qtrain-train CSV logs (the same runs on
two devices): per recipe and epoch, the training losses agree within a
relative tolerance, and so do the final test accuracies (in points)."""
import argparse
import csv
import sys

parser = argparse.ArgumentParser()
parser.add_argument("expected")
parser.add_argument("actual")
parser.add_argument("--rtol", type=float, required=True)
parser.add_argument("--accuracy-points", type=float, required=True)
parser.add_argument("--recipes",
                    help="compare only these (comma-separated; default all)")
args = parser.parse_args()


def read(path):
    rows = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["recipe"], []).append(row)
    return rows


expected, actual = read(args.expected), read(args.actual)
if args.recipes:
    wanted = args.recipes.split(",")
    expected = {r: rows for r, rows in expected.items() if r in wanted}
    actual = {r: rows for r, rows in actual.items() if r in wanted}
failures = []
if not expected:
    failures.append("empty log")
if set(expected) != set(actual):
    failures.append(f"recipes differ: {sorted(expected)} vs {sorted(actual)}")
for recipe in sorted(set(expected) & set(actual)):
    e, a = expected[recipe], actual[recipe]
    if len(e) != len(a):
        failures.append(f"{recipe}: {len(e)} epochs vs {len(a)}")
        continue
    for re, ra in zip(e, a):
        le, la = float(re["train_loss"]), float(ra["train_loss"])
        if not abs(le - la) <= args.rtol * abs(le):
            failures.append(f"{recipe} epoch {re['epoch']}: loss {la} vs {le}")
    ae, aa = float(e[-1]["test_accuracy"]), float(a[-1]["test_accuracy"])
    if not abs(ae - aa) * 100 <= args.accuracy_points:
        failures.append(f"{recipe}: accuracy {aa} vs {ae}")
for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)
