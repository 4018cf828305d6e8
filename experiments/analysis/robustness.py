"""Robust policy ranking over posterior draws or sampled scenarios.

A policy that is best at the calibrated point may be poor for parameter values the record still
allows. For a sweep over scenarios (``[posterior]`` draws or an ``[uncertainties]`` Latin
hypercube), each scenario (draw) gives each policy an estimate of the outcome (its mean over the
scenario's replicates; P(event) for a yes/no outcome). Then, per policy:

* **regret** in a draw: how far the policy falls short of the best policy *of that draw*
  (best - estimate when more is better, estimate - best when less is better); the mean regret
  over the draws with a t interval, the 90th percentile and the largest (minimax regret);
* **share best**: the share of draws in which the policy is best, ties split equally (with many
  policies tied at P = 1.00, a policy "best in 2%" may be tied-best everywhere: ``share_tied_best``
  counts draws where it is best or tied);
* **paired comparisons** (:func:`pairwise`): for two policies the difference of their estimates
  in each draw is paired twice over, by the draw's parameters and by the replicate seeds (common
  random numbers), and the mean difference over the draws gets a t interval over the draws, with
  a Holm adjustment of the p-values over all comparisons made.

The regret of a policy uses the best *estimate* of each draw, which carries Monte Carlo error:
with few replicates per draw the maximum over many policies is biased upwards (the winner's
curse), so regrets are slightly overstated; the paired comparisons do not have this bias.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import UserError
from ..stats import holm_adjust, t_interval
from .plots import policy_label

TIE_TOLERANCE = 1e-12


def per_draw(
    rows: pd.DataFrame, policy_columns: Sequence[str], outcome: str, horizon: int | None = None
) -> pd.DataFrame:
    """A table of estimates: one row per scenario, one column per policy (a tuple of lever
    values). An event week becomes the restricted mean weeks (no event = ``horizon``)."""
    if "scenario" not in rows.columns:
        raise UserError("robust ranking needs a sweep over scenarios ([posterior] or [uncertainties])")
    if outcome not in rows.columns:
        raise UserError(f"unknown outcome '{outcome}'")
    values = rows[outcome].astype(float)
    if outcome.endswith("_week"):
        if horizon is None:
            raise UserError(f"{outcome}: an event week needs the horizon")
        values = values.fillna(float(horizon))
    frame = rows[[*policy_columns, "scenario"]].assign(_v=values.to_numpy())
    table = frame.groupby([*policy_columns, "scenario"], sort=True)["_v"].mean().unstack(list(policy_columns))
    table.columns = pd.Index([c if isinstance(c, tuple) else (c,) for c in table.columns], tupleize_cols=False)
    if table.isna().any().any():
        raise UserError("every policy must run in every scenario (is the sweep finished?)")
    return table


def regret_table(
    estimates: pd.DataFrame, policy_columns: Sequence[str], *, larger_is_better: bool = True, confidence: float = 0.95
) -> pd.DataFrame:
    """Per policy: mean estimate over the draws, mean regret with a t interval, 90th percentile
    and largest regret, share of draws best (ties split) and best-or-tied; sorted by mean regret."""
    values = estimates.to_numpy()
    best = values.max(axis=1, keepdims=True) if larger_is_better else values.min(axis=1, keepdims=True)
    regret = np.abs(best - values)
    tied = regret <= TIE_TOLERANCE
    share = (tied / tied.sum(axis=1, keepdims=True)).mean(axis=0)
    n = len(values)
    mean_regret = regret.mean(axis=0)
    low, high = t_interval(
        mean_regret, regret.std(axis=0, ddof=1) if n > 1 else np.full(values.shape[1], np.nan), n, confidence
    )
    out = pd.DataFrame(list(estimates.columns), columns=list(policy_columns))
    out["draws"] = n
    out["mean"] = values.mean(axis=0)
    out["mean_regret"] = mean_regret
    out["regret_ci_low"] = np.maximum(low, 0.0)
    out["regret_ci_high"] = high
    out["regret_p90"] = np.quantile(regret, 0.9, axis=0)
    out["max_regret"] = regret.max(axis=0)
    out["share_best"] = share
    out["share_tied_best"] = tied.mean(axis=0)
    return out.sort_values(["mean_regret", "max_regret"], kind="stable").reset_index(drop=True)


def _paired_t(differences: np.ndarray, axis: int, confidence: float):
    """Paired t over the draws along ``axis`` of ``differences``: the mean difference, its
    t-interval and the two-sided p-value (1 where every difference is 0, 0 where they are equal
    and not 0; the spread is NaN with one draw)."""
    n = differences.shape[axis]
    mean = differences.mean(axis=axis)
    sd = differences.std(axis=axis, ddof=1) if n > 1 else np.full(mean.shape, np.nan)
    low, high = t_interval(mean, sd, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / math.sqrt(n))
    p = np.where(sd > 0, 2 * _st.t.sf(np.abs(t), max(n - 1, 1)), np.where(mean == 0, 1.0, 0.0))
    return mean, low, high, p


def pairwise(
    estimates: pd.DataFrame, policy_columns: Sequence[str], reference: tuple | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Paired comparisons over the draws: for each pair (every pair, or each policy against
    ``reference``), the mean over the draws of the per-draw difference (A - B), its t interval
    over the draws, a two-sided p-value and the Holm-adjusted p-value over all pairs made."""
    policies = list(estimates.columns)
    if reference is not None:
        if reference not in policies:
            raise UserError(f"reference policy {reference} is not in the design")
        pairs = [(p, reference) for p in policies if p != reference]
    else:
        pairs = [(a, b) for i, a in enumerate(policies) for b in policies[i + 1 :]]
    values = estimates.to_numpy()
    index = {p: i for i, p in enumerate(policies)}
    a_idx = np.array([index[a] for a, _ in pairs], dtype=np.intp)
    b_idx = np.array([index[b] for _, b in pairs], dtype=np.intp)
    diff = values[:, a_idx] - values[:, b_idx]
    n = len(values)
    mean, low, high, p = _paired_t(diff, 0, confidence)
    rows = []
    for k, (a, b) in enumerate(pairs):
        rows.append(
            {
                **{f"{c}": v for c, v in zip(policy_columns, a, strict=True)},
                **{f"vs_{c}": v for c, v in zip(policy_columns, b, strict=True)},
                "difference": mean[k],
                "ci_low": low[k],
                "ci_high": high[k],
                "p": p[k],
            }
        )
    out = pd.DataFrame(rows)
    out["p_holm"] = holm_adjust(out["p"].to_numpy()) if len(out) else []
    out["draws"] = n
    return out


