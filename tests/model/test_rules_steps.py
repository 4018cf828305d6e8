"""The step, rung, talks and summit rules against values computed by hand (the arithmetic is in the
comments), and each rule on arrays equal, bit for bit, to the rule on scalars run by run."""

import math

import numpy as np
import pytest

from model import rules
from model.policies import AS_SCHEDULED, DUAL_SUSPENSION, SUSPENDED_DURING_TALKS, held_exercise


def test_rung_progress_moves_only_the_rung_tested():
    g = np.array([0.5, 0.2, 0.0, 0.9, 0.1])
    # two tests at rung 2 with g = 0.1: 1 - (1 - 0.2) * 0.9^2 = 1 - 0.8 * 0.81 = 0.352
    out = rules.rung_progress(g, 2, 2, 0.1)
    assert out[1] == pytest.approx(0.352, abs=1e-15)
    assert np.array_equal(np.delete(out, 1), np.delete(g, 1))
    # no test: unchanged
    assert np.array_equal(rules.rung_progress(g, 0, 2, 0.1), g)
    # G_strat = (0.9 + 0.1) / 2
    assert rules.strategic_progress(g) == pytest.approx(0.5)


def test_rung_utilities_by_hand():
    g = np.array([1.0, 1.0, 0.5, 0.0, 0.0])
    # last rung 2, not in talks, w_dev 1, w_step 0.8, c_red 0.5, c_talks 2:
    # U = [0 - 0.8, 0, 0.5 - 0.8, 1 - 1.6 - 0.5, 1 - 2.4 - 0.5] = [-0.8, 0, -0.3, -1.1, -1.9]
    u = rules.rung_utilities(g, 2, False, 1.0, 0.8, 0.5, 2.0)
    assert np.allclose(u, [-0.8, 0.0, -0.3, -1.1, -1.9], atol=1e-15)
    # in talks the red-line cost triples: rung 4 = 1 - 1.6 - 0.5 * 3 = -2.1
    assert rules.rung_utilities(g, 2, True, 1.0, 0.8, 0.5, 2.0)[3] == pytest.approx(-2.1)
    # a first test ever measures the distance from rung 1
    assert rules.rung_utilities(g, 0, False, 1.0, 0.8, 0.5, 2.0)[0] == pytest.approx(0.0)


def test_choose_rung_inverse_cdf():
    g = np.array([1.0, 1.0, 0.5, 0.0, 0.0])
    u_r = np.array([-0.8, 0.0, -0.3, -1.1, -1.9])  # test_rung_utilities_by_hand; its largest is 0
    w = np.exp(2.0 * (u_r - 0.0))
    weights = rules.rung_weights(g, 2, False, 2.0, 1.0, 0.8, 0.5, 2.0)
    assert np.allclose(weights, w, rtol=1e-15)
    cdf = np.cumsum(w) / w.sum()
    # hazards in proportion to the tracks' weights: the track choice and the rung logit agree
    h_sub, h_strat = w[:3].sum() / w.sum(), w[3:].sum() / w.sum()
    for u, expected in [(cdf[0] - 1e-9, 1), (cdf[0] + 1e-9, 2), (cdf[2] + 1e-9, 4), (0.999999, 5)]:
        assert rules.choose_rung(weights, h_sub, h_strat, 1, u, 2) == expected
    # no test: the last rung is kept
    assert rules.choose_rung(weights, h_sub, h_strat, 0, 0.999, 2) == 2
    # precision 0: every rung equally likely; u = 0.5 lies in the third fifth
    flat = rules.rung_weights(g, 2, False, 0.0, 1.0, 0.8, 0.5, 2.0)
    assert rules.choose_rung(flat, 0.6, 0.4, 1, 0.5, 2) == 3
    # a strategic hazard of 0.1 against 0.6: V = [0.2, 0.2, 0.2, 0.05, 0.05], sum 0.7; u = 0.99
    # lies in rung 5's share (above 0.65 / 0.7 = 0.9286); u = 0.85 gives 0.595 < 0.6, rung 3
    assert rules.choose_rung(flat, 0.6, 0.1, 1, 0.99, 2) == 5
    assert rules.choose_rung(flat, 0.6, 0.1, 1, 0.85, 2) == 3
    # a sub-strategic hazard of 0.3 against 0.4: V = [0.1, 0.1, 0.1, 0.2, 0.2], sum 0.7;
    # u = 0.4 gives 0.28, inside rung 3's share (0.2 to 0.3)
    assert rules.choose_rung(flat, 0.3, 0.4, 1, 0.4, 2) == 3


