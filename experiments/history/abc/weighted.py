"""Weighted-sample statistics of a posterior population: quantiles, credible intervals,
correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the smallest value whose cumulative weight
    reaches ``q`` of the total)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cumulative, q * cumulative[-1]), len(values) - 1)])


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
