"""A finished (or partly finished) sweep on disk, as data: its rows (one per run), its manifest
and what they imply (levers, horizon, the experiment that produced them).

Pure data on purpose: the estimates, contrasts, figures and the report are functions of a
:class:`SweepResult` in :mod:`experiments.analysis`, which sits above the sweep in the import
graph (the sweep never imports the analysis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from model.params import TABLE

from ..errors import UserError
from .config import Experiment, parse_experiment
from .store import ResultStore


@dataclass
class SweepResult:
    """Rows of a results directory (one per run, sorted by run id) with its manifest."""

    directory: Path
    rows: pd.DataFrame
    manifest: dict[str, Any]

    @classmethod
    def load(cls, directory: str | Path, columns: list[str] | None = None, *, progress: bool = False) -> SweepResult:
        """Read every chunk of a results directory written by ``escalation sweep`` (all columns,
        or the design columns plus ``columns``), each verified, on every core (a progress bar on
        stderr when ``progress``)."""
        store = ResultStore(directory)
        manifest = store.manifest()
        if manifest is None:
            if not store.directory.exists():
                raise UserError(f"results directory not found: {store.directory}")
            raise UserError(f"{store.directory} is not a results directory (no manifest.json)")
        if columns is not None:
            stored = manifest["provenance"]["experiment"]
            scenario = (["scenario"] if stored.get("uncertainties") or stored.get("posterior") else []) + (
                ["particle"] if stored.get("posterior") else []
            )
            columns = ["design_point", "replicate", "seed", *scenario, *manifest["factor_columns"], *columns]
        return cls(store.directory, store.load(columns, progress=progress), manifest)

    @property
    def factors(self) -> list[str]:
        """The columns that define a design point (levers and sampled uncertainties)."""
        return list(self.manifest["factor_columns"])

    @property
    def levers(self) -> dict[str, list[Any]]:
        """Each lever of the design and its values, in the config's order (a policy is one
        value of each)."""
        return {name: list(values) for name, values in self.provenance["experiment"]["levers"].items()}

    @property
    def policy_columns(self) -> list[str]:
        """The columns that identify a policy: the levers (or ``design_point`` when the design
        has none)."""
        return list(self.levers) or ["design_point"]

    @property
    def name(self) -> str:
        """The experiment's name (from its config)."""
        return str(self.manifest["name"])

    @property
    def horizon(self) -> int:
        return int(self.manifest["weeks"])

    @property
    def start_date(self) -> dt.date:
        """The date of the first simulated week."""
        value = self.provenance["experiment"]["params"].get("start_date", TABLE["start_date"].default)
        return dt.date.fromisoformat(str(value))

    @property
    def provenance(self) -> dict[str, Any]:
        return self.manifest["provenance"]

    @cached_property
    def experiment(self) -> Experiment:
        """The experiment that produced these results, rebuilt from the manifest and checked
        against its config hash (so its design and replicate seeds are the sweep's)."""
        stored = self.provenance["experiment"]
        tables = ("levers", "params", "uncertainties", "posterior", "source")
        head = {k: v for k, v in stored.items() if k not in tables and v is not None}
        if not stored["uncertainties"]:
            head.pop("samples", None)
        data = {
            "experiment": head,
            "levers": stored["levers"],
            "params": stored["params"],
            "uncertainties": stored["uncertainties"],
        }
        if stored.get("posterior"):
            data["posterior"] = {"samples": stored["posterior"]["samples"], "file": stored["posterior"]["path"]}
        try:
            experiment = parse_experiment(data, source=stored["source"])
        except UserError as error:
            if not stored.get("posterior"):
                raise
            raise UserError(
                f"{self.directory}: cannot rebuild the design from the posterior sample it drew from: {error}"
            ) from None
        if stored.get("posterior") and experiment.posterior["sha256"] != stored["posterior"]["sha256"]:
            raise UserError(
                f"{self.directory}: the posterior sample {stored['posterior']['path']} has changed since this "
                f"sweep drew from it (SHA-256 {stored['posterior']['sha256']}, now "
                f"{experiment.posterior['sha256']}); restore it to rebuild the design"
            )
        if experiment.config_hash() != self.manifest["config_hash"]:
            raise UserError(
                f"{self.directory}: the experiment in manifest.json does not reproduce its config hash "
                f"{self.manifest['config_hash']}"
            )
        return experiment

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.manifest["n_runs"]
