"""Results on disk: atomic writes, Parquet chunks with provenance, the manifest, resume.

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
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .design import Chunk, Design
from .errors import UserError

TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
CHUNK_DIR = "chunks"
METADATA_KEY = b"escalation"
FORMAT_VERSION = 1
STALE_TMP_SECONDS = 24 * 3600
FIGURES = ("p_talks_heatmap", "time_to_talks", "contrasts_forest", "testing_cost", "talks_testing_tradeoff",
           "p_talks_across_posterior", "trajectories_fan")
GENERATED_FILES = ("summary.csv", "report.md", *(f"{stem}{suffix}" for stem in FIGURES for suffix in (".png", ".pdf")))
"""Every file the sweep and the report write at the top of a results directory: ``--overwrite``
removes these (and ``chunks/`` and the manifest), never anything else."""
_TMP_NAME = re.compile(rf"^{re.escape(TMP_PREFIX)}(?P<host>.+)-(?P<pid>\d+)-[A-Za-z0-9_]+(\.\w+)?$")


def _tmp_prefix() -> str:
    """Temporary files carry the writer's host and pid, so a cleaner can tell a dead writer's
    leftovers from a live writer's file in progress."""
    return f"{TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, fsync,
    then rename over the target, so a reader (or a crash) sees the old file or the new one,
    never a part of either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(), suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_temporary_files(*directories: Path) -> list[Path]:
    """Remove, directly inside ``directories``, the temporary files this program wrote and whose
    writer is gone (same host, process no longer running) or that are older than a day; return
    what was removed. Live writers' files, and files of other names, are left alone."""
    removed = []
    host = socket.gethostname()
    for directory in directories:
        for path in Path(directory).glob(f"{TMP_PREFIX}*"):
            match = _TMP_NAME.match(path.name)
            if match is None or not path.is_file():
                continue
            stale = time.time() - path.stat().st_mtime > STALE_TMP_SECONDS
            dead = match["host"] == host and not _pid_alive(int(match["pid"]))
            if stale or dead:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


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

    def prepare(self, design: Design, provenance: dict[str, Any], overwrite: bool = False) -> None:
        """Make the directory ready for ``design``: refuse a different experiment (unless
        ``overwrite``), write the manifest if new, and remove dead writers' temporary files."""
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
            self.clear()
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

    def clear(self) -> None:
        """Remove this store's own files (chunks, manifest and :data:`GENERATED_FILES`), nothing else."""
        for chunk in self.chunk_files():
            chunk.unlink()
        clean_temporary_files(self.chunk_dir)
        if self.chunk_dir.is_dir() and not any(self.chunk_dir.iterdir()):
            self.chunk_dir.rmdir()
        for name in GENERATED_FILES:
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
