"""Each behaviour rule against values computed by hand (the arithmetic is in the comments),
and each rule on arrays equal to the rule on scalars element by element."""

import math

import numpy as np
import pytest

from model import rules
from model.policies import (
    AS_SCHEDULED,
    DELAYED,
    SCALED_DOWN,
    SUSPENDED,
    SUSPENDED_DURING_TALKS,
    apply_sanctions_floor,
    forgone_exercise,
    held_exercise,
)


def test_event_probability():
    # 1 - exp(-0.5) = 0.3934693402873666
    assert rules.event_probability(0.5) == pytest.approx(0.3934693402873666, abs=1e-15)
    assert rules.event_probability(0.0) == 0.0


def test_bounded_accumulation():
    # 0.4 + 0.5*0.8*(1-0.4) - 0.1*0.4 = 0.4 + 0.24 - 0.04 = 0.6
    assert rules.bounded_accumulation(0.4, 0.8, 0.5, 0.1) == pytest.approx(0.6, abs=1e-15)
    # clipped at 1: 0.9 + 2*1*0.1 - 0 = 1.1 -> 1
    assert rules.bounded_accumulation(0.9, 1.0, 2.0, 0.0) == 1.0


def test_logit_choice():
    # 1/(1+exp(-3*0.5)) = 1/(1+0.22313016) = 0.8175744762
    assert rules.logit_choice(0.5, 3.0) == pytest.approx(0.8175744761936437, abs=1e-15)
    assert rules.logit_choice(0.0, 7.0) == 0.5


def test_effective_sanctions():
    # reach = 0.95*0.7 + 0.05 = 0.715; factor = 1 - 0.3*(1-0.6) = 0.88; p = 0.9*0.715*0.88 = 0.56628
    assert rules.effective_sanctions(0.9, 0.7, 0.95, 0.6, 0.3) == pytest.approx(0.56628, abs=1e-15)
    # China enforcing nothing leaves only the 5% of trade outside China: 1*0.05*1
    assert rules.effective_sanctions(1.0, 0.0, 0.95, 1.0, 0.3) == pytest.approx(0.05, abs=1e-15)


def test_china_enforcement():
    # trust only: 0.7 + 0.5*(0.6 - 0.2) = 0.9 ; clipped above: 0.7 + 2*(0.6-0) = 1.9 -> 1
    assert rules.china_enforcement(0.7, 0.2, 0.6, 0.5, 0.2, 0.0, 0.15, False, 0.5, 0.0) == pytest.approx(0.9, abs=1e-15)
    assert rules.china_enforcement(0.7, 0.0, 0.6, 2.0, 0.2, 0.0, 0.15, False, 0.5, 0.0) == 1.0


def test_sanctions_adoption_and_escalation():
    # 0.15 * (1 + 0.5) = 0.225 with Japan, 0.15 without; capped at 1
    assert rules.sanctions_adoption_probability(0.15, 0.5, True) == pytest.approx(0.225)
    assert rules.sanctions_adoption_probability(0.15, 0.5, False) == pytest.approx(0.15)
    assert rules.sanctions_adoption_probability(0.8, 1.0, True) == 1.0
    # 1 - (1-0.6)*(1-0.5)^2 = 1 - 0.4*0.25 = 0.9
    assert rules.escalate_sanctions(0.6, 2, 0.5) == pytest.approx(0.9, abs=1e-15)
    assert rules.escalate_sanctions(0.6, 0, 0.5) == pytest.approx(0.6, abs=1e-15)


def test_package_adoption_and_pending():
    assert rules.package_adopted(True, 0.1, 0.2, 1.0)
    assert not rules.package_adopted(True, 0.3, 0.2, 1.0)
    assert not rules.package_adopted(False, 0.1, 0.2, 1.0)
    assert not rules.package_adopted(True, 0.1, 0.2, 0.0)  # scenario dictates sanctions
    # an ICBM test (rung 3) starts a package; a short-range one (rung 1) does not
    assert rules.package_pending(False, False, 1, 3, 3)
    assert not rules.package_pending(False, False, 2, 1, 3)
    assert not rules.package_pending(True, True, 0, 3, 3)  # adopted, nothing new
    assert rules.package_pending(True, False, 0, 0, 3)  # still on its way


