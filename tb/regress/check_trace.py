#!/usr/bin/env python3
"""Regression (issue 12): the trace.json of a quick hardware run.

Runs `memplast train` on configs/quick.json (made smaller: fewer samples; the trace
selection is the quick config's own, one batch), loads <out>/trace.json with a JSON
parser and checks:

* the trace-event fields Perfetto / chrome://tracing need: every event has ph, ts, pid,
  tid (and name, except E); ph is one of M X B E C i; ts and dur are numbers; X events
  have dur > 0;
* B and E matched per track (a stack per pid/tid, E not before its B, none left open);
* every name is in traces/schema.json (the one schema of event and phase names), the
  track's names for duration events, the counter names for C events;
* timestamps non-decreasing per track in file order; otherData.status "complete" and
  no late events;
* one track per block instance: host, bus, meta_unit, pv_ctrl and one per tile (every
  tile component of energy.csv), each with at least one event;
* counter events present: power_W, pv_queue_depth, bus_utilisation; power_W series
  are components of energy.csv.

With trace.enable = false (the default configuration's setting) the same run writes no
trace.json, and removes one an earlier run left in the folder.

The summary scripts (traces/summarise busy | critical-path, traces/trace_summary.py)
run on the same trace: every track has its busy time, within the window, a tile's busy
time is the sum of its (serial) MVMs, the host is busy over the whole window; the
critical path of batch 0 is a chain of firmware phases (schema names) whose durations
sum to the batch's, with no block busier than its segment. On a small hand-made trace
they must give the numbers worked out by hand (overlaps counted once, nested phases).

It also proves it can fail: each of a list of deliberate corruptions of the trace
(a dur of 0, a lost E, an unknown name, a time going backwards, a missing tile track, no
counters) must be rejected by the same checks.

usage: check_trace.py MEMPLAST_BIN SOURCE_DIR [--keep DIR]
       check_trace.py --run-dir RUN_DIR SOURCE_DIR   (check an existing run's trace)
Prints the trace's size and event counts per track.
"""
import copy
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

from regress_util import expect_rejected, fail, quick_train_cmd, run_or_fail


class TraceError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise TraceError(msg)


def check(trace, schema, components, tiles):
    """Raise TraceError on the first violation; return per-track event counts."""
    need(isinstance(trace, dict) and isinstance(trace.get("traceEvents"), list),
         "no traceEvents array")
    other = trace.get("otherData", {})
    need(other.get("status") == "complete", "otherData.status is %r" % other.get("status"))
    need(other.get("late_events", 0) == 0, "late_events = %r" % other.get("late_events"))
    dur_names = {}  # track name -> allowed names
    tile_re = re.compile(r"^layer\d+_t\d+$")
    for track, spec in schema["tracks"].items():
        dur_names[track] = set(spec["names"])
    counter_names = set(schema["counters"]["names"])
    meta_names = set(schema["metadata"])

    thread_name = {}
    process_name = {}
    stacks = {}
    last_ts = {}
    counts = {}
    counters_seen = set()
    power_series = set()
    for i, ev in enumerate(trace["traceEvents"]):
        where = "event %d (%s)" % (i, json.dumps(ev)[:160])
        need(isinstance(ev, dict), where + ": not an object")
        for f in ("ph", "ts", "pid", "tid"):
            need(f in ev, where + ": no '%s'" % f)
        ph = ev["ph"]
        need(ph in ("M", "X", "B", "E", "C", "i"), where + ": unknown ph")
        need(isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0, where + ": bad ts")
        need(isinstance(ev["pid"], int) and isinstance(ev["tid"], int), where + ": bad pid/tid")
        if ph != "E":
            need(isinstance(ev.get("name"), str) and ev["name"], where + ": no name")
        key = (ev["pid"], ev["tid"])
        if ph == "M":
            need(ev["name"] in meta_names, where + ": unknown metadata name")
            if ev["name"] == "thread_name":
                thread_name[key] = ev["args"]["name"]
            if ev["name"] == "process_name":
                process_name[ev["pid"]] = ev["args"]["name"]
            continue
        need(ev["ts"] >= last_ts.get(key, 0), where + ": ts before the track's previous event")
        last_ts[key] = ev["ts"]
        if ph == "C":
            need(ev["name"] in counter_names, where + ": unknown counter")
            need(isinstance(ev.get("args"), dict) and ev["args"], where + ": counter without values")
            for s, v in ev["args"].items():
                need(isinstance(v, (int, float)), where + ": counter value not a number")
                if ev["name"] == "power_W":
                    power_series.add(s)
            counters_seen.add(ev["name"])
            continue
        need(key in thread_name, where + ": track without thread_name metadata")
        track = thread_name[key]
        schema_track = "layer<l>_t<k>" if tile_re.match(track) else track
        need(schema_track in dur_names, where + ": track %r not in the schema" % track)
        counts[track] = counts.get(track, 0) + 1
        if ph == "X":
            need(isinstance(ev.get("dur"), (int, float)) and ev["dur"] > 0, where + ": X without dur > 0")
            need(ev["name"] in dur_names[schema_track], where + ": name not in the schema")
        elif ph == "B":
            need(ev["name"] in dur_names[schema_track], where + ": name not in the schema")
            stacks.setdefault(key, []).append(ev["ts"])
        elif ph == "E":
            st = stacks.get(key, [])
            need(st, where + ": E without B")
            b = st.pop()
            need(ev["ts"] >= b, where + ": E before its B")
        else:  # instant
            need(ev["name"] in dur_names[schema_track], where + ": name not in the schema")
    for key, st in stacks.items():
        need(not st, "track %r: %d B without E" % (thread_name.get(key), len(st)))
    expected = {"host", "bus", "meta_unit", "pv_ctrl"} | set(tiles)
    counters_track = schema["counters"]["group"]
    names = [n for n in thread_name.values() if n != counters_track]
    need(len(names) == len(set(names)), "a block has more than one track: %r" % sorted(names))
    missing = expected - set(names)
    need(not missing, "no track for %r" % sorted(missing))
    extra = set(names) - expected
    need(not extra, "tracks of unknown blocks %r" % sorted(extra))
    empty = [t for t in expected if counts.get(t, 0) == 0]
    need(not empty, "tracks without events: %r" % sorted(empty))
    for c in ("power_W", "pv_queue_depth", "bus_utilisation"):
        need(c in counters_seen, "no %s counter events" % c)
    unknown = power_series - set(components)
    need(not unknown, "power_W series %r are not energy.csv components" % sorted(unknown))
    return counts


