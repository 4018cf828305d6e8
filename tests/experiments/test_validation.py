"""The validation layer: one message shape (what, what is allowed, what was given), strict TOML
types (a quoted boolean or number is refused), and parameters checked against the table."""

import datetime as dt

import pytest

from experiments import validation as check
from experiments.errors import UserError


@pytest.mark.parametrize(
    "call, fragments",
    [
        (
            lambda: check.boolean("false", "s.toml: [scenario] endogenous_sanctions"),
            ["must be true or false", "'false'"],
        ),
        (lambda: check.boolean(0, "w"), ["must be true or false", "got 0"]),
        (lambda: check.integer(True, "c.toml: [experiment] weeks", 1, 5200), ["an integer from 1 to 5200", "True"]),
        (lambda: check.integer(3.0, "w", low=1), ["an integer of at least 1"]),
        (lambda: check.number("0.5", "w", 0, 1), ["a number from 0 to 1", "'0.5'"]),
        (lambda: check.number(float("nan"), "w"), ["must be a number"]),
        (lambda: check.number(0, "w", 0, 1, exclusive=True), ["strictly between 0 and 1"]),
        (lambda: check.choice("sobl", "m", ("morris", "sobol")), ["'sobl' is not allowed", "did you mean 'sobol'"]),
        (lambda: check.strings("talks", "o"), ["a list of strings"]),
        (lambda: check.date("2016-13-01", "d"), ["a date YYYY-MM-DD"]),
        (lambda: check.date(dt.date(1900, 1, 1), "d"), ["outside the dates the model handles"]),
        (
            lambda: check.check_keys({"wekks": 3}, ("weeks", "seed"), "c.toml", "[experiment]"),
            ["unknown key 'wekks' in [experiment]", "'weeks'", "allowed: weeks, seed"],
        ),
        (lambda: check.check_tables({"parms": {}}, ("params",), "c.toml"), ["unknown table [parms]", "[params]"]),
        (
            lambda: check.check_tables({"events": {}}, ("events",), "s.toml", arrays=("events",)),
            ["[[events]] must be an array of tables"],
        ),
        (lambda: check.parameter("include_japan", "yes", "c.toml: [params]"), ["include_japan='yes'", "unquoted"]),
        (
            lambda: check.parameter("rok_mediation", "0.5", "c.toml: [params]"),
            ["rok_mediation='0.5'", "allowed 0 to 1"],
        ),
        (lambda: check.parameter("rok_mediation", 1.5, "c.toml: [params]"), ["out of range", "allowed 0 to 1"]),
        (lambda: check.parameter("rok_mediaton", 0.5, "c.toml: [params]"), ["unknown parameter", "'rok_mediation'"]),
    ],
)
def test_each_check_refuses_with_one_line_saying_what_is_allowed(call, fragments):
    with pytest.raises(UserError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_valid_values_pass_through_in_their_type():
    assert check.boolean(False, "w") is False
    assert check.integer(7, "w", 1, 10) == 7
    assert check.number(1, "w", 0, 1) == 1.0 and isinstance(check.number(1, "w"), float)
    assert check.date("2018-06-12", "d") == dt.date(2018, 6, 12)
    assert check.parameter("include_japan", False, "c.toml: [params]") is False
    assert check.parameter("exercise_policy", "suspended", "c.toml: [params]") == "suspended"
    assert check.strings(["talks", "tests"], "o") == ("talks", "tests")
