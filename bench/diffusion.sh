#!/usr/bin/env bash
# Reproduces the diffusion table in BENCHMARKS.md: volume and membrane molecules in
# the default parametric spine, N = 1e4, 1e5, 1e6, threads 1 and 2, 2·10^7
# molecule-steps each. Usage: bench/diffusion.sh [path/to/spinesim]
set -euo pipefail
bin=${1:-build/release/tools/spinesim}
printf '| kind | N | threads | molecule-steps/s | ns per molecule-step | bytes per molecule |\n|---|---:|---:|---:|---:|---:|\n'
for kind in volume membrane; do
  for n in 10000 100000 1000000; do
    steps=$((20000000 / n))
    for t in 1 2; do
      line=$("$bin" bench diffusion --kind "$kind" --molecules "$n" --steps "$steps" --threads "$t" | tail -1)
      rate=$(sed -E 's/.*molecule_steps_per_s=([^ ]+).*/\1/' <<<"$line")
      ns=$(sed -E 's/.*ns_per_molecule_step=([^ ]+).*/\1/' <<<"$line")
      bytes=$(sed -E 's/.*bytes_per_molecule=([^ ]+).*/\1/' <<<"$line")
      printf '| %s | %s | %s | %s | %s | %s |\n' "$kind" "$n" "$t" "$rate" "$ns" "$bytes"
    done
  done
done
