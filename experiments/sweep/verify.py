"""Chunk verification on every core, with a progress bar on stderr.

Checking a chunk (:func:`experiments.sweep.integrity.read_chunk`: its file's SHA-256, its
provenance, each column against its checksum, its run range) is independent of every other
chunk, so a resumed sweep and a report check their chunks side by side, one thread per core:
reading Parquet and hashing release the GIL, and threads start at once, need nothing pickled and
add no processes. Each thread runs the same :func:`read_chunk`
as a serial check, so the verdicts are the same; they come back in the order of the chunks.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .integrity import ChunkProblem, Expected, read_chunk


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Verdict:
    """What checking one chunk file found: ``sound``, or the :class:`ChunkProblem`'s ``reason``
    and whether the file is ``foreign``."""

    path: Path
    sound: bool
    reason: str = ""
    foreign: bool = False

    def problem(self) -> ChunkProblem:
        """The :class:`ChunkProblem` this verdict stands for."""
        return ChunkProblem(self.path, self.reason, foreign=self.foreign)


ChunkFile = tuple[Path, int, int]
"""A chunk file and the run range ``[start, stop)`` it must hold."""


def check_chunk(chunk: ChunkFile, expected: Expected) -> Verdict:
    """The verdict of :func:`read_chunk` on one chunk file."""
    path, start, stop = chunk
    try:
        read_chunk(path, start, stop, expected)
    except ChunkProblem as problem:
        return Verdict(path, False, problem.reason, problem.foreign)
    return Verdict(path, True)


def read_checked(chunk: ChunkFile, expected: Expected, columns: list[str] | None) -> pd.DataFrame | Verdict:
    """The chunk's rows (:func:`read_chunk`), or the verdict that says why it must not be used."""
    path, start, stop = chunk
    try:
        return read_chunk(path, start, stop, expected, columns)
    except ChunkProblem as problem:
        return Verdict(path, False, problem.reason, problem.foreign)


@contextmanager
def local_pool(workers: int | None = None) -> Iterator[Executor | None]:
    """A pool of ``workers`` threads (default: one per core), or None when one would do."""
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        yield None
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ordered_map(
    fn: Callable[..., Any], items: Iterable[Any], executor: Executor | None, parallelism: int, *args: Any
) -> Iterator[Any]:
    """``fn(item, *args)`` for each item, in order, computed on ``executor`` (in this process
    when None) with at most ``2 * parallelism + 1`` in flight, so memory stays bounded."""
    if executor is None:
        for item in items:
            yield fn(item, *args)
        return
    pending: list[Future] = []
    limit = 2 * max(1, parallelism) + 1
    try:
        for item in items:
            pending.append(executor.submit(fn, item, *args))
            if len(pending) >= limit:
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
    finally:
        for future in pending:
            future.cancel()


def verify_chunks(
    chunks: Sequence[ChunkFile],
    expected: Expected,
    *,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "verifying chunks",
) -> Iterator[Verdict]:
    """The :class:`Verdict` of each chunk file, in order, checked on ``workers`` threads
    (default: all cores) with a progress bar on stderr when ``progress``."""
    workers = default_workers() if workers is None else workers
    with local_pool(min(workers, len(chunks))) as pool, progress_bar(len(chunks), desc, progress) as bar:
        for verdict in ordered_map(check_chunk, chunks, pool, workers, expected):
            bar.update(1)
            yield verdict


def read_chunks(
    chunks: Sequence[ChunkFile],
    expected: Expected,
    columns: list[str] | None,
    *,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "reading chunks",
) -> Iterator[pd.DataFrame | Verdict]:
    """Each chunk's checked rows (or the :class:`Verdict` saying why it must not be used), in
    order, read on ``workers`` threads (default: all cores) with a progress bar on stderr."""
    workers = default_workers() if workers is None else workers
    with local_pool(min(workers, len(chunks))) as pool, progress_bar(len(chunks), desc, progress) as bar:
        for frame in ordered_map(read_checked, chunks, pool, workers, expected, columns):
            bar.update(1)
            yield frame


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar of chunks on stderr when ``enabled`` and stderr is a terminal (a log or a
    captured stream gets no carriage-return lines)."""
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: keeps this process single-threaded for fork
    return tqdm(
        total=total,
        desc=desc,
        unit="chunk",
        disable=None if enabled else True,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )


def _file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def file_digests(
    paths: Sequence[Path], *, workers: int | None = None, progress: bool = False, desc: str = "hashing"
) -> list[str | None]:
    """The SHA-256 of each file's bytes (None: it cannot be read), in order, hashed on
    ``workers`` threads (default: one per core) with a progress bar on stderr when ``progress``."""
    workers = default_workers() if workers is None else workers
    out = []
    with local_pool(min(workers, len(paths))) as pool, progress_bar(len(paths), desc, progress) as bar:
        for digest in ordered_map(_file_digest, paths, pool, workers):
            bar.update(1)
            out.append(digest)
    return out
