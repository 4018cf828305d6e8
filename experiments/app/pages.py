"""The Solara app ``escalation app`` serves: the one-run page at ``/`` and the sweep explorer at
``/sweep`` (``solara run experiments.app.pages`` serves it too)."""

from __future__ import annotations

import solara

from .run import RunPage
from .sweep import SweepPage


@solara.component
def Sweep():
    """The sweep explorer, opening on ``escalation app --results DIR`` (or results/policy_posterior, where ``make run`` writes)."""
    return SweepPage()


routes = [
    solara.Route(path="/", component=RunPage, label="One run"),
    solara.Route(path="sweep", component=Sweep, label="Sweep explorer"),
]
