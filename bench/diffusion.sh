#!/usr/bin/env bash
# Reproduces the diffusion tables in BENCHMARKS.md: volume and membrane molecules in
# the default parametric spine and volume molecules in the reflective 1 µm box,
# N = 1e4, 1e5, 1e6, threads 1 and 2, MOLECULE_STEPS (default 2·10^7) molecule-steps
# each, best of REPEATS (default 3) runs. Each row reports wall-clock molecule-steps/s
# and molecule-steps per CPU-second (processor time of all threads: on a shared,
# loaded machine it stays near the idle cost while the wall-clock rate drops).
# With a second binary (e.g. one built from an older commit) each row alternates the
# two, adds their ratio, and says whether their final states are equal (same
# state_fnv1a: same trajectories).
# Usage: [REPEATS=R] [MOLECULE_STEPS=M] bench/diffusion.sh [NEW_BIN [OLD_BIN]]
set -euo pipefail
new=${1:-build/release/tools/spinesim}
old=${2:-}
repeats=${REPEATS:-3}
molecule_steps=${MOLECULE_STEPS:-20000000}

field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2" | head -1; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }

if [[ -n $old ]]; then
  printf '| kind | geometry | N | threads | before (steps/CPU-s) | after (steps/CPU-s) | after/before | before wall (steps/s) | after wall (steps/s) | same state |\n'
  printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n'
else
  printf '| kind | geometry | N | threads | steps/CPU-s | wall (steps/s) | ns per step (wall) | bytes per molecule |\n'
  printf '|---|---|---:|---:|---:|---:|---:|---:|\n'
fi
for case in "volume spine" "volume box" "membrane spine"; do
  read -r kind geometry <<<"$case"
  for n in 10000 100000 1000000; do
    steps=$(((molecule_steps + n - 1) / n))
    for t in 1 2; do
      args=(bench diffusion --kind "$kind" --geometry "$geometry" --molecules "$n" --steps "$steps" --threads "$t")
      cpu_new=0 wall_new=0 cpu_old=0 wall_old=0 fnv_new="" fnv_old=""
      for ((r = 0; r < repeats; ++r)); do
        out=$("$new" "${args[@]}")
        cpu_new=$(max "$cpu_new" "$(field molecule_steps_per_cpu_s "$out")")
        wall_new=$(max "$wall_new" "$(field molecule_steps_per_s "$out")")
        fnv_new=$(field state_fnv1a "$out")
        bytes=$(field bytes_per_molecule "$out")
        if [[ -n $old ]]; then
          out=$("$old" "${args[@]}")
          cpu_old=$(max "$cpu_old" "$(field molecule_steps_per_cpu_s "$out")")
          wall_old=$(max "$wall_old" "$(field molecule_steps_per_s "$out")")
          fnv_old=$(field state_fnv1a "$out")
        fi
      done
      if [[ -n $old ]]; then
        printf '| %s | %s | %s | %s | %.3g | %.3g | %.2f | %.3g | %.3g | %s |\n' "$kind" "$geometry" "$n" "$t" \
          "$cpu_old" "$cpu_new" "$(awk -v a="$cpu_new" -v b="$cpu_old" 'BEGIN { print a / b }')" "$wall_old" \
          "$wall_new" "$([[ $fnv_new == "$fnv_old" ]] && echo yes || echo NO)"
      else
        printf '| %s | %s | %s | %s | %.3g | %.3g | %.1f | %s |\n' "$kind" "$geometry" "$n" "$t" "$cpu_new" \
          "$wall_new" "$(awk -v r="$wall_new" 'BEGIN { print 1e9 / r }')" "$bytes"
      fi
    done
  done
done
