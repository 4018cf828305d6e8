"""Figures in paper style (seaborn): readable at column width, colour-blind-safe, labelled in words.

Every function takes tidy data (a summary or rows DataFrame), returns the matplotlib Figure,
and leaves saving to :func:`save`, which writes PDF and PNG atomically.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES  # noqa: E402

from .store import atomic_write_bytes  # noqa: E402

SINGLE_COLUMN = 3.5   # inches
DOUBLE_COLUMN = 7.2
PALETTE = "colorblind"          # categorical (Okabe-Ito-like, seaborn)
SEQUENTIAL = "cividis"          # perceptually uniform and colour-blind-safe

LABELS = {
    "sanctions_level": "Sanctions level (share of exports banned)",
    "exercise_policy": "Exercise policy",
    "engagement_stance": "Engagement stance",
    "rok_mediation": "ROK mediation effort",
    "talks_week": "Weeks to US–DPRK talks",
    "p_talks": "P(US–DPRK talks within horizon)",
}
NICE = {
    "as_scheduled": "as scheduled", "scaled_down": "scaled down", "delayed": "delayed",
    "suspended_during_talks": "suspended in talks", "suspended": "suspended",
    "pressure_first": "pressure first", "pressure_and_engagement": "pressure + engagement",
}


def nice(value) -> str:
    """A lever value in words for axis labels and legends."""
    return NICE.get(value, str(value))


@contextmanager
def paper_style():
    """Seaborn 'paper' context with small fonts sized for a printed column."""
    with sns.axes_style("ticks"), sns.plotting_context("paper", font_scale=0.9), plt.rc_context(
        {"figure.dpi": 150, "savefig.dpi": 300, "savefig.bbox": "tight", "pdf.fonttype": 42,
         "axes.spines.top": False, "axes.spines.right": False}
    ):
        yield


def save(fig, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``stem.pdf`` and ``stem.png`` (each written atomically); close it."""
    paths = []
    for suffix in (".pdf", ".png"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:])
        path = Path(stem).with_suffix(suffix)
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


def _ordered(values, order) -> list:
    present = list(pd.unique(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


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
        fig, axes = plt.subplots(1, len(stances), figsize=(DOUBLE_COLUMN, 0.45 * len(policies) + 1.3),
                                 sharey=True, squeeze=False, constrained_layout=True)
        for ax, stance in zip(axes[0], stances):
            part = summary[summary["engagement_stance"] == stance]
            grid = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value, aggfunc="mean")
            grid = grid.reindex(index=policies, columns=levels)
            low = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value + "_low").reindex(index=policies, columns=levels)
            high = part.pivot_table(index="exercise_policy", columns="sanctions_level", values=value + "_high").reindex(index=policies, columns=levels)
            notes = np.vectorize(lambda p, lo, hi: "" if np.isnan(p) else f"{p:.2f}\n±{(hi - lo) / 2:.2f}")(grid, low, high)
            sns.heatmap(grid, ax=ax, vmin=0, vmax=1, cmap=SEQUENTIAL, annot=notes, fmt="",
                        annot_kws={"fontsize": 5}, cbar=ax is axes[0][-1],
                        cbar_kws={"label": LABELS["p_talks"] + (f" ({horizon} weeks)" if horizon else "")},
                        linewidths=0.3, linecolor="white")
            ax.set_title(nice(stance))
            ax.set_xlabel(LABELS["sanctions_level"])
            ax.set_xticklabels([f"{v:g}" for v in levels], rotation=0)
            ax.set_ylabel(LABELS["exercise_policy"] if ax is axes[0][0] else "")
            ax.set_yticklabels([nice(p) for p in policies], rotation=0)
    return fig
