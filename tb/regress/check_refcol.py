#!/usr/bin/env python3
"""Issue 17 item 1 (prerequisites): tile.mapping = reference_column, in both run modes,
on a tiny configs/quick.json run (784-32-10 on 128 x 128 tiles: 7 + 1 tiles).

  * writes_per_device counts the devices that exist: one device per weight plus the
    reference cells of the rows in use (784 + 32 rows, one column block each), not two
    devices per weight (before: 2 x 25408 entries, half of them never written);
  * every one of them was programmed (the initial write, reference cells included):
    the mean writes per device is at least 1;
  * pulses_per_device counts every physical device: per tile the R x C weight devices
    and the R reference cells.

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
