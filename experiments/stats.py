"""Statistics that turn replicated simulation runs into honest estimates.

Everything here is a pure function of numpy arrays or pandas frames: no model
state, no I/O, no randomness except where a seed is passed in explicitly.

Contents
--------
Means
    :func:`t_interval`           Student t interval for a mean, vectorised.
    :func:`count_mean_interval`  quasi-Poisson (scaled Garwood) interval for the mean of a skewed count.
Multiplicity
    :func:`holm_adjust`, :func:`bh_adjust`  Holm (FWER) and Benjamini-Hochberg (FDR) adjusted p-values.
Proportions
    :func:`wilson_interval`      Wilson (1927) score interval, vectorised.
Paired comparisons (common random numbers: the same replicate seeds run under two policies)
    :func:`newcombe_paired_interval`  Newcombe (1998) method 10 from the 2x2 cell counts, vectorised.
    :func:`mcnemar_exact_p`           exact conditional McNemar test from the discordant counts, vectorised.
    :func:`paired_difference`         both of the above from two boolean outcome arrays.
    :func:`paired_bootstrap_difference`  percentile bootstrap over replicate pairs.
Time to event with right censoring
    :func:`event_time_with_censoring`  NaN event week -> censored at the horizon; the
                                       Kaplan-Meier curves themselves come from
                                       ``scipy.stats.ecdf`` (:mod:`experiments.analysis.survival`).

Conventions
-----------
* ``confidence`` is the two-sided level (0.95 -> z = Phi^{-1}(0.975) = 1.959964). All quantiles
  come from ``scipy.stats`` (``norm.ppf``, ``t.ppf``); nothing is hard-coded to 1.96.
* In paired data the four cells are named as in Newcombe (1998b):
  ``e`` = both outcomes true, ``f`` = A true / B false, ``g`` = A false / B true,
  ``h`` = both false, ``n = e + f + g + h``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "t_interval",
    "wilson_interval",
    "newcombe_paired_interval",
    "mcnemar_exact_p",
    "paired_difference",
    "paired_bootstrap_difference",
    "event_time_with_censoring",
    "count_mean_interval",
    "holm_adjust",
    "bh_adjust",
]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _z(confidence: float) -> float:
    """Two-sided standard normal critical value z = Phi^{-1}(1 - (1 - confidence)/2)."""
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(_st.norm.ppf(0.5 + confidence / 2.0))


def _as_bool_array(x, name: str) -> np.ndarray:
    """1-D boolean array from bools or 0/1 numbers; refuses missing values and other numbers.

    A NaN silently cast to ``True`` would invent events, so missing values are an error here.
    """
    if isinstance(x, (pd.Series, pd.Index)):
        if x.isna().any():
            raise ValueError(f"{name} contains missing values")
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    if arr.dtype == object:
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in arr):
            raise ValueError(f"{name} contains missing values")
    try:
        num = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be boolean (or 0/1), got dtype {arr.dtype}") from exc
    if np.isnan(num).any():
        raise ValueError(f"{name} contains missing values")
    if not np.isin(num, (0.0, 1.0)).all():
        raise ValueError(f"{name} must be boolean (or 0/1); found other values")
    return num.astype(bool)


# --------------------------------------------------------------------------------------------
# single proportions
# --------------------------------------------------------------------------------------------


def t_interval(mean, sd, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student t interval for a mean, ``mean -/+ t_{n-1, (1+c)/2} * sd / sqrt(n)`` (at least one
    degree of freedom), vectorised over groups. A NaN ``sd`` (one run) gives a NaN interval.

    Source: Student (1908); the replicates of a design point are independent runs.
    """
    mean, sd, n = (np.asarray(x, dtype=float) for x in (mean, sd, n))
    half = _st.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    return mean - half, mean + half


