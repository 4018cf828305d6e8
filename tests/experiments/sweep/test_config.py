"""Experiment configs: what is accepted, and one-line errors (exit 2) for what is not."""

import pytest
from conftest import assert_one_line_error, run_cli

from experiments.errors import UserError
from experiments.sweep.config import load_experiment, parse_experiment
from experiments.sweep.design import Design, latin_hypercube

GOOD = """
[experiment]
name = "t"
weeks = 10
replicates = 3
seed = 1

[levers]
sanctions_level = {start = 0.0, stop = 1.0, num = 3}
exercise_policy = ["as_scheduled", "suspended"]

[params]
rok_mediation = 0.5
"""


def write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_config_builds_the_full_factorial(tmp_path):
    e = load_experiment(write(tmp_path, GOOD))
    assert e.levers["sanctions_level"] == [0.0, 0.5, 1.0]
    design = Design(e)
    assert design.n_points == 6 and design.n_runs == 18
    assert all(p.rok_mediation == 0.5 for p in design.params)
    assert design.points.iloc[5].to_dict() == {"sanctions_level": 1.0, "exercise_policy": "suspended"}


def test_uncertainties_are_sampled_by_latin_hypercube(tmp_path):
    text = GOOD.replace("seed = 1", "seed = 1\nsamples = 8") + (
        "\n[uncertainties]\nhawkes_ratio = {low = 0.1, high = 0.5}\ntest_baseline_rate = [0.1, 0.6]\n"
    )
    e = load_experiment(write(tmp_path, text))
    design = Design(e)
    assert design.n_points == 6 * 8
    sample = latin_hypercube(e.uncertainties, 8, e.seed)
    # one point in each of the 8 equal strata of every range (the Latin property)
    for name, (low, high) in e.uncertainties.items():
        strata = ((sample[name] - low) / (high - low) * 8).astype(int)
        assert sorted(strata) == list(range(8))
    assert latin_hypercube(e.uncertainties, 8, e.seed).equals(sample)  # reproducible


def test_replicate_seeds_are_shared_across_policies_but_not_across_scenarios(tmp_path):
    text = GOOD.replace("seed = 1", "seed = 1\nsamples = 3") + "\n[uncertainties]\nhawkes_ratio = [0.1, 0.5]\n"
    design = Design(load_experiment(write(tmp_path, text)))
    table = design.run_table(design.chunks()[0].__class__(0, design.n_runs))
    per_scenario = table.groupby(["scenario", "replicate"])["seed"].nunique()
    assert (per_scenario == 1).all()  # every policy: the same seed (CRN)
    by_replicate = table.groupby("replicate")["seed"].nunique()
    assert (by_replicate == 3).all()  # each scenario: its own draws
    plain = Design(load_experiment(write(tmp_path, GOOD, "plain.toml")))
    assert (plain.run_table(plain.chunks()[0]).groupby("replicate")["seed"].nunique() == 1).all()


def test_config_hash_ignores_the_engine_but_not_the_design(tmp_path):
    e = load_experiment(write(tmp_path, GOOD))
    assert e.config_hash() == e.with_options(engine="mesa").config_hash()
    assert e.config_hash() != e.with_options(replicates=4).config_hash()


@pytest.mark.parametrize(
    "change, fragments",
    [
        (("sanctions_level = {", "sanction_level = {"), ["unknown parameter 'sanction_level'", "sanctions_level"]),
        (("rok_mediation = 0.5", "rok_mediaton = 0.5"), ["[params]", "rok_mediation"]),
        (("rok_mediation = 0.5", "rok_mediation = 1.5"), ["rok_mediation=1.5 is out of range", "allowed 0 to 1"]),
        (('"suspended"]', '"cancelled"]'), ["exercise_policy='cancelled'", "as_scheduled"]),
        (("replicates = 3", "replicates = 0"), ["replicates = 0", "allowed 1"]),
        (("replicates = 3", "replicates = -5"), ["replicates = -5"]),
        (("weeks = 10", 'weeks = "ten"'), ["weeks must be an integer"]),
        (('name = "t"', 'name = "t"\nworkers = 3'), ["unknown key 'workers'"]),
        (("[params]", "[parms]"), ["unknown table [parms]", "[params]"]),
        (
            ("exercise_policy = [", "hawkes_ratio = [0.1, 0.2]\nexercise_policy = ["),
            ["'hawkes_ratio' is an uncertainty, not a lever"],
        ),
        (("num = 3", "num = 0"), ["num must be an integer from 1 to 100000"]),
        (("seed = 1", 'seed = 1\nengine = "gpu"'), ["engine 'gpu'", "batched, mesa"]),
        (('name = "t"', 'name = "../../escaped"'), ["must be a plain name"]),
        (("[params]", "[params]\nstart_date = 9999-06-01"), ["start_date", "1950-01-01 to 2100-12-31"]),
        (("[params]", '[params]\ninclude_japan = "false"'), ["[params] include_japan='false'", "unquoted"]),
        (("[params]", '[params]\ninitial_moratorium = "yes"'), ["initial_moratorium='yes'", "unquoted"]),
        (("rok_mediation = 0.5", 'rok_mediation = "0.5"'), ["rok_mediation='0.5'", "unquoted"]),
    ],
)
def test_config_errors_exit_2_with_one_line(tmp_path, change, fragments):
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(UserError):
        load_experiment(path)
    assert_one_line_error(run_cli("sweep", str(path), "--out", str(tmp_path / "out")), str(path), *fragments)
    assert not (tmp_path / "out").exists()


def test_malformed_toml_and_missing_file(tmp_path):
    bad = write(tmp_path, "[experiment\nname = 1\n")
    assert_one_line_error(run_cli("sweep", str(bad)), "malformed TOML")
    assert_one_line_error(run_cli("sweep", str(tmp_path / "nope.toml")), "config file not found", "nope.toml")


def test_command_line_overrides_are_checked(tmp_path):
    path = write(tmp_path, GOOD)
    assert_one_line_error(run_cli("sweep", str(path), "--replicates", "0"), "positive integer")
    assert_one_line_error(run_cli("sweep", str(path), "--shard", "3/2", "--out", str(tmp_path / "o")), "--shard")
    assert_one_line_error(run_cli("sweep", str(path), "--workers", "2", "--dask", "tcp://x:1"), "not allowed with")


def test_design_point_out_of_range_is_refused(tmp_path):
    text = GOOD.replace("rok_mediation = 0.5", "hawkes_beta = 0.2\nhawkes_ratio = 1.3")
    with pytest.raises(UserError, match="hawkes_ratio"):
        Design(parse_experiment(__import__("tomllib").loads(text)))


def test_the_config_hash_of_a_plain_config_has_no_posterior_entry(tmp_path):
    # configs without [posterior] hash as they did before it existed, so older results still load
    e = load_experiment(write(tmp_path, GOOD))
    assert "posterior" not in e.design_dict() and "uncertainties" in e.design_dict()
