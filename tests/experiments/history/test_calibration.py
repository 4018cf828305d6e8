"""The calibration's machinery: summaries, the distance over replicates, the point estimate, the
posterior's diagnostics, blocks on any executor, resuming per generation, and (slow)
simulation-based calibration."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, run_cli

from experiments.errors import UserError
from experiments.history import summaries as S
from experiments.history.abc import (
    CALIBRATED_PARAMETERS,
    Calibration,
    _smc_weights,
    acceptance_share,
    calibrate,
    central_particle,
    expected_distance,
    kernel_spread,
    next_tolerance,
    noise_scales,
    observed_summaries,
    replicate_distances,
    weighted_quantile,
)
from experiments.history.record import read_record
from experiments.history.scenario import load_scenario
from model.params import TABLE
from model.rules import RUNGS

HISTORY = ROOT / "experiments" / "scenarios" / "history_2016_2018.toml"
RECORD = ROOT / "data" / "dprk_monthly_2016_2018.csv"
SMALL = dict(population=40, accept=0.2, replicates=10, block=50, progress=False, seed=5)


@pytest.fixture(scope="module")
def history():
    return load_scenario(HISTORY), read_record(RECORD)


# ---- summaries ---------------------------------------------------------------------------------


def test_gap_and_lag_statistics_by_hand():
    launches = np.array([[1, 0], [0, 0], [0, 2], [3, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(S.longest_gap(launches), [2, 3])
    # run 0: launch months 0 and 3 -> one gap of 3; run 1: a single launch month -> "never" (6)
    np.testing.assert_array_equal(S.mean_gap(launches), [3.0, 6.0])
    major = np.array([[1], [0], [0], [1], [0], [0]])
    # resolutions in months 2 and 5: last major tests in months 0 and 3 -> lags 2 and 2
    np.testing.assert_array_equal(S.resolution_lag(major, np.array([2, 5])), [2.0])
    np.testing.assert_array_equal(S.resolution_lag(np.zeros((6, 1)), np.array([2])), [3.0])  # none before: row + 1


def test_milestones_are_found_in_the_record(history):
    scenario, record = history
    panel = S.panel_from_record(scenario, record, S.recorded_rungs(record))
    first = {name: str(panel.months[hit[:, 0]][0]) for name, hit in panel.milestones.items() if hit.any()}
    assert first == {
        "inter_korean_talks": "2018-01",
        "us_dprk_talks": "2018-03",
        "summit_accepted": "2018-03",
        "us_dprk_summit": "2018-06",
        "moratorium": "2018-04",
        "talks_cancelled": "2018-05",
        "talks_reinstated": "2018-05",
    }


def test_the_summary_table_follows_the_model_and_the_record(history):
    scenario, record = history
    names = [s.name for s in S.summary_table(scenario, record)]
    icbm_rung = S.RUNG_NAMES.index("tests_icbm") + 1
    assert icbm_rung < RUNGS and "tests_icbm_2017" in names
    assert {
        "lag_major_test_to_resolution",
        "launches_in_exercise_months",
        "longest_gap_months",
        "first_inter_korean_talks_month",
        "first_us_dprk_talks_month",
    } <= set(names)
    # milestones the model cannot produce are left out, and named
    missing = S.unavailable_milestones(scenario)
    assert all(f"first_{m}_month" not in names for m in missing)
    assert all(f"first_{m.name}_month" in names for m in S.MILESTONES if m.name not in missing)
    # without the launch-kind columns the record says nothing of the rung mix or of major tests
    bare = record.drop(columns=["icbm_launches", "slbm_space_launches"])
    bare_names = [s.name for s in S.summary_table(scenario, bare)]
    assert not any(n.startswith("tests_icbm") for n in bare_names) and "lag_major_test_to_resolution" not in bare_names


def test_rung_mapping_reads_the_model_s_rung_names(monkeypatch, history):
    _, record = history
    # today's kind of ladder: the ICBM rung also holds submarine and space launches
    monkeypatch.setattr(S, "RUNG_NAMES", ("tests_short_range", "tests_intermediate", "tests_icbm", "nuclear_tests"))
    assert S.recorded_rungs(record) == {3: ["icbm_launches", "slbm_space_launches"]}
    # a ladder with its own SLBM/space rung (model version 2) counts the kinds apart
    monkeypatch.setattr(
        S, "RUNG_NAMES", ("tests_short_range", "tests_intermediate", "tests_slbm_space", "tests_icbm", "nuclear_tests")
    )
    assert S.recorded_rungs(record) == {3: ["slbm_space_launches"], 4: ["icbm_launches"]}


def test_record_and_simulation_give_the_same_statistics_for_the_same_history(history):
    """A simulated run whose weekly series reproduce the record month by month (tests in each
    month's first week at the right rungs, talks from the record's months) has the record's
    summaries, statistic by statistic."""
    scenario, record = history
    summaries = [s for s in S.summary_table(scenario, record) if s.kind != "milestone" and s.kind != "talks_months"]
    weeks = pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()])
    rungs = S.recorded_rungs(record)
    tests, rung = np.zeros((len(weeks), 1), np.int64), np.zeros((len(weeks), 1), np.int64)
    # one week per kind: each recorded rung's launches in its own week, the rest at rung 1, nuclear tests last
    rec = record.reindex(weeks.unique())
    for month in weeks.unique():
        w = np.flatnonzero(weeks == month)
        kinds = [(r, int(rec.loc[month, cols].sum())) for r, cols in rungs.items()]
        tests[w[0]], rung[w[0]] = rec.loc[month, "launches"] - sum(n for _, n in kinds), 1
        for k, (r, n) in enumerate(kinds, start=1):
            tests[w[k]], rung[w[k]] = n, r
        tests[w[len(kinds) + 1]], rung[w[len(kinds) + 1]] = rec.loc[month, "nuclear_tests"], RUNGS
    weekly = {"tests": tests, "test_rung": rung, "talks_stage": np.zeros_like(tests)}
    sim = S.compute(summaries, S.panel_from_trajectory(scenario, weekly, rungs)).iloc[0]
    obs = observed_summaries(scenario, record, summaries)
    pd.testing.assert_series_equal(sim, obs, check_names=False)


def test_the_summaries_read_only_the_series_calibration_keeps(history):
    """The summaries of runs that keep only SUMMARY_SERIES are those of runs that keep every
    series, bit for bit; and every one of those series is read (dropping one fails)."""
    scenario, record = history
    summaries = S.summary_table(scenario, record)
    rungs = S.recorded_rungs(record)
    runs = [scenario.simulate(np.arange(30), trajectories=t).trajectory for t in (True, S.SUMMARY_SERIES)]
    every, few = (S.compute(summaries, S.panel_from_trajectory(scenario, r, rungs)) for r in runs)
    pd.testing.assert_frame_equal(every, few, check_exact=True)
    for name in S.SUMMARY_SERIES:
        fewer = {k: v for k, v in runs[1].items() if k != name}
        try:
            changed = S.compute(summaries, S.panel_from_trajectory(scenario, fewer, rungs))
        except KeyError:
            continue
        assert not changed.equals(every), name


# ---- distance, point estimate, diagnostics ----------------------------------------------------


def test_expected_distance_is_the_mean_squared_distance_over_replicates():
    rng = np.random.default_rng(1)
    stats = rng.poisson(3.0, size=(4, 10, 3)).astype(float)  # particles x replicates x summaries
    observed, scales = np.array([2.0, 3.0, 1.0]), np.array([1.5, 2.0, 0.5])
    brute = np.sqrt((((stats - observed) / scales) ** 2).sum(axis=2).mean(axis=1))
    np.testing.assert_allclose(
        expected_distance(stats.mean(axis=1), stats.var(axis=1), observed, scales), brute, rtol=1e-12
    )
    pooled = np.sqrt(stats.var(axis=1, ddof=1).mean(axis=0))
    np.testing.assert_allclose(noise_scales(stats.var(axis=1), 10), pooled, rtol=1e-12)
    assert noise_scales(np.zeros((4, 2)), 10).tolist() == [1.0, 1.0]


def test_point_estimate_is_central_among_the_good_particles_not_the_closest_corner():
    posterior = pd.DataFrame(
        {
            "a": [0.0, 0.5, 0.52, 0.9, 0.48],
            "b": [10.0, 5.0, 9.0, 1.0, 5.5],
            "share": [0.9, 0.5, 0.1, 0.6, 0.4],
            "weight": [0.2] * 5,
        }
    )
    # median a = 0.5, b = 5.5 (weighted); good = share >= median share 0.5 -> rows 0, 1, 3
    # (row 4, nearer the median than row 1 in b, fits worse and is not a candidate)
    assert central_particle(posterior, ("a", "b"), np.array([0.0, 0.0]), np.array([1.0, 10.0])) == 1
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([0.1, 0.1, 0.8]), 0.5) == 2.0


def test_intervals_show_the_priors_actually_sampled_and_the_narrowing(history):
    scenario, record = history
    result = calibrate(scenario, record, generations=1, **SMALL)
    table = result.intervals()
    # the table's ranges need no repair: the prior is the table's range
    assert table.at["hawkes_ratio", "prior_high"] == TABLE["hawkes_ratio"].high == 0.95
    width = (table["high"] - table["low"]) / (table["prior_high"] - table["prior_low"])
    np.testing.assert_allclose(table["width_ratio"].astype(float), width.astype(float))
    corr = result.correlations()
    assert corr.shape == (len(CALIBRATED_PARAMETERS),) * 2 and np.allclose(np.diag(corr), 1.0)
    assert 1 <= result.effective_sample_size <= len(result.posterior)
    assert isinstance(result, Calibration) and result.replicates == 10


# ---- executors and resuming -----------------------------------------------------------------------


def test_calibration_is_the_same_on_a_process_pool_and_resumes_per_generation(history, tmp_path):
    scenario, record = history
    from experiments.sweep.runner import make_executor

    whole = calibrate(scenario, record, generations=3, **SMALL)
    with make_executor(2) as (executor, parallelism):
        pooled = calibrate(
            scenario, record, generations=2, out=tmp_path, executor=executor, parallelism=parallelism, **SMALL
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"generation_0{g}.{ext}" for g in (0, 1) for ext in ("json", "parquet")
    ]
    resumed = calibrate(scenario, record, generations=3, out=tmp_path, **SMALL)
    pd.testing.assert_frame_equal(resumed.posterior, whole.posterior, check_exact=True)
    assert resumed.tolerances == whole.tolerances and resumed.simulations == whole.simulations
    assert pooled.tolerances == whole.tolerances[:2]
    with pytest.raises(UserError, match="other settings"):
        calibrate(scenario, record, generations=3, out=tmp_path, **{**SMALL, "population": 41})


def test_cli_calibrate_names_its_budget_and_refuses_other_settings_in_out(tmp_path):
    help_text = run_cli("calibrate", "--help").stdout
    for option in (
        "--population",
        "--generations",
        "--accept",
        "--replicates",
        "--max-simulations",
        "--workers",
        "--dask",
        "--block",
        "--restart",
        "--sbc",
        "--explanations",
    ):
        assert option in help_text, option
    args = [
        "calibrate",
        str(HISTORY),
        "--population",
        "20",
        "--generations",
        "1",
        "--accept",
        "0.5",
        "--replicates",
        "2",
        "--block",
        "20",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "replicates_per_particle = 2" in (tmp_path / "calibrated.toml").read_text()
    other = [a if a != "20" else "21" for a in args]
    assert_one_line_error(run_cli(*other), "other settings", "--restart")
    assert run_cli(*other, "--restart").returncode == 0


# ---- simulation-based calibration ----------------------------------------------------------------


def _shipped_sbc():
    """The shipped SBC figures with their scenario and record."""
    from experiments.history.checks import CHECKS_FILE
    from experiments.history.record import load_record_for

    shipped = json.loads(CHECKS_FILE.read_text(encoding="utf-8"))
    scenario = load_scenario(ROOT / "experiments" / "scenarios" / f"{shipped['scenario']}.toml")
    return shipped, scenario, load_record_for(scenario, None)


def test_the_shipped_sbc_figures_are_its_stored_truths_counted():
    """data/calibration_checks.json's coverage figures are its own per-truth rows counted, and
    those rows are fits of the truths the seed draws from the prior, in order."""
    from experiments.history.checks import sbc_draws, sbc_figures

    shipped, scenario, _ = _shipped_sbc()
    assert shipped["truths"] >= 50
    parameters = tuple(shipped["parameters"])
    recount = sbc_figures(shipped["per_truth"], scenario.name, shipped["seed"], parameters, shipped["budget"])
    assert recount == {k: v for k, v in shipped.items() if k != "identification"}
    drawn, _ = sbc_draws(scenario, shipped["truths"], shipped["seed"], parameters)
    assert [row["index"] for row in shipped["per_truth"]] == list(range(shipped["truths"]))
    assert [row["truth"] for row in shipped["per_truth"]] == drawn.tolist()


@pytest.mark.slow
def test_simulation_based_calibration_reproduces_the_shipped_truths():
    """Two of the shipped truths (the first and the last), fitted again at the shipped budget and
    seed in one process, give their shipped rows bit for bit, as from the command's 2 workers
    (about 7 CPU-minutes at the installed budget). What the figures say is discussed in
    docs/ODD.md section 9."""
    from experiments.history.checks import simulation_based_calibration

    shipped, scenario, record = _shipped_sbc()
    ends = [0, shipped["truths"] - 1]
    figures = simulation_based_calibration(
        scenario,
        record,
        truths=shipped["truths"],
        seed=shipped["seed"],
        parameters=tuple(shipped["parameters"]),
        progress=False,
        only=ends,
        **shipped["budget"],
    )
    assert figures["per_truth"] == [shipped["per_truth"][t] for t in ends]


def test_sbc_resumes_from_its_stored_truths_and_refuses_damaged_or_foreign_ones(history, tmp_path):
    """Truths fitted one by one into a store, then the rest on a rerun, give the figures of one
    uninterrupted run; a rerun refits nothing stored; a damaged truth file or one fitted with
    other settings stops the run with one line naming what to do."""
    from experiments.history import checks as C

    scenario, record = history
    tiny = dict(population=20, generations=1, accept=0.5, replicates=2, block=20, seed=5, progress=False)
    whole = C.simulation_based_calibration(scenario, record, truths=3, **tiny)
    store = tmp_path / "sbc"
    part = C.simulation_based_calibration(scenario, record, truths=3, store=store, only=[2], **tiny)
    assert part["per_truth"] == whole["per_truth"][2:] and part["truths"] == 1
    assert sorted(p.name for p in store.iterdir()) == ["truth_002.json"]
    assert C.simulation_based_calibration(scenario, record, truths=3, store=store, **tiny) == whole
    fitted = []
    original = C.sbc_truth
    try:
        C.sbc_truth = lambda *a, **k: fitted.append(a) or original(*a, **k)
        assert C.simulation_based_calibration(scenario, record, truths=3, store=store, **tiny) == whole
    finally:
        C.sbc_truth = original
    assert fitted == []
    with pytest.raises(UserError, match="other settings.*--restart"):
        C.simulation_based_calibration(scenario, record, truths=3, store=store, **{**tiny, "replicates": 3})
    good = (store / "truth_001.json").read_text(encoding="utf-8")
    damaged = {
        '{"fingerprint": {"trunc': "unreadable",
        (store / "truth_002.json").read_text(encoding="utf-8"): "holds truth 2, not the truth its name says",
        good.replace('"inside_90"', '"inside_ninety"'): "has the fields",
        good.replace('"q05": [', '"q05": [0.5, '): "one value per parameter",
    }
    for text, problem in damaged.items():
        (store / "truth_001.json").write_text(text, encoding="utf-8")
        with pytest.raises(
            UserError, match=f"truth_001.json: a damaged stored SBC truth: .*{problem}.*delete that file"
        ):
            C.simulation_based_calibration(scenario, record, truths=3, store=store, **tiny)
    with pytest.raises(UserError, match="is a file, not a folder"):
        C.simulation_based_calibration(scenario, record, truths=3, store=store / "truth_002.json", **tiny)
    with pytest.raises(ValueError, match="from 0 to 2"):
        C.simulation_based_calibration(scenario, record, truths=3, only=[3], **tiny)


def test_cli_restart_discards_only_what_its_kind_of_run_saved(tmp_path):
    """--restart on a fit discards the fit's generations and keeps an SBC's truths in the same
    --out; --sbc --restart discards the truths and keeps the generations."""
    tiny = [str(HISTORY), "--population", "20", "--generations", "1", "--accept", "0.5", "--replicates", "2"]
    tiny += ["--block", "20", "--workers", "1", "--quiet", "--out", str(tmp_path)]
    for args in ([], ["--sbc", "2"]):
        assert run_cli("calibrate", *tiny, *args).returncode == 0
    generations, truths = sorted(tmp_path.glob("generation_*")), sorted((tmp_path / "sbc").glob("truth_*.json"))
    assert generations and len(truths) == 2
    for args, kept, rewritten in (([], truths, generations), (["--sbc", "2"], generations, truths)):
        stamp = {path: path.stat().st_mtime_ns for path in generations + truths}
        assert run_cli("calibrate", *tiny, *args, "--restart").returncode == 0
        assert all(path.stat().st_mtime_ns == stamp[path] for path in kept), args
        assert all(path.stat().st_mtime_ns != stamp[path] for path in rewritten), args


def test_coverage_counting_of_simulation_based_calibration(monkeypatch, history):
    """With a stub fit whose posterior is the prior itself, the central intervals contain a
    truth drawn from the prior in about 50% and 90% of cases (binomial tolerance, fixed seeds);
    with one that puts all its mass away from the truth, never."""
    from experiments.history import checks as C

    scenario, record = history

    class Prior:
        def __init__(self, low, high):
            self.low, self.high = low, high

        def quantile(self, name, q):
            return self.low[name] + q * (self.high[name] - self.low[name])

    low, high = C._prior_bounds(scenario.params, CALIBRATED_PARAMETERS)
    bounds = dict(zip(CALIBRATED_PARAMETERS, low, strict=True)), dict(zip(CALIBRATED_PARAMETERS, high, strict=True))
    monkeypatch.setattr(C, "calibrate", lambda *a, **k: Prior(*bounds))
    monkeypatch.setattr(C, "synthetic_observed", lambda *a, **k: None)
    figures = C.simulation_based_calibration(scenario, record, truths=60, seed=3, progress=False)
    n = 60 * len(CALIBRATED_PARAMETERS)
    for level in (50, 90):
        p = level / 100
        assert abs(figures[f"sbc_coverage_{level}"] - p) < 4 * np.sqrt(p * (1 - p) / n)
    monkeypatch.setattr(C, "calibrate", lambda *a, **k: Prior(bounds[1], {k: 2 * v + 1 for k, v in bounds[1].items()}))
    figures = C.simulation_based_calibration(scenario, record, truths=5, seed=3, progress=False)
    assert figures["sbc_coverage_50"] == figures["sbc_coverage_90"] == 0.0


def test_odd_shows_the_installed_posterior_and_the_checks():
    from experiments.docs import ODD_PATH, checks_markdown, fit_markdown

    text = ODD_PATH.read_text(encoding="utf-8")
    assert fit_markdown() in text and checks_markdown() in text, "run `escalation params --update-odd`"


# ---- competing explanations ---------------------------------------------------------------------


def test_model_choice_gives_equal_odds_to_identical_models_and_none_to_one_that_cannot_fit(monkeypatch, history):
    from experiments.history import explanations as X

    scenario, record = history
    # switching off something already off: two identical models, so about half the kept draws each
    monkeypatch.setattr(X, "EXPLANATIONS", {"nothing": "sanctions_escalation"})
    assert scenario.params.sanctions_escalation == 0.0
    table, settings = X.compare_explanations(scenario, record, draws=400, accept=0.25, replicates=4, seed=3)
    assert list(table["model"]) == ["full model", "without nothing"] and table["kept"].sum() == 200
    assert abs(table["probability"].iloc[1] - 0.5) < 4 * np.sqrt(0.25 / 200)
    assert settings["simulations"] == 2 * 400 * 4
    # a model without any baseline testing cannot produce the 2016-17 surge: it keeps no draw
    monkeypatch.setattr(X, "EXPLANATIONS", {"testing": "test_baseline_rate"})
    table, _ = X.compare_explanations(scenario, record, draws=300, accept=0.1, replicates=4, seed=3)
    assert table.set_index("model").at["without testing", "kept"] == 0
    assert table["probability"].iloc[0] == 1.0 and table["bayes_factor"].iloc[1] == 0.0


# ---- the acceptance rule: the share of replays within the tolerance -------------------------------


def test_acceptance_share_counts_the_replays_within_the_tolerance_and_sets_the_next_tolerance():
    distances = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [0.5, 9.0, 9.0, 9.0]])
    assert acceptance_share(distances, 4.5).tolist() == [1.0, 0.0, 0.25]
    assert acceptance_share(distances, 2.0).tolist() == [0.5, 0.0, 0.25]  # a tie is inside
    stats = np.array([[[1.0, 2.0], [3.0, 2.0]]])  # one particle, two replays, two summaries
    np.testing.assert_allclose(
        replicate_distances(stats, np.array([1.0, 0.0]), np.array([1.0, 2.0])), [[1.0, np.sqrt(5.0)]]
    )
    # The joint posterior of (parameters, replay) at tolerance 4.5: particle 0's four replays
    # weigh 0.5 / 1 each, particle 2's one replay 0.5 / 0.25 = 2; its median is particle 2's 0.5.
    assert next_tolerance(distances, np.array([0.5, 0.0, 0.5]), 4.5) == 0.5
    # With particle 2 rare, the median falls among particle 0's replays.
    assert next_tolerance(distances, np.array([0.9, 0.0, 0.1]), 4.5) == 2.0


def test_weights_by_the_share_give_the_exact_abc_posterior_where_the_expected_distance_does_not():
    """Prior draws weighted by the share of their replays within the tolerance estimate the exact
    ABC posterior (a toy: theta uniform on (0, 4), x ~ Poisson(theta), observed 2, tolerance 0.5,
    so the ABC posterior is the Gamma(3, 1) density truncated to (0, 4)), whatever the number of
    replays. Keeping the draws whose expected distance is smallest does not: it prefers small
    variance, so it pulls the sample below the posterior mean (the defect this rule replaces)."""
    rng = np.random.default_rng(11)
    n, r = 40_000, 5
    theta = rng.uniform(0.0, 4.0, n)
    x = rng.poisson(theta[:, None], size=(n, r)).astype(float)
    distances = np.abs(x - 2.0)
    share = acceptance_share(distances, 0.5)
    weights = share / share.sum()
    grid = np.linspace(0.0, 4.0, 400_001)
    density = grid**2 * np.exp(-grid)
    exact_mean = float((grid * density).sum() / density.sum())
    exact_sd = float(np.sqrt(((grid - exact_mean) ** 2 * density).sum() / density.sum()))
    ess = 1.0 / (weights**2).sum()
    se = exact_sd / np.sqrt(ess)
    assert abs((weights * theta).sum() - exact_mean) < 4 * se
    # the old rule at the same acceptance count: the closest draws by expected distance
    expected = np.sqrt((distances**2).mean(axis=1))
    kept = np.argsort(expected, kind="stable")[: int((share > 0).sum())]
    assert theta[kept].mean() < exact_mean - 4 * se


def test_each_generation_weighs_its_particles_by_share_times_prior_over_proposal(history, tmp_path):
    scenario, record = history
    result = calibrate(scenario, record, generations=3, out=tmp_path, **SMALL)
    low, high = (np.array(list(b.values())) for b in (result.prior_low, result.prior_high))
    names = list(CALIBRATED_PARAMETERS)
    frames = [pd.read_parquet(tmp_path / f"generation_0{g}.parquet") for g in range(3)]
    for g, frame in enumerate(frames):
        replays = frame[[c for c in frame if c.startswith("replay_")]].to_numpy()
        assert replays.shape[1] == SMALL["replicates"]
        share = acceptance_share(replays, result.tolerances[g])
        np.testing.assert_array_equal(frame["share"], share)
        assert (share > 0).all()  # no particle without a replay inside the tolerance
        if g == 0:
            np.testing.assert_allclose(frame["weight"], share / share.sum(), rtol=1e-12)
            continue
        previous = frames[g - 1]
        theta, w = previous[names].to_numpy(), previous["weight"].to_numpy()
        spread = kernel_spread(theta, w, low, high)
        expected = share * _smc_weights(frame[names].to_numpy(), theta, w, spread, low, high)
        np.testing.assert_allclose(frame["weight"], expected / expected.sum(), rtol=1e-10)
        assert result.tolerances[g] < result.tolerances[g - 1]
    assert frames[0]["share"].nunique() > 1  # the weights are not all equal: the rule matters


# ---- the decade summaries -------------------------------------------------------------------------

HISTORY_10 = ROOT / "experiments" / "scenarios" / "history_2009_2018.toml"
RECORD_10 = ROOT / "data" / "dprk_monthly_2009_2018.csv"


def _panel(launches, talks, deal, nuclear=None):
    launches = np.asarray(launches, dtype=float)
    months = pd.period_range("2030-01", periods=launches.shape[0], freq="M")
    return S.Panel(
        months=months,
        launches=launches,
        nuclear=np.zeros_like(launches) if nuclear is None else np.asarray(nuclear, dtype=float),
        by_rung={"tests_icbm": (launches > 1).astype(float)},
        major=None,
        milestones={},
        talks=np.asarray(talks, dtype=bool),
        deal=np.asarray(deal, dtype=bool),
    )


def test_decade_statistics_by_hand():
    # two runs over eight months
    launches = [[1, 0], [0, 0], [0, 3], [0, 0], [2, 0], [0, 0], [0, 1], [0, 0]]
    talks = [[0, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [1, 0], [0, 0]]
    deal = [[0, 0], [1, 0], [0, 0], [0, 0], [0, 1], [0, 0], [0, 0], [0, 0]]
    p = _panel(launches, talks, deal, nuclear=[[0, 0]] * 7 + [[1, 0]])

    def stat(kind, arg=None):
        return S.STATISTICS[kind](p, arg).tolist()

    assert S.starts(p.talks).astype(int)[:, 0].tolist() == [0, 1, 0, 0, 0, 0, 1, 0]
    # run 0: launches in months 0 and 4; talks start in months 1 and 6 -> both launches followed within 3
    # run 1: launches in months 2 and 6; talks start in month 3 -> the first only
    assert stat("talks_after_launches", 3) == [2, 1]
    assert stat("talks_after_launches", 1) == [1, 1]
    # run 0: talks start in months 1 and 6, a launch in month 4 (3 after the first); run 1: start in 3, launch in 6
    assert stat("launches_after_talks", 3) == [1, 1]
    assert stat("launches_after_talks", 2) == [0, 0]
    # deals: run 0 in month 1, next launch month 4 (3 months); run 1 in month 4, next launch month 6 (2)
    assert stat("first_deal") == [1, 4] and stat("deal_to_launch") == [3, 2]
    assert S.deal_to_launch(np.zeros((5, 1), bool), np.ones((5, 1))).tolist() == [5]  # no deal: the months
    assert S.deal_to_launch(np.array([[0], [1], [0]], bool), np.zeros((3, 1))).tolist() == [2]  # none after: to the end
    assert stat("talks_in", (1, 2, 3)) == [2, 1]
    assert stat("launch_rate", (0, 4)) == [1.5, 0.0]
    assert stat("rung_total", "tests_icbm") == [1, 1] and stat("nuclear_total") == [1, 0]
    assert stat("longest_without_talks") == [3, 3] and stat("talks_spells") == [2, 1]


def test_decade_statistics_take_many_replicates_at_once():
    rng = np.random.default_rng(2)
    launches, talks, deal = rng.poisson(0.5, (24, 12)), rng.random((24, 12)) < 0.3, rng.random((24, 12)) < 0.05
    whole = _panel(launches, talks, deal)
    for kind, arg in (("talks_after_launches", 3), ("launches_after_talks", 3), ("deal_to_launch", None)):
        together = S.STATISTICS[kind](whole, arg)
        alone = [S.STATISTICS[kind](_panel(launches[:, [r]], talks[:, [r]], deal[:, [r]]), arg)[0] for r in range(12)]
        np.testing.assert_array_equal(together, alone)


def test_the_record_s_deals_and_the_model_s():
    scenario, record = load_scenario(HISTORY_10), read_record(RECORD_10)
    panel = S.panel_from_record(scenario, record, S.recorded_rungs(record))
    assert [str(m) for m in panel.months[panel.deal[:, 0]]] == ["2012-02", "2018-04", "2018-06"]
    weekly = {
        "tests": np.zeros((4, 2)),
        "summit": np.array([[0, 0], [0, 1], [0, 0], [0, 0]]),  # run 1: a summit deal in week 2
        "moratorium": np.array([[0, 0], [1, 0], [1, 0], [0, 0]]),  # run 0: declared in week 2, kept in week 3
    }
    from model.rules import SUMMIT_DEAL

    assert SUMMIT_DEAL == 1
    np.testing.assert_array_equal(S.simulated_deals(weekly), [[0, 0], [1, 1], [0, 0], [0, 0]])


def test_the_decade_set_goes_with_ten_years_and_is_computed_alike_from_record_and_runs():
    scenario, record = load_scenario(HISTORY_10), read_record(RECORD_10)
    names = [s.name for s in S.summary_table(scenario, record)]
    decade = S.decade_summaries(scenario, record)
    assert {s.name for s in decade} <= set(names) and "talks_months_pressure_first" in names
    three = load_scenario(HISTORY)
    assert not {s.name for s in decade} & {s.name for s in S.summary_table(three, record)}  # 3 years: annual
    with pytest.raises(UserError, match="not known"):
        S.summary_table(three, record, "weekly")
    # a run that reproduces the record month by month has the record's decade summaries
    weeks = pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()])
    rec = record.reindex(weeks.unique())
    rungs = S.recorded_rungs(record)
    tests, rung = np.zeros((len(weeks), 1), np.int64), np.zeros((len(weeks), 1), np.int64)
    stage, moratorium = np.zeros_like(tests), np.zeros_like(tests)
    panel = S.panel_from_record(scenario, record, rungs)
    for i, month in enumerate(weeks.unique()):
        w = np.flatnonzero(weeks == month)
        kinds = [(r, int(rec.loc[month, cols].sum())) for r, cols in rungs.items()]
        tests[w[0]], rung[w[0]] = rec.loc[month, "launches"] - sum(n for _, n in kinds), 1
        for k, (r, n) in enumerate(kinds, start=1):
            tests[w[k]], rung[w[k]] = n, r
        tests[w[len(kinds) + 1]], rung[w[len(kinds) + 1]] = rec.loc[month, "nuclear_tests"], RUNGS
        stage[w] = 1 if rec.loc[month, "talks"] else 0
        moratorium[w[0]] = int(panel.deal[i, 0])
    weekly = {"tests": tests, "test_rung": rung, "talks_stage": stage, "moratorium": moratorium}
    sim = S.compute(decade, S.panel_from_trajectory(scenario, weekly, rungs)).iloc[0]
    obs = observed_summaries(scenario, record, decade)
    pd.testing.assert_series_equal(sim, obs, check_names=False)
