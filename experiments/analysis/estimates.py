"""The one table of per-policy estimates: every estimate of a policy (or design point) is
computed here, once, under one name, and ``summary.csv``, the report, the notebooks and the
figures read this table.

One row per group of ``by`` (a policy: the levers; or a design point: the levers and sampled
uncertainties). Columns, in order:

* the ``by`` columns and ``n`` (runs);
* ``p_<event>`` with its Wilson interval ``p_<event>_low``, ``p_<event>_high`` for every event of
  :data:`EVENTS` (``p_talks``, ``p_inter_korean_talks``, ``p_summit``, ``p_deal``,
  ``p_summit_failed``, ``p_talks_collapsed``, ``p_any_test``, ``p_icbm_or_nuclear_test``,
  ``p_nuclear_test``);
  replicates are independent runs, so each group is a binomial sample (Wilson 1927);
* ``median_weeks_to_talks`` with its interval ``_low``, ``_high``: the Kaplan-Meier median time to
  talks, runs without talks censored at the horizon (:mod:`experiments.analysis.survival`; NaN
  when it exceeds the horizon), and ``median_weeks_given_talks`` (among runs with talks);
* ``mean_steps`` (the DPRK's highest step, 0-4), ``mean_relief`` (relief granted at the end,
  0-1) and ``mean_suspensions``;
* ``mean_tests`` with the quasi-Poisson interval of :func:`~experiments.stats.count_mean_interval`
  (``mean_tests_low``, ``mean_tests_high``: tests per run are skewed low counts, where a t interval
  undercovers); ``mean_icbm_tests``; ``mean_nuclear_tests``; the means of :data:`TRACK_MEANS`
  (strategic and sub-strategic tests, sub-strategic launches under a moratorium, weeks the DPRK
  refused a standing offer of talks);
* ``share_rung_0`` ... ``share_rung_5``: the share of runs whose highest rung tested is each of
  :data:`HIGHEST_RUNGS` (0: no test), and ``median_highest_rung`` (the lower median, a rung).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from model import rules as ladder

from ..errors import UserError
from ..io import atomic_write_text
from ..stats import count_mean_interval, t_interval, wilson_interval
from ..sweep.results import SweepResult
from ..sweep.store import ResultStore
from . import plots
from .survival import median_weeks, survival_curves

EVENTS: dict[str, str] = {
    "talks": "US–DPRK talks",
    "inter_korean_talks": "inter-Korean contact",
    "summit": "a summit",
    "deal": "a summit deal",
    "statement": "a summit statement",
    "summit_failed": "a failed summit",
    "talks_collapsed": "talks began, then ended",
    "any_test": "at least one test",
    "icbm_or_nuclear_test": "an ICBM or nuclear test",
    "nuclear_test": "a nuclear test",
}
"""Events a run may have within the horizon (column or derived column -> words)."""

TRACK_MEANS: dict[str, str] = {
    "strategic_tests": "mean_strategic_tests",
    "substrategic_tests": "mean_substrategic_tests",
    "tests_under_moratorium": "mean_tests_under_moratorium",
    "talks_refused": "mean_talks_refused",
}
"""Per-run counts of the two testing tracks, of sub-strategic launches under a strategic moratorium
and of weeks the DPRK refused a standing offer of talks -> the column of their mean."""

HIGHEST_RUNGS = tuple(range(ladder.RUNGS + 1))
"""Values of ``highest_rung``: 0 no test, then the rungs of the escalation ladder (1 short-range,
2 intermediate-range, 3 submarine-launched and space launch, 4 ICBM, 5 nuclear;
:data:`model.rules.RUNGS`)."""

ANALYSIS_COLUMNS = [
    "talks",
    "talks_week",
    "inter_korean_talks",
    "inter_korean_week",
    "summit",
    "summit_week",
    "deal",
    "deal_week",
    "summit_failed",
    "statement",
    "suspensions",
    "steps",
    "relief",
    "talks_collapsed",
    "tests",
    "tests_icbm",
    "nuclear_tests",
    "strategic_tests",
    "substrategic_tests",
    "tests_under_moratorium",
    "talks_refused",
    "highest_rung",
    "first_test_week",
]
"""Outcome columns the analysis reads (load only these for speed)."""

SUMMARY_FILE = "summary.csv"
HEATMAP = "p_talks_heatmap"
HEATMAP_FILES = (f"{HEATMAP}.pdf", f"{HEATMAP}.png")  # as plots.save writes them
GRID_LEVERS = ("sanctions_level", "exercise_policy", "engagement_stance")
"""The levers a P(talks) heatmap needs (sanctions level by exercise policy, one panel per stance)."""


def load(
    directory: str | Path, columns: Sequence[str] | None = ANALYSIS_COLUMNS, *, progress: bool = False
) -> SweepResult:
    """A results directory written by ``escalation sweep`` as a :class:`SweepResult`: ``.rows``
    (one row per run), ``.levers`` (lever -> values in the design), ``.horizon`` (weeks) and
    ``.provenance`` (config and its hash, seeds, package versions, git commit). ``columns``
    limits the outcome columns read (default: those the analysis needs; None: all); ``progress``
    shows the chunks read and verified on stderr."""
    return SweepResult.load(directory, columns=None if columns is None else list(columns), progress=progress)


def with_events(rows: pd.DataFrame, events: Sequence[str] = tuple(EVENTS)) -> pd.DataFrame:
    """``rows`` with the derived boolean event columns among ``events`` added: ``any_test``
    (tests > 0), ``icbm_or_nuclear_test`` (highest rung >= 4), ``nuclear_test`` (nuclear
    tests > 0)."""
    derived = {
        "any_test": lambda r: r["tests"] > 0,
        "icbm_or_nuclear_test": lambda r: r["highest_rung"] >= ladder.ICBM_RUNG,
        "nuclear_test": lambda r: r["nuclear_tests"] > 0,
    }
    new = {e: derived[e](rows) for e in events if e in derived and e not in rows.columns}
    return rows.assign(**new) if new else rows


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------


def summarise(rows: pd.DataFrame, by: Sequence[str], horizon: int, confidence: float = 0.95) -> pd.DataFrame:
    """The table of estimates (see the module docstring) per group of ``by``, groups in the
    order they first appear in ``rows``."""
    by = list(by)
    out = _proportions(rows, by, tuple(EVENTS), confidence)
    curves = survival_curves(rows, by, horizon, "talks", confidence)
    medians = median_weeks(curves, by).rename(columns=lambda c: c.replace("median_weeks", "median_weeks_to_talks"))
    out = out.merge(medians, on=by, how="left", sort=False)
    given = rows.groupby(by, sort=False, dropna=False)["talks_week"].median().rename("median_weeks_given_talks")
    out = out.merge(given.reset_index(), on=by, how="left", sort=False)
    out = out.merge(_bargaining(rows, by), on=[*by, "n"], how="left", sort=False)
    return out.merge(_testing(rows, by, confidence), on=[*by, "n"], how="left", sort=False)


def testing_cost(rows: pd.DataFrame, by: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """The testing columns of the table (no time to talks, so no horizon needed): ``by``, ``n``,
    ``p_any_test``, ``p_nuclear_test`` with their intervals, the mean tests and the rungs."""
    by = list(by)
    events = _proportions(rows, by, ("any_test", "nuclear_test"), confidence)
    return events.merge(_testing(rows, by, confidence), on=[*by, "n"], how="left", sort=False)


def event_probabilities(
    rows: pd.DataFrame, by: Sequence[str], events: Sequence[str] = tuple(EVENTS), confidence: float = 0.95
) -> pd.DataFrame:
    """The ``p_<event>`` columns of the table in long format, groups sorted: ``by``, ``event``,
    ``n``, ``successes``, ``p``, ``ci_low``, ``ci_high`` (Wilson)."""
    unknown = [e for e in events if e not in EVENTS and e not in rows.columns]
    if unknown:
        raise ValueError(f"unknown event(s) {unknown}; known: {', '.join(EVENTS)}")
    by = list(by)
    wide = _proportions(rows, by, events, confidence, successes=True)
    if by:
        wide = wide.sort_values(by, kind="stable", ignore_index=True)
    tables = [
        wide[[*by, "n"]].assign(
            event=e,
            successes=wide[f"_successes_{e}"],
            p=wide[f"p_{e}"],
            ci_low=wide[f"p_{e}_low"],
            ci_high=wide[f"p_{e}_high"],
        )
        for e in events
    ]
    return pd.concat(tables, ignore_index=True)[[*by, "event", "n", "successes", "p", "ci_low", "ci_high"]]


def _grouped(frame: pd.DataFrame, by: list[str]):
    if by:
        return frame.groupby(by, sort=False, dropna=False)
    return frame.assign(_all=0).groupby("_all", sort=False)


def _index_frame(index: pd.Index, by: list[str]) -> pd.DataFrame:
    return index.to_frame(index=False) if by else pd.DataFrame(index=range(len(index)))


def _proportions(
    rows: pd.DataFrame, by: list[str], events: Sequence[str], confidence: float, successes: bool = False
) -> pd.DataFrame:
    """``by``, ``n`` and, per event, ``p_<event>`` with its Wilson interval (and the counts as
    ``_successes_<event>`` when asked)."""
    data = with_events(rows, events)
    grouped = _grouped(data, by)
    n = grouped.size()
    out = _index_frame(n.index, by)
    out["n"] = n.to_numpy()
    for event in events:
        count = grouped[event].sum().to_numpy()
        low, high = wilson_interval(count, out["n"].to_numpy(), confidence)
        out[f"p_{event}"] = count / out["n"].to_numpy()
        out[f"p_{event}_low"], out[f"p_{event}_high"] = low, high
        if successes:
            out[f"_successes_{event}"] = count.astype(np.int64)
    return out


def _bargaining(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``by``, ``n``, the mean highest DPRK step, the mean relief granted at the end and the mean
    number of suspensions of talks."""
    grouped = _grouped(rows[[*by, "steps", "relief", "suspensions"]], by)
    n = grouped.size()
    out = _index_frame(n.index, by)
    out["n"] = n.to_numpy()
    for column in ("steps", "relief", "suspensions"):
        out[f"mean_{column}"] = grouped[column].mean().to_numpy()
    return out


