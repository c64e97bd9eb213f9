#!/usr/bin/env python3
"""Issue 17 item 1: the firmware's refresh against relaxation (train.refresh_every_epochs),
in both run modes, on a tiny configs/quick.json run (784-32-10, 100 samples per task,
one epoch per task, so two refreshes with train.refresh_every_epochs = 1), for both
mappings:

  * summary.json "refresh": count = 2 (one per epoch), its simulated time > 0, and the
    ledger's phase "refresh" has energy (verify reads at least) and time;
  * every device in use is re-verified by each refresh: a refresh is a program-and-verify
    of every device (writes_per_device counts P&V operations), so the least-written
    device has at least 1 (the initial write) + 2 writes;
  * with a relaxation three times the default (device.relax_scale = 3: sigma 30 % of
    g_max against bands of +-25 % of the level spacing), cells leave their band and the
    refresh pulses them: refresh.pulses > 0;
  * with refresh off (the default) the summary says count 0 and the phase is absent.

usage: check_refresh.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import sys
import tempfile

from regress_util import fail, quick_train_cmd, run_or_fail

SETS = ("train.hidden=32", "train.train_samples=100", "train.test_samples=50",
        "train.epochs=[1,1]", "trace.enable=false", "device.relax_scale=3")


def run(binary, src, out, mode, extra):
    run_or_fail(quick_train_cmd(binary, src, out, mode, SETS + tuple(extra)), src)
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        for mapping in ("differential", "reference_column"):
            for mode in ("hardware", "functional"):
                tag = "%s/%s" % (mapping, mode)
                m = "tile.mapping=" + mapping
                s = run(binary, src, os.path.join(tmp, tag.replace("/", "-")), mode,
                        (m, "train.refresh_every_epochs=1"))
                r = s["refresh"]
                e = s["ledger"]["by_phase_j"].get("refresh", 0.0)
                t = s["time_s"]["by_phase"].get("refresh", 0.0)
                w = s["writes_per_device"]
                print("%s: refresh %s, energy %.3g J, time %.3g s; writes per device"
                      " p99 %s, mean %.3f" % (tag, r, e, t, w["p99"], w["mean"]))
                if r["count"] != 2:
                    fail("%s: %d refreshes, expected 2 (one per epoch)" % (tag, r["count"]))
                if not (r["simulated_s"] > 0 and e > 0 and t > 0):
                    fail("%s: refresh cost nothing (time %r s, phase energy %r J, phase time %r s)"
                         % (tag, r["simulated_s"], e, t))
                if r["pulses"] <= 0:
                    fail("%s: no cell was re-programmed by the refresh with relax_scale = 3"
                         % tag)
                # Least-written device: the histogram's lowest value.
                with open(os.path.join(tmp, tag.replace("/", "-"), "writes_per_device.csv")) as f:
                    rows = [l.strip().split(",") for l in f if l[0].isdigit()]
                least = min(int(v) for v, n in rows if int(n) > 0)
                print("%s: least-written device: %d writes" % (tag, least))
                if least < 3:
                    fail("%s: a device was written %d times: the refreshes did not re-verify "
                         "every device (expected >= 1 + 2)" % (tag, least))
        s = run(binary, src, os.path.join(tmp, "off"), "functional", ())
        if s["refresh"]["count"] != 0 or "refresh" in s["ledger"]["by_phase_j"]:
            fail("refresh off: %s, phases %s" % (s["refresh"], list(s["ledger"]["by_phase_j"])))
    print("check_refresh: OK")


if __name__ == "__main__":
    main()
