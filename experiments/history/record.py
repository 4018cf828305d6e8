"""The public record, month by month (``data/dprk_monthly_2009_2018.csv`` or any CSV with the
same columns).

``data/dprk_monthly_2009_2018.csv`` is the one record: 2009-2015 coded from the CNS missile test
list and cross-checked against the CSIS provocations database, 2016-2018 the project's earlier
file (``data/dprk_monthly_2016_2018.csv``, kept for the 2016-2018 scenario: its rows are the
last 36 of the ten-year file, word for word). A ``?`` in a cell marks an uncertain item or a
disagreement between sources; it never sits in a count column (the counts follow CNS, as the
2016-2018 coding does), so it changes no number read here: a talks cell with a ``?`` (an
uncertain date or detail) is still a talks event, and the ``?`` notes are kept in ``text``.

Required columns: ``month`` (YYYY-MM), ``missile_launch_events`` and ``nuclear_tests``
(non-negative integers). Optional: ``talks_event`` (text; a non-empty cell is a talks event
that month), ``unsc_sanctions_resolutions``, ``us_unilateral_sanctions_major``,
``us_rok_major_exercise``, ``notes``, and the launch events by kind ``icbm_launches`` and
``slbm_space_launches`` (non-negative integers; the calibration's rung mix reads them when
present). Every month from the first to the last must have its row: a month missing inside
the record would silently drop out of every score, so it is refused with the missing months named. Talks events are classified by keywords: a cell naming
a US–DPRK meeting ("US-DPRK", "U.S.-North Korea", "Trump", "Pompeo", "Biegun") is a US–DPRK
event; one naming inter-Korean contact ("inter-Korean", "ROK envoys", "North-South") an
inter-Korean event (case-insensitive; a cell may be both).

The file is read strictly with the ``csv`` module: every row must have as many fields as the
header and sit on one line (a quote left open, which would swallow the months after it, is
refused with its line number), and counts must be physically possible (at most
:data:`MAX_COUNT` launch events or nuclear tests in a month).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from ..errors import UserError

REQUIRED = ("month", "missile_launch_events", "nuclear_tests")
OPTIONAL_COUNTS = ("icbm_launches", "slbm_space_launches")
"""Optional columns of launch events by kind (each also counted in ``missile_launch_events``)."""
US_DPRK = re.compile(
    r"U\.?S\.?\s*[-–—]\s*(DPRK|North Korea)|(DPRK|North Korea)\s*[-–—]\s*U\.?S\.?\b|Trump|Pompeo|Biegun", re.I
)
US_DPRK_SUMMIT = re.compile(r"U\.?S\.?\s*[-–—]\s*(DPRK|North Korea)\s+summit", re.I)
INTER_KOREAN = re.compile(r"inter[- ]?Korean|ROK envoys|North[- ]South|South[- ]North", re.I)
MAX_COUNT = {"missile_launch_events": 300, "nuclear_tests": 31, "icbm_launches": 300, "slbm_space_launches": 300}
"""The most of each a month can hold: a few hundred launch events (the busiest month on record
had well under twenty) and one nuclear test a day. Anything above is a typing error."""
DATA = Path(__file__).resolve().parents[2] / "data"
RECORD_2009_2018 = DATA / "dprk_monthly_2009_2018.csv"
"""The one record, January 2009 to December 2018."""
RECORD_2016_2018 = DATA / "dprk_monthly_2016_2018.csv"
"""Its last 36 months, the file the 2016-2018 scenario names (kept so that its uses stand)."""
DEFAULT_RECORD = RECORD_2009_2018
MAJOR_PACKAGE = re.compile(r"\s*([01])\b")
"""A ``us_unilateral_sanctions_major`` cell starts with 1 (a major package) or 0 (none, or minor)."""


def read_record(path: str | Path) -> pd.DataFrame:
    """The record indexed by month (a ``pandas.Period``), with columns ``launches``,
    ``nuclear_tests``, ``talks`` (any talks event), ``us_dprk_talks``, ``inter_korean_talks``,
    ``resolution`` (a UNSC sanctions resolution that month), ``major_package`` (a major US
    unilateral package), ``exercise`` (text: held, postponed or suspended; the scenario's calendar says
    which months had one under way), ``text`` (the talks event and the notes, searched for the milestones of
    :mod:`experiments.history.summaries`) and the :data:`OPTIONAL_COUNTS` columns present in the
    file. A month missing between the first and the last is a :class:`UserError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"record file not found: {path}")
    raw = _read_csv_strictly(path)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED)}")
    if raw.empty:
        raise UserError(f"{path}: no rows")
    try:
        months = pd.PeriodIndex([_month(v) for v in raw["month"]], freq="M")
    except ValueError as error:
        raise UserError(f"{path}: column month: {error}") from None
    if months.has_duplicates:
        raise UserError(f"{path}: column month lists {months[months.duplicated()][0]} twice")
    gaps = missing_months(months, months.min(), months.max())
    if gaps:
        raise UserError(
            f"{path}: month(s) {gaps} missing inside the record ({months.min()} to {months.max()}); every month "
            "needs a row (zeros and empty cells for a quiet month)"
        )
    record = pd.DataFrame(index=months.rename("month"))
    for column, name in (("missile_launch_events", "launches"), ("nuclear_tests", "nuclear_tests")):
        record[name] = [_count(v, column, path) for v in raw[column]]
    talks = raw["talks_event"] if "talks_event" in raw.columns else pd.Series([""] * len(raw))
    record["talks"] = [bool(t.strip()) for t in talks]
    record["us_dprk_talks"] = [bool(US_DPRK.search(t)) for t in talks]
    record["inter_korean_talks"] = [bool(INTER_KOREAN.search(t)) for t in talks]
    record["us_dprk_summit"] = [bool(US_DPRK_SUMMIT.search(t)) for t in talks]
    for column in OPTIONAL_COUNTS:
        if column in raw.columns:
            record[column] = [_count(v, column, path) for v in raw[column]]
            if (record[column] > record["launches"]).any():
                month = record.index[record[column] > record["launches"]][0]
                raise UserError(
                    f"{path}: column {column}: {month} has more than its missile_launch_events; launch "
                    "events by kind are counted in missile_launch_events too"
                )
    notes = raw["notes"] if "notes" in raw.columns else pd.Series([""] * len(raw))
    record["text"] = [f"{t} | {n}" for t, n in zip(talks, notes, strict=True)]
    resolutions = (
        raw["unsc_sanctions_resolutions"] if "unsc_sanctions_resolutions" in raw.columns else pd.Series([""] * len(raw))
    )
    record["resolution"] = [bool(r.strip()) for r in resolutions]
    record["exercise"] = list(raw["us_rok_major_exercise"]) if "us_rok_major_exercise" in raw.columns else ""
    packages = (
        raw["us_unilateral_sanctions_major"]
        if "us_unilateral_sanctions_major" in raw.columns
        else pd.Series([""] * len(raw))
    )
    record["major_package"] = [_major(v, path) for v in packages]
    return record.sort_index()


def missing_months(months: pd.PeriodIndex, first: pd.Period, last: pd.Period) -> str:
    """The months from ``first`` to ``last`` not in ``months``, as ranges (``2017-03, 2017-05 to
    2017-07``); empty if none is missing."""
    absent = pd.period_range(first, last, freq="M").difference(months)
    ranges: list[list[pd.Period]] = []
    for month in absent:
        if ranges and month == ranges[-1][-1] + 1:
            ranges[-1].append(month)
        else:
            ranges.append([month])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in ranges)


def _major(value: str, path: Path) -> bool:
    text = value.strip()
    if not text:
        return False
    match = MAJOR_PACKAGE.match(text)
    if match is None:
        raise UserError(
            f"{path}: column us_unilateral_sanctions_major: {value[:40]!r} must start with 1 (a major package) or "
            "0 (none or minor), e.g. '1 - EO 13722'"
        )
    return match.group(1) == "1"


def _read_csv_strictly(path: Path) -> pd.DataFrame:
    """The CSV file's cells as text, one row per line; a malformed row is a :class:`UserError`
    naming its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}: empty file; a header line with {', '.join(REQUIRED)} is needed") from None
    except csv.Error as error:
        raise UserError(f"{path}: line 1: malformed CSV ({error})") from None
    header = [name.strip() for name in header]
    if len(set(header)) != len(header):
        raise UserError(f"{path}: line 1: a column name appears twice")
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise UserError(f"{path}: line {line}: malformed CSV ({error}); check its quotes") from None
        if reader.line_num != line:
            raise UserError(
                f"{path}: line {line}: a quoted field runs on over {reader.line_num - line + 1} lines (a quote "
                "left open?); each month must be one line"
            )
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise UserError(
                f"{path}: line {line}: {len(row)} fields, but the header has {len(header)}; quote cells "
                "that contain commas"
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=header, dtype=str)


def _month(value: str) -> pd.Period:
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}", text):
        raise ValueError(f"{value!r} is not a month YYYY-MM")
    return pd.Period(text, freq="M")


def _count(value: str, column: str, path: Path) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise UserError(f"{path}: column {column}: {value!r} is not a non-negative integer")
    count = int(text)
    if count > MAX_COUNT[column]:
        raise UserError(
            f"{path}: column {column}: {count} in one month is not physically plausible (at most "
            f"{MAX_COUNT[column]}); check the file"
        )
    return count


def load_record_for(scenario, record: str | Path | None) -> pd.DataFrame:
    """The record to compare a scenario with: ``record`` if given, else the scenario's own,
    else the shipped 2009-2018 record (:data:`DEFAULT_RECORD`)."""
    path = Path(record) if record else (scenario.record or DEFAULT_RECORD)
    return read_record(path)
