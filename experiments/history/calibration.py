"""Calibration of the parameters the record can inform, by approximate Bayesian computation
(ABC) with sequential Monte Carlo (ABC-SMC / population Monte Carlo: Toni et al. 2009,
Beaumont et al. 2009), on the batched engine.

1. Prior: independent uniforms over the parameter table's ranges (``hawkes_alpha`` below
   0.95 ``hawkes_beta``, so that the test process stays stationary); :meth:`Calibration.intervals`
   prints the bounds actually sampled.
2. Each proposal is replayed ``replicates`` times (10 by default) through the historical
   scenario. The summaries (:mod:`experiments.summaries`: launches, months with a launch,
   nuclear tests and the rung mix by year, nuclear-test timing, inter-launch gaps, launches in
   exercise months, the lag from a major test to the next resolution, the milestones of talks)
   of each replay are compared with the record's by the scaled Euclidean distance
   ``d = sqrt(sum_j (x_j - obs_j)^2 / scale_j^2)``, each statistic scaled by its simulated
   spread (the pooled within-particle standard deviation, the simulation noise): first over the
   prior draws, then, once, over the first population (Prangle 2017).
3. A particle's ABC likelihood at a tolerance is estimated by the share of its replays within
   it (:func:`acceptance_share`: unbiased, Bornn et al. 2017), and its importance weight is
   proportional to that share (Del Moral, Doucet and Jasra 2012), so the weighted sample
   targets the exact ABC posterior at that tolerance: replays are noise to average over, not a
   mean to fit. (Before December 2026 particles were ranked by their expected squared distance
   over the replays, which rewards small simulation variance as much as a close mean and made
   the posteriors overconfident: docs/ODD.md section 9.) Generation 0 draws ``population /
   accept`` parameter sets from the prior and keeps the ``population`` whose nearest replay is
   closest, at the smallest tolerance that keeps a replay of each (ABC rejection, Pritchard et
   al. 1999). Each later generation sets its tolerance to the median distance of the replays
   the previous population accepts (:func:`next_tolerance`), proposes by resampling the
   previous population by weight and perturbing with a Gaussian kernel of twice its weighted
   variance (:func:`kernel_spread`), and keeps proposals inside the prior with at least one
   replay within the tolerance until it has ``population`` of them; weights are
   share x prior / sum_j w_j K(theta | theta_j). A generation that cannot fill its population
   within ``max_simulations_per_generation`` ends the run, keeping the previous one (its
   tolerance has reached the simulation noise).
4. The posterior sample is the last population with its weights (the product: posterior sweeps
   draw from it). The calibrated values, a point the policy sweep can start from, are a jointly
   feasible central particle: among the particles whose share of replays within the final
   tolerance (their estimated ABC likelihood) is at least the weighted median share, the one
   nearest the weighted posterior median in prior-scaled space (the
   posterior is correlated, so the vector of marginal medians need not itself fit; the single
   closest particle sits in a corner). The default start state of the policy sweep (26 February
   2018) is the median replayed state on that date under the calibrated values.

Work is cut into blocks of particles, each block with its own random streams (proposals and
replicate seeds depend only on the seed, the generation and the block), and run on any
``concurrent.futures`` executor (the sweeps' process pool or Dask client, passed in by the
caller) or in this process; results are consumed in block order, so the numbers never depend on the executor.
With ``out``, every finished generation is saved there (``generation_NN.parquet`` and
``.json``) and a rerun with the same settings continues after the last one.

Facts F1 (the 2016-17 surge), F3 (the 2018 pause) and F4 (first talks) are fitted through
these summaries; F2 (launches around the UN resolutions) and F5 (the mediator moves first) are
not targets and stay checks.

``model/calibrated.toml`` holds the result; the parameter table's defaults cite and read it.
"""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays
from model.params import CALIBRATED_FILE, TABLE, Params

from ..errors import UserError
from ..io import atomic_write_bytes, atomic_write_text
from ..provenance import git_state
from ..seeds import replicate_seeds
from .posterior import POSTERIOR_FILE, STATE_DATE, draw_particles, start_state
from .replay import launches_after_resolutions, launches_by_month, resolution_windows, week_months, without_resolutions
from .scenario import Scenario
from .summaries import Summary, compute, panel_from_record, panel_from_trajectory, recorded_rungs, summary_table

