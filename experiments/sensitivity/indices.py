"""Morris and Sobol' indices of any evaluated function, with errors that count the seeds.

Generic in the function evaluated (the model, or a toy with known answers in the tests). An
evaluator takes a sample (points x parameters) and returns, per outcome, values of shape
(points x replicates); column ``r`` is replicate seed ``r`` at every point.

Errors and checks, per outcome
    * Sobol': the intervals come from a bootstrap over the base points *and* the replicate
      seeds together (SALib's own intervals, over the points only, are kept as ``*_conf_points``).
      The indices are estimated again from the first half of the points (``*_half``) and from
      each of two disjoint halves of the seeds (``seed_split``: the largest absolute difference
      between the two). The outcome is ``converged`` when both differences lie within their
      sampling error (a Bonferroni band over the indices at the configured confidence) and the
      replicates do not carry most of the variance of the per-point estimates.
    * Morris: mu* with SALib's interval over trajectories, widened by a bootstrap over seeds;
      the screen is ``screening_converged`` when no mu* moves between half and all trajectories,
      nor between the two halves of the seeds, by more than ``tolerance`` of the largest mu*
      (and by more than its sampling error). ``seed_overlap`` is the share of the top parameters
      that the two seed halves' screens have in common.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

SALIB_STREAM = 0x5A1
"""Mixed into the experiment seed for SALib's samplers and the bootstraps (never a replicate seed)."""
NOISE_DOMINATED = 0.5
"""An outcome whose replicates carry at least this share of its estimates' variance (the
interval's lower end) is not called converged: its indices would mostly describe the dice."""

Evaluator = Callable[[np.ndarray], dict[str, np.ndarray]]
"""Takes a sample (points x parameters) and returns, per outcome, values (points x replicates)."""


def problem_spec(ranges: dict[str, tuple[float, float]], outputs: Sequence[str]):
    """SALib's ProblemSpec over the given ranges (uniform)."""
    from SALib import ProblemSpec

    return ProblemSpec({"names": list(ranges), "bounds": [list(r) for r in ranges.values()], "outputs": list(outputs)})


