"""The answer on one screen: a compact table of the per-policy estimates.

One row per exercise policy and engagement stance (the levers other than the sanctions level),
and for a few sanctions levels (the lowest, the middle and the highest of the design) P(talks
within the horizon), the median weeks to talks and the mean number of tests, plus any other
``p_<event>`` columns asked for (the version-2 outcomes such as summit or deal, when the table
has them). The best value of each column is marked, and when several policies share it at the
precision shown they are named as tied rather than one of them picked.

For a sweep over posterior draws (or sampled scenarios) the table has one row per policy and
sanctions level shown: the posterior-averaged P(talks) with its 95% t interval over the draws
(``over="draw"``, from :func:`experiments.analysis.estimates.policy_estimates`: how precisely the
average is known), beside the central 90% of the per-draw estimates (how far P(talks) itself
moves across the draws), and the mean tests.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd

OPTIONAL_EVENTS = ("p_summit", "p_deal")
"""Columns shown when the estimates table has them (outcomes of later model versions)."""


def shown_levels(values: Sequence[float], most: int = 3) -> list[float]:
    """Up to ``most`` sanctions levels of the design: the lowest, the middle and the highest."""
    levels = sorted(set(values))
    if len(levels) <= most:
        return levels
    return [levels[0], levels[len(levels) // 2], levels[-1]]


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _label(value: Any) -> str:
    return str(value).replace("_", " ").replace("pressure and engagement", "pressure + engagement")


def ties(
    table: pd.DataFrame, column: str, by: Sequence[str], digits: int = 2, larger: bool = True
) -> tuple[float, list[dict]]:
    """The best value of ``column`` at ``digits`` decimals and every policy that has it (a tie at
    the precision shown is named as a tie)."""
    rounded = table[column].round(digits)
    best = rounded.max() if larger else rounded.min()
    tied = table[rounded == best]
    return float(best), [dict(zip(by, row, strict=True)) for row in tied[list(by)].itertuples(index=False)]


def one_screen(
    table: pd.DataFrame, by: Sequence[str], horizon: int, over: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The compact table (cells as text) and notes naming ties, from the estimates table
    (:func:`experiments.analysis.summarise` by the levers). With ``over`` (``"draw"`` or
    ``"scenario"``: the table's P(talks) is the mean over them, as
    :func:`~experiments.analysis.estimates.policy_estimates` gives it) each cell opens with
    P(talks) and its interval over the draws, ``0.23 [0.18, 0.27]``."""
    by = list(by)
    if over is not None and "p_talks_range_low" in table.columns:
        return _over_screen(table, by, over)
    rows_by = [c for c in by if c != "sanctions_level"]
    levels = shown_levels(table["sanctions_level"]) if "sanctions_level" in by else [None]
    extra = [c for c in OPTIONAL_EVENTS if c in table.columns]
    metrics = [
        ("p_talks", "P(talks)", 2, True),
        ("median_weeks_to_talks", "median wk", 0, False),
        ("mean_tests", "tests", 1, False),
        *[(c, f"P({c[2:]})", 2, True) for c in extra],
    ]
    keys = table[rows_by].drop_duplicates() if rows_by else pd.DataFrame(index=[0])
    out = pd.DataFrame({_pretty(c): [_label(v) for v in keys[c]] for c in rows_by})
    notes = []
    alike: dict[tuple[str, str], list[str]] = {}  # (column, value) -> levels where every policy has it
    for level in levels:
        part = table if level is None else table[table["sanctions_level"] == level]
        where = "" if level is None else f"sanctions {level:g}: "
        part = keys.merge(part, on=rows_by, how="left") if rows_by else part
        columns = []
        for column, title, digits, larger in metrics:
            cells = [_fmt(v, digits) for v in part[column]]
            if column == "p_talks" and over is not None:
                cells = [
                    f"{c} [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"
                    for c, lo, hi in zip(cells, part["p_talks_low"], part["p_talks_high"], strict=True)
                ]
            if column == "median_weeks_to_talks":
                cells = [f">{horizon}" if c == "–" else c for c in cells]
            values = part[column]
            if values.notna().any() and rows_by:
                best, tied = ties(part, column, rows_by, digits, larger)
                marks = values.round(digits) == best
                if len(part) > 1 and len(tied) == len(part):  # every policy alike: nothing to mark, one note
                    alike.setdefault((title, f"{best:.{digits}f}"), []).append(where)
                    columns.append(cells)
                    continue
                cells = [f"**{c}**" if m else c for c, m in zip(cells, marks, strict=True)]
                if column in ("p_talks", *extra) and len(tied) > 1:
                    names = "; ".join(", ".join(_label(v) for v in policy.values()) for policy in tied)
                    notes.append(
                        f"{where}{len(tied)} policies tie at the highest {title} ({best:.{digits}f}): {names}."
                    )
            columns.append(cells)
        header = "P(talks) · median wk · tests" if level is None else f"sanctions {level:g}"
        out[header] = [" · ".join(parts) for parts in zip(*columns, strict=True)]
    for (title, value), wheres in alike.items():
        if len(wheres) == len(levels) and levels != [None]:
            wheres = ["At every sanctions level shown, "]
        notes += [f"{where}every policy has {title} {value} at the precision shown." for where in wheres]
    return out, notes


