"""escalation validate: fit on a training window only, score the forecast of a test window."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, run_cli

from experiments.errors import UserError
from experiments.history.record import read_record
from experiments.history.scenario import load_scenario
from experiments.history.scores import crps_poisson
from experiments.history.validate import Fold, check_fold, parse_window, rolling_folds

HISTORY_10 = ROOT / "experiments" / "scenarios" / "history_2009_2018.toml"
RECORD_10 = ROOT / "data" / "dprk_monthly_2009_2018.csv"


def P(text):
    return pd.Period(text, freq="M")


def test_rolling_origin_folds_of_the_ten_years():
    folds = rolling_folds(load_scenario(HISTORY_10))
    assert [f.label() for f in folds] == [
        "2009-01:2015-12 -> 2016-01:2018-12",
        "2009-01:2016-12 -> 2017-01:2018-12",
        "2009-01:2017-12 -> 2018-01:2018-12",
    ]


@pytest.mark.parametrize(
    ("train", "test", "fragment"),
    [
        ("2010-01:2015-12", "2016-01:2018-12", "must start at the scenario's first month 2009-01"),
        ("2009-01:2009-06", "2010-01:2018-12", "fewer than 12 months"),
        ("2009-01:2015-12", "2015-06:2018-12", "must start after the training window ends"),
        ("2009-01:2015-12", "2016-01:2019-03", "runs past the scenario's last month"),
    ],
)
def test_a_fold_the_scenario_cannot_serve_is_refused(train, test, fragment):
    with pytest.raises(UserError, match=fragment):
        check_fold(load_scenario(HISTORY_10), Fold(parse_window(train, "--train"), parse_window(test, "--test")))


def test_bad_windows_and_options_are_one_line_errors(tmp_path):
    for args, fragment in (
        (["--train", "2009-01-2015-12", "--test", "2016-01:2018-12"], "not a window YYYY-MM:YYYY-MM"),
        (["--train", "2015-12:2009-01", "--test", "2016-01:2018-12"], "first month is after the last"),
        (["--train", "2009-01:2015-12"], "in pairs"),
        (["--rolling", "--train", "2009-01:2015-12", "--test", "2016-01:2018-12"], "not both"),
        (["--rolling", "--budget", "huge"], "--budget 'huge' is not known"),
    ):
        result = run_cli("validate", str(HISTORY_10), *args, "--out", str(tmp_path / "o"), "--workers", "1")
        assert_one_line_error(result, fragment)
    assert not (tmp_path / "o" / "validation.json").exists()


def _validate(tmp_path, record, name):
    out = tmp_path / name
    result = run_cli(
        "validate",
        str(HISTORY_10),
        "--record",
        str(record),
        "--train",
        "2009-01:2015-12",
        "--test",
        "2016-01:2018-12",
        "--budget",
        "tiny",
        "--replicates",
        "30",
        "--workers",
        "1",
        "--seed",
        "4",
        "--json",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((out / "validation.json").read_text())
    assert (out / "validation.png").stat().st_size > 0
    return printed["folds"][0]


def test_validate_end_to_end_fits_on_the_training_months_only(tmp_path):
    fold = _validate(tmp_path, RECORD_10, "real")
    record = read_record(RECORD_10)
    train, test = record.loc["2009-01":"2015-12"], record.loc["2016-01":"2018-12"]
    assert fold["train"] == "2009-01:2015-12" and fold["test"] == "2016-01:2018-12"
    model = fold["model"]
    assert model["months_compared"] == 36 and sum(model["pit_histogram"]) == 36
    assert 0 <= model["coverage_50"] <= model["coverage_90"] <= 1
    assert model["total_launches_observed"] == test["launches"].sum() == 30
    # the naive rate is the training months' mean, scored exactly
    assert fold["naive"]["rate"] == pytest.approx(train["launches"].mean())
    assert fold["naive"]["crps"] == pytest.approx(crps_poisson(train["launches"].mean(), test["launches"]).mean())
    assert fold["naive"]["skill_of_model"] == pytest.approx(1 - model["crps"] / fold["naive"]["crps"])
    nb = fold["regression"]
    assert nb["months"] == 84 and nb["skill_of_model"] == pytest.approx(1 - model["crps"] / nb["crps"])
    assert set(fold["facts"]) == {"F1", "F2", "F3", "F4", "F5"}
    assert fold["monthly"]["observed"] == test["launches"].astype(float).tolist()
    assert all(
        lo <= hi for lo, hi in zip(fold["monthly"]["model_90_low"], fold["monthly"]["model_90_high"], strict=True)
    )

    # Change every month of the test window: the fit (calibration and regression) must not move.
    changed = tmp_path / "changed.csv"
    text = RECORD_10.read_text(encoding="utf-8").splitlines()
    rows = [line if not line.startswith(("2016-", "2017-", "2018-")) else _with_launches(line, 7) for line in text]
    changed.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    other = _validate(tmp_path, changed, "changed")
    assert other["calibration"] == fold["calibration"]
    for key in ("coefficients", "alpha", "standard_errors", "sanctions_range"):
        assert other["regression"][key] == nb[key]
    assert other["naive"]["rate"] == fold["naive"]["rate"]
    assert other["model"]["total_launches_observed"] == 7 * 36 != model["total_launches_observed"]


def _with_launches(line, count):
    import csv
    import io

    row = next(csv.reader([line]))
    row[1], row[-1], row[-2], row[2] = str(count), "0", "0", "0"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue()


def test_rolling_validation_scores_three_folds(tmp_path):
    result = run_cli(
        "validate",
        str(HISTORY_10),
        "--rolling",
        "--budget",
        "tiny",
        "--replicates",
        "10",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    folds = json.loads((tmp_path / "validation.json").read_text())["folds"]
    assert [f["test"] for f in folds] == ["2016-01:2018-12", "2017-01:2018-12", "2018-01:2018-12"]
    assert [f["model"]["months_compared"] for f in folds] == [36, 24, 12]
    assert [f["regression"]["months"] for f in folds] == [84, 96, 108]
    assert np.isfinite([f["regression"]["crps"] for f in folds]).all()
    assert result.stdout.count("NB regression: CRPS") == 3


def test_validate_gives_the_same_numbers_in_process_and_on_a_pool(tmp_path):
    outputs = []
    for workers in ("1", "2"):
        result = run_cli(
            "validate",
            str(HISTORY_10),
            "--train",
            "2009-01:2016-12",
            "--test",
            "2017-01:2018-12",
            "--budget",
            "tiny",
            "--replicates",
            "20",
            "--workers",
            workers,
            "--quiet",
            "--out",
            str(tmp_path / workers),
        )
        assert result.returncode == 0, result.stderr
        outputs.append((tmp_path / workers / "validation.json").read_bytes())
    assert outputs[0] == outputs[1]
