"""The experiment runner: the same rows whatever computes them, resume after interruption,
refusal of a different experiment, agreement with mesa.batch_run, and the summary's intervals."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMOKE, run_cli
from scipy import stats as sps

from experiments.analysis.estimates import write_summary
from experiments.analysis.report import DERIVED_FILES
from experiments.errors import UserError
from experiments.seeds import replicate_seeds
from experiments.stats import wilson_interval
from experiments.sweep.design import Design
from experiments.sweep.peer import outcomes_via_batch_run
from experiments.sweep.results import SweepResult
from experiments.sweep.runner import run_sweep
from experiments.sweep.store import ResultStore, read_metadata
from model import EscalationModel
from model.outcomes import FROM_TRAJECTORY


@pytest.fixture(scope="module")
def reference(smoke, tmp_path_factory):
    """The smoke sweep in one process, uninterrupted: the rows everything else must equal."""
    out = tmp_path_factory.mktemp("reference")
    run_sweep(smoke, out, workers=1, progress=False)
    return ResultStore(out).load()


def rows(experiment, out, **kwargs):
    run_sweep(experiment, out, progress=False, **kwargs)
    return ResultStore(out).load()


def test_rows_are_tidy_one_per_run(smoke, reference):
    design = Design(smoke)
    assert len(reference) == design.n_runs == 8 * 40
    assert reference["run"].tolist() == list(range(design.n_runs))
    assert not reference.duplicated(["design_point", "replicate"]).any()
    for lever in ("sanctions_level", "exercise_policy", "engagement_stance"):
        assert lever in reference.columns
    # replicate r has the same seed at every design point (common random numbers)
    assert (reference.groupby("replicate")["seed"].nunique() == 1).all()
    assert np.array_equal(reference.groupby("replicate")["seed"].first().to_numpy(), replicate_seeds(smoke.seed, 40))


def test_a_row_is_the_model_run_with_its_parameters_and_seed(smoke, reference):
    design = Design(smoke)
    for i in (0, 57, 301):
        row = reference.iloc[i]
        outcomes = EscalationModel(design.params[row["design_point"]], rng=int(row["seed"])).run(smoke.weeks).outcomes()
        assert outcomes["tests"] == row["tests"] and outcomes["talks"] == row["talks"]


def test_two_workers_and_other_chunk_sizes_give_identical_rows(smoke, reference, tmp_path):
    pd.testing.assert_frame_equal(rows(smoke, tmp_path / "w2", workers=2), reference, check_exact=True)
    for size in (7, 320):
        pd.testing.assert_frame_equal(
            rows(smoke.with_options(chunk_size=size), tmp_path / f"c{size}", workers=1), reference, check_exact=True
        )


def test_mesa_engine_gives_identical_rows(smoke, reference, tmp_path):
    pd.testing.assert_frame_equal(
        rows(smoke.with_options(engine="mesa"), tmp_path / "mesa", workers=2), reference, check_exact=True
    )


def test_dask_local_cluster_gives_identical_rows(smoke, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
    ) as cluster:
        got = rows(smoke, tmp_path / "dask", dask=cluster.scheduler_address)
    pd.testing.assert_frame_equal(got, reference, check_exact=True)


def test_shards_together_make_the_whole(smoke, reference, tmp_path):
    out = tmp_path / "sharded"
    first = run_sweep(smoke, out, workers=1, shard=(0, 3), progress=False)
    assert not first.complete
    for i in (1, 2):
        last = run_sweep(smoke, out, workers=1, shard=(i, 3), progress=False)
    assert last.complete
    pd.testing.assert_frame_equal(ResultStore(out).load(), reference, check_exact=True)


def test_interrupted_sweep_resumes_to_the_same_rows(smoke, reference, tmp_path, monkeypatch):
    out = tmp_path / "interrupted"
    original = ResultStore.write_chunk
    written = []

    def write_then_die(self, chunk, frame, metadata):
        if len(written) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C after three chunks
        written.append(chunk)
        return original(self, chunk, frame, metadata)

    monkeypatch.setattr(ResultStore, "write_chunk", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(smoke, out, workers=1, progress=False)
    monkeypatch.setattr(ResultStore, "write_chunk", original)
    assert len(ResultStore(out).chunk_files()) == 3
    # a partial temporary file from a writer that died (pid 999999999 does not exist)
    debris = out / "chunks" / f".tmp-{os.uname().nodename}-999999999-abc.parquet"
    debris.write_bytes(b"PAR1 half a file")
    again = run_sweep(smoke, out, workers=1, progress=False)
    assert again.chunks_skipped == 3 and again.complete
    assert not debris.exists()
    pd.testing.assert_frame_equal(ResultStore(out).load(), reference, check_exact=True)


def test_sweep_killed_with_sigkill_resumes_complete_and_duplicate_free(smoke, tmp_path):
    out = tmp_path / "killed"
    args = [
        sys.executable,
        "-m",
        "experiments.cli",
        "sweep",
        str(SMOKE),
        "--out",
        str(out),
        "--engine",
        "mesa",
        "--chunk-size",
        "10",
        "--workers",
        "1",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list((out / "chunks").glob("chunk-*.parquet"))) < 4 and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = len(list((out / "chunks").glob("chunk-*.parquet")))
    assert 4 <= partial < 32, partial
    finished = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert not list(out.rglob(".tmp-*"))
    got = ResultStore(out).load()
    assert len(got) == Design(smoke).n_runs and not got["run"].duplicated().any()
    expected = rows(smoke, tmp_path / "clean", workers=1)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_different_config_is_refused_and_nothing_is_touched(smoke, tmp_path):
    out = tmp_path / "taken"
    run_sweep(smoke, out, workers=1, progress=False)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = smoke.with_options(replicates=41)
    with pytest.raises(UserError, match="different experiment"):
        run_sweep(other, out, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    run_sweep(other, out, workers=1, overwrite=True, progress=False)
    assert len(ResultStore(out).load()) == 8 * 41


def test_results_of_the_other_backend_are_refused_and_nothing_is_touched(smoke, tmp_path, monkeypatch):
    # the backends differ in the last bits of continuous values: one directory holds one backend's rows
    out = tmp_path / "numpy"
    monkeypatch.setenv("ESCALATION_BACKEND", "numpy")
    run_sweep(smoke, out, workers=1, progress=False)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    monkeypatch.setenv("ESCALATION_BACKEND", "compiled")
    with pytest.raises(UserError, match="the numpy backend, not the compiled one"):
        run_sweep(smoke, out, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_a_directory_that_is_not_ours_is_never_touched(smoke, tmp_path):
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "figure1.png").write_bytes(b"my figure")
    (paper / "summary.csv").write_text("my precious data")
    for overwrite in (False, True):
        with pytest.raises(UserError, match="not empty and is not a results directory"):
            run_sweep(smoke, paper, workers=1, progress=False, overwrite=overwrite)
    assert sorted(p.name for p in paper.iterdir()) == ["figure1.png", "summary.csv"]
    assert (paper / "summary.csv").read_text() == "my precious data"


def test_overwrite_removes_only_what_the_program_wrote(smoke, tmp_path):
    out = tmp_path / "ours"
    run_sweep(smoke, out, workers=1, progress=False)
    write_summary(SweepResult.load(out))
    (out / "notes.txt").write_text("mine")
    (out / "figure1.png").write_bytes(b"mine too")
    run_sweep(smoke.with_options(replicates=41), out, workers=1, progress=False, overwrite=True, derived=DERIVED_FILES)
    assert (out / "notes.txt").read_text() == "mine" and (out / "figure1.png").read_bytes() == b"mine too"
    assert not (out / "summary.csv").exists() and len(ResultStore(out).load()) == 8 * 41


def test_temporary_file_cleaner_parses_hostnames_with_dashes(tmp_path, monkeypatch):
    import experiments.io as store

    monkeypatch.setattr(store.socket, "gethostname", lambda: "ip-10-0-0-1")
    dead = tmp_path / ".tmp-ip-10-0-0-1-999999999-ab_c9.parquet"
    live_elsewhere = tmp_path / f".tmp-ip-10-0-0-1-b-{os.getpid()}-xyz.parquet"  # host "ip-10-0-0-1-b"
    mine_alive = tmp_path / f".tmp-ip-10-0-0-1-{os.getpid()}-xyz.json"
    foreign = tmp_path / ".tmp-something-else"
    for path in (dead, live_elsewhere, mine_alive, foreign):
        path.write_bytes(b"x")
    assert store.clean_temporary_files(tmp_path) == [dead]
    assert live_elsewhere.exists() and mine_alive.exists() and foreign.exists()


def test_results_of_another_model_version_are_refused(smoke, tmp_path, monkeypatch):
    out = tmp_path / "old_model"
    run_sweep(smoke, out, workers=1, progress=False)
    import experiments.sweep.runner

    real = experiments.sweep.runner.provenance
    monkeypatch.setattr(
        experiments.sweep.runner,
        "provenance",
        lambda e, **kw: {**real(e, **kw), "model_fingerprint": "0123456789abcdef"},
    )
    with pytest.raises(UserError, match="another version of the model"):
        run_sweep(smoke, out, workers=1, progress=False)


def test_files_are_readable_by_others(smoke, tmp_path):
    out = tmp_path / "perm"
    run_sweep(smoke, out, workers=1, progress=False)
    mode = ResultStore(out).chunk_files()[0].stat().st_mode & 0o777
    assert mode & 0o044 == 0o044 or os.umask(os.umask(0)) & 0o044


def test_chunks_carry_provenance(smoke, tmp_path):
    out = tmp_path / "prov"
    run_sweep(smoke, out, workers=1, progress=False)
    meta = read_metadata(ResultStore(out).chunk_files()[0])
    assert meta["config_hash"] == smoke.config_hash()
    assert len(meta["model_fingerprint"]) == 16
    assert meta["experiment"]["seed"] == smoke.seed and meta["experiment"]["levers"] == smoke.levers
    assert {"numpy", "mesa", "pandas", "python"} <= set(meta["packages"])
    assert len(meta["git"]["commit"]) in (40, len("unknown"))
    assert meta["engine"] == "batched" and meta["chunk"] == [0, 50]


def test_same_outcomes_through_mesa_batch_run(smoke, tmp_path):
    small = smoke.with_options(replicates=4)
    peer = outcomes_via_batch_run(Design(small))
    ours = rows(small, tmp_path / "ours", workers=1)
    ours = ours[["design_point", "replicate", *FROM_TRAJECTORY]].sort_values(["design_point", "replicate"])
    pd.testing.assert_frame_equal(peer, ours.reset_index(drop=True), check_exact=True)


def test_summary_intervals_agree_with_the_raw_rows(smoke, reference, tmp_path):
    out = tmp_path / "summary"
    run_sweep(smoke, out, workers=1, progress=False)
    result = SweepResult.load(out)
    paths = write_summary(result)
    assert (out / "summary.csv").is_file() and (out / "p_talks_heatmap.png").stat().st_size > 10_000
    assert len(paths) == 3
    summary = pd.read_csv(out / "summary.csv")
    for _, point in summary.iterrows():
        mask = np.ones(len(reference), dtype=bool)
        for factor in result.factors:
            mask &= (reference[factor] == point[factor]).to_numpy()
        talks = reference.loc[mask, "talks"]
        low, high = wilson_interval(talks.sum(), len(talks))
        assert point["n"] == len(talks) == smoke.replicates
        assert point["p_talks"] == pytest.approx(talks.mean(), abs=1e-12)
        assert point["p_talks_low"] == pytest.approx(low, abs=1e-12)
        assert point["p_talks_high"] == pytest.approx(high, abs=1e-12)
        tests = reference.loc[mask, "tests"]
        assert point["mean_tests"] == pytest.approx(tests.mean(), abs=1e-12)
        # quasi-Poisson interval: Garwood's limits for total / phi, scaled by phi / n
        n, phi = len(tests), max(1.0, tests.var(ddof=1) / tests.mean()) if tests.mean() > 0 else 1.0
        k = tests.sum() / phi
        low = sps.chi2.ppf(0.025, 2 * k) / 2 * phi / n if k > 0 else 0.0
        assert point["mean_tests_low"] == pytest.approx(low, abs=1e-12)
        assert point["mean_tests_high"] == pytest.approx(sps.chi2.ppf(0.975, 2 * k + 2) / 2 * phi / n, abs=1e-12)
        assert point["p_inter_korean_talks"] == pytest.approx(
            reference.loc[mask, "inter_korean_talks"].mean(), abs=1e-12
        )
        assert point["p_any_test"] == pytest.approx((tests > 0).mean(), abs=1e-12)
        # censoring only at the horizon: the Kaplan-Meier median is the first week by which half
        # the runs had talks, and undefined when fewer than half ever do
        weeks = reference.loc[mask, "talks_week"].to_numpy()
        reached = [t for t in range(1, smoke.weeks + 1) if np.mean(weeks <= t) >= 0.5]
        expected = reached[0] if reached else np.nan
        assert point["median_weeks_to_talks"] == pytest.approx(expected, nan_ok=True)


def test_a_fully_resumed_sweep_redraws_nothing_and_the_report_reuses_its_heatmap(tmp_path):
    """Rerunning a finished sweep shows no progress bar and rewrites neither summary.csv nor
    the heatmap; the heatmap counts as current, so the report (as `make run` calls it next)
    embeds it without drawing it again; results newer than the heatmap make it drawn afresh."""
    from experiments.analysis.estimates import HEATMAP_FILES, is_current, load

    out = tmp_path / "smoke"
    assert run_cli("sweep", str(SMOKE), "--out", str(out)).returncode == 0
    files = [out / "summary.csv", out / "p_talks_heatmap.png", out / "p_talks_heatmap.pdf"]
    stamps = [path.stat().st_mtime_ns for path in files]
    again = run_cli("sweep", str(SMOKE), "--out", str(out))
    assert again.returncode == 0 and "up to date" in again.stdout and "wrote" not in again.stdout
    assert again.stderr == "", "no progress bar when every chunk is on disk"
    assert [path.stat().st_mtime_ns for path in files] == stamps
    assert is_current(load(out), HEATMAP_FILES)
    chunk = sorted((out / "chunks").glob("*.parquet"))[0]
    later = stamps[1] + 10**9
    os.utime(chunk, ns=(later, later))
    assert not is_current(load(out), HEATMAP_FILES)
    redrawn = run_cli("sweep", str(SMOKE), "--out", str(out))
    assert f"wrote {out / 'p_talks_heatmap.png'}" in redrawn.stdout
