"""The batched engine is the Mesa model, run by run: the same outcomes and weekly series, bit
for bit (compared with ``==``, no tolerance), for parameter sets drawn across the parameter
table's ranges, random seeds and random lever schedules."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import EscalationModel, Params, rules
from model.batched import BatchedEngine, ParamArrays, simulate, simulate_arrays, stack_schedules
from model.outcomes import OUTCOME_COLUMNS
from model.params import TABLE
from model.policies import EXERCISE_POLICIES, LeverSchedule
from model.week import QUANTITIES, SERIES


@st.composite
def parameter_sets(draw):
    """A valid parameter set with every value drawn from the table's allowed range."""
    values = {}
    for name, row in TABLE.items():
        if row.choices is not None:
            values[name] = draw(st.sampled_from(row.choices))
        elif row.dtype is bool:
            values[name] = draw(st.booleans())
        elif row.dtype == "date":
            values[name] = draw(st.dates(dt.date(2015, 1, 1), dt.date(2021, 12, 31))).isoformat()
        elif row.dtype is int:
            values[name] = draw(st.integers(int(row.low), int(row.high)))
        else:
            values[name] = draw(st.floats(row.low, row.high, allow_nan=False))
    values["spoiler_week"] = draw(st.sampled_from([0, draw(st.integers(1, 60))]))
    return Params(values)


def assert_same_outcomes(mesa_rows: pd.DataFrame, batched_rows: pd.DataFrame) -> None:
    """Every outcome of every run identical: same columns, dtypes and bits (NaN equal to NaN)."""
    assert list(mesa_rows.columns) == list(batched_rows.columns) == list(OUTCOME_COLUMNS)
    assert (mesa_rows.dtypes == batched_rows.dtypes).all()
    for column in OUTCOME_COLUMNS:
        a, b = mesa_rows[column].to_numpy(), batched_rows[column].to_numpy()
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), column


def assert_same_trajectory(mesa_traj: pd.DataFrame, batched_traj: pd.DataFrame) -> None:
    assert list(mesa_traj.columns) == list(batched_traj.columns) == ["week", *SERIES]
    assert (mesa_traj.dtypes == batched_traj.dtypes).all()
    for column in mesa_traj.columns:
        a, b = mesa_traj[column].to_numpy(), batched_traj[column].to_numpy()
        assert np.array_equal(a, b), (column, a.tolist(), b.tolist())


