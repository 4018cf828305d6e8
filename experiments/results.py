"""A finished (or partly finished) sweep on disk, as an object that knows how to become
DataFrames, tables and figures."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import UserError
from .store import ResultStore, atomic_write_text
from .summary import format_table, summarise


@dataclass
class SweepResult:
    """Rows of a results directory (one per run, sorted by run id) with its manifest."""

    directory: Path
    rows: pd.DataFrame
    manifest: dict[str, Any]

    @classmethod
    def load(cls, directory: str | Path, columns: list[str] | None = None) -> "SweepResult":
        """Read every chunk of a results directory written by ``escalation sweep`` (all columns,
        or the design columns plus ``columns``)."""
        store = ResultStore(directory)
        manifest = store.manifest()
        if manifest is None:
            if not store.directory.exists():
                raise UserError(f"results directory not found: {store.directory}")
            raise UserError(f"{store.directory} is not a results directory (no manifest.json)")
        if columns is not None:
            columns = ["design_point", "replicate", "seed", *manifest["factor_columns"], *columns]
        return cls(store.directory, store.load(columns), manifest)

    @property
    def factors(self) -> list[str]:
        """The columns that define a design point (levers and sampled uncertainties)."""
        return list(self.manifest["factor_columns"])

    @property
    def horizon(self) -> int:
        return int(self.manifest["weeks"])

    @property
    def provenance(self) -> dict[str, Any]:
        return self.manifest["provenance"]

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.manifest["n_runs"]

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per design point: P(talks) and other event probabilities with Wilson intervals,
        median weeks to talks, testing cost (see :func:`experiments.summary.summarise`)."""
        by = self.factors or ["design_point"]
        return summarise(self.rows, by, self.horizon)

    def table(self) -> str:
        """The summary as a compact text table."""
        return format_table(self.summary, self.factors or ["design_point"])

    def write_summary(self) -> list[Path]:
        """Write ``summary.csv`` and, when the design has the three policy levers, the P(talks)
        heatmap (PNG and PDF); return the paths written."""
        from . import plots

        path = self.directory / "summary.csv"
        atomic_write_text(path, self.summary.to_csv(index=False))
        written = [path]
        try:
            fig = plots.p_talks_heatmap(self.summary, horizon=self.horizon)
        except ValueError:
            return written
        written += plots.save(fig, self.directory / "p_talks_heatmap")
        return written
