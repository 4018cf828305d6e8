"""What every command of ``escalation`` shares: the one-line argument errors, the argument types,
the output-directory check and JSON output without NaN."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, NoReturn

from ..errors import UserError

EXIT_USAGE = 2
MAX_WEEKS = 5200


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def jsonable(value: Any) -> Any:
    """``value`` with NaN as None (JSON has no NaN), dictionaries walked."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def positive_int(text: str) -> int:
    """An argument that must be a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def weeks(text: str) -> int:
    """A number of weeks to simulate: a positive integer up to :data:`MAX_WEEKS`."""
    value = positive_int(text)
    if value > MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_WEEKS} weeks (100 years), got {value}")
    return value


def share(text: str) -> float:
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {value}")
    return value


def seed(text: str) -> int:
    """A seed: an integer from 0 to 2**64 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed from 0 to 2**64-1, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected an integer seed from 0 to 2**64-1, got {value}")
    return value


def output_dir(path: str | None) -> None:
    """Refuse, before any work, an empty output path or one that exists and is not a directory."""
    if path is not None and not path.strip():
        raise UserError("--out is empty; give a directory, e.g. --out results/mine")
    if path and Path(path).exists() and not Path(path).is_dir():
        raise UserError(f"--out {path} exists and is not a directory")
