"""The rules of :mod:`model.rules`, compiled by numba for one run's scalars.

Each function here is the rule of the same name in :mod:`model.rules`, written for one run
(scalars in, scalars out; the per-rung progress is an array of five) so that numba compiles it
to machine code. Both engines call these compiled functions on the compiled path:

* the batched engine's compiled week (:mod:`model.kernel`) calls them inline, run by run;
* the Mesa engine's agents call them through :data:`MESA_RULES`, the same compiled functions
  with their results as numpy scalars (what the agents' state holds).

So the two engines compute every mechanism with the same machine code and agree bit for bit.
The numpy path (:mod:`model.rules` on arrays) stays the reference: it computes the same
equations in the same order, and differs only where numpy's vectorised ``exp``, ``expm1`` and
``pow`` round the last bit differently from the C library's, which numba calls (measured and
tested in tests/model/test_compiled.py). No ``fastmath``: IEEE arithmetic in the order written.

Writing a new rule: add it to :mod:`model.rules` (the equation, its source, arrays), then its
one-run form here with the same name and arguments, and call it from :mod:`model.kernel`;
the tests compare the two forms on random arguments.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
from numba import njit

from . import rules
from .rules import (
    EVENT_CONTACT,
    EVENT_ENDED,
    EVENT_RESUMED,
    EVENT_SUMMIT,
    EVENT_SUMMIT_DEAL,
    EVENT_SUMMIT_FAILED,
    EVENT_SUMMIT_NO_DEAL,
    EVENT_SUMMIT_STATEMENT,
    EVENT_SUSPENDED,
    EVENT_TALKS,
    EXPONENT_CAP,
    FULL_DENUCLEARISATION,
    ICBM_RUNG,
    INTER_KOREAN,
    MAX_TESTS_PER_WEEK,
    NEGOTIATIONS,
    NO_TALKS,
    NUCLEAR_RUNG,
    PRELIMINARY,
    RATE_CAP,
    SUMMIT_DEAL,
    SUMMIT_FAILED,
    SUMMIT_STATEMENT,
    SUSPENDED_TALKS,
)

_SOURCES = ("rules.py", "compiled.py", "rng_compiled.py", "kernel.py")


def _cache_directory() -> str:
    """Where numba caches the compiled path's machine code: a directory named by a hash of
    every source the machine code is built from. numba keys its cache on each function's own
    file, so a change to a rule here would leave the compiled week (model/kernel.py, which
    inlines the rules) stale; one key over all the sources cannot be stale."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(b"".join((here / name).read_bytes() for name in _SOURCES)).hexdigest()[:16]
    root = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "korea-escalation"
    )
    return os.path.join(root, f"numba-{numba.__version__}-{digest}")


_CACHE = _cache_directory()


def jit(function):
    """Compile ``function`` as every function of the compiled path is compiled: machine code
    cached in :func:`_cache_directory`'s directory (other numba code's caches are left where they
    were); no fastmath, so no reassociation or fused multiply-add (the arithmetic of the numpy
    rules); numpy's error model (a division by zero gives inf or NaN, as in the numpy rules, not
    an exception)."""
    if function.__doc__ is None and hasattr(rules, function.__name__):
        function.__doc__ = f":func:`model.rules.{function.__name__}` for one run's scalars, compiled."
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = _CACHE  # numba reads it when it sets up the function's cache
    try:
        return njit(cache=True, nogil=True, error_model="numpy")(function)
    finally:
        numba.config.CACHE_DIR = previous


# ---- generic building blocks -----------------------------------------------------------------


@jit
def maximum(a, b):
    """``np.maximum`` of two scalars (NaN if either is NaN; of two zeros, the first, whatever its sign)."""
    if a != a or a >= b:
        return a
    return b


@jit
def minimum(a, b):
    """``np.minimum`` of two scalars (NaN if either is NaN; of two zeros, the first, whatever its sign)."""
    if a != a or a <= b:
        return a
    return b


@jit
def exp(x):
    """``e ** x``, by the C library's ``exp`` (what numba calls), except ``exp(0) = 1`` without
    the call (the same bits: the weeks without a signal skip most of the week's ``exp``)."""
    return 1.0 if x == 0.0 else math.exp(x)


@jit
def power(base, exponent):
    """``base ** exponent`` by the C library's ``pow``, except ``x ** 0 = 1`` without the call
    (the same bits)."""
    return 1.0 if exponent == 0.0 else math.pow(base, exponent)