def _testing(rows: pd.DataFrame, by: list[str], confidence: float) -> pd.DataFrame:
    """``by``, ``n``, the mean tests with a quasi-Poisson interval, the mean ICBM-class and nuclear tests,
    the share of each highest rung and its median."""
    rungs = pd.get_dummies(rows["highest_rung"]).reindex(columns=list(HIGHEST_RUNGS), fill_value=False)
    rungs.columns = [f"share_rung_{r}" for r in HIGHEST_RUNGS]
    counts = [c for c in (*TRACK_MEANS, "tests", "tests_icbm", "nuclear_tests", "highest_rung") if c in rows.columns]
    data = pd.concat([rows[[*by, *dict.fromkeys(counts)]], rungs], axis=1)
    grouped = _grouped(data, by)
    n = grouped.size()
    out = _index_frame(n.index, by)
    out["n"] = n.to_numpy()
    mean = grouped["tests"].mean().to_numpy()
    low, high = count_mean_interval(
        grouped["tests"].sum().to_numpy(), grouped["tests"].std(ddof=1).to_numpy(), out["n"].to_numpy(), confidence
    )
    out["mean_tests"], out["mean_tests_low"], out["mean_tests_high"] = mean, low, high
    out["mean_icbm_tests"] = grouped["tests_icbm"].mean().to_numpy()
    out["mean_nuclear_tests"] = grouped["nuclear_tests"].mean().to_numpy()
    for column, name in TRACK_MEANS.items():
        out[name] = grouped[column].mean().to_numpy() if column in data.columns else np.nan
    for column in rungs.columns:
        out[column] = grouped[column].mean().to_numpy()
    out["median_highest_rung"] = grouped["highest_rung"].quantile(0.5, interpolation="lower").to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# a sweep's table
