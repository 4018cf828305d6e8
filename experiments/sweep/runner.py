"""Run a design on any ``concurrent.futures.Executor``: in-process, a local process pool or a
Dask cluster. Tasks are chunks of runs; results are written chunk by chunk as they arrive.

The numbers never depend on how they were computed: a run's outcomes are a pure function of
its parameters and seed, so 1 worker, 2 workers, other chunk sizes and Dask give identical rows.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batched import simulate_points
from model.model import EscalationModel
from model.outcomes import OUTCOME_COLUMNS
from model.params import Params

from ..errors import Fault, Terminated, UserError
from ..provenance import provenance
from .config import Experiment
from .design import Chunk, Design
from .integrity import DirectoryLock, Expected
from .orphans import guard_worker
from .store import ResultStore
from .verify import verify_chunks


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk (small and picklable)."""

    chunk: Chunk
    runs: pd.DataFrame  # run, design_point, factor columns, replicate, seed
    points: tuple[Params, ...]  # the chunk's distinct design points
    point_index: np.ndarray  # for each run, its index in ``points``
    weeks: int
    engine: str


def make_task(design: Design, chunk: Chunk, engine: str) -> ChunkTask:
    """The task that runs ``chunk`` of ``design`` on ``engine``."""
    runs = design.run_table(chunk)
    unique, local = np.unique(runs["design_point"].to_numpy(), return_inverse=True)
    points = tuple(design.point_params(int(d)) for d in unique)
    return ChunkTask(chunk, runs, points, local, design.weeks, engine)


def run_chunk(task: ChunkTask) -> pd.DataFrame:
    """Run a chunk and return its rows: the run table joined with every outcome."""
    seeds = task.runs["seed"].to_numpy(dtype=np.uint64)
    if task.engine == "batched":
        outcomes = simulate_points(task.points, task.point_index, seeds, task.weeks).outcomes_frame()
    else:
        records = [
            EscalationModel(task.points[i], rng=int(seed), collect=False).run(task.weeks).outcomes()
            for i, seed in zip(task.point_index, seeds, strict=True)
        ]
        outcomes = pd.DataFrame.from_records(records, columns=list(OUTCOME_COLUMNS)).astype(OUTCOME_COLUMNS)
    return pd.concat([task.runs.reset_index(drop=True), outcomes], axis=1)


# ---------------------------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------------------------


class InProcessExecutor(Executor):
    """Runs each task at once in the calling process (no pickling, easiest to debug)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def make_executor(workers: int | None = None, dask: str | None = None) -> Iterator[tuple[Executor, int]]:
    """An executor and its parallelism: Dask (``dask`` = scheduler address), a local process
    pool (``workers`` > 1, default all cores) or in-process (``workers`` = 1)."""
    if dask:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a declared dependency
            raise UserError("--dask needs the 'distributed' package") from None
        try:
            client = Client(dask, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise UserError(f"cannot reach the Dask scheduler at {dask}: {str(error).splitlines()[0]}") from None
        quiet = _quiet_dask_logs()  # a lost scheduler is reported once, by us, not as pages of tornado tracebacks
        try:
            slots = max(1, sum(client.nthreads().values()))
            yield client.get_executor(pure=False), slots
            _close_quietly(client)
            for logger, level in quiet.items():  # restored after a sweep that went well; after a failure
                logger.setLevel(level)  # the client's threads may still log the lost connection
        except (UserError, Fault):
            raise
        except Exception as error:  # the scheduler went away (CancelledError, CommClosedError, ...)?
            if _scheduler_alive(client) and not _is_dask_failure(error):
                raise
            raise Fault(
                f"lost the Dask scheduler at {dask} ({type(error).__name__}: {_first_line(error)}); finished "
                "chunks are kept: restart the cluster and rerun the same command to resume"
            ) from None
        finally:
            _close_quietly(client)
        return
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        yield InProcessExecutor(), 1
        return
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_process_context(), initializer=guard_worker, initargs=(os.getpid(),)
    )
    try:
        yield pool, workers
    except BrokenProcessPool:
        raise Fault(
            "a worker process died (killed, or out of memory); finished chunks are kept: rerun the same "
            "command to resume (fewer --workers if memory is short)"
        ) from None
    except BaseException:
        _stop_workers(pool)  # Ctrl-C, SIGTERM, a full disk: do not wait for the chunks in flight
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's workers now (ProcessPoolExecutor has no public way to)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):  # already gone
            pass


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no message"


def _is_dask_failure(error: BaseException) -> bool:
    """Whether ``error`` is distributed's way of saying the cluster went away."""
    module = type(error).__module__ or ""
    return module.startswith(("distributed", "tornado")) or type(error).__name__ in (
        "CancelledError",
        "FutureCancelledError",
        "CommClosedError",
        "StreamClosedError",
        "TimeoutError",
    )


