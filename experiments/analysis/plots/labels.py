"""Lever and outcome names in words, their order and their colours: one place that the figures,
the report and the explorer share.

Exercise policies keep one colour (seaborn's colour-blind palette) and one dash pattern in every
figure, so figures read together and survive grey-scale printing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns

from model.params import ENGAGEMENT_STANCES, EXERCISE_POLICIES

PALETTE = "colorblind"  # categorical (Okabe-Ito-like, seaborn)
SEQUENTIAL = "cividis"  # perceptually uniform and colour-blind-safe

LABELS = {
    "sanctions_level": "Sanctions level (share of exports banned)",
    "exercise_policy": "Exercise policy",
    "engagement_stance": "Engagement stance",
    "rok_mediation": "ROK mediation effort",
    "sanctions_escalation": "Sanctions escalation (share of the gap a package closes)",
    "spoiler_week": "Spoiler week (0 = none)",
    "exercise_delay_weeks": "Exercise delay (weeks)",
    "exercise_scale": "Exercise scale (share of full)",
    "relief_threshold": "Relief threshold (DPRK step 1–4)",
    "relief_sequencing": "Relief sequencing",
    "relief_per_step": "Relief per step (share)",
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
    "test_rung": "Rung of the week's test",
    "summit": "Summit outcome (0 none, 1 deal, 2 failed, 3 statement)",
    "relief": "Relief granted (0–1)",
    "enforcement": "China's enforcement (0–1)",
    "dprk_step": "DPRK step (0–4)",
    "moratorium": "Test moratorium (0/1)",
    "expected_relief": "DPRK expected relief (0–1)",
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
    "dual_suspension": "dual suspension",
    "step_for_step": "step for step",
    "all_at_end": "all at the end",
}
"""Categorical lever values in words."""
SHORT_NAMES = {
    "sanctions_level": "sanctions",
    "rok_mediation": "ROK mediation",
    "spoiler_week": "spoiler week",
    "sanctions_escalation": "sanctions escalation",
    "exercise_delay_weeks": "delay (weeks)",
    "exercise_scale": "exercise scale",
    "relief_threshold": "relief from step",
    "relief_per_step": "relief per step",
}
"""Lever names in words for numeric levers inside policy labels ("sanctions 0.9")."""

COLUMN_LABELS = {
    "n": "runs",
    "draws": "draws",
    "runs_per_draw": "runs per draw",
    "median_weeks_to_talks": "median weeks to talks",
    "median_weeks_given_talks": "median weeks, given talks",
    "mean_tests": "mean tests",
    "mean_icbm_tests": "mean ICBM tests",
    "mean_nuclear_tests": "mean nuclear tests",
    "mean_steps": "mean DPRK step",
    "mean_relief": "mean relief",
    "mean_suspensions": "mean suspensions",
    "median_highest_rung": "median highest rung",
    "outcome": "outcome",
    "n_pairs": "pairs",
    "policy_estimate": "policy",
    "baseline_estimate": "baseline",
    "difference": "difference",
    "ci_low": "95% low",
    "ci_high": "95% high",
    "p_value": "p",
    "p_holm": "p (Holm)",
}
"""Column names of the estimate and contrast tables in words, as the explorer shows them."""

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
    keys = frame[varying]
    # one label per distinct policy, not per row (a fan chart's frame holds a row per run-week);
    # ngroup numbers the groups in order of first appearance, as drop_duplicates lists them
    distinct = keys.drop_duplicates()
    labels = [policy_label(dict(zip(varying, values, strict=True))) for values in distinct.itertuples(index=False)]
    codes = keys.groupby(varying, sort=False, dropna=False).ngroup().to_numpy()
    return pd.Series(np.asarray(labels, dtype=object)[codes], index=frame.index, dtype=object)


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


def ordered(values, order) -> list:
    """The distinct ``values`` in ``order`` (a lever's declared order), then any others as found."""
    present = list(pd.unique(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


def sort_policies(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
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


def column_label(column: str) -> str:
    """A table column in words: "P(talks)", "P(talks) 95% low", "runs", "Exercise policy"."""
    for suffix, words in (("_low", " 95% low"), ("_high", " 95% high")):
        if column.endswith(suffix) and column != "ci" + suffix:
            return column_label(column.removesuffix(suffix)) + words
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column in LABELS:
        return lever_name(column)
    if column.startswith("p_"):
        return f"P({column[2:].replace('_', ' ')})"
    if column.startswith("share_rung_"):
        rung = int(column.removeprefix("share_rung_"))
        return f"share {RUNG_NAMES.get(rung, rung)}"
    return column.replace("_", " ")
