"""Historical scenarios: the levers set by date over a date range (TOML).

A scenario replays a period: the sanctions level as a schedule (e.g. the UNSC resolutions'
dates), the exercise calendar as held, delayed, scaled down or suspended, changes of
engagement stance and of South Korean mediation, and optional forced events::

    [scenario]
    name = "history_2016_2018"
    start = 2016-01-04              # first simulated week starts here (any date)
    end = 2018-12-31                # last day covered
    record = "../../data/dprk_monthly_2016_2018.csv"   # optional default record, relative to this file
    endogenous_sanctions = false    # the schedule below dictates sanctions (default false)

    [params]                        # fixed parameter values for the replay (validated)
    sanctions_level = 0.0

    [[levers]]                      # from this date on (dates in order)
    date = 2016-01-04
    engagement_stance = "pressure_first"
    rok_mediation = 0.1

    [[sanctions]]                   # dates in order; level: raise sanctions to at least this
    date = 2016-03-02
    level = 0.1
    label = "UNSCR 2270"            # announce = true (default): a new package (reactance, signal)

    [[exercises]]                   # change a standard exercise of a year ...
    name = "Foal Eagle"
    year = 2018
    status = "delayed"              # held | delayed | scaled_down | suspended
    delay_weeks = 4
    days = 28                       # optional new length; `scale` optional new intensity share

    [[exercises]]                   # ... move a year's instance to a date (earlier or later) ...
    name = "Key Resolve"
    year = 2019
    start = 2019-02-11

    [[exercises]]                   # ... take it off the calendar from a date on (both the
    name = "Foal Eagle"             # calendar expected and the one held: no signal each year)
    terminated = 2019-03-02

    [[exercises]]                   # ... or add one
    name = "Max Thunder"
    start = 2018-05-11
    days = 14
    intensity = 0.5

    [[events]]                      # force a talks event in that week
    date = 2018-06-12
    kind = "summit"                 # inter_korean_talks | us_dprk_talks | summit |
    outcome = "deal"                # talks_suspended | talks_resumed | talks_ended;
                                    # a summit's outcome "deal" | "no_deal" (none: the model's)

``[scenario] continue_from = "earlier.toml"`` (relative to this file) makes a period that
continues another: :meth:`Scenario.simulate` runs the earlier one (and its own chain) first and
starts each run from the whole state its run reaches (:meth:`model.batched.BatchedEngine.state`),
with the earlier period's parameters, levers as they stand at the start, and terminated
exercises; the random numbers go on where they stopped, so the chain is one run.

Entries dated outside ``start``..``end`` are allowed, so a scenario can be cut to a sub-period
by changing its dates: those before the start set the levers it starts with (the last lever
settings, the highest sanctions level reached); their announcements, events and exercises are
ignored, as is everything after the end. An exercise change counts when the exercise as
planned or as changed overlaps the period; one entry per exercise and year. The state in
``[params]`` (stress, threat, progress, alignment, trust) is not carried: set it for the new
start (:func:`experiments.history.posterior.start_state` gives a replay's median state on a date).
:attr:`Scenario.notes` says what was carried or ignored (the command line prints it). Every problem is a one-line
:class:`~experiments.errors.UserError` naming the file, the entry and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model import rules
from model.batched import BatchResult, simulate_points
from model.calendar import (
    Exercise,
    exercises_in_year,
    standard_exercises,
    weekly_intensity,
)
from model.params import DATE_RANGE, TABLE, ParameterError, Params, closest_name
from model.policies import LeverSchedule, exercise_policy_code
from model.week import START_PARAMETERS

from ..errors import UserError
from ..io import read_toml

EXERCISE_STATUSES = ("held", "delayed", "scaled_down", "suspended")
SUMMIT_OUTCOMES = {"deal": rules.EVENT_SUMMIT_DEAL, "no_deal": rules.EVENT_SUMMIT_NO_DEAL}
"""A ``summit`` event's optional ``outcome`` and the forced event it makes (none: the model decides)."""
EVENT_KINDS = {
    "inter_korean_talks": rules.EVENT_CONTACT,
    "us_dprk_talks": rules.EVENT_TALKS,
    "summit": rules.EVENT_SUMMIT,
    "summit_deal": rules.EVENT_SUMMIT_DEAL,
    "summit_no_deal": rules.EVENT_SUMMIT_NO_DEAL,
    "talks_suspended": rules.EVENT_SUSPENDED,
    "talks_resumed": rules.EVENT_RESUMED,
    "talks_ended": rules.EVENT_ENDED,
}
"""``[[events]]`` kinds and their codes in the lever schedule's ``forced_event`` (a summit's
outcome is the model's under ``summit``, forced under ``summit_deal`` and ``summit_no_deal``)."""
DATED_LEVERS = ("engagement_stance", "rok_mediation", "exercise_policy", "exercise_scale", "endogenous_sanctions")
STANDARD_EXERCISES = ("Foal Eagle", "Key Resolve", "Ulchi Freedom Guardian", "Vigilant Ace")
_TABLES = ("scenario", "params", "levers", "sanctions", "exercises", "events")
_HEAD_KEYS = ("name", "description", "start", "end", "record", "endogenous_sanctions", "continue_from")
_EVENT_KEYS = ("date", "kind", "outcome", "label")
_ADDED_KEYS = ("name", "start", "days", "intensity", "label")
_CHANGED_KEYS = ("name", "year", "status", "delay_weeks", "days", "scale", "start", "label")


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
        trajectories: bool = False,
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
        per_week = {k: [] for k in values}
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
    variants: list[Scenario], index: np.ndarray, seeds: np.ndarray, weeks: int, trajectories: bool, keep_state: bool
) -> tuple[BatchResult, int]:
    """Run ``variants`` (one scenario under several parameter sets) after the periods they
    continue; returns the result and the run's next week."""
    head, start, first_week = variants[0], None, 1
    if head.continue_from is not None:
        before, first_week = _simulate_chain(
            [v.continue_from for v in variants], index, seeds, head.lead_weeks, False, True
        )
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


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    return parse_scenario(read_toml(path, "scenario"), source=str(path), base_dir=Path(path).parent)


