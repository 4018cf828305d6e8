"""One validation layer for the TOML inputs: experiment configs, scenarios, sensitivity settings.

Each check takes the value and ``what`` -- where it sits, e.g. ``"smoke.toml: [experiment] weeks"``
-- and returns the value or raises a one-line :class:`~experiments.errors.UserError` of one
shape: ``<what> must be <what is allowed>, got <value>``. Types are strict: TOML has booleans,
integers, numbers, strings and dates, so a quoted ``"false"`` or ``"0.5"`` is refused, never
read as what it looks like (the command line's ``--set NAME=VALUE`` is text and is converted by
the parameter table instead).

Examples
--------
>>> boolean(True, "s.toml: [scenario] endogenous_sanctions")
True
>>> integer(3, "c.toml: [experiment] weeks", low=1, high=5200)
3
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from model.params import DATE_RANGE, TABLE, ParameterError, closest_name, lookup

from .errors import UserError

__all__ = [
    "boolean",
    "check_keys",
    "check_tables",
    "choice",
    "date",
    "entries",
    "integer",
    "number",
    "parameter",
    "string",
    "strings",
    "unknown_key",
]


def _got(value: Any) -> str:
    return f"got {value!r}"


def unknown_key(source: str, table: str, key: str, allowed: Iterable[str], purpose: str = "") -> UserError:
    """The error for ``key``, not one of ``allowed``, in ``table`` (e.g. ``[experiment]``, or
    ``[[events]] 2018-06-12``) of the file ``source``: names the closest allowed key and lists
    them all (``purpose`` qualifies the list, e.g. " for a new exercise")."""
    allowed = list(allowed)
    return UserError(
        f"{source}: unknown key '{key}' in {table}{closest_name(key, allowed)}; allowed{purpose}: {', '.join(allowed)}"
    )


def check_keys(entry: Mapping[str, Any], allowed: Iterable[str], source: str, table: str, purpose: str = "") -> None:
    """Refuse the first key of ``entry`` that is not in ``allowed`` (see :func:`unknown_key`)."""
    allowed = tuple(allowed)
    for key in entry:
        if key not in allowed:
            raise unknown_key(source, table, key, allowed, purpose)


def check_tables(data: Mapping[str, Any], tables: Iterable[str], source: str, arrays: Iterable[str] = ()) -> None:
    """Refuse an unknown top-level table of a TOML file, and a known one of the wrong shape
    (``arrays`` name the arrays of tables, ``[[name]]``; the rest are tables, ``[name]``)."""
    tables, arrays = tuple(tables), set(arrays)
    for name, value in data.items():
        if name not in tables:
            raise UserError(
                f"{source}: unknown table [{name}]{closest_name(name, tables)}; allowed: "
                + ", ".join(f"[[{t}]]" if t in arrays else f"[{t}]" for t in tables)
            )
        if name in arrays:
            entries(data, name, source)
        elif not isinstance(value, dict):
            raise UserError(f"{source}: [{name}] must be a table")


def entries(data: Mapping[str, Any], table: str, source: str) -> list[dict[str, Any]]:
    """The entries of the array of tables ``[[table]]`` (none when absent)."""
    found = data.get(table, [])
    if not isinstance(found, list) or not all(isinstance(e, dict) for e in found):
        raise UserError(f"{source}: [[{table}]] must be an array of tables")
    return found


def boolean(value: Any, what: str) -> bool:
    """``value`` if it is a TOML boolean (``true`` or ``false``, unquoted)."""
    if not isinstance(value, bool):
        raise UserError(f"{what} must be true or false, {_got(value)}")
    return value


def string(value: Any, what: str, allowed: str = "a string") -> str:
    """``value`` if it is a string (``allowed`` says what it names, e.g. "a file name (a string)")."""
    if not isinstance(value, str):
        raise UserError(f"{what} must be {allowed}, {_got(value)}")
    return value


def choice(value: Any, what: str, choices: Iterable[str], hint: str = "") -> str:
    """``value`` if it is one of ``choices``; the error names the closest."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise UserError(
            f"{what} {value!r} is not allowed{closest_name(str(value), choices)}: allowed {', '.join(choices)}{hint}"
        )
    return value


def integer(value: Any, what: str, low: int | None = None, high: int | None = None, meaning: str = "") -> int:
    """``value`` if it is an integer (not a boolean) within ``[low, high]`` (either bound optional)."""
    if isinstance(value, bool) or not isinstance(value, int) or not _within(value, low, high):
        raise UserError(f"{what} must be {_range('an integer', low, high)}{meaning}, {_got(value)}")
    return value


def number(
    value: Any, what: str, low: float | None = None, high: float | None = None, exclusive: bool = False
) -> float:
    """``value`` as a float if it is a finite number (not a boolean) within ``[low, high]``
    (strictly between them when ``exclusive``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not _within(value, low, high)
        or (exclusive and value in (low, high))
    ):
        allowed = f"a number strictly between {low} and {high}" if exclusive else _range("a number", low, high)
        raise UserError(f"{what} must be {allowed}, {_got(value)}")
    return float(value)


def strings(value: Any, what: str) -> tuple[str, ...]:
    """``value`` as a tuple if it is a list of strings (e.g. outcome names)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{what} must be a list of strings, {_got(value)}")
    return tuple(value)


def date(value: Any, what: str) -> dt.date:
    """``value`` as a date (a TOML date, or text YYYY-MM-DD) within the dates the model handles."""
    if isinstance(value, dt.datetime):
        value = value.date()
    elif not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise UserError(f"{what} must be a date YYYY-MM-DD, {_got(value)}") from None
    if not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
        raise UserError(f"{what} {value} is outside the dates the model handles ({DATE_RANGE[0]} to {DATE_RANGE[1]})")
    return value


def parameter(name: str, value: Any, where: str) -> Any:
    """A parameter's value from a TOML file, checked against the parameter table.

    ``where`` is the file and table, e.g. ``"c.toml: [params]"``. The name must be known; the
    value's TOML type must be the parameter's (a boolean for a switch, a number for a rate, a
    string for a choice, a date or ISO text for a date), then the table's range applies.
    """
    try:
        row = lookup(name)
    except ParameterError as error:
        raise UserError(f"{where} {error}") from None
    kind = row.dtype
    wrong = (
        (kind is bool and not isinstance(value, bool))
        or (kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))))
        or (kind is str and not isinstance(value, str))
    )
    if wrong:
        raise UserError(f"{where} {name}={value!r} is not valid: allowed {TABLE[name].allowed} (unquoted in TOML)")
    try:
        return row.coerce(value)
    except ParameterError as error:
        raise UserError(f"{where} {error}") from None


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _range(kind: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None:
        return f"{kind} of at least {low}"
    if high is not None:
        return f"{kind} of at most {high}"
    return kind
