"""The estimates a referee asks for, from the rows of a sweep (one row per run).

Every function takes tidy rows (``SweepResult.rows`` or any frame with the same columns) and
returns a tidy DataFrame; the statistics themselves live in :mod:`experiments.stats`.

* :func:`load` a results directory (rows, manifest, provenance) as a
  :class:`~experiments.results.SweepResult`;
* :func:`event_probabilities`: P(talks) and other events per policy with Wilson intervals;
* :func:`paired_contrasts`: a policy minus a baseline policy on the same replicates (common
  random numbers), Newcombe's paired interval and McNemar's test for events, a paired t
  interval for counts;
* :func:`survival_curves`: Kaplan-Meier curves of time to talks, censored at the horizon;
* :func:`testing_cost`: what each policy costs in North Korean testing;
* :func:`posterior_spread`: the posterior-averaged outcome over a ``[posterior]`` sweep's draws,
  and how far it moves across them;
* :func:`trajectories`: weekly series of chosen policies, re-run with the sweep's seeds.

A *policy* is a combination of lever values (a design point, or several when uncertainties
are sampled: then the scenarios of a policy are pooled and pairs are matched within scenario).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from model import rules as ladder
from model.params import closest_name

from .errors import UserError
from .stats import (
    event_time_with_censoring,
    kaplan_meier_by,
    mcnemar_exact_p,
    newcombe_paired_interval,
    proportion_table,
    t_interval,
    wilson_interval,
)

if TYPE_CHECKING:
    from .results import SweepResult

EVENTS: dict[str, str] = {
    "talks": "US–DPRK talks",
    "inter_korean_talks": "inter-Korean contact",
    "negotiations": "substantive negotiations",
    "talks_collapsed": "talks began, then collapsed",
    "any_test": "at least one test",
    "icbm_or_nuclear_test": "an ICBM-class or nuclear test",
    "nuclear_test": "a nuclear test",
}
"""Events a run may have within the horizon (column or derived column -> words)."""

EVENT_WEEKS: dict[str, str] = {
    "talks": "talks_week",
    "inter_korean_talks": "inter_korean_week",
    "negotiations": "negotiations_week",
    "any_test": "first_test_week",
}
"""Events with a recorded first week -> that column (NaN when the event did not happen)."""

HIGHEST_RUNGS = tuple(range(ladder.RUNGS + 1))
"""Values of ``highest_rung``: 0 no test, then the rungs of the escalation ladder (1 short-range,
2 intermediate-range, 3 ICBM-class, 4 nuclear; :data:`model.rules.RUNGS`)."""

ANALYSIS_COLUMNS = [
    "talks", "talks_week", "inter_korean_talks", "inter_korean_week", "negotiations", "negotiations_week",
    "talks_collapsed", "tests", "tests_icbm", "nuclear_tests", "highest_rung", "first_test_week",
]
"""Outcome columns the functions of this module read (load only these for speed)."""


def load(directory: str | Path, columns: Sequence[str] | None = None) -> "SweepResult":
    """A results directory written by ``escalation sweep`` as a :class:`SweepResult`: ``.rows``
    (one row per run), ``.levers`` (lever -> values in the design), ``.horizon`` (weeks) and
    ``.provenance`` (config and its hash, seeds, package versions, git commit). ``columns``
    limits the outcome columns read (the design columns always come along)."""
    from .results import SweepResult

    return SweepResult.load(directory, columns=None if columns is None else list(columns))


# ---------------------------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------------------------


def pair_keys(rows: pd.DataFrame) -> list[str]:
    """The columns that identify a replicate across policies: ``replicate`` (same seed at every
    design point), and ``scenario`` when uncertainties were sampled."""
    return ["scenario", "replicate"] if "scenario" in rows.columns else ["replicate"]


def default_baseline(levers: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The default reference policy: the first value of each lever as listed in the config,
    except ``sanctions_level``, which takes its highest value. For ``policy_grid`` that is
    maximum pressure: exercises as scheduled, pressure first, sanctions level 1."""
    return {name: (max(values) if name == "sanctions_level" else values[0]) for name, values in levers.items()}