def test_alliance_alignment():
    # target = 1 - 0.5*0.8*1 = 0.6; a' = 0.9 + 0.3*(0.6 - 0.9) = 0.81
    assert rules.alliance_alignment(0.9, 0.8, 1.0, 0.3, 0.5) == pytest.approx(0.81, abs=1e-15)
    # pressure and engagement: target 1; 0.6 + 0.3*0.4 = 0.72
    assert rules.alliance_alignment(0.6, 0.8, 0.0, 0.3, 0.5) == pytest.approx(0.72, abs=1e-15)
    # 1 - 0.3*(1-0.5) = 0.85
    assert rules.alignment_factor(0.5, 0.3) == pytest.approx(0.85)


def test_stress_threat_reactance_progress():
    # stress: 0.5 + 0.1*0.6*0.5 - 0.05*0.5 = 0.5 + 0.03 - 0.025 = 0.505
    assert rules.accumulate_stress(0.5, 0.6, 0.1, 0.05) == pytest.approx(0.505, abs=1e-15)
    # threat during a full exercise week: 0.3 + 0.5*1*0.7 - 0.3*0.3 = 0.3 + 0.35 - 0.09 = 0.56
    assert rules.perceived_threat(0.3, 1.0, 0.5, 0.3) == pytest.approx(0.56, abs=1e-15)
    # no exercise: 0.3 - 0.09 = 0.21
    assert rules.perceived_threat(0.3, 0.0, 0.5, 0.3) == pytest.approx(0.21, abs=1e-15)
    # reactance with no trust toward the US: 0.75*2 + 1*1 = 2.5 (the spiral scaling: tests/model/test_rules_steps.py)
    assert rules.reactance(2.0, 1, 0.25, 1.0, 0.0, False, 0.0) == pytest.approx(2.5)


def test_baseline_test_rate():
    # 0.3 * exp(1*0.5 + 1.5*1 - 2*0.9) = 0.3 * exp(0.2) = 0.3 * 1.22140275816 = 0.36642082745
    got = rules.baseline_test_rate(0.3, 0.5, 1.0, 0.9, 1.0, 1.5, 2.0)
    assert got == pytest.approx(0.3 * math.exp(0.2), rel=1e-14)
    assert got == pytest.approx(0.36642082745, rel=1e-9)


def test_hawkes_kernel_sums_to_branching_ratio():
    # alpha=0.4, beta=1: decay e^-1 = 0.36787944; jump 0.4*(1-0.36787944) = 0.25284822
    decay, jump = rules.hawkes_decay_and_jump(0.4, 1.0)
    assert decay == pytest.approx(0.36787944117144233)
    assert jump == pytest.approx(0.25284822353142306)
    # the jumps of one test summed over all later weeks: jump / (1 - decay) = alpha/beta
    assert jump / (1 - decay) == pytest.approx(0.4, rel=1e-14)
    # H' = e^-1 * 0.5 + 0.25284822*2 = 0.18393972 + 0.50569645 = 0.68963617
    assert rules.self_excitation(0.5, 2, 0.4, 1.0) == pytest.approx(0.68963617, rel=1e-8)


def test_poisson_count_inverse_cdf():
    # rate 1: F(0)=e^-1=0.367879, F(1)=0.735759, F(2)=0.919699, F(3)=0.981012
    u = np.array([0.1, 0.367, 0.368, 0.7, 0.8, 0.95, 0.99])
    assert rules.poisson_count(1.0, u).tolist() == [0, 0, 1, 1, 2, 3, 4]
    assert rules.poisson_count(0.0, 0.999) == 0
    # the truncation: at most MAX_TESTS_PER_WEEK
    assert rules.poisson_count(50.0, 1 - 1e-12) == rules.MAX_TESTS_PER_WEEK