def test_major_test_and_track_hazards():
    assert rules.major_test(1, 4) and rules.major_test(2, 5)
    assert not rules.major_test(1, 3) and not rules.major_test(0, 5)
    # a moratorium (w_M 4) not in talks: f_sub = 1, f_strat = e^-4 = 0.018315638888734
    f_sub, f_strat = rules.track_factors(True, 4.0, False, 1.0)
    assert f_sub == 1.0 and f_strat == pytest.approx(0.018315638888734, rel=1e-12)
    # in talks (w 1.5) without a moratorium: f_sub = e^-1.5 = 0.22313016014843, f_strat = 1
    assert rules.track_factors(False, 4.0, True, 1.5)[0] == pytest.approx(0.22313016014843, rel=1e-12)
    assert rules.track_factors(False, 4.0, True, 1.5)[1] == 1.0
    # mu = 0.5 split by equal weights, 3/5 sub-strategic, 2/5 strategic, each plus its own excitation:
    # h_sub = 0.3 + 0.1 = 0.4; h_strat = (0.2 + 0.05) * e^-4 = 0.25 * 0.018315638888734
    flat = [1.0] * 5
    sub, strat = rules.track_hazards(0.5, 0.1, 0.05, flat, f_sub, f_strat)
    assert sub == pytest.approx(0.4) and strat == pytest.approx(0.25 * 0.018315638888734, rel=1e-12)
    # without talks or moratorium the two tracks add up to mu + H_sub + H_strat
    sub, strat = rules.track_hazards(0.5, 0.1, 0.05, [1.0, 0.5, 0.25, 0.1, 0.05], 1.0, 1.0)
    assert sub + strat == pytest.approx(0.65, rel=1e-15)
    assert strat == pytest.approx(0.5 * 0.15 / 1.9 + 0.05)
    # an overflowed baseline counts as the rate cap, so a track with no weight gets 0, not NaN
    sub, strat = rules.track_hazards(np.inf, 0.0, 0.0, [1.0, 1.0, 1.0, 0.0, 0.0], 1.0, 1.0)
    assert sub == rules.RATE_CAP and strat == 0.0
    # a zero baseline rate stays zero however large the reactance (0 * inf would be NaN)
    assert rules.baseline_test_rate(0.0, 0.0, 1e6, 0.0, 0.0, 5.0, 0.0) == 0.0
    assert rules.baseline_test_rate(0.5, 0.0, 1e6, 0.0, 0.0, 5.0, 0.0) > rules.RATE_CAP


def test_china():
    # memory: 0.9 * 2 + 1 * [rung 4] = 2.8 ; a rung-3 test adds nothing: 1.8
    assert rules.china_test_memory(2.0, 1, 4, 0.1) == pytest.approx(2.8)
    assert rules.china_test_memory(2.0, 1, 3, 0.1) == pytest.approx(1.8)
    # 0.7 + 0.5*(0.6 - 0.5) + 0.2*1 - 0.15*1 - 0.5*0.2 = 0.7 + 0.05 + 0.2 - 0.15 - 0.1 = 0.7
    assert rules.china_enforcement(0.7, 0.5, 0.6, 0.5, 0.2, 1.0, 0.15, True, 0.5, 0.2) == pytest.approx(0.7)
    assert rules.china_enforcement(0.7, 0.5, 0.6, 0.5, 0.2, 5.0, 0.15, False, 0.5, 0.0) == 1.0


