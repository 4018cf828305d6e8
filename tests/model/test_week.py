"""The week is written once: both engines run model/week.py's schedule, every mechanism is
called from one place, the state at week 0 is the same in both engines, and the names a user
reads back (weekly series, outcomes) never collide with a parameter's."""

import ast
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
from conftest import ROOT

from model import EscalationModel, Params, rules
from model.batched import BatchedEngine, ParamArrays, stack_schedules
from model.outcomes import FROM_TRAJECTORY, OUTCOME_COLUMNS, outcomes_from_trajectory
from model.params import TABLE
from model.policies import LeverSchedule
from model.week import FINAL_STATE, QUANTITIES, SERIES

MODEL = ROOT / "model"

BUILDING_BLOCKS = {
    "where",
    "power",
    "event_probability",
    "bounded_accumulation",
    "logit_choice",
    "talks_under_way",
    "talks_at_us_level",
    "talks_reached",
}
"""Generic functions of rules.py that mechanisms share (logit choice serves both sides' talk
decisions; the talks-stage predicates say which stages count as talks); every other rule is
one mechanism."""
POLICY_RULES = {"held_exercise", "forgone_exercise", "apply_sanctions_floor"}


def _calls(path: Path) -> list[str]:
    """Names of the rules called in a module: ``rules.f(...)``, the world's rules ``R.f(...)``
    (model/week.py), an actor's ``self.rules.f(...)`` (model/actors.py), or a rule imported from
    model/rules.py, model/policies.py or model/compiled.py and called by name (model/kernel.py)."""
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("rules", "policies", "compiled")
        for alias in node.names
    }
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("rules", "R"):
                names.append(f.attr)
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Attribute)
                and isinstance(f.value.value, ast.Name)
                and (f.value.value.id, f.value.attr) == ("self", "rules")
            ):
                names.append(f.attr)
            elif isinstance(f, ast.Name) and f.id in imported:
                names.append(f.id)
    return names


def test_every_mechanism_is_called_from_exactly_one_place_and_never_by_an_engine():
    mechanisms = {
        name
        for name, value in vars(rules).items()
        if callable(value) and getattr(value, "__module__", None) == "model.rules"
    } - BUILDING_BLOCKS
    callers: dict[str, list[str]] = {}
    for path in sorted(MODEL.glob("*.py")):
        if path.name in ("rules.py", "compiled.py", "kernel.py"):  # the compiled schedule: below
            continue
        for name in _calls(path):
            if name in mechanisms | POLICY_RULES:
                callers.setdefault(name, []).append(path.name)
    for engine in ("model.py", "agents.py", "batched.py"):
        assert not [n for n, files in callers.items() if engine in files], f"{engine} calls a rule itself"
    used_inside_rules = {
        "alignment_factor",
        "bayes_trust",
        "hawkes_decay_and_jump",  # also composed in rules.py
        "step_cost",
        "relief_granted",
        "relief_needed_step",
        "step_utility",
        "offer_utility",
        "inverse_cdf",
        "self_excitation",
        "relief_value",
        "rung_utilities",
        "_last_axis",
    }
    twice = {n: files for n, files in callers.items() if len(files) > 1}
    assert not twice, f"called from more than one place: {twice}"
    assert mechanisms - used_inside_rules <= set(callers), (
        f"never called: {mechanisms - used_inside_rules - set(callers)}"
    )
    # the compiled week (model/kernel.py) calls every mechanism the numpy schedule calls, each
    # in its compiled form (model/compiled.py: the same name)
    compiled_calls = set(_calls(MODEL / "kernel.py"))
    scheduled = set(callers) - POLICY_RULES - {"talks_reached", "draw_step_cost_multiplier"}
    assert scheduled - BUILDING_BLOCKS <= compiled_calls, f"not in the compiled week: {scheduled - compiled_calls}"