def corruptions(trace):
    """(label, corrupted trace) pairs that check() must reject."""
    evs = trace["traceEvents"]

    def first(pred):
        return next(i for i, e in enumerate(evs) if pred(e))

    out = []
    t = copy.deepcopy(trace)
    t["traceEvents"][first(lambda e: e["ph"] == "X")]["dur"] = 0
    out.append(("X with dur 0", t))
    t = copy.deepcopy(trace)
    del t["traceEvents"][first(lambda e: e["ph"] == "E")]
    out.append(("an E removed", t))
    t = copy.deepcopy(trace)
    t["traceEvents"][first(lambda e: e["ph"] == "B")]["name"] = "not_a_phase"
    out.append(("unknown phase name", t))
    t = copy.deepcopy(trace)
    i = first(lambda e: e["ph"] == "X")
    key = (evs[i]["pid"], evs[i]["tid"])
    j = next(k for k in range(i + 1, len(evs))
             if (evs[k]["pid"], evs[k]["tid"]) == key and evs[k]["ts"] > evs[i]["ts"])
    t["traceEvents"][j]["ts"] = evs[i]["ts"] - 1e-3 if evs[i]["ts"] > 0 else 0
    t["traceEvents"][i]["ts"] = evs[j]["ts"]
    out.append(("time going backwards on a track", t))
    t = copy.deepcopy(trace)
    tile = first(lambda e: e["ph"] == "M" and e["name"] == "thread_name"
                 and e["args"]["name"].startswith("layer"))
    k = (evs[tile]["pid"], evs[tile]["tid"])
    t["traceEvents"] = [e for e in evs if (e["pid"], e["tid"]) != k]
    out.append(("a tile's track missing", t))
    t = copy.deepcopy(trace)
    t["traceEvents"] = [e for e in evs if e["ph"] != "C"]
    out.append(("no counters", t))
    t = copy.deepcopy(trace)
    del t["traceEvents"][first(lambda e: e["ph"] == "X")]["pid"]
    out.append(("an event without pid", t))
    return out