def _analyse(
    kind: str, ranges: dict[str, tuple[float, float]], X: np.ndarray, Y: dict[str, np.ndarray], **options: Any
) -> dict[str, Any]:
    """SALib's ``ProblemSpec.analyze_<kind>`` on sample ``X`` for each outcome of ``Y``."""
    names = list(Y)
    spec = problem_spec(ranges, names)
    spec.set_samples(X)
    spec.set_results(np.column_stack([Y[n] for n in names]) if len(names) > 1 else Y[names[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        getattr(spec, f"analyze_{kind}")(**options)
    return dict(spec.analysis) if len(names) > 1 else {names[0]: spec.analysis}


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, SALIB_STREAM, stream])


def variance_split(
    per_run: np.ndarray, *, bootstrap: int = 0, seed: int = 0, confidence: float = 0.95
) -> dict[str, float]:
    """Split the variance of one run's outcome over points and seeds (array points x replicates).

    ``noise_share`` = mean within-point variance / total variance (the seeds' part of one run's
    variance); ``estimate_noise_share`` = the share of the variance of the per-point means that
    the finite replicates carry (within / R over the variance of the means, at most 1). With
    ``bootstrap`` resamples, each gets a normal interval (``*_low``, ``*_high``) whose standard
    error comes from a bootstrap over points and seeds together. NaN with one replicate or no variance.
    """
    out = _split(per_run)
    for key in ("noise_share", "estimate_noise_share"):
        out[f"{key}_low"] = out[f"{key}_high"] = math.nan
    points: int  # as ints, so numpy's stubs give integers() an array
    R: int
    points, R = per_run.shape
    if bootstrap and R >= 2 and points >= 2 and not math.isnan(out["noise_share"]):
        rng = _rng(seed, 3)
        draws = [
            _split(per_run[np.ix_(rng.integers(0, points, points), rng.integers(0, R, R))]) for _ in range(bootstrap)
        ]
        z = float(norm.ppf(0.5 + confidence / 2))
        for key in ("noise_share", "estimate_noise_share"):
            values = np.array([d[key] for d in draws], dtype=float)
            values = values[~np.isnan(values)]
            if len(values) > 1 and not math.isnan(out[key]):
                # resampled seeds repeat, which biases a within-point variance down: the spread
                # of the resamples, centred on the estimate, and not their percentiles
                half = z * float(np.std(values, ddof=1))
                out[f"{key}_low"], out[f"{key}_high"] = max(0.0, out[key] - half), min(1.0, out[key] + half)
    return out


def _split(per_run: np.ndarray) -> dict[str, float]:
    points, R = per_run.shape
    total = float(np.var(per_run, ddof=1)) if per_run.size > 1 else math.nan
    means = per_run.mean(axis=1)
    between = float(np.var(means, ddof=1)) if points > 1 else math.nan
    if R < 2 or not total > 0:
        return {"noise_share": math.nan, "estimate_noise_share": math.nan, "variance": total}
    within = float(np.mean(np.var(per_run, axis=1, ddof=1)))
    return {
        "noise_share": min(1.0, within / total),
        "estimate_noise_share": min(1.0, within / R / between) if between > 0 else 1.0,
        "variance": total,
    }


def _saturated(values: np.ndarray) -> bool:
    return not np.ptp(values) > 0


def _halves(R: int) -> tuple[slice, slice] | None:
    return (slice(0, R // 2), slice(R // 2, R)) if R >= 2 else None


def _band(confidence: float, tests: int) -> float:
    """The normal quantile of a two-sided Bonferroni band over ``tests`` comparisons."""
    return float(norm.ppf(1 - (1 - confidence) / (2 * max(1, tests))))


# ---------------------------------------------------------------------------------------------
# Sobol'
# ---------------------------------------------------------------------------------------------


def sobol_estimates(Y: np.ndarray, D: int) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen) indices from outputs in SALib's layout
    (N blocks of A, AB_1..AB_D, B), for one output (N*(D+2),) or many (N*(D+2), k); returns
    S1 and ST of shape (D,) or (D, k). The estimators of SALib's ``sobol.analyze``, on outputs
    standardised like its own."""
    from SALib.analyze.sobol import first_order, total_order

    with np.errstate(invalid="ignore", divide="ignore"):
        Y = np.nan_to_num((Y - Y.mean(axis=0)) / Y.std(axis=0))  # centred and scaled, as SALib does
    blocks = Y.reshape(-1, D + 2, *Y.shape[1:])
    A, AB, B = blocks[:, 0], blocks[:, 1 : D + 1], blocks[:, D + 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S1 = np.stack([first_order(A, AB[:, j], B) for j in range(D)])
        ST = np.stack([total_order(A, AB[:, j], B) for j in range(D)])
    return S1, ST


def _sobol_bootstrap(per_run: np.ndarray, D: int, resamples: int, rng: np.random.Generator, points: bool):
    """Standard errors of S1 and ST over resampled seeds (and base points when ``points``)."""
    N, R = len(per_run) // (D + 2), per_run.shape[1]
    weights = np.stack([np.bincount(rng.integers(0, R, R), minlength=R) / R for _ in range(resamples)], axis=1)
    Y = per_run @ weights  # (points, resamples): each column the per-point means over one seed resample
    if points:
        rows = rng.integers(0, N, (N, resamples))
        blocks = Y.reshape(N, D + 2, resamples)
        Y = np.take_along_axis(blocks, rows[:, None, :], axis=0).reshape(N * (D + 2), resamples)
    S1, ST = sobol_estimates(Y, D)
    return S1.std(axis=1, ddof=1), ST.std(axis=1, ddof=1)


def sobol(
    ranges: dict[str, tuple[float, float]],
    evaluator: Evaluator,
    outcomes: Sequence[str],
    *,
    samples: int,
    seed: int = 0,
    bootstrap: int = 200,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Sobol' first-order and total indices of each outcome's per-point mean.

    From a scrambled Sobol' sample of ``samples`` base points (SALib's ``sample_sobol`` and
    ``analyze_sobol``, no second order). Returns ``indices`` (outcome, parameter, S1, S1_conf,
    ST, ST_conf with intervals over points and seeds, S1_conf_points and ST_conf_points over the
    points only, S1_half and ST_half from the first half of the points), ``checks`` per outcome
    (see the module docstring), ``converged`` (outcome -> bool, None when saturated), ``split``
    (the variance split) and ``samples`` (the points and per-point means).
    """
    spec = problem_spec(ranges, outcomes)
    spec.sample_sobol(samples, calc_second_order=False, seed=_rng(seed, 2))
    X = spec.samples
    D = len(ranges)
    per_run = evaluator(X)
    z = float(norm.ppf(0.5 + confidence / 2))
    band = _band(confidence, 2 * D)
    rows, checks, split = [], {}, {}
    live = [o for o in outcomes if not _saturated(per_run[o].mean(axis=1))]
    for name in outcomes:
        split[name] = variance_split(per_run[name], bootstrap=bootstrap, seed=seed, confidence=confidence)
    options = {"calc_second_order": False, "num_resamples": bootstrap, "conf_level": confidence, "seed": seed}
    full = _analyse("sobol", ranges, X, {o: per_run[o].mean(axis=1) for o in live}, **options) if live else {}
    half = (samples // 2) * (D + 2)
    for name in outcomes:
        if name not in live:
            checks[name] = _check(None, "saturated: the estimates do not vary over the sample")
            continue
        values = per_run[name]
        Y = values.mean(axis=1)
        S1h, STh = sobol_estimates(Y[:half], D)
        se_joint = _sobol_bootstrap(values, D, bootstrap, _rng(seed, 4), points=True)
        se_seeds = _sobol_bootstrap(values, D, bootstrap, _rng(seed, 5), points=False)
        res = full[name]
        se_points = (np.asarray(res["S1_conf"]) / z, np.asarray(res["ST_conf"]) / z)
        moved = max(np.max(np.abs(res["S1"] - S1h)), np.max(np.abs(res["ST"] - STh)))
        # full - half = (other half - first half) / 2: its standard error is the full sample's
        within_half = bool(np.all(np.abs(res["S1"] - S1h) <= band * se_points[0] + 1e-12)) and bool(
            np.all(np.abs(res["ST"] - STh) <= band * se_points[1] + 1e-12)
        )
        halves = _halves(values.shape[1])
        seed_split, within_seeds, a, b = math.nan, True, None, None
        if halves is not None and values.shape[1] >= 4:
            a = sobol_estimates(values[:, halves[0]].mean(axis=1), D)
            b = sobol_estimates(values[:, halves[1]].mean(axis=1), D)
            diff = (np.abs(a[0] - b[0]), np.abs(a[1] - b[1]))
            seed_split = float(max(diff[0].max(), diff[1].max()))
            # each half has twice the seed variance of the whole; their difference four times
            within_seeds = bool(np.all(diff[0] <= 2 * band * se_seeds[0] + 1e-12)) and bool(
                np.all(diff[1] <= 2 * band * se_seeds[1] + 1e-12)
            )
        checks[name] = _verdict(
            float(moved),
            within_half,
            seed_split,
            within_seeds,
            split[name],
            half_tolerance=float(band * max(se_points[0].max(), se_points[1].max())),
            seed_tolerance=float(2 * band * max(se_seeds[0].max(), se_seeds[1].max())),
        )
        for j, parameter in enumerate(ranges):
            rows.append(
                {
                    "outcome": name,
                    "parameter": parameter,
                    "S1": float(res["S1"][j]),
                    "S1_conf": float(z * se_joint[0][j]),
                    "ST": float(res["ST"][j]),
                    "ST_conf": float(z * se_joint[1][j]),
                    "S1_conf_points": float(res["S1_conf"][j]),
                    "ST_conf_points": float(res["ST_conf"][j]),
                    "S1_half": float(S1h[j]),
                    "ST_half": float(STh[j]),
                    "S1_seed_a": float(a[0][j]) if a is not None else math.nan,
                    "ST_seed_a": float(a[1][j]) if a is not None else math.nan,
                    "S1_seed_b": float(b[0][j]) if b is not None else math.nan,
                    "ST_seed_b": float(b[1][j]) if b is not None else math.nan,
                }
            )
    columns = ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf", "S1_conf_points", "ST_conf_points"]
    columns += ["S1_half", "ST_half", "S1_seed_a", "ST_seed_a", "S1_seed_b", "ST_seed_b"]
    return _result(rows, columns, checks, split, X, ranges, per_run)


def _check(converged: bool | None, reason: str, **numbers: float) -> dict[str, Any]:
    return {"converged": converged, "reason": reason, **numbers}


def _verdict(
    moved: float,
    within_half: bool,
    seed_split: float,
    within_seeds: bool,
    split: dict[str, float],
    *,
    half_tolerance: float,
    seed_tolerance: float = math.nan,
    seed_overlap: float = math.nan,
) -> dict[str, Any]:
    numbers = {
        "half_moved": moved,
        "half_tolerance": half_tolerance,
        "seed_split": seed_split,
        "seed_tolerance": seed_tolerance,
        "seed_overlap": seed_overlap,
    }
    low = split.get("estimate_noise_share_low", math.nan)
    if not within_half:
        return _check(False, "the half sample's indices differ from the whole's beyond their sampling error", **numbers)
    if not within_seeds:
        return _check(False, "the two halves of the seeds give indices further apart than their error", **numbers)
    if not math.isnan(low) and low >= NOISE_DOMINATED:
        return _check(False, f"the replicates carry at least {100 * low:.0f}% of the estimates' variance", **numbers)
    return _check(True, "half sample and seed halves agree within their sampling error", **numbers)


# ---------------------------------------------------------------------------------------------
# Morris
# ---------------------------------------------------------------------------------------------


def morris(
    ranges: dict[str, tuple[float, float]],
    evaluator: Evaluator,
    outcomes: Sequence[str],
    *,
    trajectories: int,
    levels: int = 4,
    seed: int = 0,
    bootstrap: int = 200,
    tolerance: float = 0.10,
    confidence: float = 0.95,
    top: int = 10,
) -> dict[str, Any]:
    """Morris screening: elementary effects of every parameter on each outcome's per-point mean.

    SALib's ``sample_morris`` and ``analyze_morris``. Returns ``indices`` (outcome, parameter,
    mu_star, mu_star_conf over trajectories and seeds, mu_star_conf_points over trajectories
    only, mu, sigma, mu_star_half from the first half of the trajectories, mu_star_seed_a and
    mu_star_seed_b from the two halves of the seeds), ``checks`` and ``converged`` per outcome
    (the screen's verdict, see the module docstring; ``top`` sets the size of the overlap),
    ``split`` and ``samples``.
    """
    spec = problem_spec(ranges, outcomes)
    spec.sample_morris(trajectories, num_levels=levels, seed=_rng(seed, 1))
    X = spec.samples
    D = len(ranges)
    per_run = evaluator(X)
    z = float(norm.ppf(0.5 + confidence / 2))
    band = _band(confidence, D)
    options = {"num_resamples": bootstrap, "conf_level": confidence, "num_levels": levels, "seed": seed}
    quick = {**options, "num_resamples": 10}
    live = [o for o in outcomes if not _saturated(per_run[o].mean(axis=1))]
    split = {o: variance_split(per_run[o], bootstrap=bootstrap, seed=seed, confidence=confidence) for o in outcomes}
    full = _analyse("morris", ranges, X, {o: per_run[o].mean(axis=1) for o in live}, **options) if live else {}
    half = (trajectories // 2) * (D + 1)
    part = (
        _analyse("morris", ranges, X[:half], {o: per_run[o][:half].mean(axis=1) for o in live}, **quick) if live else {}
    )
    R = next(iter(per_run.values())).shape[1]
    halves = _halves(R) if R >= 4 else None
    seed_parts = (
        [_analyse("morris", ranges, X, {o: per_run[o][:, h].mean(axis=1) for o in live}, **quick) for h in halves]
        if halves is not None and live
        else None
    )
    seed_se = _morris_seed_se(ranges, X, per_run, live, min(bootstrap, 50), seed, quick) if R >= 2 and live else {}
    rows, checks = [], {}
    for name in outcomes:
        if name not in live:
            checks[name] = _check(None, "saturated: the estimates do not vary over the sample")
            continue
        res = full[name]
        mu_star = np.asarray(res["mu_star"], dtype=float)
        se_points = np.asarray(res["mu_star_conf"], dtype=float) / z
        se_seed = seed_se.get(name, np.zeros(D))
        scale = float(mu_star.max()) or 1.0
        moved_abs = np.abs(mu_star - np.asarray(part[name]["mu_star"], dtype=float))
        allowed = tolerance * scale
        within_half = bool(np.all(moved_abs <= allowed))
        seed_split, within_seeds, overlap = math.nan, True, math.nan
        if seed_parts is not None:
            a = np.asarray(seed_parts[0][name]["mu_star"], dtype=float)
            b = np.asarray(seed_parts[1][name]["mu_star"], dtype=float)
            seed_split = float(np.max(np.abs(a - b)) / scale)
            within_seeds = seed_split <= tolerance
            k = min(top, D)
            overlap = len(set(np.argsort(-a, kind="stable")[:k]) & set(np.argsort(-b, kind="stable")[:k])) / k
        checks[name] = _verdict(
            float(moved_abs.max() / scale),
            within_half,
            seed_split,
            within_seeds,
            {},
            half_tolerance=tolerance,
            seed_tolerance=tolerance,
            seed_overlap=overlap,
        )
        checks[name]["mu_star_error"] = float(band * np.sqrt(se_points**2 + se_seed**2).max() / scale)
        if checks[name]["converged"]:
            checks[name]["reason"] = (
                f"no mu* moved by more than {100 * tolerance:.0f}% of the largest between half and all "
                "trajectories, nor between the two halves of the seeds"
            )
        elif not within_half:
            checks[name]["reason"] = (
                f"a mu* moved by {100 * moved_abs.max() / scale:.0f}% of the largest between half and all "
                f"trajectories (allowed {100 * tolerance:.0f}%): more trajectories needed"
            )
        else:
            checks[name]["reason"] = (
                f"the two halves of the seeds' mu* differ by {100 * seed_split:.0f}% of the largest "
                f"(allowed {100 * tolerance:.0f}%): more replicates needed"
            )
        for j, parameter in enumerate(ranges):
            rows.append(
                {
                    "outcome": name,
                    "parameter": parameter,
                    "mu_star": float(mu_star[j]),
                    "mu_star_conf": float(z * math.hypot(se_points[j], se_seed[j])),
                    "mu_star_conf_points": float(res["mu_star_conf"][j]),
                    "mu": float(res["mu"][j]),
                    "sigma": float(res["sigma"][j]),
                    "mu_star_half": float(part[name]["mu_star"][j]),
                    "mu_star_seed_a": float(seed_parts[0][name]["mu_star"][j]) if seed_parts else math.nan,
                    "mu_star_seed_b": float(seed_parts[1][name]["mu_star"][j]) if seed_parts else math.nan,
                }
            )
    columns = ["outcome", "parameter", "mu_star", "mu_star_conf", "mu_star_conf_points", "mu", "sigma"]
    columns += ["mu_star_half", "mu_star_seed_a", "mu_star_seed_b"]
    return _result(rows, columns, checks, split, X, ranges, per_run)


def _morris_seed_se(ranges, X, per_run, live, resamples, seed, options) -> dict[str, np.ndarray]:
    """Standard error of each mu* over resampled replicate seeds (points fixed)."""
    rng = _rng(seed, 6)
    R = next(iter(per_run.values())).shape[1]
    draws: dict[str, list[np.ndarray]] = {o: [] for o in live}
    for _ in range(resamples):
        pick = rng.integers(0, R, R)
        result = _analyse("morris", ranges, X, {o: per_run[o][:, pick].mean(axis=1) for o in live}, **options)
        for o in live:
            draws[o].append(np.asarray(result[o]["mu_star"], dtype=float))
    return {o: np.std(v, axis=0, ddof=1) for o, v in draws.items()}


def _result(rows, columns, checks, split, X, ranges, per_run) -> dict[str, Any]:
    frame = pd.DataFrame(X, columns=list(ranges))
    for name, values in per_run.items():
        frame[name] = values.mean(axis=1)
    return {
        "indices": pd.DataFrame(rows, columns=columns),
        "checks": checks,
        "converged": {o: c["converged"] for o, c in checks.items()},
        "split": split,
        "samples": frame,
    }


# ---------------------------------------------------------------------------------------------
# selection
# ---------------------------------------------------------------------------------------------


def outcome_weights(split: dict[str, dict[str, float]], saturated_share: dict[str, float]) -> dict[str, float]:
    """Weight of each outcome in the selection: the share of one run's variance that the
    parameters carry (1 - noise share; 1 without replicates), and 0 for an outcome that does
    not vary (saturated at 95% or more of the points, or without variance)."""
    weights = {}
    for name, s in split.items():
        share = s.get("noise_share", math.nan)
        sat = saturated_share.get(name, math.nan)
        if not s.get("variance", 0) > 0 or (not math.isnan(sat) and sat >= 0.95):
            weights[name] = 0.0
        else:
            weights[name] = 1.0 if math.isnan(share) else max(0.0, 1.0 - share)
    return weights


def top_parameters(screen: pd.DataFrame, k: int, weights: dict[str, float] | None = None) -> list[str]:
    """The ``k`` parameters with the largest weighted sum over outcomes of mu* relative to the
    largest mu* of that outcome (``weights``: outcome -> weight, default 1 each)."""
    if screen.empty:
        return []
    share = screen["mu_star"] / screen.groupby("outcome")["mu_star"].transform("max").replace(0, np.nan)
    w = screen["outcome"].map(weights or {}).fillna(1.0 if weights is None else 0.0)
    score = (share.fillna(0.0) * w).groupby(screen["parameter"], sort=False).sum()
    return list(score.sort_values(ascending=False, kind="stable").index[:k])


def seed_overlap(screen: pd.DataFrame, k: int, weights: dict[str, float] | None = None) -> float:
    """Share of the ``k`` top parameters that the screens of the two halves of the seeds
    (``mu_star_seed_a``, ``mu_star_seed_b``) have in common; NaN without those columns."""
    if screen.empty or screen["mu_star_seed_a"].isna().all():
        return math.nan
    picks = [
        set(top_parameters(screen.assign(mu_star=screen[column]), k, weights))
        for column in ("mu_star_seed_a", "mu_star_seed_b")
    ]
    return len(picks[0] & picks[1]) / max(1, min(k, screen["parameter"].nunique()))
