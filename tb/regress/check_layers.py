#!/usr/bin/env python3
"""N-layer perceptrons (issue 19 item 2): configs/quick.json with train.layers =
[784, 256, 128, 10] (three weight layers; train.hidden back at its default, as the
contradiction check requires) in hardware mode, in functional mode and as the software
baseline (functional, ideal devices). Each run must finish "complete" (in hardware mode with the third layer's
tile built: the ledger names "layer2_t0" with energy spent), store three layer shapes in
state/state.json and a batch-norm set of three layers per task, and learn: after the
first task its MNIST accuracy on 1000 test samples is at least 0.75 (the quick two-layer
network reaches about 0.86; a binomial standard error at 0.86 on 1000 samples is 0.011, so
0.75 is ten of them below). memplast infer --mode hardware then evaluates the hardware
run's state on the model, within 0.05 of the accuracy training reported (the devices are
programmed anew, with their own noise).

    python3 tb/regress/check_layers.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from regress_util import fail, quick_train_cmd, run_or_fail  # noqa: E402

LAYERS = ["train.hidden=1024", "train.layers=[784,256,128,10]"]
CASES = [("hardware", "hardware", []), ("functional", "functional", []),
         ("baseline", "functional", ["train.device_effects=false"])]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="check_layers.") as tmp:
        accs = {}
        for label, mode, extra in CASES:
            out = os.path.join(tmp, label)
            run_or_fail(quick_train_cmd(binary, src, out, mode,
                                        LAYERS + ["trace.enable=false"] + extra), src)
            s = json.load(open(os.path.join(out, "summary.json")))
            if s.get("status") != "complete":
                fail(f"{label}: status {s.get('status')!r}")
            if s["config"]["train"]["layers"] != [784, 256, 128, 10]:
                fail(f"{label}: config echo train.layers = {s['config']['train']['layers']}")
            st = json.load(open(os.path.join(out, "state", "state.json")))
            if st["shapes"] != [[784, 256], [256, 128], [128, 10]]:
                fail(f"{label}: state shapes {st['shapes']}")
            if any(len(bn) != 3 for bn in st["batch_norms"]):
                fail(f"{label}: a batch-norm set without three layers")
            if mode == "hardware":
                spent = s["ledger"]["by_component_j"].get("layer2_t0", 0)
                if not spent > 0:
                    fail(f"{label}: the third layer's tile layer2_t0 spent {spent} J")
            acc = s["accuracy"]["after_task"][0]["accuracy"]["mnist"]
            if not acc >= 0.75:
                fail(f"{label}: MNIST accuracy after task 1 = {acc}")
            accs[label] = s["accuracy"]["after_task"][-1]["accuracy"]
            print(f"{label}: complete, MNIST after task 1 = {acc:.3f}")
        inf = os.path.join(tmp, "infer")
        r = subprocess.run([binary, "infer", "--state", os.path.join(tmp, "hardware", "state"),
                            "--mode", "hardware", "--out", inf], cwd=src, capture_output=True,
                           text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            fail("memplast infer --mode hardware on the 3-layer state failed")
        got = json.load(open(os.path.join(inf, "infer.json")))["accuracy"]
        for task, a in accs["hardware"].items():
            if abs(got[task] - a) > 0.05:
                fail(f"infer: {task} {got[task]} against {a} after training")
        print(f"infer (hardware): {got}")
    print("check_layers: ok")


if __name__ == "__main__":
    main()
