"""Running a sensitivity plan on the batched engine, and what it returns.

Common random numbers
    Every sample point runs the same ``R`` replicate seeds (:func:`experiments.seeds.replicate_seeds`
    of the experiment seed). A point's estimate (P(talks), mean tests, ...) is then a deterministic
    function of the parameters and the seed set: the noise the finite replicates leave is shared by
    the points, so a bootstrap over the points alone cannot see it. The indices therefore carry a
    bootstrap over the seeds as well, and are computed again from two disjoint halves of the seeds
    (:mod:`experiments.sensitivity.indices`).

Independent inputs
    Sobol' indices need independent inputs. The parameter table has no cross-parameter
    constraints (a constrained pair is written as a share: ``hawkes_ratio``, ``step_cost_low_share``),
    so every point of the sample runs as sampled, with nothing repaired or narrowed.

Outcomes
    Taken from :data:`model.outcomes.OUTCOME_COLUMNS`: a yes/no outcome becomes its probability
    per point; an event week (``*_week``, NaN when the event did not happen) becomes the restricted
    mean weeks to the event within the horizon (no event counts as the horizon); counts are means.
    An outcome whose estimates do not vary over the sample (saturated) is reported, not analysed.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays
from model.outcomes import OUTCOME_COLUMNS
from model.params import Params

from ..seeds import replicate_seeds
from ..sweep.runner import make_executor
from .indices import morris, outcome_weights, seed_overlap, sobol, top_parameters
from .plan import SensitivityPlan, outcome_label


def outcome_values(outcomes: dict[str, np.ndarray], name: str, weeks: int) -> np.ndarray:
    """One outcome of a block of runs as floats: yes/no as 0/1, an event week censored at the
    horizon (restricted mean), counts as they are."""
    values = np.asarray(outcomes[name], dtype=float)
    if name.endswith("_week"):
        values = np.where(np.isnan(values), float(weeks), values)
    return values


def run_block(
    base: Params, names: Sequence[str], X: np.ndarray, seeds: np.ndarray, weeks: int, outcomes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run every point (row of ``X``) with every seed; returns, for each outcome, an array of
    shape (points, replicates). A pure function of its arguments: blocks can run anywhere."""
    R = len(seeds)
    varying = {name: np.repeat(X[:, j], R) for j, name in enumerate(names)}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = simulate_arrays(base, varying, np.tile(seeds, len(X)), weeks)
    return {name: outcome_values(result.outcomes, name, weeks).reshape(len(X), R) for name in outcomes}


def _run_task(args: tuple) -> tuple[int, dict[str, np.ndarray]]:
    start, *rest = args
    return start, run_block(*rest)


