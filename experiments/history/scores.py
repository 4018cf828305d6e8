"""Proper scores of a predictive sample of counts against what was observed.

All functions take ``samples`` with the forecast cases first and the replicates on the last
axis (months x runs for a replay) and ``observed`` with one value per case.

* :func:`crps_sample`: the continuous ranked probability score of the empirical distribution
  of the sample, in its energy form ``E|X - y| - 0.5 E|X - X'|`` (Gneiting & Raftery 2007,
  eq. 21), with ``X, X'`` independent draws from the sample (the same value as
  ``properscoring.crps_ensemble``). Lower is better; it rewards sharpness and calibration
  together, so a needlessly wide predictive distribution scores worse, unlike coverage.
* :func:`crps_poisson`: the same score in closed form for a Poisson forecast (the naive
  baseline: the fitted period's mean monthly rate), ``sum_k (F(k) - 1{y <= k})^2`` over the
  integers (the CRPS of an integer-valued forecast).
* :func:`randomised_pit`: the probability integral transform for counts, randomised within the
  jump of the predictive CDF at the observation (Czado, Gneiting & Held 2009), so that a
  calibrated forecast gives uniform values; :func:`pit_histogram` bins them.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson


def crps_sample(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of each case's sample (last axis) against its observed value (energy form)."""
    x = np.sort(np.asarray(samples, dtype=float), axis=-1)
    y = np.asarray(observed, dtype=float)[..., None]
    n = x.shape[-1]
    # E|X - X'| over independent draws from the sample: 2/n^2 * sum_i (2i - n - 1) x_(i), i = 1..n
    rank = 2 * np.arange(1, n + 1) - n - 1
    spread = 2.0 * (x * rank).sum(axis=-1) / n**2
    return np.abs(x - y).mean(axis=-1) - 0.5 * spread


def crps_poisson(rate: float | np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of a Poisson(``rate``) forecast of each observed count (closed form, summed over the
    integers until the CDF is within 1e-12 of 1)."""
    y = np.asarray(observed, dtype=float)
    rate = np.broadcast_to(np.asarray(rate, dtype=float), y.shape)
    top = int(max(np.max(y, initial=0), poisson.ppf(1 - 1e-12, np.max(rate, initial=0)))) + 2
    k = np.arange(top + 1)
    cdf = poisson.cdf(k[None, :], rate.reshape(-1, 1))
    step = (y.reshape(-1, 1) <= k[None, :]).astype(float)
    return ((cdf - step) ** 2).sum(axis=1).reshape(y.shape)


def randomised_pit(samples: np.ndarray, observed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT of each observed count: ``F(y - 1) + V (F(y) - F(y - 1))``, ``F`` the
    empirical CDF of the case's sample and ``V`` uniform on (0, 1) from ``rng``."""
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observed, dtype=float)[..., None]
    below = (x < y).mean(axis=-1)
    at_or_below = (x <= y).mean(axis=-1)
    return below + rng.random(below.shape) * (at_or_below - below)


def pit_histogram(pit: np.ndarray, bins: int = 10) -> list[int]:
    """Counts of PIT values in ``bins`` equal bins of [0, 1] (flat for a calibrated forecast)."""
    counts, _ = np.histogram(np.asarray(pit, dtype=float), bins=bins, range=(0.0, 1.0))
    return [int(c) for c in counts]


def coverage(samples: np.ndarray, observed: np.ndarray, low_q: float, high_q: float) -> float:
    """Share of cases whose observed value lies inside the ``[low_q, high_q]`` quantiles of its
    sample (inverted-CDF quantiles: attainable counts)."""
    low = np.quantile(samples, low_q, axis=-1, method="inverted_cdf")
    high = np.quantile(samples, high_q, axis=-1, method="inverted_cdf")
    y = np.asarray(observed, dtype=float)
    return float(np.mean((low <= y) & (y <= high)))
