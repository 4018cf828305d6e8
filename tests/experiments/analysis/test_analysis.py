"""Tests for experiments/analysis/ (estimates, contrasts, trajectories): what it adds on top of experiments/stats.py (tested in
test_stats.py): loading, policies and baselines, pairing by replicate (and scenario), survival
curves from run rows, testing cost, and trajectories that reproduce the sweep's runs."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from experiments import analysis, stats
from experiments.analysis import survival
from experiments.errors import UserError
from experiments.sweep.config import parse_experiment
from experiments.sweep.runner import run_sweep

LEVERS = ["sanctions_level", "exercise_policy", "engagement_stance"]
BASELINE = {"sanctions_level": 0.95, "exercise_policy": "as_scheduled", "engagement_stance": "pressure_first"}


@pytest.fixture(scope="module")
def result(smoke_results):
    return analysis.load(smoke_results)


# ---------------------------------------------------------------------------------------------
# loading and policies
# ---------------------------------------------------------------------------------------------


def test_load_gives_rows_levers_horizon_and_provenance(result):
    assert len(result.rows) == 8 * 20 and result.complete
    assert result.levers == {
        "sanctions_level": [0.5, 0.95],
        "exercise_policy": ["as_scheduled", "suspended"],
        "engagement_stance": ["pressure_first", "pressure_and_engagement"],
    }
    assert result.horizon == 26 and str(result.start_date) == "2018-02-26"
    assert result.provenance["config_hash"] == result.manifest["config_hash"] == result.experiment.config_hash()
    assert result.provenance["git"]["commit"]


def test_load_of_a_missing_or_foreign_directory_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        analysis.load(tmp_path / "missing")
    with pytest.raises(UserError, match="not a results directory"):
        analysis.load(tmp_path)


def test_default_baseline_is_first_values_at_the_highest_sanctions_level(result):
    assert analysis.default_baseline(result.levers) == BASELINE


def test_parse_policy_returns_the_design_values(result):
    policy = analysis.parse_policy("sanctions_level=0.950, exercise_policy=SUSPENDED", result.levers)
    assert policy == {"sanctions_level": 0.95, "exercise_policy": "suspended"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("exercise_polcy=as_scheduled", "did you mean 'exercise_policy'"),
        ("sanctions_level=0.7", "sanctions_level takes 0.5, 0.95"),
        ("exercise_policy=cancelled", "exercise_policy takes as_scheduled, suspended"),
        ("exercise_policy", "lever=value"),
        ("exercise_policy=suspended,exercise_policy=as_scheduled", "twice"),
        (" , ", "names no lever"),
    ],
)
def test_parse_policy_refuses_what_the_design_does_not_have(result, text, fragment):
    with pytest.raises(UserError, match=fragment.replace("(", r"\(")) as error:
        analysis.parse_policy(text, result.levers)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------------------------------------
# event probabilities
# ---------------------------------------------------------------------------------------------


def test_event_probabilities_count_the_runs_of_each_policy(result):
    table = analysis.event_probabilities(result.rows, LEVERS)
    assert len(table) == 8 * len(analysis.EVENTS)
    rows = result.rows[analysis.matches(result.rows, BASELINE)]
    expected = {
        "talks": rows["talks"].sum(),
        "any_test": (rows["tests"] > 0).sum(),
        "nuclear_test": (rows["nuclear_tests"] > 0).sum(),
        "icbm_or_nuclear_test": (rows["highest_rung"] >= 4).sum(),
    }
    mine = table[analysis.matches(table, BASELINE)].set_index("event")
    for event, successes in expected.items():
        low, high = stats.wilson_interval(successes, 20)
        assert mine.loc[event, "successes"] == successes and mine.loc[event, "n"] == 20
        assert mine.loc[event, ["ci_low", "ci_high"]].tolist() == pytest.approx([float(low), float(high)])


def test_event_probabilities_refuse_an_unknown_event(result):
    with pytest.raises(ValueError, match="unknown event"):
        analysis.event_probabilities(result.rows, LEVERS, events=["peace"])


# ---------------------------------------------------------------------------------------------
# paired contrasts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["talks", "tests"])
def test_contrast_of_the_baseline_with_itself_is_exactly_zero(result, outcome):
    table = analysis.paired_contrasts(result.rows, BASELINE, LEVERS, outcome)
    itself = table[analysis.matches(table, BASELINE)].iloc[0]
    assert itself["difference"] == 0 and itself["ci_low"] == 0 and itself["ci_high"] == 0
    assert itself["p_value"] == 1 and itself["n_pairs"] == 20


@pytest.mark.parametrize("outcome", ["talks", "tests"])
def test_contrasts_pair_rows_by_replicate_not_by_order(result, outcome):
    table = analysis.paired_contrasts(result.rows, BASELINE, LEVERS, outcome)
    shuffled = result.rows.sample(frac=1, random_state=3)
    again = analysis.paired_contrasts(shuffled, BASELINE, LEVERS, outcome)
    key = LEVERS
    pd.testing.assert_frame_equal(
        table.sort_values(key).reset_index(drop=True), again.sort_values(key).reset_index(drop=True)
    )


def test_contrasts_agree_with_the_paired_statistics_on_replicate_aligned_arrays(result):
    rows = result.rows
    policy = {"sanctions_level": 0.5, "exercise_policy": "suspended", "engagement_stance": "pressure_and_engagement"}
    a = rows[analysis.matches(rows, policy)].sort_values("replicate")
    b = rows[analysis.matches(rows, BASELINE)].sort_values("replicate")
    talks = analysis.paired_contrasts(rows, BASELINE, LEVERS, "talks")
    mine = talks[analysis.matches(talks, policy)].iloc[0]
    expected = stats.paired_difference(a["talks"].to_numpy(), b["talks"].to_numpy())
    for ours, theirs in [
        ("difference", "difference"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("p_value", "mcnemar_p"),
        ("policy_only", "discordant_ab"),
        ("baseline_only", "discordant_ba"),
    ]:
        assert mine[ours] == pytest.approx(expected[theirs], abs=1e-12)
    tests = analysis.paired_contrasts(rows, BASELINE, LEVERS, "tests")
    mine = tests[analysis.matches(tests, policy)].iloc[0]
    d = a["tests"].to_numpy() - b["tests"].to_numpy()
    t = sps.ttest_rel(a["tests"], b["tests"])
    low, high = t.confidence_interval()
    assert mine["difference"] == pytest.approx(d.mean()) and mine["p_value"] == pytest.approx(t.pvalue)
    assert (mine["ci_low"], mine["ci_high"]) == pytest.approx((low, high))


def test_contrasts_use_the_replicate_column_to_pair(result):
    """Relabelling the baseline's replicates breaks the pairs, and the contrasts change."""
    rows = result.rows.copy()
    base = analysis.matches(rows, BASELINE)
    rows.loc[base, "replicate"] = (rows.loc[base, "replicate"] + 1) % 20
    before = analysis.paired_contrasts(result.rows, BASELINE, LEVERS, "tests")
    after = analysis.paired_contrasts(rows, BASELINE, LEVERS, "tests")
    assert not np.allclose(before["ci_high"] - before["ci_low"], after["ci_high"] - after["ci_low"])
    assert np.allclose(before["difference"], after["difference"])  # the means do not depend on the pairing