def test_no_series_quantity_or_outcome_is_named_like_a_parameter():
    # mesa.batch_run puts the inputs and the collected series in one row, and a sweep's rows
    # hold its levers beside the outcomes: a shared name silently overwrites the input.
    parameters = set(TABLE)
    assert not parameters & set(SERIES), parameters & set(SERIES)
    assert not parameters & set(QUANTITIES), parameters & set(QUANTITIES)
    assert not parameters & set(OUTCOME_COLUMNS), parameters & set(OUTCOME_COLUMNS)


def test_series_and_final_state_are_quantities():
    assert set(SERIES) <= set(QUANTITIES)
    assert set(FINAL_STATE.values()) <= set(QUANTITIES)
    assert [c for c in OUTCOME_COLUMNS if c.startswith("final_")] == list(FINAL_STATE)


def test_mesa_batch_run_returns_every_input_as_given():
    grid = {
        "sanctions_level": [0.5, 0.95],
        "china_enforcement": [0.3, 0.7],
        "trust_us_dprk": [0.1, 0.4],
        "trust_dprk_us": [0.2],
        "exercise_policy": ["as_scheduled", "suspended"],
        "spoiler_week": [3],  # a package in week 3 moves the sanctions away from their input
        "suspend_per_test": [3.0],
    }
    rows = pd.DataFrame(
        mesa.batch_run(
            EscalationModel,
            parameters=grid,
            rng=[5, 6],
            max_steps=8,
            data_collection_period=1,
            number_processes=1,
            display_progress=False,
        )
    )
    assert len(rows) == 16 * 2 * 8
    assert (rows["sanctions"] != rows["sanctions_level"]).any()  # the series did move
    inputs = [*grid, "rng"]
    for name, values in {**grid, "rng": [5, 6]}.items():
        assert set(rows[name]) == set(values), name
    for _, run in rows.groupby("RunId"):
        assert len(run[inputs].drop_duplicates()) == 1  # an input never changes within a run
    assert len(rows[inputs].drop_duplicates()) == 16 * 2  # every combination, each once
    # the inputs reached the model: each run's series are those of a run built from its inputs
    for _, run in rows.groupby("RunId"):
        given = run.iloc[0][inputs].to_dict()
        expected = EscalationModel(**given).run(8).trajectory()
        got = run.assign(week=run["Step"].astype("int64"))[["week", *SERIES]].reset_index(drop=True).astype(SERIES)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_outcomes_from_the_weekly_series_equal_the_run_outcomes():
    m = EscalationModel(rng=9, spoiler_week=4).run(40)
    rebuilt = outcomes_from_trajectory(
        m.trajectory(), initial_stage=m.params.initial_stage, initial_moratorium=m.params.initial_moratorium
    )
    direct = m.outcomes()
    assert list(rebuilt) == FROM_TRAJECTORY
    for name in FROM_TRAJECTORY:
        assert rebuilt[name] == direct[name] or (np.isnan(rebuilt[name]) and np.isnan(direct[name])), name


def test_both_engines_start_from_the_same_state():
    params = [Params(), Params(include_china=False, sanctions_level=0.2, initial_stress=0.9)]
    engine = BatchedEngine(
        ParamArrays.from_points(params, np.array([0, 1])),
        [1, 2],
        stack_schedules([LeverSchedule.from_params(params[0])], 1),
    )
    for i, p in enumerate(params):
        m = EscalationModel(p, rng=i + 1)
        for name, read in QUANTITIES.items():
            a, b = np.float64(read(m)), engine.quantity(name)[i]
            assert a == b or (np.isnan(a) and np.isnan(b)), name
            # a number in both, except China's state in a run without China: not NaN against NaN
            assert not np.isnan(a) or (name.startswith(("trust_china", "china_")) and not p.include_china), name
        assert QUANTITIES["sanctions"](m) == p.sanctions_level
        assert QUANTITIES["dprk_stress"](m) == p.initial_stress
    assert np.isnan(engine.quantity("trust_china_in_dprk")[1])  # China is not in run 1
