"""Figures of one row per policy with intervals: paired contrasts (forest plot), the spread across
the calibration posterior, and the cost in testing."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .labels import (
    CONTRAST_LABELS,
    RUNG_NAMES,
    SEQUENTIAL,
    exercise_colours,
    lever_name,
    p_talks_label,
    policy_label,
    policy_labels,
    sort_policies,
)
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, paper_style


def forest_plot(
    contrasts: pd.DataFrame,
    columns: Sequence[str],
    baseline: Mapping[str, Any] | None = None,
    horizon: int | None = None,
    where: str | None = None,
):
    """Paired contrasts against a baseline policy (from
    :func:`experiments.analysis.paired_contrasts`, several outcomes stacked): one row per policy,
    one panel per ``outcome``, the difference as a point with its 95% interval as a bar and a
    line at no difference. Points are coloured by exercise policy. ``columns`` are the policy
    columns (those that vary name the rows); ``baseline`` is named in the title, and ``where``
    (e.g. "at sanctions level 1"), the slice of the design shown."""
    outcomes = list(pd.unique(contrasts["outcome"]))
    first = sort_policies(contrasts[contrasts["outcome"] == outcomes[0]], columns)
    labels = policy_labels(first, columns).tolist()
    colours = exercise_colours()
    with paper_style():
        width = DOUBLE_COLUMN if len(outcomes) > 1 else SINGLE_COLUMN
        fig, axes = plt.subplots(
            1,
            len(outcomes),
            figsize=(width, 0.2 * len(labels) + 1.1),
            sharey=True,
            squeeze=False,
            constrained_layout=True,
        )
        y = np.arange(len(labels))
        for ax, outcome in zip(axes[0], outcomes, strict=True):
            part = sort_policies(contrasts[contrasts["outcome"] == outcome], columns)
            point_colours = (
                [colours.get(v, "black") for v in part["exercise_policy"]]
                if "exercise_policy" in part
                else ["black"] * len(part)
            )
            ax.axvline(0, color="0.5", lw=0.8, zorder=0)
            for yi, (_, row), colour in zip(y, part.iterrows(), point_colours, strict=True):
                ax.plot([row["ci_low"], row["ci_high"]], [yi, yi], color=colour, lw=1.4, solid_capstyle="butt")
                ax.plot(row["difference"], yi, "o", color=colour, ms=3.5, mec="white", mew=0.4)
            label = CONTRAST_LABELS.get(outcome, f"Difference in {outcome}")
            ax.set_xlabel(label + (f",\nwithin {horizon} weeks" if horizon else ""))
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.grid(axis="x", color="0.9", lw=0.5)
        axes[0][0].set_yticks(y, labels)  # shared by every panel
        matched = [lever_name(c).lower() for c in columns if baseline and c not in baseline]
        against = (
            f" ({policy_label(baseline)}" + (f" at the same {' and '.join(matched)})" if matched else ")")
            if baseline
            else ""
        )
        shown = f", {where}" if where else ""
        fig.suptitle(
            textwrap.fill(f"Policy minus baseline{against}, paired by replicate{shown}", int(13 * width)),
            fontsize="medium",
        )
    return fig


def posterior_range_plot(
    spread: pd.DataFrame, columns: Sequence[str], horizon: int | None = None, point: pd.DataFrame | None = None
):
    """P(talks) across the calibration posterior (from :func:`experiments.analysis.posterior_spread`):
    one row per policy; the posterior-averaged estimate as a point with its 95% interval over the
    draws (thick bar) and the central range of the per-draw estimates (thin bar). ``point``
    (optional, the same policies' estimates at the calibrated point, column ``p``) adds an open
    marker. Points are coloured by exercise policy."""
    frame = sort_policies(spread, columns)
    labels = policy_labels(frame, columns).tolist()
    colours = exercise_colours()
    point_colours = (
        [colours.get(v, "black") for v in frame["exercise_policy"]]
        if "exercise_policy" in frame
        else ["black"] * len(frame)
    )
    with paper_style():
        fig, ax = plt.subplots(figsize=(SINGLE_COLUMN + 1.2, 0.2 * len(labels) + 1.3), constrained_layout=True)
        y = np.arange(len(labels))
        for yi, (_, row), colour in zip(y, frame.iterrows(), point_colours, strict=True):
            ax.plot([row["range_low"], row["range_high"]], [yi, yi], color=colour, lw=0.8, alpha=0.7)
            ax.plot([row["ci_low"], row["ci_high"]], [yi, yi], color=colour, lw=2.6, solid_capstyle="butt")
            ax.plot(row["mean"], yi, "o", color=colour, ms=3.5, mec="white", mew=0.4)
        if point is not None:
            at_point = frame[list(columns)].merge(point[[*columns, "p"]], on=list(columns), how="left")["p"]
            ax.plot(at_point, y, "D", mfc="none", mec="black", ms=3.2, mew=0.6, label="at the calibrated point")
            ax.legend(loc="lower right", fontsize="x-small", frameon=False)
        ax.set_yticks(y, labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(p_talks_label(horizon) + "\nposterior average (dot), 95% interval (thick), 90% of draws (thin)")
        ax.grid(axis="x", color="0.9", lw=0.5)
    return fig


def testing_cost_plot(cost: pd.DataFrame, columns: Sequence[str], horizon: int | None = None, where: str | None = None):
    """What each policy costs in testing (from :func:`experiments.analysis.testing_cost`): left,
    the share of runs by the highest rung tested (stacked bars); right, the mean number of
    tests with its 95% interval. One row per policy; ``where`` (e.g. "at sanctions level 1") names
    the slice of the design shown, in the title."""
    cost = sort_policies(cost, columns)
    labels = policy_labels(cost, columns).tolist()
    rungs = [r for r in RUNG_NAMES if cost[f"share_rung_{r}"].gt(0).any()]
    rung_colours = {0: "0.85", **dict(zip(range(1, 6), sns.color_palette(SEQUENTIAL + "_r", 5), strict=True))}
    within = f" within {horizon} weeks" if horizon else ""
    y = np.arange(len(labels))
    with paper_style():
        fig, (left, right) = plt.subplots(
            1,
            2,
            figsize=(DOUBLE_COLUMN, 0.2 * len(labels) + 1.3),
            sharey=True,
            gridspec_kw={"width_ratios": [1.6, 1]},
            constrained_layout=True,
        )
        start = np.zeros(len(cost))
        for rung in rungs:
            share = cost[f"share_rung_{rung}"].to_numpy()
            left.barh(y, share, left=start, color=rung_colours[rung], height=0.7, label=RUNG_NAMES[rung], lw=0)
            start += share
        left.set_xlim(0, 1)
        left.set_xlabel("Share of runs")
        left.set_yticks(y, labels)
        left.set_ylim(len(labels) - 0.5, -0.5)
        handles, names = left.get_legend_handles_labels()
        fig.legend(
            handles,
            names,
            loc="outside lower center",
            ncol=len(rungs),
            frameon=False,
            handlelength=1,
            columnspacing=1,
            title=f"Highest rung tested{within}",
        )
        colours = exercise_colours()
        point_colours = (
            [colours.get(v, "black") for v in cost["exercise_policy"]]
            if "exercise_policy" in cost
            else ["black"] * len(cost)
        )
        for yi, (_, row), colour in zip(y, cost.iterrows(), point_colours, strict=True):
            right.plot([row["mean_tests_low"], row["mean_tests_high"]], [yi, yi], color=colour, lw=1.4)
            right.plot(row["mean_tests"], yi, "o", color=colour, ms=3.5, mec="white", mew=0.4)
        right.set_xlim(left=0)
        right.set_xlabel("Mean tests (count)")
        right.grid(axis="x", color="0.9", lw=0.5)
        if where:
            fig.suptitle(f"Testing by policy {where}", fontsize="medium")
    return fig
