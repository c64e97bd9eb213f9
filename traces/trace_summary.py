"""Summaries of a memplast trace.json (traces/README.md, "Scripts"). Python 3 standard
library only; run it through traces/summarise, which checks for /usr/bin/python3.

  busy TRACE [--json]
      Per track (block instance): duration events, busy time (the union of its event
      intervals, nested ones counted once), utilisation over the traced window (the
      extent of every event but the host's task and epoch, which outlast the window),
      and the time per event name, clipped to the window.
  critical-path TRACE [--task T] [--epoch E] [--batch B] [--json]
      One batch (the first traced one unless selected): its host timeline cut into
      segments by the innermost firmware phase (forward, loss, backward, update,
      programming), and inside each segment the blocks that worked in it: busy time
      per track, the busiest track, the longest block event, and the time no block
      event covers (host compute and firmware overhead). The segments are sequential on
      the host, so their chain is the batch's critical path; the busiest block of a
      segment is what the phase waited on.

Times are simulated microseconds, as in the trace.
"""
import json
import sys

HOST = "host"


class TraceFormatError(Exception):
    pass


def load(path):
    """Returns (tracks, order): tracks maps a track name to a list of intervals
    (start, end, name, args, depth); order lists the track names in file order."""
    with open(path) as f:
        trace = json.load(f)
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        raise TraceFormatError("%s: no traceEvents array" % path)
    names = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    tracks, order, stacks = {}, [], {}
    for i, e in enumerate(events):
        ph = e.get("ph")
        if ph not in ("X", "B", "E"):
            continue
        key = (e.get("pid"), e.get("tid"))
        track = names.get(key, "pid%s_tid%s" % key)
        if track not in tracks:
            tracks[track] = []
            order.append(track)
        stack = stacks.setdefault(key, [])
        if ph == "X":
            tracks[track].append((e["ts"], e["ts"] + e["dur"], e["name"], e.get("args", {}),
                                  len(stack)))
        elif ph == "B":
            stack.append(e)
        else:
            if not stack:
                raise TraceFormatError("event %d: E without B on track %s" % (i, track))
            b = stack.pop()
            tracks[track].append((b["ts"], e["ts"], b["name"], b.get("args", {}), len(stack)))
    for key, stack in stacks.items():
        if stack:
            raise TraceFormatError("track %s: %d B events never ended" % (names.get(key), len(stack)))
    for t in tracks.values():
        t.sort(key=lambda iv: (iv[0], iv[4]))
    return tracks, order


def union(intervals, lo=None, hi=None):
    """Length of the union of (start, end) intervals, clipped to [lo, hi] if given."""
    spans = []
    for s, e in intervals:
        if lo is not None:
            s = max(s, lo)
        if hi is not None:
            e = min(e, hi)
        if e > s:
            spans.append((s, e))
    spans.sort()
    total, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


# Host phases that hold the whole traced window and outlast it (a window of one batch
# still ends its task and epoch when the task ends): they do not set the window.
CONTAINERS = ("task", "epoch")


def busy(tracks, order):
    """The window is the extent of every event but the host's task and epoch; busy
    times and per-name times are clipped to it."""
    all_iv = [iv for t, ivs in tracks.items() for iv in ivs
              if not (t == HOST and iv[2] in CONTAINERS)]
    t0 = min(iv[0] for iv in all_iv) if all_iv else 0.0
    t1 = max(iv[1] for iv in all_iv) if all_iv else 0.0
    span = t1 - t0
    out = {"span_us": span, "start_us": t0, "end_us": t1, "tracks": []}
    for name in order:
        ivs = tracks[name]
        b = union([(s, e) for s, e, _, _, _ in ivs], t0, t1)
        per_name = {}
        for s, e, n, _, _ in ivs:
            c = per_name.setdefault(n, {"events": 0, "time_us": 0.0})
            c["events"] += 1
            c["time_us"] += max(0.0, min(e, t1) - max(s, t0))
        out["tracks"].append({"track": name, "events": len(ivs), "busy_us": b,
                              "utilisation": b / span if span > 0 else 0.0,
                              "by_name": per_name})
    return out


def pick_batch(host, task, epoch, batch):
    for s, e, n, a, d in host:
        if n != "batch":
            continue
        if task is not None and a.get("task") != task:
            continue
        if epoch is not None and a.get("epoch") != epoch:
            continue
        if batch is not None and a.get("batch") != batch:
            continue
        return s, e, a, d
    return None