def test_bayes_trust_kydd():
    # mu=0.5, q_S=0.2, q_G=0.6: 0.1 / (0.1 + 0.3) = 0.25
    assert rules.bayes_trust(0.5, 0.2, 0.6) == pytest.approx(0.25, abs=1e-15)
    # llr = log 3 is the same signal: 0.5 / (0.5 + 0.5*3) = 0.25
    assert rules.update_trust(0.5, math.log(3)) == pytest.approx(0.25, abs=1e-15)
    # a signal with llr 0 leaves trust unchanged
    assert rules.update_trust(0.3, 0.0) == pytest.approx(0.3, abs=1e-15)


def test_signals():
    # 2 tests at rung 3: 0.2*3*2 = 1.2; quiet week: -0.02
    assert rules.test_signal(2, 3, 0.2, 0.02) == pytest.approx(1.2)
    assert rules.test_signal(0, 3, 0.2, 0.02) == pytest.approx(-0.02)
    # 0.05*0.5 - 0.15*0.5 + 0.2*1 = 0.025 - 0.075 + 0.2 = 0.15
    assert rules.alliance_signal(0.5, 0.5, 1, 0.05, 0.15, 0.2) == pytest.approx(0.15, abs=1e-15)


def test_talk_utilities():
    # -0.5 + 1.5*0.5 + 2*0.2 - 1*0.3 + 0.5*0.8 - 1*1 = -0.5 + 0.75 + 0.4 - 0.3 + 0.4 - 1 = -0.25
    assert rules.dprk_talk_utility(-0.5, 0.5, 0.2, 0.3, 0.8, 1, 1.5, 2.0, 1.0, 0.5, 1.0) == pytest.approx(-0.25)
    # 0.5 + 2*0.2 - 1*0 = 0.9
    assert rules.us_talk_utility(0.5, 0.2, 0, 2.0, 1.0) == pytest.approx(0.9)


def test_talks_rates():
    r01, r02, r12 = rules.talks_rates(0.8, 0.5, 0.4, 0.9, 0.5, 0.02, 0.04)
    assert r01 == pytest.approx(0.5 * 0.8 * 0.5)  # 0.2
    assert r02 == pytest.approx(0.02 * 0.5 * 0.4 * 0.9)  # 0.0036
    assert r12 == pytest.approx(0.04 * 0.5 * 0.4 * 0.9)  # 0.0072


def test_exercise_policies():
    x, scale = 0.8, 0.5
    assert held_exercise(x, AS_SCHEDULED, 0, scale) == pytest.approx(0.8)
    assert held_exercise(x, DELAYED, 0, scale) == pytest.approx(0.8)  # the calendar was shifted
    assert held_exercise(x, SCALED_DOWN, 0, scale) == pytest.approx(0.4)
    assert held_exercise(x, SUSPENDED, 0, scale) == 0.0
    assert held_exercise(x, SUSPENDED_DURING_TALKS, 1, scale) == pytest.approx(0.8)  # only inter-Korean
    assert held_exercise(x, SUSPENDED_DURING_TALKS, 2, scale) == 0.0
    assert forgone_exercise(1.0, 0.4) == pytest.approx(0.6)
    assert forgone_exercise(0.0, 0.4) == 0.0  # a delayed exercise held later is not "forgone"
    assert apply_sanctions_floor(0.5, np.nan) == 0.5
    assert apply_sanctions_floor(0.5, 0.65) == 0.65
    assert apply_sanctions_floor(0.7, 0.65) == 0.7  # pressure never comes off


