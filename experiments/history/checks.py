"""Checks of the calibration itself: simulation-based calibration (Talts et al. 2018).

From ``truths`` parameter vectors drawn from the prior, make one synthetic record each (one
replay of the historical scenario under that truth, reduced to the same summaries as the real
record), calibrate on it with a reduced budget, and count how often the central 50% and 90%
credible intervals contain the truth. A calibration whose posteriors are honest covers the
truth at about the nominal rates; much less means overconfident posteriors (the tolerance or
the distance is too tight), much more that the budget leaves them wider than they need be.
The figures go into ``data/calibration_checks.json`` (keys ``truths``, ``sbc_coverage_50``,
``sbc_coverage_90``) and docs/ODD.md section 9.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays

from ..seeds import replicate_seeds
from .calibration import CALIBRATED_PARAMETERS, _prior_bounds, calibrate, simulated_summaries
from .scenario import Scenario
from .summaries import recorded_rungs, summary_table

SBC_STREAM = 0x5BC
"""Mixed into the seed for the truths and their synthetic records."""
CHECKS_FILE = Path(__file__).resolve().parents[2] / "data" / "calibration_checks.json"


def synthetic_observed(scenario: Scenario, record: pd.DataFrame, truth: dict[str, float], seed: int) -> pd.Series:
    """The summaries of one replay of ``scenario`` under ``truth`` (a synthetic record)."""
    summaries = summary_table(scenario, record)
    result = simulate_arrays(
        scenario.params,
        {k: np.array([v]) for k, v in truth.items()},
        replicate_seeds(seed, 1),
        scenario.weeks,
        scenario.schedule(),
        trajectories=True,
    )
    assert result.trajectory is not None  # asked for
    return simulated_summaries(scenario, result.trajectory, summaries, recorded_rungs(record)).iloc[0]


def simulation_based_calibration(
    scenario: Scenario,
    record: pd.DataFrame,
    truths: int = 20,
    seed: int = 7,
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS,
    progress: bool = True,
    **budget: Any,
) -> dict[str, Any]:
    """Coverage of the truth by the 50% and 90% central credible intervals over ``truths``
    synthetic records (``budget``: keyword arguments of :func:`calibrate`, e.g. population,
    generations, accept, replicates, executor, parallelism). Returns the JSON-ready figures: overall coverage
    (over truths and parameters), coverage per parameter, and the settings."""
    from tqdm.auto import tqdm

    low, high = _prior_bounds(scenario.params, parameters)
    rng = np.random.default_rng([seed, SBC_STREAM])
    drawn = rng.uniform(low, high, size=(truths, len(parameters)))
    inside = {50: np.zeros((truths, len(parameters)), bool), 90: np.zeros((truths, len(parameters)), bool)}
    for t in tqdm(range(truths), desc="SBC", unit="truth", disable=not progress):
        truth = dict(zip(parameters, drawn[t], strict=True))
        observed = synthetic_observed(scenario, record, truth, seed=int(rng.integers(2**63)))
        result = calibrate(
            scenario, record, observed=observed, parameters=parameters, seed=seed + 1 + t, progress=False, **budget
        )
        for level, q in ((50, 0.25), (90, 0.05)):
            for k, name in enumerate(parameters):
                inside[level][t, k] = result.quantile(name, q) <= truth[name] <= result.quantile(name, 1 - q)
    cover = {level: inside[level].mean() for level in inside}
    # Standard errors treat truths as independent and parameters within a truth as one cluster.
    se = {
        level: float(inside[level].mean(axis=1).std(ddof=1) / np.sqrt(truths)) if truths > 1 else float("nan")
        for level in inside
    }
    return {
        "truths": truths,
        "sbc_coverage_50": float(cover[50]),
        "sbc_coverage_90": float(cover[90]),
        "sbc_coverage_50_se": se[50],
        "sbc_coverage_90_se": se[90],
        "per_parameter_50": {name: float(inside[50][:, k].mean()) for k, name in enumerate(parameters)},
        "per_parameter_90": {name: float(inside[90][:, k].mean()) for k, name in enumerate(parameters)},
        "scenario": scenario.name,
        "seed": seed,
        "budget": {k: v for k, v in budget.items() if k not in ("executor", "parallelism", "out")},
    }


def write_checks(figures: dict[str, Any], path: Path = CHECKS_FILE) -> Path:
    """Write the figures as JSON (atomically)."""
    from ..io import atomic_write_text

    atomic_write_text(path, json.dumps(figures, indent=2) + "\n")
    return path


IDENTIFIED_WIDTH = 0.5
"""A parameter counts as informed by the record when its 90% credible interval keeps at most this
share of its prior's width."""
STRONG_CORRELATION = 0.5
"""Posterior correlations at least this strong (in absolute value) are listed: the record informs
the pair's combination more than either parameter."""


def identification(posterior: pd.DataFrame, parameters: tuple[str, ...], low: dict, high: dict) -> dict[str, Any]:
    """What the record informs, from a weighted posterior sample: each parameter's 90% credible
    interval as a share of its prior's width (``width_ratio``: about 0.9 for a posterior equal to
    its uniform prior), the effective sample size of the weights, the pairs correlated at least
    :data:`STRONG_CORRELATION`, and the parameters left above :data:`IDENTIFIED_WIDTH` (the record
    does not inform them; a headline effect that rests on one has to be shown over its range)."""
    from .abc.weighted import credible_intervals, strongest_pairs, weighted_correlations

    table = credible_intervals(posterior, parameters, low, high)
    w = posterior["weight"].to_numpy(dtype=float)
    pairs = strongest_pairs(weighted_correlations(posterior, parameters), top=len(parameters) ** 2)
    return {
        "width_ratio": {n: round(float(r), 4) for n, r in table["width_ratio"].items()},
        "effective_sample_size": round(float(w.sum() ** 2 / (w**2).sum()), 1),
        "correlated_pairs": [[a, b, round(r, 3)] for a, b, r in pairs if abs(r) >= STRONG_CORRELATION],
        "not_informed": [n for n, r in table["width_ratio"].items() if r > IDENTIFIED_WIDTH],
        "identified_width": IDENTIFIED_WIDTH,
    }
