#!/usr/bin/env python3
"""Regression for `memplast sweep --backend slurm` against a real Slurm cluster (issue 14).

The cluster is the single-node one of scripts/slurm_local (Debian's slurm-wlm and munge:
munged, slurmctld and slurmd on localhost). This test starts it, and stops it afterwards
unless it was already up before the test.

1. A 3-point sweep (tiny functional runs, one seed) is submitted as a job array: two
   points complete, the third (an unreadable data folder) fails. The failure is recorded
   with its exit status and error, the sweep goes on and exits with status 3. Every
   complete run's summary.json is checked (status, mode, the point's m*, seed, samples,
   accuracies), its exit record names its array task, and scontrol reports the array's
   tasks COMPLETED, COMPLETED, FAILED.
2. Resume: one complete run's summary.json is removed; rerunning the same command (two
   runs in one array task, --chunk 2) reruns only that run and the failed one; the other
   complete run's summary.json is not touched.

Without Slurm (no cluster up and scripts/slurm_local start fails: not root and no
password-less sudo, packages not installable, daemons not starting) the test is skipped
(exit 77) with the reason, except under CI=true, where that is a failure.

usage: check_sweep_slurm.py MEMPLAST_BIN SOURCE_DIR
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from regress_util import METRICS, TINY, sweep_summaries

SKIP = 77
SEED = 7


def unavailable(why):
    if os.environ.get("CI") == "true":
        sys.exit(f"FAIL: Slurm is required under CI=true: {why}")
    print(f"SKIP: {why} (scripts/slurm_local start brings up a local cluster; needs root)")
    sys.exit(SKIP)


def slurm_local(src, action):
    cmd = [os.path.join(src, "scripts", "slurm_local"), action]
    if os.geteuid() != 0 and action != "status" and shutil.which("sudo"):
        cmd = ["sudo", "-n"] + cmd  # the daemons need root; never prompts
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def run(cmd, timeout=600):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(cmd)}  -> exit {res.returncode}")
    print(res.stdout + res.stderr)
    return res


def check_results(out, expect_points):
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert results["runs"] == {"complete": 2, "failed": 1, "missing": 0}, results["runs"]
    fails = results["failures"]
    assert len(fails) == 1, fails
    assert fails[0]["exit_status"] != 0 and "no-such-data" in fails[0]["error"], fails
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["point"] for r in rows] == expect_points, [r["point"] for r in rows]
    for r in rows[:2]:
        assert r["runs_complete"] == "1" and r["acc_n"] == "1", r
        assert 0.0 <= float(r["acc_mean"]) <= 1.0 and float(r["energy_mean"]) > 0, r
    assert rows[2]["runs_complete"] == "0", rows[2]
    return results


def check_run(run_dir, m_star):
    """A complete run: its summary, and the exit record its Slurm array task wrote."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        s = json.load(f)
    assert s["status"] == "complete", (run_dir, s["status"])
    assert s["mode"] == "functional", (run_dir, s["mode"])
    assert s["seed"] == SEED, (run_dir, s["seed"])
    assert s["config"]["meta"]["m_star"] == m_star, (run_dir, s["config"]["meta"])
    assert s["samples_trained"] == 400, (run_dir, s["samples_trained"])
    for task in s["accuracy"]["after_task"]:
        for v in task["accuracy"].values():
            assert 0.0 <= v <= 1.0, (run_dir, task)
    with open(os.path.join(run_dir, "sweep_exit.json")) as f:
        rec = json.load(f)
    assert rec["backend"] == "slurm" and rec["exit_status"] == 0, rec
    assert re.fullmatch(r"\d+_\d+", rec["job"]), rec
    return rec["job"]


