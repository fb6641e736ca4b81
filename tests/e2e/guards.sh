#!/usr/bin/env bash
# Crashes, silent wrong answers and resource guards (issue 16), end to end with real
# processes:
#  1. the molecule budget (simulation.max_molecules) holds for every way molecules are
#     made at run time: each run stops with exit status 3, the message, a checkpoint
#     and counts.csv kept, within seconds and with the population bounded;
#  2. SIGINT/SIGTERM stop every long loop (the pools' SSA run-on, tiny dt, tiny
#     checkpoint intervals) within a second with a checkpoint and exit 4, and a pool
#     run stopped mid-SSA resumes to byte-identical counts;
#  3. 16-bit ids: 65,537 agent states or regions are refused, 65,536 states accepted;
#  4. names with commas, quotes and spaces give RFC 4180 counts.csv headers.
# Every command runs under `timeout`, so a hang fails instead of blocking.
# Usage: guards.sh SPINESIM SOURCE_DIR WORK_DIR
set -u
B=$1; SRC=$2; W=$3
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
checks=0

# ---------------------------------------------------------------------------------
# 1. The budget at run time, one scene per way molecules are made. Each makes
# molecules without bound; max_molecules is 2000.
BUDGET=2000
head_box='simulation { dt_s: 1e-5 t_end_s: 100 seed: 3 max_molecules: 2000 }
geometry { box { } }
output { counts_interval_s: 0.001 frame_interval_s: 0 render_png: false }'
cat > chan.pbtxt <<'EOF'
agent_type { name: "Chan" source: "test"
  state { name: "C" } state { name: "O" }
  transition { from: "C" to: "O" rate_per_s: 100 source: "test" }
  transition { from: "O" to: "C" rate_per_s: 100 source: "test" } }
EOF
mk() { printf '%s\n%s\n' "$head_box" "$2" > "budget_$1.pbtxt"; }
mk poisson_release 'species { name: "A" diffusion_um2_per_s: 0 }
release { species: "A" count: 100 at { x_um: 0.5 y_um: 0.5 z_um: 0.5 } poisson_rate_hz: 1000 }'
mk poisson_release_diffusing 'species { name: "A" diffusion_um2_per_s: 1 }
release { species: "A" count: 100 at { x_um: 0.5 y_um: 0.5 z_um: 0.5 } poisson_rate_hz: 1000 }'
mk production_volume 'species { name: "A" diffusion_um2_per_s: 0 }
production { species: "A" rate_per_s: 1e5 compartment: "box" }'
mk production_membrane 'species { name: "M" kind: MEMBRANE diffusion_um2_per_s: 0 }
production { species: "M" rate_per_s: 1e5 region: "box_wall" }'
mk production_agents 'agent_file: "chan.pbtxt"
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" }
production { species: "Chan" rate_per_s: 1e5 region: "box_wall" }'
mk autocatalysis_volume 'species { name: "A" diffusion_um2_per_s: 0 }
placement { species: "A" compartment: "box" count: 10 }
reaction { reactant: "A" product: "A" product: "A" rate_per_s: 1000 }'
mk autocatalysis_diffusing 'species { name: "A" diffusion_um2_per_s: 1 }
placement { species: "A" compartment: "box" count: 10 }
reaction { reactant: "A" product: "A" product: "A" rate_per_s: 1000 }'
mk autocatalysis_membrane 'species { name: "M" kind: MEMBRANE diffusion_um2_per_s: 0 }
placement { species: "M" region: "box_wall" count: 10 }
reaction { reactant: "M" product: "M" product: "M" rate_per_s: 1000 }'
mk pool_zeroth_order 'well_mixed { pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 0 }
  reaction { name: "make" product: "X" rate: 1e4 source: "test" } }'
mk pool_autocatalysis 'well_mixed { pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 10 }
  reaction { name: "grow" reactant: "X" product: "X" product: "X" rate: 100 source: "test" } }'
mk pool_insertion 'agent_file: "chan.pbtxt"
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" }
well_mixed { pool { name: "endo" volume_um3: 0.01 }
  species { name: "Chan_in" pool: "endo" insert_as_agent { species: "Chan" region: "box_wall" } }
  reaction { name: "exo" product: "Chan_in" rate: 1e4 source: "test" } }'

