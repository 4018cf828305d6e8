"""Paired contrasts: each policy minus a baseline policy on the same replicates (common random
numbers), with Newcombe's paired interval and McNemar's exact test for events and a paired t
interval for counts; and the small vocabulary of policies they need (a baseline, matching rows
to a policy, parsing ``lever=value`` text).

A *policy* is a combination of lever values (a design point, or several when uncertainties
are sampled: then the scenarios of a policy are pooled and pairs are matched within scenario).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from model.params import closest_name

from ..errors import UserError
from ..stats import holm_adjust, mcnemar_exact_p, newcombe_paired_interval, t_interval
from ..sweep.results import SweepResult
from .estimates import with_events

# ---------------------------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------------------------


def pair_keys(rows: pd.DataFrame) -> list[str]:
    """The columns that identify a replicate across policies: ``replicate`` (same seed at every
    design point), and ``scenario`` when uncertainties were sampled."""
    return ["scenario", "replicate"] if "scenario" in rows.columns else ["replicate"]


def default_baseline(levers: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The default reference policy: the first value of each lever as listed in the config,
    except ``sanctions_level``, which takes its highest value. For ``policy_grid`` that is
    maximum pressure: exercises as scheduled, pressure first, sanctions level 1."""
    return {name: (max(values) if name == "sanctions_level" else values[0]) for name, values in levers.items()}