def test_trust_depreciation_and_signals():
    # 0.01 + 0.02 * (0.2 - 0.01) = 0.0138
    assert rules.depreciate_trust(0.01, 0.2, 0.02) == pytest.approx(0.0138, abs=1e-15)
    # a step 2 with llr 0.5: llr = -1; trust 0.2 -> 0.2 / (0.2 + 0.8 * e^-1) = 0.40461...
    llr = rules.step_signal(2, 0.5)
    assert llr == -1.0
    assert rules.update_trust(0.2, llr) == pytest.approx(0.2 / (0.2 + 0.8 * math.exp(-1.0)))
    # relief 0 -> 0.34 with llr 1: -0.34; taking relief back sends no benign signal
    assert rules.relief_signal(0.0, 0.34, 1.0) == pytest.approx(-0.34)
    assert rules.relief_signal(0.34, 0.0, 1.0) == 0.0
    # spiral: 0.75 * 1 + 1 * (1 - 0.2) * 1 = 1.55 ; a trusting DPRK reacts less: 0.75 + 0.2 = 0.95
    assert rules.reactance(1.0, 1, 0.25, 1.0, 0.2, False, 0.0) == pytest.approx(1.55)
    assert rules.reactance(1.0, 1, 0.25, 1.0, 0.8, False, 0.0) == pytest.approx(0.95)
    # a package during talks is a spoiler with its own weight: 0.75 + 0.3 * 0.8 = 0.99 ; 0 adds nothing
    assert rules.reactance(1.0, 1, 0.25, 1.0, 0.2, True, 0.3) == pytest.approx(0.99)
    assert rules.reactance(1.0, 1, 0.25, 1.0, 0.2, True, 0.0) == pytest.approx(0.75)


def test_relief_rule():
    # step-for-step, threshold 3, 0.34 per step: steps 0-2 nothing, 3 -> 0.34, 4 -> 0.68
    assert [float(rules.relief_granted(k, 3, 0, 0.34)) for k in range(5)] == pytest.approx([0, 0, 0, 0.34, 0.68])
    # threshold 1: 0.34, 0.68, 1 (capped at 1), 1
    assert [float(rules.relief_granted(k, 1, 0, 0.34)) for k in range(1, 5)] == pytest.approx([0.34, 0.68, 1.0, 1.0])
    # all at the end: only full denuclearisation, whatever the threshold
    assert [float(rules.relief_granted(k, 1, 1, 0.34)) for k in range(5)] == [0, 0, 0, 0, 1]
    # snapback: nothing while snapped back
    assert rules.current_relief(4, True, 1, 0, 0.34) == 0.0
    assert rules.relief_needed_step(2, 0) == 2 and rules.relief_needed_step(2, 1) == 4


def test_step_cost_and_utility():
    # theta 1.5, scale 0.3, k = 3: 1.5 * 0.3 * 9 = 4.05
    assert rules.step_cost(3, 1.5, 0.3) == pytest.approx(4.05)
    # low = 0.25 * 2 = 0.5: 0.5 + 0.25 * (2 - 0.5) = 0.875
    assert rules.draw_step_cost_multiplier(0.25, 0.25, 2.0) == pytest.approx(0.875)
    # U_3 at threshold 3, no stress: 2 * 0.34 + 1 * 0.5 + 1 * 0.2 - 4.05 = 0.68 + 0.5 + 0.2 - 4.05 = -2.67
    u = rules.step_utility(3, 0.5, 0.0, 0.2, 1.5, 3, 0, 0.34, 0.3, 2.0, 2.0, 1.0, 1.0)
    assert u == pytest.approx(-2.67)
    # stress 0.5 with w_E 2 makes relief worth (2 + 1) * 0.34 = 1.02: -2.67 + 0.34 = -2.33
    u = rules.step_utility(3, 0.5, 0.5, 0.2, 1.5, 3, 0, 0.34, 0.3, 2.0, 2.0, 1.0, 1.0)
    assert u == pytest.approx(-2.33)
    # the expectation weight multiplies the expected relief, not the stress: w_exp 0 drops 0.5
    u = rules.step_utility(3, 0.5, 0.5, 0.2, 1.5, 3, 0, 0.34, 0.3, 2.0, 2.0, 0.0, 1.0)
    assert u == pytest.approx(-2.83)


def test_next_step():
    # step 1, k = 2, threshold 1: U = 2*0.68 + 0.5 + 0.2 - 0.5*0.3*4 = 1.36 + 0.7 - 0.6 = 1.46
    # P = 0.05 * logit(3 * 1.46) = 0.05 / (1 + e^-4.38) = 0.04937...
    p = 0.05 / (1 + math.exp(-4.38))
    args = (0.05, 3.0, 0.5, 0.0, 0.2, 0.5, 1, 0, 0.34, 0.3, 2.0, 2.0, 1.0, 1.0)
    assert rules.next_step(1, p - 1e-9, True, *args) == (2, 2)
    assert rules.next_step(1, p + 1e-9, True, *args) == (1, 0)
    # not eligible (talks not at stage 2-3), no moratorium yet, or already at 4: nothing
    assert rules.next_step(1, 0.0001, False, *args) == (1, 0)
    assert rules.next_step(0, 0.0001, True, *args) == (0, 0)
    assert rules.next_step(4, 0.0001, True, *args) == (4, 0)


