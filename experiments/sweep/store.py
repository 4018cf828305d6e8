"""Results on disk: Parquet chunks with provenance, the manifest, resume.

A results directory holds::

    manifest.json                 the experiment, its config hash and layout (written once)
    chunks/chunk-<start>-<stop>.parquet   one file per chunk of runs, provenance in its metadata
    summary.csv, p_talks_heatmap.{png,pdf}, ...   written when every chunk is there

Every file is written to a temporary file in the same directory and renamed into place, so a
killed sweep leaves complete chunks and, at worst, temporary files that the next run removes.
A chunk that exists is complete; rerunning the same experiment skips it (resume).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UserError
from ..io import atomic_write_bytes, atomic_write_text, clean_temporary_files
from .design import Chunk, Design

MANIFEST = "manifest.json"
CHUNK_DIR = "chunks"
METADATA_KEY = b"escalation"
FORMAT_VERSION = 1


def table_bytes(frame: pd.DataFrame, metadata: dict[str, Any]) -> bytes:
    """A DataFrame as Parquet bytes with ``metadata`` (JSON) stored in the file's key-value metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(metadata, default=str).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(merged), buffer, compression="zstd")
    return buffer.getvalue()


def read_metadata(path: Path) -> dict[str, Any]:
    """The provenance stored in a Parquet file written by :func:`table_bytes`."""
    raw = pq.read_schema(path).metadata or {}
    return json.loads(raw.get(METADATA_KEY, b"{}"))


class ResultStore:
    """A results directory for one experiment."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.chunk_dir = self.directory / CHUNK_DIR
        self.manifest_path = self.directory / MANIFEST

    # -- set-up ---------------------------------------------------------------------------------

    def prepare(self, design: Design, provenance: dict[str, Any], overwrite: bool = False,
                derived: Iterable[str] = ()) -> None:
        """Make the directory ready for ``design``: refuse a different experiment (unless
        ``overwrite``: then :meth:`clear` it, ``derived`` included), write the manifest if new,
        and remove dead writers' temporary files."""
        experiment = design.experiment
        if self.directory.exists() and not self.directory.is_dir():
            raise UserError(f"{self.directory} exists and is not a directory")
        existing = self.manifest()
        if existing is None and self.directory.is_dir() and any(self.directory.iterdir()):
            raise UserError(f"{self.directory} is not empty and is not a results directory (no {MANIFEST}); "
                            "choose a new or empty directory")
        if existing is not None and not overwrite:
            if existing.get("config_hash") != experiment.config_hash():
                raise UserError(
                    f"{self.directory} holds results of a different experiment (config hash "
                    f"{existing.get('config_hash')}, this one {experiment.config_hash()}); "
                    "choose another --out or pass --overwrite"
                )
            if existing.get("model_fingerprint") != provenance.get("model_fingerprint"):
                raise UserError(
                    f"{self.directory} holds results of another version of the model (fingerprint "
                    f"{existing.get('model_fingerprint')}, this one {provenance.get('model_fingerprint')}); "
                    "choose another --out or pass --overwrite"
                )
            if existing.get("chunk_size") != experiment.runs_per_chunk:
                raise UserError(
                    f"{self.directory} was written in chunks of {existing.get('chunk_size')} runs, not "
                    f"{experiment.runs_per_chunk}; rerun with that chunk size or pass --overwrite"
                )
        if overwrite and existing is not None:
            self.clear(derived)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.chunk_dir.mkdir(exist_ok=True)
        clean_temporary_files(self.directory, self.chunk_dir)
        if self.manifest() is None:
            manifest = {
                "format": FORMAT_VERSION,
                "name": experiment.name,
                "config_hash": experiment.config_hash(),
                "model_fingerprint": provenance.get("model_fingerprint"),
                "chunk_size": experiment.runs_per_chunk,
                "n_runs": design.n_runs,
                "n_points": design.n_points,
                "replicates": design.replicates,
                "weeks": design.weeks,
                "factor_columns": design.factor_columns,
                "provenance": provenance,
            }
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")

    def clear(self, derived: Iterable[str] = ()) -> None:
        """Remove this store's own files (chunks and manifest) and the files named ``derived`` at
        the top of the directory (the outputs an analysis wrote from the chunks, e.g.
        :data:`experiments.analysis.report.DERIVED_FILES`), nothing else. The store does not
        know the analysis's file names: the sweep sits below the analysis."""
        for chunk in self.chunk_files():
            chunk.unlink()
        clean_temporary_files(self.chunk_dir)
        if self.chunk_dir.is_dir() and not any(self.chunk_dir.iterdir()):
            self.chunk_dir.rmdir()
        for name in derived:
            if Path(name).name != name:
                raise ValueError(f"derived file names are plain names inside the results directory, not {name!r}")
            (self.directory / name).unlink(missing_ok=True)
        self.manifest_path.unlink(missing_ok=True)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the directory has none; a corrupt one is a UserError."""
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(f"{self.manifest_path} is not valid JSON; pass --overwrite to start again") from None

    # -- chunks ---------------------------------------------------------------------------------

    def chunk_path(self, chunk: Chunk) -> Path:
        return self.chunk_dir / f"{chunk.name}.parquet"

    def is_done(self, chunk: Chunk) -> bool:
        """Whether a complete file for ``chunk`` exists (checked by its row count)."""
        path = self.chunk_path(chunk)
        if not path.is_file():
            return False
        try:
            return pq.read_metadata(path).num_rows == len(chunk)
        except (OSError, pa.ArrowInvalid):
            return False

    def write_chunk(self, chunk: Chunk, rows: pd.DataFrame, metadata: dict[str, Any]) -> Path:
        """Write one chunk's rows atomically, with ``metadata`` as its provenance."""
        if len(rows) != len(chunk):
            raise ValueError(f"chunk {chunk.name} has {len(rows)} rows, expected {len(chunk)}")
        path = self.chunk_path(chunk)
        atomic_write_bytes(path, table_bytes(rows, {**metadata, "chunk": [chunk.start, chunk.stop]}))
        return path

    def chunk_files(self) -> list[Path]:
        return sorted(self.chunk_dir.glob("chunk-*.parquet"))

    def load(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every finished run, one row each, sorted by run id (only ``columns``, plus ``run``,
        when given: a million runs' summary needs a handful of the columns)."""
        files = self.chunk_files()
        if not files:
            raise UserError(f"{self.directory} holds no result chunks")
        if columns is not None:
            columns = list(dict.fromkeys(["run", *columns]))
        frame = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
        return frame.sort_values("run", kind="stable").reset_index(drop=True)
