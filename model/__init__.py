"""Agent-based model of pressure, engagement and talks on the Korean peninsula (Mesa).

The model knows nothing about experiments. Start with :class:`EscalationModel`::

    from model import EscalationModel
    m = EscalationModel(rng=7).run(52)
    m.outcomes(); m.trajectory()
"""

from .model import EscalationModel
from .params import TABLE, Params, ParameterError

__all__ = ["EscalationModel", "Params", "ParameterError", "TABLE"]
