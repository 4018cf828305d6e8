"""The paper style every figure shares: column widths, seaborn's paper context, and saving.

Importing this module picks matplotlib's backend: a Jupyter kernel's (``MPLBACKEND``) when set,
else the file-only Agg backend, so that figures draw on a machine without a display.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt

if "MPLBACKEND" in os.environ:
    # A Jupyter kernel sets it to its inline backend: keep that one, and load it now rather than
    # inside paper_style(), whose rc_context would undo the interactive mode it switches on.
    plt.switch_backend(os.environ["MPLBACKEND"])
else:
    plt.switch_backend("Agg")
import seaborn as sns  # noqa: E402

from ...io import atomic_write_bytes  # noqa: E402

SINGLE_COLUMN = 3.5  # inches
DOUBLE_COLUMN = 7.2


@contextmanager
def paper_style():
    """Seaborn 'paper' context with small fonts sized for a printed column."""
    with (
        sns.axes_style("ticks"),
        sns.plotting_context("paper", font_scale=0.9),
        plt.rc_context(
            {
                "figure.dpi": 150,
                "savefig.dpi": 300,
                "savefig.bbox": "tight",
                "pdf.fonttype": 42,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        yield


def save(fig, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``stem.pdf`` and ``stem.png`` (each written atomically); close it."""
    paths = []
    for suffix in (".pdf", ".png"):
        buffer = io.BytesIO()
        with paper_style():  # the savefig settings (300 dpi, tight box, embeddable fonts) apply at save time
            fig.savefig(buffer, format=suffix[1:])
        path = Path(stem).with_suffix(suffix)
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths
