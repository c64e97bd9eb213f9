#!/usr/bin/env python3
"""Regression (issue 15): checkpoints and `memplast train --resume`.

A tiny configuration (quick.json with a 64-neuron hidden layer, 600 training and 200
test samples per task, epochs [2, 1]: 6 batches per epoch, 18 in all; no trace) so each
run takes about a second.

* resume, hardware mode: a run stopped after 8 batches (task mnist, epoch 2, batch 2 of
  6: mid-epoch) by the test trigger MEMPLAST_STOP_AFTER_BATCHES=8 writes an interrupted
  summary and checkpoint.bin and exits 3; `--resume` reaches a summary.json equal to an
  uninterrupted run's in every field but the wall-clock ones (wall_time_s,
  train_wall_time_s, samples_per_second), and the same accuracy.csv (but its wall-time
  column), energy.csv, writes_per_device.csv and hidden weights.
* resume, functional mode: the same.
* resume twice: stopped after 3 batches, resumed and stopped again after 10 (the
  checkpoint is replaced), resumed to the end: the same result.
* periodic checkpoints: a run with train.checkpoint_every=5 ends complete with the
  checkpoint of batch 15; `--resume` from it reaches the same summary. A run with
  train.checkpoint_minutes=0.0001 (6 ms) writes a checkpoint too.
* refusal: a second run into a folder with results is refused (exit status 1, the
  message names the folder and the file); --force replaces them (no stale file left).
* a traced hardware run, resumed: the resumed process's trace.json has every begin
  matched by its end.
* corrupt checkpoints: truncated, a flipped byte, a wrong magic, a checkpoint of another
  configuration (the differing key is named), no checkpoint: each refused with an error
  naming the file.

usage: check_resume.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

EXIT_INTERRUPTED = 3
SETS = ["--set", "train.hidden=64", "--set", "train.train_samples=600",
        "--set", "train.test_samples=200", "--set", "train.epochs=[2,1]",
        "--set", "trace.enable=false"]
WALL = {"wall_time_s", "train_wall_time_s", "samples_per_second"}


def fail(msg):
    print("check_resume: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(binary, src, args, env_extra=None, expect=0):
    env = dict(os.environ)
    env.pop("MEMPLAST_STOP_AFTER_BATCHES", None)
    env.update(env_extra or {})
    p = subprocess.run([binary, "train", "--progress", "none", *args], cwd=src, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != expect:
        fail("memplast train %s: exit status %d, expected %d\n%s" %
             (" ".join(args), p.returncode, expect, p.stderr))
    return p


def fresh(binary, src, out, mode, extra=()):
    return run(binary, src, ["--config", "configs/quick.json", *SETS, "--mode", mode,
                             "--out", out, *extra])


def compare_runs(a, b, what):
    sa = json.load(open(os.path.join(a, "summary.json")))
    sb = json.load(open(os.path.join(b, "summary.json")))
    if sa.get("status") != "complete" or sb.get("status") != "complete":
        fail("%s: status %r / %r" % (what, sa.get("status"), sb.get("status")))
    keys = (set(sa) | set(sb)) - WALL
    diff = sorted(k for k in keys if sa.get(k) != sb.get(k))
    if diff:
        fail("%s: summary.json differs in %s (%r vs %r)" %
             (what, diff, {k: sa.get(k) for k in diff}, {k: sb.get(k) for k in diff}))
    for f in ("energy.csv", "writes_per_device.csv", "state/hidden_layer0.f32",
              "state/hidden_layer1.f32"):
        if open(os.path.join(a, f), "rb").read() != open(os.path.join(b, f), "rb").read():
            fail("%s: %s differs" % (what, f))
    strip = lambda d: [l.rsplit(",", 1)[0] for l in open(os.path.join(d, "accuracy.csv"))]
    if strip(a) != strip(b):
        fail("%s: accuracy.csv differs" % what)
    print("check_resume: %s: %d summary fields identical (simulated %.9f s, energy %.9e J, "
          "accuracy after all tasks %s)" %
          (what, len(keys), sa["simulated_time_s"], sa["energy_j"]["total"],
           sa["accuracy"]["after_task"][-1]["accuracy"]))


def header(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[18:26], "little")
    return json.loads(data[26:26 + n])


def interrupt(binary, src, out, mode, after):
    run(binary, src, ["--config", "configs/quick.json", *SETS, "--mode", mode, "--out", out],
        {"MEMPLAST_STOP_AFTER_BATCHES": str(after)}, EXIT_INTERRUPTED)
    s = json.load(open(os.path.join(out, "summary.json")))
    st = s.get("stopped", {})
    if s.get("status") != "interrupted" or st.get("batches_done") != after:
        fail("%s: expected an interrupted summary after %d batches, got %r" %
             (out, after, s.get("stopped")))
    if not os.path.exists(os.path.join(out, "checkpoint.bin")):
        fail("%s: no checkpoint.bin" % out)
    return st


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("hardware", "functional"):
            full = os.path.join(tmp, mode + "_full")
            fresh(binary, src, full, mode)
            part = os.path.join(tmp, mode + "_resumed")
            st = interrupt(binary, src, part, mode, 8)
            if st["batches_done_in_epoch"] == 0:
                fail("expected a stop inside an epoch")
            print("check_resume: %s: stopped in %s epoch %d after %d batches (%d in the epoch)"
                  % (mode, st["task"], st["epoch"], st["batches_done"],
                     st["batches_done_in_epoch"]))
            run(binary, src, ["--resume", part])
            compare_runs(full, part, mode + " resume after 8 batches")
            if mode == "hardware":
                # Stopped twice (the second stop inside task 2), resumed twice.
                twice = os.path.join(tmp, "twice")
                interrupt(binary, src, twice, mode, 3)
                run(binary, src, ["--resume", twice], {"MEMPLAST_STOP_AFTER_BATCHES": "14"},
                    EXIT_INTERRUPTED)
                s = json.load(open(os.path.join(twice, "summary.json")))
                if s["stopped"]["batches_done"] != 14 or s["stopped"]["task"] != "fashion_mnist":
                    fail("second stop: %r" % s["stopped"])
                run(binary, src, ["--resume", twice])
                compare_runs(full, twice, "hardware resume after 3 and 14 batches")

        # A traced hardware run (quick.json's trace window: the first batch) resumed
        # mid-epoch: the resumed run's trace is well formed (its re-entered task and
        # epoch phases begin again on the host track, so every end has its begin).
        traced = os.path.join(tmp, "traced")
        run(binary, src, ["--config", "configs/quick.json", *SETS, "--set", "trace.enable=true",
                          "--mode", "hardware", "--out", traced],
            {"MEMPLAST_STOP_AFTER_BATCHES": "8"}, EXIT_INTERRUPTED)
        run(binary, src, ["--resume", traced])
        with open(os.path.join(traced, "trace.json")) as f:
            events = json.load(f)["traceEvents"]
        depth = {}
        for e in events:
            if e.get("ph") in ("B", "E"):
                k = (e["pid"], e.get("tid"))
                depth[k] = depth.get(k, 0) + (1 if e["ph"] == "B" else -1)
                if depth[k] < 0:
                    fail("resumed trace: an end without a begin on track %r" % (k,))
        if any(depth.values()):
            fail("resumed trace: unmatched begins %r" % depth)
        print("check_resume: traced hardware run resumed: trace.json of the resumed process "
              "has %d events, begins and ends matched" % len(events))

        # Periodic checkpoints.
        per = os.path.join(tmp, "periodic")
        fresh(binary, src, per, "functional", ["--set", "train.checkpoint_every=5"])
        ref = os.path.join(tmp, "periodic_ref")
        shutil.copytree(per, ref)
        hdr = header(os.path.join(per, "checkpoint.bin"))
        if hdr["position"]["batches_done"] != 15:
            fail("checkpoint_every=5: last checkpoint at %r" % hdr["position"])
        run(binary, src, ["--resume", per])
        compare_runs(ref, per, "functional resume from the periodic checkpoint of batch 15")
        mins = os.path.join(tmp, "minutes")
        fresh(binary, src, mins, "functional", ["--set", "train.checkpoint_minutes=0.0001"])
        if header(os.path.join(mins, "checkpoint.bin"))["position"]["batches_done"] == 0:
            fail("checkpoint_minutes: no checkpoint after a batch")
        print("check_resume: train.checkpoint_minutes=0.0001 wrote a checkpoint")

        # Refusal: a folder with results.
        full = os.path.join(tmp, "functional_full")
        p = run(binary, src, ["--config", "configs/quick.json", *SETS, "--mode", "functional",
                              "--out", full], expect=1)
        want = os.path.join(full, "summary.json")
        if want not in p.stderr or "--force" not in p.stderr:
            fail("refusal message does not name %s and --force: %s" % (want, p.stderr))
        print("check_resume: a run into a folder with results is refused: " +
              p.stderr.strip().splitlines()[-1])
        # --force: a stale file of the earlier run (a checkpoint) does not survive.
        with open(os.path.join(full, "summary.json")) as f:
            old = json.load(f)
        shutil.copy(os.path.join(tmp, "functional_resumed", "checkpoint.bin"),
                    os.path.join(full, "checkpoint.bin"))
        fresh(binary, src, full, "functional", ["--force"])
        if os.path.exists(os.path.join(full, "checkpoint.bin")):
            fail("--force left the earlier run's checkpoint.bin")
        new = json.load(open(os.path.join(full, "summary.json")))
        if new["wall_time_s"] == old["wall_time_s"]:
            fail("--force: summary.json was not rewritten")
        print("check_resume: --force removes the earlier results first")

        # Corrupt checkpoints.
        good = os.path.join(tmp, "corrupt_src")
        interrupt(binary, src, good, "functional", 4)
        data = open(os.path.join(good, "checkpoint.bin"), "rb").read()

        def bad(name, content, expect_text):
            d = os.path.join(tmp, "bad_" + name)
            os.makedirs(d, exist_ok=True)
            if content is not None:
                with open(os.path.join(d, "checkpoint.bin"), "wb") as f:
                    f.write(content)
            p = run(binary, src, ["--resume", d], expect=1)
            path = os.path.join(d, "checkpoint.bin")
            if path not in p.stderr or expect_text not in p.stderr:
                fail("%s checkpoint: error does not name %s and '%s': %s" %
                     (name, path, expect_text, p.stderr))
            print("check_resume: %s checkpoint refused: %s" %
                  (name, p.stderr.strip().splitlines()[-1]))

        bad("truncated", data[:len(data) // 2], "truncated")
        flipped = bytearray(data)
        flipped[len(data) - 100] ^= 0x01
        bad("flipped", bytes(flipped), "checksum mismatch")
        bad("magic", b"NOT-A-CKPT" + data[10:], "not a memplast checkpoint")
        bad("missing", None, "cannot open")
        # Another configuration: the differing key is named.
        p = run(binary, src, ["--resume", good, "--config", "configs/quick.json", *SETS,
                              "--set", "train.bn_lr=0.01", "--mode", "functional"], expect=1)
        if "train.bn_lr" not in p.stderr or "differs" not in p.stderr:
            fail("config mismatch: error does not name train.bn_lr: " + p.stderr)
        print("check_resume: a checkpoint of another configuration is refused: " +
              p.stderr.strip().splitlines()[-1])
    print("check_resume: passed")


if __name__ == "__main__":
    main()
