"""Figures over the whole policy grid: the P(talks) heatmap and the talks-testing trade-off."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.legend_handler import HandlerTuple

from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES

from .labels import (
    EXERCISE_DASHES,
    LABELS,
    SEQUENTIAL,
    exercise_colours,
    nice,
    ordered,
    p_talks_label,
)
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, paper_style


def _cell_note(estimate: float, low: float, high: float) -> str:
    """A heatmap cell's text: the estimate over ± half the interval's width (".04", no leading
    zero, so that it fits a cell at 5.5 pt)."""
    if np.isnan(estimate):
        return ""
    return f"{estimate:.2f}\n±{(high - low) / 2:.2f}".replace("±0.", "±.")


def p_talks_heatmap(summary: pd.DataFrame, value: str = "p_talks", horizon: int | None = None, over: str | None = None):
    """P(talks) by sanctions level (columns) and exercise policy (rows), one panel per
    engagement stance; each cell shows the estimate and the 95% interval half-width. ``over``
    says in words what the estimates and intervals are (e.g. "mean over the 200 posterior
    draws, 95% t interval over the draws"); it is printed under the figure, so that a reader
    knows whether the intervals count the spread across draws or only the runs' chance."""
    needed = {"sanctions_level", "exercise_policy", "engagement_stance"}
    if not needed <= set(summary.columns):
        raise ValueError(f"the heatmap needs the levers {sorted(needed)} in the design")
    stances = ordered(summary["engagement_stance"], ENGAGEMENT_STANCES)
    policies = ordered(summary["exercise_policy"], EXERCISE_POLICIES)
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
        caption = f"Each cell: estimate ± half its 95% interval; {over}" if over else None
        fig.supxlabel(
            LABELS["sanctions_level"] + (f"\n{caption}" if caption else ""), fontsize=plt.rcParams["axes.labelsize"]
        )
    return fig


def error_bars(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The (below, above) lengths of ``column``'s interval bars: the estimate to ``_low`` and to
    ``_high``, never negative (an estimate may sit a rounding error outside its interval)."""
    below = frame[column] - frame[column + "_low"]
    above = frame[column + "_high"] - frame[column]
    return np.clip(np.vstack([below.to_numpy(float), above.to_numpy(float)]), 0, None)


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
                    xerr=error_bars(line, "p_talks"),
                    yerr=error_bars(line, "mean_tests"),
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
            for p in ordered(summary["exercise_policy"], EXERCISE_POLICIES)
        ]
        # a stance is a marker shape (drawn half filled in the legend), a sanctions level is open
        # (lowest) or filled (highest) whatever the shape: the legend shows both shapes for a level
        stances = ordered(summary["engagement_stance"], ENGAGEMENT_STANCES)
        stance_handles = [
            matplotlib.lines.Line2D(
                [], [], ls="", marker=markers[s], color="0.3", mfc="0.3", fillstyle="left", ms=4, label=nice(s)
            )
            for s in stances
        ]
        levels = sorted(summary["sanctions_level"].unique())
        level_handles = [
            tuple(
                matplotlib.lines.Line2D([], [], ls="", marker=markers[s], color="0.3", mfc=face, ms=4) for s in stances
            )
            for face in ("white", "0.3")
        ]
        level_labels = [f"sanctions {levels[0]:g} (open)", f"sanctions {levels[-1]:g} (filled)"]
        fig.legend(
            handles=policy_handles + stance_handles + level_handles,
            labels=[h.get_label() for h in policy_handles + stance_handles] + level_labels,
            handler_map={tuple: HandlerTuple(ndivide=None, pad=0.6)},
            loc="outside lower center",
            ncol=2,
            frameon=False,
            fontsize="small",
            handlelength=2.5,
        )
    return fig
