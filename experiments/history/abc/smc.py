"""ABC-SMC (population Monte Carlo: Toni et al. 2009, Beaumont et al. 2009): :func:`calibrate`
composes the prior (:mod:`.prior`), the sampler (:mod:`.sampler`), the distance
(:mod:`.distance`), the tolerance schedule (:mod:`.epsilon`), the transition
(:mod:`.transition`) and the storage of each finished generation (:mod:`.storage`)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import UserError
from ..posterior import STATE_DATE, start_state
from ..scenario import Scenario
from ..summaries import Summary, decade_by_default, recorded_rungs, summary_table
from .distance import (
    acceptance_share,
    distance_space,
    expected_distance,
    logged_summaries,
    noise_scales,
    replicate_distances,
)
from .epsilon import first_tolerance, next_tolerance
from .prior import CALIBRATED_PARAMETERS, DECADE_PARAMETERS, UniformPrior
from .result import ACCEPTANCE, Calibration, central_particle
from .sampler import Block, block_seeds, observed_summaries, ordered_results, run_block_replicates
from .storage import load_generations, save_generation
from .transition import _smc_weights, kernel_spread, propose

PROPOSAL_STREAM = 0x5AC
"""Mixed into the seed for the prior draws and the proposals (with the generation and block)."""
MAX_FIRST_DRAWS = 5_000_000


@dataclass(frozen=True)
class Problem:
    """What every generation of one run shares: the scenario, the summaries and the record's
    values of them (``obs``: as the distance compares them), the prior, the budget and where
    the blocks run."""

    scenario: Scenario
    summaries: tuple[Summary, ...]
    rungs: dict[int, list[str]]
    observed: pd.Series
    logged: np.ndarray
    prior: UniformPrior
    population: int
    accept: float
    seed: int
    block: int
    replicates: int
    max_simulations: int
    executor: Executor | None
    parallelism: int

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.summaries]

    @property
    def obs(self) -> np.ndarray:
        return distance_space(self.observed.to_numpy(dtype=float), self.logged)

    def task(self, generation: int, index: int, theta: np.ndarray) -> Block:
        """Block ``index`` of ``generation``: ``theta`` with its own replicate seeds."""
        return Block(
            self.scenario,
            self.prior.names,
            theta,
            self.replicates,
            block_seeds(self.seed, generation, index, len(theta) * self.replicates),
            self.summaries,
            self.rungs,
        )

    def fingerprint(self) -> dict[str, Any]:
        """The settings a saved generation must share to be resumed."""
        names = self.names
        return {
            "scenario": self.scenario.name,
            "scenario_params": repr(self.scenario.params),
            "weeks": self.scenario.weeks,
            "observed": [float(v) for v in self.observed.to_numpy(dtype=float)],
            "summaries": names,
            "parameters": list(self.prior.names),
            "population": self.population,
            "accept": self.accept,
            "seed": self.seed,
            "block": self.block,
            "replicates": self.replicates,
            "prior_low": [float(v) for v in self.prior.low],
            "prior_high": [float(v) for v in self.prior.high],
            "max_simulations_per_generation": self.max_simulations,
            "acceptance": ACCEPTANCE,
            "logged": [n for n, flag in zip(names, self.logged, strict=True) if flag],
        }

    def distances(self, stats: np.ndarray, scales: np.ndarray) -> np.ndarray:
        """Each replay's distance to the record (particles x replicates)."""
        return replicate_distances(distance_space(stats, self.logged), self.obs, scales)

    def frame(self, theta, stats, distances, share, weights, scales) -> pd.DataFrame:
        """A population as a table (:func:`population_frame`)."""
        return population_frame(
            theta, stats, distances, share, weights, self.obs, scales, self.logged, self.prior.names, self.names
        )


def check_budget(population: int, generations: int, accept: float, replicates: int, block: int) -> None:
    """A one-line error for a budget that cannot run."""
    if population < 10 or generations < 1 or not 0 < accept < 1 or replicates < 1 or block < 1:
        raise UserError(
            f"need population >= 10, generations >= 1, 0 < accept < 1, replicates >= 1 and block >= 1; "
            f"got {population}, {generations}, {accept}, {replicates}, {block}"
        )
    if population / accept > MAX_FIRST_DRAWS:
        raise UserError(
            f"population / accept = {population / accept:.3g} prior draws: at most {MAX_FIRST_DRAWS:,}; "
            "raise --accept or lower --population"
        )


