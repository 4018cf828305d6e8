"""The summary statistics a calibration compares, computed the same way from the record and
from simulated runs.

Both sides are first reduced to a :class:`Panel` (months x runs; the record is one run): launch
events, nuclear tests, launch events by rung where the record says which, major tests (the
rungs that trigger sanctions, and nuclear tests), and the months the milestones of
:data:`MILESTONES` happen. Every statistic is then one function of a panel, so the observed and
simulated values can never be computed differently.

The list grows with the model and the record (:func:`summary_table`): launches, months with a
launch, nuclear tests and the launch events of each rung the record distinguishes, by calendar
year; the timing of nuclear tests; inter-launch gaps; launches in months with a US-ROK exercise;
the lag from a major test to the next UN resolution; and the first month of each milestone the
model can produce (a milestone whose weekly series the model lacks, a summit say, is left out
until a model version produces it). Rungs, talks stages and series names are read from the
model (``model.rules``, ``model.outcomes``), never assumed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model import outcomes as model_outcomes
from model import rules
from model.batched import simulate_points

from ..errors import UserError
from ..seeds import replicate_seeds
from .scenario import Scenario

SUSPENDED = getattr(rules, "SUSPENDED_TALKS", getattr(rules, "SUSPENDED", None))
"""The talks stage of suspended talks, if the model has one (talks are not under way then)."""
RUNG_NAMES: tuple[str, ...] = tuple(
    getattr(model_outcomes, "RUNG_COLUMNS", None)
    or getattr(model_outcomes, "_RUNG_COLUMNS", None)
    or [c for c in model_outcomes.OUTCOME_COLUMNS if c.startswith("tests_")] + ["nuclear_tests"]
)
"""The outcome column of each rung, rung 1 first (``tests_icbm``, ``nuclear_tests``, ...)."""
RECORD_KINDS = {"tests_icbm": "icbm_launches", "tests_slbm_space": "slbm_space_launches"}
"""Rung outcome column -> the record's column of launch events of that kind. A model whose ICBM
rung also holds submarine and space launches (no ``tests_slbm_space`` rung) counts both there."""


def stage_under_way(stage: np.ndarray, at_least: int) -> np.ndarray:
    """Talks under way at ``at_least`` or a later stage (a suspension is not under way)."""
    if hasattr(rules, "talks_reached"):  # the model's own definition, where it has one
        return np.asarray(rules.talks_reached(stage, at_least), dtype=bool)
    under_way = stage >= at_least
    return under_way & (stage != SUSPENDED) if SUSPENDED is not None else under_way


def _series(weekly: dict[str, np.ndarray], *names: str) -> np.ndarray | None:
    for name in names:
        if name in weekly:
            return np.asarray(weekly[name]) > 0
    return None


def _resumed(weekly: dict[str, np.ndarray]) -> np.ndarray | None:
    if SUSPENDED is None:
        return None
    stage = weekly["talks_stage"]
    before = np.vstack([np.zeros_like(stage[:1]), stage[:-1]])
    return (before == SUSPENDED) & stage_under_way(stage, rules.INTER_KOREAN)


@dataclass(frozen=True)
class Milestone:
    """An event whose first month is a summary: found in the record by ``record`` (a column of
    :func:`experiments.history.record.read_record` or a regular expression over its ``text``), in a
    simulation by ``simulated`` (weekly series -> weeks x runs booleans, or None when the model
    cannot produce it)."""

    name: str
    meaning: str
    record: str
    simulated: Callable[[dict[str, np.ndarray]], np.ndarray | None]

    def observed_months(self, record: pd.DataFrame) -> np.ndarray:
        if self.record in record.columns:
            return record[self.record].to_numpy(dtype=bool)
        pattern = re.compile(self.record, re.I)
        return np.array([bool(pattern.search(t)) for t in record["text"]], dtype=bool)


MILESTONES: tuple[Milestone, ...] = (
    Milestone(
        "inter_korean_talks",
        "first inter-Korean talks",
        "inter_korean_talks",
        lambda w: stage_under_way(w["talks_stage"], rules.INTER_KOREAN),
    ),
    Milestone(
        "us_dprk_talks",
        "first US-DPRK talks or accepted meeting",
        "us_dprk_talks",
        lambda w: stage_under_way(w["talks_stage"], rules.PRELIMINARY),
    ),
    # A model without summit events reads its negotiations stage as the summit accepted; one with
    # them (a weekly ``summit`` series) reaches that stage only after a deal, so has no such state.
    Milestone(
        "summit_accepted",
        "a summit accepted (negotiations at the top)",
        r"accepts?\s+(a\s+|the\s+)?summit",
        lambda w: (
            None
            if "summit" in w or not hasattr(rules, "NEGOTIATIONS")
            else stage_under_way(w["talks_stage"], rules.NEGOTIATIONS)
        ),
    ),
    Milestone(
        "us_dprk_summit",
        "the first US-DPRK summit held",
        r"US-DPRK summit|Trump-Kim summit",
        lambda w: _series(w, "summit", "summits", "summit_held"),
    ),
    Milestone(
        "moratorium",
        "a declared halt to nuclear and ICBM tests",
        r"halt to nuclear|moratorium",
        lambda w: _series(w, "moratorium"),
    ),
    Milestone(
        "talks_cancelled",
        "talks or a summit cancelled (suspended)",
        r"cancels\s.*(summit|talks)",
        lambda w: (w["talks_stage"] == SUSPENDED) if SUSPENDED is not None else None,
    ),
    Milestone("talks_reinstated", "cancelled talks reinstated", r"reinstat", _resumed),
)
"""The 2018 milestones the record names; each is a summary once the model can produce it."""

DEAL_RECORD = r"Leap Day agreement|halt to nuclear and ICBM tests|US-DPRK summit[^|]*joint statement"
"""A deal in the record: a DPRK freeze agreed or declared, or a summit that ends in a joint
statement (the Leap Day agreement of February 2012, the test halt of April 2018, Singapore)."""


def simulated_deals(weekly: dict[str, np.ndarray]) -> np.ndarray:
    """Weeks x runs: a deal made that week, a summit that ends in a deal or a moratorium the DPRK
    declares (the model's counterparts of :data:`DEAL_RECORD`); none if the model has neither."""
    deal = np.zeros_like(np.asarray(weekly["tests"]), dtype=bool)
    if "summit" in weekly and hasattr(rules, "SUMMIT_DEAL"):
        deal |= np.asarray(weekly["summit"]) == rules.SUMMIT_DEAL
    if "moratorium" in weekly:
        on = np.asarray(weekly["moratorium"]) > 0
        deal |= on & ~np.vstack([np.zeros_like(on[:1]), on[:-1]])
    return deal


@dataclass
class Panel:
    """Monthly series of one or many runs (months first, runs last)."""

    months: pd.PeriodIndex
    launches: np.ndarray
    nuclear: np.ndarray
    by_rung: dict[str, np.ndarray]  # rung outcome name -> launch events at that rung
    major: np.ndarray | None  # major tests (rung >= the sanctions trigger), None if unknown
    milestones: dict[str, np.ndarray]  # milestone -> bool per month
    talks: np.ndarray  # talks under way (simulated) or a talks event (record)
    deal: np.ndarray | None = None  # a deal made that month (:data:`DEAL_RECORD`, :func:`simulated_deals`)


def _monthly(weekly: np.ndarray, week_months: pd.PeriodIndex, how: str = "sum") -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, week_months[1:] != week_months[:-1]])
    return (np.add if how == "sum" else np.maximum).reduceat(weekly, starts, axis=0)


