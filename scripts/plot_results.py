#!/usr/bin/python3
"""Plots for docs/results.md from memplast train outputs.

usage: scripts/plot_results.py curves OUT.png RUN_DIR     accuracy per epoch of one run
       scripts/plot_results.py writes OUT.png RUN_DIR     writes-per-device histogram
"""
import csv
import json
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_results.py: matplotlib is missing for /usr/bin/python3; run scripts/setup "
             "(installs python3-matplotlib)")


def load(run):
    with open(os.path.join(run, "summary.json")) as f:
        return json.load(f)


def save(fig, out):
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, out)


def new_axes():
    return plt.subplots(figsize=(5.5, 3.5))


def finish(fig, ax, out, xlabel, ylabel, legend=True):
    """Label the axes, draw the grid (and the legend), save to out."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend()
    save(fig, out)


def curves(out, run):
    rows = list(csv.DictReader(open(os.path.join(run, "accuracy.csv"))))
    fig, ax = new_axes()
    tasks = []
    for r in rows:
        if r["evaluated_task"] not in tasks:
            tasks.append(r["evaluated_task"])
    order = []
    for r in rows:
        k = (r["trained_task"], int(r["epoch"]))
        if k not in order:
            order.append(k)
    for t in tasks:
        xs, ys = [], []
        for r in rows:
            if r["evaluated_task"] == t:
                xs.append(order.index((r["trained_task"], int(r["epoch"]))) + 1)
                ys.append(100 * float(r["accuracy"]))
        ax.plot(xs, ys, "o-", ms=3, label=t)
    finish(fig, ax, out, "epoch (all tasks)", "test accuracy (%)")


def writes(out, run):
    rows = list(csv.DictReader(open(os.path.join(run, "writes_per_device.csv"))))
    fig, ax = new_axes()
    ax.bar([int(r["writes"]) for r in rows], [int(r["devices"]) for r in rows], width=0.8)
    ax.set_yscale("log")
    finish(fig, ax, out, "program-and-verify writes per device", "devices", legend=False)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    kind, out, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"curves": lambda: curves(out, runs[0]),
     "writes": lambda: writes(out, runs[0])}[kind]()