def calibrate(
    scenario: Scenario,
    record: pd.DataFrame,
    population: int = 1000,
    generations: int = 4,
    accept: float = 0.02,
    seed: int = 1,
    block: int = 2000,
    progress: bool = True,
    max_simulations_per_generation: int = 2_000_000,
    replicates: int = 10,
    parameters: tuple[str, ...] | None = None,
    observed: pd.Series | None = None,
    out: str | Path | None = None,
    executor: Executor | None = None,
    parallelism: int = 1,
    summary_set: str | None = None,
) -> Calibration:
    """ABC-SMC (package docstring): up to ``generations`` generations of ``population``
    particles, each replayed ``replicates`` times; the first keeps the ``accept`` share of its
    prior draws.

    ``observed`` replaces the record's summaries (a synthetic record, for simulation-based
    calibration; the list of summaries still comes from ``record``). ``block`` particles make a
    task, run on ``executor`` (any ``concurrent.futures.Executor``: the sweeps' process pool or
    Dask client from :func:`experiments.sweep.runner.make_executor`, ``parallelism`` its slots)
    or, by default, in this process; the numbers are the same either way.
    With ``out``, each finished generation is saved there and a rerun continues after the last.
    ``summary_set``: which summaries (:data:`~experiments.history.summaries.SUMMARY_SETS`; by
    default the decade set for a scenario of five whole years or more, else the annual);
    ``parameters`` the uncertainties fitted (by default :data:`DECADE_PARAMETERS` with the decade
    summaries, :data:`CALIBRATED_PARAMETERS` with the annual).
    """
    check_budget(population, generations, accept, replicates, block)
    if parameters is None:
        decade = summary_set == "decade" or (summary_set is None and decade_by_default(scenario))
        parameters = DECADE_PARAMETERS if decade else CALIBRATED_PARAMETERS
    prior = UniformPrior.over(scenario.params, tuple(parameters))
    from tqdm.auto import tqdm

    summaries = summary_table(scenario, record, summary_set)
    names = [s.name for s in summaries]
    observed = observed_summaries(scenario, record, summaries) if observed is None else observed[names].astype(float)
    problem = Problem(
        scenario,
        tuple(summaries),
        recorded_rungs(record),
        observed,
        logged_summaries(summaries),
        prior,
        population,
        accept,
        seed,
        block,
        replicates,
        max_simulations_per_generation,
        executor,
        parallelism,
    )
    fingerprint = problem.fingerprint()
    out = Path(out) if out is not None else None
    saved = load_generations(out, fingerprint) if out is not None and out.is_dir() else []

    simulations = 0
    tolerances: list[float] = []
    stopped = ""
    with tqdm(total=generations, unit="generation", desc="ABC-SMC", disable=not progress) as bar:
        if saved:
            first, meta = saved[0]
            assert first is not None  # generation 0 always fills its population
            frame = first
        else:
            frame, meta = first_generation(problem)
            meta["fingerprint"] = fingerprint
            if out is not None:
                save_generation(out, 0, frame, meta)
        scales = np.array(meta["scales"])
        simulations += meta["simulations"]
        tolerances.append(meta["tolerance"])
        bar.update(1)
        for generation in range(1, generations):
            if generation < len(saved):
                new_frame, meta = saved[generation]
            else:
                new_frame, meta = next_generation(problem, frame, generation, scales, tolerances[-1])
                meta["fingerprint"] = fingerprint
                if out is not None:
                    save_generation(out, generation, new_frame if new_frame is not None else frame.iloc[:0], meta)
            simulations += meta["simulations"]
            if new_frame is None:
                stopped = meta["stopped"]
                break
            frame = new_frame
            tolerances.append(meta["tolerance"])
            bar.update(1)
    return result(problem, frame, scales, simulations, tolerances, stopped)


