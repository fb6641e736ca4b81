#!/usr/bin/env bash
# Data loss (issue 16): one writer per output directory, and `resume` of an
# `--overwrite` run replaces the run it was started for, from any working directory.
# Usage: data_loss.sh SPINESIM SOURCE_DIR WORK_DIR
#
# Every check runs real processes: two writers overlapping in time, kill -9 and the
# next writer taking over the lock, resumes from other directories. Each finished run
# is compared byte for byte with an undisturbed run of the same seed.
set -u
B=$1; SRC=$2; W=$3
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
SQ="$SRC/scenes/single_quantum.pbtxt"
ENS="$SRC/tests/e2e/scenes/immigration_death.pbtxt"
# ~1.4 s on one thread: long enough for a second writer to arrive while it runs.
sq() { "$B" run "$SQ" --t-end 0.002 --quiet --threads 1 "$@"; }
# For `CMD &`: the function runs in a subshell, which exec turns into spinesim, so $!
# is spinesim's own PID (the one its lock file and the messages name).
sqx() { exec "$B" run "$SQ" --t-end 0.002 --quiet --threads 1 "$@"; }
same_run() {  # same_run REF DIR LABEL [stale]: counts, frames, and the seed in run.json
  # (stale: DIR keeps the lock file of a writer killed with -9 and not yet taken over)
  for f in counts.csv frames.pvd scene.resolved.pbtxt $(cd "$1" && ls frames | sed 's|^|frames/|'); do
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f differs from the reference run"
  done
  [ "$(grep '"seed"' "$1/run.json")" = "$(grep '"seed"' "$2/run.json")" ] || fail "$3: run.json names another seed"
  [ "${4:-}" != stale ] && [ -e "$2/.spinesim.lock" ] && fail "$3: lock file left behind"
  ls "$2"/checkpoint.* >/dev/null 2>&1 && fail "$3: checkpoint left behind"
  return 0
}
wait_for() {  # wait_for FILE: up to 10 s
  for _ in $(seq 1000); do [ -e "$1" ] && return 0; sleep 0.01; done
  fail "timed out waiting for $1"
}
# A whole directory tree's contents, for "left untouched" checks.
digest() { (cd "$1" && find . -type f | sort | xargs md5sum | md5sum); }

for s in 1 2 3; do sq --out ref$s --seed $s >/dev/null 2>&1 || fail "reference run seed $s"; done

# 1. Two writers into one --out: the second arrives while the first runs. It fails at
#    once (exit 3) naming the first's PID and the directory; the first's run is whole.
sqx --out two --seed 1 >/dev/null 2>first.err &
pid=$!
wait_for two/.spinesim.lock
t0=$(date +%s%N)
sq --out two --seed 2 >/dev/null 2>second.err; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait $pid || { cat first.err; fail "two writers: the first writer failed"; }
[ $rc -eq 3 ] || { cat second.err; fail "two writers: second writer exit $rc, expected 3"; }
grep -q "two is being written by another spinesim (PID $pid: " second.err ||
  { cat second.err; fail "two writers: message does not name the holder's PID $pid"; }
same_run ref1 two "two writers: the first writer's run"
echo "ok: second writer refused in $ms ms: $(cat second.err)"

# 2. Two writers started at the same instant, three times: never both succeed, and
#    the directory holds exactly the run of the one that did.
for k in 1 2 3; do
  d=race$k
  sqx --out $d --seed 2 >/dev/null 2>$d.a.err & a=$!
  sqx --out $d --seed 3 >/dev/null 2>$d.b.err & b=$!
  wait $a; ra=$?; wait $b; rb=$?
  if [ $ra -eq 0 ] && [ $rb -ne 0 ]; then win=2; lose=$d.b.err; rl=$rb
  elif [ $rb -eq 0 ] && [ $ra -ne 0 ]; then win=3; lose=$d.a.err; rl=$ra
  else cat $d.a.err $d.b.err; fail "simultaneous writers $k: exits $ra and $rb (exactly one must succeed)"; fi
  # The loser either found the lock held (3) or, arriving after the winner finished,
  # the run in place (2); either way it says so.
  grep -q "is being written by another spinesim (PID \|already holds a run" $lose ||
    { cat $lose; fail "simultaneous writers $k: loser's message (exit $rl)"; }
  same_run ref$win $d "simultaneous writers $k (seed $win won)"
  echo "ok: simultaneous writers $k: seed $win won, the other exit $rl: $(head -c 120 $lose)..."