def test_a_partial_baseline_is_matched_on_the_levers_it_leaves_out(result):
    rows = result.rows
    table = analysis.paired_contrasts(rows, {"exercise_policy": "as_scheduled"}, LEVERS, "talks")
    assert len(table) == 8
    policy = {"sanctions_level": 0.5, "exercise_policy": "suspended", "engagement_stance": "pressure_first"}
    reference = {**policy, "exercise_policy": "as_scheduled"}
    a = rows[analysis.matches(rows, policy)].sort_values("replicate")["talks"].to_numpy()
    b = rows[analysis.matches(rows, reference)].sort_values("replicate")["talks"].to_numpy()
    assert table[analysis.matches(table, policy)]["difference"].item() == pytest.approx(a.mean() - b.mean())
    assert (table[table["exercise_policy"] == "as_scheduled"]["difference"] == 0).all()


@pytest.mark.parametrize(
    "baseline, fragment",
    [
        ({"exercise_polcy": "as_scheduled"}, "not a lever"),
        ({"exercise_policy": "cancelled"}, "is not in the design"),
        ({"sanctions_level": 0.7}, "is not in the design"),
    ],
)
def test_a_baseline_outside_the_design_is_a_user_error(result, baseline, fragment):
    with pytest.raises(UserError, match=fragment):
        analysis.paired_contrasts(result.rows, baseline, LEVERS)