def evaluate(
    base: Params,
    names: Sequence[str],
    X: np.ndarray,
    seeds: np.ndarray,
    weeks: int,
    outcomes: Sequence[str],
    *,
    workers: int | None = None,
    dask: str | None = None,
    block_runs: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`run_block` over all rows of ``X``, split into blocks of about ``block_runs`` runs
    on ``workers`` local processes or a Dask cluster (scheduler address ``dask``); the numbers
    depend on neither. ``progress(points_done)`` is called as blocks finish."""
    per_block = max(1, block_runs // len(seeds))
    out = {name: np.empty((len(X), len(seeds))) for name in outcomes}
    tasks = [
        (a, base, list(names), X[a : a + per_block], seeds, weeks, list(outcomes)) for a in range(0, len(X), per_block)
    ]
    with make_executor(workers, dask) as (executor, _):
        for start, block in executor.map(_run_task, tasks):
            for name in outcomes:
                out[name][start : start + len(block[name])] = block[name]
            if progress is not None:
                progress(len(block[outcomes[0]]))
    return out


@dataclass
class SensitivityResult:
    """The output of :func:`run_plan` (see :meth:`as_json` for the published shape)."""

    method: str
    indices: pd.DataFrame  # Sobol' rows (method sobol or both), else Morris rows
    screening: pd.DataFrame | None  # Morris rows when method is both
    split: pd.DataFrame  # outcome, noise_share (+ interval), estimate_noise_share (+ interval), ...
    converged: dict[str, bool | None]
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # the verdicts of `indices`
    screening_checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def screening_converged(self) -> dict[str, bool | None]:
        """Outcome -> the Morris screen's verdict (empty without a screen)."""
        return {o: c["converged"] for o, c in self.screening_checks.items()}

    def as_json(self) -> dict[str, Any]:
        """The published shape.

        ``indices`` (one row per outcome and parameter), ``noise_share`` (outcome -> share of
        one run's variance due to the seeds) with ``noise_share_interval``, ``converged``
        (outcome -> true/false of the reported indices; null when saturated),
        ``screening_converged`` (outcome -> the screen's verdict), ``seed_split`` (outcome ->
        largest absolute difference between the indices of two disjoint halves of the seeds),
        ``seed_overlap`` (share of the screen's top parameters that the two halves of the seeds
        agree on), ``checks``, ``warnings``, plus ``screening``, ``estimate_noise_share`` and
        ``meta``.
        """

        def clean(v: Any) -> Any:
            if isinstance(v, float) and math.isnan(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        def rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
            return [] if frame is None else [clean(r) for r in frame.to_dict("records")]

        def share(column: str) -> dict[str, float | None]:
            return {r["outcome"]: clean(round(r[column], 6)) for r in self.split.to_dict("records")}

        def interval(column: str) -> dict[str, list[float | None]]:
            return {
                r["outcome"]: [clean(round(r[f"{column}_low"], 6)), clean(round(r[f"{column}_high"], 6))]
                for r in self.split.to_dict("records")
            }

        return {
            "method": self.method,
            "indices": rows(self.indices),
            "screening": rows(self.screening),
            "noise_share": share("noise_share"),
            "noise_share_interval": interval("noise_share"),
            "estimate_noise_share": share("estimate_noise_share"),
            "estimate_noise_share_interval": interval("estimate_noise_share"),
            "converged": self.converged,
            "screening_converged": self.screening_converged,
            "seed_split": {o: clean(c.get("seed_split", math.nan)) for o, c in self.checks.items()},
            "seed_overlap": clean(self.meta.get("morris", {}).get("seed_overlap", math.nan)),
            "checks": clean(self.checks),
            "screening_checks": clean(self.screening_checks),
            "warnings": self.warnings,
            "meta": clean(self.meta),
        }


def run_plan(
    plan: SensitivityPlan, *, workers: int | None = None, dask: str | None = None, progress: bool = False
) -> SensitivityResult:
    """Run a sensitivity plan on the batched engine.

    Morris, Sobol', or Morris then Sobol' on the top parameters (selected from the outcomes
    that vary, each weighted by the share of its variance the parameters carry). Sobol' on a
    screen that has not converged runs, with a warning that heads the report.
    """
    s, e = plan.settings, plan.experiment
    seeds = replicate_seeds(e.seed, e.replicates)
    screen_replicates = min(s.screen_replicates or e.replicates, e.replicates)  # --replicates caps both
    screen_seeds = replicate_seeds(e.seed, screen_replicates)
    started = time.perf_counter()

    def evaluator_for(names: Sequence[str], label: str, seeds: np.ndarray = seeds):
        def evaluator(X: np.ndarray) -> dict[str, np.ndarray]:
            bar = _progress(len(X) * len(seeds), f"{label}: {len(X)} points x {len(seeds)} replicates", progress)
            try:
                return evaluate(
                    plan.base,
                    names,
                    X,
                    seeds,
                    e.weeks,
                    plan.outcomes,
                    workers=workers,
                    dask=dask,
                    block_runs=s.block_runs,
                    progress=lambda k: bar.update(k * len(seeds)),
                )
            finally:
                bar.close()

        return evaluator

    meta: dict[str, Any] = {
        "replicates": e.replicates,
        "weeks": e.weeks,
        "seed": e.seed,
        "confidence": s.confidence,
        "ranges_from": plan.range_source,
        "outcomes": {o: outcome_label(o) for o in plan.outcomes},
        "fixed": plan.base.changed(),
        "held_at_defaults": _held_at_defaults(plan),
    }
    notes: list[str] = []
    screening = result = None
    sample_frames: dict[str, pd.DataFrame] = {}
    if s.method in ("both", "morris"):
        screening = morris(
            dict(plan.ranges),
            evaluator_for(list(plan.ranges), "morris", screen_seeds),
            plan.outcomes,
            trajectories=s.trajectories,
            levels=s.levels,
            seed=e.seed,
            bootstrap=s.bootstrap,
            tolerance=s.morris_tolerance,
            confidence=s.confidence,
            top=s.top,
        )
        sample_frames["morris"] = screening["samples"]
        weights = outcome_weights(
            screening["split"], {o: _saturated_share(screening["samples"][o], o) for o in plan.outcomes}
        )
        meta["morris"] = {
            "trajectories": s.trajectories,
            "replicates": len(screen_seeds),
            "levels": s.levels,
            "parameters": len(plan.ranges),
            "points": len(screening["samples"]),
            "tolerance": s.morris_tolerance,
            "weights": weights,
            "top": top_parameters(screening["indices"], s.top, weights),
            "seed_overlap": seed_overlap(screening["indices"], s.top, weights),
        }
    if s.method in ("both", "sobol"):
        names = list(plan.ranges)
        if s.method == "both":
            assert screening is not None
            names = meta["morris"]["top"] or names[: s.top]
            if len(names) < 2:
                names = list(plan.ranges)[:2]
            loose = [o for o, c in screening["checks"].items() if c["converged"] is False and weights[o] > 0]
            if loose:
                notes.append(
                    f"The Morris screen has not converged for {', '.join(loose)}: the parameters chosen for "
                    "Sobol' may not be the most influential. Rerun with more trajectories (or more replicates)."
                )
        ranges = {n: plan.ranges[n] for n in names}
        result = sobol(
            ranges,
            evaluator_for(names, "sobol"),
            plan.outcomes,
            samples=s.samples,
            seed=e.seed,
            bootstrap=s.bootstrap,
            confidence=s.confidence,
        )
        sample_frames["sobol"] = result["samples"]
        meta["sobol"] = {
            "samples": s.samples,
            "parameters": names,
            "points": len(result["samples"]),
        }
    main = result if result is not None else screening
    assert main is not None
    split = pd.DataFrame(
        [
            {"outcome": o, **main["split"][o], "saturated_share": _saturated_share(main["samples"][o], o)}
            for o in plan.outcomes
        ]
    )
    meta["seconds"] = round(time.perf_counter() - started, 2)
    meta["runs"] = sum(len(f) * (len(screen_seeds) if m == "morris" else len(seeds)) for m, f in sample_frames.items())
    return SensitivityResult(
        method=s.method,
        indices=main["indices"],
        screening=screening["indices"] if result is not None and screening is not None else None,
        split=split,
        converged=main["converged"],
        checks=main["checks"],
        screening_checks=screening["checks"] if screening is not None else {},
        warnings=notes,
        meta=meta,
        samples=sample_frames,
    )


def _held_at_defaults(plan: SensitivityPlan) -> int:
    """How many uncertainties of the table are neither sampled nor fixed by the config."""
    from .plan import table_ranges

    return sum(1 for n in table_ranges() if n not in plan.ranges and n not in plan.base.changed())


def _saturated_share(means: pd.Series, outcome: str) -> float:
    """For a probability: share of points with P <= 0.01 or >= 0.99; NaN for other outcomes."""
    if OUTCOME_COLUMNS[outcome] != "bool":
        return math.nan
    values = means.to_numpy()
    return float(np.mean((values <= 0.01) | (values >= 0.99)))


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=total, unit="run", desc=desc, file=sys.stderr, unit_scale=True)
