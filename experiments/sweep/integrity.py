"""Results that cannot lie: checksummed chunks, the manifest's shape, one sweep per directory.

Every chunk file carries, in its Parquet metadata, the SHA-256 of each of its columns' values
(:func:`column_digests`), the config hash and model fingerprint of the experiment that wrote it
and its run range; beside it, ``<chunk>.parquet.sha256`` holds the SHA-256 of the whole file
(in ``sha256sum`` format, so ``sha256sum -c`` checks it too). :func:`read_chunk` reads a chunk
only after checking all of that, so a chunk with a flipped bit anywhere, garbage in the middle,
a truncated tail, another experiment's rows or another chunk's runs is never used: the sweep
recomputes it, the report stops with one line naming the file.

A results directory is written by one sweep at a time: :class:`DirectoryLock` holds a lock
file naming the holder's host, process id and start time, refuses a second sweep with one line
naming that process, and takes over a lock whose holder is gone. Shards of one job array
(``--shard i/N`` with the same N) may run side by side: each holds its own shard's lock.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import Fault, UserError

METADATA_KEY = b"escalation"
CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: Path) -> Path:
    """Where the SHA-256 of the chunk file ``path`` is kept."""
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def checksum_line(data: bytes, name: str) -> str:
    """A ``sha256sum``-format line for ``data`` stored as ``name``."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n"


# ---------------------------------------------------------------------------------------------
# Checksums of a chunk's content
# ---------------------------------------------------------------------------------------------


def _column_bytes(values: pd.Series) -> bytes:
    """A column's values as canonical bytes: numbers and booleans by their machine
    representation (every NaN the same), anything else as JSON text."""
    array = values.to_numpy()
    if array.dtype.kind in "biuf":
        array = np.ascontiguousarray(array)
        if array.dtype.kind == "f":
            array = np.where(np.isnan(array), np.nan, array)
        return array.dtype.str.encode() + b"\0" + array.tobytes()
    return b"json\0" + json.dumps(array.tolist(), default=str, allow_nan=True).encode()


