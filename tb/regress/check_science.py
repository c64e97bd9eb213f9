#!/usr/bin/env python3
"""Science regression (issue 12 item 6b): the paper's effect on a budget of about a
minute per run. configs/science.json (functional mode, device effects on: the paper's
network at half width, 20 000 samples per task, 5 epochs per task, learning rate 8x the
paper's so that the hidden weights grow enough to consolidate in that budget) is trained
twice, MNIST then Fashion-MNIST:
  * with metaplasticity (m* = 3, the paper's): MNIST after task 2 stays within 5 points
    of its accuracy after task 1, which is at least 90 %, and Fashion-MNIST reaches 75 %;
  * with m* = 0: MNIST after task 2 drops by at least 30 points (catastrophic
    forgetting).
Thresholds from measured runs (seeds 1, 2, 3; docs/results.md "Science regression"):
m* = 3: MNIST 95.65/96.15/95.65 % after task 1, drop -0.15..+0.35 points, Fashion-MNIST
80.65..81.2 %; m* = 0: drop 77.8..83.3 points. 2000 test samples give a binomial standard
error of 0.5 point at 95 % and 0.9 point at 80 %: every margin is above 5 standard
errors, and a meta rule that ignores m* (which behaves as m* = 0) fails the first check
by more than 40 points.

usage: check_science.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

from regress_util import fail, run_or_fail


def train(binary, src, out, m_star):
    cmd = [binary, "train", "--config", os.path.join(src, "configs", "science.json"),
           "--progress", "none", "--out", out, "--set", "meta.m_star=%g" % m_star]
    run_or_fail(cmd, src)
    after = json.load(open(os.path.join(out, "summary.json")))["accuracy"]["after_task"]
    return after[0]["accuracy"]["mnist"], after[1]["accuracy"]["mnist"], \
        after[1]["accuracy"]["fashion_mnist"]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        m1, m2, f2 = train(binary, src, os.path.join(tmp, "meta"), 3)
        print("check_science: m* = 3: MNIST %.4f after task 1, %.4f after task 2 (drop %.1f "
              "points); Fashion-MNIST %.4f" % (m1, m2, 100 * (m1 - m2), f2))
        n1, n2, g2 = train(binary, src, os.path.join(tmp, "nometa"), 0)
        print("check_science: m* = 0: MNIST %.4f after task 1, %.4f after task 2 (drop %.1f "
              "points); Fashion-MNIST %.4f" % (n1, n2, 100 * (n1 - n2), g2))
    if m1 < 0.90:
        fail("m* = 3: MNIST after task 1 %.4f below 0.90" % m1)
    if m1 - m2 > 0.05:
        fail("m* = 3: MNIST dropped %.1f points after Fashion-MNIST (at most 5 allowed): "
             "metaplasticity did not protect task 1" % (100 * (m1 - m2)))
    if f2 < 0.75:
        fail("m* = 3: Fashion-MNIST after task 2 %.4f below 0.75" % f2)
    if n1 - n2 < 0.30:
        fail("m* = 0: MNIST dropped only %.1f points after Fashion-MNIST (at least 30 "
             "expected): no catastrophic forgetting without metaplasticity" % (100 * (n1 - n2)))
    print("check_science: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
