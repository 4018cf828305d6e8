"""``escalation params``: the parameter table."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation params`` and its options."""
    parser = subparsers.add_parser(
        "params",
        help="print the parameter table",
        description="Print every parameter: kind, default, allowed range, unit, meaning, source.",
    )
    parser.add_argument("--kind", choices=("lever", "uncertainty", "constant"), help="only parameters of this kind")
    parser.add_argument("--markdown", action="store_true", help="print as a Markdown table")
    parser.add_argument(
        "--update-odd", action="store_true", help="regenerate docs/ODD.md's parameter table and validation results"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the parameter table (or regenerate the ODD's copy of it)."""
    from model.params import TABLE, table_markdown

    if args.update_odd:
        from ..docs import ODD_PATH, update_odd

        print(f"{ODD_PATH}: {'updated' if update_odd() else 'already up to date'}")
        return 0
    if args.markdown:
        print(table_markdown())
        return 0
    rows = [p for p in TABLE.values() if args.kind is None or p.kind == args.kind]
    name_w = max(len(p.name) for p in rows)
    for p in rows:
        default = str(p.default).lower() if p.dtype is bool else str(p.default)
        print(f"{p.name:<{name_w}}  {p.kind:<11}  {default:<24}  {p.allowed:<18}  {p.unit}")
        print(f"{'':<{name_w}}  {p.meaning}. Source: {p.source}")
    return 0