@jit
def flag(x):
    """A condition as 0.0 or 1.0 (numba has no ``float(bool)``)."""
    return 1.0 if x else 0.0


@jit
def event_probability(rate):
    return -math.expm1(-float(rate))


@jit
def bounded_accumulation(level, drive, gain, decay):
    return minimum(maximum(level + gain * drive * (1.0 - level) - decay * level, 0.0), 1.0)


@jit
def logit_choice(utility, precision):
    return 1.0 / (1.0 + exp(-precision * utility))


# ---- pressure --------------------------------------------------------------------------------


@jit
def alignment_factor(alignment, effect):
    return 1.0 - effect * (1.0 - alignment)


@jit
def effective_sanctions(level, china_enforcement, china_trade_share, alignment, alignment_effect):
    reach = china_trade_share * china_enforcement + (1.0 - china_trade_share)
    return level * reach * alignment_factor(alignment, alignment_effect)


@jit
def sanctions_adoption_probability(response_prob, japan_weight, japan_present):
    return minimum(1.0, response_prob * (1.0 + japan_weight * flag(japan_present)))


@jit
def package_adopted(pending, u, adoption_probability, endogenous):
    return bool(pending) and u < adoption_probability and endogenous > 0


@jit
def package_pending(pending, adopted, tests, rung, trigger_rung):
    return (bool(pending) and not adopted) or (tests > 0 and rung >= trigger_rung)


@jit
def escalate_sanctions(level, packages, escalation):
    return 1.0 - (1.0 - level) * power(1.0 - escalation, float(packages))


@jit
def alliance_alignment(alignment, mediation, pressure_first, rate, gap):
    target = 1.0 - gap * mediation * pressure_first
    return alignment + rate * (target - alignment)


@jit
def accumulate_stress(stress, pressure, gain, recovery):
    return bounded_accumulation(stress, pressure, gain, recovery)


@jit
def perceived_threat(threat, exercise, gain, decay):
    return bounded_accumulation(threat, exercise, gain, decay)


# ---- testing ---------------------------------------------------------------------------------


@jit
def baseline_test_rate(mu0, threat, reactance_level, progress, threat_weight, reactance_weight, progress_weight):
    exponent = threat_weight * threat + reactance_weight * reactance_level - progress_weight * progress
    return mu0 * exp(minimum(exponent, EXPONENT_CAP))


@jit
def self_excitation(excitation, tests, ratio, beta):
    decay = exp(-beta)
    jump = ratio * (1.0 - decay)
    return decay * excitation + jump * float(tests)


@jit
def track_excitation(excitation_sub, excitation_strat, tests, major, ratio, beta):
    return (
        self_excitation(excitation_sub, 0 if major else tests, ratio, beta),
        self_excitation(excitation_strat, tests if major else 0, ratio, beta),
    )


POISSON_ZERO_MARGIN = 2e-15
"""How far below ``1 - rate`` a uniform must lie for :func:`poisson_count` to return 0 without
computing ``exp(-rate)``: ``e ** -rate >= 1 - rate``, and this margin (about 18 ULP at 1) covers the
rounding of ``1 - rate`` and of ``exp``, so the shortcut gives the count the full sum gives."""


@jit
def poisson_count(rate, u):
    rate = minimum(float(rate), RATE_CAP)
    if u <= (1.0 - rate) - POISSON_ZERO_MARGIN:  # below F(0) = e ** -rate for certain: no event
        return 0
    pmf = exp(-rate)
    cdf = pmf
    count = 0
    for k in range(1, MAX_TESTS_PER_WEEK + 1):
        if not u > cdf:
            break
        count += 1
        pmf = pmf * rate / k
        cdf = cdf + pmf
    return count


@jit
def rung_progress(progress, tests, rung, per_test):
    """The per-rung progress (five values, a tuple) after the week's tests."""
    gap_kept = power(1.0 - per_test, float(tests))
    hit = tests > 0
    return (
        1.0 - (1.0 - progress[0]) * gap_kept if hit and rung == 1 else progress[0] * 1.0,
        1.0 - (1.0 - progress[1]) * gap_kept if hit and rung == 2 else progress[1] * 1.0,
        1.0 - (1.0 - progress[2]) * gap_kept if hit and rung == 3 else progress[2] * 1.0,
        1.0 - (1.0 - progress[3]) * gap_kept if hit and rung == 4 else progress[3] * 1.0,
        1.0 - (1.0 - progress[4]) * gap_kept if hit and rung == 5 else progress[4] * 1.0,
    )


