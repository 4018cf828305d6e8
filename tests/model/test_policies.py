"""The levers as a weekly schedule: each exercise policy by hand, the sanctions floor, and a
schedule's weeks equal to its arrays."""

import numpy as np
import pytest

from model.params import EXERCISE_POLICIES, Params
from model.policies import (
    LeverSchedule,
    apply_sanctions_floor,
    exercise_policy_code,
    forgone_exercise,
    held_exercise,
)
from model.rules import NEGOTIATIONS, NO_TALKS, PRELIMINARY


@pytest.mark.parametrize(
    "policy, stage, moratorium, expected",
    [
        ("as_scheduled", NO_TALKS, False, 0.8 * 0.75),  # what is scheduled, less the relief
        ("delayed", NEGOTIATIONS, True, 0.8 * 0.75),  # the delay is in the calendar, not here
        ("scaled_down", NO_TALKS, False, 0.8 * 0.5 * 0.75),
        ("suspended", NO_TALKS, False, 0.0),
        ("suspended_during_talks", PRELIMINARY, False, 0.0),
        ("suspended_during_talks", NO_TALKS, False, 0.8 * 0.75),
        ("dual_suspension", NO_TALKS, True, 0.0),
        ("dual_suspension", NEGOTIATIONS, False, 0.8 * 0.75),
    ],
)
def test_each_exercise_policy_holds_what_it_says(policy, stage, moratorium, expected):
    held = held_exercise(0.8, exercise_policy_code(policy), stage, 0.5, moratorium=moratorium, relief=0.25)
    assert held == pytest.approx(expected, abs=1e-15)


def test_policy_codes_are_the_positions_in_the_table():
    assert [exercise_policy_code(name) for name in EXERCISE_POLICIES] == list(range(len(EXERCISE_POLICIES)))


def test_forgone_exercise_and_the_sanctions_floor():
    assert forgone_exercise(np.array([1.0, 0.3, 0.0]), np.array([0.4, 0.5, 0.0])).tolist() == [0.6, 0.0, 0.0]
    floor = apply_sanctions_floor(np.array([0.2, 0.7, 0.5]), np.array([0.5, 0.5, np.nan]))
    assert floor.tolist() == [0.5, 0.7, 0.5]  # raised to the floor, never lowered, NaN is no floor


def test_a_schedules_weeks_are_its_arrays_and_the_spoiler_lands_in_its_week():
    schedule = LeverSchedule.from_params(Params(spoiler_week=5, exercise_policy="scaled_down", exercise_scale=0.3))
    arrays = schedule.arrays(100)
    assert arrays["announced_packages"].tolist() == [0] * 4 + [1] + [0] * 95
    assert (arrays["exercise_scale"] == 0.3).all()
    for w in (1, 5, 64, 65, 100):  # across the cache's growth
        week = schedule.week(w)
        assert set(week) == set(arrays)
        for name, value in week.items():
            assert value == arrays[name][w - 1] or (np.isnan(value) and np.isnan(arrays[name][w - 1])), (w, name)