def parse_policy(text: str, levers: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """``"lever=value,lever=value"`` -> ``{lever: value}`` with each value as it appears in the
    design (numbers match within 1e-9, so ``sanctions_level=1`` finds 1.0).

    Raises :class:`UserError` (one line) for malformed text, an unknown lever or a value that
    is not in the design, naming what is allowed.
    """
    policy: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise UserError(f"baseline {text!r}: expected lever=value pairs joined by commas, got {part!r}")
        if name not in levers:
            raise UserError(f"baseline names '{name}'{closest_name(name, levers)}, which is not a lever of this design; "
                            f"levers: {', '.join(levers)}")
        if name in policy:
            raise UserError(f"baseline names '{name}' twice")
        policy[name] = _design_value(name, value, levers[name])
    if not policy:
        raise UserError(f"baseline {text!r} names no lever; levers: {', '.join(levers)}")
    return policy


def _design_value(name: str, text: str, values: Sequence[Any]) -> Any:
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                if math.isclose(float(text), float(value), rel_tol=0, abs_tol=1e-9):
                    return value
            except ValueError:
                continue
        elif str(value).lower() == text.lower():
            return value
    allowed = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    raise UserError(f"baseline {name}={text} is not in the design; {name} takes {allowed}")


def matches(frame: pd.DataFrame, policy: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` whose columns equal every value of ``policy``."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in policy.items():
        mask &= (frame[name] == value).to_numpy()
    return mask


# ---------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------


def with_events(rows: pd.DataFrame, events: Sequence[str] = tuple(EVENTS)) -> pd.DataFrame:
    """``rows`` with the derived boolean event columns among ``events`` added: ``any_test``
    (tests > 0), ``icbm_or_nuclear_test`` (highest rung >= 3), ``nuclear_test`` (nuclear
    tests > 0)."""
    derived = {
        "any_test": lambda r: r["tests"] > 0,
        "icbm_or_nuclear_test": lambda r: r["highest_rung"] >= 3,
        "nuclear_test": lambda r: r["nuclear_tests"] > 0,
    }
    new = {e: derived[e](rows) for e in events if e in derived and e not in rows.columns}
    return rows.assign(**new) if new else rows


def event_probabilities(rows: pd.DataFrame, by: Sequence[str], events: Sequence[str] = tuple(EVENTS),
                        confidence: float = 0.95) -> pd.DataFrame:
    """P(event within the horizon) per group of ``by`` for each of ``events``, long format.

    Columns: ``by``, ``event``, ``n`` (runs), ``successes``, ``p`` and the Wilson score
    interval ``ci_low``, ``ci_high`` (:func:`experiments.stats.wilson_interval`; Wilson 1927,
    Newcombe 1998a method 3). Replicates are independent runs, so each group is a binomial
    sample of ``n`` trials.
    """
    unknown = [e for e in events if e not in EVENTS and e not in rows.columns]
    if unknown:
        raise ValueError(f"unknown event(s) {unknown}; known: {', '.join(EVENTS)}")
    data = with_events(rows, events)
    tables = [proportion_table(data, list(by), event, confidence).assign(event=event) for event in events]
    return pd.concat(tables, ignore_index=True)[[*by, "event", "n", "successes", "p", "ci_low", "ci_high"]]


# ---------------------------------------------------------------------------------------------
# paired contrasts
# ---------------------------------------------------------------------------------------------


def paired_contrasts(rows: pd.DataFrame, baseline: Mapping[str, Any], by: Sequence[str], outcome: str = "talks",
                     confidence: float = 0.95) -> pd.DataFrame:
    """Each policy (group of ``by``) minus the baseline policy, on the same replicates.

    Common random numbers: replicate ``r`` ran with the same seed under every policy, so
    policy row ``(replicate r[, scenario s])`` is paired with the baseline's row with the same
    replicate (and scenario). ``baseline`` names a value for some or all of the ``by`` levers;
    a lever it leaves out is matched, i.e. each policy is compared with the baseline values at
    its own value of that lever (``{"exercise_policy": "as_scheduled"}`` gives the effect of
    each exercise policy at every sanctions level and stance).

    * Boolean ``outcome`` (an event, see :data:`EVENTS`): with the paired cells ``e`` (both),
      ``f`` (policy only), ``g`` (baseline only), ``h`` (neither) over ``n`` pairs, the
      difference ``(f - g)/n`` of the two proportions, Newcombe's (1998b) method-10 interval
      (:func:`experiments.stats.newcombe_paired_interval`) and the exact conditional McNemar
      (1947) p-value (:func:`experiments.stats.mcnemar_exact_p`).
    * Numeric ``outcome`` (``tests``, say): the mean of the paired differences
      ``d_i = policy_i - baseline_i``, the paired t interval ``mean(d) -/+ t_{n-1} sd(d)/sqrt(n)``
      and the paired t-test p-value (Student 1908); differences that are all equal give a
      zero-width interval and p = 1 when they are 0.

    Returns one row per policy: ``by``, ``outcome``, ``n_pairs``, ``policy_estimate``,
    ``baseline_estimate``, ``difference``, ``ci_low``, ``ci_high``, ``p_value``, ``method``,
    and for events ``policy_only`` (``f``) and ``baseline_only`` (``g``). The baseline itself
    (the very same runs) appears with difference 0, interval [0, 0] and p = 1; Newcombe's
    interval alone would not collapse without discordant pairs, as it must not for two
    different policies that happen to agree on every replicate.

    Raises :class:`UserError` when the baseline names a lever not in ``by`` or a policy that is
    not in the design.
    """
    by = list(by)
    for name in baseline:
        if name not in by:
            raise UserError(f"baseline names '{name}'{closest_name(name, by)}, which is not a lever of this design; "
                            f"levers: {', '.join(by)}")
    for name, value in baseline.items():
        if not (rows[name] == value).any():
            allowed = ", ".join(map(str, pd.unique(rows[name])))
            raise UserError(f"baseline {name}={value} is not in the design; {name} takes {allowed}")
    data = with_events(rows, [outcome])
    if outcome not in data.columns:
        raise ValueError(f"unknown outcome {outcome!r}")
    matched = [c for c in by if c not in baseline]
    keys = pair_keys(data)
    reference = data.loc[matches(data, baseline), [*matched, *keys, outcome]]
    if reference.empty:
        policy = ", ".join(f"{k}={v}" for k, v in baseline.items())
        raise UserError(f"the baseline policy {policy} is not in the design")
    if reference.duplicated([*matched, *keys]).any():
        raise ValueError(f"the baseline has more than one row per {'/'.join(keys)}: is 'by' missing a lever?")
    pairs = data[[*by, *keys, outcome]].merge(reference.rename(columns={outcome: "_baseline"}), on=[*matched, *keys],
                                              how="inner")
    if pairs.empty:
        raise UserError("no policy shares a replicate with the baseline: is the results directory complete?")
    if data[outcome].dtype == bool:
        table = _paired_events(pairs, by, outcome, confidence)
    else:
        table = _paired_means(pairs, by, outcome, confidence)
    itself = matches(table, baseline)  # the very same runs: the difference is 0 without uncertainty
    table.loc[itself, ["difference", "ci_low", "ci_high"]] = 0.0
    table.loc[itself, ["p_value"]] = 1.0
    return table.assign(outcome=outcome)[[*by, "outcome", *[c for c in table.columns if c not in by]]]


def _paired_events(pairs: pd.DataFrame, by: list[str], outcome: str, confidence: float) -> pd.DataFrame:
    a = pairs[outcome].to_numpy(dtype=bool)
    b = pairs["_baseline"].to_numpy(dtype=bool)
    cells = pairs[by].assign(e=a & b, f=a & ~b, g=~a & b, h=~a & ~b)
    counts = cells.groupby(by, sort=False, dropna=False)[["e", "f", "g", "h"]].sum().astype(np.int64)
    e, f, g, h = (counts[c].to_numpy() for c in "efgh")
    n = e + f + g + h
    low, high = newcombe_paired_interval(e, f, g, h, confidence)
    out = counts.index.to_frame(index=False)
    out["n_pairs"] = n
    out["policy_estimate"] = (e + f) / n
    out["baseline_estimate"] = (e + g) / n
    out["difference"] = (f - g) / n
    out["ci_low"], out["ci_high"] = low, high
    out["p_value"] = mcnemar_exact_p(f, g)
    out["method"] = "Newcombe paired interval, exact McNemar test"
    out["policy_only"], out["baseline_only"] = f, g
    return out


def _paired_means(pairs: pd.DataFrame, by: list[str], outcome: str, confidence: float) -> pd.DataFrame:
    work = pairs[by].assign(policy=pairs[outcome].astype(float), baseline=pairs["_baseline"].astype(float))
    work["d"] = work["policy"] - work["baseline"]
    grouped = work.groupby(by, sort=False, dropna=False)
    stats = grouped.agg(n_pairs=("d", "size"), policy_estimate=("policy", "mean"),
                        baseline_estimate=("baseline", "mean"), difference=("d", "mean"), sd=("d", "std"))
    n = stats["n_pairs"].to_numpy()
    mean, sd = stats["difference"].to_numpy(), np.nan_to_num(stats["sd"].to_numpy())
    se = sd / np.sqrt(n)
    dof = np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * sps.t.sf(np.abs(mean) / np.where(se > 0, se, 1.0), dof), np.where(mean == 0, 1.0, 0.0))
    out = stats.drop(columns="sd").reset_index()
    out["ci_low"], out["ci_high"] = t_interval(mean, sd, n, confidence)
    out["p_value"] = p
    out["method"] = "paired t interval and test"
    return out


# ---------------------------------------------------------------------------------------------
# time to talks
# ---------------------------------------------------------------------------------------------


def survival_curves(rows: pd.DataFrame, by: Sequence[str], horizon: int, event: str = "talks",
                    confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier curves of the time to ``event`` per group of ``by``: runs without the event
    are right-censored at the horizon (:func:`experiments.stats.event_time_with_censoring`).

    ``survival`` is P(no event by week ``time``), with the Greenwood variance and the log(-log)
    95% interval ``ci_low``, ``ci_high`` (Kaplan & Meier 1958; Kalbfleisch & Prentice 2002; as
    R's ``survfit(conf.type = "log-log")``); see :func:`experiments.stats.kaplan_meier`.
    Each curve starts with a row at time 0 and has one row per week with an event.
    """
    if event not in EVENT_WEEKS:
        raise ValueError(f"no event week is recorded for {event!r}; choose one of {', '.join(EVENT_WEEKS)}")
    durations, observed = event_time_with_censoring(rows[EVENT_WEEKS[event]], horizon)
    data = rows[list(by)].assign(_duration=durations, _observed=observed)
    curves = kaplan_meier_by(data, list(by), "_duration", "_observed", confidence)
    return curves.assign(event=event)


def median_weeks(curves: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The median time to the event of each curve of :func:`survival_curves` with its interval.

    ``median_weeks`` is the first week with survival <= 1/2; its interval runs from the first
    week at which the lower limit of the survival interval reaches 1/2 (``median_weeks_low``)
    to the first week at which its upper limit does (``median_weeks_high``), i.e. the weeks
    whose survival interval contains 1/2 (Brookmeyer & Crowley 1982; R's ``survfit`` does the
    same). NaN where the curve (or a limit) stays above 1/2 within the horizon: the median (or
    that limit) then exceeds the horizon."""
    by = list(by)

    def first_week(column: str) -> pd.Series:
        below = curves[curves[column] <= 0.5]
        return below.groupby(by, sort=False, dropna=False)["time"].min()

    groups = curves.groupby(by, sort=False, dropna=False).size().index
    out = pd.DataFrame(index=groups)
    out["median_weeks"] = first_week("survival")
    out["median_weeks_low"] = first_week("ci_low")
    out["median_weeks_high"] = first_week("ci_high")
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# testing cost
# ---------------------------------------------------------------------------------------------


def posterior_spread(rows: pd.DataFrame, by: Sequence[str], outcome: str = "talks", level: float = 0.9,
                     confidence: float = 0.95) -> pd.DataFrame:
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
    return out.drop(columns="sd")[[*by, "draws", "runs_per_draw", "mean", "ci_low", "ci_high", "range_low", "range_high"]]


def testing_cost(rows: pd.DataFrame, by: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """What each policy (group of ``by``) costs in North Korean testing within the horizon.

    Columns: ``by``; ``n``; ``mean_tests`` with a t interval ``mean -/+ t_{n-1} sd/sqrt(n)``
    (``mean_tests_low``, ``mean_tests_high``); ``mean_icbm_tests`` and ``mean_nuclear_tests``;
    ``p_any_test`` and ``p_nuclear_test`` with Wilson intervals (``_low``, ``_high``);
    ``share_rung_0`` ... ``share_rung_4``, the share of runs whose highest rung tested is each
    of :data:`HIGHEST_RUNGS` (0: no test); ``median_highest_rung`` (the lower median, so always
    a rung).
    """
    by = list(by)
    data = with_events(rows, ["any_test", "nuclear_test"])
    rungs = pd.get_dummies(data["highest_rung"]).reindex(columns=list(HIGHEST_RUNGS), fill_value=False)
    rungs.columns = [f"share_rung_{r}" for r in HIGHEST_RUNGS]
    data = pd.concat([data[[*by, "tests", "tests_icbm", "nuclear_tests", "highest_rung", "any_test", "nuclear_test"]],
                      rungs], axis=1)
    grouped = data.groupby(by, sort=False, dropna=False)
    out = grouped.size().rename("n").to_frame()
    n = out["n"].to_numpy()
    mean = grouped["tests"].mean()
    low, high = t_interval(mean, grouped["tests"].std(ddof=1).fillna(0.0), n, confidence)
    out["mean_tests"], out["mean_tests_low"], out["mean_tests_high"] = mean, low, high
    out["mean_icbm_tests"] = grouped["tests_icbm"].mean()
    out["mean_nuclear_tests"] = grouped["nuclear_tests"].mean()
    for column, event in (("p_any_test", "any_test"), ("p_nuclear_test", "nuclear_test")):
        successes = grouped[event].sum().to_numpy()
        out[column] = successes / n
        out[f"{column}_low"], out[f"{column}_high"] = wilson_interval(successes, n, confidence)
    out[rungs.columns] = grouped[list(rungs.columns)].mean()
    out["median_highest_rung"] = grouped["highest_rung"].quantile(0.5, interpolation="lower")
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# trajectories
# ---------------------------------------------------------------------------------------------


class ModelChangedWarning(UserWarning):
    """Runs re-run from a results directory's seeds differ from its stored rows: the model has
    changed since the sweep."""


def trajectories(result: "SweepResult", policies: Sequence[Mapping[str, Any]], replicates: int | None = None) -> pd.DataFrame:
    """Weekly series of the chosen policies, re-run with trajectories on the batched engine.

    Each policy (lever -> value; every design point that matches is included, so a policy
    pools its scenarios) is run for the first ``replicates`` replicate seeds of the sweep
    (default: all of them, at most 200). The seeds are the sweep's, so these runs are the
    sweep's runs, week by week, as long as the model has not changed since the sweep: the re-run
    runs' outcomes are checked against the stored rows, and a :class:`ModelChangedWarning` says
    when they differ. Long format: the policy's lever columns, ``design_point``,
    ``replicate``, ``week`` (1 = the first simulated week), every series of
    :data:`model.week.SERIES` and ``cumulative_tests`` (no series is named like a lever:
    ``sanctions`` is the level in force that week, ``sanctions_level`` the policy's starting level).
    """
    from model.batched import simulate_points

    from .design import Design

    design = Design(result.experiment)
    if replicates is None:
        replicates = min(design.replicates, 200)
    if not 1 <= replicates <= design.replicates:
        raise ValueError(f"replicates must be from 1 to the sweep's {design.replicates}, got {replicates}")
    chosen = []
    for policy in policies:
        unknown = [name for name in policy if name not in design.points.columns]
        if unknown:
            raise UserError(f"policy names {unknown}, not levers of this design; levers: {', '.join(result.levers)}")
        points = np.flatnonzero(matches(design.points, policy))
        if points.size == 0:
            raise UserError(f"policy {', '.join(f'{k}={v}' for k, v in policy.items())} is not in the design")
        chosen.extend(points.tolist())
    chosen = list(dict.fromkeys(chosen))
    point_index = np.repeat(np.arange(len(chosen)), replicates)
    seeds = np.concatenate([design.point_seeds(d)[:replicates] for d in chosen])
    batch = simulate_points([design.params[d] for d in chosen], point_index, seeds, design.weeks, trajectories=True)
    _check_reproduced(result, np.asarray(chosen)[point_index], np.tile(np.arange(replicates), len(chosen)),
                      batch.outcomes_frame())
    frame = batch.trajectory_frame()
    run = frame.pop("run").to_numpy()
    runs = design.points.iloc[np.asarray(chosen)[run // replicates]].reset_index()
    runs["replicate"] = run % replicates
    frame = pd.concat([runs.reset_index(drop=True), frame], axis=1)
    frame["cumulative_tests"] = frame.groupby(["design_point", "replicate"], sort=False)["tests"].cumsum()
    return frame



def _check_reproduced(result: "SweepResult", design_points: np.ndarray, replicates: np.ndarray,
                      outcomes: pd.DataFrame) -> None:
    """Warn (:class:`ModelChangedWarning`) when re-run outcomes differ from the stored rows of
    the same design points and replicates (compared on ``talks`` and ``tests`` when loaded)."""
    compared = [c for c in ("talks", "tests") if c in result.rows.columns]
    if not compared:
        return
    stored = result.rows.set_index(["design_point", "replicate"])[compared]
    stored = stored.reindex(pd.MultiIndex.from_arrays([design_points, replicates]))
    differ = (stored.to_numpy() != outcomes[compared].to_numpy()).any(axis=1)
    if differ.any():
        commit = result.provenance.get("git", {}).get("commit", "unknown")
        warnings.warn(f"{int(differ.sum())} of {len(differ)} re-run runs differ from the stored results: the model "
                      f"has changed since the sweep (made at commit {commit[:12]}), so these trajectories show the "
                      "current model, not the sweep's runs", ModelChangedWarning, stacklevel=3)
