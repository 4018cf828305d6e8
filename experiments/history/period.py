"""A historical period as the model runs it: the levers by week, the forced events, the chain of
periods a continued scenario runs through. Read from a scenario file by
:func:`experiments.history.scenario.load_scenario`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model import rules
from model.batched import BatchResult, Trajectories, simulate_points
from model.calendar import Exercise, weekly_intensity
from model.params import Params
from model.policies import LeverSchedule, exercise_policy_code

SUMMIT_OUTCOMES = {
    "deal": rules.EVENT_SUMMIT_DEAL,
    "no_deal": rules.EVENT_SUMMIT_NO_DEAL,
    "statement": rules.EVENT_SUMMIT_STATEMENT,
    "failed": rules.EVENT_SUMMIT_FAILED,
}
"""A ``summit`` event's optional ``outcome`` and the forced event it makes (none: the model decides;
``no_deal``: the model decides between a statement and a failure)."""
EVENT_KINDS = {
    "inter_korean_talks": rules.EVENT_CONTACT,
    "us_dprk_talks": rules.EVENT_TALKS,
    "summit": rules.EVENT_SUMMIT,
    "summit_deal": rules.EVENT_SUMMIT_DEAL,
    "summit_no_deal": rules.EVENT_SUMMIT_NO_DEAL,
    "summit_statement": rules.EVENT_SUMMIT_STATEMENT,
    "summit_failed": rules.EVENT_SUMMIT_FAILED,
    "talks_suspended": rules.EVENT_SUSPENDED,
    "talks_resumed": rules.EVENT_RESUMED,
    "talks_ended": rules.EVENT_ENDED,
}
"""``[[events]]`` kinds and their codes in the lever schedule's ``forced_event`` (a summit's
outcome is the model's under ``summit``, forced under ``summit_deal``, ``summit_statement`` and
``summit_failed``; under ``summit_no_deal`` the model decides between a statement and a failure)."""
DATED_LEVERS = ("engagement_stance", "rok_mediation", "exercise_policy", "exercise_scale", "endogenous_sanctions")


@dataclass(frozen=True)
class SanctionsStep:
    date: dt.date
    level: float | None
    announce: bool
    label: str


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``weeks`` weeks from ``start`` cover the days up to ``end``."""

    name: str
    start: dt.date
    end: dt.date
    params: Params
    levers: list[tuple[dt.date, dict[str, Any]]] = field(default_factory=list)
    sanctions: list[SanctionsStep] = field(default_factory=list)
    exercises: list[Exercise] = field(default_factory=list)
    standard: list[Exercise] = field(default_factory=list)
    events: list[tuple[dt.date, int]] = field(default_factory=list)
    endogenous_sanctions: bool = False
    record: Path | None = None
    description: str = ""
    source: str = "<scenario>"
    overrides: dict[str, Any] = field(default_factory=dict)  # the scenario's own [params] (and start date)
    notes: tuple[str, ...] = ()  # entries outside the scenario's dates, and what was done with them
    continue_from: Scenario | None = None  # the earlier period whose replayed state this one starts from
    terminated: dict[str, dt.date] = field(default_factory=dict)  # exercise name -> off the calendar from

    @property
    def lead_weeks(self) -> int:
        """Weeks the earlier period (``continue_from``) runs before this one starts: the whole
        weeks from its start to this start (0 without ``continue_from``)."""
        if self.continue_from is None:
            return 0
        return (self.start - self.continue_from.start).days // 7

    @property
    def chain(self) -> list[Scenario]:
        """The periods this one continues, earliest first, then this one."""
        return [*(self.continue_from.chain if self.continue_from is not None else []), self]

    @property
    def weeks(self) -> int:
        return (self.end - self.start).days // 7 + 1

    def week_of(self, date: dt.date) -> int:
        """The 1-based week that contains ``date``."""
        return (date - self.start).days // 7 + 1

    def week_starts(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=7 * w) for w in range(self.weeks)]

    def with_params(self, params: Params) -> Scenario:
        """The same scenario starting from other parameter values (its own [params] still apply on
        top; a continued scenario passes them to the period it continues, and takes that
        period's levers as they stand at its start)."""
        if self.continue_from is None:
            return replace(self, params=params.replace(**self.overrides))
        earlier = self.continue_from.with_params(params)
        carried, _ = earlier.carried_into(self.start)
        return replace(self, continue_from=earlier, params=earlier.params.replace(**{**carried, **self.overrides}))

    def simulate(
        self,
        seeds: np.ndarray,
        weeks: int | None = None,
        points: list[Params] | None = None,
        point_index: np.ndarray | None = None,
        trajectories: Trajectories = False,
        keep_state: bool = False,
    ) -> BatchResult:
        """Run one run per seed over this scenario's ``weeks`` (default: all of it) on the
        batched engine; run ``i`` uses the parameters ``points[point_index[i]]`` (default: the
        scenario's own, :meth:`with_params` applies them).

        A scenario that continues another (``continue_from``) first runs that one, and the
        periods before it, with the same seeds and parameters up to its start, and starts each
        run from the whole state its run reaches there; the random numbers go on where those
        runs stopped, so the chain is the same run as one over all periods' levers."""
        variants = [self] if points is None else [self.with_params(q) for q in points]
        index = np.zeros(len(seeds), dtype=np.intp) if point_index is None else np.asarray(point_index)
        return _simulate_chain(
            variants, index, seeds, self.weeks if weeks is None else weeks, trajectories, keep_state
        )[0]

    def carried_into(self, date: dt.date) -> tuple[dict[str, Any], bool]:
        """What a period continuing this one from ``date`` starts with: the lever parameters as
        they stand then, and whether the sanctions are endogenous (a scenario field, not a parameter)."""
        levers = self.levers_on(date)
        return levers, levers.pop("endogenous_sanctions")

    def levers_on(self, date: dt.date) -> dict[str, Any]:
        """The dated levers (:data:`DATED_LEVERS`) as they stand on ``date``: this scenario's
        parameters with every ``[[levers]]`` entry dated up to it applied (a later period that
        continues this one starts with them)."""
        p = self.params
        values: dict[str, Any] = {k: p[k] for k in DATED_LEVERS if k != "endogenous_sanctions"}
        values["endogenous_sanctions"] = self.endogenous_sanctions
        for when, changes in self.levers:
            if when <= date:
                values.update(changes)
        return values

    def schedule(self) -> LeverSchedule:
        """The levers by week, for either engine."""
        base = LeverSchedule.from_params(self.params)
        return LeverSchedule(self.params, base.calendar, overrides=self.lever_arrays)

    def lever_arrays(self, weeks: int) -> dict[str, np.ndarray]:
        """Every schedule field for weeks 1..weeks (weeks past ``end`` keep the last values)."""
        p = self.params
        standard = weekly_intensity(self.standard, self.start, weeks)
        scheduled = weekly_intensity(self.exercises, self.start, weeks)
        values = {
            "engagement_stance": p.engagement_stance,
            "rok_mediation": p.rok_mediation,
            "exercise_policy": p.exercise_policy,
            "exercise_scale": p.exercise_scale,
            "endogenous_sanctions": self.endogenous_sanctions,
        }
        per_week: dict[str, list[Any]] = {k: [] for k in values}
        changes = list(self.levers)
        for w in range(weeks):
            week_end = self.start + dt.timedelta(days=7 * w + 6)
            while changes and changes[0][0] <= week_end:
                values.update(changes.pop(0)[1])
            for k, v in values.items():
                per_week[k].append(v)
        announced = np.zeros(weeks, dtype=np.int64)
        floor = np.full(weeks, np.nan)
        for step in self.sanctions:
            w = self.week_of(step.date) - 1
            if w >= weeks:
                continue
            if w >= 0:  # a step before the start only sets the level the scenario starts from
                announced[w] += step.announce
            if step.level is not None:
                floor[max(w, 0) :] = np.fmax(floor[max(w, 0) :], step.level)
        forced = np.zeros(weeks, dtype=np.int64)
        for w, code in event_weeks(self.events, self.start):
            if w < weeks:
                forced[w] = code
        return {
            "standard_exercise": standard,
            "scheduled_exercise": scheduled,
            "exercise_policy": np.array([exercise_policy_code(v) for v in per_week["exercise_policy"]], dtype=np.int64),
            "exercise_scale": np.array(per_week["exercise_scale"], dtype=float),
            "pressure_first": np.array([float(v == "pressure_first") for v in per_week["engagement_stance"]]),
            "rok_mediation": np.array(per_week["rok_mediation"], dtype=float),
            "announced_packages": announced,
            "sanctions_floor": floor,
            "endogenous_sanctions": np.array(per_week["endogenous_sanctions"], dtype=float),
            "forced_event": forced,
        }