def test_contrasts_pair_within_scenario_when_uncertainties_were_sampled():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        [(s, r, arm) for s in range(3) for r in range(50) for arm in ("a", "b")],
        columns=["scenario", "replicate", "arm"],
    )
    frame["tests"] = rng.poisson(2, len(frame))
    frame.loc[frame["arm"] == "a", "tests"] = (
        frame.loc[frame["arm"] == "b", "tests"].to_numpy() + frame["scenario"][frame["arm"] == "a"].to_numpy()
    )
    table = analysis.paired_contrasts(frame, {"arm": "b"}, ["arm"], "tests")
    a = table[table["arm"] == "a"].iloc[0]
    assert a["n_pairs"] == 150
    assert a["difference"] == pytest.approx(1.0)  # scenario s adds exactly s tests: mean (0 + 1 + 2)/3
    with pytest.raises(ValueError, match="more than one row"):
        analysis.paired_contrasts(frame.drop(columns="scenario"), {"arm": "b"}, ["arm"], "tests")


def _paired_trials(trials: int, pairs: int, seed: int) -> tuple[pd.DataFrame, float, float]:
    """Paired binary and count outcomes of ``trials`` independent experiments of ``pairs``
    replicates each, with known differences: P(a) = 0.35, P(b) = 0.25 from a shared latent
    uniform (positively correlated, as common random numbers make them), and counts
    a ~ b + Poisson(0.5) - Bernoulli(0.3)."""
    rng = np.random.default_rng(seed)
    u = rng.random((trials, pairs))
    a, b = u < 0.35, u < 0.25
    noise = rng.random((trials, pairs)) < 0.15
    a = np.where(noise, rng.random((trials, pairs)) < 0.35, a)
    b_counts = rng.poisson(2.0, (trials, pairs))
    a_counts = b_counts + rng.poisson(0.5, (trials, pairs)) - (rng.random((trials, pairs)) < 0.3)
    frame = pd.DataFrame(
        {
            "trial": np.repeat(np.arange(trials), 2 * pairs),
            "arm": np.tile(np.repeat(["a", "b"], pairs), trials),
            "replicate": np.tile(np.arange(pairs), 2 * trials),
            "talks": np.stack([a, b], axis=1).reshape(-1),
            "tests": np.stack([a_counts, b_counts], axis=1).reshape(-1),
        }
    )
    return frame, 0.35 - 0.25, 0.5 - 0.3


def test_paired_contrast_intervals_cover_the_known_difference():
    """Over 1000 simulated paired experiments of 200 pairs, both 95% intervals cover the true
    difference at least 93% of the time. Each trial's arm 'a' is contrasted with its own arm
    'b' (a partial baseline, matched on 'trial')."""
    frame, true_p, true_mean = _paired_trials(trials=1000, pairs=200, seed=20180226)
    for outcome, truth in (("talks", true_p), ("tests", true_mean)):
        table = analysis.paired_contrasts(frame, {"arm": "b"}, ["trial", "arm"], outcome)
        table = table[table["arm"] == "a"]
        assert len(table) == 1000
        coverage = ((table["ci_low"] <= truth) & (truth <= table["ci_high"])).mean()
        assert coverage >= 0.93, (outcome, coverage)


# ---------------------------------------------------------------------------------------------
# time to talks
# ---------------------------------------------------------------------------------------------


def test_survival_curve_of_a_hand_computed_example_with_censoring():
    # Six runs, horizon 10: talks in weeks 2, 2, 4, 6; two runs without talks (censored at 10).
    # S(2) = 4/6, S(4) = 4/6 * 3/4 = 1/2, S(6) = 1/2 * 2/3 = 1/3; median 4 weeks.
    # Greenwood at week 2: 2/(6*4) = 1/12, so the log(-log) limits are S^exp(-/+ z sqrt(1/12)/|log S|).
    rows = pd.DataFrame({"policy": "x", "talks_week": [2, 2, 4, np.nan, 6, np.nan]})
    curve = analysis.survival_curves(rows, ["policy"], horizon=10)
    assert curve["time"].tolist() == [0, 2, 4, 6]
    assert curve["survival"].tolist() == pytest.approx([1, 4 / 6, 1 / 2, 1 / 3])
    assert curve["at_risk"].tolist() == [6, 6, 4, 3] and curve["censored"].tolist() == [0, 0, 0, 2]
    s, z = 4 / 6, sps.norm.ppf(0.975)
    spread = z * np.sqrt(1 / 12) / abs(np.log(s))
    assert (curve["ci_low"][1], curve["ci_high"][1]) == pytest.approx((s ** np.exp(spread), s ** np.exp(-spread)))
    median = analysis.median_weeks(curve, ["policy"]).iloc[0]
    assert median["median_weeks"] == 4
    assert median["median_weeks_low"] <= 4 and np.isnan(median["median_weeks_high"])  # upper limit beyond the horizon


