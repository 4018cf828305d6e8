"""Agent-based model of pressure, engagement and talks on the Korean peninsula (Mesa).

The model knows nothing about experiments. Start with :class:`EscalationModel`::

    from model import EscalationModel
    m = EscalationModel(rng=7).run(52)
    m.outcomes(); m.trajectory()
"""

from .params import TABLE, ParameterError, Params

__all__ = ["EscalationModel", "Params", "ParameterError", "TABLE"]


def __getattr__(name: str):
    # Imported on first use, so that reading the parameter table (the command line's
    # validation and `escalation params`) does not pay for importing Mesa.
    if name == "EscalationModel":
        from .model import EscalationModel

        return EscalationModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