CALIBRATED_PARAMETERS = (
    "test_baseline_rate",
    "hawkes_alpha",
    "threat_hazard_weight",
    "reactance_hazard_weight",
    "progress_hazard_weight",
    "moratorium_hazard_weight",
    "red_line_cost",
    "progress_per_test",
    "dprk_talk_base",
    "dprk_talk_progress_weight",
    "dprk_talk_stress_weight",
    "stress_gain",
    "inter_korean_rate",
    "us_dprk_rate",
    "rung_distance_cost",
    "suspend_per_package",
    "summit_rate",
)
"""The uncertainties the 2016-2018 record can inform: testing (baseline, self-excitation,
reactance to new sanctions, threat, completion, the moratorium), the ladder's red line, and the
talks process."""

FACTS_FITTED = ("F1", "F3", "F4")
"""Stylised facts the summaries target (the surge, the 2018 pause, the first talks)."""
FACTS_CHECKED = ("F2", "F5")
"""Stylised facts kept out of the fit: checks (launches around resolutions, the mediator first)."""
F2_STREAM = 0xF2
"""Mixed into the seed for the particles :func:`resolution_effect_over_posterior` draws."""
PROPOSAL_STREAM = 0x5AC
"""Mixed into the seed for the prior draws and the proposals (with the generation and block)."""
SEED_STREAM = 0x5EED
"""Mixed into the seed for the replicate seeds of each block (with the generation and block)."""
ACCEPTANCE = "share of replays within the tolerance"
"""How a particle is accepted and weighted (:func:`acceptance_share`); part of a saved run's
settings, so that generations saved under another rule are never resumed."""
MAX_ALPHA_SHARE = 0.95
MAX_FIRST_DRAWS = 5_000_000


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


# ---- blocks of particles, run on any executor -----------------------------------------------


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
        scenario.params, varying, block.seeds, scenario.weeks, scenario.schedule(), trajectories=True
    )
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
                task = next(tasks, None)
                if task is None:
                    break
                pending.append((task, executor.submit(function, task)))
            if not pending:
                return
            task, future = pending.pop(0)
            yield task, future.result()
    finally:
        for _, future in pending:
            future.cancel()


def expected_distance(mean: np.ndarray, var: np.ndarray, observed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Root expected squared scaled distance over a particle's replicates:
    ``sqrt(sum_j ((mean_j - obs_j)^2 + var_j) / scale_j^2)``."""
    return np.sqrt(((((mean - observed) ** 2) + var) / scales**2).sum(axis=1))


def noise_scales(var: np.ndarray, replicates: int) -> np.ndarray:
    """Each summary's simulated spread: the pooled within-particle standard deviation (unbiased
    variances averaged over particles); 1 where the simulations never vary."""
    pooled = np.sqrt(var.mean(axis=0) * replicates / max(replicates - 1, 1))
    return np.where(pooled > 0, pooled, 1.0)


LOGGED_KINDS = ("launches", "nuclear_tests", "rung", "exercise_launches")
"""Summary kinds (:data:`experiments.history.summaries.STATISTICS`) compared on the log(1 + x)
scale: counts of events, whose spread between replays grows with their level (a self-exciting
process bursts), so that on their own scale a run with 80 launches is barely further from 30
than one with 15 (their pooled spread is about 30 launches a year) and the surge statistics
carry almost no weight in the distance."""


def logged_summaries(summaries: list[Summary]) -> np.ndarray:
    """Which of ``summaries`` the distance compares on the log(1 + x) scale (:data:`LOGGED_KINDS`)."""
    return np.array([s.kind in LOGGED_KINDS for s in summaries], dtype=bool)


def distance_space(stats: np.ndarray, logged: np.ndarray) -> np.ndarray:
    """Summaries (last axis) as the distance compares them: log(1 + x) where ``logged``, else as they are."""
    return np.where(logged, np.log1p(np.where(logged, stats, 0.0)), stats)


def replicate_distances(stats: np.ndarray, observed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The scaled Euclidean distance of each replay to the record: ``stats`` is particles x
    replicates x summaries, the result particles x replicates."""
    return np.sqrt((((stats - observed) / scales) ** 2).sum(axis=2))


def acceptance_share(distances: np.ndarray, tolerance: float) -> np.ndarray:
    """The share of each particle's replays within ``tolerance`` (``distances``: particles x
    replicates). It is an unbiased estimate of the ABC likelihood P(d <= tolerance | theta)
    (Bornn et al. 2017), so importance weights proportional to it target the ABC posterior at
    that tolerance exactly, whatever the number of replays (Del Moral, Doucet and Jasra 2012);
    a particle none of whose replays comes within the tolerance has weight 0."""
    return (distances <= tolerance).mean(axis=1)


