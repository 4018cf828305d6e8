"""Time to an event (talks, first test, ...) per policy: Kaplan-Meier curves from
``scipy.stats.ecdf`` on right-censored data, and their medians.

Runs without the event within the horizon are right-censored at the horizon
(:func:`experiments.stats.event_time_with_censoring`). The curve is the product-limit estimate
(Kaplan & Meier 1958) and its pointwise interval is scipy's Greenwood log(-log) interval
(``ECDFResult.sf.confidence_interval(method="log-log")``; Kalbfleisch & Prentice 2002, sec. 4.3;
R's ``survfit(conf.type = "log-log")``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..stats import event_time_with_censoring
from ..sweep.results import SweepResult

EVENT_WEEKS: dict[str, str] = {
    "talks": "talks_week",
    "inter_korean_talks": "inter_korean_week",
    "summit": "summit_week",
    "deal": "deal_week",
    "any_test": "first_test_week",
}
"""Events with a recorded first week -> that column (NaN when the event did not happen)."""

CURVE_COLUMNS = ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
HALF = 0.5 + 1e-12
"""A curve "reaches 1/2" at or below this: a product of fractions that is exactly 1/2 (100 of
200 runs without talks, say) can come out of floating point a few ulps above it, and the median
must not move a week for that (the rounding error of the product is below 1e-14; the smallest
step of a curve, one run in 10^6, is far above 1e-12)."""


def kaplan_meier(durations, observed, confidence: float = 0.95) -> pd.DataFrame:
    """One Kaplan-Meier curve: a row at time 0 (survival 1, interval [1, 1]) and one row per
    distinct event time, with ``at_risk`` (durations >= time), ``events``, ``censored`` (the
    censorings in ``[time, next event time)``; so the next row's ``at_risk`` is ``at_risk -
    events - censored``), ``survival`` and its interval ``ci_low``, ``ci_high`` (NaN where the
    survival is 0). Survival and interval come from :func:`scipy.stats.ecdf`."""
    t = np.asarray(durations, dtype=float)
    obs = np.asarray(observed, dtype=bool)
    if t.ndim != 1 or t.shape != obs.shape or t.size == 0:
        raise ValueError("durations and observed must be non-empty one-dimensional arrays of equal length")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("durations must be finite and non-negative (censor open-ended runs at the horizon)")
    times, events = np.unique(t[obs], return_counts=True)
    censored_sorted = np.sort(t[~obs])
    at_risk = t.size - np.searchsorted(np.sort(t), times, side="left")
    following = np.append(times[1:], np.inf)
    censored = np.searchsorted(censored_sorted, following, side="left") - np.searchsorted(
        censored_sorted, times, side="left"
    )
    censored_first = np.searchsorted(censored_sorted, times[0] if times.size else np.inf, side="left")
    survival, low, high = np.ones(0), np.ones(0), np.ones(0)
    if times.size:
        result = sps.ecdf(sps.CensoredData(uncensored=t[obs], right=t[~obs]))
        survival = result.sf.evaluate(times)
        with warnings.catch_warnings():  # scipy warns where S = 0: the interval is NaN there, as documented
            warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
            interval = result.sf.confidence_interval(confidence, method="log-log")
        low, high = interval.low.evaluate(times), interval.high.evaluate(times)
        zero = survival <= 0
        low, high = np.where(zero, np.nan, low), np.where(zero, np.nan, high)
    return pd.DataFrame(
        {
            "time": np.concatenate([[0.0], times]),
            "at_risk": np.concatenate([[t.size], at_risk]).astype(np.int64),
            "events": np.concatenate([[0], events]).astype(np.int64),
            "censored": np.concatenate([[censored_first], censored]).astype(np.int64),
            "survival": np.concatenate([[1.0], survival]),
            "ci_low": np.concatenate([[1.0], low]),
            "ci_high": np.concatenate([[1.0], high]),
        }
    )


def survival_curves(
    rows: pd.DataFrame, by: Sequence[str], horizon: int, event: str = "talks", confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier curves of the time to ``event`` per group of ``by`` (sorted by group), runs
    without the event censored at the horizon: the ``by`` columns, :data:`CURVE_COLUMNS` (see
    :func:`kaplan_meier`) and ``event``. ``survival`` is P(no event by week ``time``)."""
    if event not in EVENT_WEEKS:
        raise ValueError(f"no event week is recorded for {event!r}; choose one of {', '.join(EVENT_WEEKS)}")
    by = list(by)
    durations, observed = event_time_with_censoring(rows[EVENT_WEEKS[event]], horizon)
    if not by:
        return kaplan_meier(durations, observed, confidence).assign(event=event)
    data = rows[by].assign(_duration=durations, _observed=observed)
    pieces = []
    for key, group in data.groupby(by, sort=True, dropna=False, observed=True):
        curve = kaplan_meier(group["_duration"].to_numpy(), group["_observed"].to_numpy(), confidence)
        pieces.append(curve.assign(**dict(zip(by, key, strict=True)))[[*by, *CURVE_COLUMNS]])
    return pd.concat(pieces, ignore_index=True).assign(event=event)


def time_to_event(result: SweepResult, event: str = "talks", confidence: float = 0.95) -> pd.DataFrame:
    """:func:`survival_curves` of a sweep's policies, censored at its horizon."""
    return survival_curves(result.rows, result.policy_columns, result.horizon, event, confidence)


def median_weeks(curves: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The median time to the event of each curve of :func:`survival_curves` with its interval.

    ``median_weeks`` is the first week with survival <= 1/2 (:data:`HALF`); its interval runs from the first
    week at which the lower limit of the survival interval reaches 1/2 (``median_weeks_low``)
    to the first week at which its upper limit does (``median_weeks_high``), i.e. the weeks
    whose survival interval contains 1/2 (Brookmeyer & Crowley 1982; R's ``survfit`` does the
    same). NaN where the curve (or a limit) stays above 1/2 within the horizon: the median (or
    that limit) then exceeds the horizon."""
    by = list(by)

    def first_week(column: str) -> pd.Series:
        below = curves[curves[column] <= HALF]
        return below.groupby(by, sort=False, dropna=False)["time"].min()

    groups = curves.groupby(by, sort=False, dropna=False).size().index
    out = pd.DataFrame(index=groups)
    out["median_weeks"] = first_week("survival")
    out["median_weeks_low"] = first_week("ci_low")
    out["median_weeks_high"] = first_week("ci_high")
    return out.reset_index()