for scene in budget_*.pbtxt; do
  name=${scene%.pbtxt}
  t0=$(now_ms)
  timeout -s KILL 60 "$B" run "$scene" --out "$name" --quiet >out.txt 2>err.txt; rc=$?
  ms=$(( $(now_ms) - t0 ))
  [ $rc -eq 137 ] && fail "$name: still running after 60 s"
  [ $rc -eq 3 ] || { cat err.txt; fail "$name: exit $rc, expected 3"; }
  grep -q "more than simulation.max_molecules = $BUDGET" err.txt || { cat err.txt; fail "$name: no budget message"; }
  grep -q "checkpoint written to $name/checkpoint.1.pb" err.txt || { cat err.txt; fail "$name: no checkpoint named"; }
  [ -s "$name/checkpoint.1.pb" ] || fail "$name: no checkpoint file"
  # The population the message reports: within a factor 2 of the budget (a step at
  # most doubles it; events add at most one release).
  n=$(sed -n 's/.*the run has \([0-9]*\) molecules.*/\1/p' err.txt)
  [ -n "$n" ] && [ "$n" -gt $BUDGET ] && [ "$n" -le $((2 * BUDGET + 100)) ] || { cat err.txt; fail "$name: population '$n'"; }
  rows=$(wc -l < "$name/counts.csv")
  [ "$rows" -ge 2 ] || fail "$name: counts.csv has no rows"
  [ $ms -lt 20000 ] || fail "$name: took $ms ms to stop"
  checks=$((checks + 1))
  echo "ok: $name stopped at $n molecules in $ms ms: $(grep -o 'at t = [0-9.e+-]* s' err.txt)"
done
# Within the budget the same kind of scene runs to the end.
printf '%s\n%s\n' "$(echo "$head_box" | sed 's/t_end_s: 100/t_end_s: 0.01/')" 'species { name: "A" diffusion_um2_per_s: 0 }
release { species: "A" count: 10 at { x_um: 0.5 y_um: 0.5 z_um: 0.5 } poisson_rate_hz: 1000 }' > within.pbtxt
timeout -s KILL 60 "$B" run within.pbtxt --out within --quiet >out.txt 2>err.txt || { cat err.txt; fail "within budget: not exit 0"; }
checks=$((checks + 1))

# ---------------------------------------------------------------------------------
# 2. Signals in long loops. Each scene would run for minutes; the signal comes after
# ~1 s, and the run must have written a checkpoint and exited 4 within 1 s of it.
cat > sig_pool_ssa.pbtxt <<'EOF'
simulation { t_end_s: 1000 seed: 5 }
geometry { box { } }
output { counts_interval_s: 500 frame_interval_s: 0 render_png: false }
well_mixed { pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 1000 } species { name: "Y" pool: "cyt" count: 0 }
  reaction { name: "f" reactant: "X" product: "Y" rate: 1e5 source: "test" }
  reaction { name: "b" reactant: "Y" product: "X" rate: 1e5 source: "test" } }