def test_rules_on_arrays_equal_rules_on_scalars():
    rng = np.random.default_rng(3)
    n = 50
    stage = rng.integers(0, 5, n)
    uc, ua, h = rng.random(n), rng.random(n), rng.random(n) * 2
    r = [rng.random(n) * 0.5 for _ in range(6)]
    major = rng.random(n) < 0.1
    arrays = rules.talks_transition(stage, 2, uc, ua, major, h, r[0], r[1], r[2], r[3], r[4], r[5], 0.1)
    for i in range(n):
        one = rules.talks_transition(int(stage[i]), 2, uc[i], ua[i], bool(major[i]), h[i], *(x[i] for x in r), 0.1)
        assert all(np.asarray(a)[i] == b for a, b in zip(arrays, one, strict=True))
    rate, u = rng.random(n) * 3, rng.random(n)
    counts = rules.poisson_count(rate, u)
    assert [int(rules.poisson_count(rate[i], u[i])) for i in range(n)] == counts.tolist()


def _rule_arguments(rng, n):
    """Arguments for every rule over wide ranges: (rule, list of argument arrays)."""
    share = lambda: rng.random(n)  # noqa: E731
    pos = lambda scale=3.0: rng.random(n) * scale  # noqa: E731
    count = lambda: rng.integers(0, 11, n)  # noqa: E731
    rung = lambda: rng.integers(0, rules.RUNGS + 1, n)  # noqa: E731
    flag = lambda: rng.integers(0, 2, n).astype(float)  # noqa: E731
    signed = lambda: rng.normal(0, 3, n)  # noqa: E731
    stage = lambda: rng.integers(0, 5, n)  # noqa: E731
    step = lambda: rng.integers(0, 5, n)  # noqa: E731
    threshold = lambda: rng.integers(1, 5, n)  # noqa: E731
    return [
        (rules.power, [share(), count()]),
        (rules.event_probability, [pos()]),
        (rules.bounded_accumulation, [share(), pos(), share(), share()]),
        (rules.logit_choice, [signed(), pos(20)]),
        (rules.alignment_factor, [share(), share()]),
        (rules.effective_sanctions, [share(), share(), share(), share(), share()]),
        (
            rules.china_enforcement,
            [share(), share(), share(), pos(), pos(), pos(), share(), flag() > 0, pos(), share()],
        ),
        (rules.sanctions_adoption_probability, [share(), pos(), flag() > 0]),
        (rules.package_adopted, [flag() > 0, share(), share(), flag()]),
        (rules.package_pending, [flag() > 0, flag() > 0, count(), rung(), rung()]),
        (rules.escalate_sanctions, [share(), count(), share()]),
        (rules.alliance_alignment, [share(), share(), flag(), share(), share()]),
        (rules.accumulate_stress, [share(), share(), share(), share()]),
        (rules.perceived_threat, [share(), share(), share(), share()]),
        (rules.reactance, [pos(), count(), share(), share(), share(), flag() > 0, share()]),
        (rules.talks_memory, [pos(), flag() > 0, stage(), rng.integers(1, 4, n), stage(), share()]),
        (rules.talks_refused, [stage(), signed(), signed()]),
        (rules.baseline_test_rate, [pos(0.5), share(), pos(), share(), pos(), pos(), pos(10)]),
        (rules.self_excitation, [pos(), count(), pos(1), 1 + pos(1)]),
        (rules.track_excitation, [pos(), pos(), count(), flag() > 0, pos(1), 1 + pos(1)]),
        (rules.poisson_count, [pos(), share()]),
        (rules.update_trust, [share(), signed()]),
        (rules.test_signal, [count(), rung(), pos(), pos()]),
        (rules.alliance_signal, [share(), share(), count(), pos(), pos(), pos()]),
        (
            rules.dprk_talk_utility,
            [signed(), share(), share(), share(), share(), flag(), pos(), pos(), pos(), pos(), pos(), pos(), pos()]
            + [share(), pos()],
        ),
        (rules.us_talk_utility, [signed(), share(), flag(), pos(), pos()]),
        (rules.talks_rates, [share(), share(), share(), share(), pos(), pos(), pos()]),
        # the per-rung rules are checked in tests/model/test_rules_steps.py
        (rules.talks_under_way, [stage()]),
        (rules.talks_at_us_level, [stage()]),
        (rules.talks_open, [stage()]),
        (rules.talks_reached, [stage(), rng.integers(1, 4, n)]),
        (rules.major_test, [count(), rung()]),
        (rules.track_factors, [flag() > 0, pos(10), flag() > 0, pos(10)]),
        (rules.relief_value, [share(), share(), pos(), pos()]),
        (rules.summit_trust_signal, [rng.integers(0, 4, n), pos(), pos()]),
        (rules.china_test_memory, [pos(), count(), rung(), share()]),
        (rules.depreciate_trust, [share(), share(), share()]),
        (rules.step_signal, [step(), pos()]),
        (rules.relief_signal, [share(), share(), pos()]),
        (rules.step_cost, [step(), pos(), pos()]),
        (rules.draw_step_cost_multiplier, [share(), pos(), 1 + pos()]),
        (rules.relief_granted, [step(), threshold(), flag(), share()]),
        (rules.current_relief, [step(), flag() > 0, threshold(), flag(), share()]),
        (rules.relief_needed_step, [threshold(), flag()]),
        (
            rules.step_utility,
            [step(), share(), share(), share(), pos(), threshold(), flag(), share(), pos(), pos(), pos(), pos(), pos()],
        ),
        (
            rules.next_step,
            [
                step(),
                share(),
                flag() > 0,
                share(),
                pos(20),
                share(),
                share(),
                share(),
                pos(),
                threshold(),
                flag(),
                share(),
                pos(),
                pos(),
                pos(),
                pos(),
                pos(),
            ],
        ),
        (rules.moratorium_utility, [signed(), share(), share(), share(), pos(), pos(), pos()]),
        (rules.moratorium_break_hazard, [share(), share(), share(), pos(20)]),
        (rules.next_moratorium, [flag() > 0, share(), flag() > 0, share(), pos(), flag() > 0]),
        (rules.step_after_moratorium, [step(), flag() > 0, flag() > 0, step()]),
        (rules.expected_relief, [share(), share(), flag() > 0, flag() > 0, share(), share(), share()]),
        (
            rules.offer_utility,
            [step(), step(), share(), share(), pos(), threshold(), flag(), share(), pos(), pos(), pos(), pos()],
        ),
        (rules.suspension_hazard, [share(), count(), share(), count(), rung(), pos(), pos(), pos()]),
        (rules.weeks_since_summit_after, [rng.integers(0, 200, n), flag() > 0]),
        (rules.summit_hazard, [pos(), share(), share(), rng.integers(0, 200, n), rng.integers(1, 100, n)]),
        (rules.idle_end_hazard, [rng.integers(0, 200, n), share(), rng.integers(1, 100, n)]),
        (
            rules.talks_transition,
            [
                stage(),
                rng.integers(1, 4, n),
                share(),
                share(),
                flag() > 0,
                pos(),
                share(),
                pos(),
                pos(),
                pos(),
                pos(),
                pos(),
                pos(),
            ],
        ),
        (rules.summit_result, [stage(), rng.integers(1, 4, n), rng.integers(0, 4, n)]),
        (rules.forced_event, [stage(), rng.integers(1, 4, n), rng.integers(0, 11, n)]),
        (rules.idle_weeks_after, [rng.integers(0, 200, n), stage(), flag() > 0, step(), flag() > 0]),
    ]


