"""What the reported effects rest on (experiments/analysis/assumptions.py): the parameters named
for each effect are the ones the model's lever acts through (with them at zero the lever changes
no outcome of any run; each one alone makes it change), the deal's govern P(deal), and the
assumption flags are those of the parameter table."""

import pandas as pd
import pytest

from experiments.analysis import assumptions
from model.batched import simulate
from model.params import EXERCISE_POLICIES, TABLE, Params

RUNS, WEEKS = 300, 52
EFFECTS = {effect.name: effect for effect in assumptions.EFFECTS}


def outcomes(**values) -> pd.DataFrame:
    """Outcomes of RUNS runs with the same seeds (common random numbers), at sanctions 1."""
    params = Params(sanctions_level=1.0, **values)
    return simulate([params] * RUNS, seeds=range(RUNS), weeks=WEEKS).outcomes_frame()


def identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.equals(b)


@pytest.mark.parametrize(
    ("name", "lever", "values"),
    [
        ("stance", "engagement_stance", ("pressure_first", "pressure_and_engagement")),
        ("exercises", "exercise_policy", EXERCISE_POLICIES),
    ],
)
def test_with_its_parameters_at_zero_the_lever_changes_no_outcome_and_each_one_matters(name, lever, values):
    effect = EFFECTS[name]
    zero = dict.fromkeys(effect.parameters, 0.0)
    # engagement lets talks start under any exercise policy, pressure first under either stance
    context = {"engagement_stance": "pressure_and_engagement"} if lever == "exercise_policy" else {}
    without = [outcomes(**context, **zero, **{lever: value}) for value in values]
    assert all(identical(without[0], other) for other in without[1:]), f"{lever} acts through a parameter not named"
    for parameter in effect.parameters:  # each named parameter, alone at its default, carries some effect
        alone = {k: v for k, v in zero.items() if k != parameter}
        runs = [outcomes(**context, **alone, **{lever: value}) for value in values]
        assert not all(identical(runs[0], other) for other in runs[1:]), f"{parameter} does not carry the {name} effect"


def test_the_deal_parameters_govern_p_deal():
    """With the step cheap, the trust bar at zero and the lowest relief threshold, deals are common;
    at the defaults they are rarer (paired, the same seeds); raising the trust bar to 1 with the
    steepest acceptance stops them all (P(accept) <= logit(-48))."""
    engaged = {"engagement_stance": "pressure_and_engagement", "relief_threshold": 1}
    open_deal = outcomes(**engaged, deal_trust_threshold=0.0, step_cost_scale=0.0)["deal"]
    default = outcomes(engagement_stance="pressure_and_engagement")["deal"]
    assert open_deal.mean() > 0.1
    d = open_deal.astype(float) - default.astype(float)
    assert d.mean() > 4 * d.std(ddof=1) / len(d) ** 0.5
    closed = outcomes(**engaged, deal_trust_threshold=1.0, deal_trust_weight=20.0, step_cost_scale=0.0)["deal"]
    assert closed.mean() == 0.0
    assert {"deal_trust_threshold", "deal_trust_weight", "step_cost_scale"} <= set(EFFECTS["deal"].parameters)


def test_flags_follow_the_parameter_table():
    named = {name for effect in assumptions.EFFECTS for name in effect.parameters}
    assert named <= set(TABLE)
    for name in named:
        calibrated = TABLE[name].source.startswith("calibrated")
        assert assumptions.is_assumption(name) == ("assumption" in TABLE[name].source and not calibrated)
        assert assumptions.is_calibrated(name) == TABLE[name].source.startswith("calibrated")
    assert not assumptions.is_assumption("threat_hazard_weight")  # calibrated, though anchored on an assumption
    assert assumptions.is_calibrated("threat_hazard_weight")


def test_the_section_names_every_parameter_with_its_value_and_marks_assumptions():
    levers = {"engagement_stance": ["pressure_first", "pressure_and_engagement"], "exercise_policy": ["delayed"]}
    effects = assumptions.relevant(levers, ["p_talks", "p_deal"])
    assert [e.name for e in effects] == ["stance", "deal"]  # one exercise policy: no exercise effect
    text = "\n".join(assumptions.section(effects, {"params": {"step_cost_scale": 0.7}, "posterior": {"samples": 3}}))
    assert "`step_cost_scale` = 0.7 (**an assumption**; source: assumption)" in text
    assert "`precondition_cost` drawn from the posterior (source: calibrated to history_2009_2018" in text
    assert "intervals over the draws do not include their uncertainty" in text
    brief = assumptions.brief(effects)
    assert brief[1].startswith(
        "P(deal) rests on the assumptions `deal_trust_weight`, `deal_stress_weight`, `step_cost_scale`"
    )
    assert all("What the effects rest on" in line for line in brief)
    assert assumptions.section([], {}) == []
