"""Baselines a forecast of monthly launch events must beat, fitted on the same training months.

* The naive rate: a Poisson forecast at the training months' mean monthly count.
* A count regression: a negative binomial (NB2, ``Var = mu + alpha mu^2``; statsmodels'
  ``NegativeBinomial``) of the monthly count on what the record and the scenario say about the
  month: a major US-ROK exercise under way (the scenario's calendar), talks under way (a talks
  event in the record that month), the sanctions level (the scenario's schedule) and the
  months since the last launch (from the counts themselves, so it is simulated forward: each
  predictive path draws a month, then updates the gap for the next).

Both are scored like the model (:mod:`experiments.history.scores`): the CRPS of the predictive
distribution, exact for the naive rate (:func:`~experiments.history.scores.crps_poisson`), by
simulation for the regression, whose months depend on the draws before them; for a fixed mean
:func:`crps_negative_binomial` gives the exact value.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import nbinom

from ..errors import UserError
from .scenario import Scenario

COVARIATES = ("exercise", "talks", "sanctions", "log_months_since_launch")
"""The regression's covariates, besides the intercept."""
GAP_CAP = 36
"""Months since the last launch are counted up to this (a longer quiet spell counts as this)."""


def crps_negative_binomial(mean: np.ndarray | float, alpha: float, observed: np.ndarray) -> np.ndarray:
    """CRPS of an NB2 forecast (mean ``mean``, dispersion ``alpha``: variance ``mean + alpha
    mean^2``) of each observed count: ``sum_k (F(k) - 1{y <= k})^2`` over the integers, summed
    until the CDF is within 1e-12 of 1. ``alpha = 0`` is the Poisson forecast."""
    y = np.asarray(observed, dtype=float)
    mean = np.broadcast_to(np.asarray(mean, dtype=float), y.shape).reshape(-1, 1)
    if alpha <= 0:
        from scipy.stats import poisson

        dist = poisson(mean)
    else:
        n = 1.0 / alpha
        dist = nbinom(n, n / (n + mean))
    top = int(max(np.max(y, initial=0), np.max(dist.ppf(1 - 1e-12), initial=0))) + 2
    k = np.arange(top + 1)[None, :]
    cdf = dist.cdf(k)
    step = (y.reshape(-1, 1) <= k).astype(float)
    return ((cdf - step) ** 2).sum(axis=1).reshape(y.shape)


def months_since_launch(launches: np.ndarray, before: int = GAP_CAP) -> np.ndarray:
    """For each month, the months since the last month with a launch before it (1: the month
    before had one), capped at :data:`GAP_CAP`; ``before``: the gap at the first month."""
    gaps = np.empty(len(launches))
    gap = float(before)
    for i, count in enumerate(np.asarray(launches)):
        gaps[i] = min(gap, GAP_CAP)
        gap = 1.0 if count > 0 else gap + 1.0
    return gaps


def monthly_covariates(scenario: Scenario, record: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """The covariates of ``months`` (all in the scenario and the record) known without the counts:
    ``exercise`` (1 if a major exercise is held in some week of the month, by the scenario's
    calendar), ``talks`` (1 if the record has a talks event that month) and ``sanctions`` (the
    scenario's sanctions level, the highest in the month's weeks)."""
    week_months = pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()])
    arrays = scenario.lever_arrays(scenario.weeks)
    floor = pd.Series(arrays["sanctions_floor"]).ffill().fillna(scenario.params.sanctions_level).to_numpy()
    floor = np.maximum(floor, scenario.params.sanctions_level)
    weekly = pd.DataFrame(
        {"exercise": (arrays["scheduled_exercise"] > 0).astype(float), "sanctions": floor}, index=week_months
    )
    by_month = weekly.groupby(level=0).max()
    missing = months.difference(by_month.index)
    if len(missing):
        raise UserError(f"the scenario {scenario.name} does not cover {missing[0]}")
    frame = by_month.reindex(months)
    frame["talks"] = record["talks"].reindex(months).astype(float).to_numpy()
    return frame[["exercise", "talks", "sanctions"]]


def design(covariates: pd.DataFrame, gaps: np.ndarray) -> np.ndarray:
    """The design matrix: intercept, the covariates, log(months since the last launch)."""
    x = covariates[["exercise", "talks", "sanctions"]].to_numpy(dtype=float)
    return np.column_stack([np.ones(len(x)), x, np.log(np.asarray(gaps, dtype=float))])


@dataclass
class CountRegression:
    """A fitted NB2 regression of monthly launch events (:data:`COVARIATES`)."""

    coefficients: np.ndarray  # intercept first, then COVARIATES
    alpha: float
    months: int
    converged: bool
    standard_errors: np.ndarray  # of the coefficients (0 for one held at 0)

    def mean(self, x: np.ndarray) -> np.ndarray:
        """Predicted mean count of each row of a design matrix."""
        return np.exp(np.asarray(x, dtype=float) @ self.coefficients)

    def as_dict(self) -> dict:
        return {
            "coefficients": dict(zip(("intercept", *COVARIATES), map(float, self.coefficients), strict=True)),
            "standard_errors": dict(zip(("intercept", *COVARIATES), map(float, self.standard_errors), strict=True)),
            "alpha": self.alpha,
            "months": self.months,
            "converged": self.converged,
        }

    def sample(self, covariates: pd.DataFrame, gap_before: float, draws: int, rng: np.random.Generator) -> np.ndarray:
        """``draws`` predictive paths over the months of ``covariates`` (months x draws): each month
        is drawn from the NB with its mean, and the months since the last launch follow the draws."""
        x = design(covariates, np.ones(len(covariates)))
        n = 1.0 / self.alpha if self.alpha > 0 else None
        gap = np.full(draws, min(float(gap_before), GAP_CAP))
        out = np.zeros((len(x), draws))
        for i, row in enumerate(x):
            row = np.broadcast_to(row, (draws, len(row))).copy()
            row[:, -1] = np.log(gap)
            mu = self.mean(row)
            out[i] = rng.poisson(mu) if n is None else rng.negative_binomial(n, n / (n + mu))
            gap = np.where(out[i] > 0, 1.0, np.minimum(gap + 1.0, GAP_CAP))
        return out


def fit_count_regression(counts: np.ndarray, x: np.ndarray) -> CountRegression:
    """Fit the NB2 regression by maximum likelihood (statsmodels); a covariate constant over the
    training months (its coefficient not identified) is held at 0."""
    import statsmodels.api as sm

    y = np.asarray(counts, dtype=float)
    if y.sum() == 0:
        raise UserError("the training months have no launch: a count regression cannot be fitted")
    varies = np.r_[True, np.ptp(x[:, 1:], axis=0) > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; `converged` reports it
        model = sm.NegativeBinomial(y, x[:, varies], loglike_method="nb2")
        result = model.fit(method="bfgs", maxiter=2000, disp=0)
    params = np.asarray(result.params, dtype=float)
    with np.errstate(invalid="ignore"):
        errors = np.asarray(result.bse, dtype=float)
    coefficients, standard_errors = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    coefficients[varies], standard_errors[varies] = params[:-1], errors[:-1]
    return CountRegression(
        coefficients, float(params[-1]), len(y), bool(result.mle_retvals.get("converged", False)), standard_errors
    )


def skill(crps: float, baseline: float) -> float | None:
    """``1 - crps / baseline`` (above 0: better than the baseline); None against a perfect baseline."""
    return float(1 - crps / baseline) if baseline > 0 else None