def test_every_rule_gives_the_same_bits_on_scalars_as_on_arrays():
    # The Mesa engine calls the rules with one run's scalars, the batched engine with arrays;
    # the engines are compared with ==, so every rule must round identically both ways.
    n = 3000
    for rule, args in _rule_arguments(np.random.default_rng(11), n):
        on_arrays = rule(*args)
        results = on_arrays if isinstance(on_arrays, tuple) else (on_arrays,)
        for i in range(n):
            for scalars in ([a[i].item() for a in args], [a[i] for a in args]):  # Python and numpy scalars
                one = rule(*scalars)
                one = one if isinstance(one, tuple) else (one,)
                for whole, single in zip(results, one, strict=True):
                    assert np.array_equal(np.asarray(whole)[i], single), (rule.__name__, i, scalars)


def test_power_rounds_the_same_whatever_the_shapes():
    # numpy's power kernels differ in the last bit: scalars vs arrays, and an array raised to a
    # scalar exponent vs to an array; rules.power gives one rounding for all of them.
    rng = np.random.default_rng(5)
    base, exponent = rng.uniform(0.3, 1.0, 20_000), rng.integers(0, 11, 20_000)
    reference = rules.power(base, exponent)
    assert np.array_equal(reference, [rules.power(b, e) for b, e in zip(base, exponent, strict=True)])
    assert np.array_equal(reference, [rules.power(float(b), int(e)) for b, e in zip(base, exponent, strict=True)])
    for e in range(11):  # a shared exponent (a parameter the block's runs share)
        chosen = exponent == e
        assert np.array_equal(reference[chosen], rules.power(base[chosen], e))
        assert np.array_equal(reference[chosen], rules.power(base[chosen], np.int64(e)))
    b = base[0]  # a shared base
    assert np.array_equal(rules.power(b, exponent), [rules.power(b, e) for e in exponent])