def summarise(src, *args):
    """traces/summarise with --json; returns the parsed output."""
    cmd = [os.path.join(src, "traces", "summarise")] + list(args) + ["--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise TraceError("%s exited with %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def check_summaries(src, path, trace, schema):
    """The summary scripts on a run's trace: consistency with the trace itself."""
    b = summarise(src, "busy", path)
    tracks = {t["track"]: t for t in b["tracks"]}
    need(b["span_us"] > 0, "busy: empty window")
    for name, t in tracks.items():
        need(0 <= t["busy_us"] <= b["span_us"] * (1 + 1e-9),
             "busy: %s busy %r outside [0, window %r]" % (name, t["busy_us"], b["span_us"]))
    need(close(tracks["host"]["busy_us"], b["span_us"]), "busy: the host is not busy over the window")
    tile_re = re.compile(r"^layer\d+_t\d+$")
    names = {}
    for e in trace["traceEvents"]:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    dur = {}
    for e in trace["traceEvents"]:
        if e.get("ph") == "X":
            t = names[(e["pid"], e["tid"])]
            dur[t] = dur.get(t, 0.0) + e["dur"]
    tiles = [t for t in tracks if tile_re.match(t)]
    need(tiles, "busy: no tile track")
    for t in tiles:
        need(close(tracks[t]["busy_us"], dur[t]),
             "busy: %s busy %r, its events last %r (a tile runs one operation at a time)"
             % (t, tracks[t]["busy_us"], dur[t]))
    c = summarise(src, "critical-path", path, "--batch", "0")
    path_phases = [seg["phase"] for seg in c["path"]]
    host_names = set(schema["tracks"]["host"]["names"])
    need(set(path_phases) <= host_names, "critical path: phases %r not in the schema" % path_phases)
    for p in ("forward", "update", "programming"):
        need(p in path_phases, "critical path of batch 0 has no %s segment: %r" % (p, path_phases))
    total = sum(seg["dur_us"] for seg in c["path"])
    need(close(total, c["dur_us"]), "critical path: segments sum to %r, the batch lasts %r"
         % (total, c["dur_us"]))
    for seg in c["path"]:
        for t, v in seg["blocks"].items():
            need(v["busy_us"] <= seg["dur_us"] * (1 + 1e-9),
                 "critical path: %s busy %r in a %r segment" % (t, v["busy_us"], seg["dur_us"]))
        need(seg["uncovered_us"] >= -1e-6, "critical path: negative uncovered time")
    return b, c


def check_summaries_known_answer(src, tmp):
    """A hand-made trace with the answers worked out by hand."""
    ev = [
        {"name": "thread_name", "ph": "M", "ts": 0, "pid": 1, "tid": 1, "args": {"name": "host"}},
        {"name": "thread_name", "ph": "M", "ts": 0, "pid": 2, "tid": 1, "args": {"name": "layer0_t0"}},
        {"name": "thread_name", "ph": "M", "ts": 0, "pid": 3, "tid": 1, "args": {"name": "pv_ctrl"}},
        {"name": "task", "ph": "B", "ts": 0, "pid": 1, "tid": 1, "args": {"task": 0}},
        {"name": "batch", "ph": "B", "ts": 0, "pid": 1, "tid": 1, "args": {"task": 0, "batch": 0}},
        {"name": "forward", "ph": "B", "ts": 0, "pid": 1, "tid": 1},
        {"name": "mvm_fwd", "ph": "X", "ts": 10, "dur": 20, "pid": 2, "tid": 1},
        {"name": "mvm_fwd", "ph": "X", "ts": 20, "dur": 15, "pid": 2, "tid": 1},
        {"ph": "E", "ts": 40, "pid": 1, "tid": 1},
        {"name": "update", "ph": "B", "ts": 40, "pid": 1, "tid": 1},
        {"name": "programming", "ph": "B", "ts": 60, "pid": 1, "tid": 1},
        {"name": "pv_batch", "ph": "B", "ts": 60, "pid": 3, "tid": 1},
        {"ph": "E", "ts": 80, "pid": 3, "tid": 1},
        {"ph": "E", "ts": 90, "pid": 1, "tid": 1},
        {"ph": "E", "ts": 100, "pid": 1, "tid": 1},
        {"ph": "E", "ts": 100, "pid": 1, "tid": 1},
        {"ph": "E", "ts": 500, "pid": 1, "tid": 1},
    ]
    path = os.path.join(tmp, "known.json")
    with open(path, "w") as f:
        json.dump({"traceEvents": ev}, f)
    b = summarise(src, "busy", path)
    got = {t["track"]: t["busy_us"] for t in b["tracks"]}
    want = {"host": 100.0, "layer0_t0": 25.0, "pv_ctrl": 20.0}
    need(close(b["span_us"], 100.0), "known trace: window %r, expected 100 (task outlasts it)"
         % b["span_us"])
    need(all(close(got.get(k, -1), v) for k, v in want.items()),
         "known trace: busy %r, expected %r" % (got, want))
    c = summarise(src, "critical-path", path)
    got = [(s["phase"], s["dur_us"], s["busiest"], s["uncovered_us"]) for s in c["path"]]
    want = [("forward", 40.0, "layer0_t0", 15.0), ("update", 20.0, None, 20.0),
            ("programming", 30.0, "pv_ctrl", 10.0), ("update", 10.0, None, 10.0)]
    need(len(got) == len(want) and all(
        g[0] == w[0] and close(g[1], w[1]) and g[2] == w[2] and close(g[3], w[3])
        for g, w in zip(got, want)), "known trace: critical path %r, expected %r" % (got, want))


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    run_dir = None
    if sys.argv[1] == "--run-dir":
        if len(sys.argv) < 4:
            print(__doc__, file=sys.stderr)
            sys.exit(2)
        run_dir, src = sys.argv[2], sys.argv[3]
    else:
        binary, src = sys.argv[1], sys.argv[2]
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    schema = json.load(open(os.path.join(src, "traces/schema.json")))
    readme = open(os.path.join(src, "traces/README.md")).read()
    listed = [n for spec in schema["tracks"].values() for n in spec["names"]]
    listed += schema["counters"]["names"] + list(schema["tracks"])
    for n in listed:
        if "`%s`" % n not in readme:
            fail("traces/README.md does not document `%s`" % n)
    with tempfile.TemporaryDirectory() as tmp:
        out = run_dir or keep or os.path.join(tmp, "run")
        cmd = None if run_dir else quick_train_cmd(
            binary, src, out, "hardware", ("train.train_samples=400", "train.test_samples=200"))
        if cmd:
            run_or_fail(cmd, src)
        path = os.path.join(out, "trace.json")
        if not os.path.exists(path):
            fail("the quick run left no trace.json")
        size = os.path.getsize(path)
        trace = json.load(open(path))
        try:
            # The summary scripts read the file: before the tracing-off run removes it.
            busy, crit = check_summaries(src, path, trace, schema)
            check_summaries_known_answer(src, tmp)
        except TraceError as e:
            print("check_trace: FAIL: " + str(e), file=sys.stderr)
            sys.exit(1)
        with open(os.path.join(out, "energy.csv")) as f:
            components = sorted({row["component"] for row in csv.DictReader(f)})
        if cmd:
            # Tracing off: no trace.json, and the earlier run's is gone.
            off = cmd + ["--set", "trace.enable=false", "--force"]
            r = subprocess.run(off, cwd=src, capture_output=True, text=True)
            if r.returncode != 0 or os.path.exists(path):
                print(r.stdout + r.stderr, file=sys.stderr)
                fail("with trace.enable=false the run %s"
                     % ("failed" if r.returncode else "left a trace.json"))
            print("trace.enable=false: no trace.json (the earlier one removed)")
        tiles = [c for c in components if re.match(r"^layer\d+_t\d+$", c)]
        try:
            counts = check(trace, schema, components, tiles)
        except TraceError as e:
            fail(str(e))
    print("trace.json: %d bytes, %d events, %d tracks (%d tiles)"
          % (size, len(trace["traceEvents"]), len(counts), len(tiles)))
    by_ph = {}
    for e in trace["traceEvents"]:
        by_ph[e["ph"]] = by_ph.get(e["ph"], 0) + 1
    print("events by ph: " + ", ".join("%s %d" % kv for kv in sorted(by_ph.items())))
    for t in sorted(counts):
        print("  %-12s %d" % (t, counts[t]))
    expect_rejected("trace", corruptions(trace),
                    lambda bad: check(bad, schema, components, tiles), TraceError)
    print("traces/summarise busy: window %.3f us; %s" % (busy["span_us"], ", ".join(
        "%s %.3f us" % (t["track"], t["busy_us"]) for t in busy["tracks"]
        if not re.match(r"^layer\d+_t([1-9]\d*)$", t["track"]))))
    print("traces/summarise critical-path, batch 0: %.3f us = %s" % (crit["dur_us"], " -> ".join(
        "%s %.3f (%s)" % (g["phase"], g["dur_us"], g["busiest"] or "host") for g in crit["path"])))
    print("  summary scripts: hand-made trace gives the hand-worked numbers")
    print("check_trace: OK")


if __name__ == "__main__":
    main()
