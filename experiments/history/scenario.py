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
                                    # a summit's outcome "deal" | "statement" | "failed" |
                                    # "no_deal" (statement or failure, the model's choice) |
                                    # none (the model's)

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
:attr:`Scenario.notes` says what was carried, moved or ignored (the command line prints it). Every
problem is a one-line :class:`~experiments.errors.UserError` naming the file, the entry and what is
allowed (:mod:`experiments.validation`; booleans are TOML's ``true``/``false``, never quoted).
The :class:`Scenario` itself, and how it runs, is in :mod:`experiments.history.period`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

from model.calendar import Exercise, standard_exercises
from model.params import ParameterError, Params, closest_name
from model.week import START_PARAMETERS

from .. import validation as check
from ..errors import UserError
from ..io import read_toml
from .period import (
    DATED_LEVERS,
    EVENT_KINDS,
    SUMMIT_OUTCOMES,
    SanctionsStep,
    Scenario,
    event_weeks,
    place_events,
)
from .scenario_entries import (
    EXERCISE_STATUSES,
    STANDARD_EXERCISES,
    event_code,
    exercise_entry,
    outside_notes,
    termination_entry,
    without_terminated,
)

__all__ = [
    "DATED_LEVERS",
    "EVENT_KINDS",
    "EXERCISE_STATUSES",
    "STANDARD_EXERCISES",
    "SUMMIT_OUTCOMES",
    "SanctionsStep",
    "Scenario",
    "event_weeks",
    "load_scenario",
    "parse_scenario",
    "place_events",
]

_TABLES = ("scenario", "params", "levers", "sanctions", "exercises", "events")
_HEAD_KEYS = ("name", "description", "start", "end", "record", "endogenous_sanctions", "continue_from")
_ARRAYS = ("levers", "sanctions", "exercises", "events")


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

    check.check_tables(data, _TABLES, source, arrays=_ARRAYS)
    head = data.get("scenario")
    if not isinstance(head, dict) or "name" not in head:
        raise fail("needs a [scenario] table with a name")
    start = check.date(head.get("start"), f"{source}: [scenario] start")
    end = check.date(head.get("end"), f"{source}: [scenario] end")
    if not start < end:
        raise fail(f"dates out of order: start {start} is not before end {end}")
    check.check_keys(head, _HEAD_KEYS, source, "[scenario]")
    for text in ("name", "description"):
        if text in head:
            check.string(head[text], f"{source}: [scenario] {text}")

    overrides = {name: check.parameter(name, v, f"{source}: [params]") for name, v in data.get("params", {}).items()}
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
    for i, entry in enumerate(check.entries(data, "levers", source)):
        date = check.date(entry.get("date"), f"{source}: [[levers]] #{i + 1} date")
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
                changes[name] = check.boolean(value, f"{source}: [[levers]] endogenous_sanctions")
            else:
                changes[name] = check.parameter(name, value, f"{source}: [[levers]]")
        levers.append((date, changes))
    in_order([d for d, _ in levers], "[[levers]]")
    levers = [(d, c) for d, c in levers if within(d, "[[levers]]", carries=True)]

    sanctions = []
    for i, entry in enumerate(check.entries(data, "sanctions", source)):
        date = check.date(entry.get("date"), f"{source}: [[sanctions]] #{i + 1} date")
        level = entry.get("level")
        if level is not None:
            level = check.parameter("sanctions_level", level, f"{source}: [[sanctions]] {date}:")
        check.check_keys(entry, ("date", "level", "announce", "label"), source, f"[[sanctions]] {date}")
        announce = check.boolean(entry.get("announce", True), f"{source}: [[sanctions]] {date}: announce")
        label = check.string(entry.get("label", ""), f"{source}: [[sanctions]] {date}: label")
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
    entries = check.entries(data, "exercises", source)
    for entry in entries:
        if "terminated" in entry:
            name, date = termination_entry(entry, source)
            if name in terminated and terminated[name] != date:
                raise fail(f"[[exercises]] {name} is terminated twice ({terminated[name]} and {date}); give one date")
            terminated[name] = date
    standard = without_terminated(standard, terminated)

    added, changed = [], {}
    for i, entry in enumerate(entries):
        if "terminated" in entry:
            continue
        kind, exercise, held = exercise_entry(entry, i, source)
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
    for i, entry in enumerate(check.entries(data, "events", source)):
        date = check.date(entry.get("date"), f"{source}: [[events]] #{i + 1} date")
        code = event_code(entry, date, source)
        if within(date, "[[events]]", carries=False):
            events.append((date, code))
    events, event_notes = place_events(events, start, (end - start).days // 7 + 1)

    record = head.get("record")
    if record is not None:
        check.string(record, f"{source}: [scenario] record", "a file name (a string)")
    record_path = (base_dir / record) if (record and base_dir is not None) else (Path(record) if record else None)
    endogenous = check.boolean(
        head.get("endogenous_sanctions", carried_endogenous), f"{source}: [scenario] endogenous_sanctions"
    )
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
        notes=outside_notes(carried_entries, before, after, start, end, origin, gap) + event_notes,
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
