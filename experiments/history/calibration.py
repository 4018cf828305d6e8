"""Calibration of the parameters the record can inform, by approximate Bayesian computation
(ABC) with sequential Monte Carlo (ABC-SMC / population Monte Carlo: Toni et al. 2009,
Beaumont et al. 2009), on the batched engine.

1. Prior: independent uniforms over the parameter table's ranges (``hawkes_alpha`` below
   0.95 ``hawkes_beta``, so that the test process stays stationary).
2. Each proposal is replayed once through the historical scenario; the summary statistics
   :data:`SUMMARIES` of its weekly series are compared with the same statistics of the record
   by a Euclidean distance over statistics scaled by their median absolute deviation across
   the prior draws (so that no statistic dominates by its units).
3. Generation 0 draws ``population / accept`` parameter sets from the prior and keeps the
   ``population`` closest (ABC rejection, Pritchard et al. 1999). Each later generation sets
   its tolerance to the median distance of the previous one, proposes by resampling the
   previous population by weight and perturbing with a Gaussian kernel of twice its weighted
   covariance, and keeps proposals inside the prior and within the tolerance until it has
   ``population`` of them; weights are prior / sum_j w_j K(theta | theta_j).
4. The posterior sample is the last population with its weights. The calibrated values are
   the posterior particle with the smallest expected squared distance to the record, over
   ``check_replicates`` replays each, among the ``candidates`` particles closest to it: the
   posterior is strongly correlated (a higher baseline test rate goes with a stronger
   completion effect, say), so its marginal medians need not fit jointly; they are reported
   beside the estimate. The default start state of the policy sweep (26 February 2018) is the
   median replayed state on that date under the calibrated values.

``model/calibrated.toml`` holds the result; the parameter table's defaults cite and read it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays
from model.params import CALIBRATED_FILE, TABLE, Params
from model.rules import INTER_KOREAN, NUCLEAR_RUNG, PRELIMINARY, SUMMIT_NONE, talks_reached, talks_under_way

from ..errors import UserError
from ..io import atomic_write_text
from ..provenance import git_state
from ..seeds import replicate_seeds
from .posterior import POSTERIOR_FILE, STATE_DATE, draw_particles, start_state
from .replay import (
    by_month,
    launches_after_resolutions,
    launches_by_month,
    resolution_windows,
    week_months,
    without_resolutions,
)
from .scenario import Scenario

CALIBRATED_PARAMETERS = (
    "test_baseline_rate", "hawkes_alpha", "threat_hazard_weight", "reactance_hazard_weight",
    "progress_hazard_weight", "moratorium_hazard_weight", "red_line_cost", "progress_per_test",
    "dprk_talk_base", "dprk_talk_progress_weight", "dprk_talk_stress_weight", "stress_gain",
    "inter_korean_rate", "us_dprk_rate", "rung_distance_cost", "suspend_per_package", "summit_rate",
)
"""The uncertainties the 2016-2018 record can inform: testing (baseline, self-excitation,
reactance to new sanctions, threat, completion, the moratorium), the ladder's red line, and the
talks process."""

# Not a target: the change in launches around UNSC resolutions (fact F2), kept out of sample.
SUMMARIES = (
    "launches_2016", "launches_2017", "launches_2018", "months_with_launch_2016_17",
    "nuclear_tests_2016_17", "talks_months_2016_17", "first_inter_korean_month",
    "first_us_dprk_month", "talks_months_2018", "first_summit_month",
)
F2_STREAM = 0xF2
"""Mixed into the seed for the particles :func:`resolution_effect_over_posterior` draws."""
MAX_ALPHA_SHARE = 0.95
MAX_FIRST_DRAWS = 5_000_000


def simulated_summaries(scenario: Scenario, trajectory: dict[str, np.ndarray]) -> pd.DataFrame:
    """The summary statistics of each simulated run (one row per run)."""
    weeks = week_months(scenario)
    unique = weeks.unique()
    launches = launches_by_month(trajectory, weeks)
    nuclear = by_month(np.where(trajectory["test_rung"] == NUCLEAR_RUNG, trajectory["tests"], 0), weeks)
    year = np.asarray(unique.year)
    surge = (year == 2016) | (year == 2017)
    talks = by_month(talks_under_way(trajectory["talks_stage"]).astype(np.int8), weeks, how="max")

    def first_month(stage: int) -> np.ndarray:
        reached = by_month(talks_reached(trajectory["talks_stage"], stage).astype(np.int8), weeks, how="max").astype(bool)
        first = reached.argmax(axis=0).astype(float)
        first[~reached.any(axis=0)] = len(unique)
        return first

    def first_summit() -> np.ndarray:
        held = by_month((trajectory["summit"] != SUMMIT_NONE).astype(np.int8), weeks, how="max").astype(bool)
        first = held.argmax(axis=0).astype(float)
        first[~held.any(axis=0)] = len(unique)
        return first

    return pd.DataFrame({
        "launches_2016": launches[year == 2016].sum(axis=0),
        "launches_2017": launches[year == 2017].sum(axis=0),
        "launches_2018": launches[year == 2018].sum(axis=0),
        "months_with_launch_2016_17": (launches[surge] > 0).sum(axis=0),
        "nuclear_tests_2016_17": nuclear[surge].sum(axis=0),
        "talks_months_2016_17": talks[surge].sum(axis=0),
        "first_inter_korean_month": first_month(INTER_KOREAN),
        "first_us_dprk_month": first_month(PRELIMINARY),
        "talks_months_2018": talks[year == 2018].sum(axis=0),
        "first_summit_month": first_summit(),
    })


def observed_summaries(scenario: Scenario, record: pd.DataFrame) -> pd.Series:
    """The same statistics computed from the record."""
    unique = week_months(scenario).unique()
    missing = [str(m) for m in unique if m not in record.index]
    if missing:
        raise UserError(f"the record lacks month(s) {', '.join(missing[:3])} of the scenario; calibration needs them all")
    rec = record.loc[unique]
    year = np.asarray(unique.year)
    surge = (year == 2016) | (year == 2017)
    if not (year == 2016).any() or not (year == 2018).any():
        raise UserError("calibration targets 2016-2018: the scenario must cover those years")

    def first(column: str) -> float:
        hits = np.flatnonzero(rec[column].to_numpy())
        return float(hits[0]) if len(hits) else float(len(unique))

    return pd.Series({
        "launches_2016": rec.loc[year == 2016, "launches"].sum(),
        "launches_2017": rec.loc[year == 2017, "launches"].sum(),
        "launches_2018": rec.loc[year == 2018, "launches"].sum(),
        "months_with_launch_2016_17": (rec.loc[surge, "launches"] > 0).sum(),
        "nuclear_tests_2016_17": rec.loc[surge, "nuclear_tests"].sum(),
        "talks_months_2016_17": rec.loc[surge, "talks"].sum(),
        "first_inter_korean_month": first("inter_korean_talks"),
        "first_us_dprk_month": first("us_dprk_talks"),
        "talks_months_2018": rec.loc[year == 2018, "talks"].sum(),
        "first_summit_month": first("us_dprk_summit"),
    }, dtype=float)


@dataclass
class Calibration:
    """The result of :func:`calibrate`: the posterior sample and what produced it."""

    posterior: pd.DataFrame     # last population: parameters, summaries, distance, weight
    observed: pd.Series
    scales: pd.Series
    simulations: int
    accept: float
    seed: int
    scenario: str
    start_state: dict[str, float]
    tolerances: list[float]
    stopped: str = ""           # why SMC stopped before the requested generations, if it did
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS
    settings: dict[str, Any] = field(default_factory=dict)

    def quantile(self, name: str, q: float) -> float:
        """Weighted posterior quantile of a parameter."""
        order = np.argsort(self.posterior[name].to_numpy())
        values = self.posterior[name].to_numpy()[order]
        cumulative = np.cumsum(self.posterior["weight"].to_numpy()[order])
        return float(values[np.searchsorted(cumulative, q * cumulative[-1])])

    estimate_index: int = 0     # row of the posterior chosen as the calibrated values

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
        w = self.posterior["weight"].to_numpy()
        return float(w.sum() ** 2 / (w ** 2).sum())

    def intervals(self, level: float = 0.9) -> pd.DataFrame:
        """Calibrated value, posterior median and central credible interval of each parameter,
        beside the prior range."""
        q = (1 - level) / 2
        rows = {name: {"calibrated": self.estimates[name], "median": self.quantile(name, 0.5), "low": self.quantile(name, q),
                       "high": self.quantile(name, 1 - q), "prior_low": TABLE[name].low,
                       "prior_high": TABLE[name].high} for name in self.parameters}
        return pd.DataFrame(rows).T

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
            f"generations = {len(self.tolerances)}",
            f"first_generation_accept = {self.accept}",
            f"tolerances = [{', '.join(f'{t:.4g}' for t in self.tolerances)}]",
            f"effective_sample_size = {self.effective_sample_size:.1f}",
            *([f'stopped = "{self.stopped}"'] if self.stopped else []),
            f"seed = {self.seed}",
            *[f"{key} = {value}" for key, value in self.settings.items()],
            f'code_commit = "{code["commit"]}"',
            f"code_dirty = {dirty}",
            "distance_scales = { "
            + ", ".join(f"{name} = {value:.6g}" for name, value in self.scales.items()) + " }",
            f'summaries = [{", ".join(repr(s) for s in SUMMARIES)}]'.replace("'", '"'),
            "",
            "[parameters]  # the posterior particle with the smallest expected distance to the record",
            *[f"{name} = {value!r}" for name, value in self.estimates.items()],
            "",
            f"[initial_state]  # replayed state on {STATE_DATE.isoformat()} under the calibrated values (median; mode if discrete)",
            *[f"{name} = {str(value).lower() if isinstance(value, bool) else repr(value)}"
              for name, value in self.start_state.items()],
            "",
        ]
        return "\n".join(lines)


def calibrate(scenario: Scenario, record: pd.DataFrame, population: int = 1000, generations: int = 4,
              accept: float = 0.02, seed: int = 1, block: int = 20_000, progress: bool = True,
              max_simulations_per_generation: int = 1_000_000, candidates: int = 100,
              check_replicates: int = 200, parameters: tuple[str, ...] = CALIBRATED_PARAMETERS) -> Calibration:
    """ABC-SMC (module docstring): up to ``generations`` generations of ``population`` particles;
    the first keeps the ``accept`` share of its prior draws. A generation that cannot fill its
    population within ``max_simulations_per_generation`` proposals ends the run, keeping the
    previous one (its tolerance has reached the noise of a single replay)."""
    if population < 10 or generations < 1 or not 0 < accept < 1:
        raise UserError(f"need population >= 10, generations >= 1 and 0 < accept < 1; got {population}, {generations}, {accept}")
    if population / accept > MAX_FIRST_DRAWS:
        raise UserError(f"population / accept = {population / accept:.3g} prior draws: at most {MAX_FIRST_DRAWS:,}; "
                        "raise --accept or lower --population")
    unknown = [name for name in parameters if name not in TABLE or TABLE[name].kind != "uncertainty"]
    if unknown:
        raise UserError(f"cannot calibrate {unknown}: only uncertainties can be calibrated")
    from tqdm.auto import tqdm

    observed = observed_summaries(scenario, record)
    base, schedule = scenario.params, scenario.schedule()
    rng = np.random.default_rng([seed, 0x5AC])
    low, high = _prior_bounds(base, parameters)
    counter = [0]

    def simulate(theta: np.ndarray) -> pd.DataFrame:
        seeds = replicate_seeds(seed, len(theta), first=counter[0])
        counter[0] += len(theta)
        frames = []
        for start in range(0, len(theta), block):
            part = theta[start:start + block]
            result = simulate_arrays(base, dict(zip(parameters, part.T)), seeds[start:start + block],
                                     scenario.weeks, schedule, trajectories=True)
            frames.append(simulated_summaries(scenario, result.trajectory))
        return pd.concat(frames, ignore_index=True)

    with tqdm(total=generations, unit="generation", desc="ABC-SMC", disable=not progress) as bar:
        draws = int(np.ceil(population / accept))
        theta = rng.uniform(low, high, size=(draws, len(low)))
        stats = simulate(theta)
        scales = (stats - stats.median()).abs().median().replace(0, 1.0)
        distance = _distance(stats, observed, scales)
        keep = np.argsort(distance, kind="stable")[:population]
        theta, stats, distance = theta[keep], stats.iloc[keep].reset_index(drop=True), distance[keep]
        weights = np.full(population, 1.0 / population)
        stopped = ""
        bar.update(1)
        # Adapt the distance once (Prangle 2017): scale each statistic by its spread within the
        # first population rather than across the whole prior, where counts range over orders
        # of magnitude and would be drowned out by the talks timings. Tolerances are all
        # reported on this scale.
        scales = (stats - stats.median()).abs().median().replace(0, 1.0)
        distance = _distance(stats, observed, scales)
        tolerances = [float(distance.max())]
        for _ in range(1, generations):
            tolerance = float(np.median(distance))
            spread = np.sqrt(2.0 * np.atleast_2d(np.cov(theta.T, aweights=weights)).diagonal())
            accepted_theta, accepted_stats, accepted_distance = [], [], []
            tried = 0
            while sum(len(t) for t in accepted_theta) < population and tried < max_simulations_per_generation:
                parents = theta[rng.choice(population, size=block, p=weights)]
                proposal = _truncated_normal(rng, parents, spread, low, high)
                new_stats = simulate(proposal)
                tried += len(proposal)
                d = _distance(new_stats, observed, scales)
                ok = d <= tolerance
                accepted_theta.append(proposal[ok])
                accepted_stats.append(new_stats[ok])
                accepted_distance.append(d[ok])
            if sum(len(t) for t in accepted_theta) < population:
                stopped = (f"generation {len(tolerances) + 1} accepted too few of {tried} proposals "
                           f"(the tolerance {tolerance:.3g} is near the simulation noise); kept generation {len(tolerances)}")
                break
            new_theta = np.concatenate(accepted_theta)[:population]
            new_stats = pd.concat(accepted_stats, ignore_index=True).iloc[:population]
            new_distance = np.concatenate(accepted_distance)[:population]
            weights = _smc_weights(new_theta, theta, weights, spread, low, high)
            theta, stats, distance = new_theta, new_stats.reset_index(drop=True), new_distance
            tolerances.append(tolerance)
            bar.update(1)

    posterior = pd.concat([pd.DataFrame(theta, columns=list(parameters)), stats.add_prefix("sim_"),
                           pd.Series(distance, name="distance"), pd.Series(weights, name="weight")], axis=1)
    calibration = Calibration(posterior, observed, scales, counter[0], accept, seed, scenario.name, {}, tolerances, stopped,
                              parameters=tuple(parameters), settings={"block": block, "candidates": candidates,
                                                                      "check_replicates": check_replicates})
    calibration.estimate_index = _best_particle(scenario, observed, scales, posterior, candidates, check_replicates,
                                                seed, parameters)
    calibration.start_state = start_state(scenario.with_params(base.replace(**calibration.estimates)))
    return calibration


def _best_particle(scenario: Scenario, observed: pd.Series, scales: pd.Series, posterior: pd.DataFrame,
                   candidates: int, replicates: int, seed: int, parameters: tuple[str, ...]) -> int:
    """Row of ``posterior``, among the ``candidates`` closest to the record, whose replays
    (``replicates`` each, common random numbers across candidates) have the smallest mean
    squared scaled distance to the record."""
    rows = posterior["distance"].nsmallest(min(candidates, len(posterior))).index.to_numpy()
    theta = posterior.loc[rows, list(parameters)].to_numpy()
    varying = {name: np.repeat(theta[:, k], replicates) for k, name in enumerate(parameters)}
    seeds = np.tile(replicate_seeds(seed + 1, replicates), len(rows))
    result = simulate_arrays(scenario.params, varying, seeds, scenario.weeks, scenario.schedule(), trajectories=True)
    squared = _distance(simulated_summaries(scenario, result.trajectory), observed, scales) ** 2
    return int(rows[np.argmin(squared.reshape(len(rows), replicates).mean(axis=1))])


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


def _distance(stats: pd.DataFrame, observed: pd.Series, scales: pd.Series) -> np.ndarray:
    return np.sqrt((((stats - observed) / scales) ** 2).sum(axis=1)).to_numpy()


def _truncated_normal(rng: np.random.Generator, centre: np.ndarray, spread: np.ndarray,
                      low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Component-wise Gaussian perturbation truncated to the prior box (inverse-CDF sampling)."""
    from scipy.stats import norm

    a, b = norm.cdf((low - centre) / spread), norm.cdf((high - centre) / spread)
    u = a + rng.random(centre.shape) * (b - a)
    return np.clip(centre + spread * norm.ppf(u), low, high)


