#!/usr/bin/env python3
"""The address map follows the tile count (issue 19): scripts/gen_regs --resolve N for
1, 64 and 300 tiles, and the spec checks that guard it.

    python3 tb/unit/test_addrmap.py SOURCE_DIR

Per N: N tile regions and one of every other block; every region 4 KiB aligned, inside
the 32-bit space and disjoint from every other; tile i at its placement's base + i *
stride, and for N <= 256 every block exactly where the map put it before tile counts
were configurable (the default run's addresses). Decoding: the last tile's registers
fall in tile N-1's region; the address one stride past it, and a tile index N, fall in
no tile region. Errors: 0 and 2817 tiles, and a spec whose second placement overlaps
meta_unit, exit with status 2 and a message naming the problem.
"""
import json
import os
import subprocess
import sys
import tempfile

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(SRC, "scripts", "gen_regs")
SPEC = os.path.join(SRC, "spec", "address_map.json")
MiB = 1 << 20
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def resolve(n, spec=SPEC):
    p = subprocess.run([sys.executable, GEN, "--spec", spec, "--resolve", str(n)],
                       capture_output=True, text=True)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def decode(regions, addr):
    hits = [r for r in regions if r["base"] <= addr < r["end"]]
    return hits[0]["name"] if len(hits) == 1 else (None if not hits else "AMBIGUOUS")


# The map before tile counts were configurable (spec version 1.0): fixed blocks.
FIXED = {"sysctl": 0x0, "pv_ctrl": 0x10000, "dma": 0x20000, "meta_unit": 0x20000000,
         "host_mem": 0x40000000}
spec = json.load(open(SPEC))
tile_spec = next(b for b in spec["blocks"] if b["name"] == "tile")
stride = int(tile_spec["stride"], 0)
places = [(int(p["base"], 0), p["max"]) for p in tile_spec["instances"]["placements"]]
status_off = next(int(r["offset"], 0) for r in tile_spec["registers"] if r["name"] == "STATUS")

for n in (1, 64, 300):
    rc, m, err = resolve(n)
    check(rc == 0, f"N={n}: gen_regs --resolve exits 0 (got {rc}: {err.strip()})")
    if rc != 0:
        continue
    regs = m["regions"]
    tiles = [r for r in regs if r["block"] == "tile"]
    check(len(tiles) == n, f"N={n}: {len(tiles)} tile regions")
    for b, base in FIXED.items():
        got = [r for r in regs if r["block"] == b]
        check(len(got) == 1 and got[0]["base"] == base, f"N={n}: block {b} at {base:#x}")
    for a, b in zip(regs, regs[1:]):
        check(a["end"] <= b["base"], f"N={n}: {a['name']} overlaps {b['name']}")
    for r in regs:
        check(r["base"] % 4096 == 0, f"N={n}: {r['name']} at {r['base']:#x} not 4 KiB aligned")
        check(r["end"] <= 1 << 32, f"N={n}: {r['name']} ends past 4 GiB")
    pbase = next(b for b, mx in places if n <= mx)
    for t in tiles:
        check(t["base"] == pbase + t["instance"] * stride,
              f"N={n}: tile{t['instance']} at {t['base']:#x}")
    if n <= places[0][1]:
        check(pbase == 0x10000000, f"N={n}: tiles at the 1.0 map's base 0x10000000")
    else:
        check(pbase != 0x10000000, f"N={n}: more than {places[0][1]} tiles move")
    last = pbase + (n - 1) * stride
    check(decode(regs, last + status_off) == f"tile{n - 1}",
          f"N={n}: last tile's STATUS decodes to tile{n - 1}")
    check(decode(regs, last + stride - 4) == f"tile{n - 1}", f"N={n}: last word of tile{n - 1}")
    past = decode(regs, last + stride + status_off)
    check(past is None or not past.startswith("tile"),
          f"N={n}: one stride past the last tile decodes to no tile (got {past})")
    print(f"N={n}: {len(regs)} regions, tiles at {pbase:#010x} .. {last + stride - 1:#010x}")

for bad in (0, places[-1][1] + 1):
    rc, _m, err = resolve(bad)
    check(rc == 2 and "instances" in err, f"N={bad}: refused with status 2 ({rc}: {err.strip()})")

# A spec whose second tile placement runs into meta_unit is refused when loaded.
broken = json.loads(json.dumps(spec))
bt = next(b for b in broken["blocks"] if b["name"] == "tile")
bt["instances"]["placements"][1]["base"] = "0x1F000000"
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(broken, f)
rc, _m, err = resolve(64, f.name)
os.unlink(f.name)
check(rc == 2 and "overlaps" in err, f"overlapping placement refused ({rc}: {err.strip()})")

print("test_addrmap:", "FAILED" if failures else "ok", f"({len(failures)} failure(s))")
sys.exit(1 if failures else 0)
