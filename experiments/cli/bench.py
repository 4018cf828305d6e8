"""``escalation bench``: engine speed and sweep memory, printed as JSON."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation bench`` and its options."""
    parser = subparsers.add_parser(
        "bench",
        help="measure engine speed and sweep memory (prints JSON)",
        description="Benchmark the Mesa engine, mesa.batch_run and the batched engine on the "
        "policy_grid design, and the peak memory of a 10^6-run sweep; prints one "
        "JSON object. Figures, not tests: nothing passes or fails.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller samples (under a minute)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Measure and print the benchmarks (figures, never a pass or fail)."""
    from ..bench import main

    return main(args.quick)