def label(policy: tuple, policy_columns: Sequence[str]) -> str:
    """A policy in words, as the figures name it."""
    return policy_label(dict(zip(policy_columns, policy, strict=True)))


def section(
    rows: pd.DataFrame,
    policy_columns: Sequence[str],
    outcome: str = "talks",
    *,
    larger_is_better: bool = True,
    horizon: int | None = None,
    top: int = 10,
    unit: str = "draw",
) -> tuple[str, dict[str, pd.DataFrame]]:
    """A Markdown section for the report (the ``top`` policies by mean regret, and each compared
    with the most robust one) and the full tables (``regret``, ``pairwise`` against the most
    robust policy)."""
    estimates = per_draw(rows, policy_columns, outcome, horizon)
    regret = regret_table(estimates, policy_columns, larger_is_better=larger_is_better)
    best = tuple(regret.loc[0, list(policy_columns)])
    versus = pairwise(estimates, policy_columns, reference=best)
    sense = "higher" if larger_is_better else "lower"
    n = len(estimates)
    lines = [
        f"## Robust policy ranking: {outcome} ({sense} is better) over {n} {unit}s",
        "",
        f"Regret: how far a policy falls short, in a {unit}, of the best policy of that {unit}. Mean regret with a "
        f"95% t interval over the {unit}s; share of the {unit}s in which the policy is best (ties split) and best or "
        f"tied. Comparisons with the most robust policy ({label(best, policy_columns)}) pair each {unit}'s parameters and "
        f"replicate seeds (common random numbers); p-values Holm-adjusted over the {len(versus)} comparisons.",
        "",
        "| policy | mean | mean regret [95% CI] | 90% / max regret | best | best or tied | difference vs most robust [95% CI] | Holm p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lookup = {tuple(r[list(policy_columns)]): r for _, r in versus.iterrows()}
    for _, r in regret.head(top).iterrows():
        policy = tuple(r[list(policy_columns)])
        if policy in lookup:
            c = lookup[policy]
            versus_text, p_text = (
                f"{c['difference']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]",
                f"{c['p_holm']:.3g}",
            )
        else:
            versus_text, p_text = "(reference)", ""
        lines.append(
            f"| {label(policy, policy_columns)} | {r['mean']:.3f} | {r['mean_regret']:.3f} "
            f"[{r['regret_ci_low']:.3f}, {r['regret_ci_high']:.3f}] | {r['regret_p90']:.3f} / {r['max_regret']:.3f} | "
            f"{100 * r['share_best']:.0f}% | {100 * r['share_tied_best']:.0f}% | {versus_text} | {p_text} |"
        )
    if len(regret) > top:
        lines.append(f"\n{len(regret) - top} more policies in robust_{outcome}.csv.")
    return "\n".join(lines) + "\n", {"regret": regret, "pairwise": versus}


def robust_ranking(result: Any, outcome: str = "talks", larger_is_better: bool = True) -> dict[str, Any]:
    """:func:`section` for a :class:`~experiments.results.SweepResult` (markdown, regret, pairwise)."""
    text, tables = section(
        result.rows, result.policy_columns, outcome, larger_is_better=larger_is_better, horizon=result.horizon
    )
    return {"markdown": text, **tables}


def contrasts_over_draws(
    rows: pd.DataFrame,
    by: Sequence[str],
    baseline: dict[str, Any],
    outcome: str = "talks",
    horizon: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each policy minus the baseline with intervals over the posterior draws (or scenarios), not
    pooled over runs: per draw, the difference of the two policies' estimates (paired by the draw
    and by the replicate seeds), then its mean over the draws with a t interval over them, a
    two-sided p-value and Holm's adjustment over the policies (the baseline itself left out).
    Levers the baseline leaves out are matched, as in the pooled contrasts. Columns: ``by``,
    ``outcome``, ``draws``, ``policy_estimate``, ``baseline_estimate``, ``difference``,
    ``ci_low``, ``ci_high``, ``p_value``, ``p_holm``."""
    by = list(by)
    estimates = per_draw(rows, by, outcome, horizon)
    values = estimates.to_numpy()
    index = {p: i for i, p in enumerate(estimates.columns)}
    out = []
    for policy in estimates.columns:
        reference = tuple(baseline.get(c, v) for c, v in zip(by, policy, strict=True))
        if reference not in index:
            raise UserError(f"the baseline {reference} is not in the design")
        a, b = values[:, index[policy]], values[:, index[reference]]
        out.append(
            {
                **dict(zip(by, policy, strict=True)),
                "outcome": outcome,
                "draws": len(a),
                "policy_estimate": a.mean(),
                "baseline_estimate": b.mean(),
                "_d": a - b,
                "_self": policy == reference,
            }
        )
    frame = pd.DataFrame(out)
    d = np.vstack(frame.pop("_d").to_numpy())
    itself = frame.pop("_self").to_numpy(dtype=bool)
    mean, low, high, p = _paired_t(d, 1, confidence)
    frame["difference"], frame["ci_low"], frame["ci_high"], frame["p_value"] = mean, low, high, p
    frame["p_holm"] = holm_adjust(np.where(itself, np.nan, p))
    frame.loc[itself, ["difference", "ci_low", "ci_high"]] = 0.0
    frame.loc[itself, ["p_value", "p_holm"]] = 1.0
    return frame