def _week_months(scenario: Scenario) -> pd.PeriodIndex:
    return pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()])


def recorded_rungs(record: pd.DataFrame) -> dict[int, list[str]]:
    """Launch rung (1-based) -> the record columns whose launch events fall on it, for the rungs
    the record distinguishes."""
    mapping: dict[int, list[str]] = {}
    for rung, name in enumerate(RUNG_NAMES[:-1], start=1):
        if name not in RECORD_KINDS:
            continue
        columns = [RECORD_KINDS[name]]
        if name == "tests_icbm" and "tests_slbm_space" not in RUNG_NAMES:
            columns.append(RECORD_KINDS["tests_slbm_space"])
        if all(c in record.columns for c in columns):
            mapping[rung] = columns
    return mapping


SUMMARY_SERIES: tuple[str, ...] = ("talks_stage", "tests", "test_rung", "summit", "moratorium")
"""The weekly series the summaries read (:func:`panel_from_trajectory` and the milestones): what a
calibration's runs keep (``trajectories=SUMMARY_SERIES``), a third of every series' memory."""


def panel_from_trajectory(scenario: Scenario, weekly: dict[str, np.ndarray], rungs: dict[int, list[str]]) -> Panel:
    """The panel of simulated runs (``weekly``: the engine's weekly series, weeks x runs); ``rungs``
    the launch rungs to count separately (those the record distinguishes)."""
    weeks = _week_months(scenario)
    months = weeks.unique()
    tests, rung = weekly["tests"], weekly["test_rung"]
    trigger = int(scenario.params.sanctions_trigger_rung)
    milestones = {}
    for m in MILESTONES:
        hit = m.simulated(weekly)
        if hit is not None:
            milestones[m.name] = _monthly(hit.astype(np.int8), weeks, "max").astype(bool)
    return Panel(
        months=months,
        launches=_monthly(np.where(rung < rules.RUNGS, tests, 0), weeks),
        nuclear=_monthly(np.where(rung == rules.RUNGS, tests, 0), weeks),
        by_rung={RUNG_NAMES[r - 1]: _monthly(np.where(rung == r, tests, 0), weeks) for r in rungs},
        major=_monthly(np.where(rung >= trigger, tests, 0), weeks),
        milestones=milestones,
        talks=_monthly(stage_under_way(weekly["talks_stage"], rules.INTER_KOREAN).astype(np.int8), weeks, "max").astype(
            bool
        ),
        deal=_monthly(simulated_deals(weekly).astype(np.int8), weeks, "max").astype(bool),
    )