@jit
def strategic_progress(progress):
    return (progress[ICBM_RUNG - 1] + progress[NUCLEAR_RUNG - 1]) / 2.0


@jit
def _rung_utility(r, progress, last, red_talks, development_weight, distance_cost, red_line_cost):
    red = red_talks if r >= ICBM_RUNG else 0.0
    return development_weight * (1.0 - progress[r - 1]) - distance_cost * abs(r - last) - red_line_cost * red


@jit
def rung_weights(
    progress, last_rung, in_talks, precision, development_weight, distance_cost, red_line_cost, talks_multiplier
):
    last = max(last_rung, 1)
    red_talks = 1.0 + talks_multiplier * flag(in_talks)
    u1 = _rung_utility(1, progress, last, red_talks, development_weight, distance_cost, red_line_cost)
    u2 = _rung_utility(2, progress, last, red_talks, development_weight, distance_cost, red_line_cost)
    u3 = _rung_utility(3, progress, last, red_talks, development_weight, distance_cost, red_line_cost)
    u4 = _rung_utility(4, progress, last, red_talks, development_weight, distance_cost, red_line_cost)
    u5 = _rung_utility(5, progress, last, red_talks, development_weight, distance_cost, red_line_cost)
    top = maximum(maximum(maximum(maximum(u1, u2), u3), u4), u5)
    return (
        exp(precision * (u1 - top)),
        exp(precision * (u2 - top)),
        exp(precision * (u3 - top)),
        exp(precision * (u4 - top)),
        exp(precision * (u5 - top)),
    )


@jit
def inverse_cdf(weights, u):
    total = weights[0]
    for k in range(1, len(weights)):
        total = total + weights[k]
    target = float(u) * total
    chosen = 0
    cumulative = weights[0]
    for k in range(1, len(weights)):
        if target > cumulative:
            chosen += 1
        cumulative = cumulative + weights[k]
    return chosen


@jit
def track_factors(moratorium, moratorium_weight, in_talks, talks_weight):
    return exp(-talks_weight * flag(in_talks)), exp(-moratorium_weight * flag(moratorium))


@jit
def track_hazards(baseline, excitation_sub, excitation_strat, weights, f_sub, f_strat):
    total = weights[0] + weights[1] + weights[2] + weights[3] + weights[4]
    sub = weights[0] + weights[1] + weights[2]
    strat = weights[3] + weights[4]
    rate = minimum(baseline, RATE_CAP)
    return (rate * (sub / total) + excitation_sub) * f_sub, (rate * (strat / total) + excitation_strat) * f_strat


@jit
def choose_rung(weights, h_sub, h_strat, tests, u, last_rung):
    if not tests > 0:
        return last_rung
    sub = weights[0] + weights[1] + weights[2]
    strat = weights[3] + weights[4]
    sub_safe = sub if sub > 0 else 1.0
    strat_safe = strat if strat > 0 else 1.0
    scaled = (
        h_sub * (weights[0] / sub_safe),
        h_sub * (weights[1] / sub_safe),
        h_sub * (weights[2] / sub_safe),
        h_strat * (weights[3] / strat_safe),
        h_strat * (weights[4] / strat_safe),
    )
    return 1 + inverse_cdf(scaled, u)


@jit
def major_test(tests, rung):
    return tests > 0 and rung >= ICBM_RUNG


@jit
def china_test_memory(memory, tests, rung, decay):
    return (1.0 - decay) * memory + float(tests if major_test(tests, rung) else 0)


@jit
def china_enforcement(
    base, trust, initial_trust, sensitivity, test_response, memory, talks_relief, in_talks, relief_follow, relief
):
    level = (
        base
        + sensitivity * (initial_trust - trust)
        + test_response * memory
        - talks_relief * flag(in_talks)
        - relief_follow * relief
    )
    return minimum(maximum(level, 0.0), 1.0)


# ---- trust -----------------------------------------------------------------------------------


@jit
def update_trust(trust, log_likelihood_ratio):
    numerator = trust * 1.0
    return numerator / (numerator + (1.0 - trust) * exp(log_likelihood_ratio))


@jit
def depreciate_trust(trust, prior, rate):
    return trust + rate * (prior - trust)


