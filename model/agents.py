"""Mesa agents: the states, each holding one run's state.

An agent is a ``mesa.Agent`` with its actor's state and steps from :mod:`model.actors` (the
same classes the batched engine uses over arrays); the behaviour itself lives in
:mod:`model.rules`, which every step calls. State values are numpy scalars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .actors import ALL_STATES, CHINA, DPRK, JAPAN, ROK, US, Actor, ChinaSteps, DPRKSteps, JapanSteps, ROKSteps, USSteps

if TYPE_CHECKING:
    from .model import EscalationModel

__all__ = [
    "State",
    "UnitedStates",
    "SouthKorea",
    "NorthKorea",
    "China",
    "Japan",
    "US",
    "ROK",
    "DPRK",
    "CHINA",
    "JAPAN",
    "ALL_STATES",
    "one_run",
]


def one_run(value, dtype=np.float64):
    """A week-0 value as one run holds it: a numpy scalar (see :data:`model.actors.Full`)."""
    return dtype(value)


class State(mesa.Agent, Actor):
    """A state as a Mesa agent: its actor's state at week 0 is set when it is created."""

    def __init__(self, model: EscalationModel) -> None:
        super().__init__(model)
        self.start(model.params, one_run)

    @property
    def params(self):
        return self.model.params

    @property
    def rules(self):
        return self.model.rules

    def __repr__(self) -> str:
        return f"{type(self).__name__}(trust={ {k: float(v) for k, v in self.trust.items()} })"


class UnitedStates(State, USSteps):
    """Sets and escalates sanctions, responds to tests, decides whether to talk."""


class SouthKorea(State, ROKSteps):
    """Mediates (inter-Korean contact first), pushes for exercise flexibility, aligns with the US."""


class NorthKorea(State, DPRKSteps):
    """Feels sanctions and exercises, tests on a self-exciting escalation ladder, decides whether to talk."""


class China(State, ChinaSteps):
    """Enforces a share of the sanctions on trade through China; enforces more as it trusts the DPRK less."""


class Japan(State, JapanSteps):
    """Favours pressure: lobbies for faster sanctions after tests."""
