"""The exercise calendar against the dates in the record."""

import datetime as dt

import numpy as np

from model.calendar import (
    ExerciseCalendar,
    delay_next_season,
    exercises_in_year,
    standard_exercises,
    weekly_intensity,
)


def test_2017_dates_match_the_record():
    by_name = {e.name: e for e in exercises_in_year(2017)}
    assert by_name["Key Resolve"].start == dt.date(2017, 3, 13)  # record: 13-24 Mar 2017
    assert by_name["Ulchi Freedom Guardian"].start == dt.date(2017, 8, 21)  # record: 21-31 Aug 2017
    assert by_name["Vigilant Ace"].start == dt.date(2017, 12, 4)  # record: 4-8 Dec 2017
    assert by_name["Foal Eagle"].start == dt.date(2017, 3, 1)
    assert exercises_in_year(2016)[2].start == dt.date(2016, 8, 22)  # UFG 2016: 22 Aug


def test_weekly_intensity_overlap():
    # Start on Monday 26 Feb 2018: Foal Eagle starts Thursday 1 Mar -> 4 of 7 days in week 1.
    x = weekly_intensity(standard_exercises(dt.date(2018, 2, 26), 52), dt.date(2018, 2, 26), 52)
    assert x[0] == 4 / 7
    assert x[1] == 1.0
    # no exercise in June (weeks 14-21)
    assert np.all(x[14:21] == 0)
    # Vigilant Ace, Mon 3 Dec 2018, weight 0.5, 5 days in the week starting Mon 3 Dec (week 41)
    assert x[40] == 0.5 * 5 / 7


def test_delay_moves_only_the_next_season():
    start = dt.date(2018, 2, 26)
    standard = standard_exercises(start, 52)
    delayed = delay_next_season(standard, start, 4)
    moved = {e.name: (a.start, e.start) for a, e in zip(standard, delayed, strict=True) if a.start != e.start}
    assert set(moved) == {"Foal Eagle", "Key Resolve"}
    for before, after in moved.values():
        assert after - before == dt.timedelta(weeks=4)


def test_calendar_grows_on_demand_consistently():
    cal = ExerciseCalendar("2018-02-26", delay_weeks=4)
    early = cal.arrays(10)[1].copy()
    later = cal.arrays(200)[1]
    assert np.array_equal(early, later[:10])
    standard, scheduled = cal.week(2)
    assert standard == 1.0 and scheduled == 0.0  # postponed
    assert cal.date_of_week(1) == dt.date(2018, 2, 26)
