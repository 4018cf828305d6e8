"""The parameter table and the validated Params object."""

import pickle

import pytest

from model.params import (
    TABLE,
    ParameterError,
    Params,
    levers,
    lookup,
    table_markdown,
    uncertainties,
)


def test_every_row_is_complete_and_its_default_allowed():
    for p in TABLE.values():
        assert p.kind in ("lever", "uncertainty", "constant"), p.name
        assert p.unit and p.meaning and p.source, p.name
        assert p.coerce(p.default) == p.default, p.name
    Params()  # the defaults together satisfy the cross-parameter constraints


def test_levers_and_uncertainties_are_listed():
    assert {"sanctions_level", "exercise_policy", "engagement_stance", "rok_mediation", "spoiler_week"} <= set(levers())
    assert {"test_baseline_rate", "hawkes_ratio", "hawkes_beta", "reactance_hazard_weight"} <= set(uncertainties())


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ParameterError, match="unknown parameter 'sanctions_levle'.*'sanctions_level'"):
        Params(sanctions_levle=0.5)
    with pytest.raises(ParameterError, match="did you mean 'hawkes_ratio'"):
        lookup("hawkes_ratoi")


def test_out_of_range_names_the_range():
    with pytest.raises(ParameterError, match=r"sanctions_level=1.7 is out of range: allowed 0 to 1"):
        Params(sanctions_level=1.7)
    with pytest.raises(ParameterError, match="exercise_delay_weeks"):
        Params(exercise_delay_weeks=2.5)  # not an integer


def test_choices_and_types():
    with pytest.raises(ParameterError, match="allowed one of as_scheduled"):
        Params(exercise_policy="cancelled")
    with pytest.raises(ParameterError, match="true or false"):
        Params(include_china="maybe")
    with pytest.raises(ParameterError, match="date"):
        Params(start_date="2018-13-40")
    with pytest.raises(ParameterError):
        Params(test_baseline_rate=float("nan"))
    assert Params(include_china="false").include_china is False


def test_constrained_pairs_are_shares_so_every_value_in_range_is_valid():
    # the branching ratio is the parameter: any beta with the highest ratio is stationary
    p = Params(hawkes_ratio=0.95, hawkes_beta=0.05)
    assert p.hawkes_ratio == 0.95
    with pytest.raises(ParameterError, match="hawkes_ratio=1 is out of range"):
        Params(hawkes_ratio=1.0)
    # the lowest cost multiplier is a share of the highest: share 1 draws theta = high exactly
    from model.rules import draw_step_cost_multiplier

    assert draw_step_cost_multiplier(0.3, 1.0, 2.0) == 2.0 and draw_step_cost_multiplier(0.5, 0.25, 2.0) == 1.25
    with pytest.raises(ParameterError, match="step_cost_low_share=3 is out of range"):
        Params(step_cost_low_share=3.0)


def test_from_strings_converts_types():
    p = Params.from_strings(["sanctions_level=0.5", "spoiler_week=3", "engagement_stance=pressure_first"])
    assert p.sanctions_level == 0.5 and p.spoiler_week == 3 and p.engagement_stance == "pressure_first"
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        Params.from_strings(["sanctions_level"])


def test_params_is_an_immutable_hashable_mapping():
    p = Params(sanctions_level=0.5)
    with pytest.raises(AttributeError):
        p.sanctions_level = 0.3
    assert p.replace(sanctions_level=0.3).sanctions_level == 0.3 and p.sanctions_level == 0.5
    assert p.changed() == {"sanctions_level": 0.5}
    assert hash(p) == hash(Params(sanctions_level=0.5)) and p == Params(sanctions_level=0.5)
    assert pickle.loads(pickle.dumps(p)) == p
    assert dict(p)["rok_mediation"] == TABLE["rok_mediation"].default


def test_markdown_table_has_a_row_per_parameter():
    rows = [line for line in table_markdown().splitlines() if line.startswith("| `")]
    assert len(rows) == len(TABLE)
