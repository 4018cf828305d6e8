"""The levers, as a schedule by week, and the rule that turns an exercise policy into the
exercise actually held.

A :class:`LeverSchedule` gives, for each week, what the policies set exogenously:

* ``standard_exercise`` -- exercise intensity in the standard calendar (what the DPRK expects);
* ``scheduled_exercise`` -- intensity as scheduled after a ``delayed`` policy's postponement;
* ``exercise_policy`` -- integer code of the exercise policy (index in ``EXERCISE_POLICIES``);
* ``exercise_scale`` -- intensity kept under ``scaled_down``;
* ``pressure_first`` -- 1 under the ``pressure_first`` stance, 0 under ``pressure_and_engagement``;
* ``rok_mediation`` -- South Korea's mediation effort (0-1);
* ``announced_packages`` -- sanctions packages announced exogenously that week (the spoiler);
* ``sanctions_floor`` -- a level the sanctions are raised to that week (NaN: none);
* ``endogenous_sanctions`` -- 1 when the US answers major tests with new packages (the
  ``endogenous_sanctions`` lever), 0 when it does not or a historical scenario dictates the sanctions;
* ``relief_all_at_end`` -- 1 when relief comes only at full denuclearisation
  (``relief_sequencing = "all_at_end"``), 0 step for step;
* ``forced_event`` -- a talks event forced that week, for historical scenarios (0 none,
  1 inter-Korean contact, 2 US-DPRK talks, 3 a summit whose outcome the model decides,
  4 a summit deal, 5 a summit without a deal, 6 talks suspended, 7 resumed, 8 ended; the
  codes are :data:`model.rules.EVENT_NONE` ...).

The policy sweep builds the schedule from the parameters (:meth:`LeverSchedule.from_params`);
a historical scenario builds it by date (``experiments/history.py``). Both engines read the
same arrays, so a schedule means the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .calendar import ExerciseCalendar
from .params import ENGAGEMENT_STANCES, EXERCISE_POLICIES, Params
from .rules import NEGOTIATIONS, PRELIMINARY, where

AS_SCHEDULED, SCALED_DOWN, DELAYED, SUSPENDED_DURING_TALKS, SUSPENDED, DUAL_SUSPENSION = range(len(EXERCISE_POLICIES))
PRESSURE_FIRST, PRESSURE_AND_ENGAGEMENT = range(len(ENGAGEMENT_STANCES))

SCHEDULE_FIELDS: tuple[str, ...] = (
    "standard_exercise",
    "scheduled_exercise",
    "exercise_policy",
    "exercise_scale",
    "pressure_first",
    "rok_mediation",
    "announced_packages",
    "sanctions_floor",
    "endogenous_sanctions",
    "relief_all_at_end",
    "forced_event",
)


def exercise_policy_code(name: str) -> int:
    """Integer code of an exercise policy name."""
    return EXERCISE_POLICIES.index(name)


def held_exercise(scheduled, policy, stage, scale, moratorium=False, relief=0.0):
    """Intensity of the exercise actually held this week under an exercise policy.

    ``as_scheduled`` and ``delayed`` hold what is scheduled (a delay has already moved the
    calendar); ``scaled_down`` holds ``scale * x``; ``suspended`` holds nothing;
    ``suspended_during_talks`` holds nothing while US-DPRK talks are under way (stage 2 or 3 at
    the start of the week; as UFG 2018 was suspended after the Singapore summit);
    ``dual_suspension`` holds nothing while the DPRK's test moratorium holds (China's "freeze
    for freeze"). Relief granted by the US includes exercise concessions: what is held is
    multiplied by ``1 - relief``.
    """
    held = where(policy == SCALED_DOWN, scheduled * scale, scheduled)
    talks = (stage == PRELIMINARY) | (stage == NEGOTIATIONS)
    off = (
        (policy == SUSPENDED)
        | ((policy == SUSPENDED_DURING_TALKS) & talks)
        | ((policy == DUAL_SUSPENSION) & moratorium)
    )
    return where(off, 0.0, held * (1.0 - relief))


def forgone_exercise(standard, held):
    """Intensity of the standard calendar's exercise that was not held this week:
    ``max(x_standard - x_held, 0)`` -- the costly signal a delay, scaling down or suspension sends."""
    return np.maximum(standard - held, 0.0)


def apply_sanctions_floor(level, floor):
    """Sanctions level after a scheduled floor: ``max(s, floor)``, unchanged where the floor is NaN
    (``np.fmax`` ignores NaN); pressure never comes off."""
    return np.fmax(level, floor)


@dataclass
class LeverSchedule:
    """Levers by week (index 0 is week 1). Arrays grow on demand through :meth:`arrays`."""

    params: Params
    calendar: ExerciseCalendar
    overrides: Any = None  # a callable weeks -> dict of arrays, for historical scenarios
    _cache: dict[str, np.ndarray] | None = None

    @classmethod
    def from_params(cls, params: Params) -> LeverSchedule:
        """The schedule a policy sweep uses: constant levers and the standard calendar."""
        delay = params.exercise_delay_weeks if params.exercise_policy == "delayed" else 0
        return cls(params, ExerciseCalendar(params.start_date, delay))

    def arrays(self, weeks: int) -> dict[str, np.ndarray]:
        """Every schedule field for weeks 1..weeks, as arrays of length ``weeks``."""
        p = self.params
        standard, scheduled = self.calendar.arrays(weeks)
        announced = np.zeros(weeks, dtype=np.int64)
        if 1 <= p.spoiler_week <= weeks:
            announced[p.spoiler_week - 1] = 1
        out = {
            "standard_exercise": standard,
            "scheduled_exercise": scheduled,
            "exercise_policy": np.full(weeks, exercise_policy_code(p.exercise_policy), dtype=np.int64),
            "exercise_scale": np.full(weeks, float(p.exercise_scale)),
            "pressure_first": np.full(weeks, float(p.engagement_stance == "pressure_first")),
            "rok_mediation": np.full(weeks, float(p.rok_mediation)),
            "announced_packages": announced,
            "sanctions_floor": np.full(weeks, np.nan),
            "endogenous_sanctions": np.full(weeks, float(p.endogenous_sanctions)),
            "relief_all_at_end": np.full(weeks, float(p.relief_sequencing == "all_at_end")),
            "forced_event": np.zeros(weeks, dtype=np.int64),
        }
        if self.overrides is not None:
            out.update(self.overrides(weeks))
        return out

    def week(self, w: int) -> dict[str, Any]:
        """The levers of week ``w`` (1-based) as a dict of scalars (arrays cached, grown by doubling)."""
        if self._cache is None or len(self._cache["forced_event"]) < w:
            cached = 0 if self._cache is None else len(self._cache["forced_event"])
            self._cache = self.arrays(max(w, 2 * cached, 64))
        return {k: v[w - 1] for k, v in self._cache.items()}
