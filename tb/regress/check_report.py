#!/usr/bin/env python3
"""Regression (issue 12, item 4): memplast report in headless Chromium.

Runs `memplast train --report` on configs/quick.json in hardware mode (and, smaller, in
functional mode), then for each run folder:

* report.html exists and is self-contained: no external script, style, image or link
  (no src=/href= to http(s), no <link>, no @import, no url(http...)); the only "http"
  is SVG's xmlns;
* the number of data marks each plot must have is computed here, independently, from
  the run's own files (accuracy.csv rows; non-zero component-group x phase sums of
  energy.csv; writes_per_device.csv rows and histograms.json's pulses per device;
  power.csv intervals per block; non-zero bins of histograms.json's conductance and ADC
  input histograms; non-zero firmware phases on trace.json's host track);
* Debian's chromium opens the page headless (--dump-dom): the page's own script records
  any script error or console.error and, after load, checks every <svg class="plot">
  (non-empty bounding box, marks drawn with a non-empty box); the dumped DOM must say
  status ok, 0 errors, and each expected plot must be there with exactly the marks
  counted above (> 0).

A missing optional input must leave a note, not a crash (functional mode has no
trace.json, but summary.json's per-sample table feeds the latency plot), and a missing or invalid summary.json must be
a non-zero exit naming the file.

It also proves it can fail: a copy of the page with a script error, and one with a
plot's marks removed, must both be reported as bad by the same check.

Chromium: $MEMPLAST_CHROMIUM or `chromium` on PATH. Missing: under CI=true a failure,
otherwise a skip (exit 77).

usage: check_report.py MEMPLAST_BIN SOURCE_DIR [--keep DIR]
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
# The plots a quick hardware run must draw (each with data marks).
HW_PLOTS = ["plot-accuracy", "plot-energy", "plot-latency", "plot-power", "plot-conductance",
            "plot-writes", "plot-adc"]


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def find_chromium():
    c = os.environ.get("MEMPLAST_CHROMIUM") or shutil.which("chromium")
    if c:
        return c
    msg = "chromium is not installed (scripts/test installs Debian's chromium)"
    if os.environ.get("CI", "").lower() == "true":
        print("FAIL: " + msg + "; under CI=true a missing browser is a failure")
        sys.exit(1)
    print("SKIP: " + msg)
    sys.exit(SKIP)


def run(cmd, **kw):
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


# ------------------------------------------------------------------ expected marks

def group(component):
    m = re.match(r"^(layer\d+)_t\d+$", component)
    return m.group(1) + " tiles" if m else component


def expected_marks(d):
    """Marks per plot id, from the run folder's files (None: the plot must be a note)."""
    exp = {}
    with open(os.path.join(d, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(d, "accuracy.csv")) as f:
        exp["plot-accuracy"] = sum(1 for _ in csv.DictReader(f))
    sums = {}
    with open(os.path.join(d, "energy.csv")) as f:
        for r in csv.DictReader(f):
            k = (group(r["component"]), r["phase"])
            sums[k] = sums.get(k, 0.0) + float(r["joules"])
    exp["plot-energy"] = sum(1 for v in sums.values() if v > 0)
    with open(os.path.join(d, "writes_per_device.csv")) as f:
        exp["plot-writes"] = sum(
            1 for r in csv.DictReader(f) if int(r["writes"]) > 0 and int(r["devices"]) > 0)
    p = os.path.join(d, "power.csv")
    if os.path.exists(p):
        with open(p) as f:
            rows = list(csv.reader(f))
        head, rows = rows[0], rows[1:]
        stride = max(1, (len(rows) + 399) // 400)
        n = 0
        for k in range(1, len(head)):
            t0 = e0 = 0.0
            for i in range(stride - 1, len(rows), stride):
                t, e = float(rows[i][0]), float(rows[i][k])
                if t > t0 and (e - e0) / (t - t0) > 0:
                    n += 1
                t0, e0 = t, e
        exp["plot-power"] = n
    else:
        exp["plot-power"] = None
    p = os.path.join(d, "histograms.json")
    hist = json.load(open(p)) if os.path.exists(p) else {}
    if "pulses_per_device" in hist:  # drawn beside the writes
        pp = hist["pulses_per_device"]
        exp["plot-writes"] += sum(1 for v, n in zip(pp["values"], pp["devices"]) if v > 0 and n > 0)
    for key, pid in (("conductance", "plot-conductance"), ("adc_input", "plot-adc")):
        if key in hist:
            exp[pid] = sum(1 for h in hist[key]["histograms"] for c in h["counts"] if c > 0)
        else:
            exp[pid] = None
    p = os.path.join(d, "trace.json")
    lat = summary.get("per_sample", {}).get("training", {}).get("latency_s")
    if isinstance(lat, dict):
        # The ledger's per-sample table of the whole run (both modes).
        exp["plot-latency"] = sum(1 for k, v in lat.items() if k != "total" and v > 0)
    elif os.path.exists(p):
        tr = json.load(open(p))
        host = [e["pid"] for e in tr["traceEvents"]
                if e.get("name") == "process_name" and e["args"]["name"] == "host"][0]
        stack, dur = [], {}
        for e in tr["traceEvents"]:
            if e.get("pid") != host or e.get("tid") != 1 or e["ph"] not in "BE":
                continue
            if e["ph"] == "B":
                stack.append((e["name"], e["ts"]))
            else:
                name, t0 = stack.pop()
                if name not in ("task", "epoch", "batch", "init", "evaluation"):
                    dur[name] = dur.get(name, 0.0) + e["ts"] - t0
        exp["plot-latency"] = sum(1 for v in dur.values() if v > 0)
    else:
        exp["plot-latency"] = None
    return exp, summary


# ------------------------------------------------------------------ page checks

def check_self_contained(html):
    need(not re.search(r"<script[^>]*\bsrc\s*=", html, re.I), "a <script src=...>")
    need(not re.search(r"<link\b", html, re.I), "a <link> element")
    need(not re.search(r"@import", html, re.I), "a CSS @import")
    need(not re.search(r"url\(\s*['\"]?https?:", html, re.I), "a url(http...)")
    need(not re.search(r"\b(src|href)\s*=\s*['\"]?(https?:)?//", html, re.I),
         "a src/href to the network")
    others = [m for m in re.findall(r"https?://[^\s\"'<>]+", html)
              if m != "http://www.w3.org/2000/svg"]
    need(not others, f"network addresses in the page: {others[:3]}")


def render(chromium, page, work):
    prof = tempfile.mkdtemp(prefix="chromium-", dir=work)
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + prof, "--virtual-time-budget=10000", "--dump-dom",
           "file://" + os.path.abspath(page)]
    r = run(cmd, timeout=180)
    need(r.returncode == 0, f"chromium exit {r.returncode}: {r.stderr[-2000:]}")
    dom = r.stdout
    m = re.search(r'<div id="report-status"([^>]*)>([^<]*)</div>', dom)
    need(m, "no #report-status in the dumped DOM")
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1)))
    plots = {}
    for row in re.findall(r"<tr (data-plot[^>]*)>", dom):
        a = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', row))
        plots[a["data-plot"]] = a
    return attrs, m.group(2), plots


