"""The distance between a replay's summaries and the record's: the scaled Euclidean distance
``d = sqrt(sum_j (x_j - obs_j)^2 / scale_j^2)``, counts compared on the log(1 + x) scale, each
statistic scaled by its simulated spread (the pooled within-particle standard deviation, the
simulation noise: Prangle 2017); and the acceptance of a particle, the share of its replays
within a tolerance."""

from __future__ import annotations

import numpy as np

from ..summaries import Summary


def expected_distance(mean: np.ndarray, var: np.ndarray, observed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Root expected squared scaled distance over a particle's replicates:
    ``sqrt(sum_j ((mean_j - obs_j)^2 + var_j) / scale_j^2)``."""
    return np.sqrt(((((mean - observed) ** 2) + var) / scales**2).sum(axis=1))


def noise_scales(var: np.ndarray, replicates: int) -> np.ndarray:
    """Each summary's simulated spread: the pooled within-particle standard deviation (unbiased
    variances averaged over particles); 1 where the simulations never vary."""
    pooled = np.sqrt(var.mean(axis=0) * replicates / max(replicates - 1, 1))
    return np.where(pooled > 0, pooled, 1.0)


LOGGED_KINDS = ("launches", "nuclear_tests", "rung", "exercise_launches", "rung_total", "nuclear_total")
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
