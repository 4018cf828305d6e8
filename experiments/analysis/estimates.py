"""The per-design-point summary of a sweep: P(talks) with a Wilson interval, time to talks,
and what each policy costs in testing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_write_text
from ..stats import (
    event_time_with_censoring,
    kaplan_meier,
    median_survival,
    t_interval,
    wilson_interval,
)
from ..sweep.results import SweepResult
from . import plots

PROPORTIONS = {
    "p_talks": "talks",
    "p_inter_korean": "inter_korean_talks",
    "p_negotiations": "negotiations",
    "p_any_test": "any_test",
    "p_nuclear_test": "any_nuclear_test",
}
"""Summary column -> boolean run column whose share it reports (with ``_low``/``_high`` Wilson bounds)."""

NEEDED_COLUMNS = ["talks", "talks_week", "inter_korean_talks", "negotiations", "tests", "nuclear_tests"]
"""Outcome columns :func:`summarise` reads."""


def summarise(rows: pd.DataFrame, by: list[str], horizon: int, confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by`` (the design point's levers, say) with:

    ``n``; for each of :data:`PROPORTIONS` the share and its Wilson interval; ``median_weeks_to_talks``
    (Kaplan-Meier median with runs without talks censored at the horizon: NaN when fewer than
    half the runs reach talks); ``median_weeks_given_talks`` (among runs with talks);
    ``mean_tests`` with a t interval; ``mean_nuclear_tests``.
    """
    data = rows.assign(any_test=rows["tests"] > 0, any_nuclear_test=rows["nuclear_tests"] > 0)
    grouped = data.groupby(by, sort=False, dropna=False)
    out = grouped.size().rename("n").to_frame()
    for column, event in PROPORTIONS.items():
        successes = grouped[event].sum()
        low, high = wilson_interval(successes.to_numpy(), out["n"].to_numpy(), confidence)
        out[column] = successes / out["n"]
        out[f"{column}_low"], out[f"{column}_high"] = low, high
    out["median_weeks_to_talks"] = grouped["talks_week"].apply(lambda w: _km_median(w, horizon))
    out["median_weeks_given_talks"] = grouped["talks_week"].median()
    mean = grouped["tests"].mean()
    low, high = t_interval(mean, grouped["tests"].std(ddof=1), out["n"], confidence)
    out["mean_tests"], out["mean_tests_low"], out["mean_tests_high"] = mean, low, high
    out["mean_nuclear_tests"] = grouped["nuclear_tests"].mean()
    return out.reset_index()


def _km_median(weeks: pd.Series, horizon: int) -> float:
    durations, observed = event_time_with_censoring(weeks.to_numpy(dtype=float), horizon)
    return median_survival(kaplan_meier(durations, observed))


def format_table(summary: pd.DataFrame, factors: list[str]) -> str:
    """The summary as a compact text table: P(talks) [interval], median weeks, P(test), mean tests."""
    def interval(row, column):
        return f"{row[column]:.2f} [{row[column + '_low']:.2f}, {row[column + '_high']:.2f}]"

    table = summary[factors].copy()
    table["P(talks) [95% CI]"] = [interval(r, "p_talks") for _, r in summary.iterrows()]
    table["median wk"] = summary["median_weeks_to_talks"].map(lambda v: "-" if np.isnan(v) else f"{v:.0f}")
    table["P(test)"] = summary["p_any_test"].map("{:.2f}".format)
    table["mean tests"] = summary["mean_tests"].map("{:.2f}".format)
    table["P(nuclear)"] = summary["p_nuclear_test"].map("{:.2f}".format)
    return table.to_string(index=False)


def summary(result: SweepResult, by: list[str] | None = None) -> pd.DataFrame:
    """The summary of a sweep per design point (``by``: default its factors): :func:`summarise`
    of its rows."""
    return summarise(result.rows, by or result.factors or ["design_point"], result.horizon)


def write_summary(result: SweepResult, table: pd.DataFrame | None = None) -> list[Path]:
    """Write ``summary.csv`` and, when the design has the three policy levers, the P(talks)
    heatmap (PNG and PDF) into the results directory; return the paths written. ``table``:
    the sweep's :func:`summary`, when already computed."""
    table = summary(result) if table is None else table
    path = result.directory / "summary.csv"
    atomic_write_text(path, table.to_csv(index=False))
    written = [path]
    try:
        fig = plots.p_talks_heatmap(table, horizon=result.horizon)
    except ValueError:
        return written
    written += plots.save(fig, result.directory / "p_talks_heatmap")
    return written
