"""``escalation app``: the interactive explorer (its options and server live in :mod:`experiments.app.serve`)."""

from __future__ import annotations

import argparse
from typing import Any

from ..app.serve import add_app_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation app`` and its options."""
    add_app_parser(subparsers)
    return subparsers.choices["app"]


def run(args: argparse.Namespace) -> int:
    """Serve the explorer until interrupted."""
    from ..app.serve import cmd_app

    return cmd_app(args)