def next_tolerance(distances: np.ndarray, weights: np.ndarray, tolerance: float, quantile: float = 0.5) -> float:
    """The next generation's tolerance: the ``quantile`` of the distances of the replays that
    the current ABC posterior accepts (each replay within ``tolerance`` of particle ``i`` weighs
    ``weights_i / share_i``: the joint posterior of parameters and replay)."""
    inside = distances <= tolerance
    share = inside.mean(axis=1)
    per_replay = np.where(inside, (weights / np.where(share > 0, share, 1.0))[:, None], 0.0)
    return weighted_quantile(distances.ravel(), per_replay.ravel(), quantile)


# ---- the result ---------------------------------------------------------------------------------


@dataclass
class Calibration:
    """The result of :func:`calibrate`: the posterior sample and what produced it."""

    posterior: pd.DataFrame  # last population: parameters, mean summaries, distance, weight
    observed: pd.Series
    scales: pd.Series
    simulations: int
    accept: float
    seed: int
    scenario: str
    start_state: dict[str, float]
    tolerances: list[float]
    stopped: str = ""  # why SMC stopped before the requested generations, if it did
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS
    settings: dict[str, Any] = field(default_factory=dict)
    prior_low: dict[str, float] = field(default_factory=dict)
    prior_high: dict[str, float] = field(default_factory=dict)
    replicates: int = 1
    summary_meanings: dict[str, str] = field(default_factory=dict)
    estimate_index: int = 0  # row of the posterior chosen as the calibrated values
    logged: tuple[str, ...] = ()  # summaries the distance compares on the log(1 + x) scale

    def quantile(self, name: str, q: float) -> float:
        """Weighted posterior quantile of a parameter."""
        return weighted_quantile(self.posterior[name].to_numpy(), self.posterior["weight"].to_numpy(), q)

    @property
    def estimates(self) -> dict[str, float]:
        """The calibrated values: the chosen posterior particle (see the module docstring)."""
        return {name: float(self.posterior.at[self.estimate_index, name]) for name in self.parameters}

    @property
    def medians(self) -> dict[str, float]:
        """Weighted posterior medians of the calibrated parameters."""
        return {name: self.quantile(name, 0.5) for name in self.parameters}

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size of the weighted posterior sample."""
        w = self.posterior["weight"].to_numpy()
        return float(w.sum() ** 2 / (w**2).sum())

    def intervals(self, level: float = 0.9) -> pd.DataFrame:
        """Calibrated value, posterior median and central credible interval of each parameter,
        beside the prior actually sampled and the share of its width the interval keeps
        (``width_ratio``: near 1, the record says little about the parameter)."""
        table = credible_intervals(self.posterior, self.parameters, self.prior_low, self.prior_high, level)
        table.insert(0, "calibrated", [self.estimates[name] for name in self.parameters])
        return table

    def correlations(self) -> pd.DataFrame:
        """Weighted posterior correlations of the parameters: pairs near +-1 are those the record
        cannot separate (only a combination of them is identified)."""
        return weighted_correlations(self.posterior, self.parameters)

    def strongest_correlations(self, top: int = 5) -> list[tuple[str, str, float]]:
        """The ``top`` parameter pairs with the largest absolute posterior correlation."""
        return strongest_pairs(self.correlations(), top)

    def toml(self) -> str:
        """The calibrated parameter file (``model/calibrated.toml``)."""
        code = git_state()
        dirty = {True: "true", False: "false"}.get(code["dirty"], '"unknown"')
        lines = [
            "# Calibrated parameter values: written by `escalation calibrate`; read by model/params.py.",
            "# Method: ABC-SMC (see experiments/history/calibration.py and docs/ODD.md, section 9).",
            "",
            "[method]",
            'name = "ABC-SMC (population Monte Carlo), uniform priors over the parameter table ranges"',
            f'scenario = "{self.scenario}"',
            f"simulations = {self.simulations}",
            f"population = {len(self.posterior)}",
            f"replicates_per_particle = {self.replicates}",
            f'acceptance = "{ACCEPTANCE}: weights proportional to that share (the unbiased ABC '
            'likelihood estimate; Bornn et al. 2017, Del Moral et al. 2012) times prior over proposal"',
            f"generations = {len(self.tolerances)}",
            f"first_generation_accept = {self.accept}",
            f"tolerances = [{', '.join(f'{t:.4g}' for t in self.tolerances)}]",
            f"effective_sample_size = {self.effective_sample_size:.1f}",
            *([f'stopped = "{self.stopped}"'] if self.stopped else []),
            f"seed = {self.seed}",
            *[f"{key} = {json.dumps(value)}" for key, value in self.settings.items()],
            f'code_commit = "{code["commit"]}"',
            f"code_dirty = {dirty}",
            f"distance_log_scale = {json.dumps(list(self.logged))}",
            "distance_scales = { " + ", ".join(f"{name} = {value:.6g}" for name, value in self.scales.items()) + " }",
            f"summaries = {json.dumps(list(self.observed.index))}",
            f"facts_fitted = {json.dumps(list(FACTS_FITTED))}",
            f"facts_checked = {json.dumps(list(FACTS_CHECKED))}",
            'point_estimate = "central particle: nearest the weighted posterior median (prior-scaled) among '
            'particles whose share of replays within the final tolerance is at least the weighted median share"',
            "",
            "[parameters]  # a jointly feasible central posterior particle (see point_estimate)",
            *[f"{name} = {value!r}" for name, value in self.estimates.items()],
            "",
            f"[initial_state]  # replayed state on {STATE_DATE.isoformat()} under the calibrated values (median; mode if discrete)",
            *[
                f"{name} = {str(value).lower() if isinstance(value, bool) else repr(value)}"
                for name, value in self.start_state.items()
            ],
            "",
        ]
        return "\n".join(lines)


def credible_intervals(
    posterior: pd.DataFrame,
    parameters: tuple[str, ...],
    prior_low: dict[str, float],
    prior_high: dict[str, float],
    level: float = 0.9,
) -> pd.DataFrame:
    """Per parameter of a weighted posterior sample: median, central ``level`` credible interval,
    the prior bounds sampled and ``width_ratio``, the interval's width over the prior's."""
    q = (1 - level) / 2
    weights = posterior["weight"].to_numpy()
    rows = {}
    for name in parameters:
        values = posterior[name].to_numpy()
        low, high = weighted_quantile(values, weights, q), weighted_quantile(values, weights, 1 - q)
        rows[name] = {
            "median": weighted_quantile(values, weights, 0.5),
            "low": low,
            "high": high,
            "prior_low": prior_low[name],
            "prior_high": prior_high[name],
            "width_ratio": (high - low) / (prior_high[name] - prior_low[name]),
        }
    return pd.DataFrame(rows).T


def weighted_correlations(posterior: pd.DataFrame, parameters: tuple[str, ...]) -> pd.DataFrame:
    """Weighted correlation matrix of the parameters of a posterior sample."""
    theta = posterior[list(parameters)].to_numpy()
    cov = np.atleast_2d(np.cov(theta.T, aweights=posterior["weight"].to_numpy()))
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=list(parameters), columns=list(parameters))


def strongest_pairs(corr: pd.DataFrame, top: int = 5) -> list[tuple[str, str, float]]:
    """The ``top`` pairs of a correlation matrix with the largest absolute correlation."""
    pairs = [(a, b, float(corr.at[a, b])) for i, a in enumerate(corr.index) for b in corr.index[i + 1 :]]
    return sorted(pairs, key=lambda t: -abs(t[2] if np.isfinite(t[2]) else 0))[:top]


def prior_bounds(base: Params, parameters: tuple[str, ...]) -> tuple[dict[str, float], dict[str, float]]:
    """The uniform prior's bounds actually sampled for each parameter, as two dicts."""
    low, high = _prior_bounds(base, parameters)
    return dict(zip(parameters, low.tolist(), strict=True)), dict(zip(parameters, high.tolist(), strict=True))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the smallest value whose cumulative weight
    reaches ``q`` of the total)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cumulative, q * cumulative[-1]), len(values) - 1)])