@jit
def test_signal(tests, rung, test_llr, quiet_llr):
    if tests > 0:
        return test_llr * rung * tests
    return -quiet_llr


@jit
def alliance_signal(held, forgone, packages, exercise_llr, suspension_llr, sanctions_llr):
    return exercise_llr * held - suspension_llr * forgone + sanctions_llr * packages


@jit
def step_signal(step_taken, signal_llr):
    return -signal_llr * float(step_taken)


@jit
def relief_signal(relief_before, relief_after, signal_llr):
    return -signal_llr * maximum(relief_after - relief_before, 0.0)


@jit
def summit_trust_signal(outcome, statement_llr, failure_llr):
    if outcome == SUMMIT_STATEMENT:
        return -statement_llr
    if outcome == SUMMIT_FAILED:
        return failure_llr * 1.0
    return 0.0


@jit
def reactance(level, packages, decay, per_package, trust_us, in_talks, spoiler_per_package):
    per = spoiler_per_package if in_talks else per_package
    return (1.0 - decay) * level + per * (1.0 - trust_us) * packages


@jit
def talks_memory(memory, failed, stage_before, remembered_before, stage_after, decay):
    level = remembered_before if stage_before == SUSPENDED_TALKS else stage_before
    ended = stage_before != NO_TALKS and stage_after == NO_TALKS
    us_level = ended and (level == PRELIMINARY or level == NEGOTIATIONS)
    collapsed = ended and level == NEGOTIATIONS
    events = flag(failed) + flag(us_level) + flag(collapsed)
    return (1.0 - decay) * memory + events


# ---- talks -----------------------------------------------------------------------------------


@jit
def dprk_talk_utility(
    base,
    stress,
    trust_us,
    threat,
    progress,
    pressure_first,
    stress_weight,
    trust_weight,
    threat_weight,
    progress_weight,
    precondition_cost,
    memory,
    memory_weight,
    expected,
    expectation_weight,
):
    return (
        base
        + stress_weight * stress
        + trust_weight * trust_us
        - threat_weight * threat
        + progress_weight * progress
        - precondition_cost * pressure_first
        - memory_weight * memory
        + expectation_weight * expected
    )


@jit
def us_talk_utility(base, trust_dprk, pressure_first, trust_weight, pressure_first_penalty):
    return base + trust_weight * trust_dprk - pressure_first_penalty * pressure_first


@jit
def talks_rates(mediation, dprk_willing, us_willing, alignment_share, inter_korean_rate, direct_rate, us_dprk_rate):
    both = dprk_willing * us_willing * alignment_share
    return inter_korean_rate * mediation * dprk_willing, direct_rate * both, us_dprk_rate * both


@jit
def talks_under_way(stage):
    return INTER_KOREAN <= stage <= NEGOTIATIONS


@jit
def talks_open(stage):
    return stage != NO_TALKS


@jit
def talks_at_us_level(stage):
    return stage == PRELIMINARY or stage == NEGOTIATIONS


@jit
def talks_refused(stage, us_utility, dprk_utility):
    return stage != PRELIMINARY and stage != NEGOTIATIONS and us_utility > 0 and dprk_utility <= 0


@jit
def suspension_hazard(base, packages, held, tests, rung, per_package, per_exercise, per_test):
    minor = tests if rung <= ICBM_RUNG - 1 else 0
    return base + per_package * packages + per_exercise * held + per_test * minor


@jit
def summit_hazard(rate, dprk_willing, us_willing, weeks_since, spacing):
    return rate * dprk_willing * us_willing * minimum(1.0, float(weeks_since) / maximum(float(spacing), 1.0))


@jit
def weeks_since_summit_after(weeks, summit):
    return 0 if summit else weeks + 1


@jit
def idle_end_hazard(idle_weeks, rate, patience):
    return rate * minimum(1.0, float(idle_weeks) / maximum(float(patience), 1.0))


@jit
def idle_weeks_after(idle, stage, summit, step_taken, relief_changed):
    reset = summit or step_taken > 0 or relief_changed
    in_stage = stage == PRELIMINARY or stage == NEGOTIATIONS
    return idle + 1 if in_stage and not reset else 0