def test_moratorium():
    # U_m = -1 + 1*0.1 + 2*1.0 + 1*0.2 = 1.3
    assert rules.moratorium_utility(-1.0, 0.1, 1.0, 0.2, 1.0, 2.0, 1.0) == pytest.approx(1.3)
    # break hazard at E = 0.1, patience 0.3: 0.05 / (1 + e^(-3 * 0.2)) = 0.05 * 0.645656 = 0.0322828
    h = rules.moratorium_break_hazard(0.1, 0.3, 0.05, 3.0)
    assert h == pytest.approx(0.05 / (1 + math.exp(-0.6)))
    # declared in talks when u < p; not outside talks; not in a week with a major test
    assert rules.next_moratorium(False, 0.05, True, 0.1, h, False) == (True, True, False)
    assert rules.next_moratorium(False, 0.05, False, 0.1, h, False) == (False, False, False)
    assert rules.next_moratorium(False, 0.05, True, 0.1, h, True) == (False, False, False)
    # a standing one breaks when u < 1 - exp(-h), or at a major test
    p_break = 1 - math.exp(-h)
    assert rules.next_moratorium(True, p_break - 1e-9, True, 0.1, h, False) == (False, False, True)
    assert rules.next_moratorium(True, p_break + 1e-9, True, 0.1, h, False) == (True, False, False)
    assert rules.next_moratorium(True, 0.99, True, 0.1, h, True) == (False, False, True)
    # a declaration is step 1; a broken moratorium takes back step 1, never steps 2-4
    assert rules.step_after_moratorium(0, True, False, 0) == 1
    assert rules.step_after_moratorium(1, False, True, 0) == 0
    assert rules.step_after_moratorium(2, False, True, 0) == 2


def test_expected_relief():
    # adapt: 0.5 + 0.02 * (0 - 0.5) = 0.49 ; summit: max(0.2, 0.6) ; failure: 0.5 * 0.5
    assert rules.expected_relief(0.5, 0.0, False, False, 0.02, 0.6, 0.5) == pytest.approx(0.49)
    assert rules.expected_relief(0.2, 0.0, True, False, 0.02, 0.6, 0.5) == pytest.approx(0.6)
    assert rules.expected_relief(0.5, 0.0, True, True, 0.02, 0.6, 0.5) == pytest.approx(0.25)


def test_offer_utility_by_hand():
    # theta 0.5, scale 0.3, threshold 1, step-for-step 0.34, w_rel 2, w_E 1 at stress 0.2 (relief
    # worth 2.2 a unit), w_exp 1 with E 0.6, standing step 0:
    # V_0 = 0; V_1 = 2.2*0.34 + 0.6 - 0.15 = 1.198; V_2 = 2.2*0.68 + 0.6 - 0.6 = 1.496;
    # V_3 = 2.2*1 + 0.6 - 1.35 = 1.45; V_4 = 2.2 + 0.6 - 2.4 = 0.4
    args = (0.6, 0.2, 0.5, 1, 0, 0.34, 0.3, 2.0, 1.0, 1.0)
    values = [float(rules.offer_utility(k, 0, *args)) for k in range(5)]
    assert values == pytest.approx([0.0, 1.198, 1.496, 1.45, 0.4], abs=1e-12)
    # a standing step 2 earns no expectation term for offering it again: V_2 = 1.496 - 0.6
    assert rules.offer_utility(2, 2, *args) == pytest.approx(0.896)


