"""The entries of a scenario file that need more than a type check: events, exercise changes,
terminations, and the notes on entries outside the period. Used by
:func:`experiments.history.scenario.parse_scenario`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from model.calendar import Exercise, exercises_in_year
from model.params import DATE_RANGE

from .. import validation as check
from ..errors import UserError
from .period import EVENT_KINDS, SUMMIT_OUTCOMES, Scenario

EXERCISE_STATUSES = ("held", "delayed", "scaled_down", "suspended")
STANDARD_EXERCISES = ("Foal Eagle", "Key Resolve", "Ulchi Freedom Guardian", "Vigilant Ace")
_EVENT_KEYS = ("date", "kind", "outcome", "label")
_ADDED_KEYS = ("name", "start", "days", "intensity", "label")
_CHANGED_KEYS = ("name", "year", "status", "delay_weeks", "days", "scale", "start", "label")


def event_code(entry: dict[str, Any], date: dt.date, source: str) -> int:
    """The forced-event code of one ``[[events]]`` entry (a ``summit`` may force its outcome)."""
    where = f"{source}: [[events]] {date}"
    check.check_keys(entry, _EVENT_KEYS, source, f"[[events]] {date}")
    kind = check.choice(entry.get("kind"), f"{where}: kind", EVENT_KINDS)
    if "label" in entry:
        check.string(entry["label"], f"{where}: label")
    if "outcome" not in entry:
        return EVENT_KINDS[kind]
    if kind != "summit":
        raise UserError(f'{where}: outcome is for kind = "summit" only, not {kind!r}')
    outcome = check.choice(
        entry["outcome"], f"{where}: summit outcome", SUMMIT_OUTCOMES, " (leave it out to let the model decide)"
    )
    return SUMMIT_OUTCOMES[outcome]


def termination_entry(entry: dict[str, Any], source: str) -> tuple[str, dt.date]:
    """``(name, date)`` of an ``[[exercises]]`` entry that takes a standard exercise off the
    calendar from ``terminated`` on."""
    name = check.choice(entry.get("name"), f"{source}: [[exercises]] terminated: unknown exercise", STANDARD_EXERCISES)
    check.check_keys(
        entry, ("name", "terminated", "label"), source, f"[[exercises]] {name} terminated", " to terminate"
    )
    return name, check.date(entry["terminated"], f"{source}: [[exercises]] {name} terminated")


def without_terminated(exercises: list[Exercise], terminated: dict[str, dt.date]) -> list[Exercise]:
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


def outside_notes(
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


def exercise_entry(entry: dict[str, Any], i: int, source: str) -> tuple[str, Exercise, Exercise | None]:
    """One validated [[exercises]] entry: ``("added", exercise, exercise)`` for a new exercise, or
    ``("changed", instance, held)`` for a change to a standard exercise of a year: ``instance`` as
    the calendar plans it, ``held`` as changed (None when suspended)."""

    def fail(message: str) -> UserError:
        return UserError(f"{source}: {message}")

    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"[[exercises]] #{i + 1} needs a name")
    if "year" in entry:
        check.check_keys(entry, _CHANGED_KEYS, source, f"[[exercises]] {name}", " for a change to a year")
    else:
        check.check_keys(entry, _ADDED_KEYS, source, f"[[exercises]] {name}", " for a new exercise")
    days = entry.get("days")
    if days is not None:
        check.integer(days, f"{source}: [[exercises]] {name}: days", 1, 365)
    if "start" in entry and "year" not in entry:  # a new exercise
        start = check.date(entry["start"], f"{source}: [[exercises]] {name} start")
        intensity = check.number(entry.get("intensity", 1.0), f"{source}: [[exercises]] {name}: intensity", 0, 1)
        exercise = Exercise(name, "extra", start, days or 7, intensity)
        return "added", exercise, exercise
    check.choice(
        name,
        f"{source}: [[exercises]] unknown exercise",
        STANDARD_EXERCISES,
        " (with a year), or a new one with a start date",
    )
    year = entry.get("year")
    status = check.choice(
        entry.get("status", "held"), f"{source}: [[exercises]] {name} {year}: status", EXERCISE_STATUSES
    )
    year = check.integer(
        entry.get("year"),
        f"{source}: [[exercises]] {name}: year",
        DATE_RANGE[0].year,
        DATE_RANGE[1].year,
        " (the year of the instance to change)",
    )
    delay = check.integer(entry.get("delay_weeks", 0), f"{source}: [[exercises]] {name} {year}: delay_weeks", 0, 52)
    scale = check.number(
        entry.get("scale", 0.5 if status == "scaled_down" else 1.0),
        f"{source}: [[exercises]] {name} {year}: scale",
        0,
        1,
    )
    instance = next(e for e in exercises_in_year(year) if e.name == name)
    if "start" in entry:  # the year's instance moved to a date, earlier or later
        if status not in ("held", "scaled_down") or "delay_weeks" in entry:
            raise fail(
                f"[[exercises]] {name} {year}: a start date moves the exercise; it cannot also be {status} "
                "or delayed (give status held or scaled_down, or leave start out)"
            )
        moved = check.date(entry["start"], f"{source}: [[exercises]] {name} {year} start")
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