def central_particle(posterior: pd.DataFrame, parameters: tuple[str, ...], low: np.ndarray, high: np.ndarray) -> int:
    """Row of ``posterior``: among the particles whose ``share`` (of replays within the final
    tolerance: the estimated ABC likelihood) is at least the weighted median share, the one
    nearest the weighted posterior median, each parameter scaled by its prior width (see the
    module docstring)."""
    weights = posterior["weight"].to_numpy()
    share = posterior["share"].to_numpy()
    good = np.flatnonzero(share >= weighted_quantile(share, weights, 0.5))
    theta = posterior[list(parameters)].to_numpy()
    median = np.array([weighted_quantile(theta[:, k], weights, 0.5) for k in range(theta.shape[1])])
    gap = (((theta[good] - median) / (high - low)) ** 2).sum(axis=1)
    return int(posterior.index[good[np.argmin(gap)]])


# ---- the state of a run, one file pair per generation --------------------------------------------


def _state_paths(out: Path, generation: int) -> tuple[Path, Path]:
    return out / f"generation_{generation:02d}.parquet", out / f"generation_{generation:02d}.json"


def _save_generation(out: Path, generation: int, frame: pd.DataFrame, meta: dict[str, Any]) -> None:

    table, info = _state_paths(out, generation)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(table, buffer.getvalue())
    atomic_write_text(info, json.dumps(meta, indent=1) + "\n")  # written last: marks the generation done