def test_choose_offer_is_a_logit_over_the_steps_not_below_the_standing_one():
    values = np.array([0.0, 1.198, 1.496, 1.45, 0.4])  # test_offer_utility_by_hand
    w = np.exp(3.0 * (values - values.max()))
    cdf = np.cumsum(w) / w.sum()
    args = (0.6, 0.2, 0.5, 1, 0, 0.34, 0.3, 2.0, 1.0, 1.0)
    for u, expected in [(cdf[0] - 1e-9, 0), (cdf[0] + 1e-9, 1), (cdf[2] - 1e-9, 2), (cdf[3] + 1e-9, 4)]:
        assert rules.choose_offer(0, u, 3.0, *args) == expected
    # every step has positive probability: the smallest share (k = 0) is exp(3 * -1.496) / sum
    assert cdf[0] == pytest.approx(math.exp(-4.488) / w.sum(), rel=1e-12) and cdf[0] > 0
    # standing step 3: only 3 or 4, V_3 = 1.45 - 0.6 = 0.85, V_4 = 0.4: P(3) = 1 / (1 + e^(3 * -0.45))
    p3 = 1 / (1 + math.exp(-1.35))
    assert rules.choose_offer(3, 0.0, 3.0, *args) == 3
    assert rules.choose_offer(3, p3 - 1e-9, 3.0, *args) == 3
    assert rules.choose_offer(3, p3 + 1e-9, 3.0, *args) == 4


def test_summit_outcome_deal_statement_failure():
    s = rules.summit_outcome
    # offer 3 meets threshold 3; min trust 0.35, bar 0.3, weight 5, precision 3:
    # P_deal = logit(3 * 5 * 0.05) = 1 / (1 + e^-0.75) = 0.679179
    # P_statement = (1 - 0.679179) * logit(3 * (1 - 0)) = 0.320821 * 0.952574 = 0.305606
    p_deal = 1 / (1 + math.exp(-0.75))
    p_statement = (1 - p_deal) / (1 + math.exp(-3.0))
    args = (3.0, 0.4, 0.35, 5.0, 0.3, 1.0, 0.3)
    assert s(3, 3, p_deal - 1e-9, *args, -1) == rules.SUMMIT_DEAL
    assert s(3, 3, p_deal + 1e-9, *args, -1) == rules.SUMMIT_STATEMENT
    assert s(3, 3, p_deal + p_statement - 1e-9, *args, -1) == rules.SUMMIT_STATEMENT
    assert s(3, 3, p_deal + p_statement + 1e-9, *args, -1) == rules.SUMMIT_FAILED
    # an offer of 0 against threshold 3: no deal; a gap of 3 steps: P_statement = logit(3 * 0.1) = 0.574443
    p = 1 / (1 + math.exp(-0.3))
    assert s(0, 3, p - 1e-9, *args, -1) == rules.SUMMIT_STATEMENT
    assert s(0, 3, p + 1e-9, *args, -1) == rules.SUMMIT_FAILED
    # a deal has positive probability at any trust: min trust 0.07 gives logit(3 * 5 * -0.23) = 0.031
    assert s(3, 3, 0.03, 3.0, 0.07, 0.5, 5.0, 0.3, 1.0, 0.3, -1) == rules.SUMMIT_DEAL
    # forced outcomes: -2 is anything but a deal (here a statement at u = 0.5 < 0.952574), codes as given
    assert s(3, 3, 0.5, *args, -2) == rules.SUMMIT_STATEMENT
    assert s(3, 3, 0.999, *args, -2) == rules.SUMMIT_FAILED
    assert s(0, 3, 0.0, *args, rules.SUMMIT_DEAL) == rules.SUMMIT_DEAL
    assert s(4, 3, 0.0, *args, rules.SUMMIT_FAILED) == rules.SUMMIT_FAILED


