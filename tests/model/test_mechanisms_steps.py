"""The relief, spoiler, summit, trust and moratorium mechanisms, each over many seeds with a tolerance from the sampling error.

Runs use the batched engine (``tests/model/test_batched.py`` checks it is the Mesa model run by run).
A property "X raises Y" is a one-sided paired z-test at z = 4 on common random numbers (the same
seeds under both settings: ``SE = sd(d) / sqrt(n)``); a property that must hold in every run is
asserted in every run, with a check that the runs exercise it.
"""

import numpy as np

from model import Params, rules
from model.batched import simulate
from model.calendar import ExerciseCalendar
from model.policies import LeverSchedule

Z = 4.0
SEEDS = np.arange(20_000, 24_000)


def run(n, weeks, trajectories=True, levers=None, **overrides):
    p = Params(**overrides)
    schedules = None if levers is None else [levers(p)] * n
    return simulate([p] * n, SEEDS[:n], weeks, levers=schedules, trajectories=trajectories)


def paired(higher, lower):
    d = np.asarray(higher, dtype=float) - np.asarray(lower, dtype=float)
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def forced(week, code):
    """A lever schedule forcing talks event ``code`` in ``week`` (as a historical scenario does)."""

    def build(p):
        def overrides(weeks):
            events = np.zeros(weeks, dtype=np.int64)
            if week <= weeks:
                events[week - 1] = code
            return {"forced_event": events}

        return LeverSchedule(p, ExerciseCalendar(p.start_date, 0), overrides)

    return build


def test_no_relief_before_a_step_that_meets_the_threshold():
    for threshold in (1, 2, 3):
        traj = run(
            1000,
            156,
            relief_threshold=threshold,
            initial_stage=2,
            step_rate=0.3,
            engagement_stance="pressure_and_engagement",
        ).trajectory
        relieved = traj["relief"] > 0
        assert np.all(traj["dprk_step"][relieved] >= threshold), threshold
        # and relief does come in some runs (once the threshold is met without a later major test)
        assert relieved.any(axis=0).sum() >= 20, threshold
    all_at_end = run(1000, 156, relief_sequencing="all_at_end", initial_stage=2, step_rate=0.3).trajectory
    assert np.all(all_at_end["dprk_step"][all_at_end["relief"] > 0] == 4)


def _first_weeks(flags, weeks):
    return flags[:weeks].any(axis=0)


def test_a_spoiler_during_talks_suspends_them_and_the_suspension_brings_no_test():
    # Talks at stage 2 with a moratorium declared (May 2018); a package announced in week 1.
    base = dict(
        initial_stage=2,
        initial_moratorium=True,
        initial_step=1,
        initial_progress=0.3,
        test_baseline_rate=1.0,
        red_line_cost=0.0,
        rung_distance_cost=0.0,
        exercise_policy="suspended",  # the spring exercises would suspend talks in both arms
    )
    spoiled = run(4000, 8, spoiler_week=1, **base).trajectory
    calm = run(4000, 8, spoiler_week=0, **base).trajectory
    suspended = [(t["talks_stage"][:4] == rules.SUSPENDED_TALKS).any(axis=0) for t in (spoiled, calm)]
    diff, se = paired(*suspended)
    assert diff > Z * se, (diff, se)
    # The suspension brings no strategic test: the moratorium covers ICBM and nuclear tests whether
    # talks go on or not, and a package during talks adds no reactance unless spoiler_reactance
    # says so (0 by default: the spoiler in the record drew no test). Sub-strategic launches may
    # rise, since talks under way no longer hold them back.
    no_reactance = dict(base, reactance_hazard_weight=0.0)
    tested = [
        ((t["tests"] > 0) & (t["test_rung"] >= rules.ICBM_RUNG)).any(axis=0)
        for t in (run(4000, 8, spoiler_week=w, **base).trajectory for w in (1, 0))
    ]
    assert tested[1].sum() >= 20  # strategic tests do happen under the moratorium, rarely
    diff, se = paired(*tested)
    assert diff <= Z * se, (diff, se)
    suspended = [
        (run(4000, 4, spoiler_week=w, **no_reactance).trajectory["talks_stage"] == 4).any(axis=0) for w in (1, 0)
    ]
    diff, se = paired(*suspended)
    assert diff > Z * se, (diff, se)