@st.composite
def lever_schedules(draw, params: Params, weeks: int):
    """A lever schedule as a historical scenario may set it: every field varying by week
    (exercise policy, scale, stance, mediation, announced packages, sanctions floors,
    endogenous sanctions on or off, relief sequencing, forced talks events), drawn from ``draw``'s seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def overrides(n):
        return {
            "exercise_policy": rng.integers(0, len(EXERCISE_POLICIES), n),
            "exercise_scale": rng.random(n),
            "pressure_first": rng.integers(0, 2, n).astype(float),
            "rok_mediation": rng.random(n),
            "announced_packages": rng.choice([0, 0, 0, 1, 2], n),
            "sanctions_floor": np.where(rng.random(n) < 0.2, rng.random(n), np.nan),
            "endogenous_sanctions": rng.integers(0, 2, n).astype(float),
            "relief_all_at_end": rng.integers(0, 2, n).astype(float),
            "forced_event": np.where(rng.random(n) < 0.8, 0, rng.integers(1, 11, n)),
        }

    schedule = LeverSchedule.from_params(params)
    fixed = overrides(weeks)  # the same arrays whatever the engine asks for (the Mesa model grows by doubling)
    return LeverSchedule(
        schedule.params, schedule.calendar, overrides=lambda n: {k: np.resize(v, n) for k, v in fixed.items()}
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sets=st.lists(parameter_sets(), min_size=1, max_size=3),
    seeds=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3, unique=True),
    weeks=st.integers(1, 70),
    order=st.randoms(use_true_random=False),
)
def test_batched_equals_mesa_run_by_run(sets, seeds, weeks, order):
    runs = [(p, s) for p in sets for s in seeds]
    order.shuffle(runs)  # a block mixes design points in any order
    mesa_models = [EscalationModel(p, rng=s).run(weeks) for p, s in runs]
    result = simulate([p for p, _ in runs], [s for _, s in runs], weeks, trajectories=True)

    assert_same_outcomes(pd.DataFrame([m.outcomes() for m in mesa_models]), result.outcomes_frame())
    batched_traj = result.trajectory_frame()
    for i, m in enumerate(mesa_models):
        one = batched_traj[batched_traj["run"] == i].drop(columns="run").reset_index(drop=True)
        assert_same_trajectory(m.trajectory(), one)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    params=parameter_sets(),
    seeds=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3, unique=True),
    weeks=st.integers(1, 80),
)
def test_batched_equals_mesa_under_random_lever_schedules(data, params, seeds, weeks):
    schedules = [data.draw(lever_schedules(params, weeks)) for _ in seeds]
    mesa_models = [
        EscalationModel(params, rng=s, levers=schedule).run(weeks) for s, schedule in zip(seeds, schedules, strict=True)
    ]
    result = simulate([params] * len(seeds), seeds, weeks, levers=schedules, trajectories=True)

    assert_same_outcomes(pd.DataFrame([m.outcomes() for m in mesa_models]), result.outcomes_frame())
    batched_traj = result.trajectory_frame()
    for i, m in enumerate(mesa_models):
        one = batched_traj[batched_traj["run"] == i].drop(columns="run").reset_index(drop=True)
        assert_same_trajectory(m.trajectory(), one)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    params=parameter_sets(),
    seeds=st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=4, unique=True),
    weeks=st.integers(1, 80),
)
def test_a_run_is_the_same_alone_in_a_block_and_with_its_parameters_given_per_run(data, params, seeds, weeks):
    # A block shares a parameter as a Python scalar, calibration gives it per run as an array, and
    # a block of one run holds arrays of one element: each reaches numpy's kernels with another
    # shape and stride, and a run must not see the difference.
    schedules = [data.draw(lever_schedules(params, weeks)) for _ in seeds]
    n, columns = len(seeds), np.arange(len(seeds))
    shared = BatchedEngine(
        ParamArrays.from_points([params], np.zeros(n, dtype=int)), seeds, stack_schedules(schedules, weeks), columns
    )
    numeric = {name: np.full(n, params[name]) for name, row in TABLE.items() if row.dtype in (float, int)}
    per_run = BatchedEngine(ParamArrays.from_arrays(params, numeric), seeds, stack_schedules(schedules, weeks), columns)
    block = shared.run(weeks, trajectories=True)
    by_array = per_run.run(weeks, trajectories=True)
    alone = [
        simulate([params], [s], weeks, levers=[schedule], trajectories=True)
        for s, schedule in zip(seeds, schedules, strict=True)
    ]

    assert_same_outcomes(block.outcomes_frame(), by_array.outcomes_frame())
    assert_same_outcomes(block.outcomes_frame(), pd.concat([one.outcomes_frame() for one in alone], ignore_index=True))
    block_traj, array_traj = block.trajectory_frame(), by_array.trajectory_frame()
    for i, one in enumerate(alone):
        run = block_traj[block_traj["run"] == i].drop(columns="run").reset_index(drop=True)
        assert_same_trajectory(run, array_traj[array_traj["run"] == i].drop(columns="run").reset_index(drop=True))
        assert_same_trajectory(run, one.trajectory_frame().drop(columns="run"))


def test_the_rounding_case_that_a_tolerance_once_hid():
    # Progress after two tests at a rung: (1 - g)**2 was rounded one way by Python's float
    # power and numpy's scalar pow and another by numpy's array kernel; the engines once differed
    # here by 1 ULP (and the test hazard by up to 25 ULP a few weeks later).
    g0, tests, rung, per_test = 0.1042526927113564, 2, 2, 0.06634459587733577
    one = rules.rung_progress(np.full(rules.RUNGS, g0), tests, rung, per_test)  # one run (Mesa)
    many = rules.rung_progress(np.full((3, rules.RUNGS), g0), np.full(3, tests), np.full(3, rung), per_test)
    assert np.array_equal(one, many[0])
    assert np.array_equal(
        one, rules.rung_progress(np.full(rules.RUNGS, g0), np.int64(tests), np.int64(rung), np.float64(per_test))
    )


@pytest.mark.slow  # 240 Mesa runs; the default suite keeps the run-by-run identity tests above
def test_many_seeds_at_default_and_policy_levers():
    policies = [
        Params(exercise_policy=e, engagement_stance=s, spoiler_week=w)
        for e in ("as_scheduled", "delayed", "suspended_during_talks", "scaled_down", "suspended", "dual_suspension")
        for s in ("pressure_first", "pressure_and_engagement")
        for w in (0, 3)
    ]
    params = [p for p in policies for _ in range(10)]
    seeds = np.arange(len(params), dtype=np.uint64) * 7919 + 12345
    result = simulate(params, seeds, 52)
    mesa_rows = pd.DataFrame(
        [EscalationModel(p, rng=int(s)).run(52).outcomes() for p, s in zip(params, seeds, strict=True)]
    )
    assert_same_outcomes(mesa_rows, result.outcomes_frame())


def test_a_run_does_not_depend_on_its_block():
    params = [Params(sanctions_level=x) for x in np.linspace(0, 1, 12)]
    seeds = np.arange(12)
    whole = simulate(params, seeds, 40).outcomes_frame()
    halves = pd.concat(
        [simulate(params[:5], seeds[:5], 40).outcomes_frame(), simulate(params[5:], seeds[5:], 40).outcomes_frame()],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(whole, halves, check_exact=True)


def test_trajectories_are_optional_and_do_not_change_outcomes():
    params, seeds = [Params()] * 50, np.arange(50)
    plain = simulate(params, seeds, 30)
    traced = simulate(params, seeds, 30, trajectories=True)
    assert plain.trajectory is None
    pd.testing.assert_frame_equal(plain.outcomes_frame(), traced.outcomes_frame(), check_exact=True)
    frame = traced.trajectory_frame()
    assert list(frame.columns) == ["run", "week", *SERIES] and len(frame) == 50 * 30


@pytest.mark.parametrize("backend_name", ["compiled", "numpy"])
@pytest.mark.parametrize("chosen", [("tests",), ("sanctions", "dprk_stress"), ("talks_stage", "alignment", "summit")])
def test_a_few_series_are_the_same_as_those_of_all_series(backend_name, chosen):
    """Keeping only some weekly series (calibration keeps five) gives exactly those series of a
    run that keeps them all, and the same outcomes; an unknown name is refused."""
    params, seeds = [Params(), Params(sanctions_level=0.8)] * 20, np.arange(40)
    every = simulate(params, seeds, 40, trajectories=True, backend=backend_name)
    few = simulate(params, seeds, 40, trajectories=list(reversed(chosen)), backend=backend_name)
    assert list(few.trajectory) == [c for c in SERIES if c in chosen]
    for column in chosen:
        assert np.array_equal(few.trajectory[column], every.trajectory[column]), column
    pd.testing.assert_frame_equal(few.outcomes_frame(), every.outcomes_frame(), check_exact=True)
    assert list(few.trajectory_frame().columns) == ["run", "week", *few.trajectory]
    with pytest.raises(ValueError, match="no weekly series named stres"):
        simulate(params, seeds, 5, trajectories=("stres",), backend=backend_name)
    one = simulate(params, seeds, 40, trajectories="tests", backend=backend_name)  # a name, not its letters
    assert list(one.trajectory) == ["tests"] and np.array_equal(one.trajectory["tests"], every.trajectory["tests"])


def test_engine_can_be_stepped_like_the_model():
    p, seeds = Params(), [3, 4]
    levers = stack_schedules([LeverSchedule.from_params(p)], 10)
    engine = BatchedEngine(ParamArrays.from_points([p], np.zeros(2, dtype=int)), seeds, levers)
    models = [EscalationModel(p, rng=s) for s in seeds]
    for _ in range(10):
        engine.step()
        for i, m in enumerate(models):
            m.step()
            for name, read in QUANTITIES.items():  # every state variable, week by week
                assert engine.quantity(name)[i] == read(m), name


def test_varying_arrays_equal_separate_parameter_sets():
    values = np.array([0.1, 0.5, 0.9, 0.3])
    by_arrays = simulate_arrays(Params(), {"sanctions_level": values, "hawkes_ratio": values / 2}, np.arange(4), 30)
    by_points = simulate([Params(sanctions_level=v, hawkes_ratio=v / 2) for v in values], np.arange(4), 30)
    pd.testing.assert_frame_equal(by_arrays.outcomes_frame(), by_points.outcomes_frame(), check_exact=True)


def test_varying_arrays_are_validated():
    import pytest

    from model.params import ParameterError

    with pytest.raises(ParameterError, match="sanctions_level=1.5 is out of range"):
        simulate_arrays(Params(), {"sanctions_level": np.array([0.5, 1.5])}, [1, 2], 5)
    with pytest.raises(ParameterError, match="hawkes_ratio=2.0 is out of range"):
        simulate_arrays(Params(), {"hawkes_ratio": np.array([0.5, 2.0])}, [1, 2], 5)
