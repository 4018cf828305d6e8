"""Baselines of the out-of-sample validation: the NB regression, its CRPS, the covariates."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import nbinom

from experiments.history.baselines import (
    COVARIATES,
    GAP_CAP,
    crps_negative_binomial,
    design,
    fit_count_regression,
    months_since_launch,
    skill,
)
from experiments.history.scores import crps_poisson, crps_sample


def _energy_crps(mean: float, alpha: float, y: int, top: int = 400) -> float:
    """CRPS = E|X - y| - E|X - X'| / 2 from the NB's probabilities (an independent route)."""
    n = 1 / alpha
    k = np.arange(top)
    p = nbinom.pmf(k, n, n / (n + mean))
    return float((p * np.abs(k - y)).sum() - 0.5 * (p[:, None] * p[None, :] * np.abs(k[:, None] - k[None, :])).sum())


@pytest.mark.parametrize(("mean", "alpha", "y"), [(0.4, 1.5, 0), (0.4, 1.5, 3), (2.0, 0.3, 1), (5.0, 0.8, 12)])
def test_the_nb_crps_equals_its_energy_form(mean, alpha, y):
    assert crps_negative_binomial(mean, alpha, np.array([y]))[0] == pytest.approx(
        _energy_crps(mean, alpha, y), abs=1e-9
    )


def test_the_nb_crps_tends_to_the_poisson_crps_and_matches_a_large_sample():
    y = np.array([0, 1, 2, 7])
    np.testing.assert_allclose(crps_negative_binomial(1.3, 0.0, y), crps_poisson(1.3, y), atol=1e-12)
    np.testing.assert_allclose(crps_negative_binomial(1.3, 1e-7, y), crps_poisson(1.3, y), atol=1e-5)
    rng = np.random.default_rng(7)
    n, mean, alpha = 1 / 0.6, 1.8, 0.6
    draws = rng.negative_binomial(n, n / (n + mean), size=200_000).astype(float)
    for obs in (0, 2, 6):
        exact = crps_negative_binomial(mean, alpha, np.array([obs]))[0]
        estimate = crps_sample(draws[None, :], np.array([obs]))[0]
        se = np.abs(draws - obs).std() / np.sqrt(draws.size)  # the dominant term's sampling error
        assert abs(estimate - exact) < 4 * se, (obs, estimate, exact, se)


def test_months_since_the_last_launch():
    assert months_since_launch(np.array([0, 2, 0, 0, 1, 0]), before=3).tolist() == [3, 4, 1, 2, 3, 1]
    assert months_since_launch(np.zeros(3), before=GAP_CAP + 5).tolist() == [GAP_CAP] * 3


def _synthetic_design(rng, months):
    covariates = pd.DataFrame(
        {
            "exercise": rng.random(months) < 0.3,
            "talks": rng.random(months) < 0.2,
            "sanctions": rng.random(months),
        }
    ).astype(float)
    return covariates, design(covariates, rng.integers(1, 12, months))


def test_the_regression_recovers_known_coefficients():
    rng = np.random.default_rng(11)
    covariates, x = _synthetic_design(rng, 4000)
    truth, alpha = np.array([-0.5, 0.6, -0.8, 0.4, -0.3]), 0.7
    mu = np.exp(x @ truth)
    n = 1 / alpha
    y = rng.negative_binomial(n, n / (n + mu))
    fit = fit_count_regression(y, x)
    assert fit.converged and len(fit.coefficients) == 1 + len(COVARIATES)
    assert np.all(np.abs(fit.coefficients - truth) < 4 * fit.standard_errors), (fit.coefficients, fit.standard_errors)
    assert abs(fit.alpha - alpha) < 0.15


def test_a_constant_covariate_is_held_at_zero():
    rng = np.random.default_rng(3)
    covariates, x = _synthetic_design(rng, 500)
    x[:, 2] = 0.0  # never talks in the training months
    y = rng.poisson(np.exp(x @ np.array([-0.2, 0.5, 0.0, 0.3, -0.2])))
    fit = fit_count_regression(y, x)
    assert fit.coefficients[2] == 0.0 and fit.standard_errors[2] == 0.0


def test_predictive_paths_without_a_gap_effect_have_the_nb_distribution():
    rng = np.random.default_rng(5)
    covariates = pd.DataFrame({"exercise": [1.0, 0.0], "talks": [0.0, 1.0], "sanctions": [0.2, 0.9]})
    from experiments.history.baselines import CountRegression

    fit = CountRegression(np.array([0.1, 0.5, -0.7, 0.3, 0.0]), 0.5, 100, True, np.zeros(5))
    paths = fit.sample(covariates, gap_before=4, draws=100_000, rng=rng)
    mean = fit.mean(design(covariates, np.ones(2)))
    se = np.sqrt(mean + 0.5 * mean**2) / np.sqrt(paths.shape[1])
    assert np.all(np.abs(paths.mean(axis=1) - mean) < 4 * se)
    observed = np.array([2, 0])
    exact = crps_negative_binomial(mean, 0.5, observed)
    estimate = crps_sample(paths, observed)
    tolerance = 4 * np.abs(paths - observed[:, None]).std(axis=1) / np.sqrt(paths.shape[1])
    assert np.all(np.abs(estimate - exact) < tolerance)


def test_skill():
    assert skill(0.5, 1.0) == 0.5 and skill(1.5, 1.0) == -0.5 and skill(0.1, 0.0) is None