def scontrol_states(job):
    """Final JobState of each array task. The sweep ends when every run's exit record is
    there; Slurm may still be finishing the last task, so wait for it (up to 60 s)."""
    deadline = time.time() + 60
    while True:
        res = subprocess.run(["scontrol", "-o", "show", "job", job], capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stderr
        states = {}
        for line in res.stdout.splitlines():
            f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            states[int(f["ArrayTaskId"])] = f["JobState"]
        if time.time() > deadline or not any(
                s in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING") for s in states.values()):
            return states
        time.sleep(0.5)


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    was_up = slurm_local(src, "status").returncode == 0
    if not was_up:
        res = slurm_local(src, "start")
        print(res.stdout + res.stderr)
        if res.returncode != 0:
            unavailable(f"no Slurm cluster is up and scripts/slurm_local start failed "
                        f"(exit {res.returncode}): {(res.stdout + res.stderr).strip()[-300:]}")
    print("cluster:", "already up (left running)" if was_up else "started by this test")
    try:
        test(binary, src)
    finally:
        if not was_up:
            res = slurm_local(src, "stop")
            print(res.stdout + res.stderr)
            assert res.returncode == 0, "scripts/slurm_local stop failed"
            assert slurm_local(src, "status").returncode != 0, "cluster still up after stop"


def test(binary, src):
    tmp = tempfile.mkdtemp(prefix="sweep_slurm_")
    os.chdir(src)  # runs resolve data/ against the submitting folder
    spec_path = os.path.join(tmp, "spec.json")
    out = os.path.join(tmp, "out")
    bad = os.path.join(tmp, "no-such-data")
    spec = {"base": os.path.join(src, "configs", "quick.json"), "set": TINY,
            "vary": [{"zip": [{"key": "meta.m_star", "values": [1, 2, 3]},
                              {"key": "data.dir", "values": ["data", "data", bad]}]}],
            "seeds": {"count": 1, "first": SEED}, "metrics": METRICS,
            "slurm": {"time": "00:05:00", "cpus_per_task": 1}}
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    dry = run([binary, "sweep", spec_path, "--out", out, "--dry-run"], timeout=60)
    assert dry.returncode == 0, dry.stderr
    points = dry.stdout.splitlines()[:3]

    # 1. three points, one failing
    cmd = [binary, "sweep", spec_path, "--out", out, "--backend", "slurm", "--poll", "0.5"]
    res = run(cmd)
    log = res.stdout + res.stderr
    assert res.returncode == 3, f"expected exit status 3 (a run failed), got {res.returncode}"
    m = re.search(r"submitted Slurm job array (\d+) \(3 tasks of up to 1 run", log)
    assert m, "no job array submitted"
    job = m.group(1)
    assert "0 already complete, 3 to run (slurm backend)" in log, log
    assert re.search(r"runs 2/3 done, 0 running, 1 failed; points 2/3 done", log), log
    check_results(out, points)
    tasks = {}
    for point, m_star in zip(points[:2], [1, 2]):
        run_dir = os.path.join(out, "points", point, f"seed-{SEED}")
        tasks[check_run(run_dir, m_star)] = point
    assert sorted(tasks) == [f"{job}_0", f"{job}_1"], tasks
    fail_dir = os.path.join(out, "points", points[2], f"seed-{SEED}")
    with open(os.path.join(fail_dir, "sweep_exit.json")) as f:
        rec = json.load(f)
    assert rec["job"] == f"{job}_2" and rec["exit_status"] != 0 and "no-such-data" in rec["error"], rec
    assert os.path.isfile(os.path.join(out, "slurm", f"{job}_2.out"))
    states = scontrol_states(job)
    assert states == {0: "COMPLETED", 1: "COMPLETED", 2: "FAILED"}, states
    print(f"sweep: ok: job {job}, scontrol {states}, failure: exit status {rec['exit_status']}")

    # 2. resume: one complete run lost, the failed one rerun; two runs in one array task
    before = sweep_summaries(out)
    assert len(before) == 2, before
    lost = os.path.join("points", points[1], f"seed-{SEED}")
    kept = os.path.join("points", points[0], f"seed-{SEED}")
    os.remove(os.path.join(out, lost, "summary.json"))
    res = run(cmd + ["--chunk", "2"])
    log = res.stdout + res.stderr
    assert res.returncode == 3, res.returncode
    assert "1 already complete, 2 to run (slurm backend)" in log, log
    m = re.search(r"submitted Slurm job array (\d+) \(1 tasks of up to 2 run", log)
    assert m and m.group(1) != job, "no new job array of one task submitted"
    job2 = m.group(1)
    after = sweep_summaries(out)
    assert after[kept] == before[kept], f"{kept}/summary.json was rewritten on resume"
    assert lost in after, f"{lost} was not rerun"
    assert check_run(os.path.join(out, lost), 2) == f"{job2}_0"
    check_results(out, points)
    assert scontrol_states(job2) == {0: "FAILED"}, scontrol_states(job2)  # the chunk's bad run
    print(f"resume: ok: job {job2} reran {lost} and the failed run; {kept} untouched")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
