"""The public record, month by month (``data/dprk_monthly_2016_2018.csv`` or any CSV with the
same columns).

Required columns: ``month`` (YYYY-MM), ``missile_launch_events`` and ``nuclear_tests``
(non-negative integers). Optional: ``talks_event`` (text; a non-empty cell is a talks event
that month), ``unsc_sanctions_resolutions``, ``us_unilateral_sanctions_major``,
``us_rok_major_exercise``, ``notes``, and the launch events by kind ``icbm_launches`` and
``slbm_space_launches`` (non-negative integers; the calibration's rung mix reads them when
present). Talks events are classified by keywords: a cell naming
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
DEFAULT_RECORD = Path(__file__).resolve().parents[2] / "data" / "dprk_monthly_2016_2018.csv"


def read_record(path: str | Path) -> pd.DataFrame:
    """The record indexed by month (a ``pandas.Period``), with columns ``launches``,
    ``nuclear_tests``, ``talks`` (any talks event), ``us_dprk_talks``, ``inter_korean_talks``,
    ``resolution`` (a UNSC sanctions resolution that month), ``exercise`` (text), ``text`` (the
    talks event and the notes, searched for the milestones of :mod:`experiments.history.summaries`) and
    the :data:`OPTIONAL_COUNTS` columns present in the file."""
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
    return record.sort_index()


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
    else the shipped 2016-2018 record."""
    path = Path(record) if record else (scenario.record or DEFAULT_RECORD)
    return read_record(path)