def column_digests(frame: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of each column's values (see :func:`_column_bytes`), by column name."""
    return {str(name): hashlib.sha256(_column_bytes(frame[name])).hexdigest() for name in frame.columns}


@dataclass(frozen=True)
class Expected:
    """What a chunk of a given results directory must be: written for this experiment (config
    hash) and this model (fingerprint), holding exactly the runs ``[start, stop)``."""

    config_hash: str
    model_fingerprint: str | None


class ChunkProblem(Exception):
    """A chunk file that must not be used. ``foreign``: a valid chunk of another experiment,
    model or run range (someone copied it in); otherwise damaged (its content does not match
    its checksums, or it cannot be read)."""

    def __init__(self, path: Path, reason: str, foreign: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.foreign = path, reason, foreign


def chunk_provenance(path: Path, data: bytes | None = None) -> dict[str, Any]:
    """The metadata a sweep stored in a chunk file (its bytes ``data`` when already read);
    raises :class:`ChunkProblem` when the file's footer or metadata cannot be read."""
    try:
        raw = pq.read_schema(pa.BufferReader(data) if data is not None else path).metadata or {}
        meta = json.loads(raw[METADATA_KEY])
    except KeyError:
        raise ChunkProblem(path, "holds no provenance: it was not written by a sweep", foreign=True) from None
    except Exception as error:  # noqa: BLE001 - any failure to parse the footer means damage
        raise ChunkProblem(path, f"unreadable ({_first_line(error)})") from None
    if not isinstance(meta, dict):
        raise ChunkProblem(path, "its provenance is not a JSON object")
    return meta


def read_checksum(path: Path) -> str | None:
    """The SHA-256 that the ``.sha256`` file beside the chunk ``path`` holds for it, or None when
    that file is missing, unreadable, not one ``sha256sum`` line, or names another file."""
    try:
        text = checksum_path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _CHECKSUM_LINE.fullmatch(text)
    if match is None or match["name"] != path.name:
        return None
    return match["digest"]


_CHECKSUM_LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?P<name>[^\n]+)\n?")


def read_chunk(path: Path, start: int, stop: int, expected: Expected, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of the chunk file ``path`` (all columns, or ``run`` and ``columns``), checked.

    The whole file's SHA-256 is compared first, so damage anywhere (the stored provenance
    included) reads as damage, never as another experiment's file. Then the provenance (this
    experiment and model, runs ``start .. stop - 1``), then each column read against its stored
    SHA-256. A chunk without a usable checksum file is classed by its provenance when that is
    another experiment's, else as damaged.

    Raises
    ------
    ChunkProblem
        ``foreign`` for another experiment's, model's or run range's file; otherwise damaged.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ChunkProblem(path, f"unreadable ({error.strerror})") from None
    stored = read_checksum(path)
    if stored is not None and stored != hashlib.sha256(data).hexdigest():
        raise ChunkProblem(path, "its bytes do not match their SHA-256")
    meta = chunk_provenance(path, data)
    digests = meta.get("digests")
    if meta.get("config_hash") != expected.config_hash:
        raise ChunkProblem(
            path,
            f"belongs to another experiment (config hash {meta.get('config_hash')}, this "
            f"directory's {expected.config_hash})",
            foreign=True,
        )
    if meta.get("model_fingerprint") != expected.model_fingerprint:
        raise ChunkProblem(
            path,
            f"was written by another version of the model (fingerprint "
            f"{meta.get('model_fingerprint')}, this directory's {expected.model_fingerprint})",
            foreign=True,
        )
    if meta.get("chunk") != [start, stop]:
        raise ChunkProblem(
            path, f"holds runs {meta.get('chunk')}, not [{start}, {stop}] as its name says", foreign=True
        )
    if not isinstance(digests, dict) or not digests:
        raise ChunkProblem(path, "carries no checksums (written by an older version)", foreign=True)
    if stored is None:
        raise ChunkProblem(
            path, f"its checksum file {checksum_path(path).name} is missing or is not one sha256sum line naming it"
        )
    if columns is not None:
        columns = list(dict.fromkeys(["run", *columns]))  # the run ids are always checked
        missing = [c for c in columns if c not in digests]
        if missing:
            raise ChunkProblem(path, f"has no column {missing[0]!r}")
    try:
        frame = pd.read_parquet(io.BytesIO(data), columns=columns)
    except Exception as error:  # noqa: BLE001 - a file that does not decode is damaged
        raise ChunkProblem(path, f"unreadable ({_first_line(error)})") from None
    if list(frame.columns) != list(columns if columns is not None else digests):
        raise ChunkProblem(path, "its columns differ from those its checksums list")
    for name, digest in column_digests(frame).items():
        if digests.get(name) != digest:
            raise ChunkProblem(path, f"column {name!r} does not match its checksum")
    runs = frame["run"].to_numpy() if "run" in frame.columns else None
    if runs is None or len(runs) != stop - start or not np.array_equal(runs, np.arange(start, stop)):
        raise ChunkProblem(path, f"does not hold runs {start} to {stop - 1} once each")
    return frame


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


# ---------------------------------------------------------------------------------------------
# The manifest's shape
# ---------------------------------------------------------------------------------------------

MAX_POINTS = 100_000
"""Design points (lever combinations x scenarios) at most: each is a validated parameter set built
before the first run (about 60 microseconds each), so 10^5 start in seconds."""
MAX_REPLICATES = 10**8
"""Replicates per design point at most."""
MAX_RUNS = MAX_POINTS * MAX_REPLICATES
MAX_CHUNKS = 1_000_000
"""Chunk files per results directory at most (runs / chunk_size): a directory of more files is
slow to list on most file systems."""

MANIFEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "name": str,
    "config_hash": str,
    "chunk_size": int,
    "n_runs": int,
    "n_points": int,
    "replicates": int,
    "weeks": int,
    "factor_columns": list,
    "provenance": dict,
}


