"""Ensembles from Python: replicates of a scene at every point of a parameter sweep,
collected into one xarray Dataset (point × replicate × time).

Replicate r of base seed S runs with seed replicate_seed(S, r) on the serial reference
stepper, the same at every sweep point (common random numbers), exactly as
`spinesim ensemble` does: replicate r of point p has the counts of the CLI's
replicates/pNNNN/rNNNNNN.csv, whatever the number of threads here.
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterable, Optional, Sequence, Union

import numpy as np

from . import _spinesim


def _sweep_points(sweep: Dict[str, Sequence]) -> list:
    """Cartesian product of the axes, the first axis varying slowest (as the CLI)."""
    axes = list(sweep.items())
    return [list(zip([name for name, _ in axes], values))
            for values in itertools.product(*[list(v) for _, v in axes])] if axes else [[]]


def _format(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class Ensemble:
    """`replicates` runs of `scene` (a path or a Scene message, with `relative_to` as
    for Run) at every point of `sweep` ({"FIELD": [v1, v2, ...], ...}, the FIELD paths
    of `spinesim ensemble --sweep`). `seed` is the base seed (default: the scene's);
    `set` and `t_end_s` apply to every run."""

    def __init__(self, scene, *, replicates: int, sweep: Optional[Dict[str, Sequence]] = None,
                 seed: Optional[int] = None, t_end_s: Optional[float] = None,
                 relative_to=None, set: Iterable[str] = ()):
        from . import Scene, load_scene  # here: the package imports this module
        if replicates < 1:
            raise _spinesim.InputError("replicates must be ≥ 1")
        self._scene = scene
        self._relative_to = relative_to
        self._replicates = int(replicates)
        self._sweep = dict(sweep or {})
        self._points = _sweep_points(self._sweep)
        self._t_end_s = t_end_s
        self._set = list(set)
        if seed is None:  # the scene's own (1 when it sets none), as `spinesim ensemble`
            seed = (scene if isinstance(scene, Scene) else load_scene(scene)).simulation.seed
        self._seed = int(seed)

    @property
    def seeds(self) -> list:
        return [_spinesim.replicate_seed(self._seed, r) for r in range(self._replicates)]

    def _one(self, point: int, replicate: int):
        from . import Run
        assignments = self._set + [f"{name}={_format(value)}" for name, value in self._points[point]]
        run = Run(self._scene, relative_to=self._relative_to, seed=self.seeds[replicate], t_end_s=self._t_end_s,
                  threads=1, set=assignments)
        run.run_to_end()
        return run

    def run(self, threads: Optional[int] = None, progress: bool = False):
        """Runs every (point, replicate) on `threads` threads (default: all cores) and
        returns an xarray Dataset: one variable per counts.csv column with dims
        (point, replicate, time_s); coordinates time_s, replicate, seed and one per
        sweep field along `point`; attrs with the base seed and the resolved scene of
        the first run."""
        import xarray as xr

        threads = threads or os.cpu_count() or 1
        tasks = [(p, r) for p in range(len(self._points)) for r in range(self._replicates)]
        results = {}
        with ThreadPoolExecutor(max_workers=threads) as pool:  # each run releases the GIL
            futures = {pool.submit(self._one, p, r): (p, r) for p, r in tasks}
            for done, future in enumerate(futures):
                p, r = futures[future]
                run = future.result()
                results[(p, r)] = (run.counts(), run.resolved_scene)
                if progress:
                    print(f"\rspinesim ensemble: {done + 1}/{len(tasks)} runs", end="", flush=True)
        if progress:
            print()
        first, resolved = results[(0, 0)]
        times = first.index.to_numpy()
        columns = list(first.columns)
        data = {c: np.empty((len(self._points), self._replicates, len(times)), dtype=first[c].dtype) for c in columns}
        for (p, r), (frame, _) in results.items():
            if len(frame.index) != len(times):
                raise RuntimeError(f"point {p} replicate {r} recorded {len(frame.index)} rows, not {len(times)}:"
                                   " a sweep that changes t_end or counts_interval_s cannot share one time axis")
            for c in columns:
                data[c][p, r, :] = frame[c].to_numpy()
        coords = {"time_s": ("time_s", times, {"units": "s"}),
                  "replicate": ("replicate", np.arange(self._replicates)),
                  "seed": ("replicate", np.array(self.seeds, dtype=np.uint64)),
                  "point": ("point", np.arange(len(self._points)))}
        for k, name in enumerate(self._sweep):
            coords[name] = ("point", np.array([pt[k][1] for pt in self._points]))
        variables = {c: (("point", "replicate", "time_s"), data[c], {"units": _units(c)}) for c in columns}
        return xr.Dataset(variables, coords=coords,
                          attrs={"base_seed": self._seed, "sweep_fields": list(self._sweep),
                                 "resolved_scene_first_run": resolved})


def _units(column: str) -> str:
    if column.endswith(".current_pA"):
        return "pA"
    if column.endswith(".ca_ions"):
        return "ions (cumulative)"
    if column.startswith("clamp:") or column.startswith("background:"):
        return "µM"
    return "count"
