"""Global sensitivity analysis that separates the parameters from the simulation's own noise.

``escalation sensitivity CONFIG`` screens every uncertainty with the method of Morris, then
estimates Sobol' first-order and total indices (with bootstrap intervals) for the parameters that
matter, both with SALib's :class:`~SALib.util.problem.ProblemSpec` on the batched engine.

Where the ranges come from
    The config's ``[uncertainties]`` table (its ``{low, high}`` ranges); else the support of the
    calibration posterior named by ``[posterior]`` (the smallest box holding every particle, each
    parameter sampled uniformly over it: the box, not the posterior density); else every
    real-valued row of kind ``uncertainty`` in :data:`model.params.TABLE`, over its allowed range,
    minus those the config fixes in ``[params]``. Levers are fixed (``[params]``, or one value each
    under ``[levers]``); everything else keeps its default.

Common random numbers
    Every sample point runs the same ``R`` replicate seeds (:func:`experiments.design.replicate_seeds`
    of the experiment seed). A point's estimate (P(talks), mean tests, ...) is then a deterministic
    function of the parameters, so the Sobol' estimators see no independent noise: what the finite
    replicates leave is roughness of that function, which shrinks as ``R`` grows.

Parameters versus seeds
    For each outcome the variance of one run's value over the sample (parameters drawn, seed
    drawn) splits by the law of total variance into the mean within-point variance over the
    replicates (the seeds' part: ``noise_share``) and the rest (the parameters' part). The
    share of the variance of the per-point *estimates* that the finite replicates still carry
    (within-point variance / R over the variance of the estimates) is ``estimate_noise_share``:
    near 0 means the indices describe the parameters, not the dice.

Cross-parameter constraints
    Sobol' indices need independent inputs, and two pairs of table ranges overlap a constraint
    (``hawkes_alpha < hawkes_beta``; ``step_cost_low <= step_cost_high``). A point that breaks
    one runs at a repaired value: ``hawkes_alpha`` capped at :data:`HAWKES_CAP` times ``hawkes_beta``,
    ``step_cost_low`` capped at ``step_cost_high``. The indices are those of the model composed
    with this repair (a function of independent inputs); the share of repaired points is reported.

Convergence
    The indices are computed again from the first half of the sample (a Sobol' sequence's first
    N/2 points, the first half of the Morris trajectories); an outcome is ``converged`` when no
    index moves by more than the tolerance (Sobol': :data:`SOBOL_TOLERANCE` on S1 and ST;
    Morris: :data:`MORRIS_TOLERANCE` of the largest mu*).

Outcomes
    Taken from :data:`model.outcomes.OUTCOME_COLUMNS`: a yes/no outcome becomes its probability
    per point; an event week (``*_week``, NaN when the event did not happen) becomes the restricted
    mean weeks to the event within the horizon (no event counts as the horizon); counts are means.
    An outcome whose estimates do not vary over the sample (saturated) is reported, not analysed.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays
from model.outcomes import OUTCOME_COLUMNS
from model.params import TABLE, ParameterError, Params, closest_name

from ..errors import UserError
from ..history.posterior import read_posterior
from ..io import atomic_write_bytes, atomic_write_text, read_toml
from ..provenance import provenance
from ..seeds import replicate_seeds
from ..sweep.config import Experiment, parse_experiment, unknown_key
from ..sweep.runner import make_executor

METHODS = ("both", "morris", "sobol")
HAWKES_CAP = 0.95
"""A sampled ``hawkes_alpha`` above this share of ``hawkes_beta`` runs at the cap."""
SOBOL_TOLERANCE = 0.05
MORRIS_TOLERANCE = 0.10
PREFERRED_OUTCOMES = ("talks", "summit", "deal", "talks_week", "tests", "highest_rung")
"""Default outcomes, those of them the model has (version 2 adds summit and deal)."""
SALIB_STREAM = 0x5A1
"""Mixed into the experiment seed for SALib's samplers and bootstraps (never a replicate seed)."""

_SECTION_KEYS = {
    "method": str,
    "trajectories": int,
    "levels": int,
    "samples": int,
    "top": int,
    "outcomes": list,
    "bootstrap": int,
    "tolerance": float,
    "morris_tolerance": float,
    "parameters": list,
    "block_runs": int,
}


@dataclass(frozen=True)
class Settings:
    """The ``[sensitivity]`` table of a config (every key optional)."""

    method: str = "both"  # both: Morris screen then Sobol' on the top parameters
    trajectories: int = 20  # Morris trajectories (each D + 1 points)
    levels: int = 4  # Morris grid levels
    samples: int = 1024  # Sobol' base sample N (N * (D + 2) points); a power of 2
    top: int = 10  # parameters kept for Sobol' after the screen
    outcomes: tuple[str, ...] = ()
    bootstrap: int = 200  # bootstrap resamples for the intervals
    tolerance: float = SOBOL_TOLERANCE
    morris_tolerance: float = MORRIS_TOLERANCE
    parameters: tuple[str, ...] = ()  # restrict the analysis to these (default: all in range)
    block_runs: int = 20_000  # runs per task


