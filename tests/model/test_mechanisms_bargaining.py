"""Bargaining that can succeed, a pause that covers what it declares, talks the DPRK can refuse:
each property over many seeds at the parameter table's defaults (the calibrated point) unless a
test says otherwise, with a tolerance from the sampling error.

A probability asserted positive has its lower bound ``p - Z * SE`` above 0; a property "X raises
Y" is a one-sided paired z-test at z = 4 on common random numbers (the same seeds in both arms:
``SE = sd(d) / sqrt(n)``); "X does not raise Y" fails when the paired difference exceeds ``Z * SE``.
"""

import numpy as np
import pytest

from model import Params, rules
from model.batched import simulate
from model.calendar import ExerciseCalendar
from model.policies import LeverSchedule

Z = 4.0
SEEDS = np.arange(90_000, 94_000)
ENGAGED = dict(engagement_stance="pressure_and_engagement", exercise_policy="suspended", rok_mediation=0.8)


def run(n, weeks, trajectories=False, levers=None, **overrides):
    p = Params(**overrides)
    schedules = None if levers is None else [levers(p)] * n
    return simulate([p] * n, SEEDS[:n], weeks, levers=schedules, trajectories=trajectories)


def lower_bound(flags):
    flags = np.asarray(flags, dtype=float)
    return flags.mean() - Z * flags.std(ddof=1) / np.sqrt(flags.size)


def paired(higher, lower):
    d = np.asarray(higher, dtype=float) - np.asarray(lower, dtype=float)
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def forced(events):
    """A lever schedule forcing talks events ``{week: code}`` (as a historical scenario does)."""

    def build(p):
        def overrides(weeks):
            codes = np.zeros(weeks, dtype=np.int64)
            for week, code in events.items():
                codes[week - 1] = code
            return {"forced_event": codes}

        return LeverSchedule(p, ExerciseCalendar(p.start_date, 0), overrides)

    return build


def test_deals_and_statements_happen_at_the_default_relief_rule():
    out = run(4000, 156, **ENGAGED).outcomes
    assert lower_bound(out["deal"]) > 0, out["deal"].mean()
    held = out["summits"] > 0
    assert held.sum() > 200
    assert lower_bound(out["statement"][held]) > 0
    # and summits do not all fail: the share of summits that failed stays well below 0.9
    assert out["summit_failed"][held].mean() + Z * out["summit_failed"][held].std(ddof=1) / np.sqrt(held.sum()) < 0.9


def test_a_stricter_relief_rule_does_not_make_deals_likelier():
    deals = [run(3000, 156, relief_threshold=k, **ENGAGED).outcomes["deal"] for k in (1, 2, 3, 4)]
    for looser, stricter in zip(deals, deals[1:], strict=False):
        diff, se = paired(stricter, looser)
        assert diff <= Z * se, (diff, se)
    # and the strictest rule is strictly harder than the loosest
    diff, se = paired(deals[0], deals[-1])
    assert diff > Z * se, (diff, se)


def test_substrategic_launches_happen_while_a_strategic_moratorium_holds():
    base = dict(initial_stage=2, initial_moratorium=True, initial_step=1, moratorium_break_rate=0.0)
    out = run(3000, 52, trajectories=True, **base)
    under = out.outcomes["tests_under_moratorium"]
    assert lower_bound(under > 0) > 0
    # while the moratorium held, strategic tests are much rarer than without it
    held = out.trajectory["moratorium"].astype(bool)
    strategic = (out.trajectory["tests"] > 0) & (out.trajectory["test_rung"] >= rules.ICBM_RUNG)
    free = run(
        3000, 52, trajectories=True, **{**base, "initial_moratorium": False, "initial_step": 0, "moratorium_rate": 0.0}
    )
    free_strategic = (free.trajectory["tests"] > 0) & (free.trajectory["test_rung"] >= rules.ICBM_RUNG)
    assert strategic[held].mean() < free_strategic.mean() / 5, (strategic[held].mean(), free_strategic.mean())


