"""Helpers the regression scripts of tb/regress share (imported from the script's own
folder, which Python puts first on sys.path)."""
import json
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

# Wall-clock keys of summary.json: they differ between any two runs.
WALL_KEYS = ("wall_time_s", "train_wall_time_s", "samples_per_second")


def strip_run_keys(s, drop):
    """A parsed summary.json or state.json without its wall-clock keys, and with
    drop(d) applied to every dict in it (it removes the setting under comparison
    wherever the configuration is echoed)."""
    for k in WALL_KEYS:
        s.pop(k, None)

    def walk(v):
        if isinstance(v, dict):
            drop(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(s)
    return s


def load_run_file(path, rel, drop):
    """A run folder's file `rel` in a form to compare bit for bit between two runs that
    differ only in a speed setting: summary.json and state.json through strip_run_keys,
    accuracy.csv without its wall_time_s column (its last), any other file as bytes."""
    with open(path, "rb") as fh:
        data = fh.read()
    if rel == "summary.json" or rel.endswith("state.json"):
        return strip_run_keys(json.loads(data), drop)
    if rel == "accuracy.csv":
        lines = data.decode().splitlines()
        if not lines or lines[0].split(",")[-1] != "wall_time_s":
            fail("accuracy.csv: expected wall_time_s as the last column")
        return [",".join(l.split(",")[:-1]) for l in lines]
    return data


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