def first_generation(problem: Problem) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Generation 0, ABC rejection from the prior (Pritchard et al. 1999): ``population /
    accept`` prior draws, of which the ``population`` whose nearest replay is closest are kept;
    the distance's scales adapt once, to the simulation noise within them, and the tolerance is
    the smallest that keeps a replay of each."""
    p = problem
    draws = int(np.ceil(p.population / p.accept))
    theta_all = p.prior.sample(np.random.default_rng([p.seed, PROPOSAL_STREAM]), draws)
    blocks = (p.task(0, b, theta_all[start : start + p.block]) for b, start in enumerate(range(0, draws, p.block)))
    stats_all = np.concatenate(
        [stats for _, stats in ordered_results(p.executor, p.parallelism, blocks, run_block_replicates)]
    )
    var_all = distance_space(stats_all, p.logged).var(axis=1)
    nearest = p.distances(stats_all, noise_scales(var_all, p.replicates)).min(axis=1)
    keep = np.argsort(nearest, kind="stable")[: p.population]
    scales = noise_scales(var_all[keep], p.replicates)
    distances = p.distances(stats_all[keep], scales)
    tolerance = first_tolerance(distances)
    share = acceptance_share(distances, tolerance)
    frame = p.frame(theta_all[keep], stats_all[keep], distances, share, share / share.sum(), scales)
    meta = {"scales": scales.tolist(), "simulations": draws * p.replicates, "tolerance": tolerance, "filled": True}
    return frame, meta


def next_generation(
    problem: Problem, frame: pd.DataFrame, generation: int, scales: np.ndarray, previous_tolerance: float
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """One SMC generation from the population ``frame`` (accepted at ``previous_tolerance``):
    the new population (None if it could not be filled) and its metadata. A proposal is kept
    when at least one of its replays comes within the tolerance, and weighted by the share that
    do times prior / proposal density (:func:`~.distance.acceptance_share`,
    :func:`~.transition._smc_weights`)."""
    p = problem
    low, high = p.prior.low, p.prior.high
    theta = frame[list(p.prior.names)].to_numpy()
    weights = frame["weight"].to_numpy()
    replays = frame[[c for c in frame if c.startswith("replay_")]].to_numpy()
    tolerance = next_tolerance(replays, weights, previous_tolerance)
    spread = kernel_spread(theta, weights, low, high)
    max_blocks = max(1, p.max_simulations // (p.block * p.replicates))

    def proposals() -> Iterator[Block]:
        for b in range(max_blocks):
            rng = np.random.default_rng([p.seed, PROPOSAL_STREAM, generation, b])
            yield p.task(generation, b, propose(rng, theta, weights, spread, low, high, p.block))

    accepted: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    count = tried = 0
    for done, stats in ordered_results(p.executor, p.parallelism, proposals(), run_block_replicates):
        tried += len(done.theta)
        distances = p.distances(stats, scales)
        ok = acceptance_share(distances, tolerance) > 0
        accepted.append((done.theta[ok], stats[ok], distances[ok]))
        count += int(ok.sum())
        if count >= p.population:
            break
    meta: dict[str, Any] = {"simulations": tried * p.replicates, "tolerance": tolerance, "scales": scales.tolist()}
    if count < p.population:
        meta.update(
            filled=False,
            stopped=(
                f"generation {generation + 1} accepted {count} of {tried} proposals, fewer "
                f"than the population {p.population} (the tolerance {tolerance:.3g} is near the "
                f"simulation noise); kept generation {generation}"
            ),
        )
        return None, meta
    new_theta, new_stats, new_distances = (np.concatenate([a[k] for a in accepted])[: p.population] for k in range(3))
    share = acceptance_share(new_distances, tolerance)
    new_weights = share * _smc_weights(new_theta, theta, weights, spread, low, high)
    meta["filled"] = True
    return p.frame(new_theta, new_stats, new_distances, share, new_weights / new_weights.sum(), scales), meta


def result(
    problem: Problem, frame: pd.DataFrame, scales: np.ndarray, simulations: int, tolerances: list[float], stopped: str
) -> Calibration:
    """The :class:`Calibration` of the last population: its point estimate, and the replayed
    start state on :data:`~experiments.history.posterior.STATE_DATE` under it when the scenario
    covers that date (empty otherwise)."""
    p = problem
    prior_low, prior_high = p.prior.bounds()
    calibration = Calibration(
        frame.drop(columns=[c for c in frame if c.startswith(("var_", "replay_"))]),
        p.observed,
        pd.Series(scales, index=p.names),
        simulations,
        p.accept,
        p.seed,
        p.scenario.name,
        {},
        tolerances,
        stopped,
        parameters=p.prior.names,
        settings={"block": p.block, "max_simulations_per_generation": p.max_simulations},
        prior_low=prior_low,
        prior_high=prior_high,
        replicates=p.replicates,
        summary_meanings={s.name: s.meaning for s in p.summaries},
        logged=tuple(n for n, flag in zip(p.names, p.logged, strict=True) if flag),
    )
    calibration.estimate_index = central_particle(calibration.posterior, p.prior.names, p.prior.low, p.prior.high)
    if p.scenario.start < STATE_DATE <= p.scenario.end:
        base = p.scenario.params
        calibration.start_state = start_state(p.scenario.with_params(base.replace(**calibration.estimates)))
    return calibration


def population_frame(theta, stats, distances, share, weights, obs, scales, logged, parameters, names) -> pd.DataFrame:
    """A population as a table: parameters, the mean and variance of each summary over the
    replays (``sim_``, ``var_``: as simulated), each replay's distance (``replay_NN``), the
    expected distance (:func:`expected_distance`, in the distance's space; the point estimate
    reads it), the share of replays within the tolerance and the weight."""
    mean, var = stats.mean(axis=1), stats.var(axis=1)
    compared = distance_space(stats, logged)
    return pd.concat(
        [
            pd.DataFrame(theta, columns=list(parameters)),
            pd.DataFrame(mean, columns=[f"sim_{n}" for n in names]),
            pd.DataFrame(var, columns=[f"var_{n}" for n in names]),
            pd.DataFrame(distances, columns=[f"replay_{r:02d}" for r in range(distances.shape[1])]),
            pd.Series(expected_distance(compared.mean(axis=1), compared.var(axis=1), obs, scales), name="distance"),
            pd.Series(share, name="share"),
            pd.Series(weights, name="weight"),
        ],
        axis=1,
    )
