"""Experimental designs: full factorial over the levers, crossed with scenarios of the
uncertainties (a Latin hypercube over ranges, or draws from the calibration posterior:
:mod:`experiments.history.posterior`), replicate seeds shared by every design point (common random
numbers), and chunks of runs.

Run ``i`` of a design is replicate ``i % R`` of design point ``i // R``. Its seed depends on the
replicate and, when uncertainties are sampled, on the scenario (the Latin-hypercube point):
every policy sees the same random numbers in replicate ``r`` of a scenario, so policy contrasts
are paired, while different scenarios get independent draws (pooling rows over scenarios with
shared seeds would make them correlated and understate the uncertainty of pooled estimates).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from model.params import ParameterError, Params

from ..errors import UserError
from ..history.posterior import posterior_scenarios, read_posterior
from ..seeds import replicate_seeds, replicate_seeds_of
from .config import Experiment

LHS_STREAM = 0x1A7E5
"""Mixed into the experiment seed for the Latin hypercube, so its draws never coincide with
the replicate seeds."""


def latin_hypercube(uncertainties: dict[str, tuple[float, float]], samples: int, seed: int) -> pd.DataFrame:
    """``samples`` points of a Latin hypercube (scipy.stats.qmc) scaled to the given ranges."""
    if not uncertainties:
        return pd.DataFrame(index=range(1))
    from scipy.stats import (
        qmc,  # imported here: scipy.stats is slow to import and rarely needed
    )

    names = list(uncertainties)
    sampler = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng([seed, LHS_STREAM]))
    unit = sampler.random(samples)
    low = np.array([uncertainties[n][0] for n in names])
    high = np.array([uncertainties[n][1] for n in names])
    return pd.DataFrame(qmc.scale(unit, low, high), columns=names)


@dataclass(frozen=True)
class Chunk:
    """A contiguous range of run ids ``[start, stop)``: the unit of work and of storage."""

    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"chunk-{self.start:010d}-{self.stop:010d}"

    def __len__(self) -> int:
        return self.stop - self.start


class Design:
    """The runs of an experiment.

    ``points`` is a DataFrame with one row per design point and one column per lever value
    and sampled uncertainty (plus ``scenario`` when uncertainties are sampled); ``params[d]``
    is point ``d``'s complete, validated parameter set; ``seeds[r]`` replicate ``r``'s seed.
    With ``[posterior]``, ``points`` holds the levers, ``scenario`` and ``particle`` (the row of
    the posterior sample), and :attr:`scenarios` each draw's parameter values and start state.
    """

    def __init__(self, experiment: Experiment, scenarios: pd.DataFrame | None = None, validate: bool = True) -> None:
        """The design of ``experiment``. ``scenarios``: its :attr:`scenarios` as built before
        (the sweep stores them beside its chunks: posterior draws replay 2016-2018 for their start
        states, which takes a while), else built here. ``validate``: build and check every point's
        parameter set now (a bad point is a :class:`UserError` before the first run); otherwise
        each is built when first asked for (:meth:`point_params`)."""
        self.experiment = experiment
        lever_names = list(experiment.levers)
        combos = list(itertools.product(*experiment.levers.values())) if lever_names else [()]
        self.scenarios = self._scenarios() if scenarios is None else scenarios
        drawn = self.scenarios.to_dict("records")
        rows, self._inputs = [], []
        for combo in combos:
            levers = dict(zip(lever_names, combo, strict=True))
            for s, scenario in enumerate(drawn):
                draw = dict(scenario)  # the scenario's parameter values
                row = dict(levers)
                if experiment.posterior:
                    row.update(scenario=s, particle=int(draw.pop("particle")))
                elif experiment.uncertainties:
                    row.update(scenario=s, **draw)
                rows.append(row)
                self._inputs.append((row, draw, levers))
        self._params: dict[int, Params] = {}
        self.points = pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="design_point"))
        self.factor_columns = [c for c in self.points.columns if c not in ("scenario", "particle")]
        self.replicates = experiment.replicates
        self.weeks = experiment.weeks
        if validate:
            _ = self.params

    @cached_property
    def params(self) -> list[Params]:
        """Every point's complete, validated parameter set, by design point."""
        return [self.point_params(d) for d in range(len(self._inputs))]

    def point_params(self, point: int) -> Params:
        """Design point ``point``'s complete, validated parameter set (built once)."""
        if point not in self._params:
            self._params[point] = self._params_of(*self._inputs[point])
        return self._params[point]

    def _scenarios(self) -> pd.DataFrame:
        """One row per scenario: Latin-hypercube points, posterior draws, or one empty row."""
        e = self.experiment
        if e.posterior:
            return posterior_scenarios(read_posterior(e.posterior_path()), e.posterior["samples"], e.seed)
        return latin_hypercube(e.uncertainties, e.samples, e.seed)

    def _params_of(self, row: dict, draw: dict, levers: dict) -> Params:
        """A point's parameters: the scenario's values, then the config's fixed [params] (which
        win over a draw's start state), then the levers."""
        values = {**draw, **self.experiment.params, **levers}
        try:
            return Params(values)
        except ParameterError as error:
            where = ", ".join(f"{k}={v}" for k, v in row.items())
            raise UserError(f"{self.experiment.source}: design point ({where}): {error}") from None

    @cached_property
    def seeds(self) -> np.ndarray:
        """Replicate seeds of a design without sampled scenarios (see :meth:`point_seeds`)."""
        return replicate_seeds(self.experiment.seed, self.replicates)

    def point_seeds(self, point: int, count: int | None = None) -> np.ndarray:
        """The replicate seeds of design point ``point`` (its first ``count`` replicates, default
        all): the same for every policy, and, when uncertainties are sampled, different for
        each scenario."""
        count = self.replicates if count is None else min(count, self.replicates)
        if "scenario" not in self.points.columns:
            return replicate_seeds(self.experiment.seed, count)
        return replicate_seeds(self.experiment.seed, count, scenario=int(self.points["scenario"].iat[point]))

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def chunks(self, shard: tuple[int, int] = (0, 1)) -> list[Chunk]:
        """The design's chunks of ``runs_per_chunk`` runs; with ``shard=(i, N)`` only every
        N-th chunk starting at ``i`` (for job arrays: shards together cover each chunk once)."""
        size = self.experiment.runs_per_chunk
        all_chunks = [Chunk(a, min(a + size, self.n_runs)) for a in range(0, self.n_runs, size)]
        index, count = shard
        return all_chunks[index::count]

    def run_table(self, chunk: Chunk) -> pd.DataFrame:
        """The runs of a chunk: ``run``, ``design_point``, the point's factor columns,
        ``replicate`` and ``seed``."""
        runs = np.arange(chunk.start, chunk.stop)
        points, replicates = np.divmod(runs, self.replicates)
        table = self.points.iloc[points].reset_index()
        table.insert(0, "run", runs)
        table["replicate"] = replicates
        # Only this chunk's seeds, computed on the spot: a 10^8-replicate design starts at once.
        scenario_of = self.points["scenario"].to_numpy()[points] if "scenario" in self.points.columns else None
        table["seed"] = replicate_seeds_of(self.experiment.seed, replicates, scenario_of)
        return table
