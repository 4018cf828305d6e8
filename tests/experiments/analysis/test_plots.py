"""Tests for experiments/analysis/plots/: every figure is drawn from a tiny results directory, has the
panels it should, and saves as a real PNG and PDF."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from experiments import analysis
from experiments.analysis import plots
from experiments.analysis.estimates import summarise
from model import EscalationModel
from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES

LEVERS = ["sanctions_level", "exercise_policy", "engagement_stance"]
BASELINE = {"sanctions_level": 0.95, "exercise_policy": "as_scheduled", "engagement_stance": "pressure_first"}
AT_TOP = {"sanctions_level": 0.95}


@pytest.fixture(scope="module")
def result(smoke_results):
    return analysis.load(smoke_results)


def visible_axes(fig) -> list:
    """The figure's panels (colour bars excluded)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def saved(fig, tmp_path, name: str) -> None:
    """Save and check that both files are real, non-trivial images."""
    paths = plots.save(fig, tmp_path / name)
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    pdf, png = (p.read_bytes() for p in paths)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    assert not plt.fignum_exists(fig.number)  # save closes the figure


def test_heatmap_has_a_panel_per_stance_and_annotated_cells(result, tmp_path):
    fig = plots.p_talks_heatmap(summarise(result.rows, LEVERS, result.horizon), horizon=result.horizon)
    panels = visible_axes(fig)
    assert len(panels) == 2
    notes = [t.get_text() for t in panels[0].texts]
    assert len(notes) == 4 and all("\n±" in n for n in notes)
    assert "within 26 weeks" in fig.axes[-1].get_ylabel()
    saved(fig, tmp_path, "heatmap")


def test_heatmap_caption_says_what_the_intervals_are_over(result):
    table = summarise(result.rows, LEVERS, result.horizon)
    note = "mean over the 5 posterior draws, 95% t interval over the draws"
    fig = plots.p_talks_heatmap(table, horizon=result.horizon, over=note)
    assert note in fig.get_supxlabel()
    plt.close(fig)


def test_survival_plot_draws_one_curve_per_exercise_policy_in_each_stance_panel(result, tmp_path):
    curves = analysis.survival_curves(result.rows, LEVERS, result.horizon)
    fig = plots.survival_plot(curves[analysis.matches(curves, AT_TOP)], result.horizon, result.start_date)
    panels = visible_axes(fig)
    assert [ax.get_title() for ax in panels] == ["pressure first", "pressure + engagement"]
    assert all(len(ax.get_lines()) == 2 for ax in panels)
    assert panels[0].get_xlabel() == "Weeks since 26 Feb 2018" and panels[0].get_ylabel() == "P(no US–DPRK talks yet)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["as scheduled", "suspended"]
    saved(fig, tmp_path, "survival")


def test_survival_plot_refuses_several_curves_per_colour(result):
    curves = analysis.survival_curves(result.rows, LEVERS, result.horizon)
    with pytest.raises(ValueError, match="select one value"):
        plots.survival_plot(curves, result.horizon)


def test_forest_plot_has_a_panel_per_outcome_and_a_row_per_policy(result, tmp_path):
    contrasts = pd.concat([analysis.paired_contrasts(result.rows, BASELINE, LEVERS, o) for o in ("talks", "tests")])
    shown = contrasts[analysis.matches(contrasts, AT_TOP) & ~analysis.matches(contrasts, BASELINE)]
    fig = plots.forest_plot(shown, LEVERS, BASELINE, result.horizon)
    panels = visible_axes(fig)
    assert len(panels) == 2
    assert [t.get_text() for t in panels[0].get_yticklabels()] == [
        "suspended, pressure first",
        "as scheduled, pressure + engagement",
        "suspended, pressure + engagement",
    ]
    assert panels[0].get_xlabel() == "Difference in P(US–DPRK talks),\nwithin 26 weeks"
    assert "as scheduled, pressure first" in fig.get_suptitle()
    saved(fig, tmp_path, "forest")


