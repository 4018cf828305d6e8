"""`escalation bench`: which measurements run, the keys each reports, and bad arguments. Nothing
here times anything (speed targets live in the benchmark itself); the measurements run at tiny
sizes only to see their keys."""

from __future__ import annotations

import dataclasses
import os

import pytest
from conftest import assert_one_line_error, run_cli

from experiments import bench
from experiments.errors import Fault, UserError

TIMING_KEYS = {"wall_s", "cpu_s", "load"}
TINY_GRID = """
[experiment]
name = "tiny"
weeks = 52
replicates = 1
seed = 5
engine = "batched"

[levers]
sanctions_level = [0.0, 1.0]
"""


@pytest.fixture
def tiny(tmp_path) -> bench.Sizes:
    """Sizes that run each measurement as little as it can: 2 design points, 2 particles."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_GRID)
    return bench.Sizes(
        "tiny",
        repeats=1,
        mesa_replicates=1,
        batched_replicates=2,
        sweep_replicates=3,
        calibration_particles=2,
        memory_runs=10,
        sensitivity_args=("--method", "morris", "--samples", "2", "--replicates", "2"),
        config=config,
    )


def names(measurements):
    return [m.name for m in measurements]


def test_quick_selects_the_quick_set_and_the_full_run_adds_the_memory_sweep_and_sensitivity():
    quick, full = names(bench.select(quick=True)), names(bench.select(quick=False))
    assert quick == ["engines", "compiled_vs_numpy", "sweep_2w", "calibration"]
    assert full == [
        "engines",
        "compiled_vs_numpy",
        "batch_run",
        "sweep_2w",
        "calibration",
        "memory_sweep",
        "sensitivity",
    ]
    assert bench.FULL.memory_runs >= 1_000_000 and bench.QUICK.memory_runs == 0


def test_quick_sizes_are_each_at_most_the_full_ones():
    for field in dataclasses.fields(bench.Sizes):
        quick, full = getattr(bench.QUICK, field.name), getattr(bench.FULL, field.name)
        if isinstance(quick, int):
            assert quick <= full, field.name


def test_only_picks_named_measurements_in_the_benchmark_order():
    assert names(bench.select(quick=True, only=["sensitivity", "engines"])) == ["engines", "sensitivity"]


def test_an_unknown_measurement_is_refused_naming_the_known_ones():
    with pytest.raises(UserError, match="'engins'.*engines, compiled_vs_numpy, batch_run"):
        bench.select(only=["engins"])


def test_the_command_help_lists_every_measurement():
    result = run_cli("bench", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for name in names(bench.MEASUREMENTS):
        assert name in text, name


def test_the_module_docstring_names_every_key():
    for key in ["mesa", "batched", "batched_vs_mesa", "batch_run", "sweep_2w", "calibration", "memory_sweep"]:
        assert f"``{key}``" in bench.__doc__, key
    assert "``sensitivity``" in bench.__doc__ and "``compiled_vs_numpy``" in bench.__doc__


def test_timing_counts_the_cpu_of_finished_child_processes():
    """A child that burns CPU while this process waits for it: its CPU is counted."""
    code = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    import subprocess
    import sys

    timing = bench.timed(lambda: subprocess.run([sys.executable, "-c", code], check=True), own=False)
    assert timing.cpu_s >= 0.3
    assert len(timing.load) == 3 and all(x >= 0 for x in timing.load)


def test_a_figure_gives_rates_from_its_counts_and_times():
    figure = bench.Timing(wall_s=4.0, cpu_s=2.0, load=(1.5, 1.0, 0.5)).figure(1000, "runs", weeks=52)
    assert figure == {
        "runs": 1000,
        "weeks": 52,
        "wall_s": 4.0,
        "cpu_s": 2.0,
        "load": [1.5, 1.0, 0.5],
        "runs_per_s": 250.0,
        "runs_per_cpu_s": 500.0,
        "run_weeks_per_cpu_s": 26000,
    }


def test_a_job_too_short_to_time_has_no_rate_rather_than_a_division_by_zero():
    figure = bench.Timing(wall_s=0.0, cpu_s=0.0, load=(1.0, 1.0, 1.0)).figure(3, "runs", weeks=52)
    assert figure["runs_per_s"] is None and figure["runs_per_cpu_s"] is None
    assert figure["run_weeks_per_cpu_s"] is None


def test_best_of_keeps_the_shortest_wall_and_cpu_time():
    a, b = bench.Timing(3.0, 1.0, (2.0, 2.0, 2.0)), bench.Timing(2.0, 1.5, (1.0, 1.0, 1.0))
    assert bench.best_of([a, b]) == bench.Timing(2.0, 1.0, (1.0, 1.0, 1.0))


def test_the_warm_up_runs_once_before_the_timed_repeats():
    calls: list[str] = []
    bench.repeated(lambda: calls.append("timed"), 2, warm_up=lambda: calls.append("warm-up"))
    assert calls == ["warm-up", "timed", "timed"]


def check_figure(figure: dict, unit: str) -> None:
    assert TIMING_KEYS <= set(figure)
    assert figure["wall_s"] > 0 and figure["cpu_s"] > 0 and len(figure["load"]) == 3
    assert figure[unit] > 0 and figure["weeks"] > 0
    assert {f"{unit}_per_s", f"{unit}_per_cpu_s", "run_weeks_per_cpu_s"} <= set(figure)


def test_the_quick_measurements_report_their_keys_at_tiny_sizes(tiny):
    result = bench.run_benchmarks(bench.select(quick=True), tiny)
    assert result["measurements"] == ["engines", "compiled_vs_numpy", "sweep_2w", "calibration"]
    assert result["sizes"] == "tiny" and result["design"] == "tiny.toml"
    assert result["cpus"] == os.cpu_count() and len(result["load_at_start"]) == 3
    runs = {"mesa": 2, "batched": 4, "batched_compiled": 4, "batched_numpy": 4, "sweep_2w": 6}
    for key, n in runs.items():
        check_figure(result[key], "runs")
        assert result[key]["runs"] == n and result[key]["weeks"] == 52, key
    assert result["batched_vs_mesa"] > 0 and result["compiled_vs_numpy"] > 0
    calibration = result["calibration"]
    check_figure(calibration, "simulations")
    assert calibration["scenario"] == "history_2009_2018" and calibration["weeks"] >= 520
    assert calibration["simulations"] == tiny.calibration_particles * bench.CALIBRATION_REPLICATES
    assert {"batch_run", "memory_sweep", "sensitivity"}.isdisjoint(result)
    assert result["total"]["wall_s"] > 0


@pytest.mark.slow
def test_the_full_only_measurements_report_their_keys_at_tiny_sizes(tiny):
    result = bench.run_benchmarks(bench.select(only=["batch_run", "memory_sweep", "sensitivity"]), tiny)
    assert result["measurements"] == ["batch_run", "memory_sweep", "sensitivity"]
    check_figure(result["batch_run"], "runs")
    assert result["batch_run"]["runs"] == 2
    memory = result["memory_sweep"]
    check_figure(memory, "runs")
    assert memory["runs"] == 10 and memory["peak_rss_mib"] > 0
    assert TIMING_KEYS <= set(result["sensitivity"]) and result["sensitivity"]["cpu_s"] > 0
    assert result["sensitivity"]["options"] == " ".join(tiny.sensitivity_args)


def test_a_failing_child_process_is_one_line_naming_it_and_its_error(tiny):
    broken = dataclasses.replace(tiny, sensitivity_args=("--replicates", "0"))
    with pytest.raises(Fault) as caught:
        bench.sensitivity(broken)
    message = str(caught.value)
    assert "\n" not in message
    assert "escalation sensitivity exited with status 2" in message and "positive integer" in message


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["bench", "--only", "engins"], "'engins'"),
        (["bench", "--only", ","], "measurement names"),
        (["bench", "--quik"], "--quik"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, fragment):
    assert_one_line_error(run_cli(*args), fragment)
