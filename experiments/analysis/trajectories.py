"""Weekly series of chosen policies, re-run with a sweep's own seeds on the batched engine (the
sweep stores outcomes, not weeks), checked against the sweep's stored rows."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_points

from ..errors import UserError
from ..sweep.design import Design
from ..sweep.results import SweepResult
from ..sweep.store import ResultStore
from .contrasts import matches


class ModelChangedWarning(UserWarning):
    """Runs re-run from a results directory's seeds differ from its stored rows: the model has
    changed since the sweep."""


def trajectories(
    result: SweepResult, policies: Sequence[Mapping[str, Any]], replicates: int | None = None
) -> pd.DataFrame:
    """Weekly series of the chosen policies, re-run with trajectories on the batched engine.

    Each policy (lever -> value; every design point that matches is included, so a policy
    pools its scenarios) is run for the first ``replicates`` replicate seeds of the sweep
    (default: all of them, at most 200). The seeds are the sweep's, so these runs are the
    sweep's runs, week by week, as long as the model has not changed since the sweep: the re-run
    runs' outcomes are checked against the stored rows, and a :class:`ModelChangedWarning` says
    when they differ. Long format: the policy's lever columns, ``design_point``,
    ``replicate``, ``week`` (1 = the first simulated week), every series of
    :data:`model.week.SERIES` and ``cumulative_tests`` (no series is named like a lever:
    ``sanctions`` is the level in force that week, ``sanctions_level`` the policy's starting level).
    """
    design = design_of(result)
    if replicates is None:
        replicates = min(design.replicates, 200)
    if not 1 <= replicates <= design.replicates:
        raise ValueError(f"replicates must be from 1 to the sweep's {design.replicates}, got {replicates}")
    chosen = []
    for policy in policies:
        unknown = [name for name in policy if name not in design.points.columns]
        if unknown:
            raise UserError(f"policy names {unknown}, not levers of this design; levers: {', '.join(result.levers)}")
        points = np.flatnonzero(matches(design.points, policy))
        if points.size == 0:
            raise UserError(f"policy {', '.join(f'{k}={v}' for k, v in policy.items())} is not in the design")
        chosen.extend(points.tolist())
    chosen = list(dict.fromkeys(chosen))
    point_index = np.repeat(np.arange(len(chosen)), replicates)
    seeds = np.concatenate([design.point_seeds(d)[:replicates] for d in chosen])
    batch = simulate_points(
        [design.point_params(d) for d in chosen], point_index, seeds, design.weeks, trajectories=True
    )
    _check_reproduced(
        result, np.asarray(chosen)[point_index], np.tile(np.arange(replicates), len(chosen)), batch.outcomes_frame()
    )
    frame = batch.trajectory_frame()
    run = frame.pop("run").to_numpy()
    runs = design.points.iloc[np.asarray(chosen)[run // replicates]].reset_index()
    runs["replicate"] = run % replicates
    frame = pd.concat([runs.reset_index(drop=True), frame], axis=1)
    frame["cumulative_tests"] = frame.groupby(["design_point", "replicate"], sort=False)["tests"].cumsum()
    return frame


def design_of(result: SweepResult) -> Design:
    """The design of a sweep, with the scenarios the sweep stored beside its chunks when they
    are there and sound (a posterior design's start states are not replayed again), each
    point's parameters built only when asked for."""
    stored = ResultStore(result.directory).stored_scenarios(
        result.manifest["config_hash"], result.manifest.get("model_fingerprint")
    )
    return Design(result.experiment, stored, validate=False)


def _check_reproduced(
    result: SweepResult, design_points: np.ndarray, replicates: np.ndarray, outcomes: pd.DataFrame
) -> None:
    """Warn (:class:`ModelChangedWarning`) when re-run outcomes differ from the stored rows of
    the same design points and replicates (compared on ``talks`` and ``tests`` when loaded)."""
    compared = [c for c in ("talks", "tests") if c in result.rows.columns]
    if not compared:
        return
    stored = result.rows.set_index(["design_point", "replicate"])[compared]
    stored = stored.reindex(pd.MultiIndex.from_arrays([design_points, replicates]))
    differ = (stored.to_numpy() != outcomes[compared].to_numpy()).any(axis=1)
    if differ.any():
        commit = result.provenance.get("git", {}).get("commit", "unknown")
        warnings.warn(
            f"{int(differ.sum())} of {len(differ)} re-run runs differ from the stored results: the model "
            f"has changed since the sweep (made at commit {commit[:12]}), so these trajectories show the "
            "current model, not the sweep's runs",
            ModelChangedWarning,
            stacklevel=3,
        )
