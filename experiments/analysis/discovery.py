"""Scenario discovery: the boxes of parameter space where a policy fails, by PRIM.

``escalation discover RESULTS --outcome NAME`` takes the cases of a finished experiment, marks the
ones of interest (say, P(talks within the horizon) below 0.5 under engagement) and runs the
Patient Rule Induction Method of EMA Workbench (:class:`ema_workbench.analysis.prim.Prim`, the
reference implementation) to find a box of the uncertain parameters that holds many of them
(coverage) and little else (density).

Cases
    * a sweep with ``[uncertainties]``: one case per design point (scenario x policy), with the
      scenario's sampled values;
    * a sweep with ``[posterior]``: one case per design point, with its posterior draw's values of
      the calibrated parameters (read from the posterior sample named in the provenance, whose
      digest must still match);
    * the output directory of ``escalation sensitivity``: one case per sample point (the Sobol'
      sample if there is one, else the Morris points).

    A case's value is its estimate over its replicates: a yes/no outcome as a probability, an
    event week as the restricted mean weeks to the event (none = the horizon), a count as its
    mean.

Levers
    When the cases mix policies (no ``--policy`` filter), the levers become columns of the box
    too. EMA Workbench's categorical peeling fails under pandas 3, so a categorical lever (exercise
    policy, engagement stance) is **encoded as its integer code** in the order of
    :data:`model.params.EXERCISE_POLICIES` / :data:`~model.params.ENGAGEMENT_STANCES`, and PRIM
    peels it as an ordered number; the box's limits are translated back to the values they hold.

Chosen box and its evidence
    PRIM peels half of the cases, split by draw (a posterior draw's cases, one per policy, stay
    together); on its peeling trajectory, the box with the largest coverage among those whose
    density is at least ``threshold`` (default 0.8), or if none reaches it the densest. Each
    restricted side carries EMA Workbench's quasi-p-value; those at 0.05 or above are dropped, and
    the final box's coverage and density are measured on the held-out half.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.outcomes import OUTCOME_COLUMNS
from model.params import TABLE, closest_name

from ..errors import UserError
from ..history.posterior import file_digest, read_posterior
from ..io import atomic_write_text
from ..sweep.results import SweepResult
from .contrasts import matches


@dataclass
class Cases:
    """The cases of a discovery: inputs ``x`` (numbers only), each case's estimate ``value``,
    how many runs each rests on, and what the lever codes mean."""

    x: pd.DataFrame
    value: np.ndarray
    runs: np.ndarray
    codes: dict[str, list[Any]]
    source: str
    groups: np.ndarray | None = None  # cases that share a draw (one per policy) share a group
    dependence: str = ""  # how the cases depend on one another, in words


def estimate(values: pd.Series, outcome: str, horizon: int) -> pd.Series:
    """A run-level outcome column as floats ready to average (see the module docstring)."""
    out = values.astype(float)
    if outcome.endswith("_week"):
        out = out.fillna(float(horizon))
    return out


def _check_outcome(outcome: str, available: list[str]) -> None:
    if outcome not in available:
        raise UserError(
            f"unknown outcome '{outcome}'{closest_name(outcome, available)}; available: {', '.join(available)}"
        )


def cases_from_results(directory: str | Path, outcome: str, policy: dict[str, Any] | None = None) -> Cases:
    """The cases of a results directory (a sampled sweep or a sensitivity analysis)."""
    directory = Path(directory)
    if (directory / "sensitivity.json").is_file():
        return _sensitivity_cases(directory, outcome, policy)
    _check_outcome(outcome, list(OUTCOME_COLUMNS))
    result = SweepResult.load(directory, columns=[outcome])
    experiment = result.experiment
    if not experiment.scenario_sampled:
        raise UserError(
            f"{directory}: the sweep samples no uncertainties ([uncertainties] or [posterior]); scenario "
            "discovery needs scenarios to tell apart"
        )
    rows = result.rows
    if policy:
        rows = rows[matches(rows, policy)]
        if rows.empty:
            raise UserError(f"no design point of {directory} has {policy}")
    rows = rows.assign(_value=estimate(rows[outcome], outcome, result.horizon))
    grouped = rows.groupby("design_point", sort=True)
    value = grouped["_value"].mean()
    runs = grouped.size()
    first = grouped.first()
    if experiment.posterior:
        path = experiment.posterior_path()
        if not Path(path).is_file() or file_digest(Path(path)) != experiment.posterior.get("sha256"):
            raise UserError(
                f"{directory}: the posterior sample {path} is missing or has changed since the sweep; "
                "discovery needs the draws' parameter values"
            )
        posterior = read_posterior(path)
        names = [c for c in posterior.columns if c != "weight"]
        x = posterior.iloc[first["particle"].to_numpy()][names].reset_index(drop=True)
    else:
        names = list(experiment.uncertainties)
        x = first[names].reset_index(drop=True)
    codes: dict[str, list[Any]] = {}
    for lever, values in result.levers.items():
        present = first[lever]
        if present.nunique() > 1:
            x[lever], codes[lever] = _encode(lever, present.reset_index(drop=True), values)
    groups = first["scenario"].to_numpy() if "scenario" in first.columns else None
    per_group = len(value) / max(1, len(set(groups))) if groups is not None else 1.0
    unit = "posterior draw" if experiment.posterior else "scenario"
    dependence = (
        f"each {unit} appears in {per_group:.0f} cases (once per policy), so cases are not independent: the "
        f"held-out half holds other {unit}s than the half PRIM peeled, and the qp-values, which treat cases as "
        "independent, are optimistic"
        if per_group > 1
        else f"one case per {unit}"
    )
    return Cases(
        x,
        value.to_numpy(),
        runs.to_numpy(),
        codes,
        f"sweep {result.name} ({len(value)} design points)",
        groups,
        dependence,
    )


def _encode(lever: str, column: pd.Series, values: list[Any]) -> tuple[pd.Series, list[Any]]:
    """A lever as numbers: categorical levers as their integer codes in the table's order."""
    choices = TABLE[lever].choices
    if choices is None:
        return column.astype(float), []
    order = [c for c in choices if c in set(values)]
    return column.map({v: i for i, v in enumerate(order)}).astype(float), order


