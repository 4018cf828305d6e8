"""The `escalation run` and `escalation params` commands, bad input included."""

import json

import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli

from model import EscalationModel
from model.params import TABLE


def test_run_json_is_identical_twice_and_matches_the_model():
    first = run_cli("run", "--seed", "7", "--json")
    second = run_cli("run", "--seed", "7", "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    record = json.loads(first.stdout)
    expected = EscalationModel(rng=7).run(52).outcomes()
    assert record["seed"] == 7 and record["weeks"] == 52
    for key, value in expected.items():
        got = record["outcomes"][key]
        assert (got is None and value != value) or got == value, key


def test_run_engines_agree_and_trajectory_is_written(tmp_path):
    mesa_csv, batched_csv = tmp_path / "m.csv", tmp_path / "b.csv"
    same = ("run", "--seed", "3", "--weeks", "30", "--set", "exercise_policy=delayed", "--json")
    mesa = run_cli(*same, "--trajectory", str(mesa_csv))
    batched = run_cli(*same, "--engine", "batched", "--trajectory", str(batched_csv))
    assert json.loads(mesa.stdout)["outcomes"] == json.loads(batched.stdout)["outcomes"]
    a, b = pd.read_csv(mesa_csv), pd.read_csv(batched_csv)
    assert len(a) == 30 and list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_run_human_output_names_the_outcomes():
    result = run_cli("run", "--seed", "2", "--weeks", "10")
    assert result.returncode == 0
    assert "talks_week" in result.stdout and "seed 2, 10 weeks" in result.stdout


def test_value_out_of_range_exits_2_naming_the_range():
    assert_one_line_error(run_cli("run", "--set", "sanctions_level=1.7"), "sanctions_level", "allowed 0 to 1")


def test_misspelt_parameter_exits_2_naming_the_right_one():
    assert_one_line_error(run_cli("run", "--set", "sanctions_levle=0.5"), "sanctions_levle", "sanctions_level'")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "--set", "exercise_policy=cancelled"], "as_scheduled"),
        (["run", "--set", "sanctions_level"], "NAME=VALUE"),
        (["run", "--weeks", "0"], "positive integer"),
        (["run", "--seed", "-4"], "seed"),
        (["run", "--engine", "gpu"], "mesa"),
        (["run", "--set", "hawkes_ratio=3"], "allowed 0 to 0.95"),
        (["frobnicate"], "invalid choice"),
        (["run", "--weeks", "600000"], "at most 5200"),
        (["run", "--set", "start_date=0001-01-01"], "1950-01-01"),
        (
            ["sweep", "experiments/configs/smoke.toml", "--dask", "foo", "--out", "/nonexistent/never/made"],
            "Dask scheduler",
        ),
    ],
)
def test_other_bad_input_exits_2_with_one_line(args, fragment):
    assert_one_line_error(run_cli(*args), fragment)


def test_bad_trajectory_path_leaves_nothing_behind(tmp_path):
    target = tmp_path / "keep.csv"
    target.write_text("precious\n")
    assert_one_line_error(run_cli("run", "--set", "sanctions_level=2", "--trajectory", str(target)), "sanctions_level")
    assert target.read_text() == "precious\n"


def test_trajectory_into_a_directory_is_refused(tmp_path):
    assert_one_line_error(run_cli("run", "--trajectory", str(tmp_path)), "is a directory")


def test_trajectory_in_a_missing_directory_is_refused_and_nothing_is_created(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "x.csv"
    assert_one_line_error(run_cli("run", "--trajectory", str(target)), "does not exist")
    assert not (tmp_path / "no").exists()


def test_params_lists_every_parameter():
    result = run_cli("params")
    assert result.returncode == 0
    for name in TABLE:
        assert name in result.stdout
    levers = run_cli("params", "--kind", "lever").stdout
    assert "sanctions_level" in levers and "hawkes_ratio" not in levers


def test_every_command_has_help_that_reads_cleanly():
    from experiments.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"run", "params", "sweep", "replay", "calibrate", "report", "bench"} <= set(commands)
    for name, sub in commands.items():
        text = sub.format_help()
        assert sub.description, name  # says what the command does
        assert "%%" not in text and "%(" not in text, name  # no unformatted escapes
