#!/usr/bin/env python3
"""Regression: `memplast train` (quick, functional) writes a state; `memplast infer`
re-programs it into fresh devices and evaluates it. The accuracies must be close to
the ones the training run measured (the devices are programmed anew, so their
conductances and read noise differ: within 5 points, 1000 test samples give a binomial
standard error of at most 1.6 points), and a missing or corrupt state must be a clear
error naming the file.

usage: check_infer.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("check_infer: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        train_out = os.path.join(tmp, "train")
        subprocess.run([binary, "train", "--config", os.path.join(src, "configs/quick.json"),
                        "--mode", "functional", "--progress", "none", "--out", train_out],
                       check=True, cwd=src)
        summary = json.load(open(os.path.join(train_out, "summary.json")))
        trained = summary["accuracy"]["after_task"][-1]["accuracy"]
        infer_out = os.path.join(tmp, "infer")
        subprocess.run([binary, "infer", "--state", os.path.join(train_out, "state"),
                        "--out", infer_out], check=True, cwd=src)
        res = json.load(open(os.path.join(infer_out, "infer.json")))
        for task, acc in trained.items():
            got = res["accuracy"].get(task)
            if got is None:
                fail("infer.json lacks task %s" % task)
            if abs(got - acc) > 0.05:
                fail("%s: infer %.4f vs training's %.4f" % (task, got, acc))
            print("check_infer: %s train %.4f infer %.4f" % (task, acc, got))
        # A corrupt state: truncated weights file -> non-zero exit naming the file.
        w = os.path.join(train_out, "state", "hidden_layer1.f32")
        with open(w, "r+b") as f:
            f.truncate(100)
        p = subprocess.run([binary, "infer", "--state", os.path.join(train_out, "state"),
                            "--out", infer_out], cwd=src, capture_output=True, text=True)
        if p.returncode == 0 or "hidden_layer1.f32" not in p.stderr:
            fail("truncated state not reported (rc %d): %s" % (p.returncode, p.stderr))
        print("check_infer: truncated state rejected: " + p.stderr.strip())
    print("check_infer: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