def check_manifest(manifest: Any, path: Path, format_version: int) -> dict[str, Any]:
    """``manifest`` if it has the shape a sweep writes; otherwise a :class:`Fault` (damaged) or,
    for a directory of an older format, a :class:`UserError` saying what to do."""
    damaged = (
        f"{path} is damaged ({{}}); it cannot be trusted: rerun the sweep with --overwrite "
        "to start again (or restore the file)"
    )
    if not isinstance(manifest, dict):
        raise Fault(damaged.format(f"a JSON {type(manifest).__name__}, not an object"))
    version = manifest.get("format")
    if isinstance(version, int) and not isinstance(version, bool) and version < format_version:
        raise UserError(
            f"{path.parent} was written by an older version of escalation (results format {version}, "
            f"without chunk checksums; this version writes format {format_version}): rerun the sweep "
            "into a new directory, or into this one with --overwrite"
        )
    for key, kind in MANIFEST_FIELDS.items():
        value = manifest.get(key)
        if key not in manifest:
            raise Fault(damaged.format(f"no '{key}'"))
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Fault(damaged.format(f"'{key}' is {value!r}"))
    if version != format_version:
        raise UserError(
            f"{path.parent} was written in results format {version}, newer than this version of "
            f"escalation reads ({format_version}); upgrade escalation to read it"
        )
    if not isinstance(manifest["provenance"].get("experiment"), dict):
        raise Fault(damaged.format("its provenance holds no experiment"))
    wrong = layout_problem(manifest)
    if wrong:
        raise Fault(damaged.format(wrong))
    return manifest


def layout_problem(manifest: dict[str, Any]) -> str | None:
    """What makes a manifest's layout one its directory cannot hold, or None.

    Checked before anything is built from the layout (the chunk ranges, the design), so an
    edited run count is one line, never a list of 10^30 ranges: every number within the bounds
    a config may set, runs = points x replicates, and points and replicates those of the
    experiment stored beside them.
    """
    n_runs, size, points, replicates = (manifest[k] for k in ("n_runs", "chunk_size", "n_points", "replicates"))
    if not 1 <= size <= MAX_RUNS:
        return f"'chunk_size' is {size}: allowed 1 to {MAX_RUNS}"
    if not 1 <= points <= MAX_POINTS:
        return f"'n_points' is {points}: allowed 1 to {MAX_POINTS}"
    if not 1 <= replicates <= MAX_REPLICATES:
        return f"'replicates' is {replicates}: allowed 1 to {MAX_REPLICATES}"
    if n_runs != points * replicates:
        return f"'n_runs' is {n_runs}, not n_points x replicates = {points * replicates}"
    if -(-n_runs // size) > MAX_CHUNKS:
        return f"{n_runs} runs in chunks of {size} make more than {MAX_CHUNKS} chunk files"
    stored = manifest["provenance"]["experiment"]
    if stored.get("replicates") != replicates:
        return f"'replicates' is {replicates}, its experiment's {stored.get('replicates')!r}"
    expected = stored_points(stored)
    if expected is not None and expected != points:
        return f"'n_points' is {points}, its experiment's {expected}"
    return None


def stored_points(experiment: dict[str, Any]) -> int | None:
    """The design points of an experiment stored as plain data (levers x scenarios), or None when
    its shape is not the one a sweep stores."""
    levers, posterior = experiment.get("levers"), experiment.get("posterior") or {}
    if not isinstance(levers, dict) or not all(isinstance(v, list) for v in levers.values()):
        return None
    scenarios = experiment.get("samples") if experiment.get("uncertainties") else posterior.get("samples", 1)
    if isinstance(scenarios, bool) or not isinstance(scenarios, int):
        return None
    return math.prod(len(v) for v in levers.values()) * scenarios


def chunk_ranges(n_runs: int, chunk_size: int) -> list[tuple[int, int]]:
    """The ``[start, stop)`` run ranges of every chunk of a directory (as :meth:`Design.chunks`)."""
    return [(a, min(a + chunk_size, n_runs)) for a in range(0, n_runs, chunk_size)]


def chunk_name(start: int, stop: int) -> str:
    """The file name of the chunk holding runs ``[start, stop)``."""
    return f"chunk-{start:010d}-{stop:010d}.parquet"


# ---------------------------------------------------------------------------------------------
# One sweep per directory
# ---------------------------------------------------------------------------------------------

LOCK_PREFIX = ".lock-"
_LOCK_NAME = re.compile(rf"^{re.escape(LOCK_PREFIX)}(?P<index>\d+)-of-(?P<count>\d+)$")


def process_start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, from /proc), or None when there is no
    such process; with the pid it names one process even after pids are reused."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[19]


