#!/usr/bin/env python3
"""Regression: run `memplast train --config configs/quick.json --mode hardware --out DIR`
and check that summary.json has every key architecture.md lists, with sane ranges, and
that the other output files exist. Python 3 standard library only.

Usage: check_summary.py MEMPLAST_BIN SOURCE_DIR [--mode hardware] [extra --set args]
"""
import json
import math
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("check_summary: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def number(d, path):
    cur = d
    for k in path.split("."):
        if not isinstance(cur, dict) or k not in cur:
            fail("summary.json has no key '%s'" % path)
        cur = cur[k]
    if not isinstance(cur, (int, float)) or isinstance(cur, bool) or not math.isfinite(cur):
        fail("summary.json '%s' is not a finite number: %r" % (path, cur))
    return cur


def main():
    if len(sys.argv) < 3:
        fail("usage: check_summary.py MEMPLAST_BIN SOURCE_DIR [--mode MODE] [--set k=v ...]")
    binary, src = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    mode = "hardware"
    if "--mode" in extra:
        mode = extra[extra.index("--mode") + 1]
    else:
        extra = ["--mode", mode] + extra
    with tempfile.TemporaryDirectory(prefix="memplast_regress_") as out:
        cmd = [binary, "train", "--config", os.path.join(src, "configs", "quick.json"),
               "--out", out] + extra
        print("check_summary: " + " ".join(cmd))
        r = subprocess.run(cmd, cwd=src)
        if r.returncode != 0:
            fail("memplast train exited with %d" % r.returncode)
        for f in ("summary.json", "accuracy.csv", "energy.csv", "writes_per_device.csv"):
            if not os.path.isfile(os.path.join(out, f)):
                fail("missing output file " + f)
        with open(os.path.join(out, "summary.json")) as fh:
            s = json.load(fh)

    # Layout version (docs/system.md) and the program version, from CMake alone.
    if s.get("schema_version") != 1:
        fail("summary.json schema_version %r, expected 1" % s.get("schema_version"))
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    if len(ver) != 2 or s.get("memplast_version") != ver[1]:
        fail("summary.json memplast_version %r, `memplast --version` prints %r"
             % (s.get("memplast_version"), " ".join(ver)))
    if s.get("mode") != mode:
        fail("summary mode %r, expected %r" % (s.get("mode"), mode))
    if not isinstance(s.get("config"), dict) or "train" not in s["config"]:
        fail("summary.json has no resolved configuration ('config')")
    number(s, "seed")
    after = s.get("accuracy", {}).get("after_task")
    tasks = ["mnist", "fashion_mnist"]
    if not isinstance(after, list) or len(after) != len(tasks):
        fail("accuracy.after_task should list %d tasks: %r" % (len(tasks), after))
    for i, entry in enumerate(after):
        if entry.get("task") != tasks[i]:
            fail("after_task[%d].task = %r, expected %r" % (i, entry.get("task"), tasks[i]))
        acc = entry.get("accuracy", {})
        if sorted(acc) != sorted(tasks[: i + 1]):
            fail("after_task[%d].accuracy keys %r, expected %r" % (i, sorted(acc), tasks[: i + 1]))
        for t, a in acc.items():
            if not (0.0 <= a <= 1.0):
                fail("accuracy %s = %r outside [0, 1]" % (t, a))
    # Learning happened: the task just trained is well above chance (10 classes). quick.json
    # trains 3000 samples x 2 epochs; functional runs reach > 0.8 on MNIST.
    if after[0]["accuracy"]["mnist"] < 0.5:
        fail("MNIST accuracy after task 1 = %.3f < 0.5" % after[0]["accuracy"]["mnist"])
    if after[1]["accuracy"]["fashion_mnist"] < 0.4:
        fail("Fashion-MNIST accuracy after task 2 = %.3f < 0.4" % after[1]["accuracy"]["fashion_mnist"])

    wall = number(s, "wall_time_s")
    sim = number(s, "simulated_time_s")
    sps = number(s, "samples_per_second")
    if not (0 < wall < 3600):
        fail("wall_time_s = %r" % wall)
    if mode == "hardware" and not (1e-6 < sim < 1e4):
        fail("simulated_time_s = %r outside (1 us, 1e4 s)" % sim)
    if sps <= 0:
        fail("samples_per_second = %r" % sps)
    e_tot = number(s, "energy_j.total")
    by = s.get("energy_j", {}).get("by_component")
    if not isinstance(by, dict) or not by:
        fail("energy_j.by_component missing or empty")
    if mode == "hardware":
        # Programming energy is the tiles' (their programming port), not pv_ctrl's.
        for comp in ("tile", "meta_unit", "host"):
            if by.get(comp, 0) <= 0:
                fail("energy_j.by_component.%s = %r, expected > 0" % (comp, by.get(comp)))
    if not (0 < e_tot < 1e3):
        fail("energy_j.total = %r" % e_tot)
    if abs(sum(by.values()) - e_tot) > 1e-9 * max(1.0, e_tot) + 1e-12:
        fail("energy_j.by_component sums to %r, total is %r" % (sum(by.values()), e_tot))
    wmax = number(s, "writes_per_device.max")
    wp99 = number(s, "writes_per_device.p99")
    wmean = number(s, "writes_per_device.mean")
    if not (0 <= wmean <= wmax and wp99 <= wmax):
        fail("writes_per_device mean %r p99 %r max %r inconsistent" % (wmean, wp99, wmax))
    if wmax < 1:
        fail("writes_per_device.max = %r: nothing was ever programmed" % wmax)
    budget = number(s, "config.device.endurance_median")
    if wmax >= budget:
        fail("writes_per_device.max = %r reaches the endurance budget %r" % (wmax, budget))
    hid = number(s, "memory_bits.hidden")
    sto = number(s, "memory_bits.stored")
    tot = number(s, "memory_bits.total")
    hidden = s["config"]["train"]["hidden"]
    n_w = 784 * hidden + hidden * 10
    if hid != n_w * s["config"]["meta"]["hidden_bits"]:
        fail("memory_bits.hidden = %r, expected %d weights x %d bits" % (hid, n_w, s["config"]["meta"]["hidden_bits"]))
    if not (0 < sto <= hid and tot >= hid + sto):
        fail("memory_bits stored %r total %r inconsistent with hidden %r" % (sto, tot, hid))
    print("check_summary: OK (%s mode: MNIST %.3f -> %.3f, Fashion %.3f; %.1f s wall, %.4f s simulated, %.3g J)"
          % (mode, after[0]["accuracy"]["mnist"], after[1]["accuracy"]["mnist"],
             after[1]["accuracy"]["fashion_mnist"], wall, sim, e_tot))


if __name__ == "__main__":
    main()