EOF
cat > sig_tiny_dt.pbtxt <<'EOF'
simulation { dt_s: 1e-10 t_end_s: 1 seed: 5 }
geometry { box { } }
species { name: "A" diffusion_um2_per_s: 1 }
placement { species: "A" compartment: "box" count: 100 }
output { counts_interval_s: 0.5 frame_interval_s: 0 render_png: false }
EOF
cat > sig_tiny_checkpoints.pbtxt <<'EOF'
simulation { dt_s: 1e-6 t_end_s: 10 seed: 5 }
geometry { box { } }
species { name: "A" diffusion_um2_per_s: 1 }
placement { species: "A" compartment: "box" count: 10 }
output { counts_interval_s: 1 frame_interval_s: 0 render_png: false }
EOF
# The handlers are installed before the "running" line is printed: wait for it (a
# loaded machine can take over a second to start), so the signal meets spinesim's
# handler and not the default action.
wait_running() {  # wait_running PID ERRFILE
  local n=0
  until grep -q "^spinesim: running" "$2" 2>/dev/null; do
    kill -0 "$1" 2>/dev/null || return 1
    [ $n -lt 3000 ] || return 1
    sleep 0.01; n=$((n + 1))
  done
}
signal_test() {  # signal_test NAME SIGNAL SCENE [ARGS...]
  local name=$1 sig=$2 scene=$3; shift 3
  timeout -s KILL 60 "$B" run "$scene" --out "$name" "$@" >out.txt 2>err.txt &
  local pid=$!
  wait_running $pid err.txt || { cat err.txt; fail "$name: did not start"; }
  sleep 1
  kill -0 $pid 2>/dev/null || { cat err.txt; fail "$name: ended before the signal"; }
  local t0; t0=$(now_ms)
  # The timeout wrapper passes the signal on to spinesim.
  kill -s "$sig" $pid
  local waited=0
  while kill -0 $pid 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.01; waited=$((waited + 1)); done
  local ms=$(( $(now_ms) - t0 ))
  kill -0 $pid 2>/dev/null && { kill -9 $pid; fail "$name: still running 1 s after SIG$sig"; }
  wait $pid; local rc=$?
  [ $rc -eq 4 ] || { cat err.txt; fail "$name: exit $rc after SIG$sig, expected 4"; }
  ls "$name"/checkpoint.*.pb >/dev/null 2>&1 || fail "$name: no checkpoint after SIG$sig"
  grep -q "continue with: spinesim resume" err.txt || { cat err.txt; fail "$name: no resume hint"; }
  [ $ms -le 1000 ] || fail "$name: took $ms ms after SIG$sig"
  checks=$((checks + 1))
  echo "ok: $name: SIG$sig -> exit 4 with a checkpoint in $ms ms"
}
signal_test pool_ssa_int INT sig_pool_ssa.pbtxt
signal_test pool_ssa_term TERM sig_pool_ssa.pbtxt
signal_test tiny_dt_int INT sig_tiny_dt.pbtxt
signal_test tiny_dt_term TERM sig_tiny_dt.pbtxt --threads 2
signal_test tiny_checkpoints_int INT sig_tiny_checkpoints.pbtxt --checkpoint-every 1e-6
# A pool run stopped inside the SSA run-on resumes to the uninterrupted run's counts.
# About 3·10⁷ pool reactions (≈ 3 s): stopped 0.5 s after it started, between two outputs.
sed 's/t_end_s: 1000/t_end_s: 0.3/; s/counts_interval_s: 500/counts_interval_s: 0.01/' sig_pool_ssa.pbtxt > pool_short.pbtxt
timeout -s KILL 120 "$B" run pool_short.pbtxt --out pool_ref --quiet >out.txt 2>err.txt || { cat err.txt; fail "pool_short: reference run"; }
timeout -s KILL 120 "$B" run pool_short.pbtxt --out pool_cut >/dev/null 2>err.txt &
pid=$!; wait_running $pid err.txt || { cat err.txt; fail "pool_short: did not start"; }
sleep 0.5; kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 4 ] || { cat err.txt; fail "pool_short: exit $rc after SIGINT (finished too soon?)"; }
timeout -s KILL 120 "$B" resume pool_cut --quiet >out.txt 2>err.txt || { cat err.txt; fail "pool_short: resume"; }
cmp pool_ref/counts.csv pool_cut/counts.csv || fail "pool_short: resumed counts differ from the uninterrupted run's"
checks=$((checks + 1))
echo "ok: a pool run stopped mid-SSA resumes to byte-identical counts.csv"

# ---------------------------------------------------------------------------------
# 3. 16-bit ids.
states_file() {  # states_file N FILE
  { echo 'agent_type { name: "Big" source: "test"'
    seq 0 $(($1 - 1)) | sed 's/.*/  state { name: "s&" }/'
    echo '  transition { from: "s0" to: "s1" rate_per_s: 1 source: "test" } }'; } > "$2"
}
states_file 65537 big_65537.pbtxt
states_file 65536 big_65536.pbtxt
for n in 65537 65536; do
  printf 'geometry { box { } }\nagent_file: "big_%s.pbtxt"\nspecies { name: "R" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Big" }\n' $n > states_$n.pbtxt
