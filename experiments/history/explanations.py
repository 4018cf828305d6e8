"""Competing explanations of the 2018 pause, compared by ABC model choice.

The pause in testing after November 2017 can be explained by a completed programme (the
progress term of the test hazard), by the talks (the talks term of the hazard, or the extra
cost of crossing the red line while talks are under way: whichever the model has), or by the
declared moratorium (the moratorium term, when the model has one). Each explanation is
switched off by fixing its weight at 0. The full model and each model without one
explanation are given equal prior probability; parameters are drawn from the calibration's
prior (the switched-off weight left out), every draw is replayed ``replicates`` times and
scored by the calibration's expected distance, with one set of scales (the pooled simulation
noise over all draws) for all models. The ``accept`` share of all draws closest to the record
is kept, and a model's posterior probability is its share of the kept draws (ABC model choice
by rejection: Pritchard et al. 1999; Grelaud et al. 2009). An explanation the record needs
loses probability when switched off.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from model.params import TABLE

from ..errors import UserError
from .calibration import (
    CALIBRATED_PARAMETERS,
    Block,
    _prior_bounds,
    block_seeds,
    expected_distance,
    noise_scales,
    observed_summaries,
    ordered_results,
)
from .scenario import Scenario
from .summaries import recorded_rungs, summary_table

EXPLANATIONS: dict[str, str | tuple[str, ...]] = {
    "completed programme": "progress_hazard_weight",
    # talks lower the test hazard, or raise the cost of crossing the red line: whichever the model has
    "talks": ("talks_hazard_weight", "red_line_talks_multiplier"),
    "declared moratorium": "moratorium_hazard_weight",
}
"""Explanation -> the weight that switches it off at 0 (the first of the model's parameters named;
an explanation the model has no parameter for is left out)."""


def _switch(weights: str | tuple[str, ...]) -> str | None:
    return next((w for w in ((weights,) if isinstance(weights, str) else weights) if w in TABLE), None)


CHOICE_STREAM = 0xC401
"""Mixed into the seed for the prior draws of each model."""


def compare_explanations(
    scenario: Scenario,
    record: pd.DataFrame,
    draws: int = 20_000,
    accept: float = 0.01,
    replicates: int = 10,
    seed: int = 1,
    block: int = 2000,
    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS,
    executor: Executor | None = None,
    parallelism: int = 1,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """ABC model choice between the full model and the model without each explanation (module
    docstring). Returns one row per model (``model``, ``switched_off``, ``kept``,
    ``probability``, ``bayes_factor`` against the full model, ``median_distance`` of its kept
    draws) and the settings."""
    if draws < 1 or not 0 < accept < 1 or replicates < 1:
        raise UserError(f"need draws >= 1, 0 < accept < 1 and replicates >= 1; got {draws}, {accept}, {replicates}")
    summaries = summary_table(scenario, record)
    rungs = recorded_rungs(record)
    obs = observed_summaries(scenario, record, summaries).to_numpy(dtype=float)
    models = {
        "full model": None,
        **{
            f"without {name}": _switch(weights)
            for name, weights in EXPLANATIONS.items()
            if _switch(weights) is not None
        },
    }
    means, variances, labels = [], [], []
    for index, (model, off) in enumerate(models.items()):
        names = tuple(p for p in parameters if p != off)
        low, high = _prior_bounds(scenario.params, names)
        theta = np.random.default_rng([seed, CHOICE_STREAM, index]).uniform(low, high, size=(draws, len(names)))
        base = scenario.params if off is None else scenario.params.replace(**{off: 0.0})
        variant = scenario.with_params(base)
        tasks = (
            Block(
                variant,
                names,
                theta[start : start + block],
                replicates,
                block_seeds(seed, 1000 + index, b, len(theta[start : start + block]) * replicates),
                tuple(summaries),
                rungs,
            )
            for b, start in enumerate(range(0, draws, block))
        )
        for _, (mean, var) in ordered_results(executor, parallelism, tasks):
            means.append(mean)
            variances.append(var)
            labels += [model] * len(mean)
    mean, var, model_of = np.concatenate(means), np.concatenate(variances), np.array(labels)
    distance = expected_distance(mean, var, obs, noise_scales(var, replicates))
    kept = np.argsort(distance, kind="stable")[: max(1, int(round(accept * len(distance))))]
    rows = []
    for model, off in models.items():
        mine = kept[model_of[kept] == model]
        rows.append(
            {
                "model": model,
                "switched_off": off or "",
                "kept": len(mine),
                "probability": len(mine) / len(kept),
                "median_distance": float(np.median(distance[mine])) if len(mine) else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    full = table["probability"].iloc[0]
    table["bayes_factor"] = table["probability"] / full if full > 0 else float("nan")
    settings = {
        "draws_per_model": draws,
        "accept": accept,
        "replicates": replicates,
        "seed": seed,
        "tolerance": float(distance[kept].max()),
        "simulations": int(len(distance) * replicates),
    }
    return table, settings