@dataclass
class SensitivityPlan:
    """What to run: the experiment (weeks, replicates, seed, fixed parameters), the parameters
    and their ranges, the outcomes and the settings."""

    experiment: Experiment
    base: Params
    ranges: dict[str, tuple[float, float]]
    range_source: str
    outcomes: list[str]
    settings: Settings


def load_plan(
    path: str | Path, *, method: str | None = None, samples: int | None = None, replicates: int | None = None
) -> SensitivityPlan:
    """Read a sensitivity config: an experiment config (``[experiment]``, ``[params]``, one value
    per lever in ``[levers]``, and ``[uncertainties]`` or ``[posterior]``) plus an optional
    ``[sensitivity]`` table (see :class:`Settings`). ``samples`` sets the Morris trajectories
    with ``method="morris"`` and the Sobol' base sample otherwise. Problems are one-line
    :class:`UserError` s."""
    data = read_toml(path, "config")
    section = data.pop("sensitivity", {})
    if not isinstance(section, dict):
        raise UserError(f"{path}: [sensitivity] must be a table")
    data.setdefault("experiment", {}).setdefault("name", "sensitivity")
    experiment = parse_experiment(data, source=str(path)).with_options(replicates=replicates)
    settings = _settings(section, str(path))
    if method is not None:
        settings = _replace(settings, method=method)
    if samples is not None:
        settings = _replace(
            settings, **({"trajectories": samples} if settings.method == "morris" else {"samples": samples})
        )
    _check_settings(settings, str(path))
    levers = {}
    for name, values in experiment.levers.items():
        if len(values) != 1:
            raise UserError(
                f"{path}: [levers] {name} has {len(values)} values; a sensitivity analysis runs at one "
                "policy: give one value per lever (or fix the levers under [params])"
            )
        levers[name] = values[0]
    try:
        base = Params({**experiment.params, **levers})
    except ParameterError as error:
        raise UserError(f"{path}: {error}") from None
    ranges, source = _ranges(experiment, settings, str(path))
    outcomes = _outcomes(settings, str(path))
    return SensitivityPlan(experiment, base, ranges, source, outcomes, settings)


def _replace(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.__dict__, **changes})


def _settings(section: dict[str, Any], source: str) -> Settings:
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in _SECTION_KEYS:
            raise unknown_key(source, key, "sensitivity", _SECTION_KEYS)
        wanted = _SECTION_KEYS[key]
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise UserError(
                f"{source}: [sensitivity] {key} must be {'a list' if wanted is list else 'a ' + wanted.__name__}, "
                f"got {value!r}"
            )
        values[key] = tuple(value) if wanted is list else value
    return Settings(**values)


def _check_settings(s: Settings, source: str) -> None:
    if s.method not in METHODS:
        raise UserError(
            f"{source}: [sensitivity] method '{s.method}' is not allowed{closest_name(s.method, METHODS)}: "
            f"allowed {', '.join(METHODS)}"
        )
    for key, low in (
        ("trajectories", 2),
        ("levels", 2),
        ("samples", 2),
        ("top", 2),
        ("bootstrap", 10),
        ("block_runs", 1),
    ):
        if getattr(s, key) < low:
            raise UserError(f"{source}: [sensitivity] {key} = {getattr(s, key)} must be at least {low}")
    if s.samples & (s.samples - 1):
        raise UserError(
            f"{source}: [sensitivity] samples = {s.samples} must be a power of 2 (Sobol' sequences are "
            "balanced only there), e.g. 256, 512 or 1024"
        )
    if s.trajectories % 2:
        raise UserError(
            f"{source}: [sensitivity] trajectories = {s.trajectories} must be even (the convergence check "
            "uses the first half)"
        )
    for key in ("tolerance", "morris_tolerance"):
        if not 0 < getattr(s, key) < 1:
            raise UserError(f"{source}: [sensitivity] {key} must be between 0 and 1, got {getattr(s, key)}")


def table_ranges() -> dict[str, tuple[float, float]]:
    """Every real-valued uncertainty of the parameter table with its allowed range."""
    return {
        p.name: (float(p.low), float(p.high))
        for p in TABLE.values()
        if p.kind == "uncertainty" and p.dtype is float and p.low is not None and p.low < p.high
    }