def test_summit_trust_signal_and_talks_memory():
    assert rules.summit_trust_signal(rules.SUMMIT_STATEMENT, 0.3, 0.5) == -0.3
    assert rules.summit_trust_signal(rules.SUMMIT_FAILED, 0.3, 0.5) == 0.5
    assert rules.summit_trust_signal(rules.SUMMIT_DEAL, 0.3, 0.5) == 0.0
    assert rules.summit_trust_signal(rules.SUMMIT_NONE, 0.3, 0.5) == 0.0
    m = rules.talks_memory
    # decay 0.01: 0.99 * 2 = 1.98; a failed summit adds 1
    assert m(2.0, False, 2, 1, 2, 0.01) == pytest.approx(1.98)
    assert m(2.0, True, 2, 1, 4, 0.01) == pytest.approx(2.98)
    # US-DPRK talks (2) end: +1; summit-level talks (3, a deal) end: +2; contact (1) ends: nothing
    assert m(0.0, False, 2, 1, 0, 0.01) == 1.0
    assert m(0.0, False, 3, 1, 0, 0.01) == 2.0
    assert m(0.0, False, 1, 1, 0, 0.01) == 0.0
    # suspended talks that end count by the stage they were suspended from
    assert m(0.0, False, 4, 3, 0, 0.01) == 2.0 and m(0.0, False, 4, 1, 0, 0.01) == 0.0
    # the refusal of a standing offer, outside US-DPRK talks only
    assert rules.talks_refused(0, 0.5, -0.1) and rules.talks_refused(4, 0.5, 0.0)
    assert not rules.talks_refused(2, 0.5, -0.1) and not rules.talks_refused(0, -0.5, -0.1)
    assert not rules.talks_refused(0, 0.5, 0.1)
    # the DPRK's memory enters its wish to talk: -0.25 - 1.5 * 2 = -3.25 (tests/test_rules.py's -0.25)
    assert rules.dprk_talk_utility(-0.5, 0.5, 0.2, 0.3, 0.8, 1, 1.5, 2.0, 1.0, 0.5, 1.0, 2.0, 1.5) == pytest.approx(
        -3.25
    )


def test_suspension_and_idle_hazards():
    # 0.005 + 0.5*1 + 0.1*0.5 + 0.5*2*[rung 3 <= 3] = 0.005 + 0.5 + 0.05 + 1 = 1.555
    assert rules.suspension_hazard(0.005, 1, 0.5, 2, 3, 0.5, 0.1, 0.5) == pytest.approx(1.555)
    # an ICBM test does not count here (it ends talks outright)
    assert rules.suspension_hazard(0.005, 0, 0.0, 2, 4, 0.5, 0.1, 0.5) == pytest.approx(0.005)
    assert rules.idle_end_hazard(26, 0.02, 52) == pytest.approx(0.01)
    assert rules.idle_end_hazard(100, 0.02, 52) == pytest.approx(0.02)


def _transition(
    stage,
    u_exit,
    u_adv,
    major=False,
    hs=0.1,
    hi=0.0,
    r01=0.2,
    r02=0.1,
    r12=0.3,
    summit=0.2,
    resume=0.3,
    end=0.1,
    remembered=2,
):
    out = rules.talks_transition(stage, remembered, u_exit, u_adv, major, hs, hi, r01, r02, r12, summit, resume, end)
    return tuple(np.asarray(x).item() for x in out)


def test_talks_transition():
    p_s = 1 - math.exp(-0.1)  # suspension, 0.0951626
    # suspended from stage 2, remembering 2
    assert _transition(2, p_s - 1e-9, 0.0) == (4, 2, False, True, False)
    # from 2, a summit happens when u_advance < 1 - exp(-0.2) = 0.181269
    assert _transition(2, 0.5, 0.18) == (2, 2, True, False, False)
    assert _transition(2, 0.5, 0.19) == (2, 2, False, False, False)
    # from 0: 1 - exp(-0.3) = 0.259182; contact if u < 0.259182 * 2/3 = 0.172788, else talks
    assert _transition(0, 0.5, 0.17)[0] == 1
    assert _transition(0, 0.5, 0.18)[0] == 2
    assert _transition(0, 0.5, 0.26)[0] == 0
    # from 4: 1 - exp(-0.4) = 0.32968; resume (to the remembered 3) if u < 0.32968 * 0.75 = 0.24726
    assert _transition(4, 0.0, 0.24, remembered=3)[0] == 3
    assert _transition(4, 0.0, 0.25, remembered=3) == (0, 3, False, False, True)
    # a major test ends talks in progress and suspended talks
    assert _transition(3, 0.99, 0.99, major=True) == (0, 2, False, False, True)
    assert _transition(4, 0.99, 0.99, major=True)[0] == 0
    # withering competes with suspension: h = 0.1 + 0.05; P = 0.139292; suspend below P * 2/3
    p = 1 - math.exp(-0.15)
    assert _transition(3, p * 2 / 3 - 1e-9, 0.0, hi=0.05)[0] == 4
    assert _transition(3, p * 2 / 3 + 1e-9, 0.0, hi=0.05)[0:5:4] == (0, True)
    # contact (stage 1) does not wither: u = 0.1 withers stage 3 (0.0929 < 0.1 < 0.1393) but is
    # above stage 1's suspension probability alone (0.0952)
    assert _transition(3, 0.1, 0.99, hi=0.05)[0] == 0
    assert _transition(1, 0.1, 0.99, hi=0.05)[0] == 1


