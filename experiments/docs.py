"""Keep the parameter table in ``docs/ODD.md`` generated from ``model/params.py``."""

from __future__ import annotations

import re
from pathlib import Path

from model.params import table_markdown

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
_BLOCK = re.compile(r"(<!-- BEGIN PARAMETER TABLE[^>]*-->\n)(.*?)(<!-- END PARAMETER TABLE -->)", re.S)


def with_parameter_table(text: str) -> str:
    """``text`` with the block between the BEGIN/END PARAMETER TABLE markers replaced by the
    current parameter table."""
    if not _BLOCK.search(text):
        raise ValueError("no BEGIN/END PARAMETER TABLE markers found")
    return _BLOCK.sub(lambda m: m.group(1) + table_markdown() + "\n" + m.group(3), text)


def update_odd(path: Path = ODD_PATH) -> bool:
    """Rewrite the ODD's parameter table in place; return whether anything changed."""
    from .store import atomic_write_text

    old = path.read_text(encoding="utf-8")
    new = with_parameter_table(old)
    if new != old:
        atomic_write_text(path, new)
    return new != old
