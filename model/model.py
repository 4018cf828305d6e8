"""EscalationModel: the Mesa model of pressure, engagement and talks on the Korean peninsula.

One step is one week. The agents (:mod:`model.agents`) hold one run's state; ``step()`` runs
the week of :mod:`model.week`, the one schedule the batched engine runs too (docs/ODD.md
section 3); every mechanism it invokes is a function in :mod:`model.rules`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import week
from .agents import China, Japan, NorthKorea, SouthKorea, UnitedStates, one_run
from .backend import resolve, rules_for
from .outcomes import OutcomeTally, as_python
from .params import Params
from .policies import LeverSchedule
from .rng import RandomStreams


def new_seed() -> int:
    """A fresh 64-bit seed from the operating system's entropy (recorded on the model)."""
    return secrets.randbits(64)


class EscalationModel(mesa.Model):
    """Weekly model of US, ROK, DPRK, China and Japan, with a talks process.

    Args:
        params: a :class:`~model.params.Params` or a mapping of overrides (validated).
        rng: the integer seed (0 <= seed < 2**64). Every random number of the run is a pure
            function of (seed, week, decision slot); ``None`` draws a fresh seed, kept in
            ``self.seed``.
        levers: a :class:`~model.policies.LeverSchedule` (default: built from the parameters;
            historical scenarios pass their own).
        collect: collect the weekly series with the DataCollector (default). Sweeps that only
            need the outcomes pass ``False``; the outcomes are the same either way.
        backend: ``"compiled"`` (the agents call the compiled rules of :mod:`model.compiled`)
            or ``"numpy"`` (:mod:`model.rules`); default :func:`model.backend.resolve`'s. The
            batched engine on the same backend gives the same bits.
        **overrides: parameter values overriding ``params`` (``EscalationModel(sanctions_level=0.5)``).

    Example:
        >>> m = EscalationModel(rng=7, engagement_stance="pressure_first").run(52)
        >>> m.outcomes()["talks"] in (True, False)
        True
    """

    def __init__(
        self,
        params: Params | Mapping[str, Any] | None = None,
        rng: int | None = None,
        levers: LeverSchedule | None = None,
        collect: bool = True,
        backend: str | None = None,
        **overrides: Any,
    ) -> None:
        seed = new_seed() if rng is None else _check_seed(rng)
        super().__init__(rng=seed)
        self.seed = seed
        base = params if isinstance(params, Params) else Params(params or {})
        self.params = base.replace(**overrides) if overrides else base
        self.streams = RandomStreams(seed)
        self.backend = resolve(backend)
        self.rules = rules_for(self.backend)  # what the agents' steps and the week call
        self.levers = levers if levers is not None else LeverSchedule.from_params(self.params)

        p = self.params
        self.us = UnitedStates(self)
        self.rok = SouthKorea(self)
        self.dprk = NorthKorea(self)
        self.china = China(self) if p.include_china else None
        self.japan = Japan(self) if p.include_japan else None
        week.begin(self, one_run, self.streams.week(0))
        self.tally = OutcomeTally(initial_stage=p.initial_stage, initial_moratorium=p.initial_moratorium)
        self.datacollector = mesa.DataCollector(model_reporters=_REPORTERS) if collect else None

    def step(self) -> None:
        """One week (:func:`model.week.run_week`: exercises, sanctions, China and the alliance,
        the DPRK's pressure and tests, trust, talks), then the DataCollector collects."""
        week.run_week(self, self.streams.week(self.steps), self.levers.week(self.steps))
        if self.datacollector is not None:
            self.datacollector.collect(self)

    # -- running and results ------------------------------------------------------------------

    def run(self, weeks: int = 52) -> EscalationModel:
        """Advance ``weeks`` weeks; returns the model so calls chain."""
        for _ in range(int(weeks)):
            self.step()
        return self

    def outcomes(self) -> dict[str, Any]:
        """This run's outcomes as a flat dict (see :data:`model.outcomes.OUTCOME_COLUMNS`)."""
        return as_python(self.tally.result(self.final_state()))

    def final_state(self) -> dict[str, float]:
        """The ``final_*`` outcome values from the current state (:data:`model.week.FINAL_STATE`)."""
        return {name: float(value) for name, value in week.final_state(self).items()}

    def trajectory(self) -> pd.DataFrame:
        """Weekly series as a tidy DataFrame: one row per week, ``week`` first, then the series
        of :data:`model.week.SERIES`."""
        if self.datacollector is None:
            raise ValueError("this model was built with collect=False: no weekly series were collected")
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "week", np.arange(1, len(df) + 1, dtype=np.int64))
        return df.astype(week.SERIES)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2**64-1, got {seed!r}")
    return int(seed)


_REPORTERS = {name: week.QUANTITIES[name] for name in week.SERIES}
"""The DataCollector's model reporters: the weekly series, read off the model as the batched
engine reads them off its arrays."""