@jit
def talks_transition(
    stage,
    remembered,
    u_exit,
    u_advance,
    major,
    suspend_rate,
    idle_rate,
    r01,
    r02,
    r12,
    summit_rate,
    resume_rate,
    end_rate,
):
    in_progress = INTER_KOREAN <= stage <= NEGOTIATIONS
    prelim_or_summit = stage == PRELIMINARY or stage == NEGOTIATIONS
    idle = idle_rate * 1.0 if prelim_or_summit else 0.0
    exit_rate = suspend_rate + idle
    p_exit = event_probability(exit_rate) if in_progress else 0.0  # read only for talks in progress
    share_suspend = suspend_rate / exit_rate if exit_rate > 0 else 0.0
    exits = in_progress and u_exit < p_exit and not major
    suspended = exits and u_exit < p_exit * share_suspend
    withered = exits and not suspended
    ended_by_test = stage >= INTER_KOREAN and major
    from_none = r01 + r02
    from_suspended = resume_rate + end_rate
    if stage == NO_TALKS:
        out_rate = from_none
    elif stage == INTER_KOREAN:
        out_rate = r12
    elif prelim_or_summit:
        out_rate = summit_rate
    else:
        out_rate = from_suspended
    # 1 - e ** -rate <= rate for every rate (and the rounded expm1 too): a uniform at or above the
    # rate cannot move. The rate then stands in for the probability without expm1: the uniform is
    # not below it either, and p_move is read only where a move is.
    p_move = event_probability(out_rate) if u_advance < out_rate else out_rate
    moves = u_advance < p_move and not exits and not ended_by_test
    share_01 = r01 / from_none if from_none > 0 else 0.0
    share_resume = resume_rate / from_suspended if from_suspended > 0 else 0.0
    first = INTER_KOREAN if u_advance < p_move * share_01 else PRELIMINARY
    back = remembered if u_advance < p_move * share_resume else NO_TALKS
    summit = moves and prelim_or_summit
    resumed_or_ended = moves and stage == SUSPENDED_TALKS
    if stage == NO_TALKS:
        target = first
    elif stage == INTER_KOREAN:
        target = PRELIMINARY
    elif stage == SUSPENDED_TALKS:
        target = back
    else:
        target = stage
    if ended_by_test or withered:
        new_stage = NO_TALKS
    elif suspended:
        new_stage = SUSPENDED_TALKS
    elif moves and not summit:
        new_stage = target
    else:
        new_stage = stage
    ended = ended_by_test or withered or (resumed_or_ended and new_stage == NO_TALKS)
    new_remembered = stage if suspended else remembered
    return new_stage, new_remembered, summit, suspended, ended


@jit
def summit_result(stage, remembered, outcome):
    failed = outcome == SUMMIT_FAILED
    if outcome == SUMMIT_DEAL:
        new_stage = NEGOTIATIONS
    elif failed:
        new_stage = SUSPENDED_TALKS
    else:
        new_stage = stage
    return new_stage, (stage if failed else remembered), failed


@jit
def forced_event(stage, remembered, code):
    in_progress = INTER_KOREAN <= stage <= NEGOTIATIONS
    new = stage
    if code == EVENT_CONTACT:
        new = stage if in_progress else INTER_KOREAN
    if code == EVENT_TALKS:
        new = stage if (stage == PRELIMINARY or stage == NEGOTIATIONS) else PRELIMINARY
    summit_codes = (
        code == EVENT_SUMMIT
        or code == EVENT_SUMMIT_DEAL
        or code == EVENT_SUMMIT_NO_DEAL
        or code == EVENT_SUMMIT_STATEMENT
        or code == EVENT_SUMMIT_FAILED
    )
    if summit_codes and stage != NEGOTIATIONS:
        new = PRELIMINARY
    if code == EVENT_SUSPENDED and in_progress:
        new = SUSPENDED_TALKS
        remembered = stage
    if code == EVENT_RESUMED:
        if stage == SUSPENDED_TALKS:
            new = remembered
        elif stage < PRELIMINARY:
            new = PRELIMINARY
        else:
            new = stage
    if code == EVENT_ENDED:
        new = NO_TALKS
    if code == EVENT_SUMMIT_DEAL:
        outcome = SUMMIT_DEAL
    elif code == EVENT_SUMMIT_STATEMENT:
        outcome = SUMMIT_STATEMENT
    elif code == EVENT_SUMMIT_FAILED:
        outcome = SUMMIT_FAILED
    elif code == EVENT_SUMMIT_NO_DEAL:
        outcome = -2
    else:
        outcome = -1
    return new, remembered, summit_codes, outcome


# ---- steps, relief, moratorium, summits ------------------------------------------------------