def posterior_support(posterior: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """The smallest box holding every particle of a posterior sample with positive weight
    (parameters whose particles all agree are left out)."""
    kept = posterior[posterior["weight"] > 0]
    names = [c for c in kept.columns if c != "weight"]
    return {n: (float(kept[n].min()), float(kept[n].max())) for n in names if kept[n].min() < kept[n].max()}


def _ranges(experiment: Experiment, settings: Settings, source: str) -> tuple[dict[str, tuple[float, float]], str]:
    if experiment.uncertainties:
        ranges, where = dict(experiment.uncertainties), "the config's [uncertainties]"
    elif experiment.posterior:
        ranges = posterior_support(read_posterior(experiment.posterior_path()))
        where = f"the support of the posterior sample {Path(experiment.posterior_path()).name}"
        fixed = [n for n in ranges if n in experiment.params]
        for name in fixed:
            ranges.pop(name)
    else:
        ranges = {n: r for n, r in table_ranges().items() if n not in experiment.params}
        where = "the parameter table's ranges (kind uncertainty)"
    if settings.parameters:
        unknown = [n for n in settings.parameters if n not in ranges]
        if unknown:
            raise UserError(
                f"{source}: [sensitivity] parameters: '{unknown[0]}' is not among the sampled uncertainties"
                f"{closest_name(unknown[0], ranges)} (from {where})"
            )
        ranges = {n: ranges[n] for n in settings.parameters}
    if len(ranges) < 2:
        raise UserError(
            f"{source}: a sensitivity analysis needs at least two parameters to vary; {where} gives {len(ranges)}"
        )
    return ranges, where


def _outcomes(settings: Settings, source: str) -> list[str]:
    if not settings.outcomes:
        return [c for c in PREFERRED_OUTCOMES if c in OUTCOME_COLUMNS]
    for name in settings.outcomes:
        if name not in OUTCOME_COLUMNS:
            raise UserError(
                f"{source}: [sensitivity] outcomes: unknown outcome '{name}'{closest_name(name, OUTCOME_COLUMNS)}; "
                f"allowed: {', '.join(OUTCOME_COLUMNS)}"
            )
    return list(settings.outcomes)


# ---------------------------------------------------------------------------------------------
# running the points
# ---------------------------------------------------------------------------------------------


def outcome_label(name: str) -> str:
    """How an outcome is summarised per point, in words."""
    kind = OUTCOME_COLUMNS[name]
    if kind == "bool":
        return f"P({name})"
    if name.endswith("_week"):
        return f"mean weeks to {name[:-5]} (none = horizon)"
    return f"mean {name}"


def outcome_values(outcomes: dict[str, np.ndarray], name: str, weeks: int) -> np.ndarray:
    """One outcome of a block of runs as floats: yes/no as 0/1, an event week censored at the
    horizon (restricted mean), counts as they are."""
    values = np.asarray(outcomes[name], dtype=float)
    if name.endswith("_week"):
        values = np.where(np.isnan(values), float(weeks), values)
    return values


def repair(varying: dict[str, np.ndarray], base: Params) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Apply the constraint repairs (module docstring) to per-run values; returns the repaired
    values and a mask of the runs that needed one."""
    out = dict(varying)
    n = len(next(iter(varying.values())))
    repaired = np.zeros(n, dtype=bool)
    if "hawkes_alpha" in out or "hawkes_beta" in out:
        alpha = np.broadcast_to(np.asarray(out.get("hawkes_alpha", base["hawkes_alpha"]), dtype=float), (n,))
        beta = np.broadcast_to(np.asarray(out.get("hawkes_beta", base["hawkes_beta"]), dtype=float), (n,))
        bad = alpha >= HAWKES_CAP * beta
        if bad.any():
            if "hawkes_alpha" not in out:
                raise UserError(
                    "hawkes_beta's range goes below the fixed hawkes_alpha / 0.95; narrow it or sample hawkes_alpha too"
                )
            out["hawkes_alpha"] = np.where(bad, HAWKES_CAP * beta, alpha)
            repaired |= bad
    if "step_cost_low" in out or "step_cost_high" in out:
        low = np.broadcast_to(np.asarray(out.get("step_cost_low", base["step_cost_low"]), dtype=float), (n,))
        high = np.broadcast_to(np.asarray(out.get("step_cost_high", base["step_cost_high"]), dtype=float), (n,))
        bad = low > high
        if bad.any():
            if "step_cost_low" not in out:
                raise UserError(
                    "step_cost_high's range goes below the fixed step_cost_low; narrow it or sample step_cost_low too"
                )
            out["step_cost_low"] = np.where(bad, high, low)
            repaired |= bad
    return out, repaired


def feasible_ranges(ranges: dict[str, tuple[float, float]], base: Params) -> dict[str, tuple[float, float]]:
    """Narrow a range whose constraint partner is fixed (not sampled) to the values that satisfy
    the constraint with the partner's fixed value, so no point needs a repair: ``hawkes_alpha`` to
    at most :data:`HAWKES_CAP` times the fixed ``hawkes_beta``, ``step_cost_low`` to at most the
    fixed ``step_cost_high`` (and the reverse). Pairs that are both sampled are left to :func:`repair`."""
    out = dict(ranges)

    def cap(name: str, partner: str, limit: float) -> None:
        if name in out and partner not in out:
            low, high = out[name]
            if high > limit:
                if low >= limit:
                    raise UserError(
                        f"{name}'s range {low:g} to {high:g} breaks its constraint with the fixed "
                        f"{partner} = {base[partner]:g}; narrow it or sample {partner} too"
                    )
                out[name] = (low, limit)

    cap("hawkes_alpha", "hawkes_beta", HAWKES_CAP * base["hawkes_beta"])
    cap("step_cost_low", "step_cost_high", base["step_cost_high"])
    if "step_cost_high" in out and "step_cost_low" not in out:
        low, high = out["step_cost_high"]
        if low < base["step_cost_low"]:
            if high < base["step_cost_low"]:
                raise UserError(
                    f"step_cost_high's range {low:g} to {high:g} breaks its constraint with the fixed "
                    f"step_cost_low = {base['step_cost_low']:g}; narrow it or sample step_cost_low too"
                )
            out["step_cost_high"] = (base["step_cost_low"], high)
    if "hawkes_beta" in out and "hawkes_alpha" not in out:
        low, high = out["hawkes_beta"]
        floor = base["hawkes_alpha"] / HAWKES_CAP
        if low < floor:
            if high <= floor:
                raise UserError(
                    f"hawkes_beta's range {low:g} to {high:g} breaks its constraint with the fixed "
                    f"hawkes_alpha = {base['hawkes_alpha']:g}; narrow it or sample hawkes_alpha too"
                )
            out["hawkes_beta"] = (floor, high)
    return out


def run_block(
    base: Params, names: Sequence[str], X: np.ndarray, seeds: np.ndarray, weeks: int, outcomes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run every point (row of ``X``) with every seed; returns, for each outcome, an array of
    shape (points, replicates). A pure function of its arguments: blocks can run anywhere."""
    R = len(seeds)
    varying = {name: np.repeat(X[:, j], R) for j, name in enumerate(names)}
    varying, _ = repair(varying, base)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = simulate_arrays(base, varying, np.tile(seeds, len(X)), weeks)
    return {name: outcome_values(result.outcomes, name, weeks).reshape(len(X), R) for name in outcomes}


def _run_task(args: tuple) -> tuple[int, dict[str, np.ndarray]]:
    start, *rest = args
    return start, run_block(*rest)


def evaluate(
    base: Params,
    names: Sequence[str],
    X: np.ndarray,
    seeds: np.ndarray,
    weeks: int,
    outcomes: Sequence[str],
    *,
    workers: int | None = None,
    dask: str | None = None,
    block_runs: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`run_block` over all rows of ``X``, split into blocks of about ``block_runs`` runs
    on ``workers`` local processes or a Dask cluster (scheduler address ``dask``); the numbers
    depend on neither. ``progress(points_done)`` is called as blocks finish."""
    per_block = max(1, block_runs // len(seeds))
    out = {name: np.empty((len(X), len(seeds))) for name in outcomes}
    tasks = [
        (a, base, list(names), X[a : a + per_block], seeds, weeks, list(outcomes)) for a in range(0, len(X), per_block)
    ]
    with make_executor(workers, dask) as (executor, _):
        for start, block in executor.map(_run_task, tasks):
            for name in outcomes:
                out[name][start : start + len(block[name])] = block[name]
            if progress is not None:
                progress(len(block[outcomes[0]]))
    return out


def variance_split(per_run: np.ndarray) -> dict[str, float]:
    """Split the variance of one run's outcome over points and seeds (array points x replicates):
    ``noise_share`` = mean within-point variance / total variance; ``estimate_noise_share`` = the
    share of the variance of the per-point means that the finite replicates carry (within / R over
    the variance of the means, at most 1). NaN with one replicate or no variance."""
    points, R = per_run.shape
    total = float(np.var(per_run, ddof=1)) if per_run.size > 1 else math.nan
    means = per_run.mean(axis=1)
    between = float(np.var(means, ddof=1)) if points > 1 else math.nan
    if R < 2 or not total > 0:
        return {"noise_share": math.nan, "estimate_noise_share": math.nan, "variance": total}
    within = float(np.mean(np.var(per_run, axis=1, ddof=1)))
    return {
        "noise_share": min(1.0, within / total),
        "estimate_noise_share": min(1.0, within / R / between) if between > 0 else math.nan,
        "variance": total,
    }


# ---------------------------------------------------------------------------------------------
# the analyses (generic in the function evaluated: the Ishigami test uses the same code)
# ---------------------------------------------------------------------------------------------


Evaluator = Callable[[np.ndarray], dict[str, np.ndarray]]
"""Takes a sample (points x parameters) and returns, per outcome, values (points x replicates)."""


def problem_spec(ranges: dict[str, tuple[float, float]], outputs: Sequence[str]):
    """SALib's ProblemSpec over the given ranges (uniform)."""
    from SALib import ProblemSpec

    return ProblemSpec({"names": list(ranges), "bounds": [list(r) for r in ranges.values()], "outputs": list(outputs)})


def _saturated(values: np.ndarray) -> bool:
    return not np.ptp(values) > 0


def morris(
    ranges: dict[str, tuple[float, float]],
    evaluator: Evaluator,
    outcomes: Sequence[str],
    *,
    trajectories: int,
    levels: int = 4,
    seed: int = 0,
    bootstrap: int = 200,
    tolerance: float = MORRIS_TOLERANCE,
) -> dict[str, Any]:
    """Morris screening: elementary effects of every parameter on each outcome's per-point mean.

    Returns ``indices`` (outcome, parameter, mu_star, mu_star_conf, mu, sigma, and mu_star_half,
    the same from the first half of the trajectories), ``converged`` per outcome, ``split``
    (the variance split per outcome) and ``samples`` (the points and per-point means)."""
    from SALib.analyze import morris as morris_analysis

    spec = problem_spec(ranges, outcomes)
    spec.sample_morris(trajectories, num_levels=levels, seed=np.random.default_rng([seed, SALIB_STREAM, 1]))
    X = spec.samples
    D = len(ranges)

    def analyze(X, Y):
        return morris_analysis.analyze(spec, X, Y, num_resamples=bootstrap, num_levels=levels, seed=seed)

    def moved(full, part) -> float:
        scale = float(np.max(full["mu_star"])) or 1.0
        return float(np.max(np.abs(np.asarray(full["mu_star"]) - np.asarray(part["mu_star"])))) / scale

    def row(full, part, j: int) -> dict[str, float]:
        return {
            "mu_star": float(full["mu_star"][j]),
            "mu_star_conf": float(full["mu_star_conf"][j]),
            "mu": float(full["mu"][j]),
            "sigma": float(full["sigma"][j]),
            "mu_star_half": float(part["mu_star"][j]),
        }

    return _indices(
        ranges,
        evaluator,
        outcomes,
        X,
        (trajectories // 2) * (D + 1),
        analyze,
        moved,
        row,
        tolerance,
        ["mu_star", "mu_star_conf", "mu", "sigma", "mu_star_half"],
    )


def sobol(
    ranges: dict[str, tuple[float, float]],
    evaluator: Evaluator,
    outcomes: Sequence[str],
    *,
    samples: int,
    seed: int = 0,
    bootstrap: int = 200,
    tolerance: float = SOBOL_TOLERANCE,
) -> dict[str, Any]:
    """Sobol' first-order and total indices (Saltelli/Jansen estimators in SALib, no second
    order) with bootstrap intervals, from a scrambled Sobol' sample of ``samples`` base points;
    the same keys as :func:`morris` (indices: S1, S1_conf, ST, ST_conf, S1_half, ST_half)."""
    from SALib.analyze import sobol as sobol_analysis

    spec = problem_spec(ranges, outcomes)
    spec.sample_sobol(samples, calc_second_order=False, seed=np.random.default_rng([seed, SALIB_STREAM, 2]))
    X = spec.samples
    D = len(ranges)

    def analyze(X, Y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return sobol_analysis.analyze(spec, Y, calc_second_order=False, num_resamples=bootstrap, seed=seed)

    def moved(full, part) -> float:
        return max(float(np.nanmax(np.abs(np.asarray(full[k]) - np.asarray(part[k])))) for k in ("S1", "ST"))

    def row(full, part, j: int) -> dict[str, float]:
        return {
            **{k: float(full[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
            "S1_half": float(part["S1"][j]),
            "ST_half": float(part["ST"][j]),
        }

    return _indices(
        ranges,
        evaluator,
        outcomes,
        X,
        (samples // 2) * (D + 2),
        analyze,
        moved,
        row,
        tolerance,
        ["S1", "S1_conf", "ST", "ST_conf", "S1_half", "ST_half"],
    )


def _indices(
    ranges: dict[str, tuple[float, float]],
    evaluator: Evaluator,
    outcomes: Sequence[str],
    X: np.ndarray,
    half: int,
    analyze: Callable[[np.ndarray, np.ndarray], Any],
    moved: Callable[[Any, Any], float],
    row: Callable[[Any, Any, int], dict[str, float]],
    tolerance: float,
    columns: list[str],
) -> dict[str, Any]:
    """What :func:`morris` and :func:`sobol` share: run the sample ``X``, and for each outcome
    with any spread in its per-point means, ``analyze`` it whole and over its first ``half``
    points, call it converged when the two moved at most ``tolerance``, and keep one ``row`` of
    indices per parameter; a saturated outcome gets no rows and converged None."""
    per_run = evaluator(X)
    rows, converged, split = [], {}, {}
    for name in outcomes:
        Y = per_run[name].mean(axis=1)
        split[name] = variance_split(per_run[name])
        if _saturated(Y):
            converged[name] = None
            continue
        full = analyze(X, Y)
        part = analyze(X[:half], Y[:half])
        converged[name] = bool(moved(full, part) <= tolerance)
        for j, parameter in enumerate(ranges):
            rows.append({"outcome": name, "parameter": parameter, **row(full, part, j)})
    indices = pd.DataFrame(rows, columns=["outcome", "parameter", *columns])
    return {"indices": indices, "converged": converged, "split": split, "samples": _samples_frame(X, ranges, per_run)}


def _samples_frame(
    X: np.ndarray, ranges: dict[str, tuple[float, float]], per_run: dict[str, np.ndarray]
) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=list(ranges))
    for name, values in per_run.items():
        frame[name] = values.mean(axis=1)
    return frame


def top_parameters(screen: pd.DataFrame, k: int) -> list[str]:
    """The ``k`` parameters with the largest mu* relative to the largest of their outcome, taking
    for each parameter its largest such share over the outcomes."""
    if screen.empty:
        return []
    share = screen["mu_star"] / screen.groupby("outcome")["mu_star"].transform("max").replace(0, np.nan)
    score = share.groupby(screen["parameter"]).max().fillna(0.0)
    return list(score.sort_values(ascending=False, kind="stable").index[:k])


# ---------------------------------------------------------------------------------------------
# the whole analysis of a plan
# ---------------------------------------------------------------------------------------------


@dataclass
class SensitivityResult:
    """The output of :func:`run_plan` (see :meth:`as_json` for the published shape)."""

    method: str
    indices: pd.DataFrame  # Sobol' rows (method sobol or both), else Morris rows
    screening: pd.DataFrame | None  # Morris rows when method is both
    split: pd.DataFrame  # outcome, noise_share, estimate_noise_share, variance, saturated_share
    converged: dict[str, bool | None]
    meta: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """``indices`` (one row per outcome and parameter), ``noise_share`` (outcome -> share of
        the variance due to the seeds), ``converged`` (outcome -> true/false; null when the outcome
        is saturated), plus ``screening``, ``estimate_noise_share`` and ``meta``."""

        def rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
            if frame is None:
                return []
            return [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in frame.to_dict("records")
            ]

        def share(column: str) -> dict[str, float | None]:
            return {
                r.outcome: (None if math.isnan(getattr(r, column)) else round(getattr(r, column), 6))
                for r in self.split.itertuples()
            }

        return {
            "method": self.method,
            "indices": rows(self.indices),
            "screening": rows(self.screening),
            "noise_share": share("noise_share"),
            "estimate_noise_share": share("estimate_noise_share"),
            "converged": self.converged,
            "meta": self.meta,
        }


def run_plan(
    plan: SensitivityPlan, *, workers: int | None = None, dask: str | None = None, progress: bool = False
) -> SensitivityResult:
    """Run a sensitivity plan on the batched engine (Morris, Sobol', or Morris then Sobol' on the
    top parameters) and collect indices, variance split and convergence."""
    s, e = plan.settings, plan.experiment
    seeds = replicate_seeds(e.seed, e.replicates)
    started = time.perf_counter()

    def evaluator_for(names: Sequence[str], label: str) -> Evaluator:
        def evaluator(X: np.ndarray) -> dict[str, np.ndarray]:
            bar = _progress(len(X) * len(seeds), f"{label}: {len(X)} points x {len(seeds)} replicates", progress)
            try:
                return evaluate(
                    plan.base,
                    names,
                    X,
                    seeds,
                    e.weeks,
                    plan.outcomes,
                    workers=workers,
                    dask=dask,
                    block_runs=s.block_runs,
                    progress=lambda k: bar.update(k * len(seeds)),
                )
            finally:
                bar.close()

        return evaluator

    meta: dict[str, Any] = {
        "replicates": e.replicates,
        "weeks": e.weeks,
        "seed": e.seed,
        "ranges_from": plan.range_source,
        "outcomes": {o: outcome_label(o) for o in plan.outcomes},
        "fixed": plan.base.changed(),
    }
    screening = result = None
    sample_frames: dict[str, pd.DataFrame] = {}
    narrowed = {n: r for n, r in feasible_ranges(plan.ranges, plan.base).items() if r != plan.ranges[n]}
    if narrowed:
        meta["narrowed"] = {n: list(r) for n, r in narrowed.items()}
    if s.method in ("both", "morris"):
        screening = morris(
            feasible_ranges(plan.ranges, plan.base),
            evaluator_for(list(plan.ranges), "morris"),
            plan.outcomes,
            trajectories=s.trajectories,
            levels=s.levels,
            seed=e.seed,
            bootstrap=s.bootstrap,
            tolerance=s.morris_tolerance,
        )
        sample_frames["morris"] = screening["samples"]
        meta["morris"] = {
            "trajectories": s.trajectories,
            "levels": s.levels,
            "parameters": len(plan.ranges),
            "points": len(screening["samples"]),
            "tolerance": s.morris_tolerance,
            "repaired_share": _repaired_share(screening["samples"], plan),
        }
    if s.method in ("both", "sobol"):
        names = list(plan.ranges)
        if s.method == "both":
            names = top_parameters(screening["indices"], s.top) or names[: s.top]
            if len(names) < 2:
                names = list(plan.ranges)[:2]
        ranges = feasible_ranges({n: plan.ranges[n] for n in names}, plan.base)
        result = sobol(
            ranges,
            evaluator_for(names, "sobol"),
            plan.outcomes,
            samples=s.samples,
            seed=e.seed,
            bootstrap=s.bootstrap,
            tolerance=s.tolerance,
        )
        sample_frames["sobol"] = result["samples"]
        meta["sobol"] = {
            "samples": s.samples,
            "parameters": names,
            "points": len(result["samples"]),
            "narrowed": {n: list(r) for n, r in ranges.items() if r != plan.ranges[n]},
            "tolerance": s.tolerance,
            "repaired_share": _repaired_share(result["samples"], plan),
        }
    main = result if result is not None else screening
    split = pd.DataFrame(
        [
            {"outcome": o, **main["split"][o], "saturated_share": _saturated_share(main["samples"][o], o)}
            for o in plan.outcomes
        ]
    )
    meta["seconds"] = round(time.perf_counter() - started, 2)
    meta["runs"] = sum(len(f) for f in sample_frames.values()) * e.replicates
    return SensitivityResult(
        method=s.method,
        indices=main["indices"],
        screening=screening["indices"] if result is not None and screening is not None else None,
        split=split,
        converged=main["converged"],
        meta=meta,
        samples=sample_frames,
    )


def _repaired_share(samples: pd.DataFrame, plan: SensitivityPlan) -> float:
    names = [c for c in plan.ranges if c in samples.columns]
    _, mask = repair({n: samples[n].to_numpy() for n in names}, plan.base)
    return round(float(mask.mean()), 4)


def _saturated_share(means: pd.Series, outcome: str) -> float:
    """For a probability: share of points with P <= 0.01 or >= 0.99; NaN for other outcomes."""
    if OUTCOME_COLUMNS[outcome] != "bool":
        return math.nan
    values = means.to_numpy()
    return float(np.mean((values <= 0.01) | (values >= 0.99)))


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=total, unit="run", desc=desc, file=sys.stderr, unit_scale=True)


# ---------------------------------------------------------------------------------------------
# tables, figures, files
# ---------------------------------------------------------------------------------------------


def markdown(result: SensitivityResult) -> str:
    """The result as Markdown: variance split, convergence, and the indices table(s)."""
    meta = result.meta
    lines = [
        "# Global sensitivity analysis",
        "",
        f"Ranges from {meta['ranges_from']}; {meta['replicates']} replicates per point with the same seeds at every "
        f"point (common random numbers); {meta['weeks']} weeks; {meta['runs']:,} runs in {meta['seconds']} s.",
        "",
    ]
    if "morris" in meta:
        m = meta["morris"]
        lines.append(
            f"Morris: {m['trajectories']} trajectories over {m['parameters']} parameters ({m['points']} points, "
            f"{m['levels']} levels); {100 * m['repaired_share']:.1f}% of points repaired to satisfy a constraint."
        )
    for name, (low, high) in meta.get("narrowed", {}).items():
        lines.append(
            f"`{name}` sampled over {low:.4g} to {high:.4g} only, the part of its range that satisfies the "
            "constraint with its fixed partner."
        )
    if "sobol" in meta:
        m = meta["sobol"]
        lines.append(
            f"Sobol': N = {m['samples']} ({m['points']} points) over {', '.join(m['parameters'])}; "
            f"{100 * m['repaired_share']:.1f}% of points repaired."
        )
        for name, (low, high) in m.get("narrowed", {}).items():
            lines.append(
                f"Sobol': `{name}` sampled over {low:.4g} to {high:.4g} only, the part of its range that "
                "satisfies the constraint with its fixed partner."
            )
    lines += [
        "",
        "## Parameters or dice?",
        "",
        "Share of the variance of one run's outcome due to the seeds (the rest is due to the parameters), and the "
        "share of the variance of the per-point estimates that the finite replicates still carry.",
        "",
        "| outcome | per point | noise share (one run) | noise share (estimates) | share of points with P <= 0.01 or >= 0.99 | converged (N/2 vs N) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result.split.itertuples():
        verdict = result.converged.get(r.outcome)
        lines.append(
            f"| {r.outcome} | {meta['outcomes'][r.outcome]} | {_pct(r.noise_share)} | {_pct(r.estimate_noise_share)} | "
            f"{_pct(r.saturated_share)} | {'saturated' if verdict is None else 'yes' if verdict else 'no'} |"
        )
    if result.screening is not None and not result.screening.empty:
        lines += ["", "## Morris screen (all parameters)", "", _morris_table(result.screening)]
    if "S1" in result.indices.columns:
        lines += [
            "",
            "## Sobol' indices (95% bootstrap intervals)",
            "",
            "S1: share of the variance due to the parameter alone; ST: with all its interactions "
            "(ST >= S1 up to estimation error).",
            "",
            _sobol_table(result.indices),
        ]
    elif not result.indices.empty:
        lines += ["", "## Morris screen", "", _morris_table(result.indices)]
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _morris_table(frame: pd.DataFrame) -> str:
    wide = frame.pivot(index="parameter", columns="outcome", values="mu_star")
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index]
    lines = [
        "mu* (mean absolute elementary effect over the parameter's whole range), largest first.",
        "",
        "| parameter | " + " | ".join(wide.columns) + " |",
        "|---|" + "---|" * len(wide.columns),
    ]
    for name, row in wide.iterrows():
        lines.append(f"| `{name}` | " + " | ".join(f"{v:.3g}" for v in row) + " |")
    return "\n".join(lines)


def _sobol_table(frame: pd.DataFrame) -> str:
    lines = ["| outcome | parameter | S1 | ST | ST >= S1 |", "|---|---|---|---|---|"]
    for r in frame.sort_values(["outcome", "ST"], ascending=[True, False]).itertuples():
        ok = r.ST + r.ST_conf >= r.S1 - r.S1_conf
        lines.append(
            f"| {r.outcome} | `{r.parameter}` | {r.S1:.3f} ± {r.S1_conf:.3f} | {r.ST:.3f} ± {r.ST_conf:.3f} | "
            f"{'yes' if ok else 'no'} |"
        )
    return "\n".join(lines)


def figures(result: SensitivityResult, out: Path) -> list[Path]:
    """Bar charts of the indices (Sobol' S1 and ST with intervals, or Morris mu* with intervals)
    per outcome, and of the variance split; PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    frame = result.indices
    outcomes = list(dict.fromkeys(frame["outcome"])) if not frame.empty else []
    if outcomes:
        sobol_kind = "S1" in frame.columns
        fig, axes = plt.subplots(
            1,
            len(outcomes),
            figsize=(3.6 * len(outcomes), 0.3 * frame["parameter"].nunique() + 1.8),
            sharey=True,
            squeeze=False,
        )
        order = frame.groupby("parameter")["ST" if sobol_kind else "mu_star"].max().sort_values().index
        for ax, name in zip(axes[0], outcomes, strict=True):
            part = frame[frame["outcome"] == name].set_index("parameter").reindex(order)
            y = np.arange(len(order))
            if sobol_kind:
                ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], label="ST (total)", color="#4c72b0")
                ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], label="S1 (first order)", color="#dd8452")
                ax.set_xlim(0, 1.05)
            else:
                ax.barh(y, part["mu_star"], 0.6, xerr=part["mu_star_conf"], color="#4c72b0")
                ax.set_xlabel("mu* (Morris)")
            ax.set_yticks(y, order)
            ax.set_title(result.meta["outcomes"][name], fontsize=9)
        if sobol_kind:
            axes[0][0].legend(fontsize=8, loc="lower right")
        fig.suptitle(
            f"{'Sobol' + chr(39) + ' indices' if sobol_kind else 'Morris screen'} "
            f"({result.meta['replicates']} replicates per point, 95% bootstrap intervals)",
            fontsize=10,
        )
        fig.tight_layout()
        written += _save(fig, out / ("sobol_indices" if sobol_kind else "morris_screen"))
        plt.close(fig)
    split = result.split.dropna(subset=["noise_share"])
    if not split.empty:
        fig, ax = plt.subplots(figsize=(6, 0.45 * len(split) + 1.4))
        y = np.arange(len(split))
        ax.barh(y, 1 - split["noise_share"], color="#4c72b0", label="parameters")
        ax.barh(
            y, split["noise_share"], left=1 - split["noise_share"], color="#c44e52", label="seeds (simulation noise)"
        )
        ax.set_yticks(y, [result.meta["outcomes"][o] for o in split["outcome"]])
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of one run's variance")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("What drives the variance: parameters or seeds", fontsize=10)
        fig.tight_layout()
        written += _save(fig, out / "variance_split")
        plt.close(fig)
    return written


def _save(fig, stem: Path) -> list[Path]:
    paths = []
    for suffix in (".png", ".pdf"):
        path = stem.with_suffix(suffix)
        fig.savefig(path, dpi=150 if suffix == ".png" else None)
        paths.append(path)
    return paths


def write(result: SensitivityResult, out: Path, plan: SensitivityPlan) -> list[Path]:
    """Write indices.csv, screening.csv (Morris then Sobol'), variance_split.csv, sensitivity.md,
    sensitivity.json (with provenance), the sample points with their per-point estimates
    (points_<method>.parquet) and the figures into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("indices.csv", result.indices),
        ("screening.csv", result.screening),
        ("variance_split.csv", result.split),
    ):
        if frame is not None:
            atomic_write_text(out / name, frame.to_csv(index=False))
            written.append(out / name)
    for method, frame in result.samples.items():
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(out / f"points_{method}.parquet", buffer.getvalue())
        written.append(out / f"points_{method}.parquet")
    atomic_write_text(out / "sensitivity.md", markdown(result))
    payload = {**result.as_json(), "provenance": provenance(plan.experiment, settings=plan.settings.__dict__)}
    atomic_write_text(out / "sensitivity.json", json.dumps(payload, indent=1, default=str, allow_nan=False))
    written += [out / "sensitivity.md", out / "sensitivity.json"]
    written += figures(result, out)
    return written


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    """``escalation sensitivity``."""
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out {args.out} exists and is not a directory")
    plan = load_plan(args.config, method=args.method, samples=args.samples, replicates=args.replicates)
    result = run_plan(plan, workers=args.workers, dask=args.dask, progress=not args.quiet and not args.json)
    out = Path(args.out) if args.out else Path("results") / plan.experiment.name
    written = write(result, out, plan)
    if args.json:
        print(json.dumps(result.as_json(), allow_nan=False, default=str))
        return 0
    print(markdown(result))
    print(f"wrote {len(written)} files to {out}")
    return 0
