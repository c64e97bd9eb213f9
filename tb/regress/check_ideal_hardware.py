#!/usr/bin/env python3
"""Regression: the ideal-device path of the hardware mode (train.device_effects = false)
goes firmware -> meta_unit -> pv_ctrl -> tile like the non-ideal one, and an ideal
device lands in its verify band with exactly one calibrated pulse.

Two hardware runs of configs/quick.json with ideal devices:
  A: train.epochs = [0, 0]: only the initial programming (every device of every weight
     gets one program-and-verify loop) and the evaluation;
  B: the quick training.
Checked (counts from energy.csv, summed over the firmware phases: one ledger charge per
verify/SET/RESET event on a tile's programming port;
loops from writes_per_device.csv: the histogram of P&V loops per weight device):
  * A: loops = 2 x weights; every off-target device takes one pulse, and a weight has at
    most one device off its initial target, so 0 < pulses_A <= weights; verifies = loops
    + pulses (a loop is one verify, plus one pulse and the closing verify when needed);
  * B: the loops after the initial programming are the devices whose target changed,
    each with exactly one pulse: pulses_B - pulses_A == loops_B - 2 x weights; and each
    level change (ternary levels, one step at a time) changes one or two devices:
    level_changes <= loops_B - 2 x weights <= 2 x level_changes; no P&V failure;
  * B: meta_unit, pv_ctrl and tile energies > 0, simulated time > A's;
  * B: accuracies above bounds set from a measured run with margin (measured at this
    commit: mnist 84.3 % after task 1, fashion_mnist 77.0 % after task 2; bounds 80 %
    and 72 %; 1000 test samples give a binomial standard error of 1.2 to 1.3 points, so
    the margins are above 3 standard errors; unprogrammed or wrongly programmed tiles
    give about 10 %).

usage: check_ideal_hardware.py MEMPLAST_BIN SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

from regress_util import fail, quick_train_cmd


def run(binary, src, out, *extra):
    cmd = quick_train_cmd(binary, src, out, "hardware", ("train.device_effects=false",) + extra)
    subprocess.run(cmd, check=True, cwd=src, stdout=subprocess.DEVNULL)
    summary = json.load(open(os.path.join(out, "summary.json")))
    counts = {}
    energy = {}
    with open(os.path.join(out, "energy.csv")) as f:
        for row in csv.DictReader(f):
            key = (row["component"], row["operation"])  # all phases
            counts[key] = counts.get(key, 0) + int(row["count"])
            energy[row["component"]] = energy.get(row["component"], 0.0) + float(row["joules"])
    loops = 0
    devices = 0
    with open(os.path.join(out, "writes_per_device.csv")) as f:
        for row in csv.DictReader(f):  # histogram: P&V loops per device, number of devices
            loops += int(row["writes"]) * int(row["devices"])
            devices += int(row["devices"])
    # The tiles' programming-port entries (one charge per event, every tile).
    def phase(name):
        return sum(n for (comp, ph), n in counts.items() if ph == name)
    pulses = phase("prog_set") + phase("prog_reset")
    verifies = phase("prog_verify")
    return summary, energy, loops, devices, pulses, verifies


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        sa, _, loops_a, devices, pulses_a, ver_a = run(binary, src, os.path.join(tmp, "a"),
                                                       "train.epochs=[0,0]")
        weights = devices // 2
        print("check_ideal_hardware: A (initial programming): %d weights, %d loops, %d pulses, "
              "%d verifies" % (weights, loops_a, pulses_a, ver_a))
        if devices != 2 * weights or loops_a != devices:
            fail("A: %d loops over %d devices, expected one per device" % (loops_a, devices))
        if not 0 < pulses_a <= weights:
            fail("A: %d pulses for %d weights (one per off-target device expected)" %
                 (pulses_a, weights))
        if ver_a != loops_a + pulses_a:
            fail("A: %d verifies != loops %d + pulses %d" % (ver_a, loops_a, pulses_a))

        sb, eb, loops_b, devices_b, pulses_b, ver_b = run(binary, src, os.path.join(tmp, "b"))
        changes = sb["level_changes"]
        later = loops_b - devices_b
        print("check_ideal_hardware: B (training): %d level changes, %d loops after the "
              "initial programming, %d pulses after it, %d verifies, failures %d" %
              (changes, later, pulses_b - pulses_a, ver_b, sb["pv_failures"]))
        if devices_b != devices:
            fail("B has %d devices, A %d" % (devices_b, devices))
        if pulses_b - pulses_a != later:
            fail("B: %d pulses after the initial programming for %d P&V loops (one each "
                 "expected)" % (pulses_b - pulses_a, later))
        if not changes <= later <= 2 * changes or changes == 0:
            fail("B: %d device loops for %d level changes" % (later, changes))
        if ver_b != loops_b + pulses_b:
            fail("B: %d verifies != loops %d + pulses %d" % (ver_b, loops_b, pulses_b))
        if sb["pv_failures"] != 0:
            fail("B: %d P&V failures" % sb["pv_failures"])
        for comp in ("meta_unit", "host"):
            if not eb.get(comp, 0) > 0:
                fail("B: no %s energy in energy.csv" % comp)
        if not sb["energy_j"]["by_component"].get("tile", 0) > 0:
            fail("B: no tile energy")
        if not sb["simulated_time_s"] > sa["simulated_time_s"] > 0:
            fail("B: simulated time %g, A %g" % (sb["simulated_time_s"], sa["simulated_time_s"]))
        after = sb["accuracy"]["after_task"]
        bounds = [("mnist", 0, 0.80), ("fashion_mnist", 1, 0.72)]
        for task, i, lo in bounds:
            a = after[i]["accuracy"][task]
            print("check_ideal_hardware: %s after task %d: %.3f (bound %.2f)" % (task, i + 1, a, lo))
            if a < lo:
                fail("%s after task %d: %.3f below %.2f" % (task, i + 1, a, lo))
    print("check_ideal_hardware: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
