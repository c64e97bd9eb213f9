#!/usr/bin/env python3
"""Issue 17 item 1 (prerequisites): tile.mapping = reference_column, in both run modes,
on a tiny configs/quick.json run (784-32-10 on 128 x 128 tiles: 7 + 1 tiles).

  * writes_per_device counts the devices that exist: one device per weight plus the
    reference cells of the rows in use (784 + 32 rows, one column block each), not two
    devices per weight (before: 2 x 25408 entries, half of them never written);
  * every one of them was programmed (the initial write, reference cells included):
    the mean writes per device is at least 1;
  * pulses_per_device counts every physical device: per tile the R x C weight devices
    and the R reference cells;
  * the initial weights are programmed (issue 17 item 1): the weight devices start as
    fabricated (g_min, the lowest level) and every weight above the lowest level needs
    at least one SET pulse. A run with no training (train.epochs = [0, 0]) does only the
    initial programming: hidden weights uniform in +-0.6 and ternary thresholds at +-0.5
    put 11/12 of the weights above the lowest level (binomial sd of that share 0.0017
    over 25408 weights), so at least 0.85 x 25408 devices must have been pulsed
    (histograms.json pulses_per_device). Before, the weights started at the middle level
    (g_ref) and passed their first verify unpulsed: only the 2/12 at the outer levels
    and the 816 reference cells were pulsed (measured: 5080 devices, 0.200 per weight,
    against 24108, 0.949, now).

usage: check_refcol.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import sys
import tempfile

from regress_util import fail, quick_train_cmd, run_or_fail

HIDDEN = 32
SETS = ("tile.mapping=reference_column", "train.hidden=%d" % HIDDEN, "train.train_samples=100",
        "train.test_samples=50", "train.epochs=[1,1]", "trace.enable=false")


def main():
    binary, src = sys.argv[1], sys.argv[2]
    R = C = 128
    layers = [(784, HIDDEN), (HIDDEN, 10)]
    weights = sum(i * o for i, o in layers)
    # Reference cells in use: every layer row, once per column block.
    ref_cells = sum(i * ((o + C - 1) // C) for i, o in layers)
    tiles = sum(((i + R - 1) // R) * ((o + C - 1) // C) for i, o in layers)
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("hardware", "functional"):
            out = os.path.join(tmp, mode + "-init")
            sets0 = SETS[:-2] + ("train.epochs=[0,0]", "trace.enable=false")
            run_or_fail(quick_train_cmd(binary, src, out, mode, sets0), src)
            with open(os.path.join(out, "histograms.json")) as f:
                h = json.load(f)["pulses_per_device"]
            pulsed = sum(n for v, n in zip(h["values"], h["devices"]) if v >= 1)
            print("%s, initial programming only: %d devices pulsed, %.3f per weight"
                  % (mode, pulsed, pulsed / weights))
            if not pulsed >= 0.85 * weights:
                fail("%s: the initial programming pulsed %d devices (< 0.85 x %d weights): the "
                     "initial weights were not programmed from the as-fabricated state"
                     % (mode, pulsed, weights))
            out = os.path.join(tmp, mode)
            run_or_fail(quick_train_cmd(binary, src, out, mode, SETS), src)
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            w = s["writes_per_device"]
            p = s["pulses_per_device"]
            print("%s: writes_per_device %s, pulses_per_device %s" % (mode, w, p))
            if w["devices"] != weights + ref_cells:
                fail("%s: writes_per_device counts %d devices, expected %d weights + %d "
                     "reference cells = %d" % (mode, w["devices"], weights, ref_cells,
                                               weights + ref_cells))
            if p["devices"] != tiles * (R * C + R):
                fail("%s: pulses_per_device counts %d devices, expected %d tiles x (%d + %d)"
                     % (mode, p["devices"], tiles, R * C, R))
            # Every device in use was programmed at least once (the initial write):
            # the mean is at least 1.
            if not w["mean"] >= 1.0:
                fail("%s: writes_per_device mean %r < 1: some device was never programmed"
                     % (mode, w["mean"]))
    print("check_refcol: OK (%d weights + %d reference cells, %d tiles)"
          % (weights, ref_cells, tiles))


if __name__ == "__main__":
    main()