# ---------------------------------------------------------------------------------------------


def summary(result: SweepResult, by: Sequence[str] | None = None) -> pd.DataFrame:
    """The table for a sweep, per design point (``by`` default: its factors, the levers and any
    sampled uncertainties; pass ``result.policy_columns`` to pool a policy's scenarios)."""
    return summarise(result.rows, list(by) if by is not None else result.factors or ["design_point"], result.horizon)


def format_table(table: pd.DataFrame, by: Sequence[str]) -> str:
    """The table as compact text: P(talks) [interval], median weeks, P(summit), P(deal), mean
    highest step, mean relief, P(test), mean tests, P(nuclear)."""

    def interval(row, column):
        return f"{row[column]:.2f} [{row[column + '_low']:.2f}, {row[column + '_high']:.2f}]"

    text = table[list(by)].copy()
    text["P(talks) [95% CI]"] = [interval(r, "p_talks") for _, r in table.iterrows()]
    text["median wk"] = table["median_weeks_to_talks"].map(lambda v: "-" if np.isnan(v) else f"{v:.0f}")
    text["P(summit)"] = table["p_summit"].map("{:.2f}".format)
    text["P(deal)"] = table["p_deal"].map("{:.2f}".format)
    text["steps"] = table["mean_steps"].map("{:.2f}".format)
    text["relief"] = table["mean_relief"].map("{:.2f}".format)
    text["P(test)"] = table["p_any_test"].map("{:.2f}".format)
    text["mean tests"] = table["mean_tests"].map("{:.2f}".format)
    text["P(nuclear)"] = table["p_nuclear_test"].map("{:.2f}".format)
    return text.to_string(index=False)


