"""Outcomes of a run: what the experiments measure, tallied week by week.

:class:`OutcomeTally` works on numpy scalars (one Mesa run) and on arrays (replicates in the
batched engine) alike, so both engines define an outcome in one place. The columns and their
types are fixed by :data:`OUTCOME_COLUMNS`; weeks of events that did not happen within the
horizon are NaN, never a sentinel number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import INTER_KOREAN, NEGOTIATIONS, PRELIMINARY
from .week import FINAL_STATE, SERIES

OUTCOME_COLUMNS: dict[str, str] = {
    "talks": "bool",                    # US-DPRK preliminary talks began (stage >= 2 reached)
    "talks_week": "float64",            # first week of US-DPRK talks (NaN if none)
    "inter_korean_talks": "bool",       # inter-Korean contact happened (stage 1 reached)
    "inter_korean_week": "float64",     # first week of inter-Korean contact (NaN if none)
    "negotiations": "bool",             # substantive negotiations reached (stage 3)
    "negotiations_week": "float64",     # first week of substantive negotiations (NaN if none)
    "talks_collapsed": "bool",          # US-DPRK talks began and later collapsed
    "collapses": "int64",               # collapses of talks at any stage >= 1
    "tests": "int64",                   # all test events (launch days and nuclear tests)
    "launches": "int64",                # missile and space launch events (rungs 1-3)
    "tests_short_range": "int64",       # rung 1
    "tests_intermediate": "int64",      # rung 2
    "tests_icbm": "int64",              # rung 3 (ICBM, SLBM, space launch)
    "nuclear_tests": "int64",           # rung 4
    "highest_rung": "int64",            # highest rung tested within the horizon (0: no test)
    "first_test_week": "float64",       # first week with a test (NaN if none)
    **{name: "float64" for name in FINAL_STATE},  # the state after the last week (model/week.py)
}
"""Every outcome column and its dtype, identical for both engines."""

FINAL_STATE_COLUMNS = list(FINAL_STATE)
_RUNG_COLUMNS = ("tests_short_range", "tests_intermediate", "tests_icbm", "nuclear_tests")


class OutcomeTally:
    """Running tally of one run's (or many runs') events.

    Call :meth:`record` once per week with the week's talks stage, whether talks collapsed, the
    stage before the week, the number of tests and their rung; :meth:`result` returns the
    outcomes given the final state.
    """

    _FIRST = ("inter_korean_week", "talks_week", "negotiations_week", "first_test_week")
    _RUNG_NUMBERS = np.arange(1, 5)

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.first_weeks = np.full((4, *shape), np.nan)  # rows in the order of _FIRST
        self.talks_collapsed = np.zeros(shape, dtype=bool)
        self.collapses = np.zeros(shape, dtype=np.int64)
        self.by_rung = np.zeros((4, *shape), dtype=np.int64)
        self.highest_rung = np.zeros(shape, dtype=np.int64)
        self._rungs = self._RUNG_NUMBERS.reshape((4,) + (1,) * len(shape))

    def record(self, week: int, stage_before, stage_after, collapsed, tests, rung) -> None:
        """Tally one week (``week`` is 1-based)."""
        reached = np.stack(np.broadcast_arrays(
            stage_after == INTER_KOREAN, stage_after >= PRELIMINARY, stage_after == NEGOTIATIONS, tests > 0,
        ))
        self.first_weeks = np.where(np.isnan(self.first_weeks) & reached, float(week), self.first_weeks)
        self.talks_collapsed = self.talks_collapsed | (collapsed & (stage_before >= PRELIMINARY))
        self.collapses = self.collapses + collapsed
        self.by_rung = self.by_rung + (self._rungs == rung) * tests
        self.highest_rung = np.where(tests > 0, np.maximum(self.highest_rung, rung), self.highest_rung)

    def result(self, finals: dict[str, Any]) -> dict[str, np.ndarray]:
        """Outcomes as a dict of arrays (0-d for one run), in :data:`OUTCOME_COLUMNS` order.

        ``finals`` gives the ``final_*`` state values.
        """
        weeks = dict(zip(self._FIRST, self.first_weeks))
        out: dict[str, Any] = {
            "talks": ~np.isnan(weeks["talks_week"]),
            "talks_week": weeks["talks_week"],
            "inter_korean_talks": ~np.isnan(weeks["inter_korean_week"]),
            "inter_korean_week": weeks["inter_korean_week"],
            "negotiations": ~np.isnan(weeks["negotiations_week"]),
            "negotiations_week": weeks["negotiations_week"],
            "talks_collapsed": self.talks_collapsed,
            "collapses": self.collapses,
            "tests": self.by_rung.sum(axis=0),
            "launches": self.by_rung[:3].sum(axis=0),
            **{name: self.by_rung[i] for i, name in enumerate(_RUNG_COLUMNS)},
            "highest_rung": self.highest_rung,
            "first_test_week": weeks["first_test_week"],
        }
        for column in FINAL_STATE_COLUMNS:
            out[column] = np.asarray(finals[column], dtype=float)
        return {c: np.asarray(out[c]).astype(OUTCOME_COLUMNS[c], copy=False) for c in OUTCOME_COLUMNS}


def as_python(outcomes: dict[str, np.ndarray]) -> dict[str, Any]:
    """One run's outcomes as plain Python values (bool, int, float; NaN for weeks not reached)."""
    return {k: np.asarray(v).item() for k, v in outcomes.items()}


FROM_TRAJECTORY = [c for c in OUTCOME_COLUMNS if c not in FINAL_STATE or FINAL_STATE[c] in SERIES]
"""Outcomes that :func:`outcomes_from_trajectory` can rebuild from the weekly series alone
(the ``final_*`` values whose quantity is not a weekly series, such as the ROK's, China's and
Japan's final trust, are not)."""


def outcomes_from_trajectory(trajectory) -> dict[str, Any]:
    """Rebuild a run's outcomes from its weekly series (a DataFrame with ``week`` and the
    series of :data:`model.week.SERIES`, one row per week from week 1), by replaying them
    through :class:`OutcomeTally`. An independent check on the outcome bookkeeping, and the
    way to read outcomes out of tools that only keep the series (such as ``mesa.batch_run``)."""
    frame = trajectory.sort_values("week")
    tally = OutcomeTally()
    stage_before = 0
    for week, stage, tests, rung in frame[["week", "talks_stage", "tests", "test_rung"]].itertuples(index=False):
        collapsed = stage_before >= INTER_KOREAN and stage == 0
        tally.record(int(week), stage_before, int(stage), collapsed, int(tests), int(rung))
        stage_before = int(stage)
    last = frame.iloc[-1]
    finals = {name: (last[quantity] if quantity in SERIES else np.nan) for name, quantity in FINAL_STATE.items()}
    out = as_python(tally.result(finals))
    return {c: out[c] for c in FROM_TRAJECTORY}