def panel_from_record(scenario: Scenario, record: pd.DataFrame, rungs: dict[int, list[str]]) -> Panel:
    """The record as a panel of one run over the scenario's months (every month must be in it)."""
    months = _week_months(scenario).unique()
    rec = record.reindex(months)

    def column(values) -> np.ndarray:
        return np.asarray(values, dtype=float).reshape(-1, 1)

    trigger = int(scenario.params.sanctions_trigger_rung)
    by_rung = {RUNG_NAMES[r - 1]: column(rec[cols].sum(axis=1)) for r, cols in rungs.items()}
    knows_major = all(r in rungs for r in range(trigger, rules.RUNGS))
    major = (
        (
            column(rec["nuclear_tests"])
            + sum((by_rung[RUNG_NAMES[r - 1]] for r in range(trigger, rules.RUNGS)), np.zeros((len(months), 1)))
        )
        if knows_major
        else None
    )
    return Panel(
        months=months,
        launches=column(rec["launches"]),
        nuclear=column(rec["nuclear_tests"]),
        by_rung=by_rung,
        major=major,
        milestones={m.name: m.observed_months(rec).reshape(-1, 1) for m in MILESTONES},
        talks=rec["talks"].to_numpy(dtype=bool).reshape(-1, 1),
        deal=np.array([bool(re.search(DEAL_RECORD, t, re.I)) for t in rec["text"]], dtype=bool).reshape(-1, 1),
    )


# ---- the statistics --------------------------------------------------------------------------


def _first(hit: np.ndarray) -> np.ndarray:
    """First month index with ``hit`` per run; the number of months if never."""
    first = hit.argmax(axis=0).astype(float)
    first[~hit.any(axis=0)] = hit.shape[0]
    return first


def _last(hit: np.ndarray) -> np.ndarray:
    """Last month index with ``hit`` per run; -1 if never."""
    n = hit.shape[0]
    last = (n - 1 - hit[::-1].argmax(axis=0)).astype(float)
    last[~hit.any(axis=0)] = -1
    return last


def longest_gap(launches: np.ndarray) -> np.ndarray:
    """Longest run of consecutive months without a launch event, per run."""
    run = np.zeros(launches.shape[1])
    longest = np.zeros(launches.shape[1])
    for month in launches:
        run = np.where(month == 0, run + 1, 0)
        longest = np.maximum(longest, run)
    return longest


def mean_gap(launches: np.ndarray) -> np.ndarray:
    """Mean number of months between consecutive months with a launch event (the span from the
    first to the last such month over their number less one); the number of months when fewer
    than two months have one."""
    hit = launches > 0
    count = hit.sum(axis=0)
    span = _last(hit) - _first(hit)
    return np.where(count >= 2, span / np.maximum(count - 1, 1), launches.shape[0])


def resolution_lag(major: np.ndarray, resolution_rows: np.ndarray) -> np.ndarray:
    """Mean over the resolutions of the months from the last major test at or before the
    resolution's month to it (a resolution with no major test before it within the panel counts
    the months since the panel's start, plus one)."""
    lags = []
    for row in resolution_rows:
        last = _last(major[: row + 1] > 0)
        lags.append(np.where(last >= 0, row - last, row + 1))
    return np.mean(lags, axis=0)


