"""Shared test helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "configs" / "smoke.toml"
HISTORY = ROOT / "experiments" / "scenarios" / "history_2016_2018.toml"
RECORD = ROOT / "data" / "dprk_monthly_2016_2018.csv"

SYNTHETIC = """
[scenario]
name = "synthetic"
start = 2030-01-07
end = 2031-12-29

[params]
test_baseline_rate = {rate}
hawkes_ratio = 0.0
threat_hazard_weight = 0.0
reactance_hazard_weight = 0.0
progress_hazard_weight = 0.0
inter_korean_rate = 0.0
direct_talks_rate = 0.0
initial_stage = 0
"""
"""A two-year scenario with every hazard but the baseline switched off (``rate``: the baseline)."""


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the `escalation` command in a fresh interpreter (as a user would) and capture its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, one line on stderr containing every fragment, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def smoke():
    """The smoke experiment (experiments/configs/smoke.toml), loaded."""
    from experiments.sweep.config import load_experiment

    return load_experiment(SMOKE)


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory) -> Path:
    """A small finished sweep (the smoke config, 20 replicates), shared by the analysis, plot and
    report tests."""
    from experiments.sweep.config import load_experiment
    from experiments.sweep.runner import run_sweep

    out = tmp_path_factory.mktemp("smoke")
    run_sweep(load_experiment(SMOKE).with_options(replicates=20), out, workers=1, progress=False)
    return out


def cli_call(capsys, *args):
    """``escalation ARGS`` in this process (fast): its exit status, stdout and stderr."""
    from experiments import cli

    try:
        status = cli.main([*args])
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)
