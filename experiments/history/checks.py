"""Checks of the calibration itself: simulation-based calibration (Talts et al. 2018).

From ``truths`` parameter vectors drawn from the prior, make one synthetic record each (one
replay of the historical scenario under that truth, reduced to the same summaries as the real
record), calibrate on it with a reduced budget, and count how often the central 50% and 90%
credible intervals contain the truth. A calibration whose posteriors are honest covers the
truth at about the nominal rates; much less means overconfident posteriors (the tolerance or
the distance is too tight), much more that the budget leaves them wider than they need be.
The figures go into ``data/calibration_checks.json`` (keys ``truths``, ``sbc_coverage_50``,
``sbc_coverage_90``) and docs/ODD.md section 9.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_arrays

from ..errors import UserError
from ..io import atomic_write_text
from ..seeds import replicate_seeds
from .calibration import CALIBRATED_PARAMETERS, _prior_bounds, calibrate, simulated_summaries
from .scenario import Scenario
from .summaries import SUMMARY_SERIES, recorded_rungs, summary_table

SBC_STREAM = 0x5BC
"""Mixed into the seed for the truths and their synthetic records."""
CHECKS_FILE = Path(__file__).resolve().parents[2] / "data" / "calibration_checks.json"


def synthetic_observed(scenario: Scenario, record: pd.DataFrame, truth: dict[str, float], seed: int) -> pd.Series:
    """The summaries of one replay of ``scenario`` under ``truth`` (a synthetic record)."""
    summaries = summary_table(scenario, record)
    result = simulate_arrays(
        scenario.params,
        {k: np.array([v]) for k, v in truth.items()},
        replicate_seeds(seed, 1),
        scenario.weeks,
        scenario.schedule(),
        trajectories=SUMMARY_SERIES,
    )
    assert result.trajectory is not None  # asked for
    return simulated_summaries(scenario, result.trajectory, summaries, recorded_rungs(record)).iloc[0]


SBC_DIR = "sbc"
"""The folder of ``--out`` that holds one file per finished truth (``truth_007.json``)."""


def sbc_draws(scenario: Scenario, truths: int, seed: int, parameters: tuple[str, ...]) -> tuple[np.ndarray, list[int]]:
    """The ``truths`` parameter vectors drawn from the prior (one row each) and the seed of each
    one's synthetic record: both fixed by ``seed`` and ``truths`` alone, so any truth can be
    fitted on its own, in any order, and give the numbers it gives in a whole run."""
    low, high = _prior_bounds(scenario.params, parameters)
    rng = np.random.default_rng([seed, SBC_STREAM])
    drawn = rng.uniform(low, high, size=(truths, len(parameters)))
    return drawn, [int(rng.integers(2**63)) for _ in range(truths)]


def sbc_truth(
    scenario: Scenario,
    record: pd.DataFrame,
    index: int,
    truth: dict[str, float],
    observed_seed: int,
    seed: int,
    **budget: Any,
) -> dict[str, Any]:
    """Fit truth number ``index`` (``truth``) on its synthetic record and return what the check
    keeps of it: the truth, its posterior's 5%, 25%, 75% and 95% quantiles per parameter, and
    whether the 50% and 90% central intervals contain it."""
    parameters = tuple(truth)
    observed = synthetic_observed(scenario, record, truth, seed=observed_seed)
    result = calibrate(
        scenario, record, observed=observed, parameters=parameters, seed=seed + 1 + index, progress=False, **budget
    )
    quantiles = {q: [float(result.quantile(name, q)) for name in parameters] for q in (0.05, 0.25, 0.75, 0.95)}
    return {
        "index": index,
        "truth": [float(truth[name]) for name in parameters],
        "q05": quantiles[0.05],
        "q25": quantiles[0.25],
        "q75": quantiles[0.75],
        "q95": quantiles[0.95],
        "inside_50": [quantiles[0.25][k] <= truth[n] <= quantiles[0.75][k] for k, n in enumerate(parameters)],
        "inside_90": [quantiles[0.05][k] <= truth[n] <= quantiles[0.95][k] for k, n in enumerate(parameters)],
    }


ROW_KEYS = ("index", "truth", "q05", "q25", "q75", "q95", "inside_50", "inside_90")
"""What a stored truth's row holds (:func:`sbc_truth`); the lists have one entry per parameter."""