def _scheduler_alive(client: Any) -> bool:
    try:
        return client.status == "running" and client.scheduler_comm is not None and not client.scheduler_comm.closed()
    except Exception:  # noqa: BLE001 - any failure to ask means it is gone
        return False


def _quiet_dask_logs() -> dict[logging.Logger, int]:
    """Silence distributed's and tornado's loggers (they log a lost connection as tracebacks);
    returns the levels to restore."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ("distributed", "tornado", "asyncio")]
    previous = {}
    for name in {"distributed", "tornado", "asyncio", *names}:
        logger = logging.getLogger(name)
        previous[logger] = logger.level
        logger.setLevel(logging.CRITICAL + 1)
    return previous


def _close_quietly(client: Any) -> None:
    """Close a Dask client; after the scheduler died, closing can itself fail: ignore that."""
    try:
        client.close(timeout=5)
    except Exception:  # noqa: BLE001 - best effort; the sweep's own outcome is already decided
        pass


def _single_threaded() -> bool:
    """Whether this process has one thread, counting threads started by C libraries (pyarrow's
    pool, for one) that the ``threading`` module does not see."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1 and sys.platform == "linux"


def _process_context():
    """``fork`` when this process runs a single thread (workers start at once and inherit the
    imported model), else a ``forkserver`` with the model preloaded (forking a multi-threaded
    process, such as a Jupyter kernel, can deadlock). Either way the numbers are the same."""
    if _single_threaded() and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["model.batched", "model.model", "experiments.sweep.runner"])
    return context


def execute(
    tasks: Iterable[ChunkTask],
    executor: Executor,
    parallelism: int,
    on_result: Callable[[ChunkTask, pd.DataFrame], None],
) -> None:
    """Submit ``tasks`` with at most ``2 * parallelism + 1`` in flight (bounded memory) and call
    ``on_result`` in the calling process as each finishes, in completion order."""
    pending: dict[Future, ChunkTask] = {}
    queue = iter(tasks)
    limit = 2 * parallelism + 1
    with _signals_at_safe_points() as stop:
        try:
            while True:
                for task in queue:
                    pending[executor.submit(run_chunk, task)] = task
                    if len(pending) >= limit:
                        break
                if not pending:
                    return
                done: set[Future] = set()
                while not done:
                    done, _ = wait(pending, timeout=SIGNAL_POLL_SECONDS, return_when=FIRST_COMPLETED)
                    stop.check()
                for future in done:
                    task = pending.pop(future)
                    on_result(task, future.result())
                    stop.check()
        finally:
            for future in pending:
                future.cancel()


SIGNAL_POLL_SECONDS = 0.25


