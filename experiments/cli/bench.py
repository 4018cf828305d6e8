"""``escalation bench``: throughput and memory of the engines, sweeps, calibration and
sensitivity analysis, printed as JSON."""

from __future__ import annotations

import argparse
from typing import Any


def _names(text: str) -> list[str]:
    """A comma-separated list of measurement names (checked against the list when run)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected measurement names separated by commas, got {text!r}")
    return names


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation bench`` and its options."""
    parser = subparsers.add_parser(
        "bench",
        help="measure engine, sweep and calibration speed and sweep memory (prints JSON)",
        description="Benchmark the Mesa and batched engines (and the batched engine's compiled backend against its "
        "numpy one) and mesa.batch_run on the policy_grid design, a "
        "2-worker sweep, calibration blocks of the 2009-2018 scenario, the peak memory of a 10^6-run sweep and "
        "the shipped sensitivity analysis; prints one JSON object, each figure with its wall and CPU time and "
        "the load average. Figures, not tests: nothing passes or fails. The full benchmark took 4 to 5 minutes on "
        "2 shared cores (load 2.4 to 3.8), 2 of them the sensitivity analysis (16 minutes on the numpy backend).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller samples, without mesa.batch_run, the 10^6-run memory sweep and the sensitivity analysis "
        "(under two minutes)",
    )
    parser.add_argument(
        "--only",
        type=_names,
        metavar="NAMES",
        help="only these measurements, comma-separated: engines, compiled_vs_numpy, batch_run, sweep_2w, "
        "calibration, memory_sweep, sensitivity (at the quick sizes with --quick)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Measure and print the benchmarks (figures, never a pass or fail)."""
    from ..bench import main

    return main(args.quick, args.only)