def starts(hit: np.ndarray) -> np.ndarray:
    """Months (rows) in which a spell of ``hit`` begins (``hit`` there, not the month before)."""
    return hit & ~np.vstack([np.zeros_like(hit[:1]), hit[:-1]])


def followed_within(first: np.ndarray, then: np.ndarray, months: int) -> np.ndarray:
    """Per run, the number of months with ``first`` followed by ``then`` in one of the next
    ``months`` months (months x runs booleans)."""
    ahead = np.zeros_like(then, dtype=bool)
    for k in range(1, months + 1):
        ahead[:-k] |= then[k:]
    return (first & ahead).sum(axis=0)


def deal_to_launch(deal: np.ndarray, launches: np.ndarray) -> np.ndarray:
    """Months from the first deal to the first launch after it (its collapse), per run: the
    months left to the end if no launch follows, the number of months if there is no deal."""
    n = deal.shape[0]
    first = _first(deal)
    out = np.full(deal.shape[1], float(n))
    for run in np.flatnonzero(first < n):
        d = int(first[run])
        after = np.flatnonzero(launches[d + 1 :, run] > 0)
        out[run] = after[0] + 1 if after.size else n - d
    return out


@dataclass(frozen=True)
class Summary:
    """One statistic: ``kind`` names its function in :data:`STATISTICS`, ``arg`` its argument."""

    name: str
    kind: str
    arg: object
    meaning: str


def _known(values: np.ndarray | None, what: str) -> np.ndarray:
    """``values``, which a statistic needs: it is listed only when the record says them."""
    if values is None:
        raise ValueError(f"{what} are not known for this record, so no statistic uses them")
    return values


def _year_rows(panel: Panel, year: int) -> np.ndarray:
    return np.asarray(panel.months.year == year)


STATISTICS: dict[str, Callable[[Panel, Any], np.ndarray]] = {
    "launches": lambda p, year: p.launches[_year_rows(p, year)].sum(axis=0),
    "months_with_launch": lambda p, year: (p.launches[_year_rows(p, year)] > 0).sum(axis=0),
    "nuclear_tests": lambda p, year: p.nuclear[_year_rows(p, year)].sum(axis=0),
    "rung": lambda p, arg: p.by_rung[arg[0]][_year_rows(p, arg[1])].sum(axis=0),
    "talks_months": lambda p, year: p.talks[_year_rows(p, year)].sum(axis=0),
    "first_nuclear": lambda p, _: _first(p.nuclear > 0),
    "last_nuclear": lambda p, _: _last(p.nuclear > 0),
    "longest_gap": lambda p, _: longest_gap(p.launches),
    "mean_gap": lambda p, _: mean_gap(p.launches),
    "exercise_launches": lambda p, rows: p.launches[np.asarray(rows)].sum(axis=0),
    "resolution_lag": lambda p, rows: resolution_lag(_known(p.major, "major tests"), np.asarray(rows)),
    "milestone": lambda p, name: _first(p.milestones[name]),
    # the decade set (:data:`DECADE_YEARS`)
    "talks_in": lambda p, rows: p.talks[np.asarray(rows, dtype=np.intp)].sum(axis=0),
    "talks_after_launches": lambda p, k: followed_within(p.launches > 0, starts(p.talks), k),
    "launches_after_talks": lambda p, k: followed_within(starts(p.talks), p.launches > 0, k),
    "first_deal": lambda p, _: _first(_known(p.deal, "deals")),
    "deal_to_launch": lambda p, _: deal_to_launch(_known(p.deal, "deals"), p.launches),
    "launch_rate": lambda p, rows: p.launches[np.asarray(rows, dtype=np.intp)].mean(axis=0),
    "rung_total": lambda p, name: p.by_rung[name].sum(axis=0),
    "nuclear_total": lambda p, _: p.nuclear.sum(axis=0),
    "longest_without_talks": lambda p, _: longest_gap(p.talks.astype(np.int64)),
    "talks_spells": lambda p, _: starts(p.talks).sum(axis=0),
}
"""Statistic kind -> function of a panel (and the summary's argument), one value per run."""