def test_a_spoiler_during_talks_raises_suspension_and_not_strategic_tests():
    # talks at stage 2, no moratorium, a programme far from complete (so strategic tests do
    # happen in some runs: the check has something to see): a package announced in week 1
    base = dict(
        initial_stage=2,
        initial_progress=0.3,
        test_baseline_rate=1.0,
        red_line_cost=0.0,
        rung_distance_cost=0.0,
        **ENGAGED,
    )
    spoiled = run(4000, 8, trajectories=True, spoiler_week=1, **base).trajectory
    calm = run(4000, 8, trajectories=True, spoiler_week=0, **base).trajectory
    suspended = [(t["talks_stage"][:4] == rules.SUSPENDED_TALKS).any(axis=0) for t in (spoiled, calm)]
    diff, se = paired(*suspended)
    assert diff > Z * se, (diff, se)
    strategic = [((t["tests"] > 0) & (t["test_rung"] >= rules.ICBM_RUNG)).any(axis=0) for t in (spoiled, calm)]
    assert strategic[1].sum() >= 100
    diff, se = paired(*strategic)
    assert diff <= Z * se, (diff, se)


@pytest.mark.parametrize("code", [rules.EVENT_SUMMIT_FAILED, rules.EVENT_SUMMIT_DEAL])
def test_after_a_failed_summit_or_a_collapsed_deal_talks_are_less_likely(code):
    # US-DPRK talks at week 0; a forced summit in week 2 (failed, or a deal), talks ended in week 3.
    # P(US-DPRK talks again within the next year) is lower than with the memory of it switched
    # off, the same runs otherwise (common random numbers).
    # the memory at its anchored values (a half-life of 69 weeks, F6), exercises held and no
    # mediation, so that talks within the year are not certain either way
    events = forced({2: code, 3: rules.EVENT_ENDED})
    memory = dict(talks_memory_weight=1.5, talks_memory_decay=0.01)
    base = dict(
        initial_stage=2,
        summit_rate=0.0,
        engagement_stance="pressure_and_engagement",
        exercise_policy="as_scheduled",
        rok_mediation=0.0,
    )
    remembered = run(4000, 55, trajectories=True, levers=events, **memory, **base).trajectory
    forgotten = run(
        4000, 55, trajectories=True, levers=events, **{**memory, "talks_memory_weight": 0.0}, **base
    ).trajectory
    assert np.all(remembered["talks_stage"][2] == rules.NO_TALKS)
    again = [rules.talks_at_us_level(t["talks_stage"][3:]).any(axis=0) for t in (remembered, forgotten)]
    diff, se = paired(again[1], again[0])
    assert diff > Z * se, (diff, se)
    # and lower than before it: the same runs from no talks and no memory at week 0
    before = rules.talks_at_us_level(
        run(4000, 52, trajectories=True, **memory, **{**base, "initial_stage": 0}).trajectory["talks_stage"]
    )
    diff, se = paired(before.any(axis=0), again[0])
    assert diff > Z * se, (diff, se)


def test_talks_happen_with_economic_stress_switched_off():
    out = run(4000, 156, stress_gain=0.0, initial_stress=0.0, **ENGAGED).outcomes
    assert lower_bound(out["talks"]) > 0, out["talks"].mean()


def test_the_dprk_refuses_a_standing_offer_and_none_is_counted_without_one():
    engaged = run(2000, 52, initial_stage=0, **ENGAGED).outcomes["talks_refused"]
    assert lower_bound(engaged > 0) > 0
    # a US that never stands ready to talk (the lowest base utility, no trust weight) makes no offer
    never = run(2000, 52, initial_stage=0, us_talk_base=-5.0, us_talk_trust_weight=0.0, **ENGAGED).outcomes
    assert (never["talks_refused"] == 0).all()


def test_no_sanctions_means_none_when_the_ratchet_is_off():
    # major tests made frequent: a programme far from complete, no red-line or distance cost
    testing = dict(
        sanctions_level=0.0,
        test_baseline_rate=2.0,
        initial_progress=0.2,
        progress_hazard_weight=0.0,
        red_line_cost=0.0,
        rung_distance_cost=0.0,
    )
    out = run(2000, 156, trajectories=True, endogenous_sanctions=False, **testing)
    assert out.outcomes["strategic_tests"].sum() > 100  # major tests happened
    assert np.all(out.trajectory["sanctions"] == 0.0)
    ratchet = run(2000, 156, trajectories=True, endogenous_sanctions=True, **testing)
    assert (ratchet.trajectory["sanctions"][-1] > 0).mean() > 0.5
