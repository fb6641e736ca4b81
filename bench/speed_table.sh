#!/usr/bin/env bash
# Prints the speed table of issue 14 (BENCHMARKS.md): each workload's rate against
# its target. Usage: bench/speed_table.sh [path/to/spinesim] [--quick]
# --quick uses 10x smaller workloads and skips the 2 h ketamine scene (a smoke run of
# this script, not a measurement). Run on an idle machine: rates are wall-clock.
set -euo pipefail
bin=${1:-build/release/tools/spinesim}
quick=false
[ "${2:-}" = "--quick" ] && quick=true
scale=1
$quick && scale=10
field() { sed -nE "s/.*\\b$1=([^ ]+).*/\\1/p" | tail -1; }
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
printf '| workload | measured | target (issue 14) |\n|---|---:|---|\n'
for n in 10000 100000 1000000; do
  steps=$((20000000 / n / scale))
  r=$("$bin" bench diffusion --molecules "$n" --steps "$steps" --threads 1 | field molecule_steps_per_s)
  row "volume diffusion, spine, N=$n, 1 thread (molecule-steps/s)" "$r" "≥ 2.2e7, flat in N"
done
r=$("$bin" bench diffusion --molecules 100000 --steps $((200 / scale)) --threads 1 | field bytes_per_molecule)
row "volume diffusion, spine: bytes per molecule" "$r" "≤ 40"
r=$("$bin" bench diffusion --geometry box --molecules 100000 --steps $((200 / scale)) --threads 1 |
  field molecule_steps_per_s)
row "volume diffusion, 1 µm box, N=1e5, 1 thread (molecule-steps/s)" "$r" "≥ 6e7"
r=$("$bin" bench diffusion --kind membrane --molecules 100000 --steps $((200 / scale)) --threads 1 |
  field molecule_steps_per_s)
row "membrane diffusion, spine, N=1e5, 1 thread (molecule-steps/s)" "$r" "≥ 2× issue-2 figure"
for t in 1 2; do
  out=$("$bin" bench reactions --threads "$t" --steps $((200 / scale)))
  row "A + B → C, $t thread(s): cost vs pure diffusion" "$(field cost_ratio <<<"$out")" "≤ 1.5"
  row "A + B → C, $t thread(s) (molecule-steps/s)" "$(grep with_reaction <<<"$out" | field molecule_steps_per_s)" \
    "≥ 1.8× one thread on 2"
done
r=$("$bin" bench ssa --reactions $((50000000 / scale)) | field reactions_per_s)
row "exact pool SSA, shipped pathway (reactions/s)" "$r" "≥ 2.5e7"
if ! $quick; then
  s=$( { /usr/bin/time -f '%e' "$bin" bench scene scenes/ketamine_spine.pbtxt --threads 1 >/dev/null; } 2>&1 | tail -1)
  row "2 h ketamine scene, exact, 1 thread (wall s)" "$s" "≤ 15 s"
fi
