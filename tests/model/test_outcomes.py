"""The outcome tally against a week-by-week story worked out by hand, for one run and for an
array of runs."""

import math

import numpy as np

from model.outcomes import OUTCOME_COLUMNS, OutcomeTally, as_python
from model.rules import (
    INTER_KOREAN,
    NEGOTIATIONS,
    NO_TALKS,
    PRELIMINARY,
    SUMMIT_DEAL,
    SUMMIT_FAILED,
    SUMMIT_NONE,
    SUSPENDED_TALKS,
)
from model.week import FINAL_STATE

FINALS = {name: 0.5 for name in FINAL_STATE}

# week, stage after, summit, tests, rung, step, relief (the stage before is the previous week's)
STORY = [
    (1, NO_TALKS, SUMMIT_NONE, 2, 1, 0, 0.0),  # two short-range tests
    (2, INTER_KOREAN, SUMMIT_NONE, 0, 0, 0, 0.0),  # contact
    (3, PRELIMINARY, SUMMIT_NONE, 0, 0, 1, 0.0),  # US-DPRK talks begin; a moratorium step
    (4, NEGOTIATIONS, SUMMIT_FAILED, 0, 0, 1, 0.0),  # a summit fails
    (5, SUSPENDED_TALKS, SUMMIT_NONE, 1, 4, 0, 0.0),  # suspended; an ICBM test after the failure
    (6, NO_TALKS, SUMMIT_NONE, 1, 5, 0, 0.0),  # talks end; a nuclear test
    (7, NEGOTIATIONS, SUMMIT_DEAL, 0, 0, 2, 0.25),  # back to talks, a deal, relief
]


def tally(story, initial_stage=NO_TALKS):
    t = OutcomeTally(initial_stage=initial_stage)
    before = initial_stage
    for week, after, summit, tests, rung, step, relief in story:
        t.record(week, before, after, summit, tests, rung, step, relief)
        before = after
    return as_python(t.result(FINALS))


def test_a_story_gives_the_outcomes_worked_out_by_hand():
    out = tally(STORY)
    assert list(out) == list(OUTCOME_COLUMNS)
    assert out["inter_korean_talks"] and out["inter_korean_week"] == 2
    assert out["talks"] and out["talks_week"] == 3
    assert out["summit"] and out["summit_week"] == 4 and out["summit_failed"]
    assert out["deal"] and out["deal_week"] == 7
    assert out["suspensions"] == 1  # entering stage 'suspended' once
    assert out["collapses"] == 1 and out["talks_collapsed"]  # week 6 ended talks that had begun
    assert out["steps"] == 2 and out["relief"] == 0.25
    assert (out["tests"], out["launches"], out["tests_short_range"], out["tests_icbm"], out["nuclear_tests"]) == (
        4,
        3,
        2,
        1,
        1,
    )
    assert out["highest_rung"] == 5
    assert out["first_test_week"] == 1 and out["first_test_after_failure_week"] == 5
    assert all(out[name] == 0.5 for name in FINAL_STATE)


def test_events_that_did_not_happen_are_nan_not_a_number_of_weeks():
    out = tally([(1, NO_TALKS, SUMMIT_NONE, 0, 0, 0, 0.0)])
    for name in ("talks_week", "inter_korean_week", "summit_week", "deal_week", "first_test_week"):
        assert math.isnan(out[name]), name
    assert not out["talks"] and out["tests"] == 0 and out["highest_rung"] == 0


def test_talks_under_way_at_the_start_count_as_reached_in_week_zero():
    out = tally([(1, NO_TALKS, SUMMIT_NONE, 0, 0, 0, 0.0)], initial_stage=PRELIMINARY)
    assert out["talks_week"] == 0 and out["talks"]
    assert out["collapses"] == 1 and out["talks_collapsed"]  # they ended in week 1


def test_an_array_of_runs_tallies_each_run_as_alone():
    runs = [STORY, [(w, NO_TALKS, SUMMIT_NONE, 0, 0, 0, 0.0) for w in range(1, 8)]]
    t = OutcomeTally(shape=(2,))
    before = np.array([NO_TALKS, NO_TALKS])
    for i in range(7):
        rows = [run[i] for run in runs]
        after = np.array([r[1] for r in rows])
        t.record(i + 1, before, after, *(np.array([r[k] for r in rows]) for k in range(2, 7)))
        before = after
    arrays = t.result({name: np.array([0.5, 0.5]) for name in FINAL_STATE})
    for r, story in enumerate(runs):
        alone = tally(story)
        for name, value in alone.items():
            got = arrays[name][r].item()
            assert got == value or (math.isnan(got) and math.isnan(value)), (r, name)
