"""``escalation validate``: fit on a training window of the record, score the forecast of a test window."""

from __future__ import annotations

import argparse
from typing import Any

from .common import output_dir, positive_int, seed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation validate`` and its options."""
    parser = subparsers.add_parser(
        "validate",
        help="out-of-sample validation: fit on a training window, score the forecast of a test window",
        description="Calibrate (ABC-SMC, --budget) on the training window's months of the record only, then replay "
        "the scenario with the posterior and score its forecast of the test window: coverage of the 50% and 90% "
        "intervals, PIT histogram, CRPS of monthly launch events, the total against its 90% interval, the "
        "stylised facts; beside two baselines fitted on the same training months (the naive rate, and a "
        "negative binomial regression on exercise, talks, sanctions and months since the last launch) with "
        "the model's skill against each. Writes validation.json and validation.png into --out.",
    )
    parser.add_argument("scenario", help="scenario TOML, e.g. experiments/scenarios/history_2009_2018.toml")
    parser.add_argument("--train", action="append", metavar="YYYY-MM:YYYY-MM", help="training window (repeatable)")
    parser.add_argument("--test", action="append", metavar="YYYY-MM:YYYY-MM", help="test window, one per --train")
    parser.add_argument(
        "--rolling",
        action="store_true",
        help="rolling origin: train to December of each of the three years before the scenario's last, test after",
    )
    parser.add_argument(
        "--budget", default="small", help="calibration budget: tiny, small (default), medium or full (the installed)"
    )
    parser.add_argument("--replicates", type=positive_int, default=1000, help="forecast replicates (default 1000)")
    parser.add_argument("--seed", type=seed, default=1, help="seed (default 1)")
    parser.add_argument("--record", metavar="CSV", help="monthly record (default: the scenario's)")
    parser.add_argument("--out", default="results/validation", help="output directory (default results/validation)")
    parser.add_argument("--workers", type=positive_int, help="local worker processes (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    """Fit on each training window and score the forecast of its test window."""
    output_dir(args.out)
    from ..history.validate import main as validate_main
    from ..sweep.runner import make_executor

    with make_executor(args.workers) as (executor, parallelism):
        return validate_main(args, executor, parallelism)
