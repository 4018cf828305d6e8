"""Experiment configs (TOML) -> a validated :class:`Experiment`.

A config has up to five tables::

    [experiment]             # name, weeks, replicates, seed, engine, chunk_size, samples
    [levers]                 # the policies to sweep: a list of values, or {start, stop, num}
    [params]                 # fixed overrides of any parameter
    [uncertainties]          # {low, high} ranges, sampled by a Latin hypercube of `samples` points
    [posterior]              # or: samples = N draws from the calibration posterior (file = CSV)

Every problem is reported as a one-line :class:`~experiments.errors.UserError` naming the
file, the entry and what is allowed (:mod:`experiments.validation`: TOML types are strict, so a
quoted ``"false"`` or ``"0.5"`` is refused); nothing runs until the whole config is valid.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.params import TABLE, ParameterError, Params, closest_name, lookup

from .. import validation as check
from ..errors import UserError
from ..history.posterior import default_posterior_file, file_digest, read_posterior
from ..io import read_toml
from .integrity import MAX_CHUNKS, MAX_POINTS, MAX_REPLICATES

ENGINES = ("batched", "mesa")
DEFAULT_CHUNK_SIZE = {"batched": 10_000, "mesa": 50}
"""Runs per task. Part of the results' layout, so it depends on the engine only, never on the
number of workers: a sweep resumed with other workers finds the same chunks."""

_EXPERIMENT_KEYS = {
    "name": str,
    "weeks": int,
    "replicates": int,
    "seed": int,
    "engine": str,
    "chunk_size": int,
    "samples": int,
    "description": str,
}
_SECTIONS = ("experiment", "levers", "params", "uncertainties", "posterior")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: what to run, not how (workers, output directory) to run it."""

    name: str
    weeks: int = 52
    replicates: int = 100
    seed: int = 0
    engine: str = "batched"
    chunk_size: int | None = None
    samples: int = 0
    description: str = ""
    levers: dict[str, list[Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    uncertainties: dict[str, tuple[float, float]] = field(default_factory=dict)
    posterior: dict[str, Any] = field(default_factory=dict)
    source: str = "<config>"

    @property
    def scenario_sampled(self) -> bool:
        """Whether design points come in scenarios (a Latin hypercube or posterior draws)."""
        return bool(self.uncertainties or self.posterior)

    def posterior_path(self) -> Path:
        """The posterior sample file of ``[posterior]`` (relative paths: to the config's directory)."""
        if self.posterior.get("path"):
            return Path(self.posterior["path"])
        given = self.posterior.get("file")
        if given is None:
            return default_posterior_file()
        path = Path(given)
        return path if path.is_absolute() or self.source.startswith("<") else Path(self.source).parent / path

    @property
    def runs_per_chunk(self) -> int:
        return self.chunk_size or DEFAULT_CHUNK_SIZE[self.engine]

    def with_options(self, **changes: Any) -> Experiment:
        """A copy with command-line overrides (replicates, engine, chunk size) applied and checked."""
        changes = {k: v for k, v in changes.items() if v is not None}
        new = replace(self, **changes)
        _check_experiment_numbers(new, f"{self.source}: command line")
        return new

    def design_dict(self) -> dict[str, Any]:
        """Everything that determines the result rows (and nothing else: not the engine, which
        gives identical rows, nor the workers or output directory)."""
        d = asdict(self)
        for key in ("engine", "source", "description", "chunk_size"):
            d.pop(key)
        if self.posterior:  # the sample's content, not where it was read from
            d["posterior"] = {"samples": self.posterior["samples"], "sha256": self.posterior["sha256"]}
        else:  # absent, as in configs written before [posterior] existed: their hashes still hold
            d.pop("posterior")
        return d

    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`design_dict` (first 16 hex digits)."""
        text = json.dumps(self.design_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        """The whole experiment as plain data (for provenance)."""
        return asdict(self)


def unknown_key(source: str, key: str, table: str, allowed: Iterable[str]) -> UserError:
    """The error for ``key``, not one of ``allowed``, in the config's ``[table]`` (see
    :func:`experiments.validation.unknown_key`)."""
    return check.unknown_key(source, f"[{table}]", key, allowed)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate a TOML experiment config."""
    return parse_experiment(read_toml(path, "config"), source=str(path))


def parse_experiment(data: dict[str, Any], source: str = "<config>") -> Experiment:
    """Validate the tables of a parsed config (see the module docstring)."""
    check.check_tables(data, _SECTIONS, source)
    head = data.get("experiment", {})
    check.check_keys(head, _EXPERIMENT_KEYS, source, "[experiment]")
    for key, value in head.items():
        if _EXPERIMENT_KEYS[key] is int:
            check.integer(value, f"{source}: [experiment] {key}")
        else:
            check.string(value, f"{source}: [experiment] {key}")
    if "name" not in head:
        raise UserError(f"{source}: [experiment] needs a name")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", head["name"]):
        raise UserError(
            f"{source}: [experiment] name {head['name']!r} must be a plain name (letters, digits, _ . -): "
            "it names the default results directory"
        )

    levers = {name: _lever_values(name, spec, source) for name, spec in data.get("levers", {}).items()}
    params = {
        name: check.parameter(name, value, f"{source}: [params]") for name, value in data.get("params", {}).items()
    }
    uncertainties = {
        name: _uncertainty_range(name, spec, source) for name, spec in data.get("uncertainties", {}).items()
    }
    for name in set(levers) & set(params) | set(levers) & set(uncertainties) | set(params) & set(uncertainties):
        raise UserError(f"{source}: '{name}' appears in more than one of [levers], [params], [uncertainties]")
    posterior = _posterior_spec(data.get("posterior"), source)
    if posterior and uncertainties:
        raise UserError(f"{source}: [posterior] and [uncertainties] cannot be combined; sample one or the other")
    if posterior and not levers:
        raise UserError(
            f"{source}: a [posterior] sweep pools its draws by policy: give at least one lever in [levers] "
            '(a single value will do, e.g. exercise_policy = ["as_scheduled"])'
        )
    if "samples" in head and not uncertainties:
        raise UserError(
            f"{source}: [experiment] samples sets the size of the [uncertainties] Latin hypercube, and "
            "there is no [uncertainties] table" + ("; [posterior] has its own samples" if posterior else "")
        )

    experiment = Experiment(
        levers=levers,
        params=params,
        uncertainties=uncertainties,
        posterior=posterior,
        source=source,
        **{k: v for k, v in head.items()},
    )
    if posterior:
        experiment = _with_posterior_digest(experiment)
    if uncertainties and "samples" not in head:
        experiment = replace(experiment, samples=10)
    _check_experiment_numbers(experiment, source)
    try:  # the fixed overrides on their own must make a valid parameter set
        Params(params)
    except ParameterError as error:
        raise UserError(f"{source}: [params] {error}") from None
    return experiment


def _check_experiment_numbers(e: Experiment, where: str) -> None:
    if e.engine not in ENGINES:
        raise UserError(
            f"{where}: engine '{e.engine}' is not allowed{closest_name(e.engine, ENGINES)}: allowed {', '.join(ENGINES)}"
        )
    for key, low, high in (("weeks", 1, 5200), ("replicates", 1, MAX_REPLICATES)):
        value = getattr(e, key)
        if not low <= value <= high:
            raise UserError(f"{where}: {key} = {value} is out of range: allowed {low} to {high}")
    if not 0 <= e.seed < 2**64:
        raise UserError(f"{where}: seed = {e.seed} is out of range: allowed 0 to 2**64-1")
    if e.chunk_size is not None and e.chunk_size < 1:
        raise UserError(f"{where}: chunk_size = {e.chunk_size} must be a positive integer")
    if e.uncertainties and e.samples < 1:
        raise UserError(f"{where}: samples = {e.samples} must be at least 1 when [uncertainties] is given")
    points = math.prod(len(v) for v in e.levers.values()) * (
        e.samples if e.uncertainties else e.posterior["samples"] if e.posterior else 1
    )
    if points > MAX_POINTS:
        raise UserError(
            f"{where}: the design has {points} design points (levers x scenarios); at most {MAX_POINTS} "
            "are allowed, since each is built before the first run: split it into several experiments"
        )
    chunks = -(-points * e.replicates // e.runs_per_chunk)
    if chunks > MAX_CHUNKS:
        raise UserError(
            f"{where}: {points * e.replicates} runs in chunks of {e.runs_per_chunk} make {chunks} chunk files; "
            f"at most {MAX_CHUNKS} are allowed (one file each): raise chunk_size to at least "
            f"{-(-points * e.replicates // MAX_CHUNKS)}"
        )


def _posterior_spec(spec: dict[str, Any] | None, source: str) -> dict[str, Any]:
    if spec is None:
        return {}
    check.check_keys(spec, ("samples", "file"), source, "[posterior]")
    samples = check.integer(
        spec.get("samples"), f"{source}: [posterior] samples", 1, 10**6, " (draws from the posterior)"
    )
    if "file" in spec:
        check.string(spec["file"], f"{source}: [posterior] file", "a path (a string)")
    return {"samples": samples, "file": spec.get("file")}


def _with_posterior_digest(experiment: Experiment) -> Experiment:
    """Check the posterior sample (readable, known parameters in range, none fixed in [params]
    or swept as a lever) and record its digest, so results from another sample never mix."""
    path = experiment.posterior_path()
    posterior = read_posterior(path)
    clash = [c for c in posterior.columns if c in experiment.params or c in experiment.levers]
    if clash:
        raise UserError(
            f"{experiment.source}: '{clash[0]}' is drawn from the posterior ({path.name}) and cannot also be "
            "fixed in [params] or swept in [levers]"
        )
    return replace(
        experiment, posterior={**experiment.posterior, "path": str(path.resolve()), "sha256": file_digest(path)}
    )


def _known(name: str, source: str, table: str) -> None:
    try:
        lookup(name)
    except ParameterError as error:
        raise UserError(f"{source}: {table} {error}") from None


def _lever_values(name: str, spec: Any, source: str) -> list[Any]:
    _known(name, source, "[levers]")
    row = TABLE[name]
    if row.kind != "lever":
        raise UserError(
            f"{source}: [levers] '{name}' is {'an' if row.kind == 'uncertainty' else 'a'} {row.kind}, "
            f"not a lever; put it under [params]{' or [uncertainties]' if row.kind == 'uncertainty' else ''}"
        )
    if isinstance(spec, dict):
        values = _range_values(name, spec, source, "[levers]")
    elif isinstance(spec, list):
        values = list(spec)
    else:
        values = [spec]
    if not values:
        raise UserError(f"{source}: [levers] {name} has no values")
    coerced = [check.parameter(name, v, f"{source}: [levers]") for v in values]
    if len(set(map(repr, coerced))) != len(coerced):
        raise UserError(f"{source}: [levers] {name} lists a value twice")
    return coerced


def _range_values(name: str, spec: dict[str, Any], source: str, table: str) -> list[Any]:
    keys = {"start", "stop", "num"}
    if set(spec) != keys:
        raise UserError(
            f"{source}: {table} {name} range needs exactly the keys start, stop, num; got {', '.join(spec) or 'none'}"
        )
    num = check.integer(
        spec["num"], f"{source}: {table} {name} num", 1, MAX_POINTS, " (the most design points a sweep may have)"
    )
    for key in ("start", "stop"):
        check.number(spec[key], f"{source}: {table} {name} {key}")
    values = np.linspace(spec["start"], spec["stop"], num)
    if TABLE[name].dtype is int:
        if not np.allclose(values, np.round(values)):
            raise UserError(f"{source}: {table} {name} range does not fall on integers")
        return [int(round(v)) for v in values]
    return [float(round(v, 12)) for v in values]


def _uncertainty_range(name: str, spec: Any, source: str) -> tuple[float, float]:
    _known(name, source, "[uncertainties]")
    row = TABLE[name]
    if row.dtype is not float:
        raise UserError(
            f"{source}: [uncertainties] '{name}' is not a real-valued parameter; sweep it under [levers] or fix it under [params]"
        )
    if isinstance(spec, list) and len(spec) == 2:
        low, high = spec
    elif isinstance(spec, dict) and set(spec) == {"low", "high"}:
        low, high = spec["low"], spec["high"]
    else:
        raise UserError(f"{source}: [uncertainties] {name} must be {{low = ..., high = ...}} or [low, high]")
    low = check.parameter(name, low, f"{source}: [uncertainties]")
    high = check.parameter(name, high, f"{source}: [uncertainties]")
    if not low < high:
        raise UserError(f"{source}: [uncertainties] {name} needs low < high, got {low} and {high}")
    return (low, high)