def check_page(chromium, d, work, label):
    page = os.path.join(d, "report.html")
    need(os.path.exists(page), f"{page} was not written")
    html = open(page, encoding="utf-8").read()
    check_self_contained(html)
    exp, summary = expected_marks(d)
    status, text, plots = render(chromium, page, work)
    print(f"[{label}] {text}")
    need(status.get("data-status") == "ok", f"page status not ok: {text}")
    need(status.get("data-errors") == "0", f"script errors: {text}")
    for pid, want in exp.items():
        if want is None:
            need(pid not in plots, f"{pid}: drawn although its input is missing")
            need(re.search(r'id="%s-section">\s*<h2>[^<]*</h2>\s*<p class="note">' % pid, html),
                 f"{pid}: its input is missing but the page has no note")
            print(f"[{label}] {pid}: note (input missing), as expected")
            continue
        need(pid in plots, f"{pid}: not in the page's render check")
        a = plots[pid]
        drawn = int(a["data-drawn"])
        print(f"[{label}] {pid}: {drawn} marks drawn, {want} expected from the run's files, "
              f"box {a['data-bbox']}")
        need(want > 0, f"{pid}: the run's files imply no data marks")
        need(drawn == want and int(a["data-marks"]) == want and a["data-ok"] == "1",
             f"{pid}: {drawn} marks drawn ({a['data-marks']} in the DOM), expected {want}")
    return html, exp


