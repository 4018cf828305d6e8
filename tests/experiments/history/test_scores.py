"""Proper scores of a predictive sample (experiments/scores.py) and the replay's scored window."""

import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORY, ROOT, SYNTHETIC, assert_one_line_error, run_cli
from scipy.special import i0e, i1e
from scipy.stats import kstest, poisson

from experiments.errors import UserError
from experiments.history.record import read_record
from experiments.history.replay import Replay
from experiments.history.scenario import load_scenario
from experiments.history.scores import coverage, crps_poisson, crps_sample, pit_histogram, randomised_pit


def crps_poisson_wei_held(rate, y):
    """Closed form of the Poisson CRPS (Wei & Held 2014): (y - l)(2F(y) - 1) + 2 l f(y)
    - l exp(-2l) (I0(2l) + I1(2l)), with the exponentially scaled Bessel functions."""
    return (
        (y - rate) * (2 * poisson.cdf(y, rate) - 1)
        + 2 * rate * poisson.pmf(y, rate)
        - rate * (i0e(2 * rate) + i1e(2 * rate))
    )


def test_crps_of_a_sample_equals_the_pairwise_definition():
    rng = np.random.default_rng(5)
    samples, observed = rng.poisson(1.5, size=(6, 37)), rng.poisson(1.5, size=6)
    brute = [
        np.abs(x - y).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
        for x, y in zip(samples, observed, strict=True)
    ]
    np.testing.assert_allclose(crps_sample(samples, observed), brute, rtol=1e-12, atol=1e-15)
    # a point forecast: the CRPS is the absolute error
    np.testing.assert_array_equal(crps_sample(np.full((3, 10), 2.0), [2, 0, 5]), [0.0, 2.0, 3.0])


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.83, 2.5, 9.0])
def test_poisson_crps_matches_the_closed_form(rate):
    y = np.arange(0, 15)
    np.testing.assert_allclose(crps_poisson(rate, y), crps_poisson_wei_held(rate, y), rtol=1e-9, atol=1e-12)


def test_crps_of_a_large_poisson_sample_converges_to_the_closed_form():
    """Ten independent samples of 20,000 draws: their mean CRPS is within 4 standard errors of
    the closed form (the V-statistic's bias, 0.5 E|X - X'| / n, is below 1e-4 here)."""
    rng = np.random.default_rng(7)
    y = np.array([0, 1, 3, 6])
    batches = np.stack([crps_sample(np.broadcast_to(rng.poisson(2.0, size=20_000), (4, 20_000)), y) for _ in range(10)])
    se = batches.std(axis=0, ddof=1) / np.sqrt(10)
    assert np.all(np.abs(batches.mean(axis=0) - crps_poisson(2.0, y)) < 4 * se + 1e-4)


def test_randomised_pit_is_uniform_for_a_calibrated_forecast_and_not_otherwise():
    rng = np.random.default_rng(3)
    observed = rng.poisson(1.2, size=3000)
    sample = np.broadcast_to(rng.poisson(1.2, size=4000), (3000, 4000))
    pit = randomised_pit(sample, observed, np.random.default_rng(4))
    assert ((pit >= 0) & (pit <= 1)).all() and kstest(pit, "uniform").pvalue > 0.001
    too_wide = np.broadcast_to(rng.poisson(4.0, size=4000), (3000, 4000))
    assert kstest(randomised_pit(too_wide, observed, np.random.default_rng(4)), "uniform").pvalue < 1e-6
    counts = pit_histogram(pit)
    assert len(counts) == 10 and sum(counts) == 3000


def test_coverage_counts_observations_inside_the_interval():
    sample = np.tile(np.arange(1, 101), (4, 1))  # quantiles 0.05 -> 5, 0.95 -> 95
    assert coverage(sample, [5, 95, 4, 96], 0.05, 0.95) == 0.5


# ---- the replay's scored window -----------------------------------------------------------------


def synthetic(tmp_path, launches):
    (tmp_path / "s.toml").write_text(textwrap.dedent(SYNTHETIC.format(rate=0.0)))
    months = [str(p) for p in pd.period_range("2030-01", "2031-12", freq="M")]
    pd.DataFrame({"month": months, "missile_launch_events": launches, "nuclear_tests": 0, "talks_event": ""}).to_csv(
        tmp_path / "r.csv", index=False
    )
    return load_scenario(tmp_path / "s.toml"), read_record(tmp_path / "r.csv")