def test_fan_chart_has_a_row_per_series_and_a_column_per_policy(result, tmp_path):
    policies = [BASELINE, {**BASELINE, "engagement_stance": "pressure_and_engagement"}]
    trajectories = analysis.trajectories(result, policies, replicates=20)
    fig = plots.fan_chart(
        trajectories, ["cumulative_tests", "dprk_stress", "trust_dprk_in_us"], LEVERS, result.start_date
    )
    panels = visible_axes(fig)
    assert len(panels) == 8  # the talks-under-way row, then one row per series
    assert [ax.get_title() for ax in panels[:2]] == ["pressure first", "pressure + engagement"]
    assert "talks under way" in panels[0].get_ylabel().replace("\n", " ")
    share = panels[0].get_lines()[0].get_ydata()
    assert ((share >= 0) & (share <= 1)).all()
    assert panels[2].get_ylabel() == "Tests so far (count)"
    trust = trajectories["trust_dprk_in_us"]
    spans_decades = trust[trust > 0].max() / trust[trust > 0].min() > 100
    assert (panels[6].get_yscale() == "log") == bool(spans_decades and (trust >= 0).all())
    saved(fig, tmp_path, "fan")


def test_testing_cost_plot_has_bars_and_intervals(result, tmp_path):
    cost = analysis.testing_cost(result.rows, LEVERS)
    fig = plots.testing_cost_plot(cost[analysis.matches(cost, AT_TOP)], LEVERS, result.horizon)
    left, right = visible_axes(fig)
    assert len(left.patches) % 4 == 0 and len(left.patches) >= 4
    assert len(right.get_lines()) == 2 * 4
    # one title: the legend's title sits under the panels, away from the figure's title
    fig_titled = plots.testing_cost_plot(cost, LEVERS, result.horizon, where="at every level")
    fig_titled.canvas.draw()
    renderer = fig_titled.canvas.get_renderer()
    legend_box = fig_titled.legends[0].get_window_extent(renderer)
    title_box = fig_titled._suptitle.get_window_extent(renderer)
    assert not legend_box.overlaps(title_box) and legend_box.y1 < title_box.y0
    plt.close(fig_titled)
    saved(fig, tmp_path, "cost")


def test_tradeoff_plot_runs_a_line_per_exercise_policy_and_stance(result, tmp_path):
    fig = plots.tradeoff_plot(summarise(result.rows, LEVERS, result.horizon), result.horizon)
    (ax,) = visible_axes(fig)
    assert len(ax.get_lines()) == 4 * 3  # a line and two end markers per exercise policy and stance
    assert ax.get_xlabel() == "P(US–DPRK talks within 26 weeks)"
    # the legend tells a stance (half-filled shape) from a sanctions level (open or filled, both shapes)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "sanctions 0.5 (open)" in texts and "sanctions 0.95 (filled)" in texts
    stances = [h for h in fig.legends[0].legend_handles if getattr(h, "get_fillstyle", lambda: "")() == "left"]
    assert len(stances) == 2
    saved(fig, tmp_path, "tradeoff")


def test_tradeoff_plot_draws_an_estimate_a_rounding_error_outside_its_interval(result):
    """With few replicates an estimate can sit outside its rounded interval: the bars are
    clipped at the estimate instead of failing ('xerr' must not contain negative values)."""
    table = summarise(result.rows.groupby(LEVERS).head(3), LEVERS, result.horizon)
    table["p_talks_low"] = table["p_talks"] + 1e-9  # the estimate just below its interval
    table["mean_tests_high"] = table["mean_tests"] - 1e-9
    fig = plots.tradeoff_plot(table, result.horizon)
    assert (plots.grid.error_bars(table, "p_talks") >= 0).all()
    plt.close(fig)


def test_run_plot_shows_one_run(tmp_path):
    model = EscalationModel(rng=7).run(30)
    fig = plots.run_plot(model.trajectory(), model.params["start_date"])
    panels = visible_axes(fig)
    assert len(panels) == 5 and panels[-1].get_xlabel() == "Weeks since 26 Feb 2018"
    # every talks stage on the axis, suspended below none (not above the summit)
    ticks = {t.get_text(): y for t, y in zip(panels[0].get_yticklabels(), panels[0].get_yticks(), strict=True)}
    assert ticks["suspended"] < ticks["none"] < ticks["summit-level"]
    low, high = panels[0].get_ylim()
    assert low < min(ticks.values()) and max(ticks.values()) < high
    saved(fig, tmp_path, "run")


