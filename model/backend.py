"""Which path computes the rules: ``"compiled"`` (numba machine code, :mod:`model.compiled` and
:mod:`model.kernel`) or ``"numpy"`` (:mod:`model.rules` on numpy scalars and arrays).

Both engines take a ``backend``; ``None`` (the default) means the ``ESCALATION_BACKEND``
environment variable if set, else ``"compiled"`` when numba is installed and ``"numpy"``
otherwise (said once on stderr). The Mesa and batched engines on the same backend agree bit for
bit; the two backends compute the same equations in the same order and differ only in the last
bits of ``exp``, ``expm1`` and ``pow`` (docs/ODD.md, "Implementation").
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import Any

BACKENDS: tuple[str, ...] = ("compiled", "numpy")
ENVIRONMENT = "ESCALATION_BACKEND"


@cache
def numba_available() -> bool:
    """Whether numba imports (the compiled path needs it)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _said_numpy() -> None:
    print(
        "numba is not installed: the model runs its numpy path (the same model, several times slower); "
        "`make venv` installs numba",
        file=sys.stderr,
    )


def resolve(backend: str | None = None) -> str:
    """The backend to use: ``backend`` if given, else the environment's, else the default."""
    chosen = backend if backend is not None else os.environ.get(ENVIRONMENT) or None
    if chosen is None:
        if numba_available():
            return "compiled"
        _said_numpy()
        return "numpy"
    if chosen not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {chosen!r}")
    if chosen == "compiled" and not numba_available():
        raise ValueError("the compiled backend needs numba, which is not installed: run `make venv`, or use numpy")
    return chosen


def rules_for(backend: str) -> Any:
    """The rules the actors' steps call on ``backend``: the compiled ones with numpy scalars in
    and out, or :mod:`model.rules`."""
    if backend == "compiled":
        from .compiled import MESA_RULES

        return MESA_RULES
    from . import rules

    return rules