def parse_policy(text: str, levers: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """``"lever=value,lever=value"`` -> ``{lever: value}`` with each value as it appears in the
    design (numbers match within 1e-9, so ``sanctions_level=1`` finds 1.0).

    Raises :class:`UserError` (one line) for malformed text, an unknown lever or a value that
    is not in the design, naming what is allowed.
    """
    policy: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise UserError(f"baseline {text!r}: expected lever=value pairs joined by commas, got {part!r}")
        if name not in levers:
            raise UserError(
                f"baseline names '{name}'{closest_name(name, levers)}, which is not a lever of this design; "
                f"levers: {', '.join(levers)}"
            )
        if name in policy:
            raise UserError(f"baseline names '{name}' twice")
        policy[name] = _design_value(name, value, levers[name])
    if not policy:
        raise UserError(f"baseline {text!r} names no lever; levers: {', '.join(levers)}")
    return policy


def _design_value(name: str, text: str, values: Sequence[Any]) -> Any:
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                if math.isclose(float(text), float(value), rel_tol=0, abs_tol=1e-9):
                    return value
            except ValueError:
                continue
        elif str(value).lower() == text.lower():
            return value
    allowed = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    raise UserError(f"baseline {name}={text} is not in the design; {name} takes {allowed}")


def matches(frame: pd.DataFrame, policy: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` whose columns equal every value of ``policy``."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in policy.items():
        mask &= (frame[name] == value).to_numpy()
    return mask


# ---------------------------------------------------------------------------------------------
# paired contrasts
# ---------------------------------------------------------------------------------------------


def policy_contrasts(
    result: SweepResult, baseline: Mapping[str, Any] | None = None, outcome: str = "talks", confidence: float = 0.95
) -> pd.DataFrame:
    """Every policy of a sweep minus ``baseline`` (default :func:`default_baseline`) on the same
    replicates: :func:`paired_contrasts` of its rows over its policy columns."""
    if baseline is None:
        baseline = default_baseline(result.levers)
    return paired_contrasts(result.rows, baseline, result.policy_columns, outcome, confidence)


def paired_contrasts(
    rows: pd.DataFrame, baseline: Mapping[str, Any], by: Sequence[str], outcome: str = "talks", confidence: float = 0.95
) -> pd.DataFrame:
    """Each policy (group of ``by``) minus the baseline policy, on the same replicates.

    Common random numbers: replicate ``r`` ran with the same seed under every policy, so
    policy row ``(replicate r[, scenario s])`` is paired with the baseline's row with the same
    replicate (and scenario). ``baseline`` names a value for some or all of the ``by`` levers;
    a lever it leaves out is matched, i.e. each policy is compared with the baseline values at
    its own value of that lever (``{"exercise_policy": "as_scheduled"}`` gives the effect of
    each exercise policy at every sanctions level and stance).

    * Boolean ``outcome`` (an event, see :data:`EVENTS`): with the paired cells ``e`` (both),
      ``f`` (policy only), ``g`` (baseline only), ``h`` (neither) over ``n`` pairs, the
      difference ``(f - g)/n`` of the two proportions, Newcombe's (1998b) method-10 interval
      (:func:`experiments.stats.newcombe_paired_interval`) and the exact conditional McNemar
      (1947) p-value (:func:`experiments.stats.mcnemar_exact_p`).
    * Numeric ``outcome`` (``tests``, say): the mean of the paired differences
      ``d_i = policy_i - baseline_i``, the paired t interval ``mean(d) -/+ t_{n-1} sd(d)/sqrt(n)``
      and the paired t-test p-value (Student 1908); differences that are all equal give a
      zero-width interval and p = 1 when they are 0.

    Returns one row per policy: ``by``, ``outcome``, ``n_pairs``, ``policy_estimate``,
    ``baseline_estimate``, ``difference``, ``ci_low``, ``ci_high``, ``p_value``, ``p_holm`` (Holm's
    adjustment over this outcome's contrasts, the baseline itself left out: with 109 contrasts some
    unadjusted p-values fall below 0.05 by chance alone), ``method``,
    and for events ``policy_only`` (``f``) and ``baseline_only`` (``g``). The baseline itself
    (the very same runs) appears with difference 0, interval [0, 0] and p = 1; Newcombe's
    interval alone would not collapse without discordant pairs, as it must not for two
    different policies that happen to agree on every replicate.

    Raises :class:`UserError` when the baseline names a lever not in ``by`` or a policy that is
    not in the design.
    """
    by = list(by)
    for name in baseline:
        if name not in by:
            raise UserError(
                f"baseline names '{name}'{closest_name(name, by)}, which is not a lever of this design; "
                f"levers: {', '.join(by)}"
            )
    for name, value in baseline.items():
        if not (rows[name] == value).any():
            allowed = ", ".join(map(str, pd.unique(rows[name])))
            raise UserError(f"baseline {name}={value} is not in the design; {name} takes {allowed}")
    data = with_events(rows, [outcome])
    if outcome not in data.columns:
        raise ValueError(f"unknown outcome {outcome!r}")
    matched = [c for c in by if c not in baseline]
    keys = pair_keys(data)
    reference = data.loc[matches(data, baseline), [*matched, *keys, outcome]]
    if reference.empty:
        policy = ", ".join(f"{k}={v}" for k, v in baseline.items())
        raise UserError(f"the baseline policy {policy} is not in the design")
    if reference.duplicated([*matched, *keys]).any():
        raise ValueError(f"the baseline has more than one row per {'/'.join(keys)}: is 'by' missing a lever?")
    pairs = data[[*by, *keys, outcome]].merge(
        reference.rename(columns={outcome: "_baseline"}), on=[*matched, *keys], how="inner"
    )
    if pairs.empty:
        raise UserError("no policy shares a replicate with the baseline: is the results directory complete?")
    if data[outcome].dtype == bool:
        table = _paired_events(pairs, by, outcome, confidence)
    else:
        table = _paired_means(pairs, by, outcome, confidence)
    itself = matches(table, baseline)  # the very same runs: the difference is 0 without uncertainty
    table.loc[itself, ["difference", "ci_low", "ci_high"]] = 0.0
    table.loc[itself, ["p_value"]] = 1.0
    table["p_holm"] = holm_adjust(np.where(itself, np.nan, table["p_value"].to_numpy(dtype=float)))
    table.loc[itself, "p_holm"] = 1.0
    return table.assign(outcome=outcome)[[*by, "outcome", *[c for c in table.columns if c not in by]]]


def _paired_events(pairs: pd.DataFrame, by: list[str], outcome: str, confidence: float) -> pd.DataFrame:
    a = pairs[outcome].to_numpy(dtype=bool)
    b = pairs["_baseline"].to_numpy(dtype=bool)
    cells = pairs[by].assign(e=a & b, f=a & ~b, g=~a & b, h=~a & ~b)
    counts = cells.groupby(by, sort=False, dropna=False)[["e", "f", "g", "h"]].sum().astype(np.int64)
    e, f, g, h = (counts[c].to_numpy() for c in "efgh")
    n = e + f + g + h
    low, high = newcombe_paired_interval(e, f, g, h, confidence)
    out = counts.index.to_frame(index=False)
    out["n_pairs"] = n
    out["policy_estimate"] = (e + f) / n
    out["baseline_estimate"] = (e + g) / n
    out["difference"] = (f - g) / n
    out["ci_low"], out["ci_high"] = low, high
    out["p_value"] = mcnemar_exact_p(f, g)
    out["method"] = "Newcombe paired interval, exact McNemar test"
    out["policy_only"], out["baseline_only"] = f, g
    return out


def _paired_means(pairs: pd.DataFrame, by: list[str], outcome: str, confidence: float) -> pd.DataFrame:
    work = pairs[by].assign(policy=pairs[outcome].astype(float), baseline=pairs["_baseline"].astype(float))
    work["d"] = work["policy"] - work["baseline"]
    grouped = work.groupby(by, sort=False, dropna=False)
    stats = grouped.agg(
        n_pairs=("d", "size"),
        policy_estimate=("policy", "mean"),
        baseline_estimate=("baseline", "mean"),
        difference=("d", "mean"),
        sd=("d", "std"),
    )
    n = stats["n_pairs"].to_numpy()
    mean, sd = stats["difference"].to_numpy(), np.nan_to_num(stats["sd"].to_numpy())
    se = sd / np.sqrt(n)
    dof = np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * sps.t.sf(np.abs(mean) / np.where(se > 0, se, 1.0), dof), np.where(mean == 0, 1.0, 0.0))
    out = stats.drop(columns="sd").reset_index()
    out["ci_low"], out["ci_high"] = t_interval(mean, sd, n, confidence)
    out["p_value"] = p
    out["method"] = "paired t interval and test"
    return out
