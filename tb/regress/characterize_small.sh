#!/usr/bin/env bash
# Regression: `memplast characterize` on a small sample writes every output and a sane
# JSON (devices = 2 x cells on a differential tile, no failures on a healthy tile,
# spread inside the band, positive time and energy), and injected stuck cells fail.
set -euo pipefail
bin="${MEMPLAST_BIN:?MEMPLAST_BIN not set}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin" characterize --cells 512 --set characterize.relax_s=10 --out "$out/ok" > "$out/ok.log"
for f in characterize.csv levels.csv iterations.csv characterize.json levels.png; do
  [[ -s "$out/ok/$f" ]] || { echo "missing or empty: $f"; exit 1; }
done
"$bin" characterize --cells 512 --no-plot --set device.stuck_rate=0.05 --out "$out/stuck" > "$out/stuck.log"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
ok = json.load(open(f"{out}/ok/characterize.json"))
assert ok["weights"] == 512 and ok["devices"] == 1024, (ok["weights"], ok["devices"])
assert ok["failures"] == 0 and ok["failure_rate"] == 0.0, ok["failures"]
assert ok["spread_inside_band"] is True
assert ok["time_s"]["programming"] > 0 and ok["energy_j"]["total"] > 0
assert sum(ok["iterations"]["histogram"].values()) == ok["devices"]
assert len(ok["levels"]) >= 2 and all(l["after_programming"]["in_band_fraction"] > 0.99 for l in ok["levels"])
st = json.load(open(f"{out}/stuck/characterize.json"))
assert st["failures"] > 0 and st["failures_on_healthy_cells"] == 0, (st["failures"], st["failures_on_healthy_cells"])
print("characterize regress: ok", ok["devices"], "devices; stuck run", st["failures"], "failures")
PY
