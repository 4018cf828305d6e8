"""Out-of-sample validation: fit on a training window only, forecast a later test window, score.

For each fold (a training window and a test window of months):

1. The scenario is cut to end with the training window and calibrated (ABC-SMC,
   :func:`experiments.history.calibration.calibrate`) against the record of the training months
   only, with one of the :data:`BUDGETS`: the test months never reach the fit, not even through
   the choice of summaries.
2. The whole scenario up to the end of the test window is replayed from its start with each
   replicate drawing a particle of that posterior (the posterior predictive distribution; the
   runs are not conditioned on what happened in the training months beyond the fit itself),
   and the test window is scored like any replay (:meth:`experiments.history.replay.Replay.scores`):
   coverage of the 50% and 90% intervals, the randomised PIT histogram, the CRPS of monthly
   launch events, the window's total against its 90% interval, and the stylised facts the
   window covers.
3. Two baselines fitted on the same training months are scored beside it
   (:mod:`experiments.history.baselines`): the naive rate (Poisson at the training months' mean)
   and the negative binomial regression, with the model's CRPS skill against each.

Rolling origin (:func:`rolling_folds`): training from the scenario's first month to December of
each of the three years before its last, testing the months after it (for 2009-2018: 2009-2015
-> 2016-2018, 2009-2016 -> 2017-2018, 2009-2017 -> 2018).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UserError
from ..io import atomic_write_text
from .abc import calibrate
from .baselines import GAP_CAP, design, fit_count_regression, monthly_covariates, months_since_launch, skill
from .record import load_record_for, missing_months
from .replay import PI_LEVELS, Replay, predictive_interval, week_months
from .scenario import Scenario, load_scenario
from .scores import coverage, crps_poisson, crps_sample

BUDGETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "population": 10,
        "generations": 1,
        "accept": 0.5,
        "replicates": 2,
        "block": 20,
        "max_simulations_per_generation": 2_000,
    },
    "small": {
        "population": 50,
        "generations": 3,
        "accept": 0.1,
        "replicates": 10,
        "block": 250,
        "max_simulations_per_generation": 50_000,
    },
    "medium": {
        "population": 200,
        "generations": 8,
        "accept": 0.05,
        "replicates": 10,
        "block": 500,
        "max_simulations_per_generation": 400_000,
    },
    "full": {
        "population": 1000,
        "generations": 20,
        "accept": 0.02,
        "replicates": 10,
        "block": 2000,
        "max_simulations_per_generation": 2_000_000,
    },
}
"""Calibration budgets by name: ``full`` is the installed fit's (``escalation calibrate``'s defaults)."""
NB_STREAM = 0x9B
"""Mixed into the seed for the regression's predictive paths."""
MIN_TRAINING_MONTHS = 12


@dataclass(frozen=True)
class Fold:
    """A training window and the test window after it (inclusive months)."""

    train: tuple[pd.Period, pd.Period]
    test: tuple[pd.Period, pd.Period]

    def label(self) -> str:
        return f"{self.train[0]}:{self.train[1]} -> {self.test[0]}:{self.test[1]}"


def parse_window(text: str, option: str) -> tuple[pd.Period, pd.Period]:
    """``YYYY-MM:YYYY-MM`` as two months, first not after last; a one-line error otherwise."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*:\s*(\d{4})-(\d{2})\s*", str(text))
    if match is None or not (1 <= int(match[2]) <= 12 and 1 <= int(match[4]) <= 12):
        raise UserError(f"{option} {text!r} is not a window YYYY-MM:YYYY-MM (e.g. 2009-01:2015-12)")
    first, last = pd.Period(f"{match[1]}-{match[2]}", freq="M"), pd.Period(f"{match[3]}-{match[4]}", freq="M")
    if first > last:
        raise UserError(f"{option} {text}: the first month is after the last")
    return first, last


def rolling_folds(scenario: Scenario, origins: int = 3) -> list[Fold]:
    """Training from the scenario's first month to December of each of the ``origins`` years
    before its last year; testing from the January after to the scenario's last month."""
    months = week_months(scenario).unique()
    first, last = months[0], months[-1]
    years = range(last.year - origins, last.year)
    folds = [
        Fold((first, pd.Period(f"{y}-12", freq="M")), (pd.Period(f"{y + 1}-01", freq="M"), last))
        for y in years
        if pd.Period(f"{y}-12", freq="M") > first
    ]
    if not folds:
        raise UserError(f"{scenario.name} is too short for a rolling origin (it needs years before its last)")
    return folds