def _smc_weights(theta: np.ndarray, previous: np.ndarray, previous_weights: np.ndarray, spread: np.ndarray,
                 low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Importance weights of a new population under a uniform prior:
    ``w_i = 1 / sum_j w_j K(theta_i | theta_j)``, ``K`` the truncated component-wise Gaussian
    kernel (each factor renormalised to the prior box), normalised to sum to 1."""
    from scipy.stats import norm

    z = (theta[:, None, :] - previous[None, :, :]) / spread
    mass = norm.cdf((high - previous) / spread) - norm.cdf((low - previous) / spread)  # (j, k)
    log_kernel = (-0.5 * z ** 2).sum(axis=2) - np.log(mass).sum(axis=1)[None, :]
    kernel = np.exp(log_kernel - log_kernel.max())
    weights = 1.0 / (kernel @ previous_weights)
    return weights / weights.sum()


def resolution_effect_over_posterior(scenario: Scenario, posterior: pd.DataFrame, particles: int = 200,
                                     replicates: int = 100, seed: int = 9) -> pd.DataFrame:
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
        result = simulate_arrays(scenario.params, dict(zip(names, theta.T)), seeds, scenario.weeks,
                                 variant.schedule(), trajectories=True)
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
    return {"particles": len(effects), "median": float(effect.median()), "low": float(effect.quantile(0.05)),
            "high": float(effect.quantile(0.95)), "share_below_zero": float(np.mean(effect < 0)),
            "share_suppressed": float(np.mean(effect < -2 * effects["se"]))}


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