def _sensitivity_cases(directory: Path, outcome: str, policy: dict[str, Any] | None) -> Cases:
    if policy:
        raise UserError("--policy does not apply to a sensitivity analysis (it ran at one policy)")
    meta = json.loads((directory / "sensitivity.json").read_text())["meta"]
    outcomes = list(meta["outcomes"])
    _check_outcome(outcome, outcomes)
    for method in ("sobol", "morris"):
        path = directory / f"points_{method}.parquet"
        if path.is_file():
            frame = pd.read_parquet(path)
            x = frame[[c for c in frame.columns if c not in outcomes]]
            runs = np.full(len(frame), int(meta["replicates"]))
            return Cases(
                x, frame[outcome].to_numpy(dtype=float), runs, {}, f"sensitivity {method} sample ({len(frame)} points)"
            )
    raise UserError(f"{directory}: no points_sobol.parquet or points_morris.parquet; rerun `escalation sensitivity`")


@dataclass
class Discovery:
    """A PRIM result: the peeling trajectory, the chosen box and its statistics."""

    outcome: str
    rule: str
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per step
    chosen: int
    limits: pd.DataFrame  # parameter, low, high, range_low, range_high, restricted
    stats: dict[str, Any]
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "rule": self.rule,
            "source": self.source,
            **self.stats,
            "box": [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in self.limits[self.limits["restricted"] | self.limits["dropped"]].to_dict("records")
            ],
        }


