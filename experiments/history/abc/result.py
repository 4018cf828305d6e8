"""The result of a calibration: the last population with its weights and what produced it,
the credible intervals and correlations read from it, the calibrated point (a jointly feasible
central particle) and the parameter file written from it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...provenance import git_state
from ..posterior import STATE_DATE
from .prior import CALIBRATED_PARAMETERS
from .weighted import credible_intervals, strongest_pairs, weighted_correlations, weighted_quantile

FACTS_FITTED = ("F1", "F3", "F4")
"""Stylised facts the summaries target (the surge, the 2018 pause, the first talks)."""
FACTS_CHECKED = ("F2", "F5")
"""Stylised facts kept out of the fit: checks (launches around resolutions, the mediator first)."""
ACCEPTANCE = "share of replays within the tolerance"
"""How a particle is accepted and weighted (:func:`~.distance.acceptance_share`); part of a saved
run's settings, so that generations saved under another rule are never resumed."""


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
            "# Method: ABC-SMC (see experiments/history/abc/ and docs/ODD.md, section 9).",
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
