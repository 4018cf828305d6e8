"""Experimental designs: full factorial over the levers, Latin hypercube over the uncertainties,
replicate seeds shared by every design point (common random numbers), and chunks of runs.

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

from model.params import Params, ParameterError

from .config import Experiment
from .errors import UserError

LHS_STREAM = 0x1A7E5
"""Mixed into the experiment seed for the Latin hypercube, so its draws never coincide with
the replicate seeds."""


def replicate_seeds(seed: int, replicates: int, first: int = 0, scenario: int | None = None) -> np.ndarray:
    """The 64-bit seeds of replicates ``first .. first + replicates - 1``: replicate ``r`` gets
    ``SeedSequence([seed, r])`` (``[seed, r, scenario]`` for a sampled scenario)
    ``.generate_state(2)`` read as one uint64. Stable across numpy versions (SeedSequence's
    hashing is specified) and independent of how many are asked for."""
    out = np.empty(replicates, dtype=np.uint64)
    for i in range(replicates):
        key = [seed, first + i] if scenario is None else [seed, first + i, scenario]
        lo, hi = np.random.SeedSequence(key).generate_state(2, dtype=np.uint32)
        out[i] = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)
    return out


def latin_hypercube(uncertainties: dict[str, tuple[float, float]], samples: int, seed: int) -> pd.DataFrame:
    """``samples`` points of a Latin hypercube (scipy.stats.qmc) scaled to the given ranges."""
    if not uncertainties:
        return pd.DataFrame(index=range(1))
    from scipy.stats import qmc  # imported here: scipy.stats is slow to import and rarely needed

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
    """

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        lever_names = list(experiment.levers)
        combos = list(itertools.product(*experiment.levers.values())) if lever_names else [()]
        scenarios = latin_hypercube(experiment.uncertainties, experiment.samples, experiment.seed)
        rows = []
        for combo in combos:
            for s, scenario in enumerate(scenarios.to_dict("records")):
                row = dict(zip(lever_names, combo))
                if experiment.uncertainties:
                    row["scenario"] = s
                    row.update(scenario)
                rows.append(row)
        self.points = pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="design_point"))
        self.factor_columns = [c for c in self.points.columns if c != "scenario"]
        self.params = [self._params(row) for row in rows]
        self.replicates = experiment.replicates
        self.weeks = experiment.weeks

    def _params(self, row: dict) -> Params:
        values = {**self.experiment.params, **{k: v for k, v in row.items() if k != "scenario"}}
        try:
            return Params(values)
        except ParameterError as error:
            where = ", ".join(f"{k}={v}" for k, v in row.items())
            raise UserError(f"{self.experiment.source}: design point ({where}): {error}") from None

    @cached_property
    def seeds(self) -> np.ndarray:
        """Replicate seeds of a design without sampled scenarios (see :meth:`point_seeds`)."""
        return replicate_seeds(self.experiment.seed, self.replicates)

    @cached_property
    def _scenario_seeds(self) -> dict[int, np.ndarray]:
        return {}

    def point_seeds(self, point: int) -> np.ndarray:
        """The replicate seeds of design point ``point``: the same for every policy, and, when
        uncertainties are sampled, different for each scenario."""
        if "scenario" not in self.points.columns:
            return self.seeds
        scenario = int(self.points.iloc[point]["scenario"])
        if scenario not in self._scenario_seeds:
            self._scenario_seeds[scenario] = replicate_seeds(self.experiment.seed, self.replicates, scenario=scenario)
        return self._scenario_seeds[scenario]

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
        if "scenario" in self.points.columns:
            table["seed"] = np.fromiter((self.point_seeds(p)[r] for p, r in zip(points, replicates)),
                                        dtype=np.uint64, count=len(runs))
        else:
            table["seed"] = self.seeds[replicates]
        return table