def discover(
    cases: Cases,
    outcome: str,
    *,
    below: float | None = None,
    above: float | None = None,
    threshold: float = 0.8,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    significance: float = 0.05,
    holdout: bool = True,
    seed: int = 0,
) -> Discovery:
    """Run PRIM on the cases of interest and choose a box, with the evidence for it.

    Cases of interest have an estimate below ``below`` or above ``above`` (default below 0.5 for
    a probability, else below the median). With ``holdout`` (and at least 10 groups of cases) the
    groups (draws) are split in half at random (``seed``): PRIM peels one half, and the chosen box
    (module docstring) is judged on the other. Each side of a restricted dimension carries EMA
    Workbench's quasi-p-value (the chance that a box without that restriction would be as dense);
    a restriction with qp at or above ``significance`` is dropped. ``stats`` gives coverage and
    density of the final box on the held-out half (and in-sample, on the half peeled).
    """
    if below is not None and above is not None:
        raise UserError("give --below or --above, not both")
    if below is None and above is None:
        below = 0.5 if OUTCOME_COLUMNS.get(outcome) == "bool" else float(np.median(cases.value))
    interest = cases.value < below if below is not None else cases.value > above
    rule = f"{outcome} estimate < {below:g}" if below is not None else f"{outcome} estimate > {above:g}"
    if interest.all() or not interest.any():
        raise UserError(
            f"every case or none has {rule} ({interest.sum()} of {len(interest)}): nothing to tell apart; "
            "choose another --below/--above"
        )
    x = cases.x.reset_index(drop=True).astype(float)
    constant = [c for c in x.columns if x[c].nunique() < 2]
    x = x.drop(columns=constant)
    groups = np.arange(len(x)) if cases.groups is None else np.asarray(cases.groups)
    unique = np.unique(groups)
    train = np.ones(len(x), dtype=bool)
    if holdout and len(unique) >= 10:
        picked = np.random.default_rng(seed).permutation(unique)[: len(unique) // 2]
        train = np.isin(groups, picked)
        if interest[train].all() or not interest[train].any() or not interest[~train].any():
            train = np.ones(len(x), dtype=bool)  # a half without cases of interest: no held-out check
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        box = prim.Prim(
            x[train].reset_index(drop=True), interest[train].astype(int), mass_min=mass_min, peel_alpha=peel_alpha
        ).find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    dense = trajectory.index[trajectory["density"] >= threshold]
    chosen = int(trajectory.loc[dense, "coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    lims, initial = box.box_lims[chosen], box.box_lims[0]
    qp = box.p_values[chosen]
    rows = []
    inside = np.ones(len(x), dtype=bool)
    for name in x.columns:
        low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        low_cut, high_cut = low > float(initial[name].iloc[0]), high < float(initial[name].iloc[1])
        qp_low, qp_high = (float(v) for v in qp.get(name, [-1.0, -1.0]))
        keep_low = low_cut and 0 <= qp_low < significance
        keep_high = high_cut and 0 <= qp_high < significance
        row = {
            "parameter": name,
            "low": low if keep_low else float(x[name].min()),
            "high": high if keep_high else float(x[name].max()),
            "range_low": float(x[name].min()),
            "range_high": float(x[name].max()),
            "restricted": bool(keep_low or keep_high),
            "dropped": bool((low_cut and not keep_low) or (high_cut and not keep_high)),
            "qp_low": qp_low if low_cut else math.nan,
            "qp_high": qp_high if high_cut else math.nan,
        }
        if keep_low:
            inside &= x[name].to_numpy() >= low
        if keep_high:
            inside &= x[name].to_numpy() <= high
        if name in cases.codes:
            row["values"] = ", ".join(v for i, v in enumerate(cases.codes[name]) if row["low"] <= i <= row["high"])
        rows.append(row)
    limits = pd.DataFrame(rows)

    def judged(mask: np.ndarray, where: np.ndarray) -> tuple[float, float]:
        hits = interest[where]
        box_hits = hits[mask[where]]
        coverage = float(box_hits.sum() / hits.sum()) if hits.sum() else math.nan
        density = float(box_hits.mean()) if len(box_hits) else math.nan
        return coverage, density

    held = ~train
    coverage_in, density_in = judged(inside, train)
    coverage_out, density_out = judged(inside, held) if held.any() else (math.nan, math.nan)
    stats = {
        "coverage": coverage_out if held.any() else coverage_in,
        "density": density_out if held.any() else density_in,
        "coverage_in_sample": coverage_in,
        "density_in_sample": density_in,
        "peeled_coverage": float(trajectory.at[chosen, "coverage"]),
        "peeled_density": float(trajectory.at[chosen, "density"]),
        "held_out": bool(held.any()),
        "held_out_cases": int(held.sum()),
        "mass": float(inside.mean()),
        "restricted_dimensions": int(limits["restricted"].sum()),
        "dropped_dimensions": int(limits["dropped"].sum()),
        "significance": significance,
        "cases": int(len(interest)),
        "cases_of_interest": int(interest.sum()),
        "base_rate": float(interest.mean()),
        "threshold": threshold,
        "met_threshold": bool(len(dense)),
        "dependence": cases.dependence or "one case per sample point",
        "encoded_levers": {k: v for k, v in cases.codes.items()},
    }
    return Discovery(outcome, rule, trajectory, chosen, limits, stats, cases.source)


def markdown(d: Discovery) -> str:
    """The chosen box and its evidence as Markdown."""
    s = d.stats
    where = (
        f"on the {s['held_out_cases']} held-out cases (PRIM peeled the other half)"
        if s["held_out"]
        else "in sample (too few groups of cases to hold half out)"
    )
    lines = [
        f"# Scenario discovery: {d.rule}",
        "",
        f"{s['cases_of_interest']} of {s['cases']} cases ({d.source}) have {d.rule} (base rate {s['base_rate']:.2f}). "
        f"PRIM (EMA Workbench) chose step {d.chosen} of its peeling trajectory (coverage {s['peeled_coverage']:.2f}, "
        f"density {s['peeled_density']:.2f} on the cases it peeled"
        + ("" if s["met_threshold"] else f"; no box reached density {s['threshold']:.2f}, this is the densest")
        + f"). Restrictions whose quasi-p-value is {s['significance']:g} or more are dropped "
        f"({s['dropped_dimensions']} dropped). The final box, {s['restricted_dimensions']} restricted dimensions: "
        f"coverage {s['coverage']:.2f} (share of the cases of interest inside the box) and density "
        f"{s['density']:.2f} (share of the box's cases that are of interest) {where}"
        + (f"; in sample {s['coverage_in_sample']:.2f} and {s['density_in_sample']:.2f}" if s["held_out"] else "")
        + f". Cases: {s['dependence']}.",
        "",
        "| parameter | box low | box high | sampled from | to | qp (low side / high side) |",
        "|---|---|---|---|---|---|",
    ]

    def qp(value: float) -> str:
        return "–" if math.isnan(value) else ("< 0.001" if value < 0.001 else f"{value:.3f}")

    for r in d.limits[d.limits["restricted"] | d.limits["dropped"]].to_dict("records"):
        evidence = f"{qp(r['qp_low'])} / {qp(r['qp_high'])}" + ("" if r["restricted"] else " (dropped)")
        if isinstance(r.get("values"), str):
            lines.append(f"| `{r['parameter']}` | {r['values']} | | | | {evidence} |")
        else:
            lines.append(
                f"| `{r['parameter']}` | {r['low']:.4g} | {r['high']:.4g} | {r['range_low']:.4g} | "
                f"{r['range_high']:.4g} | {evidence} |"
            )
    if s["encoded_levers"]:
        lines += [
            "",
            "Levers are encoded as integer codes (EMA Workbench's categorical peeling fails under pandas 3): "
            + "; ".join(
                f"{k}: " + ", ".join(f"{i} = {v}" for i, v in enumerate(vals))
                for k, vals in s["encoded_levers"].items()
            ),
        ]
    return "\n".join(lines) + "\n"


def figure(d: Discovery, stem: Path) -> list[Path]:
    """The coverage-density trade-off along the peeling trajectory, coloured by the number of
    restricted dimensions, with the chosen box marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    t = d.trajectory
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
    ax.scatter(
        [t.at[d.chosen, "coverage"]],
        [t.at[d.chosen, "density"]],
        s=140,
        facecolors="none",
        edgecolors="red",
        label=f"chosen box (step {d.chosen})",
    )
    ax.axhline(
        d.stats["threshold"], color="grey", lw=0.8, ls="--", label=f"density threshold {d.stats['threshold']:.2f}"
    )
    ax.set_xlabel("coverage (share of cases of interest in the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    bar = fig.colorbar(points, ax=ax, label="restricted dimensions")
    bar.locator = matplotlib.ticker.MaxNLocator(integer=True)
    bar.update_ticks()
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"PRIM peeling trajectory: {d.rule}\n{d.source}", fontsize=9)
    fig.tight_layout()
    paths = []
    for suffix in (".png", ".pdf"):
        fig.savefig(stem.with_suffix(suffix), dpi=150 if suffix == ".png" else None)
        paths.append(stem.with_suffix(suffix))
    plt.close(fig)
    return paths


def write(d: Discovery, out: Path) -> list[Path]:
    """discovery_<outcome>.md, .json, _trajectory.csv and the figure."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"discovery_{d.outcome}"
    atomic_write_text(stem.with_suffix(".md"), markdown(d))
    atomic_write_text(stem.with_suffix(".json"), json.dumps(d.as_json(), indent=1, allow_nan=False))
    atomic_write_text(out / f"discovery_{d.outcome}_trajectory.csv", d.trajectory.to_csv(index_label="step"))
    return [
        stem.with_suffix(".md"),
        stem.with_suffix(".json"),
        out / f"discovery_{d.outcome}_trajectory.csv",
        *figure(d, stem),
    ]


def main(args: argparse.Namespace) -> int:
    """``escalation discover``."""
    policy = None
    if args.policy:
        policy = {}
        for item in args.policy:
            if "=" not in item:
                raise UserError(
                    f"--policy {item!r} must be LEVER=VALUE, e.g. engagement_stance=pressure_and_engagement"
                )
            name, value = item.split("=", 1)
            if name not in TABLE or TABLE[name].kind != "lever":
                raise UserError(
                    f"--policy: '{name}' is not a lever{closest_name(name, [p.name for p in TABLE.values() if p.kind == 'lever'])}"
                )
            try:
                policy[name] = TABLE[name].coerce(value)
            except ValueError as error:
                raise UserError(f"--policy: {error}") from None
    cases = cases_from_results(args.results, args.outcome, policy)
    result = discover(
        cases, args.outcome, below=args.below, above=args.above, threshold=args.threshold, mass_min=args.mass_min
    )
    out = Path(args.out) if args.out else Path(args.results)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory")
    written = write(result, out)
    if args.json:
        print(json.dumps(result.as_json(), allow_nan=False))
    else:
        print(markdown(result))
        print(f"wrote {len(written)} files to {out}")
    return 0
