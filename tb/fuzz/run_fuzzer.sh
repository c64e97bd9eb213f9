#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed number of inputs from its seed corpus
# (tb/fuzz/CMakeLists.txt).
# usage: run_fuzzer.sh FUZZER SEED_CORPUS_DIR WORK_DIR RUNS
# Deterministic: the libFuzzer seed is fixed (MEMPLAST_FUZZ_SEED, default 1), the budget is
# RUNS inputs, and each run starts from the committed seeds only (the work corpus of an
# earlier run is cleared), so a run is the same on every machine and a failure replays.
# Exit status non-zero if the fuzzer found a crash, leak, timeout or sanitizer report;
# the input is then in WORK_DIR/artifacts/ (turn it into a regression test).
set -euo pipefail
fuzzer="$1"
seeds="$2"
work="$3"
runs="$4"
name="$(basename "$fuzzer")"
rm -rf "${work:?}/corpus/$name"
mkdir -p "$work/corpus/$name" "$work/artifacts"
exec "$fuzzer" -runs="$runs" -max_total_time=900 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -seed="${MEMPLAST_FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" "$work/corpus/$name" "$seeds"