done

# 3. --overwrite racing --overwrite on an existing run, and `resume` of a directory
#    that is being written: both refused with the PID; the run that holds the lock
#    replaces the old one whole.
sq --out ow --seed 1 >/dev/null 2>&1 || fail "ow: first run"
sqx --out ow --seed 2 --overwrite --checkpoint-every 1e-4 >/dev/null 2>ow.err &
pid=$!
wait_for ow.partial/.spinesim.lock
sq --out ow --seed 3 --overwrite >/dev/null 2>ow2.err; rc=$?
[ $rc -eq 3 ] && grep -q "PID $pid" ow2.err || { cat ow2.err; fail "overwrite racing overwrite: exit $rc"; }
"$B" resume ow.partial >/dev/null 2>ow3.err; rc=$?
[ $rc -eq 3 ] && grep -q "PID $pid" ow3.err || { cat ow3.err; fail "resume of a directory being written: exit $rc"; }
wait $pid || { cat ow.err; fail "overwrite: the writer failed"; }
same_run ref2 ow "--overwrite with a second --overwrite and a resume refused"
[ -e ow.partial ] && fail "overwrite: ow.partial left"
echo "ok: --overwrite racing --overwrite: $(cat ow2.err)"
echo "ok: resume racing a writer: $(cat ow3.err)"

# 4. kill -9: the lock file stays, but the lock is the kernel's and died with the
#    process; resume takes it over (saying so), finishes identically, removes the file.
#    A second resume while the first runs is refused.
sqx --out k9 --seed 1 --checkpoint-every 1e-4 >/dev/null 2>&1 &
pid=$!
wait_for k9/checkpoint.2.pb
kill -9 $pid; wait $pid 2>/dev/null
[ -f k9/.spinesim.lock ] || fail "kill -9: expected the stale lock file to remain"
grep -q "^pid $pid$" k9/.spinesim.lock || fail "kill -9: lock file does not name PID $pid"
"$B" resume k9 --threads 1 >/dev/null 2>k9.err &
rpid=$!
for _ in $(seq 500); do grep -q "^pid $rpid$" k9/.spinesim.lock 2>/dev/null && break; sleep 0.01; done
"$B" resume k9 >/dev/null 2>k9b.err; rc=$?
wait $rpid || { cat k9.err; fail "kill -9: resume failed"; }
grep -q "k9 was left locked by PID $pid, which has ended" k9.err || { cat k9.err; fail "kill -9: no takeover message"; }
if [ $rc -eq 3 ]; then
  grep -q "PID $rpid" k9b.err || { cat k9b.err; fail "second resume: message does not name PID $rpid"; }
  echo "ok: second resume while the first runs: $(cat k9b.err)"
else
  # The first resume finished before the second started: nothing left to resume.
  [ $rc -eq 0 ] && grep -q "holds a finished run" k9b.err || { cat k9b.err; fail "second resume: exit $rc"; }
  echo "note: the first resume finished before the second began"
fi
same_run ref1 k9 "kill -9, stale lock taken over by resume"
echo "ok: kill -9 then resume: $(grep 'left locked' k9.err)"

# A fresh run into a directory whose writer was killed before any checkpoint: the
# stale lock is taken over by `run --overwrite` too.
sqx --out k9b --seed 3 >/dev/null 2>&1 &
pid=$!
wait_for k9b/.spinesim.lock
sleep 0.2; kill -9 $pid; wait $pid 2>/dev/null
sq --out k9b --seed 3 --overwrite >/dev/null 2>k9c.err || { cat k9c.err; fail "overwrite after kill -9"; }
grep -q "left locked by PID $pid" k9c.err || { cat k9c.err; fail "overwrite after kill -9: no takeover message"; }
same_run ref3 k9b "kill -9 before a checkpoint, then run --overwrite"
echo "ok: kill -9, then run --overwrite takes the lock over"

