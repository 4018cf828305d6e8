"""``escalation sensitivity``: Morris screen and Sobol' indices of the uncertain parameters."""

from __future__ import annotations

import argparse
from typing import Any

from .common import positive_int


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation sensitivity`` and its options."""
    parser = subparsers.add_parser(
        "sensitivity",
        help="global sensitivity analysis: Morris screen, Sobol' indices, parameters vs noise",
        description="Which uncertain parameters drive the outcomes, and how much of their variance is the simulation's "
        "own noise. A Morris screen over every uncertainty (the config's [uncertainties], the support of "
        "its [posterior], or else every uncertainty of the parameter table over its allowed range), then "
        "Sobol' first-order (S1) and total (ST) indices with 95% bootstrap intervals for the most "
        "influential ([sensitivity] top, default 10), on the batched engine with the same replicate seeds "
        "at every point (common random numbers). Reports, per outcome, the share of one run's variance due "
        "to the seeds and whether the indices computed from half the sample agree (converged). Writes "
        "tables (CSV, Markdown), the sample points and figures to --out. Example config: "
        "experiments/configs/sensitivity.toml.",
    )
    parser.add_argument(
        "config",
        help="config TOML: [experiment] (weeks, replicates, seed), the policy fixed in [params], "
        "optional [uncertainties] or [posterior], and [sensitivity] (method, trajectories, "
        "samples, top, outcomes, bootstrap)",
    )
    parser.add_argument(
        "--method",
        choices=("morris", "sobol"),
        help="only a Morris screen, or only Sobol' indices, of every parameter (default: the config's "
        "method, else a Morris screen then Sobol' on the top parameters)",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="Morris trajectories (with --method morris; even) or the Sobol' base sample N (a power of 2)",
    )
    parser.add_argument(
        "--replicates", type=positive_int, metavar="R", help="replicate seeds per point (overrides the config)"
    )
    parser.add_argument("--out", metavar="DIR", help="output directory (default results/<experiment name>)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, help="local worker processes (default: all cores)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: indices (outcome, parameter, S1, S1_conf, ST, ST_conf or mu_star, "
        "sigma), noise_share and converged per outcome",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the sensitivity analysis a config describes."""
    from ..sensitivity import main

    return main(args)