def has_heatmap(result: SweepResult) -> bool:
    """Whether the design has the levers of the P(talks) heatmap (:data:`GRID_LEVERS`)."""
    return set(GRID_LEVERS) <= set(result.levers)


def draw_heatmap(result: SweepResult, table: pd.DataFrame | None = None) -> list[Path]:
    """Draw and save the P(talks) heatmap (PNG and PDF) from the per-policy table (``table``:
    :func:`over_draw_table`, when already computed: for a sweep over draws, intervals over the
    draws); return the paths."""
    table = over_draw_table(result) if table is None else table
    return plots.save(plots.p_talks_heatmap(table, horizon=result.horizon), result.directory / HEATMAP)


def is_current(result: SweepResult, names: Sequence[str]) -> bool:
    """Whether every file ``names`` of the results directory exists and was written after the
    manifest and every chunk (so it was drawn from these results: nothing to redraw)."""
    paths = [result.directory / name for name in names]
    if not all(path.is_file() for path in paths):
        return False
    store = ResultStore(result.directory)
    sources = [store.manifest_path, *store.chunk_files()]
    newest = max(path.stat().st_mtime_ns for path in sources if path.is_file())
    return min(path.stat().st_mtime_ns for path in paths) >= newest


def summary_is_current(result: SweepResult) -> bool:
    """Whether ``summary.csv`` (and the heatmap, when the design has one) are up to date."""
    return is_current(result, [SUMMARY_FILE, *(HEATMAP_FILES if has_heatmap(result) else ())])


