"""Scenario discovery with PRIM: a planted box is found; `escalation discover` on a sweep."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli

from experiments.analysis.discovery import Cases, discover


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(size=(2000, 4)), columns=["a", "b", "c", "d"])
    inside = (x["a"] < 0.3) & (x["b"] > 0.6)
    value = np.where(inside, 0.1, 0.9)  # "P(talks)" low inside the box
    found = discover(Cases(x, value, np.full(2000, 10), {}, "planted"), "talks", below=0.5)
    box = found.limits.set_index("parameter")
    assert set(box.index[box["restricted"]]) == {"a", "b"}
    # the chosen box (largest coverage at density >= 0.8) holds nearly all of the planted box and
    # cannot stray further than density 0.8 allows: 0.4 / (1 - b_low) >= 0.8 puts b_low at 0.5 or above
    assert 0.29 <= box.at["a", "high"] <= 0.3 + 0.05 and 0.6 - 0.1 - 0.02 <= box.at["b", "low"] <= 0.61
    s = found.stats
    assert s["held_out"] and s["held_out_cases"] == 1000
    assert s["density_in_sample"] >= 0.8 and s["coverage_in_sample"] >= 0.95
    # on the held-out half the box is judged afresh: within sampling error of what it promised
    in_box = s["mass"] * 2000 / 2
    assert s["density"] >= 0.8 - 3 * np.sqrt(0.8 * 0.2 / in_box) and s["coverage"] >= 0.9
    assert found.trajectory["density"].iloc[-1] > 0.95  # the end of the peeling is the planted box itself
    # every restriction kept has its quasi-p-value below 0.05; inert inputs end unrestricted
    kept = box[box["restricted"]]
    assert (kept[["qp_low", "qp_high"]].min(axis=1) < 0.05).all()
    assert not box.loc[["c", "d"], "restricted"].any()


def test_restrictions_without_evidence_are_dropped_and_draws_stay_together():
    """Outcome independent of every input: whatever PRIM peels is chance, so the qp-values drop
    it; cases sharing a draw (four policies each) fall on one side of the split."""
    rng = np.random.default_rng(5)
    draws, policies = 100, 4
    x = pd.DataFrame(np.repeat(rng.uniform(size=(draws, 3)), policies, axis=0), columns=["a", "b", "c"])
    x["policy"] = np.tile(np.arange(policies), draws).astype(float)
    value = rng.uniform(size=draws * policies)
    cases = Cases(x, value, np.full(len(x), 10), {}, "noise", np.repeat(np.arange(draws), policies), "four per draw")
    found = discover(cases, "talks", below=0.3)
    box, s = found.limits, found.stats
    assert s["dropped_dimensions"] >= 1
    assert (box.loc[box["restricted"], ["qp_low", "qp_high"]].min(axis=1) < 0.05).all()
    # held out, the box is no denser than the base rate beyond sampling error (nothing to find)
    in_box = s["mass"] * len(x) / 2
    assert s["density"] - s["base_rate"] <= 3 * np.sqrt(s["base_rate"] * (1 - s["base_rate"]) / in_box)
    assert s["density_in_sample"] >= s["density"]  # what it promised in sample, it does not keep
    assert found.stats["held_out_cases"] % policies == 0 and found.stats["dependence"] == "four per draw"
    assert "(dropped)" in __import__("experiments.analysis.discovery", fromlist=["markdown"]).markdown(found)


def test_nothing_to_tell_apart_is_a_clear_error():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50), "b": np.linspace(1, 0, 50)})
    from experiments.errors import UserError

    with pytest.raises(UserError, match="nothing to tell apart"):
        discover(Cases(x, np.full(50, 0.9), np.full(50, 5), {}, "flat"), "talks", below=0.5)


@pytest.fixture(scope="module")
def sampled_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("disc")
    config = out / "unc.toml"
    config.write_text("""
