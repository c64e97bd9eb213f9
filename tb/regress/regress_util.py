"""Helpers the regression scripts of tb/regress share (imported from the script's own
folder, which Python puts first on sys.path)."""
import os
import subprocess
import sys


def fail(msg):
    """Report a failure under the running script's name and exit with status 1."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print("%s: FAIL: %s" % (name, msg), file=sys.stderr)
    sys.exit(1)


def quick_train_cmd(binary, src, out, mode, sets=(), progress="none"):
    """`memplast train` on configs/quick.json in `mode`, writing to `out`, with each of
    `sets` as a --set override."""
    cmd = [binary, "train", "--config", os.path.join(src, "configs", "quick.json"), "--mode",
           mode, "--progress", progress, "--out", out]
    for s in sets:
        cmd += ["--set", s]
    return cmd

def run_or_fail(cmd, src):
    """Run cmd in src with its output captured; on a non-zero exit print the output and
    fail naming the command."""
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        fail("run failed: " + " ".join(cmd))


# The sweep tests' runs: tiny functional trainings, and the metrics their sweeps collect.
TINY = {"train.mode": "functional", "train.hidden": 32, "train.train_samples": 200,
        "train.test_samples": 100, "train.epochs": [1, 1]}
METRICS = {"acc": "accuracy.after_task[-1].accuracy.mnist", "energy": "energy_j.total"}


def sweep_summaries(out):
    """The runs of a sweep in `out` that wrote a summary.json: run folder (relative to
    `out`) -> (inode, modification time), to tell which runs a rerun touched."""
    found = {}
    for root, _dirs, files in os.walk(os.path.join(out, "points")):
        if "summary.json" in files:
            st = os.stat(os.path.join(root, "summary.json"))
            found[os.path.relpath(root, out)] = (st.st_ino, st.st_mtime_ns)
    return found


def expect_rejected(what, corrupted, check, error):
    """The checks can fail: `check(bad)` must raise `error` for each (label, bad) of
    `corrupted`; otherwise fail naming the corruption the checks accepted."""
    for label, bad in corrupted:
        try:
            check(bad)
        except error as e:
            print("  rejected as it must be: %s (%s)" % (label, str(e)[:100]))
            continue
        fail("the checks accepted a corrupted %s: %s" % (what, label))