def test_survival_curves_are_the_kaplan_meier_curves_of_each_policy(result):
    rows = result.rows
    curves = analysis.survival_curves(rows, LEVERS, result.horizon)
    for policy in (BASELINE, {**BASELINE, "engagement_stance": "pressure_and_engagement"}):
        durations, observed = stats.event_time_with_censoring(rows[analysis.matches(rows, policy)]["talks_week"], 26)
        expected = survival.kaplan_meier(durations, observed)
        mine = curves[analysis.matches(curves, policy)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[expected.columns], expected)


# ---------------------------------------------------------------------------------------------
# testing cost and trajectories
# ---------------------------------------------------------------------------------------------


def test_testing_cost_per_policy(result):
    rows = result.rows
    cost = analysis.testing_cost(rows, LEVERS)
    assert len(cost) == 8
    shares = cost[[f"share_rung_{r}" for r in analysis.HIGHEST_RUNGS]].sum(axis=1)
    assert np.allclose(shares, 1)
    mine = cost[analysis.matches(cost, BASELINE)].iloc[0]
    runs = rows[analysis.matches(rows, BASELINE)]
    assert mine["mean_tests"] == pytest.approx(runs["tests"].mean())
    assert mine["p_nuclear_test"] == pytest.approx((runs["nuclear_tests"] > 0).mean())
    assert mine["share_rung_0"] == pytest.approx((runs["highest_rung"] == 0).mean())
    assert mine["median_highest_rung"] in analysis.HIGHEST_RUNGS
    assert mine["mean_tests_low"] < mine["mean_tests"] < mine["mean_tests_high"] or runs["tests"].nunique() == 1


def test_trajectories_are_the_sweeps_runs_week_by_week(result):
    policies = [
        BASELINE,
        {"exercise_policy": "suspended", "engagement_stance": "pressure_and_engagement", "sanctions_level": 0.5},
    ]
    frame = analysis.trajectories(result, policies, replicates=20)
    assert len(frame) == 2 * 20 * result.horizon
    assert {"sanctions", "cumulative_tests", "dprk_stress"} <= set(frame.columns)
    last = frame[frame["week"] == result.horizon]
    for policy in policies:
        runs = result.rows[analysis.matches(result.rows, policy)].sort_values("replicate")
        mine = last[analysis.matches(last, policy)].sort_values("replicate")
        assert mine["cumulative_tests"].tolist() == runs["tests"].tolist()
        reached = (
            frame[analysis.matches(frame, policy)]
            .groupby("replicate")["talks_stage"]
            .agg(lambda stage: stage.isin([2, 3]).any())
        )
        assert reached.tolist() == runs["talks"].tolist()
    with pytest.raises(UserError, match="not in the design"):
        analysis.trajectories(result, [{"exercise_policy": "delayed"}])
    with pytest.raises(ValueError, match="replicates"):
        analysis.trajectories(result, [BASELINE], replicates=21)


def test_trajectories_warn_when_the_stored_runs_are_not_reproduced(result):
    """Results made by another version of the model: the re-run differs, and says so."""
    rows = result.rows.copy()
    rows.loc[analysis.matches(rows, BASELINE) & (rows["replicate"] == 3), "tests"] += 1
    altered = type(result)(result.directory, rows, result.manifest)
    with pytest.warns(analysis.ModelChangedWarning, match="1 of 5 re-run runs differ"):
        analysis.trajectories(altered, [BASELINE], replicates=5)


def test_a_design_with_uncertainties_loads_its_scenarios_and_rebuilds_its_experiment(tmp_path):
    experiment = parse_experiment(
        {
            "experiment": {"name": "lhs", "weeks": 8, "replicates": 5, "seed": 1, "samples": 2},
            "levers": {"exercise_policy": ["as_scheduled", "suspended"]},
            "params": {"start_date": "2018-03-05"},
            "uncertainties": {"hawkes_ratio": {"low": 0.2, "high": 0.6}},
        }
    )
    run_sweep(experiment, tmp_path, workers=1, progress=False)
    result = analysis.load(tmp_path, columns=analysis.ANALYSIS_COLUMNS)
    assert "scenario" in result.rows.columns and str(result.start_date) == "2018-03-05"
    assert result.experiment.config_hash() == experiment.config_hash()
    table = analysis.policy_contrasts(result, {"exercise_policy": "as_scheduled"}, outcome="tests")
    assert table["n_pairs"].tolist() == [10, 10]  # 2 scenarios x 5 replicates, paired within scenario