def write_summary(
    result: SweepResult, table: pd.DataFrame | None = None, policy_table: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``summary.csv`` (the sweep's :func:`summary`; ``table`` when already computed) and,
    when the design has the three policy levers, the P(talks) heatmap (PNG and PDF) into the
    results directory; return the paths written. ``policy_table``: :func:`over_draw_table`,
    when already computed (the sweep prints it), so the heatmap does not compute it again."""
    table = summary(result) if table is None else table
    path = result.directory / SUMMARY_FILE
    atomic_write_text(path, table.to_csv(index=False))
    written = [path]
    if has_heatmap(result):
        if policy_table is None:
            # the pooled table only when it is the per-policy table; over draws, intervals over them
            same = list(result.policy_columns) == list(result.factors) and not scenario_spreads(result, result.factors)
            policy_table = table if same else None
        written += draw_heatmap(result, policy_table)
    return written


# ---------------------------------------------------------------------------------------------
# across a posterior
# ---------------------------------------------------------------------------------------------


def posterior_spread(
    rows: pd.DataFrame, by: Sequence[str], outcome: str = "talks", level: float = 0.9, confidence: float = 0.95
) -> pd.DataFrame:
    """How an outcome varies across the draws of a ``[posterior]`` sweep, per policy.

    Each draw (``scenario``) gives its own estimate, the mean of ``outcome`` over its runs
    (P(event) for a boolean column). Per group of ``by``: ``draws``; ``runs_per_draw``;
    ``mean``, the posterior-averaged estimate, with a t interval over the draws (``ci_low``,
    ``ci_high``; the draws are independent, so this interval counts both the spread across the
    posterior and the runs' chance); and ``range_low``, ``range_high``, the central ``level``
    range of the per-draw estimates: how far the outcome moves across parameter values the
    record allows. Each per-draw estimate carries the Monte Carlo error of its own runs, so
    with few runs per draw the range is wider than the posterior's alone. For a boolean outcome
    the interval is clipped to [0, 1]; with few draws (under about 20) it is rough.
    """
    if "scenario" not in rows.columns:
        raise UserError("posterior_spread needs the rows of a sweep over scenarios ([posterior] or [uncertainties])")
    by = list(by)
    per_draw = rows.groupby([*by, "scenario"], sort=False)[outcome].agg(["mean", "size"]).reset_index()
    grouped = per_draw.groupby(by, sort=False)["mean"]
    out = grouped.agg(draws="size", mean="mean", sd="std").reset_index()
    out["runs_per_draw"] = per_draw.groupby(by, sort=False)["size"].mean().to_numpy()
    out["ci_low"], out["ci_high"] = t_interval(out["mean"], out["sd"], out["draws"], confidence)
    if pd.api.types.is_bool_dtype(rows[outcome]):
        out["ci_low"], out["ci_high"] = out["ci_low"].clip(0, 1), out["ci_high"].clip(0, 1)
    out["range_low"] = grouped.quantile((1 - level) / 2).to_numpy()
    out["range_high"] = grouped.quantile((1 + level) / 2).to_numpy()
    return out.drop(columns="sd")[
        [*by, "draws", "runs_per_draw", "mean", "ci_low", "ci_high", "range_low", "range_high"]
    ]


SPREAD_OUTCOMES = ("talks", "summit", "deal", "any_test", "nuclear_test", "tests")
"""Outcomes whose estimates a sweep over scenarios takes over the draws (those the rows have)."""
SPREAD_COLUMNS = {
    "talks": "p_talks",
    "summit": "p_summit",
    "deal": "p_deal",
    "any_test": "p_any_test",
    "nuclear_test": "p_nuclear_test",
    "tests": "mean_tests",
}
"""Each of :data:`SPREAD_OUTCOMES` -> its column in the table of estimates."""
POOLED_COLUMNS = ("median_weeks_to_talks",)
"""Intervals that stay pooled over the runs even in a sweep over draws (a Kaplan-Meier median
has no per-draw estimate with few runs per draw); tables label them as pooled."""


def scenario_unit(result: SweepResult) -> str | None:
    """``"draw"`` for a ``[posterior]`` sweep, ``"scenario"`` for one over ``[uncertainties]``,
    else None (a sweep at one parameter point)."""
    experiment = result.provenance["experiment"]
    if experiment.get("posterior"):
        return "draw"
    return "scenario" if experiment.get("uncertainties") else None


def scenario_spreads(result: SweepResult, by: Sequence[str]) -> dict[str, pd.DataFrame]:
    """For a sweep over scenarios (``[posterior]`` draws or ``[uncertainties]``) with several runs
    per scenario, :func:`posterior_spread` of each of :data:`SPREAD_OUTCOMES` the rows have; else
    empty (one run per draw cannot separate the spread across the draws from the runs' chance)."""
    if scenario_unit(result) is None or result.manifest["replicates"] < 2:
        return {}
    rows = with_events(result.rows, [e for e in SPREAD_OUTCOMES if e in EVENTS])
    return {outcome: posterior_spread(rows, by, outcome) for outcome in SPREAD_OUTCOMES if outcome in rows.columns}


def over_draws(estimates: pd.DataFrame, spreads: dict[str, pd.DataFrame], by: Sequence[str]) -> pd.DataFrame:
    """The table of estimates with every outcome of ``spreads`` taken over the draws.

    For each (P(talks), P(summit), P(deal), P(any test), P(nuclear test), mean tests): the mean
    of the per-draw estimates with a t interval over the draws (``<column>``, ``_low``, ``_high``),
    which counts the spread across the draws as well as the runs' chance (pooled Wilson intervals
    would treat every run as independent and be too narrow), and the central 90% range of the
    per-draw estimates (``<column>_range_low``, ``_range_high``): how far the outcome moves
    across the draws, not an uncertainty of the mean. ``interval_over`` names what the other
    intervals are taken over.
    """
    out = estimates.copy()
    for outcome, spread_table in spreads.items():
        column = SPREAD_COLUMNS[outcome]
        spread = estimates[list(by)].merge(spread_table, on=list(by), how="left")
        out[column] = spread["mean"].to_numpy()
        out[f"{column}_low"] = spread["ci_low"].to_numpy()
        out[f"{column}_high"] = spread["ci_high"].to_numpy()
        out[f"{column}_range_low"] = spread["range_low"].to_numpy()
        out[f"{column}_range_high"] = spread["range_high"].to_numpy()
    return out


def over_draw_table(result: SweepResult, by: Sequence[str] | None = None) -> pd.DataFrame:
    """The per-policy table a figure of a sweep should draw: for a sweep over draws (or
    scenarios) with several runs each, the intervals taken over them (:func:`over_draws`);
    otherwise the pooled table. The P(talks) heatmap takes this table."""
    return policy_estimates(result, by)[0]


def policy_estimates(result: SweepResult, by: Sequence[str] | None = None) -> tuple[pd.DataFrame, str | None]:
    """The per-policy table (``by`` default: ``result.policy_columns``) and the unit its headline
    intervals are taken over: for a sweep over posterior draws (``"draw"``) or sampled scenarios
    (``"scenario"``) with several runs each, P(talks) and mean tests are the means over them with
    t intervals over them (:func:`over_draws`); otherwise the pooled table and None."""
    by = list(result.policy_columns if by is None else by)
    table = summary(result, by)
    spreads = scenario_spreads(result, by)
    if not spreads:
        return table, None
    return over_draws(table, spreads, by), scenario_unit(result)
