"""Lever and outcome names in words, their order and their colours: one place that the figures,
the report and the explorer share.

Exercise policies keep one colour (seaborn's colour-blind palette) and one dash pattern in every
figure, so figures read together and survive grey-scale printing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

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