def _holder_alive(holder: dict[str, Any]) -> bool:
    """Whether the process that wrote a lock still runs (a lock from another host counts as
    held: its process cannot be seen from here)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    started = process_start_time(pid)
    return started is not None and started == holder.get("started", started)


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def lock_files(directory: Path) -> list[Path]:
    """The lock files of sweeps in ``directory`` (live or stale)."""
    return sorted(p for p in Path(directory).glob(f"{LOCK_PREFIX}*") if _LOCK_NAME.match(p.name))


def _create_exclusively(tmp: Path, path: Path, content: dict[str, Any]) -> None:
    """Create ``path`` holding ``content``, failing with FileExistsError if it exists: a hard link
    of the written ``tmp`` (atomic, never half a lock), or, on file systems without hard links,
    an exclusive create."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(content))


class DirectoryLock:
    """The right to write into a results directory, for one shard ``(i, N)`` of a sweep (``(0, 1)``
    for a whole sweep). Held by a lock file ``.lock-<i>-of-<N>`` holding the host, pid and process
    start time. Another sweep of the same shard, or of a different sharding, is refused with a
    :class:`UserError` naming the holder; a lock whose process is gone is taken over."""

    def __init__(self, directory: str | Path, shard: tuple[int, int] = (0, 1)) -> None:
        self.directory = Path(directory)
        self.shard = shard
        self.path = self.directory / f"{LOCK_PREFIX}{shard[0]}-of-{shard[1]}"
        self.held = False

    def _refuse(self, holder: dict[str, Any], path: Path) -> None:
        where = "" if holder.get("host") == socket.gethostname() else f" on host {holder.get('host')}"
        shard = holder.get("shard", "?")
        raise UserError(
            f"{self.directory} is in use by another sweep (process {holder.get('pid')}{where}, shard "
            f"{shard}, since {holder.get('since', '?')}); wait for it to finish, or stop it"
            + ("" if not where else f", or remove {path} if that process is gone")
        )

    def acquire(self) -> DirectoryLock:
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": process_start_time(os.getpid()),
            "shard": f"{self.shard[0]}/{self.shard[1]}",
            "since": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".tmp-{socket.gethostname()}-{os.getpid()}-lock"
        tmp.write_text(json.dumps(me), encoding="utf-8")
        try:
            for _ in range(3):
                try:
                    _create_exclusively(tmp, self.path, me)
                    self.held = True
                    break
                except FileExistsError:
                    holder = _read_lock(self.path)
                    if holder is None:
                        continue
                    if holder and _holder_alive(holder):
                        self._refuse(holder, self.path)
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
            else:
                raise UserError(
                    f"{self.directory}: could not take the lock {self.path.name} (another sweep keeps "
                    "taking it); try again"
                )
        finally:
            tmp.unlink(missing_ok=True)
        for other in lock_files(self.directory):
            if other == self.path:
                continue
            match = _LOCK_NAME.match(other.name)
            assert match is not None  # lock_files lists only names that match
            overlaps = int(match["count"]) != self.shard[1] or int(match["index"]) == self.shard[0]
            holder = _read_lock(other)
            if overlaps and holder and _holder_alive(holder):
                self.release()
                self._refuse(holder, other)
            if holder is not None and not (holder and _holder_alive(holder)):
                other.unlink(missing_ok=True)
        return self

    def release(self) -> None:
        if self.held:
            holder = _read_lock(self.path)
            if holder and holder.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
