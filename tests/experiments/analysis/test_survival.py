"""Tests for experiments/analysis/survival.py: Kaplan-Meier curves from scipy.stats.ecdf.

The hand-computed values below were written for the former hand-written estimator in
experiments/stats.py; the scipy-based curves were checked against it on random censored data
(same rows, counts and NaN pattern, values within 1e-12; see the commit that added this file)
before it was retired, and must still match the hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import survival


def median(curve: pd.DataFrame) -> float:
    """The median time of one curve, as the table computes it."""
    return float(survival.median_weeks(curve.assign(g=0), ["g"])["median_weeks"].iloc[0])


def test_kaplan_meier_hand_computed_with_censoring():
    # durations 1, 2, 2, 3, 4, 5 ; observed T, T, F, T, F, T  (censored at 2 and at 4)
    # Events precede censorings at a tie, so the subject censored at 2 is at risk at t = 2.
    #
    #  t | n at risk | d | censored in [t, next) | S(t)                    | Greenwood sum d/(n(n-d))
    #  0 |     6     | 0 | 0                      | 1                       | 0
    #  1 |     6     | 1 | 0                      | 5/6         = 0.833333  | 1/30            = 0.033333
    #  2 |     5     | 1 | 1 (the one at 2)       | 5/6*4/5     = 0.666667  | 1/30+1/20       = 0.083333
    #  3 |     3     | 1 | 1 (the one at 4)       | 2/3*2/3     = 0.444444  | 1/12+1/6        = 0.250000
    #  5 |     1     | 1 | 0                      | 0                       | infinite -> CI NaN
    #
    # log(-log) interval at t = 2 (z = 1.959964):
    #   log S = log(2/3) = -0.405465;  se[log(-log S)] = sqrt(0.083333)/0.405465 = 0.711960
    #   z*se = 1.395417;  exp(z*se) = 4.036657
    #   lower = S^4.036657     = exp(-0.405465*4.036657) = exp(-1.636723) = 0.194617
    #   upper = S^(1/4.036657) = exp(-0.405465/4.036657) = exp(-0.100446) = 0.904434
    # at t = 3:
    #   log S = log(4/9) = -0.810930;  se = sqrt(0.25)/0.810930 = 0.616576
    #   z*se = 1.208466;  exp(z*se) = 3.348346
    #   lower = exp(-0.810930*3.348346) = 0.066187 ; upper = exp(-0.810930/3.348346) = 0.784908
    km = survival.kaplan_meier([1, 2, 2, 3, 4, 5], [True, True, False, True, False, True])
    assert list(km.columns) == ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
    assert km["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 5.0]
    assert km["at_risk"].tolist() == [6, 6, 5, 3, 1]
    assert km["events"].tolist() == [0, 1, 1, 1, 1]
    assert km["censored"].tolist() == [0, 0, 1, 1, 0]
    np.testing.assert_allclose(km["survival"], [1, 5 / 6, 2 / 3, 4 / 9, 0], rtol=0, atol=1e-15)
    row2 = km.loc[km["time"] == 2.0].iloc[0]
    assert row2["ci_low"] == pytest.approx(0.194617, abs=1e-6)
    assert row2["ci_high"] == pytest.approx(0.904434, abs=1e-6)
    row3 = km.loc[km["time"] == 3.0].iloc[0]
    assert row3["ci_low"] == pytest.approx(0.066187, abs=1e-6)
    assert row3["ci_high"] == pytest.approx(0.784908, abs=1e-6)
    assert (km.loc[0, "ci_low"], km.loc[0, "ci_high"]) == (1.0, 1.0)
    assert np.isnan(km.iloc[-1]["ci_low"]) and np.isnan(km.iloc[-1]["ci_high"])
    # bookkeeping identity: next at_risk = at_risk - events - censored
    nxt = (km["at_risk"] - km["events"] - km["censored"]).iloc[:-1].to_numpy()
    np.testing.assert_array_equal(nxt, km["at_risk"].iloc[1:].to_numpy())
    # median: first time with S <= 0.5 is t = 3 (S = 0.444)
    assert median(km) == 3.0


def test_kaplan_meier_ties_put_events_before_censorings():
    # One event and one censoring at t = 2 among 4 subjects. Events-first: n(2) = 3 (the
    # censored subject still counts), S(2) = 3/4 * 2/3 = 0.5.  Censorings-first would give
    # n(2) = 2 and S(2) = 3/4 * 1/2 = 0.375.
    km = survival.kaplan_meier([1, 2, 2, 7], [True, True, False, False])
    row = km.loc[km["time"] == 2.0].iloc[0]
    assert row["at_risk"] == 3
    assert row["survival"] == pytest.approx(0.5, abs=1e-15)
    assert km.iloc[-1]["censored"] == 2  # the censoring at 2 and the one at 7


def test_kaplan_meier_6mp_arm_of_freireich_1963():
    # The 6-MP arm of the Freireich et al. (1963, Blood 21:699) leukaemia trial (weeks in
    # remission, * = censored): 6 6 6 6* 7 9* 10 10* 11* 13 16 17* 19* 20* 22 23 25* 32* 32* 34* 35*.
    # Product-limit by hand:
    #   t=6 : n=21 d=3  S = 18/21                       = 0.857143
    #   t=7 : n=17 d=1  S = 0.857143 * 16/17            = 0.806723
    #   t=10: n=15 d=1  S = 0.806723 * 14/15            = 0.752941
    #   t=13: n=12 d=1  S = 0.752941 * 11/12            = 0.690196
    #   t=16: n=11 d=1  S = 0.690196 * 10/11            = 0.627451
    #   t=22: n=7  d=1  S = 0.627451 * 6/7              = 0.537815
    #   t=23: n=6  d=1  S = 0.537815 * 5/6              = 0.448179
    # (the textbook values 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448). Greenwood at t=6:
    #   V = 3/(21*18) = 0.0079365; se[log(-log S)] = sqrt(V)/|log(6/7)| = 0.089087/0.154151 = 0.577920
    #   lower = S^exp(z*se) = 0.857143^3.1035 = 0.619718 ; upper = 0.857143^(1/3.1035) = 0.951552
    t = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    o = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    km = survival.kaplan_meier(np.array(t, float), np.array(o, bool))
    assert km["time"].tolist() == [0, 6, 7, 10, 13, 16, 22, 23]
    assert km["at_risk"].tolist() == [21, 21, 17, 15, 12, 11, 7, 6]
    np.testing.assert_allclose(
        km["survival"].iloc[1:], [0.857143, 0.806723, 0.752941, 0.690196, 0.627451, 0.537815, 0.448179], atol=1e-6
    )
    assert km.loc[1, "ci_low"] == pytest.approx(0.619718, abs=1e-6)
    assert km.loc[1, "ci_high"] == pytest.approx(0.951552, abs=1e-6)
    assert median(km) == 23.0
    assert km["censored"].sum() == 12


def test_kaplan_meier_interval_brackets_and_narrows_with_n():
    # Exponential(mean 10) times, administratively censored at 15. The interval must contain
    # S(t), stay in [0, 1], and shrink roughly like 1/sqrt(n): 100x the data -> ~10x narrower.
    rng = np.random.Generator(np.random.PCG64(3))

    def width_at_10(n):
        t = rng.exponential(10, n)
        km = survival.kaplan_meier(np.minimum(t, 15), t < 15)
        inner = km[(km["survival"] > 0) & (km["survival"] < 1)]
        assert (inner["ci_low"] <= inner["survival"]).all()
        assert (inner["survival"] <= inner["ci_high"]).all()
        assert ((inner["ci_low"] >= 0) & (inner["ci_high"] <= 1)).all()
        row = km[km["time"] <= 10].iloc[-1]  # the step in force at t = 10
        return row["ci_high"] - row["ci_low"]

    w_small, w_big = width_at_10(40), width_at_10(4000)
    assert w_big < w_small / 5


def test_kaplan_meier_no_events_and_bad_input():
    km = survival.kaplan_meier([4.0, 9.0], [False, False])
    assert len(km) == 1
    assert km.iloc[0].tolist() == [0.0, 2, 0, 2, 1.0, 1.0, 1.0]
    assert math.isnan(median(km))
    with pytest.raises(ValueError):
        survival.kaplan_meier([1.0, -2.0], [True, True])
    with pytest.raises(ValueError):
        survival.kaplan_meier([1.0, np.inf], [True, False])
    with pytest.raises(ValueError):
        survival.kaplan_meier([1.0, 2.0], [True])
    with pytest.raises(ValueError):
        survival.kaplan_meier([], [])


def test_curves_by_policy_match_separate_fits():
    df = pd.DataFrame(
        {
            "policy": ["A"] * 6 + ["B"] * 4,
            "week": [1, 2, 2, 3, 4, 5, 1, 2, 2, 7],
            "talks": [True, True, False, True, False, True, True, True, False, False],
        }
    )
    out = survival.survival_curves(df.assign(talks_week=df["week"].where(df["talks"])), ["policy"], 7).drop(
        columns="event"
    )
    assert list(out.columns) == ["policy", "time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
    for name, sub in df.groupby("policy"):
        expected = survival.kaplan_meier(sub["week"].where(sub["talks"], 7), sub["talks"]).reset_index(drop=True)
        got = out[out["policy"] == name].drop(columns="policy").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)
    assert out[out["policy"] == "A"]["time"].iloc[0] == 0.0
    medians = {k: median(g) for k, g in out.groupby("policy")}
    assert medians == {"A": 3.0, "B": 2.0}


def test_median_survival_is_nan_when_curve_stays_above_half():
    km = survival.kaplan_meier([1, 5, 9, 9, 9], [True, False, False, False, False])
    assert km["survival"].min() == pytest.approx(0.8)
    assert math.isnan(median(km))
    # exactly 0.5 counts ("<= 0.5")
    km2 = survival.kaplan_meier([1, 2, 3, 4], [True, True, False, False])
    assert median(km2) == 2.0


def test_a_curve_that_reaches_exactly_one_half_has_its_median_there():
    """200 runs, 40 with talks in week 1, 2 in week 2 and 58 in week 3: exactly 100 have talks by
    week 3, so S(3) = 1/2 and the median is week 3, although the product (1 - 40/200)(1 - 2/160)
    (1 - 58/158) comes out of floating point as 0.5000000000000001."""
    weeks = np.r_[np.full(40, 1.0), np.full(2, 2.0), np.full(58, 3.0), np.full(100, np.nan)]
    assert np.prod([1 - 40 / 200, 1 - 2 / 160, 1 - 58 / 158]) > 0.5
    curves = survival.survival_curves(pd.DataFrame({"talks_week": weeks, "g": 0}), ["g"], horizon=10)
    assert survival.median_weeks(curves, ["g"])["median_weeks"].iloc[0] == 3.0