def check_fold(scenario: Scenario, fold: Fold) -> None:
    """A fold the scenario can serve: training from its first month, at least
    :data:`MIN_TRAINING_MONTHS` months, the test window after it and inside the scenario."""
    months = week_months(scenario).unique()
    (a, b), (c, d) = fold.train, fold.test
    if a != months[0]:
        raise UserError(
            f"--train {a}:{b} must start at the scenario's first month {months[0]} (its [params] set the state then)"
        )
    if (b - a).n + 1 < MIN_TRAINING_MONTHS:
        raise UserError(f"--train {a}:{b} has fewer than {MIN_TRAINING_MONTHS} months")
    if c <= b:
        raise UserError(f"--test {c}:{d} must start after the training window ends ({b})")
    if d > months[-1]:
        raise UserError(f"--test {c}:{d} runs past the scenario's last month {months[-1]}")


def cut(scenario: Scenario, last: pd.Period) -> Scenario:
    """``scenario`` ending with the month ``last`` (its last week starts in that month)."""
    return replace(scenario, end=last.end_time.date())


def validate_fold(
    scenario: Scenario,
    record: pd.DataFrame,
    fold: Fold,
    budget: str = "small",
    seed: int = 1,
    replicates: int = 1000,
    executor: Executor | None = None,
    parallelism: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Fit on ``fold.train``, forecast ``fold.test``, score the model and both baselines (module
    docstring); a JSON-ready dict."""
    if budget not in BUDGETS:
        raise UserError(f"--budget {budget!r} is not known; choose one of {', '.join(BUDGETS)}")
    check_fold(scenario, fold)
    (a, b), (c, d) = fold.train, fold.test
    training_record = record.loc[a:b]
    fitted = calibrate(
        cut(scenario, b),
        training_record,
        seed=seed,
        progress=progress,
        executor=executor,
        parallelism=parallelism,
        **BUDGETS[budget],
    )
    posterior = fitted.posterior[[*fitted.parameters, "weight"]]
    rate = float(training_record["launches"].mean())
    replay = Replay(
        cut(scenario, d),
        replicates=replicates,
        seed=seed,
        record=record.loc[:d],
        score_from=str(c),
        score_to=str(d),
        baseline_rate=rate,
        posterior=posterior,
    )
    scores = replay.scores()
    facts = replay.facts()
    test_months = pd.period_range(c, d, freq="M")
    observed = record["launches"].reindex(test_months).to_numpy(dtype=float)
    model = replay.launches[np.flatnonzero(replay.months.isin(test_months))]
    regression = _regression(scenario, record, fold, replicates, seed)
    paths = regression.pop("paths")
    nb_crps = float(crps_sample(paths, observed).mean())
    naive_crps = float(crps_poisson(rate, observed).mean())
    nb_low, nb_high = predictive_interval(paths.sum(axis=0), 90)
    monthly = {
        "month": [str(m) for m in test_months],
        "observed": observed.tolist(),
        "model_median": np.median(model, axis=1).tolist(),
        **{
            f"model_{level}_{side}": v.tolist()
            for level in PI_LEVELS
            for side, v in zip(("low", "high"), predictive_interval(model, level, axis=1), strict=True)
        },
        **{
            f"regression_{level}_{side}": v.tolist()
            for level in PI_LEVELS
            for side, v in zip(("low", "high"), predictive_interval(paths, level, axis=1), strict=True)
        },
    }
    return {
        "train": f"{a}:{b}",
        "test": f"{c}:{d}",
        "budget": budget,
        "seed": seed,
        "replicates": replicates,
        "calibration": {
            "simulations": fitted.simulations,
            "generations": len(fitted.tolerances),
            "effective_sample_size": fitted.effective_sample_size,
            "stopped": fitted.stopped,
            "width_ratio": {k: float(v) for k, v in fitted.intervals()["width_ratio"].items()},
        },
        "model": {k: v for k, v in scores.items() if not k.startswith(("crps_baseline", "crps_skill", "baseline_"))},
        "facts": {f.name: f.verdict for f in facts},
        "fact_details": {f.name: f.detail for f in facts},
        "naive": {"rate": rate, "crps": naive_crps, "skill_of_model": skill(scores["crps"], naive_crps)},
        "regression": {
            **regression,
            "crps": nb_crps,
            "skill_of_model": skill(scores["crps"], nb_crps),
            "skill_against_naive": skill(nb_crps, naive_crps),
            **{f"coverage_{level}": coverage(paths, observed, *PI_LEVELS[level]) for level in PI_LEVELS},
            "total_launches_90_low": float(nb_low),
            "total_launches_90_high": float(nb_high),
            "total_launches_covered": bool(nb_low <= observed.sum() <= nb_high),
        },
        "monthly": monthly,
    }


def _regression(scenario: Scenario, record: pd.DataFrame, fold: Fold, draws: int, seed: int) -> dict[str, Any]:
    """The NB regression fitted on the training months and ``draws`` predictive paths of the
    test months (``paths``, months x draws). The sanctions level of the test months is held
    inside the range the training months saw (``sanctions_range``): a coefficient fitted on
    levels of 0.02-0.04 says nothing about 0.95, and extrapolating it would make a straw man."""
    (a, b), (c, d) = fold.train, fold.test
    train, test = pd.period_range(a, b, freq="M"), pd.period_range(c, d, freq="M")
    launches = record["launches"].reindex(pd.period_range(a, c - 1, freq="M")).to_numpy(dtype=float)
    gaps = months_since_launch(launches, before=GAP_CAP)  # no history before the first month: a long gap
    seen = monthly_covariates(scenario, record, train)
    fit = fit_count_regression(launches[: len(train)], design(seen, gaps[: len(train)]))
    last = months_since_launch(np.r_[launches, 0.0], before=GAP_CAP)[-1]  # the gap at the test's first month
    ahead = monthly_covariates(scenario, record, test)
    low, high = float(seen["sanctions"].min()), float(seen["sanctions"].max())
    ahead["sanctions"] = ahead["sanctions"].clip(low, high)
    paths = fit.sample(ahead, last, draws, np.random.default_rng([seed, NB_STREAM]))
    return {**fit.as_dict(), "sanctions_range": [low, high], "paths": paths}


def validate(
    scenario: Scenario,
    record: pd.DataFrame,
    folds: list[Fold],
    budget: str = "small",
    seed: int = 1,
    replicates: int = 1000,
    executor: Executor | None = None,
    parallelism: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Every fold (:func:`validate_fold`), with the settings, as one JSON-ready dict."""
    for fold in folds:
        check_fold(scenario, fold)
    if budget not in BUDGETS:
        raise UserError(f"--budget {budget!r} is not known; choose one of {', '.join(BUDGETS)}")
    results = [
        validate_fold(scenario, record, fold, budget, seed, replicates, executor, parallelism, progress)
        for fold in folds
    ]
    return {
        "scenario": scenario.name,
        "budget": budget,
        "calibration_budget": BUDGETS[budget],
        "seed": seed,
        "replicates": replicates,
        "folds": results,
    }


def plot_validation(results: dict[str, Any], path: Path) -> Path:
    """One panel per fold: the observed monthly launch events, the model's median and 90%
    interval, and the regression's 90% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folds = results["folds"]
    fig, axes = plt.subplots(len(folds), 1, figsize=(9, 2.8 * len(folds)), squeeze=False)
    for ax, fold in zip(axes[:, 0], folds, strict=True):
        m = fold["monthly"]
        x = np.arange(len(m["month"]))
        ax.fill_between(x, m["model_90_low"], m["model_90_high"], step="mid", alpha=0.3, label="model 90%")
        ax.step(x, m["regression_90_high"], where="mid", color="tab:orange", label="NB regression 90% upper")
        ax.step(x, m["model_median"], where="mid", color="tab:blue", label="model median")
        ax.plot(x, m["observed"], "ko", ms=3, label="observed")
        ticks = x[:: max(1, len(x) // 12)]
        ax.set_xticks(ticks, [m["month"][i] for i in ticks], rotation=45, fontsize=7)
        skill_naive, skill_nb = fold["naive"]["skill_of_model"], fold["regression"]["skill_of_model"]
        ax.set_title(
            f"train {fold['train']}, test {fold['test']}: CRPS model {fold['model']['crps']:.3f}, naive "
            f"{fold['naive']['crps']:.3f}, NB {fold['regression']['crps']:.3f}; skill vs naive "
            f"{_signed(skill_naive)}, vs NB {_signed(skill_nb)}",
            fontsize=8,
        )
        ax.set_ylabel("launch events / month")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def folds_from_args(scenario: Scenario, train: list[str] | None, test: list[str] | None, rolling: bool) -> list[Fold]:
    """The folds the command line asks for: ``--rolling``, or ``--train``/``--test`` pairs."""
    if rolling:
        if train or test:
            raise UserError("give --rolling or --train/--test windows, not both")
        return rolling_folds(scenario)
    train, test = train or [], test or []
    if not train or len(train) != len(test):
        raise UserError("give --train and --test windows in pairs (each as YYYY-MM:YYYY-MM), or --rolling")
    return [Fold(parse_window(a, "--train"), parse_window(b, "--test")) for a, b in zip(train, test, strict=True)]


def main(args: Any, executor: Executor | None = None, parallelism: int = 1) -> int:
    """``escalation validate``: every check before the first simulation, then the folds; prints
    a summary (or the JSON), writes ``validation.json`` and ``validation.png`` into ``args.out``."""
    if args.budget not in BUDGETS:
        raise UserError(f"--budget {args.budget!r} is not known; choose one of {', '.join(BUDGETS)}")
    scenario = load_scenario(args.scenario)
    if scenario.continue_from is not None:
        raise UserError(f"{args.scenario} continues another period; validate fits a period from its own start")
    record = load_record_for(scenario, args.record)
    folds = folds_from_args(scenario, args.train, args.test, args.rolling)
    for fold in folds:
        check_fold(scenario, fold)
        gaps = missing_months(pd.PeriodIndex(record.index), fold.train[0], fold.test[1])
        if gaps:
            raise UserError(f"the record lacks month(s) {gaps} of the fold {fold.label()}; add their rows")
    results = validate(
        scenario, record, folds, args.budget, args.seed, args.replicates, executor, parallelism, not args.quiet
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "validation.json", out / "validation.png"]
    atomic_write_text(written[0], json.dumps(results, indent=1) + "\n")
    plot_validation(results, written[1])
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for fold in results["folds"]:
        model, naive, nb = fold["model"], fold["naive"], fold["regression"]
        print(f"{scenario.name}, train {fold['train']} -> test {fold['test']} (budget {args.budget}):")
        print(
            f"  model: coverage 50% {model['coverage_50']:.2f}, 90% {model['coverage_90']:.2f}; CRPS {model['crps']:.3f}; "
            f"total {model['total_launches_observed']} in [{model['total_launches_90_low']:g}, "
            f"{model['total_launches_90_high']:g}]; PIT {model['pit_histogram']}"
        )
        print(
            f"  naive rate {naive['rate']:.2f}/month: CRPS {naive['crps']:.3f}; model skill {_signed(naive['skill_of_model'])}"
        )
        print(
            f"  NB regression: CRPS {nb['crps']:.3f}, coverage 90% {nb['coverage_90']:.2f}; model skill "
            f"{_signed(nb['skill_of_model'])}"
        )
        print("  facts: " + ", ".join(f"{k} {v}" for k, v in fold["facts"].items()))
    for path in written:
        print(f"wrote {path}")
    return 0
