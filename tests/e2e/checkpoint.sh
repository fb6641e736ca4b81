#!/usr/bin/env bash
# Checkpoints, kill-and-resume and faults (issue 7). Usage: checkpoint.sh SPINESIM SOURCE_DIR WORK_DIR
# Every interrupted run is resumed and its counts.csv, frames.pvd and frames/*.vtp
# compared byte for byte with an uninterrupted run of the same scene and seed.
set -u
B=$1; SRC=$2; W=$3
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
same() {  # same REF DIR LABEL
  for f in counts.csv frames.pvd $(cd "$1" && ls frames); do
    [ -f "$1/$f" ] || f=frames/$f
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f differs from the uninterrupted run"
  done
  ls "$2"/checkpoint.*.pb >/dev/null 2>&1 && fail "$3: checkpoints left after the run finished"
  ls -a "$2" "$2/frames" | grep -q '\.tmp' && fail "$3: temporary files left"
  echo "ok: $3"
}
num() { grep -o "\"$1\": [-0-9.e+]*" "$2" | head -1 | awk '{print $2}'; }  # num KEY run.json
# run.json of a resumed run: says so, names the checkpoint, and wall_time_s is the sum of
# the earlier parts' wall time (persisted beside each checkpoint) and the resumed part's.
resumed_wall() {  # resumed_wall DIR PARTS LABEL
  local j=$1/run.json
  grep -q '"resumed": true' "$j" || fail "$3: run.json does not say it was resumed"
  grep -q "\"resumed_from\": \".*checkpoint\.$(num resumed_from_checkpoint "$j")\.pb\"" "$j" ||
    fail "$3: run.json does not name the checkpoint it resumed from"
  [ "$(num parts "$j")" = "$2" ] || fail "$3: run.json parts $(num parts "$j"), expected $2"
  local t b p
  t=$(num wall_time_s "$j"); b=$(num wall_time_before_resume_s "$j"); p=$(num wall_time_this_part_s "$j")
  awk -v t="$t" -v b="$b" -v p="$p" 'BEGIN { exit !(b > 0 && p > 0 && t == b + p) }' ||
    fail "$3: wall_time_s $t is not the earlier parts' $b s + the resumed part's $p s"
  ls "$1"/checkpoint.* >/dev/null 2>&1 && fail "$3: checkpoint files left"
  return 0
}
DET="$SRC/tests/e2e/scenes/determinism.pbtxt"
SQ="$SRC/scenes/single_quantum.pbtxt"
det() { "$B" run "$DET" --seed 5 --quiet "$@"; }
sq() { "$B" run "$SQ" --t-end 0.002 --quiet "$@"; }
det --out ref_det --threads 1 >/dev/null || fail "reference run (determinism)"
sq --out ref_sq --threads 1 >/dev/null 2>&1 || fail "reference run (single_quantum)"
grep -q '"resumed": false' ref_sq/run.json || fail "run.json of an uninterrupted run does not say resumed: false"
kills=0

# 1. Killed (SIGKILL) in the middle of writing checkpoint N, then resumed with another thread count.
for n in 2 4 7; do
  for t in 1 2; do
    r=$((3 - t))
    SPINESIM_TEST_CRASH_IN_CHECKPOINT=$n det --out det_c${n}_t$t --threads $t --checkpoint-every 3e-5 >/dev/null 2>&1
    [ $? -eq 137 ] || fail "det crash in checkpoint $n: expected SIGKILL (137)"
    "$B" resume det_c${n}_t$t --threads $r >/dev/null 2>resume.err || { cat resume.err; fail "resume det_c${n}_t$t"; }
    same ref_det det_c${n}_t$t "determinism: SIGKILL during checkpoint $n write (threads $t), resumed with threads $r"
    kills=$((kills + 1))
  done
  SPINESIM_TEST_CRASH_IN_CHECKPOINT=$n sq --out sq_c$n --threads 2 --checkpoint-every 2e-4 >/dev/null 2>&1
  "$B" resume sq_c$n --threads 1 >/dev/null 2>&1 || fail "resume sq_c$n"
  same ref_sq sq_c$n "single_quantum (agents, captures, reactions): SIGKILL during checkpoint $n write"
  kills=$((kills + 1))
done

# Killed while writing the first checkpoint: nothing to resume, and it says so.
SPINESIM_TEST_CRASH_IN_CHECKPOINT=1 det --out det_c1 --threads 1 --checkpoint-every 3e-5 >/dev/null 2>&1
"$B" resume det_c1 >/dev/null 2>resume.err && fail "resume without a checkpoint succeeded"
grep -q "no checkpoint" resume.err || { cat resume.err; fail "no message when no checkpoint exists"; }
echo "ok: killed in the first checkpoint write: $(cat resume.err)"

