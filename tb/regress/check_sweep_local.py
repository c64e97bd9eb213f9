#!/usr/bin/env python3
"""Regression for `memplast sweep` on the local backend (issue 14).

1. Resume: a 4-point sweep run one job at a time is killed (SIGKILL) after two runs
   completed; rerunning the same command runs only the missing points (the complete
   runs' summary.json files are not touched) and the results cover all four.
2. A failing point (an unreadable data folder) is recorded with its exit status and
   error; the sweep goes on, the other point completes, and the exit status is 3.
3. A spec naming an unknown configuration key is rejected before any run starts.

usage: check_sweep_local.py MEMPLAST_BIN SOURCE_DIR
"""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from regress_util import METRICS, TINY, sweep_summaries



def write_spec(path, base, vary, seeds=1, set_=None):
    spec = {"base": base, "set": dict(TINY, **(set_ or {})), "vary": vary,
            "seeds": {"count": seeds}, "metrics": METRICS}
    with open(path, "w") as f:
        json.dump(spec, f)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    base = os.path.join(src, "configs", "quick.json")
    tmp = tempfile.mkdtemp(prefix="sweep_local_")
    os.chdir(src)  # the runs read data/ relative to here

    # 1. kill midway, rerun
    spec = os.path.join(tmp, "resume.json")
    out = os.path.join(tmp, "resume")
    write_spec(spec, base, [{"key": "meta.m_star", "values": [0, 1, 2, 3]}])
    cmd = [binary, "sweep", spec, "--out", out, "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while len(sweep_summaries(out)) < 2:
        if proc.poll() is not None:
            sys.exit(f"sweep ended before it could be killed:\n{proc.stdout.read().decode()}")
        if time.time() > deadline:
            proc.kill()
            sys.exit("timeout waiting for two runs")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # the run in flight gets SIGTERM from the kernel (parent died)
    before = sweep_summaries(out)
    assert 2 <= len(before) < 4, f"killed too late: {sorted(before)}"
    print(f"killed after {len(before)} complete runs: {sorted(before)}")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log
    expect = f"{len(before)} already complete, {4 - len(before)} to run"
    assert expect in log, f"expected '{expect}' in:\n{log}"
    after = sweep_summaries(out)
    assert len(after) == 4, sorted(after)
    for run, ident in before.items():
        assert after[run] == ident, f"{run}/summary.json was rewritten on rerun"
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["point"] for r in rows] == [f"m_star-{m}" for m in range(4)], rows
    assert all(r["runs_complete"] == "1" and r["acc_n"] == "1" and r["acc_mean"] for r in rows), rows
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert results["runs"] == {"complete": 4, "failed": 0, "missing": 0}, results["runs"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)  # third time: nothing to do
    assert res.returncode == 0 and "4 already complete, 0 to run" in res.stderr, res.stderr
    print("resume: ok,", expect)

    # 2. a failing point does not stop the sweep
    spec = os.path.join(tmp, "fail.json")
    out = os.path.join(tmp, "fail")
    write_spec(spec, base, [{"key": "data.dir", "values": ["data", os.path.join(tmp, "no-such-data")]}], seeds=2)
    res = subprocess.run([binary, "sweep", spec, "--out", out, "--jobs", "2"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 3, (res.returncode, res.stdout, res.stderr)
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert results["runs"] == {"complete": 2, "failed": 2, "missing": 0}, results["runs"]
    fails = results["failures"]
    assert len(fails) == 2 and all(f["exit_status"] != 0 and "no-such-data" in f["error"] for f in fails), fails
    assert results["points"][0]["metrics"]["acc"]["n"] == 2, results["points"][0]
    assert "failed:" in res.stdout, res.stdout
    print("failing point: ok,", fails[0]["exit_status"], fails[0]["error"].splitlines()[-1])

    # 3. validation before any run
    spec = os.path.join(tmp, "bad.json")
    out = os.path.join(tmp, "bad")
    write_spec(spec, base, [{"key": "meta.mstar", "values": [1]}])
    res = subprocess.run([binary, "sweep", spec, "--out", out], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "unknown configuration key 'meta.mstar'" in res.stderr, res.stderr
    assert not os.path.exists(out), "a run folder was created for an invalid spec"
    print("validation: ok:", res.stderr.strip())
    subprocess.run(["rm", "-rf", tmp], check=True)


if __name__ == "__main__":
    main()
