#!/usr/bin/env python3
"""The headline table of docs/results.md from a `memplast sweep` over seeds.

    scripts/headline_table.py out/headline/results.json [--paper-mnist 97 --paper-fashion 86]

Reads the sweep's results.json (configs/sweeps/headline.json: one point per row of the
table, seeds 1..N) and prints, per point, mean +- sample standard deviation over seeds
of MNIST after task 1, MNIST after task 2 and Fashion-MNIST after task 2 (in %), the
per-seed values, writes per device, energy and simulated time; then whether each
after-task-2 mean is within noise of the paper's figure.

"Within noise" (stated in docs/results.md): the paper reports one run, rounded to a
whole percent, so its figure p stands for [p - 0.5, p + 0.5). One memplast run falls in
mean +- 2 s (s: the standard deviation over seeds, about 95 % of runs for a normal
spread). The two are within noise when these intervals overlap; otherwise the gap is
the distance between them. Standard library only (any python3).
"""
import argparse
import json
import sys

LABELS = {
    # point name fragment -> row label, in the order of the table
    "mapping-differential_m_star-3_device_effects-true_mode-hardware": "default (differential pairs, 2 levels per device), m* = 3",
    "mapping-differential_m_star-0_device_effects-true_mode-hardware": "default, m* = 0",
    "mapping-differential_m_star-3_device_effects-false_mode-functional": "software baseline (ideal devices; both mappings)",
    "mapping-reference_column_m_star-3_device_effects-true_mode-hardware": "multi-level (reference column, 3 levels per device), m* = 3",
    "mapping-reference_column_m_star-0_device_effects-true_mode-hardware": "multi-level, m* = 0",
}


def pct(m, key):
    v = m[key]
    return v["mean"] * 100.0, v["std"] * 100.0, [x * 100.0 for x in v["values"]], v["n"]


def verdict(mean, std, paper):
    lo, hi = mean - 2.0 * std, mean + 2.0 * std
    plo, phi = paper - 0.5, paper + 0.5
    if hi >= plo and lo <= phi:
        return "within noise (%.2f..%.2f %% overlaps %g..%g %%)" % (lo, hi, plo, phi)
    gap = plo - hi if hi < plo else lo - phi
    side = "below" if hi < plo else "above"
    return "%.2f points %s (%.2f..%.2f %% against %g..%g %%)" % (gap, side, lo, hi, plo, phi)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", help="results.json of the sweep")
    ap.add_argument("--paper-mnist", type=float, default=97.0)
    ap.add_argument("--paper-fashion", type=float, default=86.0)
    a = ap.parse_args()
    try:
        with open(a.results) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("headline_table.py: %s: %s" % (a.results, e))
    points = {p["name"]: p for p in r.get("points", [])}
    order = [n for n in LABELS if n in points] + sorted(n for n in points if n not in LABELS)
    if not order:
        sys.exit("headline_table.py: %s: no points" % a.results)
    print("| configuration | runs | MNIST after task 1 | MNIST after task 2 | Fashion-MNIST after task 2 | writes/device max / mean | energy | simulated time |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for name in order:
        p = points[name]
        m = p["metrics"]
        need = ("mnist_task1", "mnist_task2", "fashion_task2")
        if any(k not in m or m[k]["n"] == 0 for k in need):
            print("| %s | %d complete | - | - | - | - | - | - |" % (LABELS.get(name, name), p["runs"]["complete"]))
            continue
        cells = []
        for k in need:
            mean, std, vals, n = pct(m, k)
            cells.append("%.2f +- %.2f %% (%s)" % (mean, std, " / ".join("%.2f" % v for v in vals)))
        wmax = m.get("writes_max", {}).get("mean", float("nan"))
        wmean = m.get("writes_mean", {}).get("mean", float("nan"))
        e = m.get("energy_j", {}).get("mean", float("nan"))
        t = m.get("time_s", {}).get("mean", float("nan"))
        print("| %s | %d | %s | %s | %s | %.1f / %.3f | %.4f J | %.1f s |" % (
            LABELS.get(name, name), p["runs"]["complete"], cells[0], cells[1], cells[2], wmax, wmean, e, t))
        rows.append((name, m))
    print()
    print("Gap to the paper (%g %% MNIST, %g %% Fashion-MNIST after task 2):" % (a.paper_mnist, a.paper_fashion))
    for name, m in rows:
        if "m_star-0" in name:
            continue
        mm, ms, _, n = pct(m, "mnist_task2")
        fm, fs, _, _ = pct(m, "fashion_task2")
        print("* %s (n = %d): MNIST %.2f +- %.2f %%: %s; Fashion-MNIST %.2f +- %.2f %%: %s" % (
            LABELS.get(name, name), n, mm, ms, verdict(mm, ms, a.paper_mnist), fm, fs,
            verdict(fm, fs, a.paper_fashion)))
    for name, m in rows:
        if "m_star-0" not in name:
            continue
        t1, _, _, _ = pct(m, "mnist_task1")
        t2, _, v2, _ = pct(m, "mnist_task2")
        v1 = [x * 100.0 for x in m["mnist_task1"]["values"]]
        drops = [x - y for x, y in zip(v1, v2)]
        print("* %s: MNIST forgotten by %.2f points on average (smallest drop over seeds %.2f)" % (
            LABELS.get(name, name), t1 - t2, min(drops)))


if __name__ == "__main__":
    main()