class _Stop:
    """Signals received while a sweep runs, acted on between chunks (see :func:`_signals_at_safe_points`)."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __call__(self, signum: int, frame: Any) -> None:
        self.received.append(signum)

    def check(self) -> None:
        if self.received:
            raise (Terminated() if self.received[0] == signal.SIGTERM else KeyboardInterrupt())


@contextmanager
def _signals_at_safe_points() -> Iterator[_Stop]:
    """While chunks are computed, SIGINT and SIGTERM are noted and raised at the next safe point
    (between waits and writes) rather than wherever the main thread happens to be: raised inside
    the pool's own locking, they can break it and print tracebacks from its threads. Only when a
    Python handler is installed (the command line's, or Ctrl-C's default) and in the main thread."""
    stop = _Stop()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                previous[signum] = signal.signal(signum, stop)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# ---------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------


@dataclass
class SweepRun:
    """What a call to :func:`run_sweep` did."""

    store: ResultStore
    design: Design
    chunks_run: int
    chunks_skipped: int
    complete: bool


def run_sweep(
    experiment: Experiment,
    out: str | Path,
    *,
    workers: int | None = None,
    dask: str | None = None,
    shard: tuple[int, int] = (0, 1),
    overwrite: bool = False,
    progress: bool = True,
    derived: Iterable[str] = (),
) -> SweepRun:
    """Run (or resume) an experiment into ``out``: every chunk of this shard that is not yet on
    disk is computed and written atomically. Returns what was done; the results are in ``out``.

    ``overwrite`` discards the results of another experiment in ``out``: its chunks, manifest and
    the files named in ``derived`` (the analysis's outputs, e.g.
    :data:`experiments.analysis.report.DERIVED_FILES`; the sweep does not know their names)."""
    store = ResultStore(out)
    prov = provenance(experiment)
    # A resumed sweep takes the design's scenarios from its first run (their start states are
    # replayed, which takes a while), and builds each point's parameters as its chunks need them.
    stored = (
        store.stored_scenarios(experiment.config_hash(), prov["model_fingerprint"]) if experiment.posterior else None
    )
    design = Design(experiment, stored, validate=stored is None)
    meta = {**prov, "engine": experiment.engine}
    if store.directory.exists() and not store.directory.is_dir():
        raise UserError(f"{store.directory} exists and is not a directory")
    # The executor first: a cluster that cannot be reached is reported before the directory is touched.
    with make_executor(workers, dask) as (executor, parallelism):
        store.make_directory()
        with DirectoryLock(store.directory, shard):
            store.prepare(design, prov, overwrite=overwrite, derived=derived)
            if experiment.posterior and (stored is None or overwrite):
                store.write_scenarios(design, prov["model_fingerprint"])
            store.refuse_strays()
            expected = store.expected()
            mine = design.chunks(shard)
            sound = _verified(store, mine, expected, progress, experiment.name)
            counts = {"run": 0, "skipped": len(sound)}
            todo = [chunk for chunk in mine if chunk not in sound]
            done_runs = sum(len(c) for c in mine) - sum(len(c) for c in todo)
            bar = _progress_bar(sum(len(c) for c in mine), done_runs, experiment.name, enabled=progress and bool(todo))

            def write(task: ChunkTask, rows: pd.DataFrame) -> None:
                store.write_chunk(task.chunk, rows, meta)
                counts["run"] += 1
                bar.update(len(task.chunk))

            try:
                execute((make_task(design, c, experiment.engine) for c in todo), executor, parallelism, write)
            finally:
                bar.close()
    mine_set = set(mine)  # verified above; the other shards' chunks are verified when the results are read
    complete = all(store.chunk_path(c).is_file() for c in design.chunks() if c not in mine_set)
    return SweepRun(store, design, counts["run"], counts["skipped"], complete)


def _verified(store: ResultStore, chunks: list[Chunk], expected: Expected, progress: bool, name: str) -> set[Chunk]:
    """The chunks of ``chunks`` whose files are on disk and sound, all checked side by side
    (:func:`~experiments.sweep.verify.verify_chunks`, a progress bar on stderr); a damaged one
    gets a note (it is recomputed), a file the sweep did not write stops the sweep with one line."""
    present = [c for c in chunks if store.chunk_path(c).is_file()]
    files = [(store.chunk_path(c), c.start, c.stop) for c in present]
    sound = set()
    verdicts = list(verify_chunks(files, expected, progress=progress, desc=f"{name}: verifying"))
    for chunk, verdict in zip(present, verdicts, strict=True):
        if verdict.sound:
            sound.add(chunk)
        elif verdict.foreign:
            raise store.problem(verdict.problem())
        else:
            print(f"escalation: note: {verdict.path} is damaged ({verdict.reason}); recomputing it", file=sys.stderr)
    return sound


def _progress_bar(total: int, initial: int, name: str, enabled: bool):
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: keeps this process single-threaded for fork
    return tqdm(
        total=total, initial=initial, unit="run", desc=name, disable=not enabled, smoothing=0.1, dynamic_ncols=True
    )


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/N"`` -> ``(i, N)`` with ``0 <= i < N``."""
    if not text:
        return (0, 1)
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise UserError(f"--shard expects i/N (e.g. 0/4), got {text!r}") from None
    if not (count >= 1 and 0 <= index < count):
        raise UserError(f"--shard {text}: need 0 <= i < N")
    return index, count
