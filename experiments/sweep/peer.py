"""The model under a peer's tool: Mesa's own ``mesa.batch_run``.

A check that our runner is not the only thing that can produce our numbers: the same design
points and replicate seeds run through ``mesa.batch_run`` give the same outcomes. batch_run
keeps only the DataCollector's weekly series, so the outcomes are rebuilt from them
(:func:`model.outcomes.outcomes_from_trajectory`).
"""

from __future__ import annotations

import pandas as pd
from mesa.batchrunner import batch_run

from model.model import EscalationModel
from model.outcomes import FROM_TRAJECTORY, OUTCOME_COLUMNS, outcomes_from_trajectory
from model.params import TABLE

from ..errors import UserError
from .design import Design


def batch_run_design(design: Design, processes: int = 1, data_collection_period: int = 1) -> list[dict]:
    """Call ``mesa.batch_run`` on a design's factorial (levers and fixed parameters) with its
    replicate seeds; returns batch_run's own rows."""
    experiment = design.experiment
    if experiment.scenario_sampled:
        raise UserError("mesa.batch_run takes a factorial only: remove [uncertainties] or [posterior] to compare")
    parameters = {**experiment.params, **experiment.levers}
    return batch_run(
        EscalationModel,
        parameters=parameters,
        rng=[int(s) for s in design.seeds],
        max_steps=design.weeks,
        data_collection_period=data_collection_period,
        number_processes=processes,
        display_progress=False,
    )


def outcomes_via_batch_run(design: Design, processes: int = 1) -> pd.DataFrame:
    """One row per run (``design_point``, ``replicate`` and the outcomes in
    :data:`~model.outcomes.FROM_TRAJECTORY`), computed through ``mesa.batch_run``."""
    rows = pd.DataFrame(batch_run_design(design, processes))
    factors = list(design.experiment.levers)
    key = design.points.reset_index().set_index(factors)["design_point"] if factors else None
    records = []
    for (_, iteration), weekly in rows.groupby(["RunId", "iteration"], sort=False):
        point = int(key.loc[tuple(weekly.iloc[0][factors])]) if key is not None else 0
        series = weekly.rename(columns={"Step": "week"})
        start = int(weekly.iloc[0].get("initial_stage", TABLE["initial_stage"].default))  # an input, or the default
        halt = bool(weekly.iloc[0].get("initial_moratorium", TABLE["initial_moratorium"].default))
        records.append(
            {
                "design_point": point,
                "replicate": int(iteration),
                **outcomes_from_trajectory(series, initial_stage=start, initial_moratorium=halt),
            }
        )
    frame = pd.DataFrame.from_records(records)
    types = {c: OUTCOME_COLUMNS[c] for c in FROM_TRAJECTORY}
    return frame.astype(types).sort_values(["design_point", "replicate"]).reset_index(drop=True)