[experiment]
name = "unc"
weeks = 52
replicates = 10
seed = 3
samples = 40
[levers]
engagement_stance = ["pressure_first", "pressure_and_engagement"]
exercise_policy = ["as_scheduled", "suspended"]
[params]
sanctions_level = 1.0
[uncertainties]
us_talk_base = [-3.0, 3.0]
trust_us_dprk = [0.0, 0.5]
direct_talks_rate = [0.0, 0.2]
""")
    result = run_cli("sweep", str(config), "--out", str(out / "res"), "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    return out / "res"


def test_discover_on_a_sampled_sweep_encodes_levers_and_writes_the_figure(sampled_sweep, tmp_path):
    result = run_cli("discover", str(sampled_sweep), "--outcome", "talks", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["encoded_levers"]["exercise_policy"] == ["as_scheduled", "suspended"]
    assert 0 < data["coverage"] <= 1 and 0 < data["density"] <= 1
    assert data["cases"] == 160 and data["box"]
    assert {r["parameter"] for r in data["box"]} <= {
        "us_talk_base",
        "trust_us_dprk",
        "direct_talks_rate",
        "engagement_stance",
        "exercise_policy",
    }
    for name in ("discovery_talks.md", "discovery_talks.json", "discovery_talks.png", "discovery_talks_trajectory.csv"):
        assert (tmp_path / name).is_file()
    one = run_cli(
        "discover",
        str(sampled_sweep),
        "--outcome",
        "talks",
        "--policy",
        "engagement_stance=pressure_and_engagement",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert json.loads(one.stdout)["cases"] == 80


def test_discover_bad_input_is_one_line(sampled_sweep, tmp_path):
    assert_one_line_error(run_cli("discover", str(sampled_sweep), "--outcome", "talk"), "unknown outcome 'talk'")
    assert_one_line_error(
        run_cli("discover", str(sampled_sweep), "--outcome", "talks", "--policy", "stance=x"), "not a lever"
    )
    assert_one_line_error(run_cli("discover", str(tmp_path / "none"), "--outcome", "talks"), "not found")


def test_discover_reads_posterior_draws_and_sensitivity_samples(tmp_path):
    """The other two kinds of cases: a [posterior] sweep (each draw's parameter values come from
    the posterior sample) and the points of `escalation sensitivity`."""
    from experiments.analysis.discovery import cases_from_results
    from experiments.history.posterior import read_posterior
    from experiments.sensitivity import load_plan, run_plan, write
    from experiments.sweep.config import load_experiment
    from experiments.sweep.runner import run_sweep

    particles = pd.DataFrame(
        {"test_baseline_rate": [0.4, 1.2, 2.0], "dprk_talk_stress_weight": [4.0, 1.0, 2.5], "weight": [1.0, 3.0, 2.0]}
    )
    particles.to_csv(tmp_path / "posterior.csv", index=False)
    (tmp_path / "post.toml").write_text("""
[experiment]
name = "post"
weeks = 20
replicates = 3
seed = 5
[levers]
engagement_stance = ["pressure_first", "pressure_and_engagement"]
[posterior]
samples = 4
file = "posterior.csv"
""")
    run_sweep(load_experiment(tmp_path / "post.toml"), tmp_path / "post", workers=1, progress=False)
    cases = cases_from_results(tmp_path / "post", "tests")
    assert len(cases.x) == 8 and set(cases.x.columns) == {
        "test_baseline_rate",
        "dprk_talk_stress_weight",
        "engagement_stance",
    }
    posterior = read_posterior(tmp_path / "posterior.csv")
    merged = cases.x.merge(posterior, on=["test_baseline_rate", "dprk_talk_stress_weight"], how="left")
    assert merged["weight"].notna().all()  # every case's values are a particle's

    (tmp_path / "sens.toml").write_text("""
[experiment]
name = "s"
weeks = 20
replicates = 3
[uncertainties]
us_talk_base = [-3.0, 3.0]
test_baseline_rate = [0.1, 2.0]
[sensitivity]
method = "morris"
trajectories = 4
outcomes = ["talks", "tests"]
""")
    plan = load_plan(tmp_path / "sens.toml")
    write(run_plan(plan, workers=1), tmp_path / "sens", plan)
    cases = cases_from_results(tmp_path / "sens", "talks")
    assert list(cases.x.columns) == ["us_talk_base", "test_baseline_rate"] and len(cases.x) == 4 * 3
    assert ((cases.value >= 0) & (cases.value <= 1)).all()
