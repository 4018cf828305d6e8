"""Figures in paper style (seaborn): readable at column width, colour-blind-safe, labelled in words.

Every function takes tidy data (a summary, rows, contrasts, curves or trajectories DataFrame
from :mod:`experiments.analysis`), returns the matplotlib Figure, and leaves saving to
:func:`save`, which writes PDF and PNG atomically.

Exercise policies keep one colour (seaborn's colour-blind palette) and one dash pattern in every
figure, so figures read together and survive grey-scale printing.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt

if "MPLBACKEND" in os.environ:
    # A Jupyter kernel sets it to its inline backend: keep that one, and load it now rather than
    # inside paper_style(), whose rc_context would undo the interactive mode it switches on.
    plt.switch_backend(os.environ["MPLBACKEND"])
else:
    plt.switch_backend("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES  # noqa: E402
from model.rules import PRELIMINARY  # noqa: E402

from ..history.replay import Replay  # noqa: E402
from ..io import atomic_write_bytes  # noqa: E402

SINGLE_COLUMN = 3.5  # inches
DOUBLE_COLUMN = 7.2
PALETTE = "colorblind"  # categorical (Okabe-Ito-like, seaborn)
SEQUENTIAL = "cividis"  # perceptually uniform and colour-blind-safe

LABELS = {
    "sanctions_level": "Sanctions level (share of exports banned)",
    "exercise_policy": "Exercise policy",
    "engagement_stance": "Engagement stance",
    "rok_mediation": "ROK mediation effort",
    "talks_week": "Weeks to US–DPRK talks",
    "p_talks": "P(US–DPRK talks)",
    "survival": "P(no US–DPRK talks yet)",
    "cumulative_tests": "Tests so far (count)",
    "tests": "Tests in the week (count)",
    "test_hazard": "DPRK test hazard (tests per week)",
    "dprk_stress": "DPRK economic stress (0–1)",
    "dprk_threat": "DPRK perceived threat (0–1)",
    "trust_dprk_in_us": "DPRK trust in the US (0–1)",
    "trust_us_in_dprk": "US trust in the DPRK (0–1)",
    "effective_pressure": "Effective sanctions pressure (0–1)",
    "sanctions": "Sanctions level in force (share of exports banned)",
    "exercise_intensity": "Exercise intensity (share of full)",
    "alignment": "US–ROK alignment (0–1)",
    "talks_stage": "Talks stage",
}
"""Axis labels in words, with units, for columns of the results and trajectories."""

CONTRAST_LABELS = {
    "talks": "Difference in P(US–DPRK talks)",
    "tests": "Difference in mean tests (count)",
    "nuclear_tests": "Difference in mean nuclear tests (count)",
    "any_test": "Difference in P(any test)",
    "nuclear_test": "Difference in P(nuclear test)",
}
"""Axis labels of :func:`forest_plot` panels by contrasted outcome."""

NICE = {
    "as_scheduled": "as scheduled",
    "scaled_down": "scaled down",
    "delayed": "delayed",
    "suspended_during_talks": "suspended in talks",
    "suspended": "suspended",
    "pressure_first": "pressure first",
    "pressure_and_engagement": "pressure + engagement",
}
SHORT_NAMES = {
    "sanctions_level": "sanctions",
    "rok_mediation": "ROK mediation",
    "spoiler_week": "spoiler week",
    "sanctions_escalation": "sanctions escalation",
    "exercise_delay_weeks": "delay (weeks)",
    "exercise_scale": "exercise scale",
}
"""Lever names in words for numeric levers inside policy labels ("sanctions 0.9")."""

TALKS_STAGES = {0: "none", 1: "inter-Korean", 2: "US–DPRK talks", 3: "summit-level", 4: "suspended"}
RUNG_NAMES = {0: "no test", 1: "short-range", 2: "intermediate-range", 3: "SLBM/space launch", 4: "ICBM", 5: "nuclear"}
EXERCISE_DASHES = dict(
    zip(EXERCISE_POLICIES, [(1, 0), (4, 1.5), (1, 1), (6, 1.5, 1, 1.5), (2.5, 1, 1, 1), (8, 2)], strict=True)
)


def nice(value) -> str:
    """A lever value in words for axis labels and legends."""
    if isinstance(value, float):
        return f"{value:g}"
    return NICE.get(value, str(value))


def policy_label(policy: Mapping[str, Any]) -> str:
    """A policy (lever -> value) in words, e.g. "suspended, pressure + engagement, sanctions 1"."""
    parts = []
    for name, value in policy.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{SHORT_NAMES.get(name, name)} {value:g}")
        else:
            parts.append(nice(value))
    return ", ".join(parts)


def policy_labels(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """:func:`policy_label` of each row of ``frame`` over ``columns`` (the ones that vary)."""
    varying = [c for c in columns if frame[c].nunique(dropna=False) > 1] or list(columns)[:1]
    return pd.Series(
        [policy_label(dict(zip(varying, values, strict=True))) for values in frame[varying].itertuples(index=False)],
        index=frame.index,
        dtype=object,
    )


def lever_name(column: str) -> str:
    """A lever's name in words without its unit: "Sanctions level"."""
    return LABELS.get(column, column).split(" (")[0]