def event_weeks(events: list[tuple[dt.date, int]], start: dt.date) -> list[tuple[int, int]]:
    """``(week index, code)`` of each forced event, in date order (the file's order within a
    date): an event whose week is already taken by an earlier one moves to the next free week,
    so a summit that fails and the suspension the next day both happen, in that order."""
    taken: set[int] = set()
    placed = []
    for date, code in sorted(events, key=lambda e: e[0]):  # stable: the file's order within a date
        w = max((date - start).days // 7, 0)
        while w in taken:
            w += 1
        taken.add(w)
        placed.append((w, code))
    return placed


def place_events(
    events: list[tuple[dt.date, int]], start: dt.date, weeks: int
) -> tuple[list[tuple[dt.date, int]], tuple[str, ...]]:
    """The events that find a week inside a period of ``weeks`` weeks, in date order, and a note
    for those moved to a later week and for those dropped (their week taken and no free week
    left before the end): an event is never dropped in silence."""
    ordered = sorted(events, key=lambda e: e[0])
    kept, moved, dropped = [], [], []
    for (date, code), (w, _) in zip(ordered, event_weeks(ordered, start), strict=True):
        kind = next(k for k, c in EVENT_KINDS.items() if c == code)
        if w >= weeks:
            dropped.append(f"{date} ({kind})")
            continue
        kept.append((date, code))
        if w != max((date - start).days // 7, 0):
            moved.append(f"{date} ({kind}) to the week of {start + dt.timedelta(weeks=w)}")
    notes = []
    if moved:
        notes.append(
            f"[[events]] in a week already taken by an earlier event move to the next free week: {'; '.join(moved)}"
        )
    if dropped:
        notes.append(
            f"[[events]] dropped, their week taken by an earlier event and no free week left (the last simulated "
            f"week ends {start + dt.timedelta(weeks=weeks, days=-1)}): {'; '.join(dropped)}; end the scenario later "
            "to keep them"
        )
    return kept, tuple(notes)


def _simulate_chain(
    variants: list[Scenario],
    index: np.ndarray,
    seeds: np.ndarray,
    weeks: int,
    trajectories: Trajectories,
    keep_state: bool,
) -> tuple[BatchResult, int]:
    """Run ``variants`` (one scenario under several parameter sets) after the periods they
    continue; returns the result and the run's next week."""
    head, start, first_week = variants[0], None, 1
    if head.continue_from is not None:
        earlier = [v.continue_from for v in variants if v.continue_from is not None]
        before, first_week = _simulate_chain(earlier, index, seeds, head.lead_weeks, False, True)
        start = before.state
    result = simulate_points(
        [v.params for v in variants],
        index,
        seeds,
        weeks,
        [v.schedule() for v in variants],
        trajectories=trajectories,
        start=start,
        first_week=first_week,
        keep_state=keep_state,
    )
    return result, first_week + weeks
