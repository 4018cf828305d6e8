"""Figures in paper style (seaborn): readable at column width, colour-blind-safe, labelled in words.

Every figure function takes tidy data (a summary, rows, contrasts, curves or trajectories
DataFrame from :mod:`experiments.analysis`), returns the matplotlib Figure, and leaves saving
to :func:`save`, which writes PDF and PNG atomically.

One module per figure family: :mod:`.grid` (the whole policy grid), :mod:`.intervals` (one row
per policy with intervals), :mod:`.curves` (weeks over many runs), :mod:`.runs` (single runs and
replays); :mod:`.labels` holds the names in words, orders and colours, :mod:`.style` the paper
style. Every public name is importable from here.
"""

from __future__ import annotations

from .curves import fan_chart, survival_plot
from .grid import p_talks_heatmap, tradeoff_plot
from .intervals import forest_plot, posterior_range_plot, testing_cost_plot
from .labels import (
    COLUMN_LABELS,
    CONTRAST_LABELS,
    EXERCISE_DASHES,
    LABELS,
    NICE,
    PALETTE,
    RUNG_NAMES,
    SEQUENTIAL,
    SHORT_NAMES,
    TALKS_STAGES,
    column_label,
    exercise_colours,
    lever_name,
    nice,
    ordered,
    p_talks_label,
    policy_label,
    policy_labels,
    sort_policies,
    weeks_label,
)
from .runs import replay_figure, run_plot
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, paper_style, save

__all__ = [
    "COLUMN_LABELS",
    "column_label",
    "CONTRAST_LABELS",
    "DOUBLE_COLUMN",
    "EXERCISE_DASHES",
    "LABELS",
    "NICE",
    "PALETTE",
    "RUNG_NAMES",
    "SEQUENTIAL",
    "SHORT_NAMES",
    "SINGLE_COLUMN",
    "TALKS_STAGES",
    "exercise_colours",
    "fan_chart",
    "forest_plot",
    "lever_name",
    "nice",
    "ordered",
    "p_talks_heatmap",
    "p_talks_label",
    "paper_style",
    "policy_label",
    "policy_labels",
    "posterior_range_plot",
    "replay_figure",
    "run_plot",
    "save",
    "sort_policies",
    "survival_plot",
    "testing_cost_plot",
    "tradeoff_plot",
    "weeks_label",
]