def must_fail(chromium, html, work, name, mutate):
    d = os.path.join(work, "broken-" + name)
    os.makedirs(d, exist_ok=True)
    page = os.path.join(d, "report.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(mutate(html))
    status, text, _ = render(chromium, page, work)
    need(status.get("data-status") == "error",
         f"the check did not notice a broken page ({name}): {text}")
    print(f"[self-test] {name}: rejected ({text})")


def main():
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        return 2
    binary, src = args
    chromium = find_chromium()
    work = keep or tempfile.mkdtemp(prefix="memplast-report-")
    os.makedirs(work, exist_ok=True)
    cfg = os.path.join(src, "configs", "quick.json")
    try:
        # Hardware mode, the quick preset (traces one batch): every plot has data.
        hw = os.path.join(work, "hw")
        r = run([binary, "train", "--config", cfg, "--progress", "none", "--out", hw,
                 "--report"], cwd=src)
        need(r.returncode == 0, f"train --report exit {r.returncode}: {r.stderr[-3000:]}")
        need("report in " in r.stdout, "train --report printed no report path")
        html, exp = check_page(chromium, hw, work, "hardware")
        need(all(exp[p] is not None for p in HW_PLOTS),
             f"hardware quick run: a plot has no input: {exp}")
        # memplast report on the same folder again: the same page (deterministic).
        r = run([binary, "report", hw])
        need(r.returncode == 0, f"memplast report exit {r.returncode}: {r.stderr}")
        need(open(os.path.join(hw, "report.html"), encoding="utf-8").read() == html,
             "memplast report wrote a different page for the same run folder")

        # Functional mode, smaller: no trace.json (the latency plot reads summary.json).
        fn = os.path.join(work, "fn")
        r = run([binary, "train", "--config", cfg, "--mode", "functional", "--progress", "none",
                 "--set", "train.train_samples=1000", "--set", "train.test_samples=300",
                 "--set", "train.epochs=[1,1]", "--out", fn], cwd=src)
        need(r.returncode == 0, f"functional train exit {r.returncode}: {r.stderr[-3000:]}")
        need(not os.path.exists(os.path.join(fn, "report.html")),
             "train without --report wrote report.html")
        r = run([binary, "report", fn])
        need(r.returncode == 0, f"memplast report (functional) exit {r.returncode}: {r.stderr}")
        check_page(chromium, fn, work, "functional")

        # Errors: no summary.json, an invalid one.
        bad = os.path.join(work, "bad")
        os.makedirs(bad, exist_ok=True)
        r = run([binary, "report", bad])
        need(r.returncode != 0 and "summary.json" in r.stderr,
             f"no summary.json: exit {r.returncode}, stderr {r.stderr!r}")
        with open(os.path.join(bad, "summary.json"), "w") as f:
            f.write("{not json")
        r = run([binary, "report", bad])
        need(r.returncode != 0 and "summary.json" in r.stderr,
             f"invalid summary.json: exit {r.returncode}, stderr {r.stderr!r}")
        need(not os.path.exists(os.path.join(bad, "report.html")), "a report for a bad run")
        print("[errors] missing and invalid summary.json: non-zero exit naming the file")

        # The check can fail.
        must_fail(chromium, html, work, "script-error",
                  lambda h: h.replace("</body>", "<script>no_such_function();</script></body>"))
        must_fail(chromium, html, work, "marks-removed",
                  lambda h: re.sub(r'<circle class="mark"', '<circle class="m"', h, count=1))
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("report regression: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
