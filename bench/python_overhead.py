#!/usr/bin/env python3
"""Cost of driving a run from Python (issue 11): the shipped glutamate scene run by
`spinesim bench scene` (the C++ loop, no outputs written) against the same run driven
through spinesim.Run.advance_steps in chunks of 1, 10 and 100 steps; and the time to
read 10^6 molecule positions into numpy. Best of REPEATS for each.

Usage: bench/python_overhead.py [build/release]   (PYTHONPATH is set from it)"""
import os
import re
import subprocess
import sys
import time

build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
sys.path.insert(0, os.path.join(build, "python"))
import spinesim  # noqa: E402

SCENE = "scenes/spine_glutamate.pbtxt"
T_END = 0.002
REPEATS = 7


def best(f):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def cli():
    out = subprocess.run([os.path.join(build, "tools", "spinesim"), "bench", "scene", SCENE, "--t-end", str(T_END)],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"wall_s=([0-9.]+)", out).group(1))


def python_steps(chunk):
    """Seconds to advance a fresh run to the end, `chunk` steps per call (set-up not timed,
    as `bench scene` times only sim.run())."""
    run = spinesim.Run(SCENE, t_end_s=T_END)
    t0 = time.perf_counter()
    while not run.advance_steps(chunk):
        pass
    return time.perf_counter() - t0


# Interleaved, so that load from other processes falls on both alike.
cli_times, py_times = [], {1: [], 10: [], 100: []}
for _ in range(REPEATS):
    cli_times.append(cli())
    for chunk in py_times:
        py_times[chunk].append(python_steps(chunk))
cli_s = min(cli_times)
print(f"spinesim bench scene {SCENE} --t-end {T_END}: {cli_s * 1e3:.1f} ms (C++ loop, best of {REPEATS})")
for chunk, times in py_times.items():
    sim = min(times)
    print(f"Run.advance_steps({chunk}) to the end: {sim * 1e3:.1f} ms ({(sim / cli_s - 1) * 100:+.1f} % vs the CLI)")

big = spinesim.Run(SCENE, t_end_s=T_END, set=["release[0].count=1000000"])
big.advance_steps(1)
n = len(big.positions())
read_s = best(big.positions)
print(f"Run.positions() for {n} molecules: {read_s * 1e3:.2f} ms; "
      f"volume_arrays() (no copy): {best(big.volume_arrays) * 1e3:.3f} ms")