def test_power_on_one_element_arrays_rounds_as_on_long_arrays():
    # A single-element array may reach numpy's power loop with a stride of 0 (a broadcast view,
    # a shape of size-1 axes such as one run's (1, 1)), which numpy takes for a scalar exponent
    # and rounds like the C library; the Mesa engine's progress per rung once came out of that
    # path and the batched engine's out of the SIMD kernel (progress 8 ULP apart at rung 5).
    rng = np.random.default_rng(8)
    base, exponent = rng.uniform(0.3, 1.0, 3000), rng.integers(0, 11, 3000)
    reference = rules.power(base, exponent)
    assert np.array_equal(reference, np.power(base, exponent.astype(float)))  # the SIMD kernel's bits
    layouts = [
        lambda x: np.asarray(x),  # 0-d
        lambda x: np.array([x]),  # (1,), one run
        lambda x: np.array([[x]]),  # (1, 1), one run's per-rung axis
        lambda x: np.broadcast_to(x, (1,)),  # a broadcast view: stride 0
        lambda x: np.asarray(x)[..., None],  # a trailing axis added to a 0-d array
    ]
    for b, e, ref in zip(base, exponent, reference, strict=True):
        for as_base in layouts:
            for as_exponent in layouts:
                out = rules.power(as_base(b), as_exponent(float(e)))
                assert np.array_equal(np.ravel(out), [ref]), (b.hex(), e)


def test_rung_progress_with_a_shared_per_test_gain_is_the_same_for_one_run_and_many():
    # The case a random lever schedule found: two nuclear tests with per_test shared by the block
    # (a Python float); (1 - g)**2 came from numpy's scalar-exponent path for one run's (5,)
    # progress and from its SIMD kernel for a block's (n, 5).
    per_test = 0.0582265771660604
    one = rules.rung_progress(np.zeros(rules.RUNGS), np.int64(2), np.int64(5), per_test)
    assert one[4].hex() == "0x1.cf1af5a7b2240p-4"  # 1 - np.power(1 - g, 2) on arrays
    for runs in (1, 2, 9):
        many = rules.rung_progress(np.zeros((runs, rules.RUNGS)), np.full(runs, 2), np.full(runs, 5), per_test)
        assert all(np.array_equal(one, row) for row in many), runs
