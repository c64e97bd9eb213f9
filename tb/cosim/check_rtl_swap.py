#!/usr/bin/env python3
"""Issue 13 item 4(b): a short hardware-mode training (configs/quick.json, reduced to
keep CI time down) with each Verilated RTL block swapped in (rtl.meta = true, rtl.pv =
true, and both) gives the same summary.json as the C++ models.

Compared: every result field of summary.json, as scripts/refactor_check compares them
(accuracies after each task and epoch, level_changes, writes_per_device and
pulses_per_device, pv_failures, faults, energy, simulated time, the time ledger, memory);
not the wall-clock fields, the version or the echoed configuration. They must be
identical, not close: the RTL is bit-exact with the C++ cores (tests cosim_meta_update,
cosim_pv_fsm), and the transactors add no simulated time (docs/cosim.md: the meta_unit's
cycle model and the tile's event latencies are unchanged; pv_fsm decides in the cycle of
a device's ack, and its clock edges take no simulated time of their own). The script
prints the wall time of each run.

usage: check_rtl_swap.py MEMPLAST_BIN SOURCE_DIR [--full]
  --full: configs/quick.json unreduced, the C++ models and both RTL blocks only (the
          docs/cosim.md wall-time figures).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

REDUCED = ("train.train_samples=600", "train.test_samples=300", "train.epochs=[1,1]")
DROP = {"config", "config_source", "memplast_version", "wall_time_s", "train_wall_time_s",
        "samples_per_second", "schema_version", "timing", "isa", "status"}
NAMED = ("accuracy", "level_changes", "writes_per_device", "pulses_per_device", "pv_failures",
         "simulated_time_s")


def fail(msg):
    print("check_rtl_swap: FAIL: %s" % msg, file=sys.stderr)
    sys.exit(1)


def train(binary, src, out, sets):
    cmd = [binary, "train", "--config", os.path.join(src, "configs", "quick.json"), "--mode",
           "hardware", "--progress", "none", "--out", out, "--set", "trace.enable=false"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        fail("run failed: " + " ".join(cmd))
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f), wall


def diffs(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append("%s.%s: only in one" % (path, k))
            else:
                out += diffs(a[k], b[k], "%s.%s" % (path, k))
        return out
    return [] if a == b else ["%s: %r != %r" % (path, a, b)]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    full = "--full" in sys.argv[3:]
    base = () if full else REDUCED
    runs = [("C++ models", ()), ("rtl.meta", ("rtl.meta=true",)), ("rtl.pv", ("rtl.pv=true",)),
            ("rtl.meta + rtl.pv", ("rtl.meta=true", "rtl.pv=true"))]
    if full:  # the wall-time comparison of docs/cosim.md: both blocks against the C++ models
        runs = [runs[0], runs[3]]
    print("configs/quick.json%s, hardware mode" % ("" if full else " with " + " ".join(base)))
    with tempfile.TemporaryDirectory() as tmp:
        ref = None
        ref_wall = 0.0
        for i, (label, sets) in enumerate(runs):
            s, wall = train(binary, src, os.path.join(tmp, str(i)), base + sets)
            r = {k: v for k, v in s.items() if k not in DROP}
            if ref is None:
                ref, ref_wall = r, wall
                acc = r["accuracy"]["after_task"][-1]["accuracy"]
                print("%-18s wall %6.1f s; accuracy after the last task %s, level_changes %d, "
                      "device writes %.0f, pulses %.0f, simulated %.9g s"
                      % (label, wall, json.dumps(acc, sort_keys=True), r["level_changes"],
                         r["writes_per_device"]["mean"] * r["writes_per_device"]["devices"],
                         r["pulses_per_device"]["mean"] * r["pulses_per_device"]["devices"],
                         r["simulated_time_s"]))
                if r["level_changes"] <= 0:
                    fail("the reference run changed no level: nothing would be compared")
                continue
            d = diffs(ref, r)
            print("%-18s wall %6.1f s (%.2f x the C++ models); %s" %
                  (label, wall, wall / ref_wall,
                   "summary.json identical (%s and every other result field)" % ", ".join(NAMED)
                   if not d else "%d fields differ" % len(d)))
            if d:
                for line in d[:20]:
                    print("  " + line, file=sys.stderr)
                fail("%s: summary.json differs from the C++ models'" % label)


if __name__ == "__main__":
    main()