# 5. Ensembles: a second ensemble into the same directory is refused naming the PID;
#    kill -9 then a rerun takes the lock over and ends with the reference statistics.
ens() { "$B" ensemble "$ENS" --no-plots --quiet --csv --seed 9 --sweep "simulation.grid_cell_um=0.03" "$@"; }
ensx() { exec "$B" ensemble "$ENS" --no-plots --quiet --csv --seed 9 --sweep "simulation.grid_cell_um=0.03" "$@"; }
ens --replicates 12 --threads 1 --out ens_ref >/dev/null 2>&1 || fail "reference ensemble"
ensx --replicates 12 --threads 1 --out ens >/dev/null 2>ens.err &
pid=$!
wait_for ens/.spinesim.lock
ens --replicates 12 --threads 1 --out ens --seed 10 >/dev/null 2>ens2.err; rc=$?
wait $pid || { cat ens.err; fail "ensemble: the first writer failed"; }
[ $rc -eq 3 ] && grep -q "ens is being written by another spinesim (PID $pid" ens2.err ||
  { cat ens2.err; fail "two ensembles: exit $rc"; }
cmp -s ens_ref/stats.csv ens/stats.csv && cmp -s ens_ref/summary.csv ens/summary.csv ||
  fail "two ensembles: the first ensemble's statistics differ from the reference"
[ -e ens/.spinesim.lock ] && fail "ensemble: lock file left"
echo "ok: two ensembles: $(cat ens2.err)"
ensx --replicates 12 --threads 1 --out ensk >/dev/null 2>&1 &
pid=$!
# Until the first replicate is in the journal (the file exists, empty, from the start).
for _ in $(seq 1000); do [ -s ensk/replicates.0.journal ] && break; sleep 0.01; done
[ -s ensk/replicates.0.journal ] || fail "timed out waiting for the first finished replicate"
kill -9 $pid; wait $pid 2>/dev/null
ens --replicates 12 --threads 2 --out ensk >/dev/null 2>ensk.err || { cat ensk.err; fail "ensemble after kill -9"; }
grep -q "left locked by PID $pid" ensk.err || { cat ensk.err; fail "ensemble after kill -9: no takeover message"; }
cmp -s ens_ref/stats.csv ensk/stats.csv && cmp -s ens_ref/summary.csv ensk/summary.csv ||
  fail "ensemble after kill -9: statistics differ from the reference"
echo "ok: ensemble killed with -9 and rerun: $(cat ensk.err)"

# 6. Resume of an --overwrite run from another working directory. w1/runs/x and
#    w2/runs/x both hold runs; the run replacing w1/runs/x is killed; resumed from w2
#    (relative path) and from / (absolute path), it replaces w1/runs/x and leaves
#    w2/runs/x untouched.
killed_overwrite() {  # killed_overwrite WORKDIR: runs/x with seed 1, then a killed --overwrite with seed 2
  mkdir -p "$1/runs"
  (cd "$1" && sq --out runs/x --seed 1 >/dev/null 2>&1) || fail "$1: first run"
  (cd "$1" && exec "$B" run "$SQ" --t-end 0.002 --quiet --threads 1 --out runs/x --seed 2 --overwrite \
    --checkpoint-every 1e-4 >/dev/null 2>&1) &
  local p=$!
  wait_for "$1/runs/x.partial/checkpoint.2.pb"
  kill -9 $p; wait $p 2>/dev/null
}
mkdir -p w2/runs
(cd w2 && sq --out runs/x --seed 3 >/dev/null 2>&1) || fail "w2 run"
before=$(digest w2/runs)
for how in relative absolute; do
  rm -rf w1; killed_overwrite w1
  if [ $how = relative ]; then
    (cd w2 && "$B" resume ../w1/runs/x.partial >/dev/null 2>../res.err) || { cat res.err; fail "resume from w2"; }
  else
    (cd / && "$B" resume "$W/w1/runs/x.partial" >/dev/null 2>"$W/res.err") || { cat res.err; fail "resume from /"; }
  fi
  same_run ref2 w1/runs/x "resume of --overwrite from another directory ($how path)"
  [ -e w1/runs/x.partial ] && fail "$how: x.partial left"
  [ "$(digest w2/runs)" = "$before" ] || fail "$how: w2/runs was changed by a resume aimed at w1/runs/x"
  echo "ok: resume from another directory ($how path) replaced w1/runs/x, w2/runs untouched"
