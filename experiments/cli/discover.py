"""``escalation discover``: scenario discovery (PRIM) over a sweep's or sensitivity run's points."""

from __future__ import annotations

import argparse
from typing import Any

from .common import share


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation discover`` and its options."""
    parser = subparsers.add_parser(
        "discover",
        help="scenario discovery (PRIM): where in parameter space a policy fails",
        description="Find boxes of the uncertain parameters (a sweep's [uncertainties] scenarios or [posterior] draws, "
        "or the points of `escalation sensitivity`) in which an outcome is bad, with the Patient Rule "
        "Induction Method (EMA Workbench's prim). A case is one scenario under one policy; it is "
        "'of interest' when the scenario's estimate of the outcome is below (or above) a threshold. "
        "Prints the chosen box's limits, coverage and density; writes the peeling trajectory "
        "(coverage-density trade-off figure) and the box to --out.",
    )
    parser.add_argument(
        "results", help="results directory of `escalation sweep` (sampled scenarios) or of `escalation sensitivity`"
    )
    parser.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="outcome column, e.g. talks (a yes/no outcome is estimated per scenario as a probability)",
    )
    parser.add_argument(
        "--below",
        type=float,
        metavar="X",
        help="a case is of interest when the scenario's estimate is below X (default: below 0.5 for a "
        "probability, else below the median)",
    )
    parser.add_argument("--above", type=float, metavar="X", help="... or above X instead")
    parser.add_argument(
        "--policy",
        action="append",
        metavar="LEVER=VALUE",
        help="only the design points with this lever value (repeatable), e.g. "
        "engagement_stance=pressure_and_engagement",
    )
    parser.add_argument(
        "--threshold", type=share, default=0.8, help="PRIM's minimum density of the chosen box (default 0.8)"
    )
    parser.add_argument(
        "--mass-min", type=share, default=0.05, help="PRIM's minimum share of cases in a box (default 0.05)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="where to write discovery_<outcome>.* (default: the results directory)"
    )
    parser.add_argument("--json", action="store_true", help="print the box and its statistics as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    """Find the boxes of parameter space where an outcome is bad."""
    from ..analysis.discovery import main

    return main(args)