# 2. SIGKILL at wall-clock moments (anywhere: a step, a frame, a checkpoint write).
for delay in 0.05 0.15 0.3 0.5; do
  d=sq_k$delay
  "$B" run "$SQ" --t-end 0.002 --quiet --out $d --threads 2 --checkpoint-every 1e-4 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do ls $d/checkpoint.*.pb >/dev/null 2>&1 && break; sleep 0.01; done
  sleep $delay; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  if ls $d/checkpoint.*.pb >/dev/null 2>&1; then
    "$B" resume $d >/dev/null 2>&1 || fail "resume $d"
    same ref_sq $d "single_quantum: SIGKILL ${delay}s after the first checkpoint"
    resumed_wall $d 2 "SIGKILL ${delay}s"
    kills=$((kills + 1))
  else
    echo "note: run $d finished before the kill"
  fi
done

# 3. The newest checkpoint corrupt: skipped with a message, resumed from the one before.
SPINESIM_TEST_CRASH_IN_CHECKPOINT=5 det --out det_corrupt --threads 2 --checkpoint-every 3e-5 >/dev/null 2>&1
[ -f det_corrupt/checkpoint.4.pb ] && [ -f det_corrupt/checkpoint.3.pb ] || fail "expected checkpoints 3 and 4"
head -c 5000 det_corrupt/checkpoint.4.pb > x && mv x det_corrupt/checkpoint.4.pb
"$B" resume det_corrupt --threads 1 >/dev/null 2>resume.err || { cat resume.err; fail "resume after corrupt checkpoint"; }
grep -q "checkpoint.4.pb is .*skipped" resume.err || { cat resume.err; fail "no message about the corrupt checkpoint"; }
grep -q "from .*checkpoint.3.pb" resume.err || { cat resume.err; fail "did not resume from checkpoint 3"; }
same ref_det det_corrupt "truncated newest checkpoint skipped, resumed from the older one"

# 4. Another format version: refused, naming both versions.
SPINESIM_TEST_CRASH_IN_CHECKPOINT=2 det --out det_version --threads 1 --checkpoint-every 3e-5 >/dev/null 2>&1
printf '\x08\x07' | dd of=det_version/checkpoint.1.pb bs=1 seek=0 conv=notrunc 2>/dev/null
"$B" resume det_version >/dev/null 2>resume.err && fail "a checkpoint of version 7 was accepted"
grep -q "format version 7, but this spinesim reads versions 2 to 3" resume.err || { cat resume.err; fail "version message"; }
echo "ok: checkpoint of format version 7 refused: $(cat resume.err)"

# A finished run: resume leaves it as it is and exits 0 (not an output failure).
before=$(cd ref_det && find . -type f -exec md5sum {} + | sort)
"$B" resume ref_det >/dev/null 2>resume.err || { cat resume.err; fail "resume of a finished run: exit $?"; }
grep -q "holds a finished run" resume.err || { cat resume.err; fail "resume of a finished run: no message"; }
[ "$before" = "$(cd ref_det && find . -type f -exec md5sum {} + | sort)" ] || fail "resume changed a finished run"
echo "ok: resume of a finished run: $(cat resume.err)"

# counts.csv is appended; a checkpoint records its length and CRC-32 (format 3).
#  a. Rows after the checkpoint (here: a stray line) are cut and written again: identical.
SPINESIM_TEST_CRASH_IN_CHECKPOINT=3 det --out det_tail --threads 1 --checkpoint-every 3e-5 >/dev/null 2>&1
echo "9.99,stray row written after the checkpoint" >>det_tail/counts.csv
"$B" resume det_tail >/dev/null 2>resume.err || { cat resume.err; fail "resume with rows after the checkpoint"; }
same ref_det det_tail "counts.csv rows after the checkpoint cut and written again"
#  b. Rows the checkpoint saw that were changed, cut or deleted: refused, naming the file,
#     and counts.csv (and every other output but the dead run's lock and temp files) left as it was.
for how in edit cut delete; do
  d=det_counts_$how
  SPINESIM_TEST_CRASH_IN_CHECKPOINT=3 det --out $d --threads 1 --checkpoint-every 3e-5 >/dev/null 2>&1
  case $how in
    edit) sed -i '2s/^0,/0.0,/' $d/counts.csv ;;
    cut) truncate -s 40 $d/counts.csv ;;
    delete) rm $d/counts.csv ;;
  esac
  before=$(cd $d && find . -type f ! -name '.*' -exec md5sum {} + | sort)
  "$B" resume $d >/dev/null 2>resume.err && fail "counts.csv $how after the checkpoint: resume accepted it"
  grep -q "$d/counts.csv" resume.err || { cat resume.err; fail "counts.csv $how: the message does not name the file"; }
  after=$(cd $d && find . -type f ! -name '.*' -exec md5sum {} + | sort)
  [ "$before" = "$after" ] || fail "counts.csv $how: a refused resume changed the run directory"
  echo "ok: counts.csv $how after the checkpoint refused: $(head -c 160 resume.err)..."
done

