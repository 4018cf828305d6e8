"""The Mesa model: construction, determinism, outcomes and trajectories."""

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from model import EscalationModel, Params
from model.agents import China, Japan, NorthKorea, SouthKorea, State, UnitedStates
from model.outcomes import OUTCOME_COLUMNS
from model.week import SERIES


def test_agents_are_the_states_with_trust_toward_every_other():
    m = EscalationModel(rng=1)
    kinds = {type(a) for a in m.agents}
    assert kinds == {UnitedStates, SouthKorea, NorthKorea, China, Japan}
    for agent in m.agents:
        assert isinstance(agent, State) and isinstance(agent, mesa.Agent)
        assert len(agent.trust) == 4 and agent.code not in agent.trust
    assert m.dprk.trust["US"] == Params().trust_dprk_us


def test_china_and_japan_can_be_switched_off():
    m = EscalationModel(rng=1, include_china=False, include_japan=False).run(30)
    assert {type(a) for a in m.agents} == {UnitedStates, SouthKorea, NorthKorea}
    out = m.outcomes()
    assert math.isnan(out["final_trust_china_dprk"]) and math.isnan(out["final_trust_japan_dprk"])
    assert set(m.trajectory()["enforcement"]) == {Params().china_enforcement}


def test_run_returns_the_model_and_steps_weekly():
    m = EscalationModel(rng=3)
    assert m.run(10) is m and m.steps == 10
    m.run(5)
    assert m.steps == 15 and len(m.trajectory()) == 15


def test_same_seed_same_everything_different_seed_differs():
    a = EscalationModel(rng=42).run(52)
    b = EscalationModel(rng=42).run(52)
    assert a.outcomes().keys() == b.outcomes().keys()
    for k in a.outcomes():
        va, vb = a.outcomes()[k], b.outcomes()[k]
        assert va == vb or (isinstance(va, float) and math.isnan(va) and math.isnan(vb)), k
    pd.testing.assert_frame_equal(a.trajectory(), b.trajectory())
    others = [EscalationModel(rng=s).run(52).trajectory() for s in (43, 44, 45)]
    assert all(not o.equals(a.trajectory()) for o in others)


def test_outcomes_are_flat_and_typed_weeks_nan_when_not_reached():
    for seed in range(20):
        out = EscalationModel(rng=seed).run(52).outcomes()
        assert list(out) == list(OUTCOME_COLUMNS)
        for name, dtype in OUTCOME_COLUMNS.items():
            expected = {"bool": bool, "int64": int, "float64": float}[dtype]
            assert type(out[name]) is expected, name
        assert out["talks"] == (not math.isnan(out["talks_week"]))
        assert out["summit"] == (not math.isnan(out["summit_week"]))
        assert out["deal"] == (not math.isnan(out["deal_week"]))
        assert out["summit"] or not (out["deal"] or out["summit_failed"])
        assert math.isnan(out["first_test_after_failure_week"]) or out["summit_failed"]
        assert out["tests"] == out["launches"] + out["nuclear_tests"]
        assert out["tests"] == sum(
            out[k]
            for k in ("tests_short_range", "tests_intermediate", "tests_slbm_space", "tests_icbm", "nuclear_tests")
        )
        assert 0 <= out["steps"] <= 4 and 0.0 <= out["relief"] <= 1.0
        if out["talks"]:
            assert 1 <= out["talks_week"] <= 52
        if out["talks_collapsed"]:
            assert out["talks"] and out["collapses"] >= 1


def test_trajectory_columns_and_consistency_with_outcomes():
    m = EscalationModel(rng=11).run(52)
    traj = m.trajectory()
    assert list(traj.columns) == ["week", *SERIES]
    assert traj["week"].tolist() == list(range(1, 53))
    out = m.outcomes()
    assert traj["tests"].sum() == out["tests"]
    reached = traj.loc[traj["talks_stage"].isin([2, 3]), "week"]
    assert (reached.min() if len(reached) else float("nan")) == pytest.approx(out["talks_week"], nan_ok=True)
    assert traj["sanctions"].iloc[-1] == out["final_sanctions_level"]
    assert traj["trust_us_in_dprk"].iloc[-1] == out["final_trust_us_dprk"]
    assert (traj.loc[traj["tests"] == 0, "test_rung"] == 0).all()


def test_spoiler_week_raises_sanctions_that_week():
    base = EscalationModel(rng=5, sanctions_level=0.5).run(6).trajectory()
    spoiled = EscalationModel(rng=5, sanctions_level=0.5, spoiler_week=3).run(6).trajectory()
    # 1 - (1 - 0.5) * (1 - 0.5) = 0.75 in week 3 (unless a package was already adopted)
    assert spoiled["sanctions"].iloc[2] > base["sanctions"].iloc[2]
    assert spoiled["sanctions"].iloc[1] == base["sanctions"].iloc[1]


def test_exercise_policy_suspended_holds_no_exercise():
    traj = EscalationModel(rng=2, exercise_policy="suspended").run(52).trajectory()
    assert (traj["exercise_intensity"] == 0).all()
    held = EscalationModel(rng=2).run(52).trajectory()
    assert held["exercise_intensity"].max() == 1.0


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be an integer"):
        EscalationModel(rng=-1)
    with pytest.raises(ValueError, match="seed must be an integer"):
        EscalationModel(rng=2**64)


def test_seed_none_draws_and_records_a_seed():
    m = EscalationModel()
    assert 0 <= m.seed < 2**64
    again = EscalationModel(rng=m.seed).run(20)
    assert m.run(20).outcomes()["tests"] == again.outcomes()["tests"]


def test_params_object_and_overrides_combine():
    m = EscalationModel(Params(sanctions_level=0.3), rng=1, rok_mediation=0.1)
    assert m.params.sanctions_level == 0.3 and m.params.rok_mediation == 0.1


def test_talks_collapsed_means_us_dprk_talks_began_and_later_ended():
    seen = 0
    for seed in range(300):
        m = EscalationModel(rng=seed, initial_stage=1, suspend_per_test=3.0, idle_end_rate=0.2, idle_patience=4).run(52)
        stage = m.trajectory()["talks_stage"].to_numpy()
        before = np.r_[1, stage[:-1]]
        began = np.maximum.accumulate(np.isin(before, (2, 3)))  # US-DPRK talks before the week
        ended = (before != 0) & (stage == 0)
        expected = bool((ended & began).any())
        assert m.outcomes()["talks_collapsed"] == expected, seed
        assert m.outcomes()["collapses"] == int(ended.sum()), seed
        assert m.outcomes()["suspensions"] == int(((stage == 4) & (before != 4)).sum()), seed
        seen += expected
    assert seen > 10  # the property was exercised