done

# The same from inside the run directory's parent, with a trailing slash.
rm -rf w1; killed_overwrite w1
(cd w1/runs && "$B" resume x.partial/ >/dev/null 2>../../res.err) || { cat res.err; fail "resume x.partial/"; }
same_run ref2 w1/runs/x "resume x.partial/ from its parent"

# 7. What does not fit together is refused, and nothing is replaced:
#  a. NAME.partial renamed;
rm -rf w1; killed_overwrite w1
mv w1/runs/x.partial w1/runs/renamed
"$B" resume w1/runs/renamed >/dev/null 2>amb.err; rc=$?
[ $rc -eq 3 ] && grep -q "which run it replaces is ambiguous; rename .*renamed back to x.partial" amb.err ||
  { cat amb.err; fail "renamed partial: exit $rc"; }
same_run ref1 w1/runs/x "renamed partial: the old run" stale
echo "ok: renamed NAME.partial refused: $(cat amb.err)"
#  b. NAME.partial moved away alone (its run is not beside it);
mkdir -p elsewhere; mv w1/runs/renamed elsewhere/x.partial
"$B" resume elsewhere/x.partial >/dev/null 2>amb.err; rc=$?
[ $rc -eq 3 ] && grep -q "elsewhere/x (written for .*w1/runs/x) when it finishes, but that directory is not there" amb.err ||
  { cat amb.err; fail "partial moved alone: exit $rc"; }
[ -e elsewhere/x ] && fail "partial moved alone: created elsewhere/x"
echo "ok: NAME.partial moved away alone refused: $(cat amb.err)"
#  c. ... beside another run of the same name while the original still exists;
mkdir -p elsewhere/x && cp ref3/run.json elsewhere/x/
before=$(digest elsewhere/x)
"$B" resume elsewhere/x.partial >/dev/null 2>amb.err; rc=$?
[ $rc -eq 3 ] && grep -q "still holds a run, .*so which run it replaces is ambiguous" amb.err ||
  { cat amb.err; fail "partial beside another run: exit $rc"; }
[ "$(digest elsewhere/x)" = "$before" ] || fail "partial beside another run: elsewhere/x changed"
same_run ref1 w1/runs/x "partial beside another run: the original run" stale
echo "ok: NAME.partial beside another run of that name refused: $(cat amb.err)"
#  d. the old run deleted: refused until its directory exists again.
rm -rf w1; killed_overwrite w1
rm -rf w1/runs/x
"$B" resume w1/runs/x.partial >/dev/null 2>amb.err; rc=$?
[ $rc -eq 3 ] && grep -q "create .*w1/runs/x (empty)" amb.err || { cat amb.err; fail "old run deleted: exit $rc"; }
mkdir w1/runs/x
"$B" resume w1/runs/x.partial >/dev/null 2>res.err || { cat res.err; fail "resume into a recreated directory"; }
same_run ref2 w1/runs/x "old run deleted, directory recreated"
echo "ok: the replaced run deleted: refused, then resumed once the directory exists"
#  e. the whole tree moved: the run beside NAME.partial is the one to replace.
rm -rf w1 w1moved; killed_overwrite w1
mv w1 w1moved
"$B" resume w1moved/runs/x.partial >/dev/null 2>res.err || { cat res.err; fail "resume after moving the tree"; }
same_run ref2 w1moved/runs/x "tree moved, then resumed"
echo "ok: the whole tree moved, resumed into the moved run directory"

