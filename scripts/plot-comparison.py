#!/usr/bin/env python3
"""Draws the loss and test-accuracy curves of a qtrain-train CSV log (one
line per recipe) into a PNG. Needs matplotlib (python3 -m pip install
matplotlib).

Usage: scripts/plot-comparison.py build/mlp-comparison.csv -o comparison.png
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="CSV written by qtrain-train --csv")
    parser.add_argument("-o", "--output", default="comparison.png")
    args = parser.parse_args()

    curves = {}
    with open(args.log) as f:
        for row in csv.DictReader(f):
            curve = curves.setdefault(row["recipe"], ([], [], []))
            curve[0].append(int(row["epoch"]))
            curve[1].append(float(row["train_loss"]))
            curve[2].append(100 * float(row["test_accuracy"]))
    if not curves:
        raise SystemExit(f"{args.log}: no rows")

    fig, (loss, accuracy) = plt.subplots(1, 2, figsize=(10, 4))
    for recipe, (epochs, losses, accuracies) in curves.items():
        loss.plot(epochs, losses, marker="o", label=recipe)
        accuracy.plot(epochs, accuracies, marker="o", label=recipe)
    loss.set(xlabel="epoch", ylabel="training loss", title="Loss")
    accuracy.set(xlabel="epoch", ylabel="test accuracy (%)", title="Accuracy")
    for axes in (loss, accuracy):
        axes.grid(True, alpha=0.3)
        axes.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
