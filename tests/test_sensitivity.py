"""Global sensitivity analysis: the Ishigami function's analytic indices, common random numbers,
the variance split, and `escalation sensitivity` on the model."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, run_cli

from experiments.sensitivity import (
    HAWKES_CAP,
    load_plan,
    morris,
    repair,
    run_plan,
    sobol,
    top_parameters,
    variance_split,
)
from model.outcomes import OUTCOME_COLUMNS
from model.params import Params, check_constraints

A, B = 7.0, 0.1
PI_RANGES = {f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)}


def ishigami(X):
    return np.sin(X[:, 0]) + A * np.sin(X[:, 1]) ** 2 + B * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_truth():
    """Analytic first-order and total indices (Ishigami and Homma 1990; Sobol' and Levitan 1999)."""
    V = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
    V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    V2 = A**2 / 8
    V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    return V, np.array([V1, V2, 0.0]) / V, np.array([V1 + V13, V2, V13]) / V


def test_sobol_recovers_ishigami_analytic_indices_within_their_intervals():
    _, s1, st = ishigami_truth()
    out = sobol(PI_RANGES, lambda X: {"y": ishigami(X)[:, None]}, ["y"], samples=1024, seed=3, bootstrap=200)
    ix = out["indices"].set_index("parameter")
    # Tolerance from the sampling error: 3 standard errors (the 95% bootstrap half-width / 1.96).
    for j, name in enumerate(PI_RANGES):
        assert abs(ix.at[name, "S1"] - s1[j]) <= 3 * ix.at[name, "S1_conf"] / 1.96, (name, ix.loc[name])
        assert abs(ix.at[name, "ST"] - st[j]) <= 3 * ix.at[name, "ST_conf"] / 1.96, (name, ix.loc[name])
        assert ix.at[name, "ST"] + ix.at[name, "ST_conf"] >= ix.at[name, "S1"] - ix.at[name, "S1_conf"]
    assert len(out["samples"]) == 1024 * (3 + 2)


def test_common_random_numbers_leave_the_indices_unchanged_and_the_split_finds_the_noise():
    """Noise shared by every point (the same seeds everywhere) shifts each point's mean by the
    same amount: the indices are those of the noiseless function, and the variance split puts
    the noise's share of one run's variance where the law of total variance says."""
    V, _, _ = ishigami_truth()
    z = np.random.default_rng(1).normal(scale=2.0, size=40)  # one value per replicate seed
    clean = sobol(PI_RANGES, lambda X: {"y": ishigami(X)[:, None]}, ["y"], samples=256, seed=3, bootstrap=50)
    noisy = sobol(
        PI_RANGES, lambda X: {"y": ishigami(X)[:, None] + z[None, :]}, ["y"], samples=256, seed=3, bootstrap=50
    )
    np.testing.assert_allclose(noisy["indices"][["S1", "ST"]], clean["indices"][["S1", "ST"]], atol=1e-12)
    share = noisy["split"]["y"]["noise_share"]
    expected = 4.0 / (V + 4.0)
    # sampling error of the sample variance of 40 normals: relative sd sqrt(2/39) ~ 0.23
    assert abs(share - expected) <= 3 * np.sqrt(2 / 39) * expected
    assert np.isnan(clean["split"]["y"]["noise_share"])  # one replicate: no within-point variance


def test_variance_split_on_known_components():
    rng = np.random.default_rng(7)
    means = rng.normal(scale=1.0, size=2000)  # parameter part: variance 1
    per_run = means[:, None] + rng.normal(scale=2.0, size=(2000, 25))  # seed part: variance 4
    split = variance_split(per_run)
    assert abs(split["noise_share"] - 0.8) < 0.02  # 4 / (1 + 4); sd of the estimate ~ 0.005
    assert abs(split["estimate_noise_share"] - (4 / 25) / (1 + 4 / 25)) < 0.03


def test_morris_on_a_linear_function_gives_its_slopes_and_converges():
    lin = lambda X: {"y": (5 * X[:, 0] + X[:, 1])[:, None]}  # noqa: E731
    out = morris({"x1": (0, 1), "x2": (0, 1), "x3": (0, 1)}, lin, ["y"], trajectories=10, seed=1)
    ix = out["indices"].set_index("parameter")
    np.testing.assert_allclose(ix["mu_star"], [5.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(ix["sigma"], 0.0, atol=1e-9)
    assert out["converged"] == {"y": True}
    assert top_parameters(out["indices"], 2) == ["x1", "x2"]


def test_repair_keeps_every_point_valid_and_touches_only_violations():
    rng = np.random.default_rng(0)
    n = 5000
    varying = {
        "hawkes_alpha": rng.uniform(0, 5, n),
        "hawkes_beta": rng.uniform(0.05, 5, n),
        "step_cost_low": rng.uniform(0, 10, n),
        "step_cost_high": rng.uniform(0, 10, n),
    }
    fixed, mask = repair(varying, Params())
    check_constraints(fixed)  # raises if any run breaks a constraint
    ok = ~mask
    for name in varying:
        np.testing.assert_array_equal(fixed[name][ok], varying[name][ok])
    capped = varying["hawkes_alpha"] >= HAWKES_CAP * varying["hawkes_beta"]
    np.testing.assert_array_equal(fixed["hawkes_alpha"][capped], HAWKES_CAP * varying["hawkes_beta"][capped])


def _small_config(tmp_path, extra=""):
    path = tmp_path / "sens.toml"
    path.write_text(f"""
[experiment]
name = "sens_test"
weeks = 26
replicates = 6
seed = 11
[params]
sanctions_level = 1.0
engagement_stance = "pressure_and_engagement"
[uncertainties]
direct_talks_rate = [0.0, 0.2]
logit_precision = [0.5, 10.0]
us_talk_base = [-3.0, 3.0]
test_baseline_rate = [0.1, 2.0]
[sensitivity]
trajectories = 4
samples = 16
top = 3
bootstrap = 20
outcomes = ["talks", "talks_week", "tests"]
block_runs = 50
{extra}
""")
    return path


def test_model_analysis_is_the_same_whatever_the_workers_and_blocks(tmp_path):
    path = _small_config(tmp_path)
    one = run_plan(load_plan(path), workers=1)
    plan = load_plan(path)
    plan.settings = type(plan.settings)(**{**plan.settings.__dict__, "block_runs": 7})
    two = run_plan(plan, workers=2)
    pd.testing.assert_frame_equal(one.indices, two.indices, check_exact=True)
    pd.testing.assert_frame_equal(one.screening, two.screening, check_exact=True)
    for method in one.samples:
        pd.testing.assert_frame_equal(one.samples[method], two.samples[method], check_exact=True)
    assert one.meta["sobol"]["parameters"] == top_parameters(one.screening, 3)
    shares = one.split.set_index("outcome")["noise_share"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all() and len(shares) > 0


def test_cli_json_has_the_published_shape(tmp_path):
    path = _small_config(tmp_path)
    out = tmp_path / "out"
    result = run_cli("sensitivity", str(path), "--json", "--out", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"indices", "noise_share", "converged"}
    outcomes = {"talks", "talks_week", "tests"}
    assert set(data["noise_share"]) == outcomes and set(data["converged"]) == outcomes
    for row in data["indices"]:
        assert {"outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(row)
    for row in data["screening"]:
        assert {"outcome", "parameter", "mu_star", "sigma"} <= set(row)
    for name in ("indices.csv", "screening.csv", "sensitivity.md", "sensitivity.json", "points_sobol.parquet"):
        assert (out / name).is_file(), name
    morris_only = run_cli(
        "sensitivity",
        str(path),
        "--json",
        "--method",
        "morris",
        "--samples",
        "2",
        "--replicates",
        "3",
        "--out",
        str(tmp_path / "m"),
        "--workers",
        "1",
    )
    assert morris_only.returncode == 0, morris_only.stderr
    rows = json.loads(morris_only.stdout)["indices"]
    assert rows and all({"mu_star", "sigma"} <= set(r) for r in rows)
    assert {r["parameter"] for r in rows} == {
        "direct_talks_rate",
        "logit_precision",
        "us_talk_base",
        "test_baseline_rate",
    }


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (("[sensitivity]\n", "[sensitivity]\nsamples_typo = 3\n"), "unknown key 'samples_typo' in [sensitivity]"),
        (("[sensitivity]\n", '[sensitivity]\nmethod = "fast"\n'), "method 'fast' is not allowed"),
        (("samples = 16", "samples = 12"), "power of 2"),
        (
            ("[params]\n", '[levers]\nexercise_policy = ["as_scheduled", "suspended"]\n[params]\n'),
            "one value per lever",
        ),
        (('"tests"]', '"testz"]'), "unknown outcome 'testz'"),
        (
            ("[sensitivity]\n", '[sensitivity]\nparameters = ["logit_precision", "hawkes_beta"]\n'),
            "'hawkes_beta' is not among the sampled uncertainties",
        ),
    ],
)
def test_bad_config_is_a_one_line_user_error(tmp_path, edit, fragment):
    from experiments.errors import UserError

    path = tmp_path / "bad.toml"
    path.write_text(_small_config(tmp_path).read_text().replace(*edit))
    with pytest.raises(UserError) as error:
        load_plan(path)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_bad_input_on_the_command_line_is_one_line(tmp_path):
    assert_one_line_error(run_cli("sensitivity", str(_small_config(tmp_path)), "--samples", "12"), "power of 2")
    assert_one_line_error(run_cli("sensitivity", str(tmp_path / "missing.toml")), "not found")


def test_shipped_config_reads_its_ranges_from_the_parameter_table():
    plan = load_plan(ROOT / "experiments" / "configs" / "sensitivity.toml")
    from experiments.sensitivity import table_ranges

    assert plan.ranges == table_ranges()
    assert all(o in OUTCOME_COLUMNS for o in plan.outcomes)
    assert plan.settings.trajectories >= 20 and plan.settings.samples == 1024 and plan.settings.top == 10


def test_posterior_config_samples_the_posterior_support(tmp_path):
    from experiments.history.posterior import default_posterior_file, read_posterior
    from experiments.sensitivity import posterior_support

    path = tmp_path / "post.toml"
    path.write_text("""
[experiment]
name = "post"
replicates = 2
[levers]
exercise_policy = ["suspended_during_talks"]
[posterior]
samples = 1
""")
    plan = load_plan(path)
    support = posterior_support(read_posterior(default_posterior_file()))
    assert plan.ranges == support and len(support) >= 2
    assert plan.base["exercise_policy"] == "suspended_during_talks"