# A checkpoint without its wall-time sidecar (written by an older spinesim, or deleted):
# resumed all the same; run.json says the earlier parts' wall time is unknown.
SPINESIM_TEST_CRASH_IN_CHECKPOINT=3 det --out det_nowall --threads 1 --checkpoint-every 3e-5 >/dev/null 2>&1
rm -f det_nowall/checkpoint.*.wall.json
"$B" resume det_nowall --threads 2 >/dev/null 2>resume.err || { cat resume.err; fail "resume without a sidecar"; }
grep -q "checkpoint.2.wall.json is missing" resume.err || { cat resume.err; fail "no message about the sidecar"; }
same ref_det det_nowall "checkpoint without its wall-time sidecar"
grep -q '"wall_time_before_resume_s": null' det_nowall/run.json || fail "sidecar missing: run.json does not say so"
[ "$(num wall_time_s det_nowall/run.json)" = "$(num wall_time_this_part_s det_nowall/run.json)" ] ||
  fail "sidecar missing: wall_time_s is not the resumed part's"

# 5. SIGTERM and SIGINT: checkpoint, exit status 4, a message on how to resume; then identical.
for sig in TERM INT; do
  d=sq_$sig
  "$B" run "$SQ" --t-end 0.002 --quiet --out $d --threads 2 >/dev/null 2>$sig.err &
  pid=$!
  for _ in $(seq 200); do [ -f $d/frames/00002.vtp ] && break; sleep 0.01; done
  kill -$sig $pid; wait $pid; rc=$?
  [ $rc -eq 4 ] || { cat $sig.err; fail "SIG$sig: exit status $rc, expected 4"; }
  grep -q "spinesim resume $d" $sig.err || { cat $sig.err; fail "SIG$sig: no resume hint"; }
  "$B" resume $d --threads 1 >/dev/null 2>&1 || fail "resume after SIG$sig"
  same ref_sq $d "SIG$sig: exit 4 with '$(grep -o 'continue with.*' $sig.err)', resumed identically"
  resumed_wall $d 2 "SIG$sig"
  echo "ok: SIG$sig: run.json wall_time_s $(num wall_time_s $d/run.json) s = $(num wall_time_before_resume_s $d/run.json) s before + $(num wall_time_this_part_s $d/run.json) s resumed"
done

# A run stopped twice (SIGTERM, resume, SIGTERM, resume): three parts, all counted.
d=sq_twice
"$B" run "$SQ" --t-end 0.002 --quiet --out $d --threads 2 >/dev/null 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ -f $d/frames/00002.vtp ] && break; sleep 0.01; done
kill -TERM $pid; wait $pid; [ $? -eq 4 ] || fail "twice: first SIGTERM"
"$B" resume $d --threads 1 --quiet >/dev/null 2>/dev/null &
pid=$!
for _ in $(seq 300); do [ -f $d/frames/00008.vtp ] && break; sleep 0.01; done
kill -TERM $pid; wait $pid; rc=$?
if [ $rc -eq 4 ]; then
  newest=$(ls $d/checkpoint.*.pb | sed 's/.*checkpoint\.\([0-9]*\)\.pb/\1/' | sort -n | tail -1)
  first=$(num wall_time_s $d/checkpoint.$newest.wall.json)
  "$B" resume $d --threads 2 >/dev/null 2>&1 || fail "twice: second resume"
  same ref_sq $d "SIGTERM twice"
  resumed_wall $d 3 "SIGTERM twice"
  awk -v b="$(num wall_time_before_resume_s $d/run.json)" -v f="$first" 'BEGIN { exit !(b == f) }' ||
    fail "SIGTERM twice: the earlier parts' wall time is not the one recorded at the second stop"
  echo "ok: stopped twice and resumed: run.json parts 3, wall_time_s $(num wall_time_s $d/run.json) s"
else
  echo "note: the first resume of $d finished before the second SIGTERM (status $rc)"
fi

# 6. Faults: output directory that cannot be created; a write that fails (file size
# limit, EFBIG, standing in for a full disk: we may run as root, where permissions and
# read-only mounts cannot be simulated portably).
touch not_a_dir
det --out not_a_dir/run >/dev/null 2>err.txt; rc=$?
[ $rc -eq 3 ] && grep -q "not_a_dir/run" err.txt || { cat err.txt; fail "unwritable --out: rc $rc"; }
echo "ok: unwritable output directory: $(cat err.txt)"
( ulimit -f 200; trap '' XFSZ; exec "$B" run "$DET" --out full --quiet ) >/dev/null 2>err.txt; rc=$?
[ $rc -eq 3 ] && grep -q "full/mesh.vtp" err.txt || { cat err.txt; fail "full disk: rc $rc"; }
[ -s full/scene.resolved.pbtxt ] || fail "full disk: earlier file scene.resolved.pbtxt lost"
ls -a full | grep -q '\.tmp' && fail "full disk: temporary file left"
echo "ok: write failure (file size limit): $(cat err.txt)"
echo "all checks passed; $kills SIGKILL points resumed, all outputs identical"