def _truth_path(store: Path, index: int) -> Path:
    """Where truth ``index``'s row is saved in ``store``."""
    return store / f"truth_{index:03d}.json"


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def _sbc_fingerprint(
    scenario: Scenario, record: pd.DataFrame, truths: int, seed: int, parameters: tuple[str, ...], budget: dict
) -> dict:
    """The settings a stored truth must share to be reused: the scenario (its parameters and
    every week's levers), the record and the summaries it supports, the draws, the budget, the
    model (its source, calibrated defaults and backend) and the calibration's own code (summaries,
    distance, sampler, acceptance)."""
    from ..provenance import model_fingerprint

    levers = scenario.schedule().arrays(scenario.weeks)
    method = sorted([*Path(__file__).parent.glob("*.py"), *Path(__file__).parent.glob("abc/*.py")])
    return {
        "scenario": scenario.name,
        "scenario_params": repr(scenario.params),
        "weeks": scenario.weeks,
        "levers": _digest(*(name.encode() + np.ascontiguousarray(levers[name]).tobytes() for name in sorted(levers))),
        "record": _digest(record.to_csv().encode()),
        "summaries": [summary.name for summary in summary_table(scenario, record)],
        "truths": truths,
        "seed": seed,
        "parameters": list(parameters),
        "budget": {k: budget[k] for k in sorted(budget)},
        "model": model_fingerprint(),
        "method": _digest(*(path.name.encode() + path.read_bytes() for path in method)),
    }