# 8. --out with a trailing slash: NAME.partial is a sibling, not a directory inside.
sq --out ts --seed 1 >/dev/null 2>&1 || fail "ts: first run"
sqx --out ts/ --seed 2 --overwrite --checkpoint-every 1e-4 >/dev/null 2>&1 &
pid=$!
wait_for ts.partial/checkpoint.1.pb
kill -9 $pid; wait $pid 2>/dev/null
[ -e ts/.partial ] && fail "trailing slash: wrote ts/.partial inside the old run"
"$B" resume ts.partial >/dev/null 2>res.err || { cat res.err; fail "trailing slash: resume"; }
same_run ref2 ts "--out DIR/ --overwrite, killed and resumed"
echo "ok: --out ts/ --overwrite writes ts.partial beside it"
# 9. A checkpoint of an older spinesim, whose final_dir is relative to the working
#    directory of the run ("runs/x"): resumed from w2, where runs/x is another run, it
#    must still replace w1/runs/x (the old code replaced w2/runs/x and exited 0).
#    The checkpoint is rewritten with final_dir "runs/x" by a raw protobuf edit
#    (field 8 of the payload) and a fresh CRC-32. Needs python3 (skipped without).
relative_final_dir() {  # relative_final_dir CHECKPOINT VALUE
  python3 - "$1" "$2" <<'PY'
import sys, zlib
path, value = sys.argv[1], sys.argv[2].encode()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80: return v, i
def enc(v):
    out = bytearray()
    while True:
        c = v & 0x7f; v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v: return bytes(out)
def fields(b):  # (number, wire type, raw bytes of the whole field)
    i = 0
    while i < len(b):
        start = i; key, i = varint(b, i); wt = key & 7
        if wt == 0: _, i = varint(b, i)
        elif wt == 1: i += 8
        elif wt == 5: i += 4
        elif wt == 2: n, i = varint(b, i); i += n
        else: raise SystemExit("unexpected wire type %d" % wt)
        yield key >> 3, wt, b[start:i]
def payload_of(raw):  # the value of a length-delimited field
    _, i = varint(raw, 0); n, i = varint(raw, i); return raw[i:i + n]
data = open(path, "rb").read()
top = list(fields(data))
payload = payload_of(next(r for f, w, r in top if f == 3))
new = b"".join((b"\x42" + enc(len(value)) + value) if f == 8 else r for f, w, r in fields(payload))
version = next(r for f, w, r in top if f == 1)
out = version + b"\x15" + zlib.crc32(new).to_bytes(4, "little") + b"\x1a" + enc(len(new)) + new
open(path, "wb").write(out)
PY
}
if command -v python3 >/dev/null; then
  rm -rf w1; killed_overwrite w1
  before=$(digest w2/runs)
  for f in w1/runs/x.partial/checkpoint.*.pb; do relative_final_dir "$f" runs/x || fail "rewriting $f"; done
  grep -q "$W/w1/runs/x" w1/runs/x.partial/checkpoint.*.pb && fail "old-format checkpoint: absolute path left"
  (cd w2 && "$B" resume ../w1/runs/x.partial >/dev/null 2>../res.err) || { cat res.err; fail "resume old-format checkpoint"; }
  grep -q "skipped" res.err && { cat res.err; fail "old-format checkpoint: the rewritten checkpoint was not valid"; }
  same_run ref2 w1/runs/x "checkpoint with a relative final_dir, resumed from another directory"
  [ "$(digest w2/runs)" = "$before" ] || fail "old-format checkpoint: w2/runs/x was replaced"
  echo "ok: a checkpoint holding final_dir \"runs/x\" (older spinesim), resumed from w2, replaced w1/runs/x"
else
  echo "note: old-format checkpoint check skipped (no python3)"
fi
echo "all data-loss checks passed"
