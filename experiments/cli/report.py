"""``escalation report``: figures and a Markdown report for a results directory."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation report`` and its options."""
    parser = subparsers.add_parser(
        "report",
        help="figures and a Markdown report for a results directory",
        description="Write every figure (PDF and PNG) and report.md (estimates with intervals, paired policy "
        "contrasts against a baseline, testing cost, provenance) into a results directory made by "
        "`escalation sweep`.",
    )
    parser.add_argument("results", help="results directory written by `escalation sweep`")
    parser.add_argument(
        "--baseline",
        metavar="POLICY",
        help="baseline policy for the paired contrasts, as lever=value pairs joined by commas, e.g. "
        "'exercise_policy=as_scheduled,engagement_stance=pressure_first,sanctions_level=1'. "
        "Levers left out are matched: each policy is compared with the baseline at its own value "
        "of them (e.g. 'exercise_policy=as_scheduled' gives the effect of each exercise policy at "
        "every sanctions level and stance). Default: the first value of each lever in the config, "
        "with the sanctions level at its highest (for policy_posterior and policy_grid: as scheduled, pressure first, "
        "sanctions level 1)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the figures and report.md of a results directory."""
    from ..analysis.report import main

    return main(args)