def test_labels_are_words():
    assert plots.policy_label(BASELINE) == "sanctions 0.95, as scheduled, pressure first"
    assert plots.nice("suspended_during_talks") == "suspended in talks" and plots.nice(0.5) == "0.5"
    assert all("_" not in plots.nice(p) for p in EXERCISE_POLICIES + ENGAGEMENT_STANCES)
    assert plots.column_label("p_talks_low") == "P(US–DPRK talks) 95% low" and plots.column_label("n") == "runs"
    frame = pd.DataFrame({"sanctions_level": [1.0, 1.0], "exercise_policy": ["delayed", "suspended"]})
    assert plots.policy_labels(frame, ["sanctions_level", "exercise_policy"]).tolist() == ["delayed", "suspended"]


def test_policy_labels_label_every_row_as_policy_label_does():
    """One label per distinct policy, spread to its rows: the same text, row by row, as labelling
    each row (a fan chart's frame has a row per run and week)."""
    rng = np.random.default_rng(3)
    size = 500
    frame = pd.DataFrame(
        {
            "sanctions_level": rng.choice([0.0, 0.5, 1.0, np.nan], size),
            "exercise_policy": rng.choice(["as_scheduled", "suspended_during_talks", "delayed"], size),
            "engagement_stance": rng.choice(["pressure_first", "pressure_and_engagement"], size),
            "relief_threshold": rng.choice([1, 3], size),
        },
        index=rng.permutation(size) + 7,
    )
    columns = list(frame.columns)
    labels = plots.policy_labels(frame, columns)
    assert labels.index.equals(frame.index) and labels.dtype == object
    by_row = [plots.policy_label(dict(zip(columns, row, strict=True))) for row in frame.itertuples(index=False)]
    assert labels.tolist() == by_row
    assert labels.nunique() == len(frame.drop_duplicates())


def test_posterior_range_plot_has_a_row_per_policy_with_its_three_marks(tmp_path):
    spread = pd.DataFrame(
        {
            "exercise_policy": ["as_scheduled", "suspended"],
            "engagement_stance": ["pressure_first"] * 2,
            "mean": [0.2, 0.5],
            "ci_low": [0.15, 0.45],
            "ci_high": [0.25, 0.55],
            "range_low": [0.0, 0.1],
            "range_high": [0.8, 0.9],
        }
    )
    point = spread[["exercise_policy", "engagement_stance"]].assign(p=[0.1, 0.6])
    fig = plots.posterior_range_plot(spread, ["exercise_policy", "engagement_stance"], horizon=52, point=point)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["as scheduled", "suspended"]
    segments = sorted(tuple(line.get_xdata()) for line in ax.lines[:-1] if len(line.get_xdata()) == 2)
    assert segments == [(0.0, 0.8), (0.1, 0.9), (0.15, 0.25), (0.45, 0.55)]  # ranges and intervals
    assert list(ax.lines[-1].get_xdata()) == [0.1, 0.6]  # the calibrated point
    assert plots.save(fig, tmp_path / "posterior")[0].stat().st_size > 1000


def test_survival_plot_accepts_talks_under_way_at_week_0():
    """Runs that start with talks under way record them at week 0: the curve then has two rows at
    time 0 (its origin and the drop), which is still one curve per colour."""
    rows = pd.DataFrame(
        {
            "exercise_policy": ["as_scheduled"] * 4 + ["suspended"] * 4,
            "talks_week": [0.0, 0.0, 3.0, float("nan"), 0.0, 2.0, float("nan"), float("nan")],
        }
    )
    curves = analysis.survival_curves(rows, ["exercise_policy"], horizon=10)
    assert (curves["time"] == 0).sum() == 4  # two origins and two drops at week 0
    fig = plots.survival_plot(curves, 10, hue="exercise_policy", facet=None)
    assert len(visible_axes(fig)[0].get_lines()) == 2
    plt.close(fig)