done
timeout -s KILL 60 "$B" validate states_65537.pbtxt >out.txt 2>err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "big_65537.pbtxt:.*agent_type\[0\].state\[65536\]: agent type 'Big' has 65537 states; at most 65536" err.txt ||
  { cat err.txt; fail "65537 states: exit $rc"; }
timeout -s KILL 60 "$B" validate states_65536.pbtxt >out.txt 2>err.txt || { cat err.txt; fail "65536 states refused"; }
checks=$((checks + 2))
echo "ok: 65,537 agent states refused, 65,536 accepted"
# 65,535 markers, each its own region: with the surface's and the world box's regions
# that is 65,537 regions.
python3 - <<'EOF' || fail "could not write the marker scene"
with open("regions.pbtxt", "w") as f:
    f.write('geometry { meshes {\n  surface { file: "cube.obj" inside: "cytosol" name: "wall" }\n')
    for i in range(65535):
        f.write('  marker { file: "marker.obj" surface: "wall" region: "r%d" }\n' % i)
    f.write('} }\n')
EOF
cp "$SRC/tests/data/meshes/bad/cube.obj" cube.obj
cp "$SRC/tests/data/meshes/markers/low_x_of_unit_cube.obj" marker.obj
timeout -s KILL 120 "$B" validate regions.pbtxt >out.txt 2>err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "too many regions: more than 65536 names (ids are 16-bit): 'world_box'" err.txt ||
  { head -c 2000 err.txt; fail "65537 regions: exit $rc"; }
checks=$((checks + 1))
echo "ok: 65,537 regions refused: $(grep -m1 'too many regions' err.txt | cut -c1-200)"

# ---------------------------------------------------------------------------------
# 4. Names that need quoting in counts.csv (RFC 4180), read back with Python's csv.
csv_case() {  # csv_case INSIDE OUTSIDE REGION
  local d=csv_$checks
  mkdir -p $d; cp cube.obj $d/
  cat > $d/scene.pbtxt <<EOF
simulation { dt_s: 1e-5 t_end_s: 1e-4 seed: 1 }
geometry { meshes { surface { file: "cube.obj" inside: "$1" outside: "$2" region: "$3" } } }
species { name: "A" diffusion_um2_per_s: 1 }
species { name: "M" kind: MEMBRANE diffusion_um2_per_s: 0 }
placement { species: "A" compartment: "$1" count: 5 }
placement { species: "M" region: "$3" count: 7 }
surface_class { region: "$3" species: "A" type: TRANSPARENT }
output { counts_interval_s: 1e-4 frame_interval_s: 0 render_png: false }
EOF
  timeout -s KILL 60 "$B" run $d/scene.pbtxt --out $d/run --quiet >out.txt 2>err.txt || { cat err.txt; fail "csv $d: run"; }
  python3 - "$d/run/counts.csv" "$1" "$2" "$3" <<'EOF' || fail "csv $d: header"
import csv, sys
path, inside, outside, region = [s.encode().decode("unicode_escape") for s in sys.argv[1:]]
rows = list(csv.reader(open(path, newline="")))
want = ["time_s", "A@" + inside, "A@" + outside, "M@" + region,
        "crossed_in:A@" + region, "crossed_out:A@" + region]
head = rows[0]
assert all(w in head for w in want), (head, want)
assert all(len(r) == len(head) for r in rows), "ragged rows"
assert rows[-1][head.index("M@" + region)] == "7", rows[-1]
print("ok: header", head)
EOF
  checks=$((checks + 1))
}
csv_case 'cyto,sol' 'extra\"cellular\"' 'psd, \"core\"'
csv_case 'a \"b\" c' 'out' 'wall,'
csv_case 'plain name' ',lead' '\"\"'
# Names that need no quoting are written as before (the shipped scenes' headers).
grep -q '^time_s,A@cytosol,' "$W/within/counts.csv" 2>/dev/null || head -1 within/counts.csv | grep -q '^time_s,A@box,' ||
  fail "plain header changed: $(head -1 within/counts.csv)"
checks=$((checks + 1))

echo "guards: $checks checks passed"
