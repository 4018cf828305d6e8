"""Outcomes of a run: the quantities the experiments analyse, computed the same way by both engines.

:class:`OutcomeTally` keeps a running tally of one run (scalars) or of many runs (arrays), week
by week; the columns and their types are :data:`OUTCOME_COLUMNS`; weeks of events that did not
happen within the horizon are NaN, never a sentinel number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import (
    INTER_KOREAN,
    NEGOTIATIONS,
    NO_TALKS,
    PRELIMINARY,
    RUNGS,
    SUMMIT_DEAL,
    SUMMIT_FAILED,
    SUMMIT_NONE,
    SUMMIT_STATEMENT,
    SUSPENDED_TALKS,
)
from .week import FINAL_STATE, SERIES

OUTCOME_COLUMNS: dict[str, str] = {
    "talks": "bool",  # US-DPRK talks began (stage 2 or 3 reached)
    "talks_week": "float64",  # first week of US-DPRK talks (NaN if none; 0 if under way at the start)
    "inter_korean_talks": "bool",  # inter-Korean contact happened (stage 1 reached)
    "inter_korean_week": "float64",  # first week of inter-Korean contact (NaN if none; 0 if under way at the start)
    "summit": "bool",  # a summit was held
    "summit_week": "float64",  # week of the first summit (NaN if none)
    "deal": "bool",  # a summit ended in a deal
    "deal_week": "float64",  # week of the first deal (NaN if none)
    "summit_failed": "bool",  # a summit failed (talks suspended)
    "statement": "bool",  # a summit ended in a statement of principles without verified steps
    "statement_week": "float64",  # week of the first statement (NaN if none)
    "summits": "int64",  # summits held
    "suspensions": "int64",  # times talks were suspended (spoilers and failed summits)
    "talks_collapsed": "bool",  # US-DPRK talks began and later ended (stage 0)
    "collapses": "int64",  # times talks (any stage 1-4) ended
    "steps": "int64",  # highest DPRK step standing in any week (0-4)
    "relief": "float64",  # relief granted at the end (share of sanctions and exercises)
    "tests": "int64",  # all test events (launch days and nuclear tests)
    "launches": "int64",  # missile and space launch events (rungs 1-4)
    "tests_short_range": "int64",  # rung 1
    "tests_intermediate": "int64",  # rung 2
    "tests_slbm_space": "int64",  # rung 3 (submarine-launched and space launch)
    "tests_icbm": "int64",  # rung 4
    "nuclear_tests": "int64",  # rung 5
    "strategic_tests": "int64",  # ICBM launches and nuclear tests (rungs 4-5), what a moratorium covers
    "substrategic_tests": "int64",  # short-range, intermediate, SLBM and space launches (rungs 1-3)
    "tests_under_moratorium": "int64",  # sub-strategic launches in weeks a strategic moratorium held
    "moratorium_week": "float64",  # first week a moratorium was declared (NaN if none; 0 if held at the start)
    "talks_refused": "int64",  # weeks without US-DPRK talks in which the US stood ready and the DPRK refused
    "highest_rung": "int64",  # highest rung tested within the horizon (0: no test)
    "first_test_week": "float64",  # first week with a test (NaN if none)
    "first_test_after_failure_week": "float64",  # first test after the first failed summit (NaN if none)
    **{name: "float64" for name in FINAL_STATE},  # the state after the last week (model/week.py)
}
"""Every outcome column and its dtype, identical for both engines."""

FINAL_STATE_COLUMNS = list(FINAL_STATE)
_RUNG_COLUMNS = ("tests_short_range", "tests_intermediate", "tests_slbm_space", "tests_icbm", "nuclear_tests")


class OutcomeTally:
    """Running tally of one run's (or many runs') events.

    Call :meth:`record` once per week; :meth:`result` returns the outcomes given the final state.
    ``initial_stage`` is the talks stage at week 0: contact or US-DPRK talks under way at the
    start count as reached in week 0.
    """

    _FIRST = (
        "inter_korean_week",
        "talks_week",
        "summit_week",
        "deal_week",
        "first_test_week",
        "statement_week",
        "moratorium_week",
    )
    _RUNG_NUMBERS = np.arange(1, RUNGS + 1)

    def __init__(self, shape: tuple[int, ...] = (), initial_stage=0, initial_moratorium=False) -> None:
        start = np.asarray(initial_stage)
        self.first_weeks = np.full((len(self._FIRST), *shape), np.nan)  # rows in the order of _FIRST
        # talks under way at the start count as reached in week 0
        self.first_weeks[0] = np.where(start == INTER_KOREAN, 0.0, np.nan)
        self.first_weeks[1] = np.where((start == PRELIMINARY) | (start == NEGOTIATIONS), 0.0, np.nan)
        self.first_weeks[6] = np.where(np.asarray(initial_moratorium, dtype=bool), 0.0, np.nan)
        self.summits = np.zeros(shape, dtype=np.int64)
        self.under_moratorium = np.zeros(shape, dtype=np.int64)
        self.refused = np.zeros(shape, dtype=np.int64)
        self.failure_week = np.full(shape, np.nan)
        self.first_test_after_failure = np.full(shape, np.nan)
        self.talks_collapsed = np.zeros(shape, dtype=bool)
        self.collapses = np.zeros(shape, dtype=np.int64)
        self.suspensions = np.zeros(shape, dtype=np.int64)
        self.steps = np.zeros(shape, dtype=np.int64)
        self.relief = np.zeros(shape)
        self.talks_began = np.zeros(shape, dtype=bool) | (
            (np.asarray(initial_stage) == PRELIMINARY) | (np.asarray(initial_stage) == NEGOTIATIONS)
        )
        self.by_rung = np.zeros((RUNGS, *shape), dtype=np.int64)
        self.highest_rung = np.zeros(shape, dtype=np.int64)
        self._rungs = self._RUNG_NUMBERS.reshape((RUNGS,) + (1,) * len(shape))

    def record(
        self,
        week: int,
        stage_before,
        stage_after,
        summit,
        tests,
        rung,
        step,
        relief,
        moratorium_before=False,
        moratorium_after=False,
        refused=False,
    ) -> None:
        """Tally one week (``week`` is 1-based): the talks stage before and after it, its summit code
        (:data:`SUMMIT_NONE`, :data:`SUMMIT_DEAL`, :data:`SUMMIT_FAILED`, :data:`SUMMIT_STATEMENT`),
        its tests and their rung, the DPRK's step and the relief standing after it, whether a
        moratorium held when the week's tests were drawn and after the week, and whether the DPRK
        refused a standing US offer of talks."""
        summit = np.asarray(summit)
        reached = np.stack(
            np.broadcast_arrays(
                stage_after == INTER_KOREAN,
                (stage_after == PRELIMINARY) | (stage_after == NEGOTIATIONS),
                summit != SUMMIT_NONE,
                summit == SUMMIT_DEAL,
                tests > 0,
                summit == SUMMIT_STATEMENT,
                np.asarray(moratorium_after, dtype=bool),
            )
        )
        self.first_weeks = np.where(np.isnan(self.first_weeks) & reached, float(week), self.first_weeks)
        self.first_test_after_failure = np.where(
            np.isnan(self.first_test_after_failure) & ~np.isnan(self.failure_week) & (tests > 0),
            float(week),
            self.first_test_after_failure,
        )
        self.failure_week = np.where(
            np.isnan(self.failure_week) & (summit == SUMMIT_FAILED), float(week), self.failure_week
        )
        ended = (stage_before != NO_TALKS) & (stage_after == NO_TALKS)
        self.talks_collapsed = self.talks_collapsed | (ended & self.talks_began)
        self.talks_began = self.talks_began | (stage_after == PRELIMINARY) | (stage_after == NEGOTIATIONS)
        self.collapses = self.collapses + ended
        self.suspensions = self.suspensions + ((stage_after == SUSPENDED_TALKS) & (stage_before != SUSPENDED_TALKS))
        self.steps = np.maximum(self.steps, step)
        self.relief = np.asarray(relief, dtype=float) + np.zeros_like(self.relief)
        self.by_rung = self.by_rung + (self._rungs == rung) * tests
        self.highest_rung = np.where(tests > 0, np.maximum(self.highest_rung, rung), self.highest_rung)
        self.summits = self.summits + (summit != SUMMIT_NONE)
        self.under_moratorium = self.under_moratorium + (np.asarray(moratorium_before, dtype=bool) & (rung < 4)) * tests
        self.refused = self.refused + np.asarray(refused, dtype=bool)

    def result(self, finals: dict[str, Any]) -> dict[str, np.ndarray]:
        """Outcomes as a dict of arrays (0-d for one run), in :data:`OUTCOME_COLUMNS` order.

        ``finals`` gives the ``final_*`` state values.
        """
        weeks = dict(zip(self._FIRST, self.first_weeks, strict=True))
        out: dict[str, Any] = {
            "talks": ~np.isnan(weeks["talks_week"]),
            "talks_week": weeks["talks_week"],
            "inter_korean_talks": ~np.isnan(weeks["inter_korean_week"]),
            "inter_korean_week": weeks["inter_korean_week"],
            "summit": ~np.isnan(weeks["summit_week"]),
            "summit_week": weeks["summit_week"],
            "deal": ~np.isnan(weeks["deal_week"]),
            "deal_week": weeks["deal_week"],
            "summit_failed": ~np.isnan(self.failure_week),
            "statement": ~np.isnan(weeks["statement_week"]),
            "statement_week": weeks["statement_week"],
            "summits": self.summits,
            "suspensions": self.suspensions,
            "talks_collapsed": self.talks_collapsed,
            "collapses": self.collapses,
            "steps": self.steps,
            "relief": self.relief,
            "tests": self.by_rung.sum(axis=0),
            "launches": self.by_rung[:4].sum(axis=0),
            **{name: self.by_rung[i] for i, name in enumerate(_RUNG_COLUMNS)},
            "strategic_tests": self.by_rung[3:].sum(axis=0),
            "substrategic_tests": self.by_rung[:3].sum(axis=0),
            "tests_under_moratorium": self.under_moratorium,
            "moratorium_week": weeks["moratorium_week"],
            "talks_refused": self.refused,
            "highest_rung": self.highest_rung,
            "first_test_week": weeks["first_test_week"],
            "first_test_after_failure_week": self.first_test_after_failure,
        }
        for column in FINAL_STATE_COLUMNS:
            out[column] = np.asarray(finals[column], dtype=float)
        return {c: np.asarray(out[c]).astype(OUTCOME_COLUMNS[c], copy=False) for c in OUTCOME_COLUMNS}


def as_python(outcomes: dict[str, np.ndarray]) -> dict[str, Any]:
    """One run's outcomes as plain Python values (bool, int, float; NaN for weeks not reached)."""
    return {k: np.asarray(v).item() for k, v in outcomes.items()}


