#!/usr/bin/env python3
"""Issue 10 item 6: the functional mode charges the hardware mode's per-operation
energies, so on configs/quick.json the two modes' energy_j.total agree within 10 %, per
component where both charge it (host, meta_unit, tiles + programming), and the hardware
mode's simulated time is at least the functional mode's (within 5 %): the functional
mode has no bus, no contention and no data movement.

It also prints where the hardware mode's extra time goes: the difference of the
simulated times, the named contention times (time_s.contention: bus arbitration, tile
busy, pv_ctrl queue full, DMA channel busy) and the data movement (time_s.data_movement),
each with its share of the difference. It asserts only what holds by construction: every
contention time is >= 0 and they sum to at most the hardware simulated time, and the
functional mode has none. It does NOT assert that the contention accounts for the
difference: the functional mode has no data movement and no register/polling overheads,
so most of the difference is not contention (docs/system.md, "Contention").

usage: check_mode_parity.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import os
import sys
import tempfile

from regress_util import fail, quick_train_cmd, run_or_fail


def breakdown(hw, fn):
    th, tf = hw["simulated_time_s"], fn["simulated_time_s"]
    diff = th - tf
    ch, cf = hw["time_s"]["contention"], fn["time_s"]["contention"]
    dm = hw["time_s"]["data_movement"]

    def share(v):
        return "%.3g %% of the difference" % (100.0 * v / diff) if diff > 0 else "n/a"

    print("time breakdown: hardware %.9g s - functional %.9g s = %.9g s" % (th, tf, diff))
    for k in ("bus_arbitration", "tile_busy", "pv_queue_full", "dma_channel_busy"):
        if k not in ch:
            fail("hardware summary.json has no time_s.contention.%s" % k)
        print("  contention.%-17s %.9g s (%s)" % (k, ch[k], share(ch[k])))
        if not ch[k] >= 0:
            fail("time_s.contention.%s is negative: %r" % (k, ch[k]))
        if cf.get(k, 0.0) != 0:
            fail("functional mode reports contention time_s.contention.%s = %r" % (k, cf[k]))
    named = sum(ch.values())
    print("  contention total        %.9g s (%s)" % (named, share(named)))
    if not named <= th:
        fail("the contention times sum to %r, above the hardware simulated time %r" % (named, th))
    for k in ("bus", "dma", "host_mem"):
        print("  data_movement.%-14s %.9g s (%s)" % (k, dm[k], share(dm[k])))
    moved = named + dm["bus"] + dm["dma"]
    print("  contention + bus + dma  %.9g s (%s; they may overlap the host's compute)"
          % (moved, share(moved)))


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        s = {}
        for mode in ("hardware", "functional"):
            out = os.path.join(tmp, mode)
            run_or_fail(quick_train_cmd(binary, src, out, mode, ("trace.enable=false",)), src)
            with open(os.path.join(out, "summary.json")) as f:
                s[mode] = json.load(f)
    hw, fn = s["hardware"], s["functional"]
    eh, ef = hw["energy_j"]["total"], fn["energy_j"]["total"]
    print("energy_j.total: hardware %.9g J, functional %.9g J (ratio %.6f)" % (eh, ef, ef / eh))
    if not abs(ef - eh) <= 0.10 * eh:
        fail("energy_j.total differs by more than 10 %%: hardware %r, functional %r" % (eh, ef))
    bh, bf = hw["energy_j"]["by_component"], fn["energy_j"]["by_component"]
    # Programming energy: the tiles' programming ports in hardware mode, pv_ctrl's rows
    # (at the tiles' costs) in functional mode; both with the MVM energy under "tile".
    groups = {"host": ["host"], "meta_unit": ["meta_unit"], "tiles": ["tile", "pv_ctrl"]}
    for g, comps in groups.items():
        a = sum(bh.get(c, 0.0) for c in comps)
        b = sum(bf.get(c, 0.0) for c in comps)
        print("  %-9s hardware %.9g J, functional %.9g J" % (g, a, b))
        if a <= 0 or not abs(a - b) <= 0.10 * a:
            fail("%s energy differs by more than 10 %% between the modes: %r vs %r" % (g, a, b))
    th, tf = hw["simulated_time_s"], fn["simulated_time_s"]
    print("simulated_time_s: hardware %.9g s, functional %.9g s" % (th, tf))
    if not th >= 0.95 * tf:
        fail("hardware simulated time %r is below the functional mode's %r (by more than 5 %%)"
             % (th, tf))
    breakdown(hw, fn)
    print("check_mode_parity: ok")


if __name__ == "__main__":
    main()
