"""Figures over the weeks of many runs: Kaplan-Meier curves of time to talks and fan charts of
weekly trajectories."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES
from model.rules import PRELIMINARY

from .labels import (
    EXERCISE_DASHES,
    LABELS,
    PALETTE,
    exercise_colours,
    nice,
    ordered,
    policy_labels,
    weeks_label,
)
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, paper_style


def _curve_styles(values: Sequence[Any], hue: str | None) -> dict[Any, tuple[tuple, tuple]]:
    """value -> (colour, dash pattern): the fixed exercise-policy styles when ``hue`` is the
    exercise policy, else the colour-blind palette in order with solid lines."""
    if hue == "exercise_policy":
        colours = exercise_colours()
        return {v: (colours[v], EXERCISE_DASHES[v]) for v in values}
    palette = sns.color_palette(PALETTE, max(len(values), 1))
    return {v: (palette[i], (1, 0)) for i, v in enumerate(values)}


def survival_plot(
    curves: pd.DataFrame,
    horizon: int,
    start_date: dt.date | None = None,
    hue: str | None = "exercise_policy",
    facet: str | None = "engagement_stance",
    where: str | None = None,
):
    """Kaplan-Meier curves of time to talks (from :func:`experiments.analysis.survival_curves`)
    with their 95% pointwise intervals as bands: one colour (and dash pattern) per value of
    ``hue``, one panel per value of ``facet``; each curve is drawn to the horizon, where runs
    without talks are censored. ``curves`` must hold one curve per (facet, hue) pair: select
    one value of the other levers first. ``where`` names that slice in the title (e.g. "at
    sanctions level 1"): a figure says which policies it shows."""
    hue = hue if hue in curves.columns else None
    facet = facet if facet in curves.columns else None
    keys = [c for c in (facet, hue) if c]
    origins = curves[(curves["time"] == 0) & (curves["events"] == 0)]  # an event at week 0 adds a second row
    if (origins.groupby(keys).size().max() if keys else len(origins)) > 1:
        raise ValueError("more than one curve per panel and colour: select one value of the other levers first")
    panels = ordered(curves[facet], ENGAGEMENT_STANCES) if facet else [None]
    hues = ordered(curves[hue], EXERCISE_POLICIES) if hue else [None]
    styles = _curve_styles(hues, hue)
    with paper_style():
        width = DOUBLE_COLUMN if len(panels) > 1 else SINGLE_COLUMN
        fig, axes = plt.subplots(
            1, len(panels), figsize=(width, 2.7), sharey=True, squeeze=False, constrained_layout=True
        )
        for ax, panel in zip(axes[0], panels, strict=True):
            part = curves if facet is None else curves[curves[facet] == panel]
            for value in hues:
                curve = part if hue is None else part[part[hue] == value]
                if curve.empty:
                    continue
                colour, dashes = styles[value]
                time = np.append(curve["time"].to_numpy(), horizon)
                ends = {c: np.append(curve[c].to_numpy(), curve[c].iloc[-1]) for c in ("survival", "ci_low", "ci_high")}
                ax.fill_between(time, ends["ci_low"], ends["ci_high"], step="post", color=colour, alpha=0.15, lw=0)
                ax.step(
                    time,
                    ends["survival"],
                    where="post",
                    color=colour,
                    dashes=dashes,
                    lw=1.3,
                    label=nice(value) if hue else None,
                )
            ax.set_xlim(0, horizon)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(weeks_label(start_date))
            ax.set_ylabel(LABELS["survival"] if ax is axes[0][0] else "")
            if facet:
                ax.set_title(nice(panel))
        if hue:
            handles, labels = axes[0][0].get_legend_handles_labels()
            fig.legend(
                handles,
                labels,
                loc="outside lower center",
                ncol=min(len(hues), 5),
                frameon=False,
                title=LABELS.get(hue, hue),
                handlelength=3,
            )
        if where:
            fig.suptitle(f"Time to US–DPRK talks {where}", fontsize="medium")
    return fig


def fan_chart(
    trajectories: pd.DataFrame,
    series: Sequence[str],
    columns: Sequence[str],
    start_date: dt.date | None = None,
    quantiles: tuple[float, float, float, float, float] = (0.05, 0.25, 0.5, 0.75, 0.95),
):
    """Weekly trajectories of chosen policies (from :func:`experiments.analysis.trajectories`) as
    fan charts: the median over replicates (line), the central 50% (dark band) and 90% (light
    band) of runs, week by week. One row of panels per entry of ``series`` (sharing the y axis),
    one column per policy (``columns`` are the policy columns; those that vary name the
    policies). When the trajectories have ``talks_stage``, a first row shows the share of runs
    with US-DPRK talks under way (stage 2 or more) each week. A series whose values span more
    than two decades (trust of 0.001 to 0.5, say) gets a log axis."""
    label = policy_labels(trajectories, columns).rename("policy")
    policies = list(pd.unique(label))
    bands = trajectories[list(series)].groupby([label, trajectories["week"]], sort=False).quantile(list(quantiles))
    bands.index = bands.index.set_names(["policy", "week", "q"])
    exercise = (
        trajectories.groupby(label, sort=False)["exercise_policy"].first()
        if "exercise_policy" in trajectories
        else None
    )
    if exercise is not None and exercise.nunique() == len(policies):
        colours = {p: exercise_colours()[exercise[p]] for p in policies}
    else:
        colours = dict(zip(policies, sns.color_palette(PALETTE, len(policies)), strict=True))
    width = DOUBLE_COLUMN if len(policies) > 1 else SINGLE_COLUMN
    talks_row = "talks_stage" in trajectories.columns
    rows = len(series) + talks_row
    with paper_style():
        fig, axes = plt.subplots(
            rows,
            len(policies),
            figsize=(width, 1.35 * rows + 0.8),
            sharex=True,
            sharey="row",
            squeeze=False,
            constrained_layout=True,
        )
        if talks_row:
            under_way = (
                (trajectories["talks_stage"] >= PRELIMINARY).groupby([label, trajectories["week"]], sort=False).mean()
            )
            for ax, policy in zip(axes[0], policies, strict=True):
                share = under_way.loc[policy]
                ax.plot(share.index.to_numpy(), share.to_numpy(), color=colours[policy], lw=1.3)
                ax.set_ylim(0, 1.02)
            axes[0][0].set_ylabel(textwrap.fill("Share of runs with talks under way", 20))
        for row, column in zip(axes[talks_row:], series, strict=True):
            values = bands[column]
            positive = values[values > 0]
            if len(positive) and (values >= 0).all() and positive.max() / positive.min() > 100:
                row[0].set_yscale("log")
            for ax, policy in zip(row, policies, strict=True):
                q = bands.loc[policy, column].unstack("q")
                weeks = q.index.to_numpy()
                ax.fill_between(weeks, q[quantiles[0]], q[quantiles[4]], color=colours[policy], alpha=0.2, lw=0)
                ax.fill_between(weeks, q[quantiles[1]], q[quantiles[3]], color=colours[policy], alpha=0.45, lw=0)
                ax.plot(weeks, q[quantiles[2]], color=colours[policy], lw=1.3)
                ax.set_xlim(weeks.min(), weeks.max())
            row[0].set_ylabel(textwrap.fill(LABELS.get(column, column), 20))
        for ax, policy in zip(axes[0], policies, strict=True):
            ax.set_title(textwrap.fill(policy, 40))
        for ax in axes[-1]:
            ax.set_xlabel(weeks_label(start_date))
        spread = round(100 * (quantiles[4] - quantiles[0]))
        centre = round(100 * (quantiles[3] - quantiles[1]))
        fig.suptitle(f"Median (line), central {centre}% (dark) and {spread}% (light) of runs", fontsize="medium")
    return fig
