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
        "`escalation sweep`. Every chunk is verified as it is read (on all cores, a progress bar on stderr). "
        "When the report there is current, nothing is redrawn: report.stamp.json beside it records the "
        "SHA-256 of the manifest and of every chunk it was drawn from, the version of the report code and "
        "the baseline, and the report is current only when all of them, and its own files, are unchanged "
        "(the chunks' bytes are hashed afresh to tell). --force redraws it regardless.",
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
    parser.add_argument(
        "--force", action="store_true", help="redraw the report and its figures even when they are current"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the figures and report.md of a results directory."""
    from ..analysis.report import main

    return main(args)
