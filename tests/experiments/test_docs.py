"""The documentation agrees with the code."""

from experiments.docs import ODD_PATH, validation_markdown, with_parameter_table
from model import rules
from model.params import TABLE


def test_odd_parameter_table_is_generated_from_params():
    text = ODD_PATH.read_text(encoding="utf-8")
    assert text == with_parameter_table(text), "run `escalation params --update-odd`"
    for name in TABLE:
        assert f"| `{name}` |" in text


def test_odd_names_every_rule():
    text = ODD_PATH.read_text(encoding="utf-8")
    public = [
        n for n, f in vars(rules).items() if callable(f) and not n.startswith("_") and f.__module__ == rules.__name__
    ]
    missing = [n for n in public if n not in text]
    assert not missing, f"rules not described in docs/ODD.md: {missing}"


def test_odd_validation_results_are_a_fresh_replay():
    text = ODD_PATH.read_text(encoding="utf-8")
    assert validation_markdown() in text, "run `escalation params --update-odd`"
