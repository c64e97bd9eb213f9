#!/usr/bin/env python3
"""Plot the per-level conductance distributions of `memplast characterize`.

    /usr/bin/python3 scripts/plot_characterize.py OUT_DIR

Reads OUT_DIR/characterize.csv (one row per programmed device) and OUT_DIR/levels.csv,
writes OUT_DIR/levels.png: left, the read-back conductance right after programming,
one histogram per conductance level with its tolerance band shaded; right, the same
devices after the relaxation time; below, the histogram of P&V iterations.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: plot_characterize.py OUT_DIR")
    out = sys.argv[1]
    devs = read_csv(os.path.join(out, "characterize.csv"))
    levels = read_csv(os.path.join(out, "levels.csv"))
    if not devs:
        sys.exit(f"{out}/characterize.csv has no devices")
    target = np.array([float(d["target_uS"]) for d in devs])
    g_prog = np.array([float(d["g_after_prog_uS"]) for d in devs])
    g_relax = np.array([float(d["g_after_relax_uS"]) for d in devs])
    iters = np.array([int(d["iterations"]) for d in devs])
    with open(os.path.join(out, "characterize.json")) as f:
        import json
        js = json.load(f)
    relax_s = js["time_s"]["relaxation"]

    fig = plt.figure(figsize=(11, 7.5))
    gs = fig.add_gridspec(2, 2, height_ratios=[2.2, 1])
    ax_p = fig.add_subplot(gs[0, 0])
    ax_r = fig.add_subplot(gs[0, 1], sharey=ax_p)
    ax_i = fig.add_subplot(gs[1, :])
    lo = min(g_prog.min(), g_relax.min(), min(float(l["band_lo_uS"]) for l in levels))
    hi = max(g_prog.max(), g_relax.max(), max(float(l["band_hi_uS"]) for l in levels))
    bins = np.linspace(lo - 2, hi + 2, 160)
    colors = plt.cm.viridis(np.linspace(0.05, 0.85, max(1, len(levels))))
    for ax, g, title in ((ax_p, g_prog, "right after programming"),
                         (ax_r, g_relax, f"after {relax_s:g} s relaxation")):
        for c, l in zip(colors, levels):
            t = float(l["target_uS"])
            sel = np.isclose(target, t)
            ax.axvspan(float(l["band_lo_uS"]), float(l["band_hi_uS"]), color=c, alpha=0.12)
            ax.hist(g[sel], bins=bins, color=c, alpha=0.85,
                    label=f"{t:.1f} uS ({l['members']}), n={int(l['n'])}")
            ax.axvline(t, color=c, lw=0.8, ls="--")
        ax.set_xlabel("read-back conductance (uS)")
        ax.set_title(title)
        ax.set_yscale("log")
    ax_p.set_ylabel("devices")
    ax_p.legend(fontsize=8, loc="upper center", title="target (weight level/side)", title_fontsize=8)
    mx = int(iters.max())
    ax_i.hist(iters, bins=np.arange(-0.5, mx + 1.5, 1.0), color="tab:gray")
    ax_i.set_yscale("log")
    ax_i.set_xlabel("P&V iterations (pulses) per device")
    ax_i.set_ylabel("devices")
    fails = js["failures"]
    fig.suptitle(
        f"memplast characterize: {js['devices']} devices of a {js['tile']['rows']}x{js['tile']['cols']} tile, "
        f"{js['tile']['levels']} weight levels; failures {fails}; shaded: tolerance bands")
    fig.tight_layout()
    path = os.path.join(out, "levels.png")
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
