"""Fact F2 over the posterior: the paired effect of the UN resolutions on launches under
particles drawn from a calibration's posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.batched import simulate_arrays
from model.params import TABLE

from ...errors import UserError
from ...seeds import replicate_seeds
from ..posterior import draw_particles
from ..replay import launches_after_resolutions, launches_by_month, resolution_windows, week_months, without_resolutions
from ..scenario import Scenario

F2_STREAM = 0xF2
"""Mixed into the seed for the particles :func:`resolution_effect_over_posterior` draws."""


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
        assert result.trajectory is not None  # asked for above
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
