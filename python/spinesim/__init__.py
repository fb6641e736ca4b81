"""spinesim from Python: scenes as protobuf messages, runs you can step, pause and
read as numpy arrays and pandas DataFrames.

    import spinesim
    scene = spinesim.load_scene("scenes/spine_glutamate.pbtxt")
    scene.geometry.spine.cleft_width_um = 0.015
    run = spinesim.Run(scene, relative_to="scenes/spine_glutamate.pbtxt", seed=7, t_end_s=0.002)
    run.advance_to(0.001)
    xyz = run.positions()          # (N, 3) float64, µm
    run.run_to_end()
    counts = run.counts()          # DataFrame indexed by time_s, columns as in counts.csv

The same scene, seed and thread count give the same counts through Python as through
`spinesim run`, however the run is paused and continued.
"""
from __future__ import annotations

import os
from typing import Iterable, Optional, Union

from google.protobuf import text_format

from . import _spinesim
from ._spinesim import InputError
from ._spinesim import replicate_seed
from .scene_pb2 import Scene

__all__ = ["Run", "Ensemble", "open_ensemble", "Scene", "InputError", "load_scene", "scene_text", "replicate_seed"]

PathLike = Union[str, "os.PathLike[str]"]


def load_scene(path: PathLike) -> Scene:
    """Parses a scene file (protobuf text format) into a Scene message.

    Syntax errors raise InputError naming the file and line; the scene's meaning is
    checked when a Run is made from it."""
    message = Scene()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as e:
        raise InputError(f"{os.fspath(path)}:{e}") from None
    return message


def scene_text(scene: Scene) -> str:
    """The scene in protobuf text format (what `spinesim run` reads)."""
    return text_format.MessageToString(scene)


class Run:
    """One simulation of one scene.

    `scene` is a path or a Scene message; `relative_to` (a path) is where a message's
    relative mesh and pathway paths are resolved from (default: the working
    directory). `seed`, `t_end_s` and `set` (["FIELD=value", ...]) override the scene
    like `spinesim run --seed/--t-end` and ensemble sweeps; `threads` > 1 uses the
    oneTBB stepper (same output)."""

    def __init__(self, scene: Union[PathLike, Scene], *, relative_to: Optional[PathLike] = None,
                 seed: Optional[int] = None, t_end_s: Optional[float] = None, threads: int = 1,
                 set: Iterable[str] = ()):
        options = dict(seed=seed, t_end_s=t_end_s, threads=threads, set=list(set))
        if isinstance(scene, Scene):
            name = os.fspath(relative_to) if relative_to is not None else os.path.join(os.getcwd(), "<scene>")
            self._run = _spinesim.Run.from_text(scene_text(scene), name, **options)
        else:
            self._run = _spinesim.Run.from_file(os.fspath(scene), **options)

    @property
    def time(self) -> float:
        """Time (s) of the last thing that happened (≤ the last advance_to)."""
        return self._run.time

    @property
    def t_end(self) -> float:
        return self._run.t_end

    @property
    def dt(self) -> float:
        return self._run.dt

    @property
    def finished(self) -> bool:
        return self._run.finished

    @property
    def resolved_scene(self) -> str:
        """The scene as run: overrides applied, defaults written out, paths absolute."""
        return self._run.resolved_scene

    @property
    def stats(self) -> dict:
        """Brownian steps, events, reactions, ... so far."""
        return self._run.stats

    def advance_to(self, t: float) -> bool:
        """Runs everything at or before t (s). True once t_end is reached."""
        return self._run.advance_to(float(t))

    def advance_steps(self, n: int) -> bool:
        """Takes n more Brownian steps, with the events between them (while nothing
        diffuses there are no steps to count: it then runs to the end)."""
        return self._run.advance_steps(int(n))

    def run_to_end(self) -> "Run":
        self._run.run_to_end()
        return self

    def save(self, path: PathLike) -> None:
        """Writes the run's complete state to `path` (written to a temporary name and
        renamed, so a crash never leaves half a file). Run.load continues it exactly."""
        data = self._run.checkpoint()
        path = os.fspath(path)
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: PathLike) -> "Run":
        """A run continued from a file written by save(): the same run, bit for bit,
        as if it had never stopped (counts recorded before the save included)."""
        with open(path, "rb") as f:
            data = f.read()
        run = cls.__new__(cls)
        run._run = _spinesim.Run.from_checkpoint(data, os.fspath(path))
        return run

    def counts(self):
        """The counts table recorded so far (rows at every simulation.counts_interval_s)
        as a pandas DataFrame indexed by time_s; columns as in counts.csv
        (docs/outputs.md). Count columns are int64, physical quantities float64."""
        import pandas as pd

        rows = self._run.count_rows()
        columns = self._run.count_columns
        frame = pd.DataFrame(rows[:, 1:], columns=columns, index=pd.Index(rows[:, 0], name="time_s"))
        for name, is_integer in zip(columns, self._run.count_is_integer()):
            if is_integer:
                frame[name] = frame[name].astype("int64")
        return frame

    def count_units(self) -> dict:
        """The unit of every counts column: "count", "pA", "ions (cumulative)" or "µM"."""
        return dict(zip(self._run.count_columns, self._run.count_units()))

    def positions(self):
        """Positions (µm) of the volume molecules now, an (N, 3) float64 copy."""
        return self._run.positions()

    def volume_arrays(self) -> dict:
        """Zero-copy read-only views of the volume molecules (x, y, z, species,
        compartment, id), valid until the run advances."""
        return self._run.volume_views()

    def molecules(self):
        """Every molecule and agent now as a DataFrame: x, y, z (µm), species, state,
        region (membrane; else NaN-free empty string) and compartment names, id."""
        import numpy as np
        import pandas as pd

        s = self._run.snapshot()

        def names(codes, table):
            labels = np.array(list(table) + [""], dtype=object)
            return labels[np.where(codes < 0, len(table), codes)]

        xyz = s["xyz"]
        return pd.DataFrame({
            "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2],
            "species": names(s["species"], s["species_names"]),
            "state": names(s["state"], s["state_names"]),
            "region": names(s["region"], s["region_names"]),
            "compartment": names(s["compartment"], s["compartment_names"]),
            "id": s["id"],
        })

    def __repr__(self) -> str:
        return f"<spinesim.Run t={self.time:g}/{self.t_end:g} s, {'finished' if self.finished else 'running'}>"


from .ensemble import Ensemble, open_ensemble  # noqa: E402  (uses Run)
