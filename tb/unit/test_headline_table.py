#!/usr/bin/env python3
"""scripts/headline_table.py on a small results.json: mean, sample std, the within-noise
verdict against the paper's rounding interval, the forgetting line, and bad input.

  python3 tb/unit/test_headline_table.py SOURCE_DIR
"""
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

src = Path(sys.argv[1])
tool = [sys.executable, str(src / "scripts" / "headline_table.py")]
failures = []


def expect(what, cond):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def metric(values):
    return {"n": len(values), "values": values, "mean": statistics.mean(values),
            "std": statistics.stdev(values)}


def point(name, t1, t2, f2):
    return {"name": name, "runs": {"complete": len(t1)},
            "metrics": {"mnist_task1": metric(t1), "mnist_task2": metric(t2),
                        "fashion_task2": metric(f2), "writes_max": metric([30.0, 40.0]),
                        "writes_mean": metric([1.5, 2.5]), "energy_j": metric([4.0, 4.2]),
                        "time_s": metric([1470.0, 1480.0])}}


default = "mapping-differential_m_star-3_device_effects-true_mode-hardware"
forget = "mapping-differential_m_star-0_device_effects-true_mode-hardware"
# default: MNIST 0.965, 0.969 (mean 96.70, s 0.28: 96.13..97.27 overlaps 96.5..97.5);
# Fashion 0.840, 0.842 (mean 84.10, s 0.14: 83.82..84.38, 1.12 points below 85.5).
# m* = 0: task 1 98 and 97, task 2 20 and 30: mean drop 72.5, smallest 67.
results = {"points": [point(default, [0.976, 0.978], [0.965, 0.969], [0.840, 0.842]),
                      point(forget, [0.98, 0.97], [0.20, 0.30], [0.88, 0.89])]}
with tempfile.TemporaryDirectory() as d:
    f = Path(d) / "results.json"
    f.write_text(json.dumps(results))
    r = subprocess.run(tool + [str(f)], capture_output=True, text=True)
    out = r.stdout
    expect(f"exit 0, got {r.returncode}: {r.stderr}", r.returncode == 0)
    expect("mean and std of MNIST after task 2", "96.70 +- 0.28 % (96.50 / 96.90)" in out)
    expect("MNIST within noise", "MNIST 96.70 +- 0.28 %: within noise (96.13..97.27 % overlaps 96.5..97.5 %)" in out)
    expect("Fashion gap", "Fashion-MNIST 84.10 +- 0.14 %: 1.12 points below (83.82..84.38 % against 85.5..86.5 %)" in out)
    expect("forgetting", "MNIST forgotten by 72.50 points on average (smallest drop over seeds 67.00)" in out)
    expect("m* = 0 gets no paper verdict", out.count("within noise") + out.count("points below") == 2)
    # a paper figure far below: the verdict says above
    r = subprocess.run(tool + [str(f), "--paper-mnist", "90"], capture_output=True, text=True)
    expect("above", "5.63 points above (96.13..97.27 % against 89.5..90.5 %)" in r.stdout)
    # bad input: named, non-zero exit
    bad = Path(d) / "bad.json"
    bad.write_text("{not json")
    r = subprocess.run(tool + [str(bad)], capture_output=True, text=True)
    expect("bad json refused", r.returncode != 0 and "bad.json" in r.stderr)
    empty = Path(d) / "empty.json"
    empty.write_text('{"points": []}')
    r = subprocess.run(tool + [str(empty)], capture_output=True, text=True)
    expect("no points refused", r.returncode != 0 and "no points" in r.stderr)

if failures:
    sys.exit(f"{len(failures)} failure(s)")
print("headline_table: all checks passed")
