"""Mechanism properties of the model, each over many seeds with a tolerance from the sampling error.

The runs use the batched engine for speed; ``tests/model/test_batched.py`` checks that it gives the
Mesa model's numbers run by run, so these are properties of the Mesa model too.

Tolerances: a property "X raises Y" is asserted as a one-sided z-test at z = 4 (false-alarm
probability about 3e-5 per test at fixed seeds). Paired contrasts use common random numbers
(the same seeds under both policies), so the standard error is that of the per-replicate
differences: ``SE = sd(d) / sqrt(n)``.
"""

import numpy as np
import pytest

from model import Params
from model.batched import simulate

Z = 4.0
N = 4000
SEEDS = np.arange(10_000, 10_000 + N)


def run(n=N, weeks=52, trajectories=False, seeds=None, **overrides):
    seeds = SEEDS[:n] if seeds is None else seeds
    return simulate([Params(**overrides)] * n, seeds, weeks, trajectories=trajectories)


def assert_paired_increase(higher, lower, label):
    """mean(higher - lower) > Z * SE of the paired differences."""
    d = np.asarray(higher, dtype=float) - np.asarray(lower, dtype=float)
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert d.mean() > Z * se, f"{label}: mean difference {d.mean():.4f} not above {Z} x SE {se:.4f}"
    return d.mean(), se


def test_an_exercise_held_raises_threat_and_test_hazard():
    # Weeks 1-3 of the default start hold Foal Eagle; compare with the same seeds and no exercise.
    held = run(2000, weeks=3, trajectories=True).trajectory
    none = run(2000, weeks=3, trajectories=True, exercise_policy="suspended").trajectory
    assert np.all(held["dprk_threat"] > none["dprk_threat"])  # threat is driven by exercises alone
    assert_paired_increase(held["test_hazard"][1:].mean(axis=0), none["test_hazard"][1:].mean(axis=0), "test hazard")


def test_a_test_lowers_trust_toward_the_dprk():
    # Signals isolated: no depreciation toward the prior, no steps, moratoria or summits (whose
    # signals tests/model/test_mechanisms_steps.py checks).
    quiet = dict(trust_depreciation=0.0, step_rate=0.0, moratorium_rate=0.0, summit_rate=0.0)
    traj = run(1000, trajectories=True, **quiet).trajectory
    trust = traj["trust_us_in_dprk"]
    previous = np.vstack([np.full((1, trust.shape[1]), Params().trust_us_dprk), trust[:-1]])
    tested = traj["tests"] > 0
    assert tested.sum() > 100
    assert np.all(trust[tested] < previous[tested])
    assert np.all(trust[~tested] > previous[~tested])  # a quiet week is a (cheap) reassuring signal


def test_a_minor_test_raises_the_chance_that_talks_are_suspended():
    # Contact under way from the start and no sanctions packages, so in weeks that begin in
    # contact the only way into suspension is the hazard h0 + h_x * x + h_N * N * [rung <= 3].
    # (minor tests made frequent: a programme far from complete, no hold-back by talks)
    setting = dict(
        initial_stage=1,
        suspend_per_test=0.5,
        sanctions_response_prob=0.0,
        idle_end_rate=0.0,
        initial_progress=0.2,
        test_baseline_rate=1.0,
        substrategic_talks_weight=0.0,
    )
    traj = run(N, trajectories=True, **setting).trajectory
    stage = traj["talks_stage"]
    before = np.vstack([np.full((1, stage.shape[1]), 1), stage[:-1]])
    in_talks = before == 1  # contact: no summit (which may fail into suspension) and no withering
    minor = (traj["tests"] > 0) & (traj["test_rung"] <= 3)
    quiet = traj["tests"] == 0
    suspended = stage == 4
    with_test, without = in_talks & minor, in_talks & quiet
    p1, n1 = suspended[with_test].mean(), with_test.sum()
    p0, n0 = suspended[without].mean(), without.sum()
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert n1 > 200 and p1 - p0 > Z * se, (p1, p0, se)
    # and the suspension frequency in test weeks matches 1 - exp(-(h0 + h_x * x + h_N * N)):
    p = Params(**setting)
    hazard = p.suspend_base + p.suspend_per_exercise * traj["exercise_intensity"] + p.suspend_per_test * traj["tests"]
    expected = 1 - np.exp(-hazard[with_test])
    se_model = np.sqrt((expected * (1 - expected)).sum()) / n1
    assert abs(p1 - expected.mean()) < Z * se_model


def test_pressure_and_engagement_gives_talks_more_often_than_pressure_first():
    engage = run(engagement_stance="pressure_and_engagement").outcomes["talks"]
    first = run(engagement_stance="pressure_first").outcomes["talks"]
    assert_paired_increase(engage, first, "P(talks) engagement - pressure first")


def test_exercise_suspension_raises_p_talks_f4():
    # Under pressure first, talks within the year are uncertain: suspension makes them likelier.
    suspended = run(exercise_policy="suspended", engagement_stance="pressure_first").outcomes["talks"]
    scheduled = run(exercise_policy="as_scheduled", engagement_stance="pressure_first").outcomes["talks"]
    assert_paired_increase(suspended, scheduled, "P(talks) suspended - as scheduled, pressure first")
    # Under pressure and engagement talks within the year are near certain at the calibrated
    # defaults; suspension brings them sooner (F4: talks followed the delay within weeks).
    soon = {policy: run(exercise_policy=policy).outcomes["talks_week"] <= 8 for policy in ("suspended", "as_scheduled")}
    assert_paired_increase(soon["suspended"], soon["as_scheduled"], "P(talks within 8 weeks) suspended - as scheduled")


def test_mediator_moves_first_f5():
    # from no talks (contact under way at the start would have moved first by construction)
    out = run(rok_mediation=0.8, initial_stage=0).outcomes
    talks = out["talks"]
    first = (out["inter_korean_week"] < out["talks_week"])[talks]
    share, se = first.mean(), first.std(ddof=1) / np.sqrt(talks.sum())
    assert share - Z * se >= 0.8, (share, se)
    # without mediation there is no inter-Korean contact, so it never comes first
    quiet = run(2000, rok_mediation=0.0, initial_stage=0).outcomes
    assert not quiet["inter_korean_talks"].any()


@pytest.mark.parametrize("mu, alpha, beta", [(0.2, 0.5, 1.0), (0.1, 0.3, 0.4)])
def test_hawkes_long_run_rate_matches_mu_over_one_minus_branching_ratio(mu, alpha, beta):
    constant_baseline = dict(
        test_baseline_rate=mu,
        hawkes_ratio=alpha / beta,
        hawkes_beta=beta,
        threat_hazard_weight=0.0,
        reactance_hazard_weight=0.0,
        progress_hazard_weight=0.0,
        moratorium_rate=0.0,
        substrategic_talks_weight=0.0,
    )
    n, burn_in, horizon = 2000, 40, 540
    # Common random numbers: with the same seeds, a run of 540 weeks repeats the first 40 weeks of
    # a run of 40 weeks exactly, so the difference of the totals counts weeks 41-540 alone.
    long = run(n, weeks=horizon, **constant_baseline).outcomes["tests"]
    short = run(n, weeks=burn_in, **constant_baseline).outcomes["tests"]
    per_week = (long - short) / (horizon - burn_in)
    expected = mu / (1 - alpha / beta)
    se = per_week.std(ddof=1) / np.sqrt(n)
    assert abs(per_week.mean() - expected) < Z * se, (per_week.mean(), expected, se)