def _over_screen(table: pd.DataFrame, by: list[str], over: str) -> tuple[pd.DataFrame, list[str]]:
    """The compact table of a sweep over draws (or scenarios), one row per policy and sanctions
    level shown: the mean P(talks) over the draws with its interval, the central 90% of the
    per-draw P(talks), and the mean tests; the best of each marked per level, ties named."""
    rows_by = [c for c in by if c != "sanctions_level"]
    levels = shown_levels(table["sanctions_level"]) if "sanctions_level" in by else [None]
    records, notes = [], []
    for level in levels:
        part = table if level is None else table[table["sanctions_level"] == level]
        where = "" if level is None else f"sanctions {level:g}: "
        marks: dict[str, pd.Series] = {}
        for column, title, digits, larger in (("p_talks", "P(talks)", 2, True), ("mean_tests", "tests", 1, False)):
            best, tied = ties(part, column, rows_by or by, digits, larger)
            marks[column] = part[column].round(digits) == best
            if len(tied) == len(part) and len(part) > 1:
                marks[column] = marks[column] & False
                notes.append(f"{where}every policy has {title} {best:.{digits}f} at the precision shown.")
            elif column == "p_talks" and len(tied) > 1:
                names = "; ".join(", ".join(_label(v) for v in policy.values()) for policy in tied)
                notes.append(f"{where}{len(tied)} policies tie at the highest {title} ({best:.{digits}f}): {names}.")
        for i, (_, row) in enumerate(part.iterrows()):
            talks = f"{_fmt(row['p_talks'], 2)} [{_fmt(row['p_talks_low'], 2)}, {_fmt(row['p_talks_high'], 2)}]"
            spread = f"{_fmt(row['p_talks_range_low'], 2)}–{_fmt(row['p_talks_range_high'], 2)}"
            tests = _fmt(row["mean_tests"], 1)
            cell = " · ".join(
                [
                    f"**{talks}**" if marks["p_talks"].iloc[i] else talks,
                    spread,
                    f"**{tests}**" if marks["mean_tests"].iloc[i] else tests,
                ]
            )
            records.append(
                {
                    **{_pretty(c): _label(row[c]) for c in rows_by},
                    **({"sanctions": f"{level:g}"} if level is not None else {}),
                    f"P(talks) [95%] · 90% of {over}s · tests": cell,
                }
            )
    return pd.DataFrame(records), notes


def _pretty(column: str) -> str:
    return {"exercise_policy": "exercises", "engagement_stance": "stance"}.get(column, column.replace("_", " "))


OVER_WORDS = {
    "draw": "averaged over the calibration posterior's draws [95% t interval over the draws: it includes "
    "what the record leaves unknown about the calibrated parameters]",
    "scenario": "averaged over the sampled scenarios [95% t interval over the scenarios]",
}
"""How the caption describes the leading P(talks) of a sweep over draws or scenarios."""


RANGE_WORDS = {
    "draw": ("the calibration posterior's draws", "parameter values the record allows"),
    "scenario": ("the sampled scenarios", "the ranges of the config's [uncertainties]"),
}


def caption(horizon: int, extra: Sequence[str] = (), over: str | None = None, ranges: bool = False) -> str:
    """What the cells of the compact table are (``ranges``: the table of a sweep over draws with
    the per-draw range beside the mean's interval)."""
    if over is not None and ranges:
        across, allowed = RANGE_WORDS[over]
        return (
            f"Each cell: P(US–DPRK talks within {horizon} weeks), averaged over {across} [95% t interval "
            f"over the {over}s: how precisely that average is known] · the range of the middle 90% of the "
            f"per-{over} P(talks): how far P(talks) itself moves across {allowed} · mean tests within "
            f"{horizon} weeks, also over the {over}s. Best of each marked; other intervals in the full table."
        )
    talks = f"P(US–DPRK talks within {horizon} weeks)" + (f", {OVER_WORDS[over]}" if over else "")
    return (
        f"Each cell: {talks} · Kaplan–Meier median weeks to talks (>{horizon}: "
        f"fewer than half the runs reach talks) · mean tests within {horizon} weeks"
        + "".join(f" · P({c[2:]})" for c in extra)
        + ". Best of each column marked"
        + (
            "; mean tests also over the draws"
            if over == "draw"
            else "; mean tests also over the scenarios"
            if over
            else ""
        )
        + "; intervals of the other columns in the full table."
    )


def markdown(
    table: pd.DataFrame, by: Sequence[str], horizon: int, over: str | None = None, footnotes: Sequence[str] = ()
) -> str:
    """:func:`one_screen` as a Markdown table with its notes (bold: the best of each column) and
    any ``footnotes`` after them."""
    frame, notes = one_screen(table, by, horizon, over)
    notes = [*notes, *footnotes]
    lines = [
        caption(horizon, [c for c in OPTIONAL_EVENTS if c in table.columns], over, "p_talks_range_low" in table),
        "",
        "| " + " | ".join(frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    if notes:
        lines += ["", *[f"* {n}" for n in notes]]
    return "\n".join(lines)


def text(
    table: pd.DataFrame, by: Sequence[str], horizon: int, over: str | None = None, footnotes: Sequence[str] = ()
) -> str:
    """:func:`one_screen` as plain text for a terminal (the best of each column marked with *),
    then its notes and any ``footnotes``."""
    frame, notes = one_screen(table, by, horizon, over)
    frame = frame.map(lambda v: _star(v) if isinstance(v, str) else v)
    extra = [c for c in OPTIONAL_EVENTS if c in table.columns]
    head = caption(horizon, extra, over, "p_talks_range_low" in table).replace("marked", "marked *")
    if over is not None and "p_talks_range_low" in table:
        head = textwrap.fill(head, 100)  # the table beside it fits 100 columns; so does its caption
    return "\n".join([head, frame.to_string(index=False), *notes, *[_plain(f) for f in footnotes]])


def _plain(markdown_text: str) -> str:
    """A Markdown note for a terminal: no bold, no code quotes."""
    return markdown_text.replace("**", "").replace("`", "")


def _star(cell: str) -> str:
    """Markdown bold (the best value) as a trailing star, for plain text."""
    return " · ".join(p.replace("**", "") + "*" if p.startswith("**") else p for p in cell.split(" · "))
