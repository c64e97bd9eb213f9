#!/usr/bin/python3
"""Plot and tabulate a one-axis sweep's results.csv (memplast sweep): each metric's mean
with its 95 % confidence interval against the swept parameter.

  scripts/plot_sweep.py SWEEP_DIR PARAM OUT.png METRIC [METRIC ...]

Prints a Markdown table (mean +- std, n) of the metrics per point; writes OUT.png."""
import csv
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_sweep: needs Debian's python3-matplotlib for /usr/bin/python3 (scripts/setup installs it)")


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    sweep, param, out, metrics = argv[1], argv[2], argv[3], argv[4:]
    try:
        with open(f"{sweep}/results.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"plot_sweep: {sweep}/results.csv: {e.strerror}")
    if not rows or param not in rows[0]:
        sys.exit(f"plot_sweep: {sweep}/results.csv has no column '{param}'")
    for m in metrics:
        if f"{m}_mean" not in rows[0]:
            sys.exit(f"plot_sweep: {sweep}/results.csv has no metric '{m}'")
    rows.sort(key=lambda r: float(r[param]))
    x = [float(r[param]) for r in rows]
    print("| " + param + " | " + " | ".join(metrics) + " |")
    print("|---" * (len(metrics) + 1) + "|")
    for r in rows:
        cells = [f"{float(r[m + '_mean']):.4g} +- {float(r[m + '_std']):.2g} (n={r[m + '_n']})" for m in metrics]
        print(f"| {r[param]} | " + " | ".join(cells) + " |")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for m in metrics:
        mean = [float(r[m + "_mean"]) for r in rows]
        lo = [float(r[m + "_mean"]) - float(r[m + "_ci95_lo"]) for r in rows]
        hi = [float(r[m + "_ci95_hi"]) - float(r[m + "_mean"]) for r in rows]
        ax.errorbar(x, mean, yerr=[lo, hi], marker="o", capsize=3, label=m)
    ax.set_xlabel(param)
    ax.set_ylabel("mean, 95 % CI")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot_sweep: wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
