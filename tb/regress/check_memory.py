#!/usr/bin/env python3
"""Regression (issue 15 item 4): a configuration that needs more memory than the process
may use is refused up front, with the estimate.

Under an address-space limit of 2 GiB (RLIMIT_AS, as `ulimit -v` sets it):
* train.hidden=8192 (512 tiles of 128 x 128, 16.8 M devices) is refused at once: exit
  status 2, the message gives the estimate, its parts and the limit with its source,
  and no output folder is created;
* the tiny configuration of regress_resume passes the check and trains (stopped after
  one batch by MEMPLAST_STOP_AFTER_BATCHES: exit status 3).

usage: check_memory.py MEMPLAST_BIN SOURCE_DIR
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

LIMIT = 2 * 1024 ** 3


def fail(msg):
    print("check_memory: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run(binary, src, out, sets, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    cmd = [binary, "train", "--config", "configs/quick.json", "--progress", "none",
           "--mode", "functional", "--out", out, "--set", "trace.enable=false"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.time()
    p = subprocess.run(cmd, cwd=src, env=env, preexec_fn=limited, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    return p, time.time() - t0


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "big")
        p, dt = run(binary, src, out, ["train.hidden=8192"])
        if p.returncode != 2:
            fail("hidden 8192 under 2 GiB: exit status %d, expected 2: %s" %
                 (p.returncode, p.stderr))
        for want in ("estimated", "device arrays", "RLIMIT_AS", "2.00 GiB"):
            if want not in p.stderr:
                fail("the refusal does not say '%s': %s" % (want, p.stderr))
        if os.path.exists(out):
            fail("the refused run created its output folder")
        print("check_memory: refused in %.2f s: %s" % (dt, p.stderr.strip()))

        out = os.path.join(tmp, "tiny")
        p, dt = run(binary, src, out, ["train.hidden=64", "train.train_samples=600",
                                       "train.test_samples=200"],
                    {"MEMPLAST_STOP_AFTER_BATCHES": "1"})
        if p.returncode != 3:
            fail("the tiny run under 2 GiB: exit status %d, expected 3: %s" %
                 (p.returncode, p.stderr))
        print("check_memory: the tiny configuration runs under the same limit")
    print("check_memory: passed")


if __name__ == "__main__":
    main()
