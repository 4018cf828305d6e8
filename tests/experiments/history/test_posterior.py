"""Sweeps over the calibration posterior ([posterior]): what each draw carries, common random
numbers across policies, identical rows from either engine and any chunking, refusal of another
posterior sample, and one-line errors."""

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli

from experiments.errors import UserError
from experiments.history.posterior import (
    POSTERIOR_FILE,
    STATE_PARAMETERS,
    STATE_REPLICATES,
    draw_particles,
    read_posterior,
    start_state,
)
from experiments.history.scenario import load_scenario
from experiments.sweep.config import load_experiment
from experiments.sweep.design import Design
from experiments.sweep.results import SweepResult
from experiments.sweep.runner import run_sweep
from experiments.sweep.store import ResultStore

CONFIG = """
[experiment]
name = "post"
weeks = 20
replicates = {replicates}
seed = 5

[levers]
exercise_policy = ["as_scheduled", "suspended"]
engagement_stance = ["pressure_first", "pressure_and_engagement"]

[posterior]
samples = {samples}
file = "posterior.csv"
{extra}
"""

# Three particles: the first has no weight and must never be drawn.
PARTICLES = pd.DataFrame(
    {
        "test_baseline_rate": [2.9, 0.4, 1.2],
        "dprk_talk_stress_weight": [0.0, 4.0, 1.0],
        "sim_launches_2016": [1, 2, 3],  # other columns of a calibration's output are ignored
        "weight": [0.0, 1.0, 3.0],
    }
)


def write(tmp_path, samples=6, replicates=2, extra="", particles=PARTICLES):
    particles.to_csv(tmp_path / "posterior.csv", index=False)
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(samples=samples, replicates=replicates, extra=extra))
    return path


def test_each_point_carries_its_draw_and_the_draws_own_start_state(tmp_path):
    design = Design(load_experiment(write(tmp_path)))
    assert design.n_points == 4 * 6 and design.n_runs == 4 * 6 * 2
    from experiments.history.posterior import fitted_scenario

    history = load_scenario(fitted_scenario())  # each draw's start state replays the fitted history
    for d in range(design.n_points):
        point = design.points.iloc[d]
        particle = PARTICLES.iloc[int(point["particle"])]
        params = design.params[d]
        assert params.test_baseline_rate == particle["test_baseline_rate"]
        assert params.dprk_talk_stress_weight == particle["dprk_talk_stress_weight"]
        assert params.exercise_policy == point["exercise_policy"]
    # the start state is the median of the particle's own replays of the fitted history
    d = int(np.flatnonzero(design.points["particle"] == 1)[0])
    own = start_state(
        history.with_params(history.params.replace(test_baseline_rate=0.4, dprk_talk_stress_weight=4.0)),
        replicates=STATE_REPLICATES,
    )
    assert {name: design.params[d][name] for name in STATE_PARAMETERS} == own
    assert 0 not in set(design.points["particle"])  # weight 0: never drawn


def test_particles_are_drawn_in_proportion_to_their_weights():
    drawn = draw_particles(PARTICLES, 4000, seed=3)
    share = np.mean(drawn == 2)
    assert (drawn != 0).all()
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 4000)  # binomial sampling error
    assert np.array_equal(drawn, draw_particles(PARTICLES, 4000, seed=3))


def test_policies_share_draws_and_seeds_but_draws_do_not(tmp_path):
    design = Design(load_experiment(write(tmp_path)))
    table = design.run_table(design.chunks()[0].__class__(0, design.n_runs))
    per_pair = table.groupby(["scenario", "replicate"]).agg(
        seeds=("seed", "nunique"), particles=("particle", "nunique")
    )
    assert (per_pair["seeds"] == 1).all() and (per_pair["particles"] == 1).all()  # common random numbers
    assert table.drop_duplicates(["scenario", "replicate"])["seed"].is_unique  # independent across draws


def test_fixed_state_parameters_win_over_the_drawn_start_state(tmp_path):
    design = Design(load_experiment(write(tmp_path, extra="[params]\ninitial_stress = 0.3\n")))
    assert all(p.initial_stress == 0.3 for p in design.params)


def test_rows_are_identical_across_engines_workers_and_chunks(tmp_path):
    experiment = load_experiment(write(tmp_path, samples=5, replicates=3))
    frames = []
    for name, options in (("a", {"workers": 1}), ("b", {"workers": 2}), ("c", {"workers": 1})):
        exp = experiment.with_options(chunk_size=7) if name == "c" else experiment
        run_sweep(exp.with_options(engine="mesa") if name == "b" else exp, tmp_path / name, progress=False, **options)
        frames.append(ResultStore(tmp_path / name).load())
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other, frames[0], check_exact=True)
    assert {"scenario", "particle"} <= set(frames[0].columns)
    result = SweepResult.load(tmp_path / "a")
    assert result.experiment.config_hash() == result.manifest["config_hash"]
    assert result.factors == ["exercise_policy", "engagement_stance"]  # pooled over the draws