def test_posterior_spread_of_a_hand_computed_example():
    # two policies x three draws x two runs: per-draw P(talks) for policy a = 1, 0.5, 0; for b = 1, 1, 0.5
    rows = pd.DataFrame(
        {
            "policy": ["a"] * 6 + ["b"] * 6,
            "scenario": [0, 0, 1, 1, 2, 2] * 2,
            "talks": np.array([1, 1, 1, 0, 0, 0] + [1, 1, 1, 1, 1, 0], dtype=bool),
        }
    )
    rows["tests"] = rows["talks"].astype(int)  # the same numbers as a count
    out = analysis.posterior_spread(rows, ["policy"], "tests", level=0.5).set_index("policy")
    a = out.loc["a"]
    assert (a["draws"], a["runs_per_draw"], a["mean"]) == (3, 2, 0.5)
    half = sps.t.ppf(0.975, 2) * 0.5 / np.sqrt(3)  # sd of (1, 0.5, 0) is 0.5
    assert a["ci_low"] == pytest.approx(0.5 - half) and a["ci_high"] == pytest.approx(0.5 + half)
    assert (a["range_low"], a["range_high"]) == (0.25, 0.75)  # quartiles of (0, 0.5, 1)
    assert out.loc["b", "mean"] == pytest.approx(2.5 / 3)
    # a probability's interval stays within [0, 1]
    talks = analysis.posterior_spread(rows, ["policy"], "talks", level=0.5).set_index("policy")
    assert (talks.loc["a", "ci_low"], talks.loc["a", "ci_high"]) == (0.0, 1.0)
    assert talks.loc["a", "mean"] == 0.5
    with pytest.raises(UserError, match="scenarios"):
        analysis.posterior_spread(rows.drop(columns="scenario"), ["policy"])


def test_one_table_every_view_reads_the_same_numbers(result, tmp_path):
    """The table of estimates is the one place they are computed: summary.csv is the table, and
    the long P(event) table, the testing cost and the Kaplan-Meier medians are views of it, with
    exactly the same numbers under the same names (p_<event> for every event, no synonyms)."""
    import shutil

    from experiments.analysis.estimates import write_summary

    levers = result.policy_columns
    table = analysis.summary(result, levers)
    assert [c for c in table.columns if c.startswith("p_") and not c.endswith(("_low", "_high"))] == [
        f"p_{event}" for event in analysis.EVENTS
    ]
    long = analysis.event_probabilities(result.rows, levers).merge(table, on=levers)
    for event in analysis.EVENTS:
        rows = long[long["event"] == event]
        for suffix, column in (("", "p"), ("_low", "ci_low"), ("_high", "ci_high")):
            assert (rows[f"p_{event}{suffix}"] == rows[column]).all()
    cost = analysis.testing_cost(result.rows, levers).merge(table, on=[*levers, "n"], suffixes=("", "_table"))
    for column in (
        "mean_tests",
        "mean_tests_low",
        "mean_tests_high",
        "p_nuclear_test",
        "share_rung_4",
        "median_highest_rung",
    ):
        assert (cost[column] == cost[f"{column}_table"]).all()
    medians = analysis.median_weeks(analysis.time_to_event(result), levers).merge(table, on=levers)
    for suffix in ("", "_low", "_high"):
        pd.testing.assert_series_equal(
            medians[f"median_weeks{suffix}"],
            medians[f"median_weeks_to_talks{suffix}"],
            check_names=False,
            check_exact=True,
        )
    copy = tmp_path / "smoke"
    shutil.copytree(result.directory, copy)
    write_summary(analysis.load(copy))
    written = pd.read_csv(copy / "summary.csv")
    assert list(written.columns) == list(table.columns)
    pd.testing.assert_frame_equal(
        written[table.columns[len(levers) :]], table[table.columns[len(levers) :]], check_dtype=False, check_exact=True
    )


