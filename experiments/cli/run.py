"""``escalation run``: one run of the model, its outcomes printed."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ..errors import UserError
from .common import jsonable, seed, weeks


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation run`` and its options."""
    parser = subparsers.add_parser(
        "run",
        help="one run of the model; prints its outcomes",
        description="Run the model once and print the run's outcomes.",
    )
    parser.add_argument("--seed", type=seed, default=1, help="random seed, 0 to 2**64-1 (default 1)")
    parser.add_argument("--weeks", type=weeks, default=52, help="weeks to simulate (default 52, at most 5200)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); `escalation params` lists names and ranges",
    )
    parser.add_argument(
        "--engine",
        choices=("mesa", "batched"),
        default="mesa",
        help="mesa: the inspectable reference (default); batched: the array engine (same numbers)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcomes as one JSON object")
    parser.add_argument("--trajectory", metavar="FILE.csv", help="also write the weekly series to this CSV file")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the model once and print its outcomes (and write its weekly series)."""
    from model import Params

    params = Params.from_strings(args.set or [])  # validate before importing the heavy machinery
    if args.trajectory and Path(args.trajectory).is_dir():
        raise UserError(f"--trajectory {args.trajectory} is a directory; give a file name such as run.csv")
    if args.trajectory and not Path(args.trajectory).parent.is_dir():
        raise UserError(
            f"--trajectory {args.trajectory}: the directory {Path(args.trajectory).parent} does not exist; "
            "create it, or give a file in an existing directory"
        )

    from model.batched import simulate
    from model.model import EscalationModel

    from ..io import atomic_write_text

    if args.engine == "mesa":
        model = EscalationModel(params, rng=args.seed).run(args.weeks)
        outcomes, trajectory = model.outcomes(), (model.trajectory() if args.trajectory else None)
    else:
        result = simulate([params], [args.seed], args.weeks, trajectories=bool(args.trajectory))
        outcomes = {k: v[0].item() for k, v in result.outcomes.items()}
        trajectory = result.trajectory_frame().drop(columns="run") if args.trajectory else None
    if trajectory is not None:
        atomic_write_text(Path(args.trajectory), trajectory.to_csv(index=False))
    if args.json:
        record = {
            "seed": args.seed,
            "weeks": args.weeks,
            "engine": args.engine,
            "overrides": params.changed(),
            "outcomes": outcomes,
        }
        print(json.dumps(jsonable(record), indent=2))
    else:
        print(
            f"seed {args.seed}, {args.weeks} weeks, {args.engine} engine"
            + (f", overrides {params.changed()}" if params.changed() else "")
        )
        width = max(map(len, outcomes))
        for name, value in outcomes.items():
            text = (
                "-"
                if isinstance(value, float) and math.isnan(value)
                else (f"{value:.4g}" if isinstance(value, float) else str(value))
            )
            print(f"  {name:<{width}}  {text}")
        if args.trajectory:
            print(f"weekly trajectory written to {args.trajectory}")
    return 0
