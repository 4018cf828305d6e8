"""The sampler: blocks of particles, each replayed ``replicates`` times through the scenario on
the batched engine, run on any ``concurrent.futures`` executor (the sweeps' process pool or a
Dask client, passed in by the caller) or in this process. Each block has its own random
streams (a function of the seed, the generation and the block only) and results are consumed
in block order, so the numbers never depend on the executor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays

from ...errors import UserError
from ..replay import week_months
from ..scenario import Scenario
from ..summaries import (
    SUMMARY_SERIES,
    Summary,
    compute,
    panel_from_record,
    panel_from_trajectory,
    recorded_rungs,
    summary_table,
)

SEED_STREAM = 0x5EED
"""Mixed into the seed for the replicate seeds of each block (with the generation and block)."""


def observed_summaries(scenario: Scenario, record: pd.DataFrame, summaries: list[Summary] | None = None) -> pd.Series:
    """The summary statistics (:func:`experiments.summaries.summary_table`) of the record."""
    unique = week_months(scenario).unique()
    missing = [str(m) for m in unique if m not in record.index]
    if missing:
        raise UserError(
            f"the record lacks month(s) {', '.join(missing[:3])} of the scenario; calibration needs them all"
        )
    summaries = summary_table(scenario, record) if summaries is None else summaries
    return compute(summaries, panel_from_record(scenario, record, recorded_rungs(record))).iloc[0]


def simulated_summaries(
    scenario: Scenario, trajectory: dict[str, np.ndarray], summaries: list[Summary], rungs: dict[int, list[str]]
) -> pd.DataFrame:
    """The summary statistics of each simulated run (one row per run)."""
    return compute(summaries, panel_from_trajectory(scenario, trajectory, rungs))


@dataclass(frozen=True)
class Block:
    """One task: ``theta`` (particles x parameters) replayed ``replicates`` times each (small and
    picklable, so it runs in a worker process or on a Dask cluster)."""

    scenario: Scenario
    names: tuple[str, ...]
    theta: np.ndarray
    replicates: int
    seeds: np.ndarray
    summaries: tuple[Summary, ...]
    rungs: dict[int, list[str]]


def run_block_replicates(block: Block) -> np.ndarray:
    """The summaries of every replay of every particle: particles x replicates x summaries."""
    scenario, r = block.scenario, block.replicates
    varying = dict(zip(block.names, np.repeat(block.theta, r, axis=0).T, strict=True))
    result = simulate_arrays(
        scenario.params, varying, block.seeds, scenario.weeks, scenario.schedule(), trajectories=SUMMARY_SERIES
    )
    assert result.trajectory is not None  # asked for above
    stats = simulated_summaries(scenario, result.trajectory, list(block.summaries), block.rungs).to_numpy()
    # C order, as after a trip through a worker: numpy's reductions sum in an order that depends
    # on the memory layout, and the numbers must not depend on where a block ran.
    return np.ascontiguousarray(stats.reshape(len(block.theta), r, -1))


def run_block(block: Block) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (biased, ``ddof=0``) variance over the replicates of each particle's summaries:
    two arrays of particles x summaries."""
    stats = run_block_replicates(block)
    return stats.mean(axis=1), stats.var(axis=1)


def block_seeds(seed: int, generation: int, block: int, n: int) -> np.ndarray:
    """The replicate seeds of a block: a function of the seed, the generation and the block only."""
    return np.random.SeedSequence([seed, SEED_STREAM, generation, block]).generate_state(n, dtype=np.uint64)


def ordered_results(
    executor: Executor | None,
    parallelism: int,
    tasks: Iterator[Block],
    function: Callable[[Block], Any] = run_block,
) -> Iterator[tuple[Block, Any]]:
    """Run ``function`` (:func:`run_block` by default) on ``tasks`` on ``executor`` with up to
    ``2 * parallelism + 1`` in flight and yield ``(task, result)`` in submission order (a consumer
    may stop early; the rest is cancelled). Without an executor, each task runs here when its
    result is wanted."""
    if executor is None:
        for task in tasks:
            yield task, function(task)
        return
    pending: list[tuple[Block, Future]] = []
    limit = 2 * parallelism + 1
    try:
        while True:
            while len(pending) < limit:
                upcoming = next(tasks, None)
                if upcoming is None:
                    break
                pending.append((upcoming, executor.submit(function, upcoming)))
            if not pending:
                return
            task, future = pending.pop(0)
            yield task, future.result()
    finally:
        for _, future in pending:
            future.cancel()
