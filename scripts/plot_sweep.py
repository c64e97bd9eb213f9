#!/usr/bin/python3
"""Plot and tabulate a sweep's results.csv (memplast sweep): each metric's mean with its
95 % confidence interval against the swept parameter.

  scripts/plot_sweep.py [--by PARAM2] SWEEP_DIR PARAM OUT.png METRIC [METRIC ...]

Prints a Markdown table (mean +- std, n) of the metrics per point; writes OUT.png. With
--by (a two-axis sweep), one line per value of PARAM2 and one panel per metric."""
import csv
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_sweep: needs Debian's python3-matplotlib for /usr/bin/python3 (scripts/setup installs it)")


def main(argv):
    by = None
    if len(argv) > 2 and argv[1] == "--by":
        by, argv = argv[2], argv[:1] + argv[3:]
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
    if by is not None and by not in rows[0]:
        sys.exit(f"plot_sweep: {sweep}/results.csv has no column '{by}'")
    for m in metrics:
        if f"{m}_mean" not in rows[0]:
            sys.exit(f"plot_sweep: {sweep}/results.csv has no metric '{m}'")
    def order(v):  # numbers by value, then words (e.g. tile.ir_drop = approx, off)
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0.0, v)

    rows.sort(key=lambda r: (order(r[by]) if by else order(""), float(r[param])))
    keys = [by, param] if by else [param]
    print("| " + " | ".join(keys + metrics) + " |")
    print("|---" * (len(keys) + len(metrics)) + "|")
    for r in rows:
        cells = [f"{float(r[m + '_mean']):.4g} +- {float(r[m + '_std']):.2g} (n={r[m + '_n']})" for m in metrics]
        print("| " + " | ".join([r[k] for k in keys] + cells) + " |")
    groups = {}
    for r in rows:
        groups.setdefault(r[by] if by else None, []).append(r)

    def errorbar(ax, rs, m, label):
        x = [float(r[param]) for r in rs]
        mean = [float(r[m + "_mean"]) for r in rs]
        lo = [float(r[m + "_mean"]) - float(r[m + "_ci95_lo"]) for r in rs]
        hi = [float(r[m + "_ci95_hi"]) - float(r[m + "_mean"]) for r in rs]
        ax.errorbar(x, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)

    if by is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for m in metrics:
            errorbar(ax, rows, m, m)
        axes = [ax]
        ax.set_ylabel("mean, 95 % CI")
    else:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.8), squeeze=False)
        axes = list(axes[0])
        for ax, m in zip(axes, metrics):
            for g, rs in groups.items():
                errorbar(ax, rs, m, f"{by} = {g}")
            ax.set_title(m)
            ax.set_ylabel("mean, 95 % CI")
    for ax in axes:
        ax.set_xlabel(param)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot_sweep: wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
