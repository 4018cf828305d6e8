"""Results on disk: Parquet chunks with provenance, the manifest, resume.

A results directory holds::

    manifest.json                 the experiment, its config hash and layout (written once)
    chunks/chunk-<start>-<stop>.parquet   one file per chunk of runs, provenance in its metadata
    design.parquet                a posterior design's draws and start states, as the sweep built them
    summary.csv, p_talks_heatmap.{png,pdf}, ...   written when every chunk is there

Every file is written to a temporary file in the same directory and renamed into place, so a
killed sweep leaves complete chunks and, at worst, temporary files that the next run removes.
A chunk that exists is complete; rerunning the same experiment skips it (resume) once it has
checked the chunk's checksums, experiment and run range (:mod:`experiments.sweep.integrity`): a
damaged chunk is recomputed, a file the sweep did not write is refused and never read.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import Fault, UserError
from ..io import TMP_PREFIX, atomic_write_bytes, atomic_write_text, clean_temporary_files
from .design import Chunk, Design
from .integrity import (
    CHECKSUM_SUFFIX,
    LOCK_PREFIX,
    METADATA_KEY,
    ChunkProblem,
    Expected,
    check_manifest,
    checksum_line,
    checksum_path,
    chunk_name,
    chunk_provenance,
    chunk_ranges,
    column_digests,
    read_checksum,
    read_chunk,
)
from .verify import Verdict, read_chunks

MANIFEST = "manifest.json"
DESIGN_FILE = "design.parquet"
"""The design's scenarios (posterior draws with their replayed start states), as the sweep built
them, so that a resumed sweep and the report need not replay 2016-2018 for every draw again."""
CHUNK_DIR = "chunks"
FORMAT_VERSION = 2
"""Results format: 2 adds checksums to every chunk (format-1 directories are refused with a line
saying so: their chunks cannot be verified)."""


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

    def prepare(
        self, design: Design, provenance: dict[str, Any], overwrite: bool = False, derived: Iterable[str] = ()
    ) -> None:
        """Make the directory ready for ``design``: refuse a different experiment (unless
        ``overwrite``: then :meth:`clear` it, ``derived`` included), write the manifest if new,
        and remove dead writers' temporary files."""
        experiment = design.experiment
        if self.directory.exists() and not self.directory.is_dir():
            raise UserError(f"{self.directory} exists and is not a directory")
        try:
            existing = self.manifest()
        except (Fault, UserError):
            if not overwrite:
                raise
            existing = {}  # damaged or of an older format: --overwrite starts again
        if existing is None and self.directory.is_dir() and not self.only_own_leftovers():
            raise UserError(
                f"{self.directory} is not empty and is not a results directory (no {MANIFEST}); "
                "choose a new or empty directory"
            )
        if existing and not overwrite:
            if existing.get("config_hash") != experiment.config_hash():
                raise UserError(
                    f"{self.directory} holds results of a different experiment (config hash "
                    f"{existing.get('config_hash')}, this one {experiment.config_hash()}); "
                    "choose another --out or pass --overwrite"
                )
            if existing.get("model_fingerprint") != provenance.get("model_fingerprint"):
                backends = (existing.get("provenance", {}).get("backend"), provenance.get("backend"))
                what = (
                    f"the {backends[0]} backend, not the {backends[1]} one (their last bits differ)"
                    if None not in backends and backends[0] != backends[1]
                    else "another version of the model"
                )
                raise UserError(
                    f"{self.directory} holds results of {what} (fingerprint "
                    f"{existing.get('model_fingerprint')}, this one {provenance.get('model_fingerprint')}); "
                    "choose another --out or pass --overwrite"
                )
            if existing.get("chunk_size") != experiment.runs_per_chunk:
                raise UserError(
                    f"{self.directory} was written in chunks of {existing.get('chunk_size')} runs, not "
                    f"{experiment.runs_per_chunk}; rerun with that chunk size or pass --overwrite"
                )
            layout = {
                "n_runs": design.n_runs,
                "n_points": design.n_points,
                "replicates": design.replicates,
                "weeks": design.weeks,
            }
            wrong = [k for k, v in layout.items() if existing.get(k) != v]
            if wrong:  # same config hash, other layout: the manifest was edited or damaged
                raise Fault(
                    f"{self.manifest_path} is damaged ('{wrong[0]}' is {existing.get(wrong[0])!r}, but its own "
                    f"config gives {layout[wrong[0]]}); it cannot be trusted: rerun the sweep with --overwrite"
                )
        if overwrite and existing is not None:
            self.clear(derived)
        self.make_directory()
        clean_temporary_files(self.directory, self.chunk_dir)
        if not self.manifest_path.is_file():  # the manifest first: a failed first write leaves only our own leftovers
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
        self.chunk_dir.mkdir(exist_ok=True)

    @property
    def design_path(self) -> Path:
        return self.directory / DESIGN_FILE

    def write_scenarios(self, design: Design, model_fingerprint: str | None) -> None:
        """Store ``design``'s scenarios beside the chunks (Parquet, with the experiment's config
        hash and the model's fingerprint in its metadata and its SHA-256 beside it)."""
        meta = {"config_hash": design.experiment.config_hash(), "model_fingerprint": model_fingerprint}
        data = table_bytes(design.scenarios, meta)
        atomic_write_bytes(self.design_path, data)
        atomic_write_text(checksum_path(self.design_path), checksum_line(data, self.design_path.name))

    def stored_scenarios(self, config_hash: str, model_fingerprint: str | None) -> pd.DataFrame | None:
        """The scenarios a sweep of the experiment ``config_hash`` on the model
        ``model_fingerprint`` stored here (:meth:`write_scenarios`), or None when there are none,
        or they are another experiment's or model's, or their bytes do not match their SHA-256
        (then the design is built afresh: the stored scenarios only save time)."""
        path = self.design_path
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if read_checksum(path) != hashlib.sha256(data).hexdigest():
            return None
        try:
            meta = chunk_provenance(path, data)
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - unreadable: build the design afresh
            return None
        if meta.get("config_hash") != config_hash or meta.get("model_fingerprint") != model_fingerprint:
            return None
        return frame

    def make_directory(self) -> None:
        """Create the results directory (and its parents); a path that cannot hold one is a
        one-line :class:`UserError` (a full disk stays an ``OSError``: a fault, not bad input)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise UserError(f"{self.directory} exists and is not a directory") from None
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            parent = next((p for p in self.directory.absolute().parents if p.exists()), None)
            inside = f" inside {parent}" if parent is not None and parent != self.directory.parent.absolute() else ""
            raise UserError(
                f"cannot create the results directory {self.directory}{inside}: {error.strerror} (the "
                f"file system refuses it); choose another --out"
            ) from None

    def only_own_leftovers(self) -> bool:
        """Whether the directory holds nothing but what a sweep leaves before its manifest is
        written (lock files, temporary files, an empty ``chunks/``): a first write that failed,
        say on a full disk, leaves a directory the next sweep may use."""
        for entry in self.directory.iterdir():
            if entry.name.startswith((LOCK_PREFIX, TMP_PREFIX)) and entry.is_file():
                continue
            if (
                entry == self.chunk_dir
                and entry.is_dir()
                and all(p.name.startswith(TMP_PREFIX) and p.is_file() for p in entry.iterdir())
            ):
                continue
            return False
        return True

    def clear(self, derived: Iterable[str] = ()) -> None:
        """Remove this store's own files (chunks and manifest) and the files named ``derived`` at
        the top of the directory (the outputs an analysis wrote from the chunks, e.g.
        :data:`experiments.analysis.report.DERIVED_FILES`), nothing else. The store does not
        know the analysis's file names: the sweep sits below the analysis."""
        self.manifest_path.unlink(missing_ok=True)  # first: a damaged manifest must not stop the clearing
        self.design_path.unlink(missing_ok=True)
        checksum_path(self.design_path).unlink(missing_ok=True)
        for chunk in self.chunk_files():
            chunk.unlink()
            checksum_path(chunk).unlink(missing_ok=True)
        clean_temporary_files(self.chunk_dir)
        if self.chunk_dir.is_dir() and not any(self.chunk_dir.iterdir()):
            self.chunk_dir.rmdir()
        for name in derived:
            if Path(name).name != name:
                raise ValueError(f"derived file names are plain names inside the results directory, not {name!r}")
            (self.directory / name).unlink(missing_ok=True)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the directory has none. A damaged one (not JSON, or not
        the shape a sweep writes) is a :class:`Fault`; one of an older format a :class:`UserError`."""
        if not self.manifest_path.is_file():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Fault(
                f"{self.manifest_path} is damaged (not valid JSON); it cannot be trusted: rerun the sweep "
                "with --overwrite to start again (or restore the file)"
            ) from None
        return check_manifest(data, self.manifest_path, FORMAT_VERSION)

    def expected(self) -> Expected:
        """What every chunk of this directory must be (from the manifest)."""
        manifest = self.manifest()
        if manifest is None:
            raise UserError(f"{self.directory} is not a results directory (no {MANIFEST})")
        return Expected(manifest["config_hash"], manifest.get("model_fingerprint"))

    def problem(self, problem: ChunkProblem) -> Exception:
        """The one-line error for a chunk that must not be used: a foreign file is the user's to
        move (:class:`UserError`), a damaged one is recomputed by rerunning the sweep (:class:`Fault`)."""
        if problem.foreign:
            return UserError(
                f"{problem.path} {problem.reason}: it was not written by this sweep and is never read; "
                f"move it out of {self.chunk_dir}"
            )
        source = ((self.manifest() or {}).get("provenance", {}).get("experiment", {}) or {}).get("source", "CONFIG")
        return Fault(
            f"{problem.path} is damaged ({problem.reason}); rerun `escalation sweep {source} --out "
            f"{self.directory}` to recompute it"
        )

    # -- chunks ---------------------------------------------------------------------------------

    def chunk_path(self, chunk: Chunk) -> Path:
        return self.chunk_dir / f"{chunk.name}.parquet"

    def check(self, chunk: Chunk, expected: Expected | None = None) -> bool:
        """Whether ``chunk``'s file exists and is sound (every checksum, the experiment and the
        run range verified). False when there is no file; :class:`ChunkProblem` when there is a
        file that must not be used."""
        path = self.chunk_path(chunk)
        if not path.is_file():
            return False
        read_chunk(path, chunk.start, chunk.stop, expected or self.expected())
        return True

    def is_done(self, chunk: Chunk) -> bool:
        """Whether a sound file for ``chunk`` exists (see :meth:`check`)."""
        try:
            return self.check(chunk)
        except ChunkProblem:
            return False

    def write_chunk(self, chunk: Chunk, rows: pd.DataFrame, metadata: dict[str, Any]) -> Path:
        """Write one chunk's rows atomically, with ``metadata`` as its provenance."""
        if len(rows) != len(chunk):
            raise ValueError(f"chunk {chunk.name} has {len(rows)} rows, expected {len(chunk)}")
        path = self.chunk_path(chunk)
        meta = {**metadata, "chunk": [chunk.start, chunk.stop], "digests": column_digests(rows)}
        data = table_bytes(rows, meta)
        atomic_write_bytes(path, data)  # then its checksum: a chunk without one is recomputed, never used
        atomic_write_text(checksum_path(path), checksum_line(data, path.name))
        return path

    def chunk_ranges(self) -> list[tuple[int, int]]:
        """The ``[start, stop)`` of every chunk the manifest's design has."""
        manifest = self.manifest()
        if manifest is None:
            raise UserError(f"{self.directory} is not a results directory (no {MANIFEST})")
        return chunk_ranges(manifest["n_runs"], manifest["chunk_size"])

    def chunk_files(self) -> list[Path]:
        """The chunk files on disk that belong to the design (by name; see :meth:`stray_files`)."""
        if not self.manifest_path.is_file():
            return sorted(self.chunk_dir.glob("chunk-*.parquet"))
        return [p for p in (self.chunk_dir / chunk_name(a, b) for a, b in self.chunk_ranges()) if p.is_file()]

    def stray_files(self) -> list[Path]:
        """Files in ``chunks/`` that no sweep of this design writes (copies, other names), apart
        from temporary files being written."""
        if not self.chunk_dir.is_dir():
            return []
        own = (
            {chunk_name(a, b) for a, b in self.chunk_ranges()}
            if self.manifest_path.is_file()
            else {p.name for p in self.chunk_dir.glob("chunk-*.parquet")}
        )
        own |= {name + CHECKSUM_SUFFIX for name in own}
        return sorted(p for p in self.chunk_dir.iterdir() if p.name not in own and not p.name.startswith(TMP_PREFIX))

    def refuse_strays(self) -> None:
        """A one-line :class:`UserError` naming the first file in ``chunks/`` the sweep did not write."""
        stray = self.stray_files()
        if stray:
            raise UserError(
                f"{stray[0]} was not written by this sweep (no chunk of its design has that name) and is "
                f"never read; move it out of {self.chunk_dir}"
                + (f" (and {len(stray) - 1} more)" if len(stray) > 1 else "")
            )

    def load(
        self, columns: list[str] | None = None, *, progress: bool = False, workers: int | None = None
    ) -> pd.DataFrame:
        """Every finished run, one row each, sorted by run id (only ``columns``, plus ``run``,
        when given: a million runs' summary needs a handful of the columns). Every chunk read
        is verified first (:func:`experiments.sweep.integrity.read_chunk`, on ``workers``
        threads, default one per core, with a progress bar on stderr when ``progress``): a
        damaged one is a :class:`Fault`, a file the sweep did not write a :class:`UserError`."""
        expected = self.expected()
        self.refuse_strays()
        if columns is not None:
            columns = list(dict.fromkeys(["run", *columns]))
        present = [
            (path, start, stop)
            for start, stop in self.chunk_ranges()
            if (path := self.chunk_dir / chunk_name(start, stop)).is_file()
        ]
        frames = []
        for frame in read_chunks(present, expected, columns, workers=workers, progress=progress):
            if isinstance(frame, Verdict):
                raise self.problem(frame.problem())
            frames.append(frame)
        if not frames:
            raise UserError(f"{self.directory} holds no result chunks")
        frame = pd.concat(frames, ignore_index=True)
        if not frame["run"].is_unique:  # each chunk holds its own range once: a broken invariant, not input
            raise Fault(f"{self.directory}: run {frame['run'][frame['run'].duplicated()].iloc[0]} appears twice")
        return frame.sort_values("run", kind="stable").reset_index(drop=True)
