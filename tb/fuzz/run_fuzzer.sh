#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time from its seed corpus (tb/fuzz/CMakeLists.txt).
# usage: run_fuzzer.sh FUZZER SEED_CORPUS_DIR WORK_DIR SECONDS
# The seed is fixed (MEMPLAST_FUZZ_SEED, default 1) so a CI failure can be replayed.
# Exit status non-zero if the fuzzer found a crash, leak, timeout or sanitizer report;
# the input is then in WORK_DIR/artifacts/ (turn it into a regression test).
set -euo pipefail
fuzzer="$1"
seeds="$2"
work="$3"
secs="$4"
name="$(basename "$fuzzer")"
mkdir -p "$work/corpus/$name" "$work/artifacts"
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -seed="${MEMPLAST_FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" "$work/corpus/$name" "$seeds"