def test_a_failed_summit_lowers_trust_and_raises_the_test_hazard_after_it():
    base = dict(initial_stage=2, summit_rate=0.0)  # summits only when forced (week 2)
    failed = run(2000, 12, levers=forced(2, rules.EVENT_SUMMIT_FAILED), **base).trajectory
    none = run(2000, 12, **base).trajectory
    assert np.all(failed["summit"][1] == rules.SUMMIT_FAILED)
    # the week of the failure: identical histories before it, so trust is lower in every run
    assert np.all(none["summit"] == rules.SUMMIT_NONE)
    assert np.all(failed["trust_us_in_dprk"][1] < none["trust_us_in_dprk"][1])
    assert np.all(failed["trust_dprk_in_us"][1] < none["trust_dprk_in_us"][1])
    # the weeks after it: a higher test hazard on average (reactance, a cut expectation)
    diff, se = paired(failed["test_hazard"][2:8].mean(axis=0), none["test_hazard"][2:8].mean(axis=0))
    assert diff > Z * se, (diff, se)


def test_trust_rises_after_a_costly_signal():
    # Runs with and without steps (step_rate 0) share their history until the first step is
    # taken; in that week trust toward the DPRK is higher in every run that took it.
    base = dict(initial_stage=2, initial_moratorium=True, initial_step=1, step_rate=0.5, relief_threshold=2)
    steps = run(2000, 104, **base).trajectory
    none = run(2000, 104, **{**base, "step_rate": 0.0}).trajectory
    rose = steps["dprk_step"] >= 2
    took = rose.any(axis=0)
    assert took.sum() > 100
    week = rose.argmax(axis=0)[took]
    runs = np.flatnonzero(took)
    # a summit deal commits a step in both settings alike: keep the runs whose first step is their own
    own = none["dprk_step"][week, runs] < 2
    assert own.sum() > 100
    week, runs = week[own], runs[own]
    assert np.all(steps["trust_us_in_dprk"][week, runs] > none["trust_us_in_dprk"][week, runs])
    # a declared moratorium too (moratorium_rate 0: never declared)
    declared = run(2000, 52, initial_stage=2).trajectory
    never = run(2000, 52, initial_stage=2, moratorium_rate=0.0).trajectory
    on = declared["moratorium"].astype(bool)
    first = on.any(axis=0)
    assert first.sum() > 100
    week, runs = on.argmax(axis=0)[first], np.flatnonzero(first)
    own = never["moratorium"][week, runs] == 0  # a summit deal brings a moratorium in both settings
    assert own.sum() > 100
    week, runs = week[own], runs[own]
    assert np.all(declared["trust_us_in_dprk"][week, runs] > never["trust_us_in_dprk"][week, runs])


def test_a_moratorium_erodes_within_three_years_when_only_full_denuclearisation_brings_relief():
    base = dict(initial_stage=2, initial_moratorium=True, initial_step=1, initial_expected_relief=0.6)
    strict = run(2000, 156, relief_sequencing="all_at_end", **base).trajectory
    broke = (strict["moratorium"] == 0).any(axis=0)
    share, se = broke.mean(), broke.std(ddof=1) / np.sqrt(broke.size)
    assert share - Z * se > 0.5, (share, se)
    # and it erodes more than when a moratorium itself is rewarded (threshold 1, step for step)
    lenient = run(2000, 156, relief_threshold=1, **base).trajectory
    diff, se = paired(broke, (lenient["moratorium"] == 0).any(axis=0))
    assert diff > Z * se, (diff, se)


def test_a_test_at_the_icbm_rung_ends_talks_in_progress():
    traj = run(
        2000,
        52,
        initial_stage=2,
        initial_progress=0.2,
        test_baseline_rate=2.0,
        red_line_cost=0.0,
        rung_distance_cost=0.0,
    ).trajectory
    stage = traj["talks_stage"]
    before = np.vstack([np.full((1, stage.shape[1]), 2), stage[:-1]])
    major = (traj["tests"] > 0) & (traj["test_rung"] >= rules.ICBM_RUNG) & (before >= 1)
    assert major.sum() > 100
    assert np.all(stage[major] == 0)
