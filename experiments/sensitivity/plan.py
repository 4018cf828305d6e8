"""What a sensitivity analysis runs: the ``[sensitivity]`` settings, the parameters and their
ranges, the outcomes, and the policy held fixed, read from a config with one-line errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.outcomes import OUTCOME_COLUMNS
from model.params import TABLE, ParameterError, Params, closest_name

from ..errors import UserError
from ..history.posterior import read_posterior
from ..io import read_toml
from ..sweep.config import Experiment, parse_experiment, unknown_key

METHODS = ("both", "morris", "sobol")
MORRIS_TOLERANCE = 0.10
"""Largest move of any mu* between half and all trajectories, relative to the largest mu*."""
CONFIDENCE = 0.95
"""Level of every interval, and of the checks that compare two estimates with their errors."""
PREFERRED_OUTCOMES = ("talks", "summit", "deal", "talks_week", "tests", "highest_rung")
"""Default outcomes, those of them the model has (version 2 adds summit and deal)."""

_SECTION_KEYS = {
    "method": str,
    "trajectories": int,
    "levels": int,
    "samples": int,
    "top": int,
    "outcomes": list,
    "bootstrap": int,
    "morris_tolerance": float,
    "confidence": float,
    "parameters": list,
    "block_runs": int,
    "screen_replicates": int,
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
    bootstrap: int = 200  # bootstrap resamples (over points, over seeds, over both)
    morris_tolerance: float = MORRIS_TOLERANCE
    confidence: float = CONFIDENCE
    parameters: tuple[str, ...] = ()  # restrict the analysis to these (default: all in range)
    block_runs: int = 20_000  # runs per task
    screen_replicates: int = 0  # replicate seeds per Morris point (0, or more than replicates: replicates)


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
    """Read a sensitivity config.

    An experiment config (``[experiment]``, ``[params]``, one value per lever in ``[levers]``,
    and ``[uncertainties]`` or ``[posterior]``) plus an optional ``[sensitivity]`` table (see
    :class:`Settings`). ``samples`` sets the Morris trajectories with ``method="morris"`` and the
    Sobol' base sample otherwise. Problems are one-line :class:`UserError` s.
    """
    data = read_toml(path, "config")
    section = data.pop("sensitivity", {})
    if not isinstance(section, dict):
        raise UserError(f"{path}: [sensitivity] must be a table")
    data.setdefault("experiment", {}).setdefault("name", "sensitivity")
    experiment = parse_experiment(data, source=str(path)).with_options(replicates=replicates)
    settings = _settings(section, str(path))
    if method is not None:
        settings = replace_settings(settings, method=method)
    if samples is not None:
        settings = replace_settings(
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


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with some keys changed."""
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
        values[key] = tuple(value) if isinstance(value, list) else value  # a list exactly when one is wanted
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
        ("screen_replicates", 0),
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
    for key in ("morris_tolerance", "confidence"):
        if not 0 < getattr(s, key) < 1:
            raise UserError(f"{source}: [sensitivity] {key} must be between 0 and 1, got {getattr(s, key)}")


def table_ranges() -> dict[str, tuple[float, float]]:
    """Every real-valued uncertainty of the parameter table with its allowed range."""
    return {
        p.name: (float(p.low), float(p.high))
        for p in TABLE.values()
        if p.kind == "uncertainty" and p.dtype is float and p.low is not None and p.high is not None and p.low < p.high
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


def outcome_label(name: str) -> str:
    """How an outcome is summarised per point, in words."""
    kind = OUTCOME_COLUMNS[name]
    if kind == "bool":
        return f"P({name})"
    if name.endswith("_week"):
        return f"mean weeks to {name[:-5]} (none = horizon)"
    return f"mean {name}"