FROM_TRAJECTORY = [
    c for c in OUTCOME_COLUMNS if (c not in FINAL_STATE or FINAL_STATE[c] in SERIES) and c != "talks_refused"
]
"""Outcomes that :func:`outcomes_from_trajectory` can rebuild from the weekly series alone
(not the ``final_*`` values whose quantity is not a weekly series, such as the ROK's, China's and
Japan's final trust, nor ``talks_refused``, which reads the two sides' utilities)."""


def outcomes_from_trajectory(trajectory, initial_stage: int = 0, initial_moratorium: bool = False) -> dict[str, Any]:
    """Rebuild a run's outcomes from its weekly series (a DataFrame with ``week`` and the
    series of :data:`model.week.SERIES`, one row per week from week 1), by replaying them
    through :class:`OutcomeTally`; ``initial_stage`` is the run's talks stage at week 0 (its
    ``initial_stage`` parameter) and ``initial_moratorium`` whether a moratorium held then. An
    independent check on the outcome bookkeeping, and the
    way to read outcomes out of tools that only keep the series (such as ``mesa.batch_run``)."""
    frame = trajectory.sort_values("week")
    tally = OutcomeTally(initial_stage=initial_stage, initial_moratorium=initial_moratorium)
    stage_before, moratorium_before = int(initial_stage), bool(initial_moratorium)
    columns = ["week", "talks_stage", "summit", "tests", "test_rung", "dprk_step", "relief", "moratorium"]
    for week, stage, summit, tests, rung, step, relief, moratorium in frame[columns].itertuples(index=False):
        tally.record(
            int(week),
            stage_before,
            int(stage),
            int(summit),
            int(tests),
            int(rung),
            int(step),
            float(relief),
            moratorium_before,
            bool(moratorium),
        )
        stage_before, moratorium_before = int(stage), bool(moratorium)
    last = frame.iloc[-1]
    finals = {name: (last[quantity] if quantity in SERIES else np.nan) for name, quantity in FINAL_STATE.items()}
    out = as_python(tally.result(finals))
    return {c: out[c] for c in FROM_TRAJECTORY}