SUMMARY_SETS = ("annual", "decade")
"""``annual``: the statistics by calendar year, gaps, exercise months, lags and milestones;
``decade``: those and :func:`decade_summaries`, for a record long enough to hold several
stances, deals and spells without talks."""
DECADE_YEARS = 5
"""A scenario with at least this many whole calendar years gets the decade set by default."""
FOLLOW_MONTHS = 3
"""Talks after launches and launches after talks: within this many months."""
MEDIATION_SPLIT = 0.25
"""Months with ROK mediation above this count as mediated (a judgement: Moon's 0.8 and the
short thaws of 2013-2015 above it, Lee's and Park's usual levels at or below it)."""


def summary_table(scenario: Scenario, record: pd.DataFrame, summary_set: str | None = None) -> list[Summary]:
    """The summaries that ``scenario`` and ``record`` support, and the model can produce:
    ``summary_set`` one of :data:`SUMMARY_SETS`; by default ``decade`` for a scenario with at
    least :data:`DECADE_YEARS` whole calendar years, else ``annual``."""
    if summary_set is not None and summary_set not in SUMMARY_SETS:
        raise UserError(f"summaries {summary_set!r} are not known; choose {' or '.join(SUMMARY_SETS)}")
    months = _week_months(scenario).unique()
    years = [y for y in sorted(set(months.year)) if (months.year == y).sum() == 12]
    rungs = recorded_rungs(record)
    rec = record.reindex(months)
    table: list[Summary] = []
    for year in years:
        table += [
            Summary(f"launches_{year}", "launches", year, f"launch events in {year}"),
            Summary(f"months_with_launch_{year}", "months_with_launch", year, f"months with a launch in {year}"),
            Summary(f"nuclear_tests_{year}", "nuclear_tests", year, f"nuclear tests in {year}"),
        ]
        table += [
            Summary(
                f"{RUNG_NAMES[r - 1]}_{year}",
                "rung",
                (RUNG_NAMES[r - 1], year),
                f"launch events at rung {r} ({RUNG_NAMES[r - 1]}) in {year}",
            )
            for r in rungs
        ]
        if not rec.loc[np.asarray(months.year == year), "talks"].any():  # months with talks: 0 observed
            table.append(
                Summary(f"talks_months_{year}", "talks_months", year, f"months with talks under way in {year}")
            )
    table += [
        Summary("first_nuclear_test_month", "first_nuclear", None, "month index of the first nuclear test"),
        Summary("last_nuclear_test_month", "last_nuclear", None, "month index of the last nuclear test"),
        Summary("longest_gap_months", "longest_gap", None, "longest run of months without a launch"),
        Summary("mean_gap_months", "mean_gap", None, "mean months between months with a launch"),
    ]
    exercise = _exercise_months(scenario, months)
    if exercise.any():
        table.append(
            Summary(
                "launches_in_exercise_months",
                "exercise_launches",
                tuple(np.flatnonzero(exercise)),
                "launch events in months with a US-ROK exercise held",
            )
        )
    resolutions = _resolution_rows(scenario, months)
    if resolutions and panel_from_record(scenario, record, rungs).major is not None:
        table.append(
            Summary(
                "lag_major_test_to_resolution",
                "resolution_lag",
                tuple(resolutions),
                "mean months from the last major test to each UN resolution",
            )
        )
    missing = unavailable_milestones(scenario)
    table += [
        Summary(f"first_{m.name}_month", "milestone", m.name, f"month index of {m.meaning}")
        for m in MILESTONES
        if m.name not in missing
    ]
    if summary_set is None:
        summary_set = "decade" if decade_by_default(scenario) else "annual"
    if summary_set == "decade":
        table += decade_summaries(scenario, record)
    return table


def decade_by_default(scenario: Scenario) -> bool:
    """Whether ``scenario`` spans at least :data:`DECADE_YEARS` whole calendar years (then the
    decade summaries and parameters are the default)."""
    months = pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()]).unique()
    return sum(1 for y in sorted(set(months.year)) if (months.year == y).sum() == 12) >= DECADE_YEARS


