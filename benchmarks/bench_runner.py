"""Runs per second of Mesa's own ``mesa.batch_run`` and of this project's runner, both running
the Mesa engine on one design, with 1 and 2 processes. Prints the figures and the ratios.

Usage:  python benchmarks/bench_runner.py [--replicates N] [--repeats K] [--config FILE] [--json]

Each measurement runs in a fresh Python process (as a user's command would), times the job
from the call to its return (pool start-up included, interpreter start-up excluded) and keeps
the best of ``--repeats``. Both tools run the same model class on the same design points and
seeds. batch_run runs in its cheapest mode (``data_collection_period=-1``: only the last step is
extracted), but it needs the model's DataCollector; our runner asks the model for outcomes
only (``collect=False``), sends chunks of runs per task rather than one run, and forks its
workers rather than spawning them.

Target (issue "Experiment runner"): runner with 2 workers >= 1.7 x batch_run with 2 processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "experiments" / "configs" / "policy_grid.toml"


def one(kind: str, processes: int, config: Path, replicates: int) -> float:
    """Seconds for one job (run in this process)."""
    import experiments.cli  # noqa: F401  (the command line's process settings: single-threaded numerics)
    from experiments.sweep.config import load_experiment
    from experiments.sweep.design import Design
    from experiments.sweep.peer import batch_run_design
    from experiments.sweep.runner import run_sweep

    experiment = load_experiment(config).with_options(replicates=replicates, engine="mesa")
    design = Design(experiment)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        if kind == "batch_run":
            batch_run_design(design, processes=processes, data_collection_period=-1)
        else:
            run_sweep(experiment, out, workers=processes, progress=False)
        return time.perf_counter() - start


def fresh(kind: str, processes: int, config: Path, replicates: int) -> float:
    """Seconds for one job, measured in a fresh Python process."""
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            kind,
            str(processes),
            "--config",
            str(config),
            "--replicates",
            str(replicates),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(result.stdout.strip().splitlines()[-1])


def measure(config: Path, replicates: int, repeats: int) -> dict:
    from experiments.sweep.config import load_experiment
    from experiments.sweep.design import Design

    design = Design(load_experiment(config).with_options(replicates=replicates))
    n = design.n_runs
    out: dict = {
        "design": f"{config.name}: {design.n_points} points x {replicates} replicates = {n} runs, "
        f"{design.weeks} weeks, Mesa engine; best of {repeats} fresh processes"
    }
    for kind in ("batch_run", "runner"):
        for processes in (1, 2):
            seconds = min(fresh(kind, processes, config, replicates) for _ in range(repeats))
            label = f"{kind}_{processes}{'p' if kind == 'batch_run' else 'w'}_runs_per_s"
            out[label] = n / seconds
    out["runner_1w_vs_batch_run_1p"] = out["runner_1w_runs_per_s"] / out["batch_run_1p_runs_per_s"]
    out["runner_2w_vs_batch_run_2p"] = out["runner_2w_runs_per_s"] / out["batch_run_2p_runs_per_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--replicates", type=int, default=10, help="replicates per design point (default 10)")
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per measurement (best kept)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PROCESSES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(one(args.one[0], int(args.one[1]), args.config, args.replicates))
        return
    results = measure(args.config, args.replicates, args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(results.pop("design"))
    for key, value in results.items():
        print(f"  {key:<28} {value:10.2f}")
    print("  target: runner_2w_vs_batch_run_2p >= 1.7")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
