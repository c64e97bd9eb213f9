#!/usr/bin/env python3
"""Regression (issue 15): a run stopped by a signal.

* SIGINT midway (hardware mode, quick config, mid-epoch): exit status 3, every output
  written, a checkpoint (checkpoint.bin, its header at the same position),
  summary.json "status": "interrupted" with where it stopped; an earlier run's
  summary.json in the same folder (run with --force) is gone.
* SIGTERM (functional mode): the same.
* Two SIGINTs: the process ends at once, killed by SIGINT, and leaves no summary.json
  posing as a result (the earlier run's was removed at start by --force).
* A run to the end: "status": "complete".

usage: check_interrupt.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from regress_util import fail, quick_train_cmd

EXIT_INTERRUPTED = 3


def stale(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"status": "complete", "stale_marker": True}, f)


def start(binary, src, out, mode, extra=()):
    return subprocess.Popen(
        quick_train_cmd(binary, src, out, mode, progress="lines") + ["--force"] + list(extra),
        cwd=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(p, min_percent):
    """Read progress lines until one reports at least min_percent; returns that line."""
    deadline = time.time() + 600
    while time.time() < deadline:
        line = p.stderr.readline()
        if not line:
            fail("run ended before reaching %d %%" % min_percent)
        if line.startswith("[train]"):
            pct = int(line.split("%")[0].split()[-1])
            if pct >= min_percent:
                return line
    fail("timeout waiting for progress")


def check_interrupted(out, rc, err, sig_name):
    if rc != EXIT_INTERRUPTED:
        fail("exit status %d, expected %d; stderr: %s" % (rc, EXIT_INTERRUPTED, err))
    s = json.load(open(os.path.join(out, "summary.json")))
    if s.get("stale_marker"):
        fail("the earlier run's summary.json is still there")
    if s.get("status") != "interrupted":
        fail("status %r, expected interrupted" % s.get("status"))
    st = s["stopped"]
    if st["signal"] != sig_name:
        fail("stopped.signal %r" % st["signal"])
    if not 0 < st["batches_done"] < st["batches_total"]:
        fail("stopped at %d of %d batches: not midway" % (st["batches_done"], st["batches_total"]))
    for f in ("accuracy.csv", "energy.csv", "writes_per_device.csv", "state/state.json",
              "checkpoint.bin"):
        if not os.path.exists(os.path.join(out, f)):
            fail("interrupted run did not write " + f)
    if st.get("checkpoint") != "checkpoint.bin":
        fail("stopped.checkpoint %r" % st.get("checkpoint"))
    # The checkpoint's header (JSON after the 14-byte magic, the u32 format and the u64
    # length) is at the summary's position.
    with open(os.path.join(out, "checkpoint.bin"), "rb") as f:
        data = f.read()
    if data[:14] != b"MEMPLAST-CKPT\n":
        fail("checkpoint.bin: bad magic")
    n = int.from_bytes(data[18:26], "little")
    pos = json.loads(data[26:26 + n])["position"]
    if pos["batches_done"] != st["batches_done"] or pos["task"] != st["task"]:
        fail("checkpoint position %r differs from the summary's %r" % (pos, st))
    print("check_interrupt: %s: interrupted in %s epoch %d after %d/%d batches (%d in the epoch), "
          "simulated %.6f s" % (sig_name, st["task"], st["epoch"], st["batches_done"],
                                st["batches_total"], st["batches_done_in_epoch"],
                                s["simulated_time_s"]))
    return s


def interrupt_once(binary, src, out, mode, min_percent, sig, sig_name):
    """A run in `mode` stopped by `sig` once it reports min_percent progress; checks it
    and returns its summary."""
    stale(out)
    p = start(binary, src, out, mode)
    wait_for_progress(p, min_percent)
    p.send_signal(sig)
    _, err = p.communicate(timeout=600)
    return check_interrupted(out, p.returncode, err, sig_name)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        # SIGINT, hardware mode, mid-epoch (10 % of the quick run is inside epoch 1).
        s = interrupt_once(binary, src, os.path.join(tmp, "hw"), "hardware", 10, signal.SIGINT,
                           "SIGINT")
        if s["stopped"]["batches_done_in_epoch"] == 0:
            fail("expected a stop inside an epoch")

        # SIGTERM, functional mode.
        interrupt_once(binary, src, os.path.join(tmp, "fn"), "functional", 30, signal.SIGTERM,
                       "SIGTERM")

        # Two signals: stop at once. The second is sent as soon as the handler has
        # acknowledged the first (its message on stderr); should the run have finished
        # its outputs in that window (exit status 3), try again.
        for attempt in range(3):
            out = os.path.join(tmp, "twice%d" % attempt)
            stale(out)
            p = start(binary, src, out, "hardware")
            wait_for_progress(p, 10)
            p.send_signal(signal.SIGINT)
            while True:
                line = p.stderr.readline()
                if not line or "stopping at the next batch boundary" in line:
                    break
            p.send_signal(signal.SIGINT)
            p.communicate(timeout=600)
            if p.returncode != EXIT_INTERRUPTED:
                break
        if p.returncode != -signal.SIGINT:
            fail("two SIGINTs: exit status %d, expected death by SIGINT" % p.returncode)
        if os.path.exists(os.path.join(out, "summary.json")):
            fail("two SIGINTs: a summary.json is left in the folder")
        print("check_interrupt: second SIGINT ends the run at once, no summary.json left")

        # To the end: complete.
        out = os.path.join(tmp, "full")
        stale(out)
        p = start(binary, src, out, "functional")
        _, err = p.communicate(timeout=600)
        if p.returncode != 0:
            fail("full run: exit status %d: %s" % (p.returncode, err))
        s = json.load(open(os.path.join(out, "summary.json")))
        if s.get("status") != "complete" or "stopped" in s:
            fail("full run: status %r" % s.get("status"))
        print("check_interrupt: a run to the end is marked complete")
    print("check_interrupt: passed")


if __name__ == "__main__":
    main()
