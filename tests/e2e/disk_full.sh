#!/usr/bin/env bash
# A disk that fills up in the middle of a run and is then freed (issue 7).
# Usage: disk_full.sh SPINESIM SOURCE_DIR WORK_DIR
# The run directory is on a small tmpfs (needs root to mount it; otherwise the test
# exits 77, which ctest reports as skipped). A filler file leaves only so much space
# that the run fills the disk after it has written some frames and checkpoints. The run
# must stop with exit status 3 and a message naming the file it could not write; the
# files written before are intact (counts.csv a prefix of the uninterrupted run's,
# every frame on disk identical to its frame), no temporary file is left; then the
# filler is deleted and `spinesim resume` must finish with outputs byte-identical to an
# uninterrupted run. Repeated for several amounts of free space, so that the disk
# fills during different writes (frames, counts.csv, checkpoints).
set -u
B=$1; SRC=$2; W=$3
SKIP=77
MNT=$W/mnt
cleanup() { mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; }
fail() { echo "FAIL: $*"; cleanup; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to mount a small tmpfs for the disk-full test (run the tests as root to include it)"
  exit $SKIP
fi
mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
rm -rf "$W"; mkdir -p "$MNT"; cd "$W" || exit 1
if ! mount -t tmpfs -o size=8m tmpfs "$MNT" 2>mount.err; then
  echo "SKIP: cannot mount a tmpfs for the disk-full test: $(cat mount.err)"
  exit $SKIP
fi
trap cleanup EXIT

SQ="$SRC/scenes/single_quantum.pbtxt"
sq() { "$B" run "$SQ" --t-end 0.002 --quiet --threads 1 --checkpoint-every 2e-4 "$@"; }
sq --out ref >/dev/null 2>&1 || fail "reference run"
same() {  # same REF DIR LABEL: the finished outputs are those of the uninterrupted run
  for f in counts.csv frames.pvd $(cd "$1" && ls frames); do
    [ -f "$1/$f" ] || f=frames/$f
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f differs from the uninterrupted run"
  done
  ls "$2"/checkpoint.* >/dev/null 2>&1 && fail "$3: checkpoint files left after the run finished"
  ls -a "$2" "$2/frames" | grep -q '\.tmp' && fail "$3: temporary files left"
  return 0
}

resumed=0
# Free space in KiB: 700 fills the disk before the first checkpoint (nothing to resume);
# the others after one, during a frame, a checkpoint or frames.pvd.
for free_k in 700 1300 1700 2100 2500 2900; do
  rm -rf "${MNT:?}"/*
  avail_k=$(df -k --output=avail "$MNT" | tail -1)
  head -c $(((avail_k - free_k) * 1024)) /dev/zero >"$MNT/filler" || fail "cannot write the filler file"
  d=$MNT/run
  sq --out "$d" >/dev/null 2>err.txt; rc=$?
  [ $rc -eq 3 ] || { cat err.txt; fail "${free_k} KiB free: exit status $rc, expected 3"; }
  grep -q "$d/" err.txt || { cat err.txt; fail "${free_k} KiB free: the message does not name the file"; }
  ls -a "$d" "$d/frames" 2>/dev/null | grep -q '\.tmp' && fail "${free_k} KiB free: temporary file left"
  # Earlier files intact: counts.csv a prefix of the full one, frames identical.
  if [ -f "$d/counts.csv" ]; then
    cmp -s -n "$(stat -c %s "$d/counts.csv")" "$d/counts.csv" ref/counts.csv ||
      fail "${free_k} KiB free: counts.csv is not a prefix of the uninterrupted run's"
  fi
  frames=0
  for f in "$d"/frames/*.vtp; do
    [ -e "$f" ] || continue
    cmp -s "$f" "ref/frames/$(basename "$f")" || fail "${free_k} KiB free: $f differs (damaged by the full disk)"
    frames=$((frames + 1))
  done
  [ -f "$d/frames.pvd" ] && { grep -q '</VTKFile>' "$d/frames.pvd" || fail "${free_k} KiB free: frames.pvd truncated"; }
  what="${free_k} KiB free: exit 3, '$(head -1 err.txt)'; $frames frames kept intact"
  rm -f "$MNT/filler"  # space freed
  if ls "$d"/checkpoint.*.pb >/dev/null 2>&1; then
    "$B" resume "$d" --quiet >/dev/null 2>resume.err || { cat resume.err; fail "${free_k} KiB free: resume"; }
    same ref "$d" "${free_k} KiB free"
    grep -q '"resumed": true' "$d/run.json" || fail "${free_k} KiB free: run.json does not say it was resumed"
    echo "ok: $what; resumed from $(grep -o 'checkpoint\.[0-9]*\.pb' resume.err) after freeing space, outputs identical"
    resumed=$((resumed + 1))
  else
    "$B" resume "$d" >/dev/null 2>resume.err && fail "${free_k} KiB free: resume without a checkpoint succeeded"
    grep -q "no checkpoint" resume.err || { cat resume.err; fail "${free_k} KiB free: no message"; }
    echo "ok: $what; no checkpoint yet, and resume says so: $(cat resume.err)"
  fi
done
[ $resumed -ge 4 ] || fail "only $resumed of the runs had a checkpoint to resume from; adjust the free space"
echo "all checks passed; $resumed runs stopped by a full disk were resumed with identical outputs"
