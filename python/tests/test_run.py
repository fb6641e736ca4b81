"""The Python package against the CLI and against itself.

Determinism: the same scene and seed give the same counts through Python as through
`spinesim run` (compared byte for byte with the counts.csv the CLI writes), whether
the run is advanced in one go or paused, and whether the scene comes from a file or
from a Scene message."""
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

import spinesim

SOURCE_DIR = os.environ.get("SPINESIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SPINESIM = os.environ.get("SPINESIM_BINARY", "spinesim")
GLUTAMATE = os.path.join(SOURCE_DIR, "scenes", "spine_glutamate.pbtxt")


def csv_text(run: spinesim.Run) -> str:
    """Formats Run.counts() as counts.csv (integers as integers, quantities %.9g)."""
    frame = run.counts()
    lines = [",".join(["time_s"] + list(frame.columns))]
    for t, row in zip(frame.index, frame.itertuples(index=False)):
        cells = ["%.9g" % t]
        for value, dtype in zip(row, frame.dtypes):
            cells.append(str(int(value)) if dtype == np.int64 else "%.9g" % value)
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def cli_counts(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    subprocess.run([SPINESIM, "run", GLUTAMATE, "--out", str(out), "--seed", "7", "--t-end", "0.002", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out / "counts.csv") as f:
        return f.read()


def test_counts_equal_the_cli(cli_counts):
    run = spinesim.Run(GLUTAMATE, seed=7, t_end_s=0.002)
    run.run_to_end()
    assert run.finished
    assert csv_text(run) == cli_counts


def test_paused_and_from_a_message_equal_the_cli(cli_counts):
    scene = spinesim.load_scene(GLUTAMATE)
    run = spinesim.Run(scene, relative_to=GLUTAMATE, seed=7, t_end_s=0.002, threads=2)
    assert not run.advance_steps(17)
    assert run.stats["brownian_steps"] == 17
    assert not run.advance_to(0.00123)
    assert run.time <= 0.00123
    run.advance_to(1.0)
    assert run.time == pytest.approx(0.002)
    assert csv_text(run) == cli_counts


def test_changing_a_field_changes_the_run():
    scene = spinesim.load_scene(GLUTAMATE)
    base = spinesim.Run(scene, relative_to=GLUTAMATE, seed=7, t_end_s=0.0005).run_to_end()
    scene.release[0].count = 100
    fewer = spinesim.Run(scene, relative_to=GLUTAMATE, seed=7, t_end_s=0.0005).run_to_end()
    assert "count: 100" in fewer.resolved_scene and "count: 100" not in base.resolved_scene
    glu = [c for c in base.counts().columns if c.startswith("glutamate@")]
    # Glutamate is cleared within ~0.1 ms; 10 µs after release most is still there.
    assert base.counts()[glu].sum(axis=1).max() > 1000
    assert 0 < fewer.counts()[glu].sum(axis=1).max() <= 100


def test_arrays_and_frames():
    run = spinesim.Run(GLUTAMATE, seed=7, t_end_s=0.002)
    run.advance_steps(5)
    xyz = run.positions()
    views = run.volume_arrays()
    assert xyz.shape[1] == 3 and xyz.dtype == np.float64
    assert np.array_equal(xyz[:, 0], views["x"]) and np.array_equal(xyz[:, 2], views["z"])
    assert not views["x"].flags.writeable
    molecules = run.molecules()
    assert isinstance(molecules, pd.DataFrame)
    assert set(molecules["species"]) >= {"glutamate", "AMPAR"}
    # Agents carry state names; volume molecules a compartment, no region.
    ampar = molecules[molecules["species"] == "AMPAR"]
    assert (ampar["region"] != "").all() and (ampar["compartment"] == "").all()
    counts = run.counts()
    assert counts.index.name == "time_s" and counts.index[0] == 0.0


def test_bad_input_is_an_input_error_naming_the_field():
    scene = spinesim.load_scene(GLUTAMATE)
    scene.species[0].diffusion_um2_per_s = -1
    with pytest.raises(spinesim.InputError, match="diffusion_um2_per_s"):
        spinesim.Run(scene, relative_to=GLUTAMATE)
    with pytest.raises(spinesim.InputError, match="threads"):
        spinesim.Run(GLUTAMATE, threads=0)
    with pytest.raises(spinesim.InputError):
        spinesim.Run(GLUTAMATE, set=["simulation.no_such_field=1"])


def test_ensemble_matches_the_cli_replicates(tmp_path):
    """Replicate r at sweep point p equals the CLI's, read from its one file (ensemble.nc)."""
    scene = os.path.join(SOURCE_DIR, "scenes", "minis_quiet.pbtxt")
    out = tmp_path / "ens"
    subprocess.run([SPINESIM, "ensemble", scene, "--replicates", "3", "--out", str(out), "--seed", "5",
                    "--t-end", "0.01", "--sweep", "release[0].count=200,400", "--threads", "2", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    ensemble = spinesim.Ensemble(scene, replicates=3, seed=5, t_end_s=0.01, sweep={"release[0].count": [200, 400]})
    ds = ensemble.run(threads=2)
    assert dict(ds.sizes) == {"point": 2, "replicate": 3, "time_s": ds.sizes["time_s"]}
    assert list(ds["release[0].count"].values) == [200, 400]
    assert list(ds["seed"].values) == [spinesim.replicate_seed(5, r) for r in range(3)]
    cli = spinesim.open_ensemble(out)
    columns = list(cli["observable"].values)
    assert columns == list(ds.data_vars)
    assert list(cli["release[0].count"].values) == [200, 400]
    assert list(cli["seed"].values) == list(ds["seed"].values)
    assert list(cli["sweep_value_text"].values[:, 0]) == ["200", "400"]
    assert "count: 400" in str(cli["resolved_scene"].values[1])
    assert "count: 400" not in str(cli["resolved_scene"].values[0])
    as_written = np.vectorize(lambda v: "%.9g" % v)  # what counts.csv (and so the file) keeps
    assert (as_written(cli["time_s"].values) == as_written(ds["time_s"].values)).all()
    for c in columns:
        assert cli[c].dims == ("point", "replicate", "time_s")
        assert cli[c].attrs["units"] == ds[c].attrs["units"]
        # The file holds what counts.csv would: counts exact, quantities to 9 digits.
        assert (as_written(cli[c].values) == as_written(ds[c].values)).all(), c
        # The stored statistics are those of the stored replicates (Welford vs numpy:
        # equal to rounding, relative 1e-12).
        np.testing.assert_allclose(cli["stats_mean"].sel(observable=c).values, cli[c].mean("replicate").values,
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(cli[f"peak:{c}"].values, cli[c].max("time_s").values)
    # Replicates differ (different seeds), the sweep changes the outcome.
    total = sum(ds[c] for c in ds.data_vars if c.startswith("glutamate@"))
    assert float(total.isel(point=1).max()) > float(total.isel(point=0).max())


def test_save_and_load_continue_the_run(tmp_path, cli_counts):
    run = spinesim.Run(GLUTAMATE, seed=7, t_end_s=0.002)
    run.advance_to(0.0009)
    run.save(tmp_path / "run.ckpt")
    del run
    resumed = spinesim.Run.load(tmp_path / "run.ckpt")
    assert resumed.time <= 0.0009
    resumed.run_to_end()
    assert csv_text(resumed) == cli_counts
    (tmp_path / "bad.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(OSError, match="bad.ckpt"):
        spinesim.Run.load(tmp_path / "bad.ckpt")