def _load_generations(out: Path, fingerprint: dict[str, Any]) -> list[tuple[pd.DataFrame | None, dict[str, Any]]]:
    """The finished generations saved in ``out`` by a run with the same settings, in order."""
    done = []
    while True:
        table, info = _state_paths(out, len(done))
        if not info.is_file():
            return done
        try:
            meta = json.loads(info.read_text(encoding="utf-8"))
            frame = pd.read_parquet(table) if meta.get("filled", True) else None
        except (OSError, ValueError) as error:
            raise UserError(
                f"{info}: an unreadable calibration state ({str(error).splitlines()[0]}); delete "
                f"{out}'s generation files to start afresh"
            ) from None
        if meta.get("fingerprint") != fingerprint:
            differ = sorted(
                k
                for k in set(fingerprint) | set(meta.get("fingerprint", {}))
                if fingerprint.get(k) != meta.get("fingerprint", {}).get(k)
            )
            raise UserError(
                f"{out} holds a calibration with other settings ({', '.join(differ[:4])} differ); "
                "use another --out, or --restart to discard them"
            )
        done.append((frame, meta))


# ---- ABC-SMC --------------------------------------------------------------------------------------


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
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS,
    observed: pd.Series | None = None,
    out: str | Path | None = None,
    executor: Executor | None = None,
    parallelism: int = 1,
) -> Calibration:
    """ABC-SMC (module docstring): up to ``generations`` generations of ``population`` particles,
    each replayed ``replicates`` times; the first keeps the ``accept`` share of its prior draws.

    ``observed`` replaces the record's summaries (a synthetic record, for simulation-based
    calibration; the list of summaries still comes from ``record``). ``block`` particles make a
    task, run on ``executor`` (any ``concurrent.futures.Executor``: the sweeps' process pool or
    Dask client from :func:`experiments.runner.make_executor`, ``parallelism`` its slots) or, by
    default, in this process; the numbers are the same either way.
    With ``out``, each finished generation is saved there and a rerun continues after the last.
    """
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
    unknown = [name for name in parameters if name not in TABLE or TABLE[name].kind != "uncertainty"]
    if unknown:
        raise UserError(f"cannot calibrate {unknown}: only uncertainties can be calibrated")
    from tqdm.auto import tqdm

    summaries = summary_table(scenario, record)
    rungs = recorded_rungs(record)
    names = [s.name for s in summaries]
    observed = observed_summaries(scenario, record, summaries) if observed is None else observed[names].astype(float)
    logged = logged_summaries(summaries)
    obs = distance_space(observed.to_numpy(dtype=float), logged)  # as the distance compares them
    base = scenario.params
    low, high = _prior_bounds(base, parameters)
    fingerprint = {
        "scenario": scenario.name,
        "scenario_params": repr(base),
        "weeks": scenario.weeks,
        "observed": [float(v) for v in observed.to_numpy(dtype=float)],
        "summaries": names,
        "parameters": list(parameters),
        "population": population,
        "accept": accept,
        "seed": seed,
        "block": block,
        "replicates": replicates,
        "prior_low": [float(v) for v in low],
        "prior_high": [float(v) for v in high],
        "max_simulations_per_generation": max_simulations_per_generation,
        "acceptance": ACCEPTANCE,
        "logged": [n for n, flag in zip(names, logged, strict=True) if flag],
    }
    out = Path(out) if out is not None else None
    saved = _load_generations(out, fingerprint) if out is not None and out.is_dir() else []

    def task(generation: int, index: int, theta: np.ndarray) -> Block:
        return Block(
            scenario,
            tuple(parameters),
            theta,
            replicates,
            block_seeds(seed, generation, index, len(theta) * replicates),
            tuple(summaries),
            rungs,
        )

    simulations = 0
    tolerances: list[float] = []
    stopped = ""
    with tqdm(total=generations, unit="generation", desc="ABC-SMC", disable=not progress) as bar:
        # ---- generation 0: rejection from the prior
        if saved:
            frame, meta = saved[0]
            scales = np.array(meta["scales"])
        else:
            draws = int(np.ceil(population / accept))
            theta_all = np.random.default_rng([seed, PROPOSAL_STREAM]).uniform(low, high, size=(draws, len(low)))
            blocks = (task(0, b, theta_all[start : start + block]) for b, start in enumerate(range(0, draws, block)))
            stats_all = np.concatenate(
                [stats for _, stats in ordered_results(executor, parallelism, blocks, run_block_replicates)]
            )
            var_all = distance_space(stats_all, logged).var(axis=1)
            # The prior draws whose closest replay is nearest the record: the smallest tolerance
            # at which `population` of them have a replay inside it.
            nearest = replicate_distances(distance_space(stats_all, logged), obs, noise_scales(var_all, replicates))
            nearest = nearest.min(axis=1)
            keep = np.argsort(nearest, kind="stable")[:population]
            # Adapt the scales once, to the simulation noise within the first population; the
            # tolerance is then the smallest that keeps a replay of every kept draw.
            scales = noise_scales(var_all[keep], replicates)
            distances = replicate_distances(distance_space(stats_all[keep], logged), obs, scales)
            tolerance = float(distances.min(axis=1).max())
            share = acceptance_share(distances, tolerance)
            frame = _population_frame(
                theta_all[keep],
                stats_all[keep],
                distances,
                share,
                share / share.sum(),
                obs,
                scales,
                logged,
                parameters,
                names,
            )
            meta = {
                "fingerprint": fingerprint,
                "scales": scales.tolist(),
                "simulations": draws * replicates,
                "tolerance": tolerance,
                "filled": True,
            }
            if out is not None:
                _save_generation(out, 0, frame, meta)
        simulations += meta["simulations"]
        tolerances.append(meta["tolerance"])
        bar.update(1)
        for generation in range(1, generations):
            if generation < len(saved):
                new_frame, meta = saved[generation]
            else:
                new_frame, meta = _next_generation(
                    frame,
                    generation,
                    population,
                    low,
                    high,
                    scales,
                    obs,
                    seed,
                    block,
                    max_simulations_per_generation,
                    replicates,
                    parameters,
                    names,
                    executor,
                    parallelism,
                    task,
                    tolerances[-1],
                    logged,
                )
                meta["fingerprint"] = fingerprint
                if out is not None:
                    _save_generation(out, generation, new_frame if new_frame is not None else frame.iloc[:0], meta)
            simulations += meta["simulations"]
            if new_frame is None:
                stopped = meta["stopped"]
                break
            frame = new_frame
            tolerances.append(meta["tolerance"])
            bar.update(1)

    prior_low, prior_high = prior_bounds(base, tuple(parameters))
    calibration = Calibration(
        frame.drop(columns=[c for c in frame if c.startswith(("var_", "replay_"))]),
        observed,
        pd.Series(scales, index=names),
        simulations,
        accept,
        seed,
        scenario.name,
        {},
        tolerances,
        stopped,
        parameters=tuple(parameters),
        settings={"block": block, "max_simulations_per_generation": max_simulations_per_generation},
        prior_low=prior_low,
        prior_high=prior_high,
        replicates=replicates,
        summary_meanings={s.name: s.meaning for s in summaries},
        logged=tuple(n for n, flag in zip(names, logged, strict=True) if flag),
    )
    calibration.estimate_index = central_particle(calibration.posterior, tuple(parameters), low, high)
    calibration.start_state = start_state(scenario.with_params(base.replace(**calibration.estimates)))
    return calibration