def test_summit_result_and_forced_events():
    assert rules.summit_result(2, 0, rules.SUMMIT_DEAL)[:2] == (3, 0)
    stage, remembered, failed = rules.summit_result(2, 0, rules.SUMMIT_FAILED)
    assert (stage, remembered, failed) == (4, 2, True)
    # a statement: talks go on at the stage they were in (working level)
    assert rules.summit_result(2, 0, rules.SUMMIT_STATEMENT) == (2, 0, False)
    assert rules.summit_result(3, 0, rules.SUMMIT_STATEMENT) == (3, 0, False)
    assert rules.summit_result(2, 0, rules.SUMMIT_NONE) == (2, 0, False)
    f = rules.forced_event
    assert f(0, 0, rules.EVENT_CONTACT)[0] == 1 and f(2, 0, rules.EVENT_CONTACT)[0] == 2
    assert f(1, 0, rules.EVENT_TALKS)[0] == 2 and f(3, 0, rules.EVENT_TALKS)[0] == 3
    assert f(2, 0, rules.EVENT_SUSPENDED)[:2] == (4, 2)
    assert f(4, 3, rules.EVENT_RESUMED)[0] == 3
    assert f(0, 0, rules.EVENT_RESUMED)[0] == 2 and f(1, 0, rules.EVENT_RESUMED)[0] == 2  # ended talks restart
    assert f(3, 0, rules.EVENT_RESUMED)[0] == 3  # talks under way go on
    assert f(0, 1, rules.EVENT_SUSPENDED)[:2] == (0, 1)  # nothing to suspend
    assert f(3, 0, rules.EVENT_ENDED)[0] == 0
    assert f(1, 0, rules.EVENT_SUMMIT)[0] == 2 and bool(f(1, 0, rules.EVENT_SUMMIT)[2])
    assert f(2, 0, rules.EVENT_SUMMIT_DEAL)[3] == rules.SUMMIT_DEAL and f(2, 0, rules.EVENT_SUMMIT_NO_DEAL)[3] == -2
    assert f(2, 0, rules.EVENT_SUMMIT_STATEMENT)[3] == rules.SUMMIT_STATEMENT
    assert f(2, 0, rules.EVENT_SUMMIT_FAILED)[3] == rules.SUMMIT_FAILED
    assert bool(f(2, 0, rules.EVENT_SUMMIT_STATEMENT)[2]) and bool(f(2, 0, rules.EVENT_SUMMIT_FAILED)[2])
    assert f(2, 0, rules.EVENT_NONE) == (2, 0, False, -1)


def test_idle_weeks():
    assert rules.idle_weeks_after(5, 2, False, 0, False) == 6
    assert rules.idle_weeks_after(5, 2, True, 0, False) == 0
    assert rules.idle_weeks_after(5, 3, False, 2, False) == 0
    assert rules.idle_weeks_after(5, 1, False, 0, False) == 0


def test_exercise_held_under_dual_suspension_and_relief():
    assert held_exercise(1.0, DUAL_SUSPENSION, 0, 0.5, moratorium=True) == 0.0
    assert held_exercise(1.0, DUAL_SUSPENSION, 0, 0.5, moratorium=False) == 1.0
    assert held_exercise(1.0, AS_SCHEDULED, 2, 0.5, relief=0.34) == pytest.approx(0.66)
    # talks suspended (stage 4) are not talks under way: the exercise is held
    assert held_exercise(1.0, SUSPENDED_DURING_TALKS, 4, 0.5) == 1.0
    assert held_exercise(1.0, SUSPENDED_DURING_TALKS, 3, 0.5) == 0.0


def _rung(g, last, tests, u, lam, stage, moratorium_share):
    """The week's rung as the DPRK's step chooses it, on arrays or on one run's scalars."""
    weights = rules.rung_weights(g, last, stage == 2, lam, 1.0, 0.8, 0.5, 2.0)
    f_sub, f_strat = rules.track_factors(moratorium_share > 0.5, 4.0, stage == 2, 1.0)
    h_sub, h_strat = rules.track_hazards(lam / 20, moratorium_share, u / 3, weights, f_sub, f_strat)
    return rules.choose_rung(weights, h_sub, h_strat, tests, u, last)