def _stored_truths(store: Path, fingerprint: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The truths already fitted in ``store`` with the same settings, by index. A file that cannot
    be read, holds a row of another shape or index than its name says, or holds other settings,
    stops the run with one line: nothing stored is overwritten or silently mixed in."""
    done: dict[int, dict[str, Any]] = {}
    width = len(fingerprint["parameters"])
    for path in sorted(store.glob("truth_*.json")):
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            row = saved["row"]
            problem = None
            if sorted(row) != sorted(ROW_KEYS):
                problem = f"its row has the fields {', '.join(sorted(row))}, not {', '.join(ROW_KEYS)}"
            elif any(len(row[key]) != width for key in ROW_KEYS[1:]):
                problem = f"its row does not have one value per parameter ({width})"
            elif path != _truth_path(store, row["index"]) or not 0 <= row["index"] < fingerprint["truths"]:
                problem = f"it holds truth {row['index']!r}, not the truth its name says, of {fingerprint['truths']}"
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f"unreadable ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
        if problem is not None:
            raise UserError(f"{path}: a damaged stored SBC truth: {problem}; delete that file to fit its truth again")
        if saved.get("fingerprint") != fingerprint:
            theirs = saved.get("fingerprint") or {}
            differ = sorted(k for k in set(fingerprint) | set(theirs) if fingerprint.get(k) != theirs.get(k))
            raise UserError(
                f"{store} holds SBC truths fitted with other settings ({', '.join(differ[:4])} differ); "
                "use another --out, or --restart to discard them"
            )
        done[row["index"]] = row
    return done


def simulation_based_calibration(
    scenario: Scenario,
    record: pd.DataFrame,
    truths: int = 20,
    seed: int = 7,
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS,
    progress: bool = True,
    store: Path | None = None,
    only: Sequence[int] | None = None,
    **budget: Any,
) -> dict[str, Any]:
    """Coverage of the truth by the 50% and 90% central credible intervals over ``truths``
    synthetic records (``budget``: keyword arguments of :func:`calibrate`, e.g. population,
    generations, accept, replicates, executor, parallelism). Returns the JSON-ready figures: overall coverage
    (over truths and parameters), coverage per parameter, every truth's row (:func:`sbc_truth`)
    and the settings.

    With ``store`` (a folder), each truth is saved there as soon as it is fitted and a rerun with
    the same settings fits only the truths not yet saved. ``only`` reports on just those truths
    (by index; without a ``store`` each is fitted afresh: a spot check of shipped figures)."""
    from tqdm.auto import tqdm

    wanted = sorted(set(range(truths) if only is None else only))
    if any(not 0 <= t < truths for t in wanted):
        raise ValueError(f"only: truth indices must be from 0 to {truths - 1}, got {wanted}")
    if store is not None and store.exists() and not store.is_dir():
        raise UserError(f"{store} is a file, not a folder for the SBC's truths; move it or use another --out")
    drawn, observed_seeds = sbc_draws(scenario, truths, seed, parameters)
    kept_budget = {k: v for k, v in budget.items() if k not in ("executor", "parallelism", "out")}
    rows = {}
    if store is not None:
        fingerprint = _sbc_fingerprint(scenario, record, truths, seed, parameters, kept_budget)
        rows = _stored_truths(store, fingerprint) if store.is_dir() else {}
    if progress and rows:
        print(
            f"SBC: {len(set(rows) & set(wanted))} of {len(wanted)} truths already fitted in {store}; fitting the rest"
        )
    for t in tqdm([t for t in wanted if t not in rows], desc="SBC", unit="truth", disable=not progress):
        truth = dict(zip(parameters, map(float, drawn[t]), strict=True))
        rows[t] = sbc_truth(scenario, record, t, truth, observed_seeds[t], seed, **budget)
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"fingerprint": fingerprint, "row": rows[t]}, indent=1) + "\n"
            atomic_write_text(_truth_path(store, t), text)
    return sbc_figures([rows[t] for t in wanted], scenario.name, seed, parameters, kept_budget)


def sbc_figures(
    rows: list[dict[str, Any]], scenario: str, seed: int, parameters: tuple[str, ...], budget: dict[str, Any]
) -> dict[str, Any]:
    """The coverage figures of the truths' ``rows``: overall (over truths and parameters, with a
    standard error that treats truths as independent and the parameters of one truth as one
    cluster) and per parameter."""
    inside = {level: np.array([row[f"inside_{level}"] for row in rows], bool) for level in (50, 90)}
    n = len(rows)
    se = {
        level: float(inside[level].mean(axis=1).std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan") for level in inside
    }
    return {
        "truths": n,
        "sbc_coverage_50": float(inside[50].mean()),
        "sbc_coverage_90": float(inside[90].mean()),
        "sbc_coverage_50_se": se[50],
        "sbc_coverage_90_se": se[90],
        "per_parameter_50": {name: float(inside[50][:, k].mean()) for k, name in enumerate(parameters)},
        "per_parameter_90": {name: float(inside[90][:, k].mean()) for k, name in enumerate(parameters)},
        "scenario": scenario,
        "seed": seed,
        "budget": budget,
        "parameters": list(parameters),
        "per_truth": rows,
    }


def write_checks(figures: dict[str, Any], path: Path = CHECKS_FILE) -> Path:
    """Write the figures as JSON (atomically)."""
    atomic_write_text(path, json.dumps(figures, indent=2) + "\n")
    return path


IDENTIFIED_WIDTH = 0.5
"""A parameter counts as informed by the record when its 90% credible interval keeps at most this
share of its prior's width."""
STRONG_CORRELATION = 0.5
"""Posterior correlations at least this strong (in absolute value) are listed: the record informs
the pair's combination more than either parameter."""


def identification(posterior: pd.DataFrame, parameters: tuple[str, ...], low: dict, high: dict) -> dict[str, Any]:
    """What the record informs, from a weighted posterior sample: each parameter's 90% credible
    interval as a share of its prior's width (``width_ratio``: about 0.9 for a posterior equal to
    its uniform prior), the effective sample size of the weights, the pairs correlated at least
    :data:`STRONG_CORRELATION`, and the parameters left above :data:`IDENTIFIED_WIDTH` (the record
    does not inform them; a headline effect that rests on one has to be shown over its range)."""
    from .abc.weighted import credible_intervals, strongest_pairs, weighted_correlations

    table = credible_intervals(posterior, parameters, low, high)
    w = posterior["weight"].to_numpy(dtype=float)
    pairs = strongest_pairs(weighted_correlations(posterior, parameters), top=len(parameters) ** 2)
    return {
        "width_ratio": {n: round(float(r), 4) for n, r in table["width_ratio"].items()},
        "effective_sample_size": round(float(w.sum() ** 2 / (w**2).sum()), 1),
        "correlated_pairs": [[a, b, round(r, 3)] for a, b, r in pairs if abs(r) >= STRONG_CORRELATION],
        "not_informed": [n for n, r in table["width_ratio"].items() if r > IDENTIFIED_WIDTH],
        "identified_width": IDENTIFIED_WIDTH,
    }