def _population_frame(theta, stats, distances, share, weights, obs, scales, logged, parameters, names) -> pd.DataFrame:
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


def _next_generation(
    frame: pd.DataFrame,
    generation: int,
    population: int,
    low: np.ndarray,
    high: np.ndarray,
    scales: np.ndarray,
    obs: np.ndarray,
    seed: int,
    block: int,
    max_simulations: int,
    replicates: int,
    parameters: tuple[str, ...],
    names: list[str],
    executor: Executor | None,
    parallelism: int,
    task: Callable[[int, int, np.ndarray], Block],
    previous_tolerance: float,
    logged: np.ndarray,
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """One SMC generation from the population ``frame`` (accepted at ``previous_tolerance``):
    the new population (None if it could not be filled) and its metadata. A proposal is kept
    when at least one of its replays comes within the tolerance, and weighted by the share that
    do times prior / proposal density (:func:`acceptance_share`, :func:`_smc_weights`)."""
    theta = frame[list(parameters)].to_numpy()
    weights = frame["weight"].to_numpy()
    replays = frame[[c for c in frame if c.startswith("replay_")]].to_numpy()
    tolerance = next_tolerance(replays, weights, previous_tolerance)
    spread = kernel_spread(theta, weights, low, high)
    max_blocks = max(1, max_simulations // (block * replicates))

    def proposals() -> Iterator[Block]:
        for b in range(max_blocks):
            rng = np.random.default_rng([seed, PROPOSAL_STREAM, generation, b])
            parents = theta[rng.choice(len(theta), size=block, p=weights / weights.sum())]
            yield task(generation, b, _truncated_normal(rng, parents, spread, low, high))

    accepted: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    count = tried = 0
    for done, stats in ordered_results(executor, parallelism, proposals(), run_block_replicates):
        tried += len(done.theta)
        distances = replicate_distances(distance_space(stats, logged), obs, scales)
        ok = acceptance_share(distances, tolerance) > 0
        accepted.append((done.theta[ok], stats[ok], distances[ok]))
        count += int(ok.sum())
        if count >= population:
            break
    meta: dict[str, Any] = {"simulations": tried * replicates, "tolerance": tolerance, "scales": scales.tolist()}
    if count < population:
        meta.update(
            filled=False,
            stopped=(
                f"generation {generation + 1} accepted {count} of {tried} proposals, fewer "
                f"than the population {population} (the tolerance {tolerance:.3g} is near the "
                f"simulation noise); kept generation {generation}"
            ),
        )
        return None, meta
    new_theta, new_stats, new_distances = (np.concatenate([a[k] for a in accepted])[:population] for k in range(3))
    share = acceptance_share(new_distances, tolerance)
    new_weights = share * _smc_weights(new_theta, theta, weights, spread, low, high)
    meta["filled"] = True
    frame = _population_frame(
        new_theta,
        new_stats,
        new_distances,
        share,
        new_weights / new_weights.sum(),
        obs,
        scales,
        logged,
        parameters,
        names,
    )
    return frame, meta


def kernel_spread(theta: np.ndarray, weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Standard deviations of the component-wise Gaussian proposal kernel: twice the weighted
    variance of the population (Beaumont et al. 2009), never zero."""
    spread = np.sqrt(2.0 * np.atleast_2d(np.cov(theta.T, aweights=weights)).diagonal())
    return np.where(spread > 0, spread, 1e-9 * (high - low))


def _prior_bounds(base: Params, parameters: tuple[str, ...] = CALIBRATED_PARAMETERS) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the uniform prior of each calibrated parameter."""
    low, high = [], []
    for name in parameters:
        row = TABLE[name]
        lo, hi = row.low, row.high
        if name == "hawkes_alpha":
            lo, hi = 0.0, MAX_ALPHA_SHARE * base.hawkes_beta
        low.append(lo)
        high.append(hi)
    return np.array(low, dtype=float), np.array(high, dtype=float)


def _truncated_normal(
    rng: np.random.Generator, centre: np.ndarray, spread: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Component-wise Gaussian perturbation truncated to the prior box (inverse-CDF sampling)."""
    from scipy.stats import norm

    a, b = norm.cdf((low - centre) / spread), norm.cdf((high - centre) / spread)
    u = a + rng.random(centre.shape) * (b - a)
    return np.clip(centre + spread * norm.ppf(u), low, high)


def _smc_weights(
    theta: np.ndarray,
    previous: np.ndarray,
    previous_weights: np.ndarray,
    spread: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """Importance weights of a new population under a uniform prior:
    ``w_i = 1 / sum_j w_j K(theta_i | theta_j)``, ``K`` the truncated component-wise Gaussian
    kernel (each factor renormalised to the prior box), normalised to sum to 1."""
    from scipy.stats import norm

    z = (theta[:, None, :] - previous[None, :, :]) / spread
    mass = norm.cdf((high - previous) / spread) - norm.cdf((low - previous) / spread)  # (j, k)
    log_kernel = (-0.5 * z**2).sum(axis=2) - np.log(mass).sum(axis=1)[None, :]
    kernel = np.exp(log_kernel - log_kernel.max())
    weights = 1.0 / (kernel @ previous_weights)
    return weights / weights.sum()


def resolution_effect_over_posterior(
    scenario: Scenario, posterior: pd.DataFrame, particles: int = 200, replicates: int = 100, seed: int = 9
) -> pd.DataFrame:
    """Fact F2 over the posterior rather than at the calibrated point.

    Draws ``particles`` particles from ``posterior`` by weight and, for each, replays
    ``scenario`` ``replicates`` times with and without its UNSC resolutions on the same seeds
    (common random numbers). Returns one row per drawn particle: ``particle`` (its row in
    ``posterior``), ``effect``, the mean paired difference in launch events over the quarters
    from the resolutions' months (the statistic F2 judges at the calibrated point,
    :meth:`experiments.history.Replay.facts`), and ``se``, its standard error over the
    replicates. A negative effect means that, under that particle, the resolutions suppress
    testing; F2's own criterion is ``effect < -2 se``.
    """
    names = [c for c in posterior.columns if c in TABLE]
    windows = resolution_windows(scenario, week_months(scenario).unique())
    if not windows:
        raise UserError(f"scenario {scenario.name} has no resolution with a full quarter before and after")
    if particles < 1 or replicates < 1:
        raise UserError(f"need particles >= 1 and replicates >= 1; got {particles}, {replicates}")
    drawn = draw_particles(posterior, particles, seed, stream=F2_STREAM)
    theta = posterior.iloc[drawn][names].to_numpy(dtype=float).repeat(replicates, axis=0)
    seeds = replicate_seeds(seed, particles * replicates)
    totals = []
    for variant in (scenario, without_resolutions(scenario)):
        result = simulate_arrays(
            scenario.params,
            dict(zip(names, theta.T, strict=True)),
            seeds,
            scenario.weeks,
            variant.schedule(),
            trajectories=True,
        )
        totals.append(launches_after_resolutions(launches_by_month(result.trajectory, week_months(scenario)), windows))
    differences = (totals[0] - totals[1]).reshape(particles, replicates)
    se = differences.std(axis=1, ddof=1) / np.sqrt(replicates) if replicates > 1 else np.full(particles, np.nan)
    return pd.DataFrame({"particle": drawn, "effect": differences.mean(axis=1), "se": se})


def resolution_effect_summary(effects: pd.DataFrame) -> dict[str, float]:
    """F2 over the posterior (a frame of :func:`resolution_effect_over_posterior`) in a few
    numbers: ``particles``; the ``median`` effect with its central 90% range ``low``, ``high``;
    ``share_below_zero``, the share of particles under which the resolutions suppress testing;
    and ``share_suppressed``, the share that meet F2's criterion (effect below -2 SE)."""
    effect = effects["effect"]
    return {
        "particles": len(effects),
        "median": float(effect.median()),
        "low": float(effect.quantile(0.05)),
        "high": float(effect.quantile(0.95)),
        "share_below_zero": float(np.mean(effect < 0)),
        "share_suppressed": float(np.mean(effect < -2 * effects["se"])),
    }


def write_calibration(result: Calibration, out: Path) -> list[Path]:
    """Write the posterior sample (``posterior.csv``) and the calibrated parameter file
    (``calibrated.toml``) into ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    posterior, calibrated = out / "posterior.csv", out / "calibrated.toml"
    atomic_write_text(posterior, result.posterior.to_csv(index=False))
    atomic_write_text(calibrated, result.toml())
    return [posterior, calibrated]


def install_calibration(result: Calibration) -> list[Path]:
    """Make ``result`` the parameter table's defaults (:data:`model.params.CALIBRATED_FILE`) and
    its posterior sample the one ``[posterior]`` sweeps draw from (:data:`POSTERIOR_FILE`);
    return both paths. The parameter table reads its file at import: a running process keeps
    the old defaults."""
    atomic_write_text(CALIBRATED_FILE, result.toml())
    atomic_write_text(POSTERIOR_FILE, result.posterior.to_csv(index=False))
    return [CALIBRATED_FILE, POSTERIOR_FILE]


def read_calibrated(path: Path = CALIBRATED_FILE) -> dict[str, Any]:
    """The calibrated parameter file as a dict."""
    return tomllib.loads(path.read_text(encoding="utf-8"))
