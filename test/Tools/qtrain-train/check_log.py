"""Checks a qtrain-train CSV log: per recipe, the training loss decreases
from the first to the last epoch and the last test accuracy reaches a
threshold."""
import argparse
import csv
import sys

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--min-accuracy", type=float, required=True)
args = parser.parse_args()

rows = {}
with open(args.log) as f:
    for row in csv.DictReader(f):
        rows.setdefault(row["recipe"], []).append(row)
failures = []
for recipe, epochs in rows.items():
    first, last = float(epochs[0]["train_loss"]), float(epochs[-1]["train_loss"])
    accuracy = float(epochs[-1]["test_accuracy"])
    if len(epochs) < 2 or not last < first:
        failures.append(f"{recipe}: loss did not decrease ({first} -> {last})")
    if not accuracy >= args.min_accuracy:
        failures.append(f"{recipe}: accuracy {accuracy} < {args.min_accuracy}")
if not rows:
    failures.append("empty log")
for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)