def test_rules_on_arrays_equal_rules_on_scalars():
    """Every version-2 rule gives, on arrays over runs, exactly (bit for bit) what it gives run by run."""
    rng = np.random.default_rng(14)
    n = 200
    g = rng.uniform(0, 1, (n, 5))
    last = rng.integers(0, 6, n)
    tests = rng.integers(0, 3, n)
    rung = rng.integers(1, 6, n)
    u = rng.uniform(0, 1, n)
    lam = rng.uniform(0, 20, n)
    per_test = rng.uniform(0, 1, n)
    e = rng.uniform(0, 1, n)
    mu = rng.uniform(0, 1, n)
    theta = rng.uniform(0.5, 2, n)
    thr = rng.integers(1, 5, n)
    end = rng.integers(0, 2, n)
    step = rng.integers(0, 5, n)
    stage = rng.integers(0, 5, n)
    forced = rng.choice([-2, -1, -1, -1, rules.SUMMIT_DEAL, rules.SUMMIT_STATEMENT, rules.SUMMIT_FAILED], n)
    arr = {
        "progress": rules.rung_progress(g, tests, rung, per_test),
        "rung": _rung(g, last, tests, u, lam, stage, e),
        "offer": rules.choose_offer(step, u, lam, e, mu, theta, thr, end, 0.34, 0.3, 2.0, 2.0, 1.0),
        "outcome": rules.summit_outcome(step, thr, u, lam, e, mu, 5.0, 0.3, 1.0, 0.3, forced),
        "step": rules.next_step(
            step, u, stage == 2, 0.5, lam, e, mu, mu, theta, thr, end, 0.34, 0.3, 2.0, 2.0, 1.0, 1.0
        )[0],
        "transition": rules.talks_transition(stage, 2, u, u[::-1], rung >= 4, e, mu, 0.2, 0.1, 0.3, e, 0.3, 0.1)[0],
    }
    for i in range(n):
        one = {
            "progress": rules.rung_progress(g[i], tests[i], rung[i], per_test[i]),
            "rung": _rung(g[i], last[i], tests[i], u[i], lam[i], stage[i], e[i]),
            "offer": rules.choose_offer(
                step[i], u[i], lam[i], e[i], mu[i], theta[i], thr[i], end[i], 0.34, 0.3, 2.0, 2.0, 1.0
            ),
            "outcome": rules.summit_outcome(step[i], thr[i], u[i], lam[i], e[i], mu[i], 5.0, 0.3, 1.0, 0.3, forced[i]),
            "step": rules.next_step(
                step[i],
                u[i],
                stage[i] == 2,
                0.5,
                lam[i],
                e[i],
                mu[i],
                mu[i],
                theta[i],
                thr[i],
                end[i],
                0.34,
                0.3,
                2.0,
                2.0,
                1.0,
                1.0,
            )[0],
            "transition": rules.talks_transition(
                stage[i], 2, u[i], u[::-1][i], rung[i] >= 4, e[i], mu[i], 0.2, 0.1, 0.3, e[i], 0.3, 0.1
            )[0],
        }
        for name, value in one.items():
            assert np.array_equal(arr[name][i], value), (name, i)


def test_talks_predicates():
    stages = np.arange(5)
    assert rules.talks_under_way(stages).tolist() == [False, True, True, True, False]
    assert rules.talks_at_us_level(stages).tolist() == [False, False, True, True, False]
    assert rules.talks_reached(stages, 2).tolist() == [False, False, True, True, False]
    assert rules.talks_reached(stages, 1).tolist() == [False, True, True, True, False]


def test_overflowing_rates_and_utilities_give_their_limits_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts = rules.poisson_count(np.array([np.inf, 1e300, 2e6, 0.0]), np.full(4, 0.5))
        assert counts.tolist() == [rules.MAX_TESTS_PER_WEEK] * 3 + [0]
        assert rules.logit_choice(-1e6, 1.0) == 0.0 and rules.logit_choice(1e6, 1.0) == 1.0
