"""The transition: proposals for the next generation by resampling the population by weight and
perturbing with a component-wise Gaussian kernel truncated to the prior box, of twice the
population's weighted variance (Beaumont et al. 2009); and the importance weights of the new
particles, prior over proposal density."""

from __future__ import annotations

import numpy as np


def kernel_spread(theta: np.ndarray, weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Standard deviations of the component-wise Gaussian proposal kernel: twice the weighted
    variance of the population (Beaumont et al. 2009), never zero."""
    spread = np.sqrt(2.0 * np.atleast_2d(np.cov(theta.T, aweights=weights)).diagonal())
    return np.where(spread > 0, spread, 1e-9 * (high - low))


def propose(
    rng: np.random.Generator,
    theta: np.ndarray,
    weights: np.ndarray,
    spread: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    size: int,
) -> np.ndarray:
    """``size`` proposals: parents drawn from ``theta`` by weight, each perturbed by the kernel."""
    parents = theta[rng.choice(len(theta), size=size, p=weights / weights.sum())]
    return _truncated_normal(rng, parents, spread, low, high)


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