def test_intervals_over_the_draws_cover_the_posterior_mean_and_pooled_ones_do_not():
    """Resample the draws: per-draw P(event) from a Beta(1, 2) posterior (mean 1/3), 10 runs per
    draw, 50 draws, 400 data sets. The mean's t interval over the draws (the report's, by
    :func:`over_draws`) covers 1/3 at about 95% (tolerance 3 binomial standard errors); the
    pooled Wilson interval, which treats every run as independent, falls far short."""
    from experiments.analysis.estimates import over_draws

    rng = np.random.default_rng(2026)
    sets, draws, runs = 400, 50, 10
    p = rng.beta(1.0, 2.0, size=(sets, draws))
    hits = rng.random((sets, draws, runs)) < p[:, :, None]
    rows = pd.DataFrame(
        {
            "dataset": np.repeat(np.arange(sets), draws * runs),
            "scenario": np.tile(np.repeat(np.arange(draws), runs), sets),
            "talks": hits.reshape(-1),
        }
    )
    pooled = analysis.event_probabilities(rows, ["dataset"], ["talks"]).rename(
        columns={"p": "p_talks", "ci_low": "p_talks_low", "ci_high": "p_talks_high"}
    )
    spreads = {"talks": analysis.posterior_spread(rows, ["dataset"], "talks")}
    table = over_draws(pooled, spreads, ["dataset"])
    covered = ((table["p_talks_low"] <= 1 / 3) & (1 / 3 <= table["p_talks_high"])).mean()
    assert abs(covered - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / sets), covered
    assert (table["p_talks_range_low"] < table["p_talks_low"]).all()  # the spread is wider than the mean's error
    pooled_cover = ((pooled["p_talks_low"] <= 1 / 3) & (1 / 3 <= pooled["p_talks_high"])).mean()
    assert pooled_cover < 0.85, pooled_cover


def test_the_sweeps_heatmap_of_a_posterior_sweep_is_drawn_over_the_draws_even_given_the_pooled_table(
    tmp_path, monkeypatch
):
    """`escalation sweep` passes write_summary its pooled table; for a sweep over posterior draws
    the heatmap must still take the intervals over the draws (its policies are the factors, so
    the pooled table once went straight to the figure)."""
    import matplotlib.pyplot as plt

    from experiments.analysis import estimates, plots
    from experiments.sweep.config import load_experiment
    from experiments.sweep.results import SweepResult
    from experiments.sweep.runner import run_sweep

    pd.DataFrame({"test_baseline_rate": [0.4, 1.2], "weight": [1.0, 3.0]}).to_csv(
        tmp_path / "posterior.csv", index=False
    )
    (tmp_path / "c.toml").write_text("""
[experiment]
name = "post"
weeks = 12
replicates = 3
seed = 5
[levers]
sanctions_level = [0.0, 1.0]
exercise_policy = ["as_scheduled", "suspended"]
engagement_stance = ["pressure_first", "pressure_and_engagement"]
[posterior]
samples = 4
file = "posterior.csv"
""")
    run_sweep(load_experiment(tmp_path / "c.toml"), tmp_path / "out", workers=1, progress=False)
    result = SweepResult.load(tmp_path / "out")
    drawn = {}

    def capture(table, horizon):
        drawn["table"] = table
        return plt.figure()

    monkeypatch.setattr(plots, "p_talks_heatmap", capture)
    estimates.write_summary(result, estimates.summary(result))
    spread = estimates.posterior_spread(result.rows, result.policy_columns, "talks")
    got = drawn["table"].merge(spread, on=result.policy_columns)
    assert len(got) == 8 and (got["p_talks_low"] == got["ci_low"]).all()
    assert "p_talks_range_low" in drawn["table"].columns


def test_the_heatmap_from_the_printed_policy_table_is_the_one_drawn_from_scratch(smoke_results, tmp_path):
    """The sweep hands write_summary the per-policy table it printed: the same heatmap, byte for
    byte, as when write_summary computes that table itself."""
    from experiments.analysis.estimates import HEATMAP_FILES, over_draw_table, write_summary

    out = tmp_path / "smoke"
    shutil.copytree(smoke_results, out)
    result = analysis.load(out)
    table = analysis.summary(result)
    write_summary(result, table)
    drawn = {name: (out / name).read_bytes() for name in HEATMAP_FILES if name.endswith(".png")}
    write_summary(result, table, over_draw_table(result))
    assert drawn and all((out / name).read_bytes() == data for name, data in drawn.items())
