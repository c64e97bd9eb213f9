#!/usr/bin/env bash
# Regression (issue 15): `memplast train` into a full filesystem (a 64 KiB tmpfs as
# --out) fails with a non-zero status and an error naming the file and the cause, and
# leaves no summary.json (the mark of a finished run), not even an earlier run's.
# Needs root (mount); without it the test is skipped (exit 77, ctest SKIP_RETURN_CODE).
# usage: check_full_disk.sh MEMPLAST_BIN SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
dir="$(mktemp -d)"
cleanup() { umount "$dir" 2>/dev/null; rmdir "$dir"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=64k tmpfs "$dir" 2>/dev/null; then
  echo "check_full_disk: SKIP: cannot mount a tmpfs here (not root, or no mount permission)"
  exit 77
fi
echo '{"status": "complete", "stale_marker": true}' >"$dir/summary.json"
"$bin" train --config "$src/configs/quick.json" --mode functional --progress none --out "$dir" --force \
  >"$dir.stdout" 2>"$dir.stderr"
rc=$?
err="$(cat "$dir.stderr")"
rm -f "$dir.stdout" "$dir.stderr"
echo "check_full_disk: exit status $rc: $err"
fail() { echo "check_full_disk: FAIL: $*" >&2; exit 1; }
[ "$rc" -ne 0 ] || fail "the run succeeded on a 64 KiB filesystem"
grep -q "$dir/" <<<"$err" || fail "the error does not name a file in $dir"
grep -q "No space left on device" <<<"$err" || fail "the error does not say the disk is full"
[ ! -e "$dir/summary.json" ] || fail "a summary.json is left in the folder"
ls "$dir" | grep -q '\.tmp\.' && fail "a temporary file is left in the folder"
echo "check_full_disk: passed"