def critical_path(tracks, task=None, epoch=None, batch=None):
    host = tracks.get(HOST, [])
    found = pick_batch(host, task, epoch, batch)
    if found is None:
        raise TraceFormatError("no host 'batch' event matches task %r epoch %r batch %r"
                               % (task, epoch, batch))
    b0, b1, args, depth = found
    inner = [iv for iv in host if iv[4] > depth and iv[0] >= b0 and iv[1] <= b1]
    # Cut the batch at every phase boundary; each piece belongs to the innermost open
    # phase (the deepest one covering it), or to "batch" itself.
    cuts = sorted({b0, b1} | {iv[0] for iv in inner} | {iv[1] for iv in inner})
    segments = []
    for s, e in zip(cuts, cuts[1:]):
        if e <= s:
            continue
        cover = [iv for iv in inner if iv[0] <= s and iv[1] >= e]
        phase = max(cover, key=lambda iv: iv[4])[2] if cover else "batch"
        if segments and segments[-1]["phase"] == phase and segments[-1]["end_us"] == s:
            segments[-1]["end_us"] = e
        else:
            segments.append({"phase": phase, "start_us": s, "end_us": e})
    blocks = [t for t in tracks if t != HOST]
    for seg in segments:
        s, e = seg["start_us"], seg["end_us"]
        seg["dur_us"] = e - s
        per, longest, all_iv = {}, None, []
        for t in blocks:
            ivs = [(a, z, n) for a, z, n, _, _ in tracks[t] if z > s and a < e]
            if not ivs:
                continue
            clipped = [(max(a, s), min(z, e)) for a, z, _ in ivs]
            all_iv += clipped
            per[t] = {"busy_us": union(clipped), "events": len(ivs)}
            for (a, z), (_, _, n) in zip(clipped, ivs):
                if longest is None or z - a > longest["dur_us"]:
                    longest = {"track": t, "name": n, "dur_us": z - a}
        seg["blocks"] = per
        seg["busiest"] = max(per, key=lambda t: per[t]["busy_us"]) if per else None
        seg["longest_event"] = longest
        seg["uncovered_us"] = (e - s) - union(all_iv)
    return {"batch": args, "start_us": b0, "end_us": b1, "dur_us": b1 - b0, "path": segments}


def print_busy(r):
    print("traced window %.3f us (%.3f .. %.3f)" % (r["span_us"], r["start_us"], r["end_us"]))
    print("%-12s %8s %14s %7s  %s" % ("track", "events", "busy_us", "util", "time by event name (us)"))
    for t in r["tracks"]:
        names = ", ".join("%s %d x %.3f" % (n, c["events"], c["time_us"])
                          for n, c in sorted(t["by_name"].items()))
        print("%-12s %8d %14.3f %6.1f%%  %s" % (t["track"], t["events"], t["busy_us"],
                                                100 * t["utilisation"], names))


def print_path(r):
    a = r["batch"]
    print("batch %s (task %s, epoch %s): %.3f us, %d segments on the host"
          % (a.get("batch"), a.get("task"), a.get("epoch"), r["dur_us"], len(r["path"])))
    print("%-12s %12s %12s %6s  %-12s %12s  %-28s %12s" % (
        "phase", "start_us", "dur_us", "share", "busiest", "busy_us", "longest block event",
        "uncovered"))
    for s in r["path"]:
        b = s["busiest"]
        lg = s["longest_event"]
        print("%-12s %12.3f %12.3f %5.1f%%  %-12s %12.3f  %-28s %12.3f" % (
            s["phase"], s["start_us"], s["dur_us"], 100 * s["dur_us"] / r["dur_us"],
            b or "-", s["blocks"][b]["busy_us"] if b else 0.0,
            ("%s %s %.3f" % (lg["track"], lg["name"], lg["dur_us"])) if lg else "-",
            s["uncovered_us"]))


def main(argv):
    if len(argv) < 2 or argv[0] not in ("busy", "critical-path"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path, rest = argv[0], argv[1], argv[2:]
    as_json = "--json" in rest
    sel = {}
    for k in ("task", "epoch", "batch"):
        if "--" + k in rest:
            sel[k] = int(rest[rest.index("--" + k) + 1])
    try:
        tracks, order = load(path)
        r = busy(tracks, order) if cmd == "busy" else critical_path(tracks, **sel)
    except (OSError, ValueError, KeyError, TraceFormatError) as e:
        print("trace_summary: %s: %s" % (path, e), file=sys.stderr)
        return 1
    if as_json:
        json.dump(r, sys.stdout, indent=1)
        print()
    elif cmd == "busy":
        print_busy(r)
    else:
        print_path(r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
