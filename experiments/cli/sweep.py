"""``escalation sweep``: run (or resume) a policy sweep from a TOML config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import output_dir, positive_int


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation sweep`` and its options."""
    parser = subparsers.add_parser(
        "sweep",
        help="run (or resume) a policy sweep from a TOML config",
        description="Run every design point of a TOML experiment config for its replicates, writing Parquet "
        "chunks with provenance into the output directory, then print the answer on one screen (P(talks), "
        "for a sweep over the calibration posterior averaged over the draws with its 95% t interval over them; "
        "time to talks; testing; and the parameters each effect rests on) and save the summary (every "
        "estimate with its 95% interval) and the P(talks) heatmap. `make run` runs experiments/configs/policy_posterior.toml. "
        "Rerunning the same config into the same directory resumes: finished chunks are kept once their "
        "checksums verify (all chunks checked side by side on all cores, a progress bar on stderr), and a "
        "posterior design's draws and start states are read from design.parquet rather than replayed. A config "
        "may sample uncertainties over ranges ([uncertainties]) or draw them from the calibration "
        "posterior ([posterior]); see the README.",
    )
    parser.add_argument(
        "config",
        help="experiment config (TOML), e.g. experiments/configs/policy_posterior.toml (the policy grid over the "
        "calibration posterior) or experiments/configs/policy_grid.toml (the grid at the calibrated point)",
    )
    parser.add_argument("--out", help="results directory (default results/<experiment name>)")
    parser.add_argument("--replicates", type=positive_int, help="replicates per design point (overrides the config)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, help="local worker processes (default: all cores)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    parser.add_argument("--engine", choices=("batched", "mesa"), help="engine (default: the config's, else batched)")
    parser.add_argument("--chunk-size", type=positive_int, help="runs per task and per file (default by engine)")
    parser.add_argument("--shard", metavar="i/N", help="run only shard i of N (job arrays); shards share --out")
    parser.add_argument("--overwrite", action="store_true", help="discard results of another experiment in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run or resume a sweep, then print its answer and write its summary."""
    from ..sweep.config import load_experiment

    output_dir(args.out)
    experiment = load_experiment(args.config).with_options(
        replicates=args.replicates, engine=args.engine, chunk_size=args.chunk_size
    )

    from ..analysis.assumptions import brief, relevant
    from ..analysis.compact import text as compact_text
    from ..analysis.estimates import (
        SUMMARY_FILE,
        format_table,
        has_heatmap,
        load,
        policy_estimates,
        summary,
        summary_is_current,
        write_summary,
    )
    from ..analysis.report import DERIVED_FILES
    from ..sweep.runner import parse_shard, run_sweep

    shard = parse_shard(args.shard)
    out = Path(args.out) if args.out is not None else Path("results") / experiment.name
    done = run_sweep(
        experiment,
        out,
        workers=args.workers,
        dask=args.dask,
        shard=shard,
        overwrite=args.overwrite,
        progress=not args.quiet,
        derived=DERIVED_FILES,
    )
    design = done.design
    print(
        f"{experiment.name}: {design.n_runs} runs ({design.n_points} design points x {design.replicates} "
        f"replicates, {design.weeks} weeks, {experiment.engine} engine); {done.chunks_run} chunks run, "
        f"{done.chunks_skipped} already on disk; results in {out}"
    )
    if not done.complete:
        missing = sum(not done.store.chunk_path(c).is_file() for c in design.chunks())
        print(
            f"{missing} chunks are still missing (other shards); rerun without --shard, or run the "
            "remaining shards, to finish and write the summary"
        )
        return 0
    result = load(out, progress=not args.quiet)
    table = summary(result)
    headline = None
    if result.levers:  # the answer on one screen; the full table is summary.csv
        headline, over = policy_estimates(result)
        notes = brief(relevant(result.levers, list(headline.columns)))
        print(compact_text(headline, result.policy_columns, result.horizon, over, notes))
        print(f"(one row per design point, with 95% intervals: {out / SUMMARY_FILE})")
    else:
        print(format_table(table, result.factors or ["design_point"]))
    if done.chunks_run == 0 and summary_is_current(result):
        print(f"{out / SUMMARY_FILE}{' and the heatmap' if has_heatmap(result) else ''}: up to date")
        return 0
    for path in write_summary(result, table, headline):
        print(f"wrote {path}")
    return 0
