"""The real US-ROK exercise calendar, by week from a start date.

Dates and durations come from the domain brief and the 2016-2018 record
(``data/dprk_monthly_2016_2018.csv``):

* Foal Eagle: field exercise, from 1 March for about 8 weeks (1 Mar - 30 Apr 2016, 2017);
* Key Resolve: command-post exercise, from the first Monday on or after 7 March, 12 days
  (7-18 Mar 2016, 13-24 Mar 2017);
* Ulchi Freedom Guardian: from the first Monday on or after 17 August, 11 days
  (22 Aug - 2 Sep 2016, 21-31 Aug 2017; 18 Aug 2014 and 17 Aug 2015 fit the same rule);
* Vigilant Ace: air drill from the first Monday of December, 5 days (4-8 Dec 2017).

Intensity weights (assumption): the three large exercises 1.0, Vigilant Ace 0.5. Week ``w``
(1-based) covers the days ``[start + 7(w-1), start + 7w)``; its intensity is the largest,
over exercises under way, of ``weight * days_overlapping / 7``.

Exercises are grouped in seasons (spring: Key Resolve and Foal Eagle; summer: UFG; winter:
Vigilant Ace). The ``delayed`` exercise policy postpones the next season that starts on or
after the start date, as the spring 2018 exercises were postponed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Exercise:
    """One exercise instance: name, season, first day, length in days and intensity weight."""

    name: str
    season: str
    start: dt.date
    days: int
    weight: float

    @property
    def end(self) -> dt.date:
        """First day after the exercise."""
        return self.start + dt.timedelta(days=self.days)


def _monday_on_or_after(year: int, month: int, day: int) -> dt.date:
    first = dt.date(year, month, day)
    return first + dt.timedelta(days=(0 - first.weekday()) % 7)  # Monday is weekday 0


def exercises_in_year(year: int) -> list[Exercise]:
    """The standard calendar of major US-ROK exercises in ``year``."""
    return [
        Exercise("Foal Eagle", "spring", dt.date(year, 3, 1), 56, 1.0),
        Exercise("Key Resolve", "spring", _monday_on_or_after(year, 3, 7), 12, 1.0),
        Exercise("Ulchi Freedom Guardian", "summer", _monday_on_or_after(year, 8, 17), 11, 1.0),
        Exercise("Vigilant Ace", "winter", _monday_on_or_after(year, 12, 1), 5, 0.5),
    ]


def standard_exercises(start: dt.date, weeks: int) -> list[Exercise]:
    """Every standard exercise that overlaps the ``weeks`` weeks from ``start``
    (plus the following year, so that a delayed season never falls off the end)."""
    end = start + dt.timedelta(days=7 * weeks)
    found: list[Exercise] = []
    for year in range(start.year - 1, end.year + 2):
        found.extend(e for e in exercises_in_year(year) if e.end > start)
    return sorted(found, key=lambda e: e.start)


def delay_next_season(exercises: list[Exercise], start: dt.date, weeks: int) -> list[Exercise]:
    """Postpone by ``weeks`` weeks every exercise of the first season that starts on or after
    ``start`` (only that year's instance of the season)."""
    if weeks == 0:
        return list(exercises)
    upcoming = [e for e in exercises if e.start >= start]
    if not upcoming:
        return list(exercises)
    first = upcoming[0]
    season, year = first.season, first.start.year
    shift = dt.timedelta(days=7 * weeks)
    return [
        replace(e, start=e.start + shift) if (e.season == season and e.start.year == year and e.start >= start) else e
        for e in exercises
    ]


def weekly_intensity(exercises: list[Exercise], start: dt.date, weeks: int) -> np.ndarray:
    """Exercise intensity of each week 1..weeks (array index 0 is week 1).

    ``x_w = max_e weight_e * overlap_days(e, w) / 7`` (0 when no exercise is under way).
    """
    x = np.zeros(weeks)
    origin = start.toordinal()
    for e in exercises:
        first_day = e.start.toordinal() - origin
        last_day = first_day + e.days  # exclusive
        for w in range(max(first_day // 7, 0), min((last_day - 1) // 7 + 1, weeks)):
            overlap = min(last_day, 7 * (w + 1)) - max(first_day, 7 * w)
            if overlap > 0:
                x[w] = max(x[w], e.weight * overlap / 7)
    return x


@lru_cache(maxsize=256)
def calendar_arrays(start: dt.date, delay_weeks: int, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """``(standard, scheduled)`` intensities for weeks 1..weeks: the standard calendar and the one
    with the next season delayed by ``delay_weeks``. Cached (a pure function of its arguments;
    a sweep asks for the same few calendars thousands of times); the arrays are read-only."""
    standard = standard_exercises(start, weeks)
    delayed = delay_next_season(standard, start, delay_weeks)
    arrays = weekly_intensity(standard, start, weeks), weekly_intensity(delayed, start, weeks)
    for a in arrays:
        a.flags.writeable = False
    return arrays


class ExerciseCalendar:
    """Weekly exercise intensities from a start date, with an optional delay of the next season.

    ``calendar.week(w)`` returns ``(standard, scheduled)``: the intensity in the standard
    calendar and after the delay. A model need not know its horizon: arrays are computed for
    at least 64 weeks, and for twice as many when a later week is asked for.
    """

    def __init__(self, start_date: str | dt.date, delay_weeks: int = 0) -> None:
        self.start = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
        self.delay_weeks = int(delay_weeks)
        self._horizon = 0

    def arrays(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """``(standard, scheduled)`` intensities for weeks 1..weeks."""
        if self._horizon < weeks:
            self._horizon = max(weeks, 2 * self._horizon, 64)
        standard, scheduled = calendar_arrays(self.start, self.delay_weeks, self._horizon)
        return standard[:weeks], scheduled[:weeks]

    def week(self, w: int) -> tuple[float, float]:
        """``(standard, scheduled)`` intensity of week ``w`` (1-based)."""
        standard, scheduled = self.arrays(w)
        return float(standard[w - 1]), float(scheduled[w - 1])

    def date_of_week(self, w: int) -> dt.date:
        """First day of week ``w`` (1-based)."""
        return self.start + dt.timedelta(days=7 * (w - 1))