def parse_scenario(
    data: dict[str, Any],
    source: str = "<scenario>",
    base_dir: Path | None = None,
    params: Params | None = None,
    _seen: tuple[Path, ...] = (),
) -> Scenario:
    """Validate a parsed scenario (see the module docstring). ``params``: parameter values to
    start from (default: the table's defaults); the scenario's [params] apply on top. A
    scenario that continues another (``continue_from``) starts from that one's parameters and
    levers instead."""

    def fail(message: str) -> UserError:
        return UserError(f"{source}: {message}")

    for table in data:
        if table not in _TABLES:
            raise fail(
                f"unknown table [{table}]{closest_name(table, _TABLES)}; allowed: "
                + ", ".join(f"[{t}]" for t in _TABLES)
            )
    for table in ("scenario", "params"):
        if table in data and not isinstance(data[table], dict):
            raise fail(f"[{table}] must be a table")
    head = data.get("scenario")
    if not isinstance(head, dict) or "name" not in head:
        raise fail("needs a [scenario] table with a name")
    start, end = _date(head.get("start"), "[scenario] start", fail), _date(head.get("end"), "[scenario] end", fail)
    if not start < end:
        raise fail(f"dates out of order: start {start} is not before end {end}")
    for key in head:
        if key not in _HEAD_KEYS:
            raise fail(
                f"unknown key '{key}' in [scenario]{closest_name(key, _HEAD_KEYS)}; allowed: {', '.join(_HEAD_KEYS)}"
            )
    for key in ("name", "description"):
        if key in head and not isinstance(head[key], str):
            raise fail(f"[scenario] {key} must be a string, got {head[key]!r}")

    overrides = dict(data.get("params", {}))
    earlier = _earlier_period(head, start, source, base_dir, params, _seen or (), fail)
    carried: dict[str, Any] = {}
    carried_endogenous = False
    if earlier is not None:
        state = sorted(set(overrides) & set(START_PARAMETERS))
        if state:
            raise fail(
                f"[params] {state[0]} sets the state at the start, but this scenario continues "
                f"{earlier.source} and starts from the state that replay reaches: remove it from [params]"
            )
    gap, origin = None, earlier
    if earlier is not None and (start - earlier.start).days // 7 > earlier.weeks:
        # A start after the earlier period's last week: the weeks between are this file's too
        # (its levers, terminations, exercises and events dated then), replayed as a bridge.
        bridge = {
            **head,
            "start": earlier.start + dt.timedelta(weeks=earlier.weeks),
            "end": start - dt.timedelta(days=1),
        }
        bridge.pop("record", None)
        gap = parse_scenario({**data, "scenario": bridge}, source, base_dir, params, _seen or ())
        origin, earlier = earlier, gap
    if earlier is not None:
        carried, carried_endogenous = earlier.carried_into(start)
    try:
        merged = (earlier.params if earlier is not None else (params or Params())).replace(**{**carried, **overrides})
    except ParameterError as error:
        raise fail(f"[params] {error}") from None
    merged = merged.replace(start_date=start.isoformat())

    carried_entries: Counter[str] = Counter()  # entries dated before the start that set the starting levers
    before: Counter[str] = Counter()  # other entries dated before the start: ignored
    after: Counter[str] = Counter()  # entries dated after the end: ignored

    def within(date: dt.date, what: str, carries: bool) -> bool:
        """Whether an entry dated ``date`` is kept: always inside the scenario; before the start
        when it ``carries`` state into it (a lever setting, a sanctions level); never after the end."""
        if date > end:
            after[what] += 1
            return False
        if date < start:
            (carried_entries if carries else before)[what] += 1
            return carries
        return True

    def in_order(dates: list[dt.date], what: str) -> None:
        for a, b in itertools.pairwise(dates):
            if b < a:
                raise fail(f"dates out of order in {what}: {b} comes after {a}")

    levers = []
    for i, entry in enumerate(_entries(data, "levers", fail)):
        date = _date(entry.get("date"), f"[[levers]] #{i + 1} date", fail)
        changes = {}
        for name, value in entry.items():
            if name == "date":
                continue
            if name not in DATED_LEVERS:
                raise fail(
                    f"[[levers]] '{name}' cannot change by date{closest_name(name, DATED_LEVERS)}; "
                    f"allowed: {', '.join(DATED_LEVERS)}"
                )
            if name == "endogenous_sanctions":
                if not isinstance(value, bool):
                    raise fail(f"[[levers]] endogenous_sanctions must be true or false, got {value!r}")
                changes[name] = value
                continue
            try:
                changes[name] = TABLE[name].coerce(value)
            except ParameterError as error:
                raise fail(f"[[levers]] {error}") from None
        levers.append((date, changes))
    in_order([d for d, _ in levers], "[[levers]]")
    levers = [(d, c) for d, c in levers if within(d, "[[levers]]", carries=True)]

    sanctions = []
    for i, entry in enumerate(_entries(data, "sanctions", fail)):
        date = _date(entry.get("date"), f"[[sanctions]] #{i + 1} date", fail)
        level = entry.get("level")
        if level is not None:
            try:
                level = TABLE["sanctions_level"].coerce(level)
            except ParameterError as error:
                raise fail(f"[[sanctions]] {date}: {error}") from None
        unknown = set(entry) - {"date", "level", "announce", "label"}
        if unknown:
            raise fail(f"[[sanctions]] unknown key '{sorted(unknown)[0]}'; allowed: date, level, announce, label")
        announce, label = entry.get("announce", True), entry.get("label", "")
        if not isinstance(announce, bool):  # "false" (a string) must not read as true
            raise fail(
                f"[[sanctions]] {date}: announce must be true or false (a TOML boolean, no quotes), got {announce!r}"
            )
        if not isinstance(label, str):
            raise fail(f"[[sanctions]] {date}: label must be a string, got {label!r}")
        sanctions.append(SanctionsStep(date, level, announce, label))
    in_order([s.date for s in sanctions], "[[sanctions]]")
    sanctions = [s for s in sanctions if within(s.date, "[[sanctions]]", carries=s.level is not None)]

    weeks = (end - start).days // 7 + 1
    standard = standard_exercises(start, weeks)

    def overlaps(planned: Exercise, held: Exercise | None) -> bool:
        """Whether an exercise entry counts inside the scenario (the exercise as planned or as held
        overlaps it); if not, it is noted as before the start or after the end."""
        if any(e is not None and e.start <= end and e.end > start for e in (planned, held)):
            return True
        (after if planned.start > end else before)["[[exercises]]"] += 1
        return False

    terminated = dict(earlier.terminated) if earlier is not None else {}
    entries = _entries(data, "exercises", fail)
    for entry in entries:
        if "terminated" in entry:
            name, date = _termination_entry(entry, fail)
            if name in terminated and terminated[name] != date:
                raise fail(f"[[exercises]] {name} is terminated twice ({terminated[name]} and {date}); give one date")
            terminated[name] = date
    standard = _without_terminated(standard, terminated)

    added, changed = [], {}
    for i, entry in enumerate(entries):
        if "terminated" in entry:
            continue
        kind, exercise, held = _exercise_entry(entry, i, fail)
        if kind == "added":
            if overlaps(exercise, held):
                added.append(exercise)
            continue
        key = (exercise.name, exercise.start.year)
        if exercise.name in terminated and exercise.start >= terminated[exercise.name]:
            raise fail(
                f"[[exercises]] {key[0]} {key[1]} is changed, but {key[0]} is off the calendar from "
                f"{terminated[key[0]]} (terminated); add a new exercise by its start date instead"
            )
        if key in changed:
            raise fail(f"[[exercises]] {key[0]} {key[1]} is changed twice; give one entry per exercise and year")
        changed[key] = held
        overlaps(exercise, held)  # kept either way: the change replaces the planned instance
    exercises = sorted(
        [
            *(e for e in standard if (e.name, e.start.year) not in changed),
            *(e for e in changed.values() if e is not None),
            *added,
        ],
        key=lambda e: e.start,
    )

    events = []
    for i, entry in enumerate(_entries(data, "events", fail)):
        date = _date(entry.get("date"), f"[[events]] #{i + 1} date", fail)
        code = _event_code(entry, date, fail)
        if within(date, "[[events]]", carries=False):
            events.append((date, code))
    events, event_notes = place_events(events, start, (end - start).days // 7 + 1)

    record = head.get("record")
    if record is not None and not isinstance(record, str):
        raise fail(f"[scenario] record must be a file name (a string), got {record!r}")
    record_path = (base_dir / record) if (record and base_dir is not None) else (Path(record) if record else None)
    endogenous = head.get("endogenous_sanctions", carried_endogenous)
    if not isinstance(endogenous, bool):
        raise fail(f"[scenario] endogenous_sanctions must be true or false, got {endogenous!r}")
    scenario = Scenario(
        name=str(head["name"]),
        start=start,
        end=end,
        params=merged,
        levers=levers,
        sanctions=sanctions,
        exercises=exercises,
        standard=standard,
        events=events,
        endogenous_sanctions=endogenous,
        record=record_path,
        description=str(head.get("description", "")),
        source=source,
        overrides={**overrides, "start_date": start.isoformat()},
        notes=_outside_notes(carried_entries, before, after, start, end, origin, gap) + event_notes,
        continue_from=earlier,
        terminated=terminated,
    )
    return scenario


def _earlier_period(
    head: dict[str, Any],
    start: dt.date,
    source: str,
    base_dir: Path | None,
    params: Params | None,
    seen: tuple[Path, ...],
    fail,
) -> Scenario | None:
    """The scenario named by ``[scenario] continue_from`` (a path relative to this file), read
    and checked: it must exist, start at least a week before this one, and not lead back here."""
    name = head.get("continue_from")
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise fail(f"[scenario] continue_from must be a scenario file name (a string), got {name!r}")
    path = (base_dir / name) if base_dir is not None else Path(name)
    here = Path(source).resolve() if base_dir is not None else None
    chain = (*seen, here) if here is not None else seen
    if path.resolve() in chain:
        raise fail(f"[scenario] continue_from {name!r} leads back to a scenario it continues (a loop)")
    if not path.is_file():
        raise fail(f"[scenario] continue_from: no scenario file {path} (the path is relative to this file)")
    data = read_toml(path, "scenario")
    earlier = parse_scenario(data, source=str(path), base_dir=path.parent, params=params, _seen=chain)
    if (start - earlier.start).days < 7:
        raise fail(
            f"[scenario] start {start} must be at least a week after the start {earlier.start} of the scenario it "
            f"continues ({path.name})"
        )
    return earlier


def _known_keys(entry: dict[str, Any], allowed: tuple[str, ...], what: str, fail, purpose: str = "") -> None:
    """A one-line error naming the first key of ``entry`` not in ``allowed`` (and the closest)."""
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        raise fail(
            f"{what}: unknown key '{unknown[0]}'{closest_name(unknown[0], allowed)}; "
            f"allowed{purpose}: {', '.join(allowed)}"
        )


def _event_code(entry: dict[str, Any], date: dt.date, fail) -> int:
    """The forced-event code of one ``[[events]]`` entry (a ``summit`` may force its outcome)."""
    _known_keys(entry, _EVENT_KEYS, f"[[events]] {date}", fail)
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in EVENT_KINDS:
        raise fail(
            f"[[events]] {date}: kind {kind!r} is not allowed{closest_name(str(kind), EVENT_KINDS)}: "
            f"allowed {', '.join(EVENT_KINDS)}"
        )
    if "label" in entry and not isinstance(entry["label"], str):
        raise fail(f"[[events]] {date}: label must be a string, got {entry['label']!r}")
    if "outcome" not in entry:
        return EVENT_KINDS[kind]
    outcome = entry["outcome"]
    if kind != "summit":
        raise fail(f'[[events]] {date}: outcome is for kind = "summit" only, not {kind!r}')
    if not isinstance(outcome, str) or outcome not in SUMMIT_OUTCOMES:
        raise fail(
            f"[[events]] {date}: summit outcome {outcome!r} is not allowed"
            f"{closest_name(str(outcome), SUMMIT_OUTCOMES)}: allowed {', '.join(SUMMIT_OUTCOMES)} "
            "(leave it out to let the model decide)"
        )
    return SUMMIT_OUTCOMES[outcome]


def _termination_entry(entry: dict[str, Any], fail) -> tuple[str, dt.date]:
    """``(name, date)`` of an ``[[exercises]]`` entry that takes a standard exercise off the
    calendar from ``terminated`` on."""
    name = entry.get("name")
    if name not in STANDARD_EXERCISES:
        raise fail(
            f"[[exercises]] terminated: unknown exercise {name!r}{closest_name(str(name), STANDARD_EXERCISES)}: "
            f"allowed {', '.join(STANDARD_EXERCISES)}"
        )
    _known_keys(entry, ("name", "terminated", "label"), f"[[exercises]] {name} terminated", fail, " to terminate")
    return name, _date(entry["terminated"], f"[[exercises]] {name} terminated", fail)


def _without_terminated(exercises: list[Exercise], terminated: dict[str, dt.date]) -> list[Exercise]:
    """The calendar with each terminated exercise off it from its date on: instances starting
    on or after the date are gone, one under way then ends that day. Both the calendar the DPRK
    expects and the one held lose them, so a terminated exercise's absence sends no signal."""
    kept = []
    for e in exercises:
        stop = terminated.get(e.name)
        if stop is None or e.end <= stop:
            kept.append(e)
        elif e.start < stop:
            kept.append(replace(e, days=(stop - e.start).days))
    return kept


def _outside_notes(
    carried: Counter,
    before: Counter,
    after: Counter,
    start: dt.date,
    end: dt.date,
    earlier: Scenario | None = None,
    gap: Scenario | None = None,
) -> tuple[str, ...]:
    """One line each for the period this one continues (and the gap between them, replayed
    with this file's entries), the entries that carry in from before the start, those before
    the start that are ignored, and those after the end."""

    def listing(counts: Counter) -> str:
        return ", ".join(f"{n} {table}" for table, n in counts.items())

    notes = []
    if earlier is not None:
        lead = (start - earlier.start).days // 7
        notes.append(
            f"continues {Path(earlier.source).name}: each run starts from the whole state its replay of "
            f"{earlier.start} on reaches after {lead} weeks, with its levers as they stand then"
            + (
                f" (the {gap.weeks} weeks from {gap.start}, after its end, replayed with this file's levers, "
                "exercises and events dated then)"
                if gap is not None
                else ""
            )
            + (
                f"; the {(start - earlier.start).days % 7} day(s) before this start that do not fill a week are not simulated"
                if (start - earlier.start).days % 7
                else ""
            )
        )
    if carried:
        notes.append(
            f"entries dated before the start {start} set the levers it starts with ({listing(carried)}: the "
            "last lever settings, the highest sanctions level)"
            + (
                ""
                if earlier is not None
                else "; the state in [params] (stress, threat, progress, alignment, trust) still applies at "
                "the start, so set it there for that date (or continue_from the scenario of the period before)"
            )
        )
    if before and gap is None:
        notes.append(
            f"entries dated before the start {start} are ignored ({listing(before)}: announcements, events, exercises)"
        )
    if after:
        notes.append(f"entries dated after the end {end} are ignored ({listing(after)})")
    return tuple(notes)


def _entries(data: dict[str, Any], table: str, fail) -> list[dict[str, Any]]:
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fail(f"[[{table}]] must be an array of tables")
    return entries


def _date(value: Any, what: str, fail) -> dt.date:
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    else:
        try:
            date = dt.date.fromisoformat(str(value))
        except ValueError:
            raise fail(f"{what} must be a date YYYY-MM-DD, got {value!r}") from None
    if not DATE_RANGE[0] <= date <= DATE_RANGE[1]:
        raise fail(f"{what} {date} is outside the dates the model handles ({DATE_RANGE[0]} to {DATE_RANGE[1]})")
    return date


def _exercise_entry(entry: dict[str, Any], i: int, fail) -> tuple[str, Exercise, Exercise | None]:
    """One validated [[exercises]] entry: ``("added", exercise, exercise)`` for a new exercise, or
    ``("changed", instance, held)`` for a change to a standard exercise of a year: ``instance`` as
    the calendar plans it, ``held`` as changed (None when suspended)."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"[[exercises]] #{i + 1} needs a name")
    if "year" in entry:
        _known_keys(entry, _CHANGED_KEYS, f"[[exercises]] {name}", fail, " for a change to a year")
    else:
        _known_keys(entry, _ADDED_KEYS, f"[[exercises]] {name}", fail, " for a new exercise")
    days = entry.get("days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365):
        raise fail(f"[[exercises]] {name}: days must be an integer from 1 to 365, got {days!r}")
    if "start" in entry and "year" not in entry:  # a new exercise
        start = _date(entry["start"], f"[[exercises]] {name} start", fail)
        intensity = entry.get("intensity", 1.0)
        if isinstance(intensity, bool) or not isinstance(intensity, (int, float)) or not 0 <= intensity <= 1:
            raise fail(f"[[exercises]] {name}: intensity must be from 0 to 1, got {intensity!r}")
        exercise = Exercise(name, "extra", start, days or 7, float(intensity))
        return "added", exercise, exercise
    if name not in STANDARD_EXERCISES:
        raise fail(
            f"[[exercises]] unknown exercise {name!r}{closest_name(name, STANDARD_EXERCISES)}: allowed "
            f"{', '.join(STANDARD_EXERCISES)} (with a year), or a new one with a start date"
        )
    year = entry.get("year")
    status = entry.get("status", "held")
    if status not in EXERCISE_STATUSES:
        raise fail(
            f"[[exercises]] {name} {year}: status {status!r} is not allowed"
            f"{closest_name(str(status), EXERCISE_STATUSES)}: allowed {', '.join(EXERCISE_STATUSES)}"
        )
    if isinstance(year, bool) or not isinstance(year, int) or not DATE_RANGE[0].year <= year <= DATE_RANGE[1].year:
        raise fail(
            f"[[exercises]] {name}: year must be an integer from {DATE_RANGE[0].year} to {DATE_RANGE[1].year} "
            f"(the year of the instance to change), got {year!r}"
        )
    delay = entry.get("delay_weeks", 0)
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 52:
        raise fail(f"[[exercises]] {name} {year}: delay_weeks must be an integer from 0 to 52, got {delay!r}")
    scale = entry.get("scale", 0.5 if status == "scaled_down" else 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
        raise fail(f"[[exercises]] {name} {year}: scale must be from 0 to 1, got {scale!r}")
    instance = next(e for e in exercises_in_year(year) if e.name == name)
    if "start" in entry:  # the year's instance moved to a date, earlier or later
        if status not in ("held", "scaled_down") or "delay_weeks" in entry:
            raise fail(
                f"[[exercises]] {name} {year}: a start date moves the exercise; it cannot also be {status} "
                "or delayed (give status held or scaled_down, or leave start out)"
            )
        moved = _date(entry["start"], f"[[exercises]] {name} {year} start", fail)
        return (
            "changed",
            instance,
            replace(instance, start=moved, days=days or instance.days, weight=instance.weight * scale),
        )
    held = (
        None
        if status == "suspended"
        else replace(
            instance,
            start=instance.start + dt.timedelta(weeks=delay if status == "delayed" else 0),
            days=days or instance.days,
            weight=instance.weight * scale,
        )
    )
    return "changed", instance, held
