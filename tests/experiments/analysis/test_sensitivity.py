"""Global sensitivity analysis: the Ishigami function's analytic indices, common random numbers,
the variance split, and `escalation sensitivity` on the model."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, run_cli

from experiments.sensitivity import (
    load_plan,
    morris,
    run_plan,
    seed_overlap,
    sobol,
    top_parameters,
    variance_split,
)
from model.outcomes import OUTCOME_COLUMNS
from model.params import Params

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


def test_every_point_of_the_table_s_ranges_runs_as_sampled():
    # independent inputs: every uncertainty drawn over its whole range at once gives valid runs
    from model.batched import ParamArrays
    from model.params import TABLE, uncertainties

    rng = np.random.default_rng(0)
    n = 2000
    varying = {
        name: (
            rng.integers(int(TABLE[name].low), int(TABLE[name].high) + 1, n)
            if TABLE[name].dtype is int
            else rng.uniform(TABLE[name].low, TABLE[name].high, n)
        )
        for name in uncertainties()
    }
    arrays = ParamArrays.from_arrays(Params(), varying)
    for name, values in varying.items():
        np.testing.assert_array_equal(getattr(arrays, name), values)


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
    assert set(data["screening_converged"]) == outcomes and set(data["seed_split"]) == outcomes
    assert data["seed_overlap"] is None or 0 <= data["seed_overlap"] <= 1
    for low, high in data["noise_share_interval"].values():
        assert low is None or 0 <= low <= high <= 1
    unconverged = [o for o, v in data["screening_converged"].items() if v is False]
    report = (out / "sensitivity.md").read_text()
    # Sobol' on a screen that has not converged says so before anything else
    assert bool(data["warnings"]) == bool(unconverged)
    if unconverged:
        assert report.splitlines()[2].startswith("**Warning.**") and unconverged[0] in data["warnings"][0]
    assert "conditional on the" in report
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


# --- replicate noise: toy models whose noise share and indices are known ----------------------

UNIT = {"x1": (0.0, 1.0), "x2": (0.0, 1.0), "x3": (0.0, 1.0)}


def _noisy_sum(sigma2, R, seed):
    """Y = X1 + X2 + noise, the noise independent over points and seeds (x3 inert)."""

    def evaluate(X):
        rng = np.random.default_rng([seed, len(X)])
        return {"y": (X[:, 0] + X[:, 1])[:, None] + rng.normal(scale=np.sqrt(sigma2), size=(len(X), R))}

    return evaluate


def test_noise_share_of_a_sum_with_known_noise_is_inside_its_interval_and_the_indices_hold():
    sigma2, R = 1 / 6, 20  # one run: parameters 1/12 + 1/12, noise 1/6 -> noise share 1/2
    out = sobol(UNIT, _noisy_sum(sigma2, R, 5), ["y"], samples=512, seed=2, bootstrap=100)
    split = out["split"]["y"]
    assert split["noise_share_low"] <= 0.5 <= split["noise_share_high"], split
    assert split["noise_share_high"] - split["noise_share_low"] < 0.05  # an interval, not a shrug
    # the per-point means carry noise of variance sigma2 / R: the indices of those means
    v = 1 / 6 + sigma2 / R
    truth = {"x1": (1 / 12) / v, "x2": (1 / 12) / v, "x3": 0.0}
    ix = out["indices"].set_index("parameter")
    for name, s in truth.items():
        assert abs(ix.at[name, "S1"] - s) <= 3 * ix.at[name, "S1_conf"] / 1.96, ix.loc[name]
    assert out["converged"] == {"y": True}, out["checks"]
    assert out["checks"]["y"]["seed_split"] <= out["checks"]["y"]["seed_tolerance"]


def test_binary_outcome_with_an_inert_input():
    """P(y) = x1, x2 inert: one run's noise share is E[p(1 - p)] / (E[p](1 - E[p])) = (1/6) / (1/4)."""
    R = 16

    def evaluate(X):
        rng = np.random.default_rng(9)
        return {"y": (rng.random((len(X), R)) < X[:, [0]]).astype(float)}

    two = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    out = sobol(two, evaluate, ["y"], samples=512, seed=4, bootstrap=100)
    split = out["split"]["y"]
    assert split["noise_share_low"] <= 2 / 3 <= split["noise_share_high"], split
    ix = out["indices"].set_index("parameter")
    # x2 alone explains nothing; its total index picks up the per-point noise of the means
    # (independent at each point, like a hidden input): (1/6) / R over the means' variance
    noise = (1 / 6) / R
    assert abs(ix.at["x2", "S1"]) <= 3 * ix.at["x2", "S1_conf"] / 1.96
    assert abs(ix.at["x2", "ST"] - noise / (1 / 12 + noise)) <= 3 * ix.at["x2", "ST_conf"] / 1.96
    assert ix.at["x1", "S1"] - ix.at["x1", "S1_conf"] > 0.5


