#!/usr/bin/env python3
"""Hardware mode beyond the 64 tiles of the fixed map (issue 19): configs/quick.json on
reduced data (400 training and 300 test samples per task, one epoch each) with

  * tiles of 64 x 64 and hidden width 1024 (13 x 16 + 16 = 224 tiles, the first tile
    placement), and
  * hidden width 2048 on 64 x 64 tiles (13 x 32 + 32 = 448, the second placement),

each must finish with status "complete", build exactly the tiles it needs (the energy
ledger names one component per tile module, "layer<l>_t<k>", and every one of them must
have spent energy: a tile the address map never reached spends none), and learn: after
the first task its MNIST accuracy on 300 test samples is at least 0.2 (chance is 0.1: P(X >= 60) for
X ~ B(300, 0.1) is 1.7e-7).

    python3 tb/regress/check_scale.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from regress_util import fail, quick_train_cmd, run_or_fail  # noqa: E402

REDUCED = ["train.train_samples=400", "train.test_samples=300", "train.epochs=[1,1]",
           "trace.enable=false"]
# (label, hidden, tile rows = cols, tiles needed)
CASES = [("tiles64_h1024", 1024, 64, 13 * 16 + 16), ("tiles64_h2048", 2048, 64, 13 * 32 + 32)]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="check_scale.") as tmp:
        for label, hidden, rc, tiles in CASES:
            out = os.path.join(tmp, label)
            sets = REDUCED + [f"train.hidden={hidden}", f"tile.rows={rc}", f"tile.cols={rc}"]
            run_or_fail(quick_train_cmd(binary, src, out, "hardware", sets), src)
            s = json.load(open(os.path.join(out, "summary.json")))
            if s.get("status") != "complete":
                fail(f"{label}: status {s.get('status')!r}")
            comps = s["ledger"]["by_component_j"]
            spent = {k: v for k, v in comps.items() if re.fullmatch(r"layer\d+_t\d+", k)}
            if len(spent) != tiles:
                fail(f"{label}: {len(spent)} tile modules in the ledger, expected {tiles}")
            idle = sorted(k for k, v in spent.items() if not v > 0)
            if idle:
                fail(f"{label}: {len(idle)} tiles spent no energy, e.g. {idle[:3]}")
            acc = s["accuracy"]["after_task"][0]["accuracy"]["mnist"]
            if not acc >= 0.2:
                fail(f"{label}: MNIST accuracy after task 1 = {acc} (chance 0.1)")
            print(f"{label}: {tiles} tiles, complete, MNIST after task 1 = {acc:.3f}")
    print("check_scale: ok")


if __name__ == "__main__":
    main()