def decade_summaries(scenario: Scenario, record: pd.DataFrame) -> list[Summary]:
    """Statistics over the whole period that inform the stance, mediation, exercise, talks and
    deal parameters: months with talks by stance and by mediation, talks after launches and
    launches after talks, the first deal and the months to its collapse, the launch rate in
    exercise and other months, the rung mix and nuclear tests over the period, and the spells
    without talks. A split with no month on one side is left out."""
    months = _week_months(scenario).unique()
    levers = monthly_levers(scenario)
    table: list[Summary] = []
    splits = (
        ("pressure_first", levers["pressure_first"] > 0.5, "months with talks under a pressure-first stance"),
        ("engagement", levers["pressure_first"] <= 0.5, "months with talks under pressure and engagement"),
        ("mediated", levers["rok_mediation"] > MEDIATION_SPLIT, "months with talks while the ROK mediates"),
        ("unmediated", levers["rok_mediation"] <= MEDIATION_SPLIT, "months with talks without ROK mediation"),
    )
    for name, rows, meaning in splits:
        if rows.any():
            table.append(Summary(f"talks_months_{name}", "talks_in", tuple(np.flatnonzero(rows)), meaning))
    table += [
        Summary(
            "talks_after_launches",
            "talks_after_launches",
            FOLLOW_MONTHS,
            f"months with a launch followed by talks starting within {FOLLOW_MONTHS} months",
        ),
        Summary(
            "launches_after_talks",
            "launches_after_talks",
            FOLLOW_MONTHS,
            f"talks starting, followed by a launch within {FOLLOW_MONTHS} months",
        ),
        Summary("first_deal_month", "first_deal", None, "month index of the first deal"),
        Summary("deal_to_launch_months", "deal_to_launch", None, "months from the first deal to a launch after it"),
    ]
    exercise = _exercise_months(scenario, months)
    for name, rows, meaning in (
        ("exercise", exercise, "launch events a month in months with a US-ROK exercise"),
        ("other", ~exercise, "launch events a month in months without one"),
    ):
        if rows.any():
            table.append(Summary(f"launch_rate_{name}_months", "launch_rate", tuple(np.flatnonzero(rows)), meaning))
    table += [
        Summary(f"{RUNG_NAMES[r - 1]}_total", "rung_total", RUNG_NAMES[r - 1], f"launch events at rung {r} in all")
        for r in recorded_rungs(record)
    ]
    table += [
        Summary("nuclear_tests_total", "nuclear_total", None, "nuclear tests in all"),
        Summary("longest_without_talks_months", "longest_without_talks", None, "longest spell of months without talks"),
        Summary("talks_spells", "talks_spells", None, "spells of months with talks"),
    ]
    return table


def monthly_levers(scenario: Scenario) -> dict[str, np.ndarray]:
    """The stance (``pressure_first``: 1 or 0) and ``rok_mediation`` of each month of the
    scenario, as they stand in the month's first week."""
    arrays = scenario.lever_arrays(scenario.weeks)
    weeks = _week_months(scenario)
    first = np.flatnonzero(np.r_[True, weeks[1:] != weeks[:-1]])
    return {name: np.asarray(arrays[name], dtype=float)[first] for name in ("pressure_first", "rok_mediation")}


def unavailable_milestones(scenario: Scenario) -> list[str]:
    """The milestones the model cannot produce (left out of the summaries)."""
    weekly = _empty_weekly(scenario)
    return [m.name for m in MILESTONES if m.simulated(weekly) is None]


def _empty_weekly(scenario: Scenario) -> dict[str, np.ndarray]:
    """A one-run weekly series of zeros with the model's series names (to ask which milestones
    the model produces)."""
    trajectory = simulate_points(
        [scenario.params],
        np.zeros(1, dtype=np.intp),
        replicate_seeds(0, 1),
        1,
        [scenario.schedule()],
        trajectories=True,
    ).trajectory
    assert trajectory is not None  # asked for
    return trajectory


def _exercise_months(scenario: Scenario, months: pd.PeriodIndex) -> np.ndarray:
    held = scenario.schedule().arrays(scenario.weeks)["scheduled_exercise"] > 0
    return _monthly(held.astype(np.int8), _week_months(scenario), "max").astype(bool)


def _resolution_rows(scenario: Scenario, months: pd.PeriodIndex) -> list[int]:
    position = {m: i for i, m in enumerate(months)}
    rows = [position.get(pd.Period(s.date, freq="M")) for s in scenario.sanctions if s.level is not None]
    return [r for r in rows if r is not None]


def compute(summaries: list[Summary], panel: Panel) -> pd.DataFrame:
    """The summaries of every run of ``panel`` (one row per run)."""
    return pd.DataFrame({s.name: np.asarray(STATISTICS[s.kind](panel, s.arg), dtype=float) for s in summaries})