def p_talks_label(horizon: int | None) -> str:
    """ "P(US–DPRK talks within 52 weeks)" (or without the horizon when it is not known)."""
    return f"P(US–DPRK talks within {horizon} weeks)" if horizon else LABELS["p_talks"]


def weeks_label(start_date: dt.date | str | None) -> str:
    """The time axis label: "Weeks since 26 Feb 2018" (``start_date`` a date or ISO text)."""
    if not start_date:
        return "Week of the run"
    date = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    return f"Weeks since {date.day} {date:%b %Y}"


def exercise_colours() -> dict[str, tuple]:
    """One colour-blind-safe colour per exercise policy, the same in every figure."""
    return dict(zip(EXERCISE_POLICIES, sns.color_palette(PALETTE, len(EXERCISE_POLICIES)), strict=True))


@contextmanager
def paper_style():
    """Seaborn 'paper' context with small fonts sized for a printed column."""
    with (
        sns.axes_style("ticks"),
        sns.plotting_context("paper", font_scale=0.9),
        plt.rc_context(
            {
                "figure.dpi": 150,
                "savefig.dpi": 300,
                "savefig.bbox": "tight",
                "pdf.fonttype": 42,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        yield


def save(fig, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``stem.pdf`` and ``stem.png`` (each written atomically); close it."""
    paths = []
    for suffix in (".pdf", ".png"):
        buffer = io.BytesIO()
        with paper_style():  # the savefig settings (300 dpi, tight box, embeddable fonts) apply at save time
            fig.savefig(buffer, format=suffix[1:])
        path = Path(stem).with_suffix(suffix)
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


def _ordered(values, order) -> list:
    present = list(pd.unique(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


def _cell_note(estimate: float, low: float, high: float) -> str:
    """A heatmap cell's text: the estimate over ± half the interval's width (".04", no leading
    zero, so that it fits a cell at 5.5 pt)."""
    if np.isnan(estimate):
        return ""
    return f"{estimate:.2f}\n±{(high - low) / 2:.2f}".replace("±0.", "±.")


def p_talks_heatmap(summary: pd.DataFrame, value: str = "p_talks", horizon: int | None = None):
    """P(talks) by sanctions level (columns) and exercise policy (rows), one panel per
    engagement stance; each cell shows the estimate and the 95% interval half-width."""
    needed = {"sanctions_level", "exercise_policy", "engagement_stance"}
    if not needed <= set(summary.columns):
        raise ValueError(f"the heatmap needs the levers {sorted(needed)} in the design")
    stances = _ordered(summary["engagement_stance"], ENGAGEMENT_STANCES)
    policies = _ordered(summary["exercise_policy"], EXERCISE_POLICIES)
    levels = sorted(summary["sanctions_level"].unique())
    with paper_style():
        fig, axes = plt.subplots(
            1,
            len(stances),
            figsize=(DOUBLE_COLUMN, 0.45 * len(policies) + 1.3),
            sharey=True,
            squeeze=False,
            constrained_layout=True,
        )
        for ax, stance in zip(axes[0], stances, strict=True):
            part = summary[summary["engagement_stance"] == stance]
            grid = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value, aggfunc="mean")
            grid = grid.reindex(index=policies, columns=levels)
            low = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value + "_low").reindex(
                index=policies, columns=levels
            )
            high = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value + "_high").reindex(
                index=policies, columns=levels
            )
            notes = np.vectorize(_cell_note)(grid, low, high)
            sns.heatmap(
                grid,
                ax=ax,
                vmin=0,
                vmax=1,
                cmap=SEQUENTIAL,
                annot=notes,
                fmt="",
                annot_kws={"fontsize": 5.5},
                cbar=ax is axes[0][-1],
                cbar_kws={"label": p_talks_label(horizon)},
                linewidths=0.3,
                linecolor="white",
            )
            ax.set_title(nice(stance))
            ax.set_xlabel("")
            ax.set_xticklabels([f"{v:g}" for v in levels], rotation=0)
            ax.set_ylabel(LABELS["exercise_policy"] if ax is axes[0][0] else "")
            ax.set_yticklabels([nice(p) for p in policies], rotation=0)
        fig.supxlabel(LABELS["sanctions_level"], fontsize=plt.rcParams["axes.labelsize"])
    return fig


def _sort_policies(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows ordered by engagement stance, then exercise policy (their lever order), then the
    other columns; used for the rows of forest and cost plots."""
    orders = {"engagement_stance": ENGAGEMENT_STANCES, "exercise_policy": EXERCISE_POLICIES}
    keys = [c for c in ("engagement_stance", "exercise_policy") if c in columns] + [
        c for c in columns if c not in orders
    ]

    def rank(column: pd.Series) -> pd.Series:
        order = orders.get(column.name)
        return column.map({v: i for i, v in enumerate(order)}) if order else column

    return frame.sort_values(keys, key=rank, kind="stable") if keys else frame


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
    panels = _ordered(curves[facet], ENGAGEMENT_STANCES) if facet else [None]
    hues = _ordered(curves[hue], EXERCISE_POLICIES) if hue else [None]
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
    first = _sort_policies(contrasts[contrasts["outcome"] == outcomes[0]], columns)
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
            part = _sort_policies(contrasts[contrasts["outcome"] == outcome], columns)
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
            textwrap.fill(f"Policy minus baseline{against}, paired by replicate{shown}", 13 * width), fontsize="medium"
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
    frame = _sort_policies(spread, columns)
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


def testing_cost_plot(cost: pd.DataFrame, columns: Sequence[str], horizon: int | None = None, where: str | None = None):
    """What each policy costs in testing (from :func:`experiments.analysis.testing_cost`): left,
    the share of runs by the highest rung tested (stacked bars); right, the mean number of
    tests with its 95% interval. One row per policy; ``where`` (e.g. "at sanctions level 1") names
    the slice of the design shown, in the title."""
    cost = _sort_policies(cost, columns)
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
            loc="outside upper center",
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


def tradeoff_plot(summary: pd.DataFrame, horizon: int | None = None):
    """The trade-off between talks and testing over the whole design: P(talks) against mean
    tests, one line per exercise policy and stance running through the sanctions levels (open
    marker at the lowest level, filled at the highest), each point with its 95% intervals as
    thin cross bars when the summary has them (``p_talks_low``/``_high``, ``mean_tests_low``/
    ``_high``). Markers at P = 0 or 1 are drawn whole. Needs the three policy levers and the
    ``p_talks`` and ``mean_tests`` columns of a summary."""
    needed = {"sanctions_level", "exercise_policy", "engagement_stance", "p_talks", "mean_tests"}
    if not needed <= set(summary.columns):
        raise ValueError(f"the trade-off plot needs the columns {sorted(needed)}")
    colours = exercise_colours()
    markers = dict(zip(ENGAGEMENT_STANCES, ("s", "o"), strict=True))
    within = f" within {horizon} weeks" if horizon else ""
    with paper_style():
        fig, ax = plt.subplots(figsize=(SINGLE_COLUMN, 3.0), constrained_layout=True)
        for (policy, stance), line in summary.groupby(["exercise_policy", "engagement_stance"], sort=False):
            line = line.sort_values("sanctions_level")
            colour = colours.get(policy, "black")
            ax.plot(line["p_talks"], line["mean_tests"], color=colour, dashes=EXERCISE_DASHES.get(policy, (1, 0)), lw=1)
            if {"p_talks_low", "p_talks_high", "mean_tests_low", "mean_tests_high"} <= set(line.columns):
                ax.errorbar(
                    line["p_talks"],
                    line["mean_tests"],
                    xerr=[line["p_talks"] - line["p_talks_low"], line["p_talks_high"] - line["p_talks"]],
                    yerr=[line["mean_tests"] - line["mean_tests_low"], line["mean_tests_high"] - line["mean_tests"]],
                    fmt="none",
                    ecolor=colour,
                    elinewidth=0.5,
                    alpha=0.6,
                    clip_on=False,
                )
            ax.plot(
                line["p_talks"].iloc[0],
                line["mean_tests"].iloc[0],
                markers.get(stance, "o"),
                ms=4,
                mfc="white",
                mec=colour,
                clip_on=False,
                zorder=3,
            )
            ax.plot(
                line["p_talks"].iloc[-1],
                line["mean_tests"].iloc[-1],
                markers.get(stance, "o"),
                ms=4,
                color=colour,
                clip_on=False,
                zorder=3,
            )
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(p_talks_label(horizon))
        ax.set_ylabel(f"Mean tests{within} (count)")
        policy_handles = [
            matplotlib.lines.Line2D([], [], color=colours[p], dashes=EXERCISE_DASHES[p], lw=1, label=nice(p))
            for p in _ordered(summary["exercise_policy"], EXERCISE_POLICIES)
        ]
        stance_handles = [
            matplotlib.lines.Line2D([], [], ls="", marker=markers[s], color="0.3", ms=4, label=nice(s))
            for s in _ordered(summary["engagement_stance"], ENGAGEMENT_STANCES)
        ]
        levels = sorted(summary["sanctions_level"].unique())
        level_handles = [
            matplotlib.lines.Line2D(
                [], [], ls="", marker="o", color="0.3", mfc=face, ms=4, label=f"sanctions {level:g}"
            )
            for face, level in (("white", levels[0]), ("0.3", levels[-1]))
        ]
        fig.legend(
            handles=policy_handles + stance_handles + level_handles,
            loc="outside lower center",
            ncol=2,
            frameon=False,
            fontsize="small",
            handlelength=2.5,
        )
    return fig


def run_plot(trajectory: pd.DataFrame, start_date: dt.date | str | None = None):
    """One run's weekly series (``EscalationModel.trajectory()``), single column: the talks
    stage, the tests of each week by rung, pressure on the DPRK, its stress and threat, and
    trust and alliance alignment."""
    weeks = trajectory["week"].to_numpy()
    rung_colours = dict(zip(range(1, 6), sns.color_palette(SEQUENTIAL + "_r", 5), strict=True))
    rung_short = {1: "short-range", 2: "intermediate", 3: "SLBM/space", 4: "ICBM", 5: "nuclear"}
    palette = sns.color_palette(PALETTE, 3)
    panels = [
        (
            "Pressure (0–1)",
            {"sanctions": "sanctions", "effective_pressure": "pressure felt", "exercise_intensity": "exercises"},
        ),
        ("DPRK (0–1)", {"dprk_stress": "economic stress", "dprk_threat": "perceived threat"}),
        (
            "Trust (0–1)",
            {"trust_dprk_in_us": "DPRK in US", "trust_us_in_dprk": "US in DPRK", "alignment": "US–ROK alignment"},
        ),
    ]
    legend = {
        "frameon": False,
        "fontsize": "x-small",
        "loc": "lower left",
        "bbox_to_anchor": (0, 1),
        "borderaxespad": 0.1,
        "handlelength": 1.0,
        "columnspacing": 0.8,
        "handletextpad": 0.4,
    }
    with paper_style():
        fig, axes = plt.subplots(
            5,
            1,
            figsize=(SINGLE_COLUMN, 6.0),
            sharex=True,
            constrained_layout=True,
            gridspec_kw={"height_ratios": [0.9, 0.8, 1, 1, 1]},
        )
        axes[0].step(weeks, trajectory["talks_stage"], where="mid", color="black", lw=1.2)
        axes[0].set_yticks(list(TALKS_STAGES), list(TALKS_STAGES.values()))
        axes[0].set_ylim(-0.3, 3.3)
        axes[0].set_ylabel("Talks stage")
        tested = trajectory[trajectory["tests"] > 0]
        for rung, part in tested.groupby("test_rung"):
            axes[1].bar(
                part["week"],
                part["tests"],
                width=0.8,
                color=rung_colours.get(rung, "black"),
                label=rung_short.get(rung, rung),
            )
        axes[1].set_ylabel("Tests (count)")
        axes[1].set_ylim(0, max(1, int(trajectory["tests"].max())) + 0.3)
        axes[1].yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if len(tested):
            axes[1].legend(ncol=4, **legend)
        for ax, (ylabel, columns) in zip(axes[2:], panels, strict=True):
            for colour, (column, name) in zip(palette, columns.items(), strict=False):
                ax.plot(weeks, trajectory[column], color=colour, lw=1.1, label=name)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel(ylabel)
            ax.legend(ncol=len(columns), **legend)
        axes[-1].set_xlabel(weeks_label(start_date))
        axes[-1].set_xlim(weeks.min() - 0.5, weeks.max() + 0.5)
        fig.align_ylabels(axes)
    return fig


def replay_figure(replay: Replay):
    """Observed vs simulated monthly launches of a :class:`~experiments.history.replay.Replay`
    (median, 50% and 90% bands), with nuclear tests, talks events and exercises marked."""
    frame = replay.comparison()
    x = frame.index.to_timestamp()
    palette = plt.get_cmap("tab10")
    with paper_style():
        fig, (ax, talks_ax) = plt.subplots(
            2, 1, figsize=(DOUBLE_COLUMN, 3.6), sharex=True, height_ratios=[3, 1], constrained_layout=True
        )
        scheduled = replay.scenario.schedule().arrays(replay.scenario.weeks)["scheduled_exercise"]
        starts = replay.scenario.week_starts()
        for w, intensity in enumerate(scheduled):
            if intensity > 0:
                for a in (ax, talks_ax):
                    a.axvspan(starts[w], starts[w] + dt.timedelta(days=7), color="0.85", lw=0, zorder=0)
        for level, alpha in ((90, 0.2), (50, 0.4)):
            ax.fill_between(
                x,
                frame[f"sim_launches_{level}_low"],
                frame[f"sim_launches_{level}_high"],
                step="mid",
                color=palette(0),
                alpha=alpha,
                lw=0,
                label=f"simulated {level}% interval",
            )
        ax.step(x, frame["sim_launches_median"], where="mid", color=palette(0), lw=1, label="simulated median")
        if "obs_launches" in frame:
            ax.plot(x, frame["obs_launches"], "o", color="black", ms=3, label="observed (CNS)")
            nuclear = frame["obs_nuclear"].fillna(0) > 0
            ax.plot(
                x[nuclear],
                frame.loc[nuclear, "obs_launches"] + 0.6,
                marker="*",
                ls="none",
                color=palette(3),
                ms=8,
                label="observed nuclear test",
            )
            observed_talks = frame["obs_talks"].fillna(False).astype(bool)
            talks_ax.plot(
                x[observed_talks],
                np.ones(observed_talks.sum()),
                "|",
                color="black",
                ms=10,
                label="observed talks event",
            )
        if replay.window[0] > replay.months[0]:  # where the scored window starts
            for a in (ax, talks_ax):
                a.axvline(replay.window[0].to_timestamp(), color="0.3", ls="--", lw=0.8)
            ax.annotate(
                "scored from here",
                (replay.window[0].to_timestamp(), 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -8),
                textcoords="offset points",
                fontsize=6,
                color="0.3",
            )
        if replay.window[1] < replay.months[-1]:
            for a in (ax, talks_ax):
                a.axvline((replay.window[1] + 1).to_timestamp(), color="0.3", ls="--", lw=0.8)
        ax.set_ylabel("Launch events per month")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", ncols=2, fontsize=6, frameon=False)
        ax.set_title(f"{replay.scenario.name}: {replay.replicates} simulated runs (grey: exercises held)", fontsize=8)
        talks_ax.step(x, frame["sim_p_talks"], where="mid", color=palette(2), label="simulated P(talks under way)")
        talks_ax.set_ylim(0, 1.15)
        talks_ax.set_ylabel("P(talks)")
        talks_ax.set_xlabel("Month")
        talks_ax.legend(loc="upper left", fontsize=6, frameon=False)
    return fig