def test_the_seed_bootstrap_sees_noise_that_common_seeds_hide_from_the_points():
    """Each seed gives the function its own random slope in x2 (mean 0), the same at every point:
    with finite seeds x2 looks influential. Resampling points cannot see it; resampling seeds
    does, and the two halves of the seeds disagree."""
    R = 20
    slopes = np.random.default_rng(3).normal(size=R)

    def evaluate(X):
        return {"y": X[:, [0]] + slopes[None, :] * X[:, [1]]}

    out = sobol({"x1": (0.0, 1.0), "x2": (0.0, 1.0)}, evaluate, ["y"], samples=1024, seed=1, bootstrap=200)
    ix = out["indices"].set_index("parameter")
    assert ix.at["x2", "S1_conf"] > 5 * ix.at["x2", "S1_conf_points"]
    assert abs(ix.at["x2", "S1"]) <= 3 * ix.at["x2", "S1_conf"] / 1.96  # the truth (infinite seeds) is 0
    assert out["checks"]["y"]["seed_split"] > 0.01
    assert out["split"]["y"]["noise_share"] > 0.5


def test_ishigami_verdict_is_converged_at_about_the_nominal_rate():
    """Five independent samples: with tolerances from the sampling error (a 95% Bonferroni band)
    at most one should be called unconverged (the old absolute 0.05 failed two of five)."""
    calls = [
        sobol(PI_RANGES, lambda X: {"y": ishigami(X)[:, None]}, ["y"], samples=1024, seed=s, bootstrap=100)
        for s in range(5)
    ]
    assert sum(bool(c["converged"]["y"]) for c in calls) >= 4, [c["checks"] for c in calls]


def test_a_short_screen_of_a_rough_function_is_not_converged_and_a_long_one_is():
    ranges = {f"x{j}": (0.0, 1.0) for j in range(8)}
    weights = np.linspace(1.0, 0.3, 8)

    def rough(X):
        return {"y": (np.sin(6 * X) * weights).sum(axis=1)[:, None] * np.ones((1, 4))}

    short = morris(ranges, rough, ["y"], trajectories=4, seed=2, bootstrap=20)
    long = morris(ranges, rough, ["y"], trajectories=400, seed=2, bootstrap=20)
    assert short["converged"] == {"y": False} and "trajectories" in short["checks"]["y"]["reason"]
    assert long["converged"] == {"y": True}, long["checks"]
    # the same seeds in both halves and no noise: the seed halves agree exactly
    assert long["checks"]["y"]["seed_split"] == 0 and long["checks"]["y"]["seed_overlap"] == 1.0


def test_selection_weights_outcomes_that_vary_and_seed_overlap():
    from experiments.sensitivity.indices import outcome_weights

    screen = pd.DataFrame(
        {
            "outcome": ["a", "a", "b", "b"],
            "parameter": ["x1", "x2", "x1", "x2"],
            "mu_star": [1.0, 0.1, 0.0, 0.5],
            "mu_star_seed_a": [1.0, 0.1, 0.0, 0.5],
            "mu_star_seed_b": [0.1, 1.0, 0.0, 0.5],
        }
    )
    split = {"a": {"noise_share": 0.2, "variance": 1.0}, "b": {"noise_share": 0.1, "variance": 1e-4}}
    weights = outcome_weights(split, {"a": 0.1, "b": 0.99})  # b is 0 or 1 at 99% of the points
    assert weights == {"a": pytest.approx(0.8), "b": 0.0}
    assert top_parameters(screen, 1, weights) == ["x1"]
    assert top_parameters(screen, 1) == ["x2"]  # unweighted, the saturated outcome counts as much
    assert seed_overlap(screen, 1, weights) == 0.0 and seed_overlap(screen, 2, weights) == 1.0


def test_the_bootstrap_estimator_is_salibs():
    """The seed bootstraps and seed halves use the same estimates as SALib's analysis."""
    from experiments.sensitivity import sobol_estimates

    out = sobol(PI_RANGES, lambda X: {"y": ishigami(X)[:, None] + 10.0}, ["y"], samples=64, seed=1, bootstrap=20)
    S1, ST = sobol_estimates(out["samples"]["y"].to_numpy(), 3)
    np.testing.assert_allclose(S1, out["indices"]["S1"], rtol=1e-10)
    np.testing.assert_allclose(ST, out["indices"]["ST"], rtol=1e-10)


def test_an_outcome_made_of_replicate_noise_is_not_called_converged():
    """Independent noise at every point and nothing else: the indices would describe the dice,
    so the verdict is no, with the reason, whatever the half-sample checks say."""

    def evaluate(X):
        return {"y": np.random.default_rng(4).normal(size=(len(X), 8)) + 0.01 * X[:, [0]]}

    out = sobol(UNIT, evaluate, ["y"], samples=256, seed=1, bootstrap=50)
    split = out["split"]["y"]
    assert split["estimate_noise_share_low"] >= 0.5
    assert out["converged"] == {"y": False} and "replicates carry" in out["checks"]["y"]["reason"]