def test_a_changed_posterior_sample_is_refused_on_resume(tmp_path):
    path = write(tmp_path, samples=3, replicates=1)
    run_sweep(load_experiment(path), tmp_path / "out", progress=False)
    changed = PARTICLES.assign(weight=[0.0, 3.0, 1.0])
    changed.to_csv(tmp_path / "posterior.csv", index=False)
    with pytest.raises(UserError, match="different"):
        run_sweep(load_experiment(path), tmp_path / "out", progress=False)


@pytest.mark.parametrize(
    "extra, particles, fragments",
    [
        ("[uncertainties]\nhawkes_ratio = [0.1, 0.5]\n", PARTICLES, ("cannot be combined",)),
        ("[params]\ntest_baseline_rate = 1.0\n", PARTICLES, ("test_baseline_rate", "drawn from the posterior")),
        ("", PARTICLES.drop(columns="weight"), ("weight",)),
        ("", PARTICLES.assign(test_baseline_rate=[2.9, 0.4, 7.0]), ("test_baseline_rate=7.0", "out of range")),
        ("", PARTICLES.assign(weight=[0.0, -1.0, 3.0]), ("non-negative",)),
    ],
)
def test_bad_posteriors_and_clashes_are_one_line_errors(tmp_path, extra, particles, fragments):
    path = write(tmp_path, extra=extra, particles=particles)
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "posterior, fragment",
    [
        ("samples = 0", "samples must be an integer"),
        ("samples = 2\nfiles = 'x.csv'", "unknown key 'files' in [posterior]"),
        ("samples = 2\nfile = 'missing.csv'", "posterior file not found"),
    ],
)
def test_malformed_posterior_tables_are_one_line_errors(tmp_path, posterior, fragment):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('samples = 6\nfile = "posterior.csv"', posterior))
    assert_one_line_error(run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"), fragment)


def test_the_installed_posterior_is_a_valid_sample_of_the_calibrated_parameters():
    from experiments.history.calibration import read_calibrated

    posterior = read_posterior(POSTERIOR_FILE)
    calibrated = read_calibrated()
    assert set(posterior.columns) == {*calibrated["parameters"], "weight"}
    assert len(posterior) == calibrated["method"]["population"] and posterior["weight"].gt(0).all()


@pytest.mark.parametrize(
    "particles, fragment",
    [
        (PARTICLES.assign(weight=[0.0, np.inf, 3.0]), "finite"),
        (PARTICLES.assign(initial_stress=0.5), "'initial_stress' is part of the start state"),
        (PARTICLES.assign(sanctions_level=0.5), "'sanctions_level' names a lever"),
    ],
)
def test_unusable_posterior_columns_are_one_line_errors(tmp_path, particles, fragment):
    path = write(tmp_path, particles=particles)
    assert_one_line_error(run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"), fragment)


@pytest.mark.parametrize(
    "change, fragment",
    [
        (
            lambda t: t.replace(
                'exercise_policy = ["as_scheduled", "suspended"]\nengagement_stance = ["pressure_first", '
                '"pressure_and_engagement"]',
                "",
            ),
            "at least one lever",
        ),
        (lambda t: t.replace("seed = 5", "seed = 5\nsamples = 4"), "[experiment] samples"),
    ],
)
def test_posterior_configs_that_would_not_pool_are_refused(tmp_path, change, fragment):
    path = write(tmp_path)
    path.write_text(change(path.read_text()))
    assert_one_line_error(run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"), fragment)


def test_results_reload_from_another_directory_and_report_across_the_posterior(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = write(tmp_path / "cfg", samples=4, replicates=3)
    relative = path.relative_to(tmp_path)
    assert run_cli("sweep", str(relative), "--out", "out", "--quiet", cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = run_cli("report", str(tmp_path / "out"), cwd=elsewhere)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## Across the posterior" in text and "under each of 4 draws from the calibration posterior" in text
    assert "![p_talks_across_posterior](p_talks_across_posterior.png)" in text
    assert (tmp_path / "out" / "p_talks_across_posterior.png").stat().st_size > 10_000
    # a changed sample: the report says so, and writes nothing
    PARTICLES.assign(weight=[0.0, 2.0, 1.0]).to_csv(tmp_path / "cfg" / "posterior.csv", index=False)
    (tmp_path / "out" / "report.md").unlink()
    assert_one_line_error(run_cli("report", str(tmp_path / "out"), cwd=elsewhere), "posterior sample", "has changed")
    assert not (tmp_path / "out" / "report.md").exists()


def test_posterior_report_uses_intervals_over_the_draws_and_opens_with_the_compact_table(tmp_path):
    """The headline, the heatmap's table and the contrasts take their intervals over the draws
    (the pooled Wilson intervals would treat the runs of one draw as independent draws)."""
    from experiments.analysis.estimates import posterior_spread
    from experiments.analysis.report import write_report
    from experiments.analysis.robustness import contrasts_over_draws

    path = write(tmp_path, samples=5, replicates=4)
    sweep = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1")
    assert sweep.returncode == 0, sweep.stderr
    assert "Each cell: P(US–DPRK talks within 20 weeks)" in sweep.stdout and "summary.csv" in sweep.stdout
    result = SweepResult.load(tmp_path / "out")
    write_report(result)
    text = (tmp_path / "out" / "report.md").read_text()
    assert text.index("Each cell: P(US–DPRK talks") < text.index("**How to read this.**")
    by = result.policy_columns
    spread = posterior_spread(result.rows, by, "talks")
    baseline = spread.iloc[0]
    interval = f"P(talks) {baseline['mean']:.2f} [{baseline['ci_low']:.2f}, {baseline['ci_high']:.2f}]"
    assert interval in text  # the baseline's headline, over the draws
    # the one-screen table (report and terminal) leads with the same average and interval over the draws
    table = text.split("**How to read this.**")[0]
    cell = f"{baseline['mean']:.2f} [{baseline['ci_low']:.2f}, {baseline['ci_high']:.2f}] · "
    assert "averaged over the calibration posterior's draws [95% t interval over the draws" in table
    assert cell in table and cell in sweep.stdout
    # the stance and exercise effects and P(deal) say what they rest on, assumptions named
    rests = text.split("## What the effects rest on")[1].split("## Figures")[0]
    assert "**The stance effect**" in rests and "**The exercise-policy effect**" in rests and "**P(deal)**" in rests
    from model.params import TABLE

    # threat_gain is calibrated to the record: each draw carries its own value
    assert "`threat_gain` drawn from the posterior (source: calibrated" in rests
    assert "The exercise-policy effect rests on the calibrated `threat_gain`" in table
    assert f"`step_cost_scale` = {TABLE['step_cost_scale'].default:g} (**an assumption**" in rests
    contrasts = contrasts_over_draws(result.rows, by, {c: baseline[c] for c in by}, "talks")
    other = contrasts[contrasts["difference"] != 0].iloc[0]
    assert f"{other['difference']:.3f} [{other['ci_low']:.3f}, {other['ci_high']:.3f}]" in text
    assert "McNemar p" not in text.split("## Contrasts with the baseline")[1]


def test_the_sweeps_heatmap_of_a_posterior_sweep_takes_its_intervals_over_the_draws(tmp_path, monkeypatch):
    """`escalation sweep` draws the heatmap before any report: for a sweep over draws from the
    same table the report uses, not from intervals pooled over the runs."""
    import matplotlib.pyplot as plt

    from experiments.analysis import estimates, plots

    path = write(tmp_path, samples=5, replicates=4)
    run_sweep(load_experiment(path), tmp_path / "out", workers=1, progress=False)
    result = SweepResult.load(tmp_path / "out")
    drawn = {}

    def capture(table, horizon):
        drawn["table"] = table
        return plt.figure()

    monkeypatch.setattr(plots, "p_talks_heatmap", capture)
    estimates.draw_heatmap(result)
    spread = estimates.posterior_spread(result.rows, result.policy_columns, "talks")
    got = drawn["table"].merge(spread, on=result.policy_columns)
    assert (got["p_talks"] == got["mean"]).all() and (got["p_talks_low"] == got["ci_low"]).all()


def test_the_report_of_a_posterior_sweep_reuses_the_sweeps_heatmap(tmp_path):
    """Sweep and report take the heatmap's intervals over the draws from the same table, so the
    report (as `make run` calls it) embeds the sweep's figure rather than drawing it again."""
    from experiments.analysis.report import write_report

    path = write(tmp_path, samples=3, replicates=2)
    path.write_text(path.read_text().replace("[levers]\n", "[levers]\nsanctions_level = [0.0, 1.0]\n"))
    sweep = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1")
    assert sweep.returncode == 0, sweep.stderr
    heatmap = tmp_path / "out" / "p_talks_heatmap.png"
    drawn_by_the_sweep = heatmap.stat().st_mtime_ns
    write_report(SweepResult.load(tmp_path / "out"))
    assert heatmap.stat().st_mtime_ns == drawn_by_the_sweep
    assert "p_talks_heatmap.png" in (tmp_path / "out" / "report.md").read_text()