@jit
def step_cost(step, theta, scale):
    k = float(step)
    return theta * scale * (k * k)


@jit
def draw_step_cost_multiplier(u, low_share, high):
    low = low_share * high
    return low + u * (high - low)


@jit
def relief_granted(step, threshold, all_at_end, per_step):
    if all_at_end > 0:
        return 1.0 if step >= FULL_DENUCLEARISATION else 0.0
    if step >= threshold:
        return minimum(1.0, per_step * float(step - threshold + 1))
    return 0.0


@jit
def current_relief(step, snapped_back, threshold, all_at_end, per_step):
    if snapped_back:
        return 0.0
    return relief_granted(step, threshold, all_at_end, per_step)


@jit
def relief_needed_step(threshold, all_at_end):
    return FULL_DENUCLEARISATION if all_at_end > 0 else threshold


@jit
def relief_value(relief, stress, relief_weight, stress_weight):
    return (relief_weight + stress_weight * stress) * relief


@jit
def step_utility(
    step,
    expected,
    stress,
    trust_us,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
    trust_weight,
):
    relief = relief_granted(step, threshold, all_at_end, per_step)
    return (
        relief_value(relief, stress, relief_weight, stress_weight)
        + expectation_weight * expected
        + trust_weight * trust_us
        - step_cost(step, theta, cost_scale)
    )


@jit
def next_step(
    step,
    u,
    eligible,
    rate,
    precision,
    expected,
    stress,
    trust_us,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
    trust_weight,
):
    k = min(step + 1, FULL_DENUCLEARISATION)
    utility = step_utility(
        k,
        expected,
        stress,
        trust_us,
        theta,
        threshold,
        all_at_end,
        per_step,
        cost_scale,
        relief_weight,
        stress_weight,
        expectation_weight,
        trust_weight,
    )
    take = bool(eligible) and step >= 1 and step < FULL_DENUCLEARISATION and u < rate * logit_choice(utility, precision)
    if take:
        return k, k
    return step, 0


@jit
def moratorium_utility(base, expected, strategic, trust_us, expectation_weight, progress_weight, trust_weight):
    return base + expectation_weight * expected + progress_weight * strategic + trust_weight * trust_us


@jit
def moratorium_break_hazard(expected, patience, rate, precision):
    return rate * logit_choice(patience - expected, precision)


@jit
def next_moratorium(moratorium, u, in_talks, declare_probability, break_hazard, major):
    declared = (not moratorium) and bool(in_talks) and u < declare_probability and not major
    broken = bool(moratorium) and (u < event_probability(break_hazard) or bool(major))
    return (bool(moratorium) or declared) and not broken, declared, broken


@jit
def step_after_moratorium(step, declared, broken, step_taken):
    if declared:
        step = max(step, 1)
    if broken and step == 1 and step_taken == 0:
        return 0
    return step


@jit
def expected_relief(expected, relief, summit, failed, learning, summit_expectation, failure_cut):
    adapted = expected + learning * (relief - expected)
    if failed:
        return expected * (1.0 - failure_cut)
    if summit:
        return maximum(expected, summit_expectation)
    return adapted


@jit
def offer_utility(
    k,
    step,
    expected,
    stress,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
):
    relief = relief_granted(k, threshold, all_at_end, per_step)
    more = 1.0 if k > step else 0.0
    return (
        relief_value(relief, stress, relief_weight, stress_weight)
        + expectation_weight * expected * more
        - step_cost(k, theta, cost_scale)
    )


@jit
def choose_offer(
    step,
    u,
    precision,
    expected,
    stress,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
):
    args = (
        step,
        expected,
        stress,
        theta,
        threshold,
        all_at_end,
        per_step,
        cost_scale,
        relief_weight,
        stress_weight,
        expectation_weight,
    )
    v0 = offer_utility(0, *args)
    v1 = offer_utility(1, *args)
    v2 = offer_utility(2, *args)
    v3 = offer_utility(3, *args)
    v4 = offer_utility(4, *args)
    top = v4 if step <= 4 else -np.inf
    top = maximum(top, v0 if step <= 0 else -np.inf)
    top = maximum(top, v1 if step <= 1 else -np.inf)
    top = maximum(top, v2 if step <= 2 else -np.inf)
    top = maximum(top, v3 if step <= 3 else -np.inf)
    weights = (
        exp(precision * minimum(v0 - top, 0.0)) if step <= 0 else 0.0,
        exp(precision * minimum(v1 - top, 0.0)) if step <= 1 else 0.0,
        exp(precision * minimum(v2 - top, 0.0)) if step <= 2 else 0.0,
        exp(precision * minimum(v3 - top, 0.0)) if step <= 3 else 0.0,
        exp(precision * minimum(v4 - top, 0.0)) if step <= 4 else 0.0,
    )
    offer = inverse_cdf(weights, u)
    return step if offer < step else offer