def wilson_interval(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion, vectorised (no continuity correction).

    With ``x`` successes in ``n`` trials, ``p = x/n`` and ``z = Phi^{-1}(1 - alpha/2)``::

        centre    = (x + z^2/2) / (n + z^2)
        halfwidth = z * sqrt( x(n - x)/n + z^2/4 ) / (n + z^2)
        (L, U)    = centre -/+ halfwidth

    i.e. the set of ``pi`` with ``|p - pi| <= z sqrt(pi(1 - pi)/n)`` (the score test inverted).
    The limits are clipped to [0, 1] and to hold ``p`` only to remove floating-point dust:
    mathematically L = 0 at x = 0, U = 1 at x = n, and L <= p <= U always.

    Sources: Wilson EB (1927) "Probable inference, the law of succession, and statistical
    inference", JASA 22:209-212; Newcombe RG (1998a) "Two-sided confidence intervals for the
    single proportion: comparison of seven methods", Stat Med 17:857-872, method 3.

    Parameters
    ----------
    successes, n : array_like
        Broadcastable counts with ``0 <= successes <= n``. Where ``n == 0`` the interval is
        ``(nan, nan)``.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (low, high) : tuple of float ndarrays with the broadcast shape (0-d for scalar input).
    """
    z = _z(confidence)
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    if np.isnan(x).any() or np.isnan(n).any():
        raise ValueError("successes and n must not be NaN")
    if (n < 0).any() or (x < 0).any() or (x > n).any():
        raise ValueError("need 0 <= successes <= n")
    z2 = z * z
    empty = n == 0
    n_safe = np.where(empty, 1.0, n)
    denom = n_safe + z2
    centre = (x + z2 / 2.0) / denom
    half = z * np.sqrt(x * (n_safe - x) / n_safe + z2 / 4.0) / denom
    p = x / n_safe
    # the limits hold p exactly (floating-point dust can put p = 1 just above U)
    low = np.minimum(np.clip(centre - half, 0.0, 1.0), p)
    high = np.maximum(np.clip(centre + half, 0.0, 1.0), p)
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return low, high


# --------------------------------------------------------------------------------------------
# paired proportions
# --------------------------------------------------------------------------------------------


def newcombe_paired_interval(e, f, g, h, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe (1998b) method 10 interval for ``p_a - p_b`` from paired 2x2 counts, vectorised.

    Cells (Newcombe's notation): ``e`` both true, ``f`` A true / B false, ``g`` A false /
    B true, ``h`` both false; ``n = e+f+g+h``, ``p_a = (e+f)/n``, ``p_b = (e+g)/n``,
    ``D = p_a - p_b = (f - g)/n``. Let ``(l1, u1)`` and ``(l2, u2)`` be the Wilson score
    intervals (:func:`wilson_interval`) for ``p_a`` and ``p_b``. Then::

        delta   = sqrt( (p_a - l1)^2 - 2 phi (p_a - l1)(u2 - p_b) + (u2 - p_b)^2 )
        epsilon = sqrt( (p_b - l2)^2 - 2 phi (p_b - l2)(u1 - p_a) + (u1 - p_a)^2 )
        (L, U)  = (D - delta, D + epsilon)

    with the continuity-corrected phi coefficient::

        A   = e*h - f*g
        C   = A - n/2   if A > n/2
              0         if 0 <= A <= n/2
              A         if A < 0
        phi = C / sqrt((e+f)(g+h)(e+g)(f+h)),   phi = 0 if any of those margins is 0.

    Without the correlation term (phi = 0) this is Newcombe's unpaired "hybrid score"
    interval; positive correlation between the pair members narrows it.

    Source: Newcombe RG (1998b) "Improved confidence intervals for the difference between
    binomial proportions based on paired data", Stat Med 17:2635-2650, method 10. The same
    phi rule is used by the reference implementation accompanying Fagerland MW, Lydersen S,
    Laake P (2017) "Statistical Analysis of Contingency Tables", ch. 8 (R package
    ``contingencytables``, ``Newcombe_square_and_add_CI_paired_2x2``).

    Returns ``(low, high)`` float arrays with the broadcast shape; ``(nan, nan)`` where n = 0.
    """
    _z(confidence)  # validates confidence
    e, f, g, h = (np.asarray(v, dtype=float) for v in (e, f, g, h))
    e, f, g, h = np.broadcast_arrays(e, f, g, h)
    if any(np.isnan(v).any() or (v < 0).any() for v in (e, f, g, h)):
        raise ValueError("cell counts must be non-negative numbers")
    n = e + f + g + h
    empty = n == 0
    n_safe = np.where(empty, 1.0, n)
    xa, xb = e + f, e + g
    pa, pb = xa / n_safe, xb / n_safe
    d = pa - pb
    l1, u1 = wilson_interval(xa, n_safe, confidence)
    l2, u2 = wilson_interval(xb, n_safe, confidence)

    margins = (e + f) * (g + h) * (e + g) * (f + h)
    a_stat = e * h - f * g
    c_stat = np.where(a_stat > n / 2.0, a_stat - n / 2.0, np.where(a_stat >= 0.0, 0.0, a_stat))
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(margins > 0, c_stat / np.sqrt(np.where(margins > 0, margins, 1.0)), 0.0)

    dl1, du2 = pa - l1, u2 - pb
    dl2, du1 = pb - l2, u1 - pa
    delta = np.sqrt(np.maximum(dl1**2 - 2.0 * phi * dl1 * du2 + du2**2, 0.0))
    epsilon = np.sqrt(np.maximum(dl2**2 - 2.0 * phi * dl2 * du1 + du1**2, 0.0))
    low = np.clip(d - delta, -1.0, 1.0)
    high = np.clip(d + epsilon, -1.0, 1.0)
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return low, high


def mcnemar_exact_p(f, g) -> np.ndarray:
    """Exact conditional McNemar test, two-sided, from the discordant counts; vectorised.

    Conditional on the ``m = f + g`` discordant pairs, under H0 (p_a = p_b) the count ``f`` is
    Binomial(m, 1/2). The two-sided p-value is the doubled smaller tail::

        p = min(1, 2 * P(X <= min(f, g))),   X ~ Binomial(m, 1/2)

    and ``p = 1`` when there are no discordant pairs (or f == g). This is the *exact* (not
    mid-p) version: it never exceeds the nominal level, at the price of being conservative.
    (The mid-p value would be ``p - P(X = min(f, g))``.) For p = 1/2 doubling the smaller tail
    is scipy's two-sided ``binomtest(f, m, 0.5).pvalue``, which computes it (once per distinct
    pair of counts).

    Sources: McNemar Q (1947) "Note on the sampling error of the difference between correlated
    proportions or percentages", Psychometrika 12:153-157; the exact conditional form as
    written in Fagerland MW, Lydersen S, Laake P (2013) "The McNemar test for binary
    matched-pairs data: mid-p and asymptotic are better than exact conditional", BMC Med Res
    Methodol 13:91, eq. (1) of the supplementary material.
    """
    f = np.asarray(f, dtype=float)
    g = np.asarray(g, dtype=float)
    f, g = np.broadcast_arrays(f, g)
    if np.isnan(f).any() or np.isnan(g).any() or (f < 0).any() or (g < 0).any():
        raise ValueError("discordant counts must be non-negative numbers")
    if f.size == 0:
        return np.ones(f.shape)
    unique, inverse = np.unique(np.stack([f.ravel(), g.ravel()], axis=1), axis=0, return_inverse=True)
    p = np.array([_st.binomtest(int(a), int(a + b), 0.5).pvalue if a + b > 0 else 1.0 for a, b in unique])
    return np.minimum(p[inverse.ravel()].reshape(f.shape), 1.0)


def _paired_cells(a, b) -> tuple[np.ndarray, np.ndarray, int, int, int, int]:
    a = _as_bool_array(a, "a")
    b = _as_bool_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have equal length, got {a.shape[0]} and {b.shape[0]}")
    e = int(np.count_nonzero(a & b))
    f = int(np.count_nonzero(a & ~b))
    g = int(np.count_nonzero(~a & b))
    h = int(np.count_nonzero(~a & ~b))
    return a, b, e, f, g, h


def paired_difference(a, b, confidence: float = 0.95) -> dict:
    """Difference of two proportions measured on the SAME replicates (common random numbers).

    ``a[i]`` and ``b[i]`` are the outcomes of replicate ``i`` under policy A and policy B.
    Because the two arms share seeds, their outcomes are positively correlated and the paired
    analysis is narrower than treating the arms as independent samples.

    Returns a dict with

    * ``n``                  number of pairs
    * ``p_a``, ``p_b``       proportions under A and B
    * ``difference``         ``p_a - p_b``, computed as ``(f - g)/n`` (same value, no
      cancellation; identical to the bootstrap's point estimate)
    * ``ci_low``, ``ci_high``  Newcombe (1998b) method 10 interval, see
      :func:`newcombe_paired_interval`
    * ``discordant_ab``      ``f``: pairs with A true and B false
    * ``discordant_ba``      ``g``: pairs with A false and B true
    * ``mcnemar_p``          exact conditional two-sided McNemar p-value (not mid-p), see
      :func:`mcnemar_exact_p`; 1.0 when there are no discordant pairs.

    With ``n == 0`` the proportions and the interval are NaN and ``mcnemar_p`` is 1.0.
    """
    _, _, e, f, g, h = _paired_cells(a, b)
    n = e + f + g + h
    lo, hi = newcombe_paired_interval(e, f, g, h, confidence)
    if n:
        p_a, p_b, diff = (e + f) / n, (e + g) / n, (f - g) / n
    else:
        p_a = p_b = diff = float("nan")
    return {
        "n": n,
        "p_a": p_a,
        "p_b": p_b,
        "difference": diff,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "discordant_ab": f,
        "discordant_ba": g,
        "mcnemar_p": float(mcnemar_exact_p(f, g)),
    }


def paired_bootstrap_difference(a, b, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap interval for ``p_a - p_b``, resampling replicate PAIRS.

    Each bootstrap sample draws ``n`` pairs with replacement from the observed pairs (so the
    within-pair correlation is kept) and records ``D* = mean(a*) - mean(b*)``. The interval is
    the ``alpha/2`` and ``1 - alpha/2`` empirical quantiles of the ``n_boot`` values of ``D*``
    (``numpy.quantile``, linear interpolation).

    Implementation: a pair is one of four types (e, f, g, h cells), so resampling ``n`` pairs
    with replacement is the same as drawing the cell counts from
    Multinomial(n; e/n, f/n, g/n, h/n); then ``D* = (f* - g*)/n``. This is exactly the pairs
    bootstrap in distribution, costs O(n_boot) instead of O(n_boot * n), and is deterministic
    for a given ``seed`` (``numpy.random.Generator(PCG64(seed))``).

    Source: Efron B, Tibshirani RJ (1993) "An Introduction to the Bootstrap", Chapman & Hall,
    ch. 13 (the percentile interval).

    Returns a dict with ``n``, ``p_a``, ``p_b``, ``difference``, ``ci_low``, ``ci_high``,
    ``boot_se`` (standard deviation of D*), ``n_boot`` and ``seed``.
    """
    _z(confidence)
    n_boot = int(n_boot)
    if n_boot < 1:
        raise ValueError("n_boot must be >= 1")
    _, _, e, f, g, h = _paired_cells(a, b)
    n = e + f + g + h
    out: dict[str, Any] = {"n": n, "n_boot": n_boot, "seed": seed}
    if n == 0:
        nan = float("nan")
        out.update(p_a=nan, p_b=nan, difference=nan, ci_low=nan, ci_high=nan, boot_se=nan)
        return out
    rng = np.random.Generator(np.random.PCG64(seed))
    cells = rng.multinomial(n, np.array([e, f, g, h], dtype=float) / n, size=n_boot)
    diffs = (cells[:, 1] - cells[:, 2]) / n
    alpha = 1.0 - confidence
    lo, hi = np.quantile(diffs, [alpha / 2.0, 1.0 - alpha / 2.0])
    out.update(
        p_a=(e + f) / n,
        p_b=(e + g) / n,
        difference=(f - g) / n,
        ci_low=float(lo),
        ci_high=float(hi),
        boot_se=float(diffs.std(ddof=1)) if n_boot > 1 else float("nan"),
    )
    return out


# --------------------------------------------------------------------------------------------
# time to event
# --------------------------------------------------------------------------------------------


def event_time_with_censoring(week_series, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn "week of first event, NaN if none within the horizon" into (durations, observed).

    ``duration = week`` and ``observed = True`` where the week is known; ``duration = horizon``
    and ``observed = False`` (right-censored at the end of the run) where it is NaN.

    Raises ``ValueError`` for negative weeks or weeks beyond ``horizon``: such a value means the
    caller's horizon is not the run length, and silently truncating it would hide that.
    """
    horizon = float(horizon)
    if not np.isfinite(horizon) or horizon < 0:
        raise ValueError(f"horizon must be a finite non-negative number, got {horizon!r}")
    if isinstance(week_series, (pd.Series, pd.Index)):
        weeks = week_series.astype("float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        weeks = np.asarray(week_series, dtype=float)
    if weeks.ndim != 1:
        raise ValueError("week_series must be one-dimensional")
    observed = ~np.isnan(weeks)
    known = weeks[observed]
    if (known < 0).any() or not np.isfinite(known).all():
        raise ValueError("event weeks must be finite and non-negative")
    if (known > horizon).any():
        raise ValueError(f"event week(s) beyond the horizon {horizon}: {np.unique(known[known > horizon])}")
    durations = np.where(observed, weeks, horizon)
    return durations, observed


# --------------------------------------------------------------------------------------------
# means of skewed counts; multiplicity
# --------------------------------------------------------------------------------------------


def count_mean_interval(total, sd, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for the mean of a non-negative count (tests per run) that holds on skewed,
    low-count, overdispersed data, where the t interval does not: the exact Poisson (Garwood
    1936) interval for the total, scaled for overdispersion (quasi-Poisson): with dispersion
    ``phi = max(1, s^2 / mean)`` the total behaves as ``phi`` times a Poisson count of
    ``total / phi``, so the interval is ``phi / n`` times the Garwood limits
    ``chi2_{a/2}(2k) / 2`` and ``chi2_{1-a/2}(2k + 2) / 2`` at ``k = total / phi`` (gamma
    quantiles at a non-integer k). Vectorised over groups; ``sd`` is the runs' standard deviation
    (ddof = 1). A zero total gives ``[0, upper]``.

    Coverage by simulation (tests/experiments/test_stats.py, fixed seeds), negative binomial counts with mean
    0.94 and skewness 3.3 (a skewed low-count policy, where the t interval undercovers): 0.941 at
    n = 50 and 0.951 at n = 200, against 0.912 and 0.938 for the t interval.
    """
    total, sd, n = (np.asarray(x, dtype=float) for x in (total, sd, n))
    mean = total / n
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(mean > 0, np.maximum(1.0, np.nan_to_num(sd, nan=0.0) ** 2 / mean), 1.0)
    k = total / phi
    alpha = 1 - confidence
    low = np.where(k > 0, _st.gamma.ppf(alpha / 2, np.where(k > 0, k, 1.0)), 0.0) * phi / n
    high = _st.gamma.ppf(1 - alpha / 2, k + 1) * phi / n
    return np.minimum(low, mean), np.maximum(high, mean)  # the estimate inside, whatever the rounding


def _adjust(p, step: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """Adjusted p-values by ``step(ranked, m)``: the ``m`` non-NaN p-values in ascending order ->
    their adjusted values in that order (capped at 1 here); NaN stays NaN, not counted."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    values = p[ok]
    m = len(values)
    if m == 0:
        return out
    order = np.argsort(values, kind="stable")
    result = np.empty(m)
    result[order] = np.minimum(step(values[order], m), 1.0)
    out[ok] = result
    return out


def holm_adjust(p) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values: control the family-wise error rate over the
    comparisons given (reject where the adjusted p is below the level). NaN p-values are left
    NaN and not counted."""
    return _adjust(p, lambda ranked, m: np.maximum.accumulate((m - np.arange(m)) * ranked))


def bh_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (q-values): control the false discovery rate
    over the comparisons given. NaN p-values are left NaN and not counted."""
    return _adjust(p, lambda ranked, m: np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1])