def test_window_scores_only_its_months_with_known_crps(tmp_path):
    """No testing simulated: the sample is 0 every month, so the CRPS of a month is its observed
    count, and the baseline's is the closed form at the given rate."""
    launches = [0] * 12 + [2] * 12
    scenario, record = synthetic(tmp_path, launches)
    whole = Replay(scenario, replicates=20, record=record, baseline_rate=1.0).scores()
    assert whole["months_compared"] == 24 and whole["crps"] == pytest.approx(1.0)
    window = Replay(scenario, replicates=20, record=record, baseline_rate=1.0, score_from="2031-01").scores()
    assert window["months_compared"] == 12 and window["score_from"] == "2031-01" and window["score_to"] == "2031-12"
    assert window["crps"] == pytest.approx(2.0) and window["coverage_90"] == 0.0
    assert window["crps_baseline"] == pytest.approx(crps_poisson_wei_held(1.0, 2))
    assert window["crps_skill"] == pytest.approx(1 - 2.0 / crps_poisson_wei_held(1.0, 2))
    assert window["total_launches_observed"] == 24 and not window["total_launches_covered"]
    assert window["pit_histogram"] == [0] * 9 + [12]  # every observation above the whole sample
    first = Replay(scenario, replicates=20, record=record, baseline_rate=1.0, score_to="2030-12").scores()
    assert first["crps"] == 0.0 and first["coverage_50"] == 1.0 and first["total_launches_covered"]
    perfect = Replay(scenario, replicates=20, record=record, baseline_rate=0.0, score_to="2030-12").scores()
    assert (
        perfect["crps_baseline"] == 0.0 and perfect["crps_skill"] is None
    )  # no skill score against a perfect baseline


def test_bad_windows_are_one_line_errors(tmp_path):
    scenario, record = synthetic(tmp_path, [0] * 24)
    for kwargs, fragment in (
        ({"score_from": "2031-13"}, "not a month YYYY-MM"),
        ({"score_from": "2029-12"}, "not inside the scenario's months"),
        ({"score_to": "2032-01"}, "not inside the scenario's months"),
        ({"score_from": "2031-05", "score_to": "2031-02"}, "is after --score-to"),
    ):
        with pytest.raises(UserError, match=fragment):
            Replay(scenario, replicates=2, record=record, **kwargs)
    assert_one_line_error(run_cli("replay", str(HISTORY), "--score-from", "2015-12"), "not inside the scenario")
    assert_one_line_error(run_cli("replay", str(HISTORY), "--score-to", "May 2018"), "--score-to", "YYYY-MM")


def test_replay_writes_every_replicate_and_scores_a_window(tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        "replay", str(HISTORY), "--replicates", "40", "--json", "--out", str(out), "--score-from", "2018-01"
    )
    assert result.returncode == 0, result.stderr
    import json

    summary = json.loads(result.stdout)
    assert summary["months_compared"] == 12 and summary["score_from"] == "2018-01"
    assert {"crps", "crps_baseline", "crps_skill", "pit_histogram", "baseline_rate"} <= set(summary)
    assert summary["facts"]["F1"] == "n/a"  # 2016-17 is outside the scored window
    replicates = pd.read_parquet(out / "replay_replicates.parquet")
    assert len(replicates) == 36 * 40 and set(replicates["replicate"]) == set(range(40))
    monthly = pd.read_csv(out / "replay_monthly.csv")
    means = replicates.groupby("month", sort=True)["launches"].mean().to_numpy()
    np.testing.assert_allclose(means, monthly["sim_launches_mean"].to_numpy(), rtol=1e-12)
    # the baseline is the fitted period's mean monthly rate, from the record (model/calibrated.toml
    # was fitted to 2009-2018)
    fitted = pd.read_csv(ROOT / "data" / "dprk_monthly_2009_2018.csv")["missile_launch_events"]
    assert summary["baseline_rate"] == pytest.approx(fitted.mean())


def test_figure_marks_where_the_scored_window_starts(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    scenario, record = synthetic(tmp_path, [0] * 24)
    replay = Replay(scenario, replicates=5, record=record, baseline_rate=1.0, score_from="2030-07")
    from experiments.analysis.plots import replay_figure

    fig = replay_figure(replay)
    dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert pd.Timestamp(dashed[0].get_xdata()[0]).strftime("%Y-%m-%d") == "2030-07-01"


def test_launch_kinds_in_the_record_are_checked(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "month": ["2030-01", "2030-02"],
            "missile_launch_events": [1, 0],
            "nuclear_tests": [0, 0],
            "icbm_launches": [1, 1],
        }
    ).to_csv(path, index=False)
    with pytest.raises(UserError, match="icbm_launches: 2030-02 has more than its missile_launch_events"):
        read_record(path)
    pd.DataFrame(
        {"month": ["2030-01"], "missile_launch_events": [1], "nuclear_tests": [0], "slbm_space_launches": ["x"]}
    ).to_csv(path, index=False)
    assert_one_line_error(run_cli("replay", str(HISTORY), "--record", str(path)), "slbm_space_launches", "'x'")