@jit
def summit_outcome(
    offer,
    needed,
    u,
    precision,
    trust_us_dprk,
    trust_dprk_us,
    trust_weight,
    trust_threshold,
    statement_base,
    gap_cost,
    forced,
):
    trust = minimum(trust_us_dprk, trust_dprk_us)
    accept = logit_choice(trust_weight * (trust - trust_threshold), precision)
    p_deal = accept if (offer >= needed and forced == -1) else 0.0
    gap = float(max(needed - offer, 0))
    p_statement = (1.0 - p_deal) * logit_choice(statement_base - gap_cost * gap, precision)
    if u < p_deal:
        drawn = SUMMIT_DEAL
    elif u < p_deal + p_statement:
        drawn = SUMMIT_STATEMENT
    else:
        drawn = SUMMIT_FAILED
    return forced if forced >= 0 else drawn


# ---- the compiled rules as the Mesa agents call them ----------------------------------------


def _as_numpy(value: Any) -> Any:
    """A compiled function's result as the Mesa engine's state holds it: numpy scalars (so that
    ``~``, ``&`` and ``|`` mean what they mean on numpy booleans), tuples element by element."""
    if isinstance(value, tuple):
        return tuple(_as_numpy(v) for v in value)
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    return value


def _scalar(x: Any) -> Any:
    """A Mesa value as a compiled function takes it: numpy scalars as Python scalars (numba
    compiles one version per argument type, and numpy scalar types would multiply them)."""
    return x.item() if isinstance(x, np.generic) else x


def _for_mesa(function):
    def call(*args):
        return _as_numpy(function(*[_scalar(a) for a in args]))

    call.__name__ = function.__name__
    call.__doc__ = getattr(rules, function.__name__).__doc__
    return call


RULE_NAMES: tuple[str, ...] = (
    "event_probability",
    "bounded_accumulation",
    "logit_choice",
    "alignment_factor",
    "effective_sanctions",
    "sanctions_adoption_probability",
    "package_adopted",
    "package_pending",
    "escalate_sanctions",
    "alliance_alignment",
    "accumulate_stress",
    "perceived_threat",
    "baseline_test_rate",
    "self_excitation",
    "track_excitation",
    "poisson_count",
    "rung_progress",
    "strategic_progress",
    "rung_weights",
    "inverse_cdf",
    "track_factors",
    "track_hazards",
    "choose_rung",
    "major_test",
    "china_test_memory",
    "china_enforcement",
    "update_trust",
    "depreciate_trust",
    "test_signal",
    "alliance_signal",
    "step_signal",
    "relief_signal",
    "summit_trust_signal",
    "reactance",
    "talks_memory",
    "dprk_talk_utility",
    "us_talk_utility",
    "talks_rates",
    "talks_under_way",
    "talks_open",
    "talks_at_us_level",
    "talks_refused",
    "suspension_hazard",
    "summit_hazard",
    "weeks_since_summit_after",
    "idle_end_hazard",
    "idle_weeks_after",
    "talks_transition",
    "summit_result",
    "forced_event",
    "step_cost",
    "draw_step_cost_multiplier",
    "relief_granted",
    "current_relief",
    "relief_needed_step",
    "relief_value",
    "step_utility",
    "next_step",
    "moratorium_utility",
    "moratorium_break_hazard",
    "next_moratorium",
    "step_after_moratorium",
    "expected_relief",
    "offer_utility",
    "choose_offer",
    "summit_outcome",
)
"""The rules compiled here, by their name in :mod:`model.rules`."""

MESA_RULES = SimpleNamespace(
    **{name: getattr(rules, name) for name in dir(rules) if name.isupper()},
    where=rules.where,
    **{name: _for_mesa(globals()[name]) for name in RULE_NAMES},
)
"""The rules as the Mesa agents call them on the compiled path: the constants and ``where`` of
:mod:`model.rules` (no arithmetic), and every compiled rule with numpy scalars in and out."""
