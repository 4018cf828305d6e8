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
  a Holm adjustment of the p-values over all comparisons made. By default each policy is
  compared with a baseline fixed in advance;
* **against the best** (:func:`chosen_best`): the best policy chosen on one half of the draws and
  every policy judged against it on the other half, so the choice cannot flatter itself; and
  Hsu's multiple comparisons with the best over all draws (:func:`mcb`): which policies the data
  leave among the candidates for the best.

The per-draw regret uses the best *estimate* of each draw, which carries Monte Carlo error: the
maximum over many policies is biased upwards (the winner's curse), so identical policies show a
regret above 0 whose interval need not cover it. It is descriptive; the comparisons with a
baseline fixed in advance, and with a best chosen on other draws, are the tests.
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


def halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of ``n`` draws, alternating (draws 0, 2, 4, ... and 1, 3, 5, ...), so
    neither half depends on the order the draws were made in."""
    index = np.arange(n)
    return index[0::2], index[1::2]


def chosen_best(
    estimates: pd.DataFrame, policy_columns: Sequence[str], *, larger_is_better: bool = True, confidence: float = 0.95
) -> tuple[tuple, pd.DataFrame]:
    """ "Against the best" without the winner's curse: the best policy is chosen on one half of the
    draws (highest mean, or lowest) and every other policy is judged against it on the other half
    (:func:`pairwise`, Holm over the policies). Returns the chosen policy and the comparisons,
    with ``regret``: how far each policy falls short of the chosen best on the held-out draws
    (with its interval; the chosen policy itself is 0). Needs at least 4 draws."""
    if len(estimates) < 4:
        raise UserError(
            f"choosing the best on half of the draws and judging it on the other needs 4 draws, got {len(estimates)}"
        )
    select, judge = halves(len(estimates))
    means = estimates.iloc[select].mean(axis=0)
    best = means.idxmax() if larger_is_better else means.idxmin()
    out = pairwise(estimates.iloc[judge], policy_columns, reference=best, confidence=confidence)
    sign = -1.0 if larger_is_better else 1.0
    out["regret"] = sign * out["difference"]
    low, high = sign * out["ci_low"], sign * out["ci_high"]
    out["regret_ci_low"], out["regret_ci_high"] = np.minimum(low, high), np.maximum(low, high)
    return best, out


def mcb(
    estimates: pd.DataFrame, policy_columns: Sequence[str], *, larger_is_better: bool = True, confidence: float = 0.95
) -> pd.DataFrame:
    """Hsu's multiple comparisons with the best (constrained MCB), paired over the draws.

    For each policy, simultaneous intervals for how far its expected outcome lies from the best
    of the others (``mcb_low``, ``mcb_high``; 0 is the best) and ``may_be_best``: whether the
    data leave it among the candidates for the best (upper limit above 0). Per pair, the mean
    difference over the draws and its standard error; the critical value is the one-sided t
    quantile Bonferroni-adjusted over the k - 1 comparisons with a policy (conservative where
    Hsu uses Dunnett's): then every interval holds at once with probability at least
    ``confidence`` (Hsu 1996, ch. 4), identical policies included.
    """
    values = estimates.to_numpy(dtype=float)
    if not larger_is_better:
        values = -values
    n, k = values.shape
    if k < 2 or n < 2:
        raise UserError("multiple comparisons with the best need at least two policies and two draws")
    diff = values[:, :, None] - values[:, None, :]  # draws x i x j: i minus j
    mean = diff.mean(axis=0)
    se = diff.std(axis=0, ddof=1) / math.sqrt(n)
    c = float(_st.t.ppf(1 - (1 - confidence) / (k - 1), n - 1))
    others = ~np.eye(k, dtype=bool)
    upper_each = np.where(others, mean + c * se, np.inf)
    upper = np.maximum(0.0, upper_each.min(axis=1))
    candidates = upper > 0
    lower = np.zeros(k)
    for i in range(k):
        rivals = candidates & others[i]
        if rivals.any():
            lower[i] = min(0.0, float((mean[i] - c * se[i])[rivals].min()))
    out = pd.DataFrame(list(estimates.columns), columns=list(policy_columns))
    out["draws"] = n
    out["mcb_low"], out["mcb_high"] = (lower, upper) if larger_is_better else (-upper, -lower)
    out["may_be_best"] = candidates
    return out


def section(
    rows: pd.DataFrame,
    policy_columns: Sequence[str],
    outcome: str = "talks",
    *,
    larger_is_better: bool = True,
    horizon: int | None = None,
    top: int = 10,
    unit: str = "draw",
    reference: tuple | None = None,
) -> tuple[str, dict[str, pd.DataFrame]]:
    """A Markdown section for the report and its full tables.

    The ``top`` policies by mean regret (descriptive); each policy compared with ``reference``,
    a policy fixed in advance (the report's baseline; default the first policy of the design),
    over all draws with Holm's adjustment (``pairwise``); and "against the best" with the best
    chosen on half of the draws and judged on the other half (``chosen_best``), with the regret
    against it on the held-out half.
    """
    estimates = per_draw(rows, policy_columns, outcome, horizon)
    regret = regret_table(estimates, policy_columns, larger_is_better=larger_is_better)
    reference = estimates.columns[0] if reference is None else tuple(reference)
    versus = pairwise(estimates, policy_columns, reference=reference)
    sense = "higher" if larger_is_better else "lower"
    n = len(estimates)
    lines = [
        f"## Robust policy ranking: {outcome} ({sense} is better) over {n} {unit}s",
        "",
        f"Regret: how far a policy falls short, in a {unit}, of the best policy of that {unit}; descriptive only: "
        f"the best of a {unit} is picked from the same noisy estimates, so even identical policies show a regret "
        f"above 0. Mean regret with a 95% t interval over the {unit}s; share of the {unit}s in which the policy is "
        f"best (ties split) and best or tied. The comparison is with the baseline fixed in advance "
        f"({label(reference, policy_columns)}), pairing each {unit}'s parameters and replicate seeds (common random "
        f"numbers); p-values Holm-adjusted over the {len(versus)} comparisons.",
        "",
        "| policy | mean | mean regret [95% CI] | 90% / max regret | best | best or tied | difference vs baseline [95% CI] | Holm p |",
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
            versus_text, p_text = "(baseline)", ""
        lines.append(
            f"| {label(policy, policy_columns)} | {r['mean']:.3f} | {r['mean_regret']:.3f} "
            f"[{r['regret_ci_low']:.3f}, {r['regret_ci_high']:.3f}] | {r['regret_p90']:.3f} / {r['max_regret']:.3f} | "
            f"{100 * r['share_best']:.0f}% | {100 * r['share_tied_best']:.0f}% | {versus_text} | {p_text} |"
        )
    if len(regret) > top:
        lines.append(f"\n{len(regret) - top} more policies in robust_{outcome}.csv.")
    tables = {"regret": regret, "pairwise": versus}
    if n >= 4 and len(estimates.columns) > 1:
        best, judged = chosen_best(estimates, policy_columns, larger_is_better=larger_is_better)
        tables["versus_chosen_best"] = judged
        worst = judged.sort_values("regret", ascending=False, kind="stable").head(top)
        lines += [
            "",
            f"Against the best: {label(best, policy_columns)} has the best mean on half of the {unit}s "
            f"({len(halves(n)[0])}); on the other {len(halves(n)[1])} {unit}s every policy is judged against it "
            f"(regret: how far the policy falls short of it there, with a 95% t interval over those {unit}s; "
            "Holm p over the comparisons). Choosing and judging on separate draws keeps the choice from "
            "flattering itself.",
            "",
            "| policy | regret vs chosen best [95% CI] | Holm p |",
            "|---|---|---|",
            *(
                f"| {label(tuple(r[list(policy_columns)]), policy_columns)} | {r['regret']:+.3f} "
                f"[{r['regret_ci_low']:+.3f}, {r['regret_ci_high']:+.3f}] | {r['p_holm']:.3g} |"
                for _, r in worst.iterrows()
            ),
        ]
    if n >= 2 and len(estimates.columns) > 1:
        best_set = mcb(estimates, policy_columns, larger_is_better=larger_is_better)
        tables["mcb"] = best_set
        may = best_set[best_set["may_be_best"]]
        names = "; ".join(label(tuple(r[list(policy_columns)]), policy_columns) for _, r in may.iterrows())
        lines += [
            "",
            f"Multiple comparisons with the best (Hsu; 95% simultaneous, paired over all {n} {unit}s): "
            f"{len(may)} of {len(best_set)} policies may be the best: {names}.",
        ]
    return "\n".join(lines) + "\n", tables


def robust_ranking(
    result: Any, outcome: str = "talks", larger_is_better: bool = True, reference: tuple | None = None
) -> dict[str, Any]:
    """:func:`section` for a :class:`~experiments.results.SweepResult` (markdown, regret, pairwise
    against ``reference``, a policy fixed in advance, and against a best chosen on other draws)."""
    text, tables = section(
        result.rows,
        result.policy_columns,
        outcome,
        larger_is_better=larger_is_better,
        horizon=result.horizon,
        reference=reference,
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
