"""``escalation bench``: engine throughput on the policy_grid design, as one JSON object.

Keys:

* ``mesa_runs_per_s`` -- the Mesa engine, 1 process (outcomes only, as sweeps run it);
* ``batch_run_runs_per_s`` -- ``mesa.batch_run``, 1 process (its cheapest mode);
* ``batched_runs_per_s`` -- the batched engine, 1 process;
* ``batched_2w_runs_per_s`` -- a sweep with the batched engine and 2 workers, writing Parquet,
  timed from the call to its return in a fresh process (pool start-up included);
* ``batched_vs_mesa`` -- ``batched_runs_per_s / mesa_runs_per_s``;
* ``peak_rss_mib_1e6_runs`` -- peak resident memory, summed over the sweep's processes, of an
  ``escalation sweep`` of 10^6 runs of the policy grid with 2 workers (summary and heatmap
  included), sampled every 20 ms from outside;
* ``sensitivity_s`` -- ``escalation sensitivity`` on experiments/configs/sensitivity.toml (a
  Morris screen of every uncertainty, 20 trajectories, then Sobol' N = 1024 for the ten most
  influential, 200 replicates per point) with 2 workers, in a fresh process, tables and figures
  included (target: 900 s); ``--quick`` runs it with 10 replicates.

Speed targets live here, never in the tests. Timings on a shared machine are noisy: each figure
is the best of a few repeats.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .history.calibration import CALIBRATED_PARAMETERS, Block, _prior_bounds, block_seeds, run_block
from .history.record import load_record_for
from .history.scenario import load_scenario
from .history.summaries import recorded_rungs, summary_table
from .sweep.config import load_experiment
from .sweep.design import Design
from .sweep.peer import batch_run_design
from .sweep.runner import make_task, run_chunk, run_sweep

CONFIG = Path(__file__).resolve().parent / "configs" / "policy_grid.toml"


def _best(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _in_process(engine: str, replicates: int, repeats: int) -> float:
    """Runs per second of one engine on the policy grid, in this process."""
    experiment = load_experiment(CONFIG).with_options(replicates=replicates, engine=engine)
    design = Design(experiment)
    tasks = [make_task(design, c, engine) for c in design.chunks()]
    return design.n_runs / _best(lambda: [run_chunk(t) for t in tasks], repeats)


def _batch_run(replicates: int, repeats: int) -> float:
    design = Design(load_experiment(CONFIG).with_options(replicates=replicates))
    return design.n_runs / _best(lambda: batch_run_design(design, 1, data_collection_period=-1), repeats)


def _sweep_command(replicates: int, out: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "experiments.cli",
        "sweep",
        str(CONFIG),
        "--out",
        out,
        "--replicates",
        str(replicates),
        "--workers",
        str(workers),
        "--quiet",
    ]


def timed_sweep(replicates: int, workers: int) -> float:
    """Seconds for ``run_sweep`` of the policy grid (the chunks only: no summary), in this process."""
    experiment = load_experiment(CONFIG).with_options(replicates=replicates)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_sweep(experiment, out, workers=workers, progress=False)
        return time.perf_counter() - start


def _sweep_seconds(replicates: int, workers: int, repeats: int) -> float:
    """Best of ``repeats`` :func:`timed_sweep` calls, each in a fresh Python process."""
    code = (
        "import experiments.cli  # the command line's process settings\n"
        f"from experiments.bench import timed_sweep; print(timed_sweep({replicates}, {workers}))"
    )
    return min(
        float(
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()[-1]
        )
        for _ in range(repeats)
    )


def peak_rss_mib(command: list[str], interval: float = 0.02) -> float:
    """Peak of the summed resident memory of ``command`` and its child processes (MiB)."""
    import psutil

    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        total = 0
        try:
            for p in [process, *process.children(recursive=True)]:
                total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        peak = max(peak, total)
        time.sleep(interval)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
    return peak / 2**20


def sensitivity_seconds(replicates: int | None = None) -> float:
    """Wall-clock seconds of ``escalation sensitivity`` on the shipped config with 2 workers."""
    config = CONFIG.parent / "sensitivity.toml"
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "experiments.cli",
            "sensitivity",
            str(config),
            "--out",
            out,
            "--workers",
            "2",
            "--quiet",
            *(["--replicates", str(replicates)] if replicates else []),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def _calibration_block(particles: int, repeats: int) -> float:
    """Simulations per second of one calibration block (the 2016-2018 scenario, 10 replicates
    per particle, summaries included), in this process."""
    scenario = load_scenario(Path(__file__).resolve().parent / "scenarios" / "history_2016_2018.toml")
    record = load_record_for(scenario, None)
    low, high = _prior_bounds(scenario.params)
    theta = np.random.default_rng(0).uniform(low, high, size=(particles, len(low)))
    block = Block(
        scenario,
        CALIBRATED_PARAMETERS,
        theta,
        10,
        block_seeds(0, 0, 0, particles * 10),
        tuple(summary_table(scenario, record)),
        recorded_rungs(record),
    )
    return particles * 10 / _best(lambda: run_block(block), repeats)


def run_benchmarks(quick: bool = False) -> dict[str, Any]:
    """Measure every figure (``quick``: smaller samples, under a minute here)."""
    repeats = 2 if quick else 3
    n_points = Design(load_experiment(CONFIG).with_options(replicates=1)).n_points
    mesa = _in_process("mesa", 1 if quick else 3, repeats)
    batch_run = _batch_run(1 if quick else 3, repeats)
    batched = _in_process("batched", 200 if quick else 1000, repeats)
    sweep_replicates = 500 if quick else 2000
    batched_2w = n_points * sweep_replicates / _sweep_seconds(sweep_replicates, 2, repeats)
    calibration = _calibration_block(200 if quick else 1000, repeats)
    million = math.ceil(1_000_000 / n_points)
    with tempfile.TemporaryDirectory() as out:
        rss = peak_rss_mib(_sweep_command(million, out, 2))
    return {
        "mesa_runs_per_s": round(mesa, 1),
        "batch_run_runs_per_s": round(batch_run, 1),
        "batched_runs_per_s": round(batched, 1),
        "batched_2w_runs_per_s": round(batched_2w, 1),
        "batched_vs_mesa": round(batched / mesa, 1),
        "peak_rss_mib_1e6_runs": round(rss, 1),
        "calibration_simulations_per_s": round(calibration, 1),
        "design": f"policy_grid ({n_points} design points, 52 weeks)",
        "runs_in_rss_sweep": n_points * million,
        "sensitivity_s": round(sensitivity_seconds(10 if quick else None), 1),
        "quick": quick,
    }


def main(quick: bool = False) -> int:
    print(json.dumps(run_benchmarks(quick), indent=2))
    return 0
