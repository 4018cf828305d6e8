"""Results that cannot lie: every attack of issue 10 as a test.

Damaged, foreign and duplicated chunks are never used; every fault (a killed worker, a dead Dask
scheduler, a full disk, a damaged manifest, SIGTERM) is one line and a documented exit status,
and the directory resumes to the same rows afterwards; nothing outlives the sweep's main
process; one sweep per directory; strict readers; a 10^8-replicate design starts at once.
Processes are killed only when they are this test's own (the sweep it started and that sweep's
descendants), and every wait is bounded.
"""

import base64
import contextlib
import dataclasses
import errno
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORY, RECORD, ROOT, SMOKE, SYNTHETIC, assert_one_line_error, cli_call, run_cli

from experiments import seeds as seeds_module
from experiments.errors import EXIT_FAULT, Fault, UserError
from experiments.io import atomic_write_bytes
from experiments.seeds import replicate_seeds, replicate_seeds_of
from experiments.sweep.design import Design
from experiments.sweep.integrity import ChunkProblem, DirectoryLock, checksum_path, chunk_provenance, read_chunk
from experiments.sweep.orphans import process_alive
from experiments.sweep.runner import run_sweep
from experiments.sweep.store import ResultStore

PYTHON = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def finished(smoke, tmp_path_factory):
    """A finished smoke sweep (320 runs, 7 chunks of at most 50) and its rows."""
    out = tmp_path_factory.mktemp("finished") / "smoke"
    run_sweep(smoke, out, workers=1, progress=False)
    return out, ResultStore(out).load()


@pytest.fixture
def copy(finished, tmp_path):
    """A fresh copy of the finished sweep to attack."""
    out = tmp_path / "smoke"
    shutil.copytree(finished[0], out)
    return out


call = cli_call  # escalation ARGS in this process (tests/conftest.py)


def assert_one_line(result, status, *fragments):
    """Exit ``status``, one line on stderr holding every fragment, no traceback."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def chunk_paths(out):
    return sorted((out / "chunks").glob("chunk-*.parquet"))


# ---- the replicate seeds: vectorised, the same as numpy's SeedSequence -------------------------


def test_vectorised_seeds_equal_numpy_seed_sequence_bit_for_bit():
    rng = np.random.default_rng(2026)
    seeds = [0, 1, 7, 2**32 - 1, 2**32, 2**63 + 12345, 2**64 - 1, *map(int, rng.integers(0, 2**63, 5))]
    for seed in seeds:
        replicates = np.array([0, 1, 2**32 - 1, 10**8 - 1, *rng.integers(0, 10**8, 20)], dtype=np.uint64)
        scenarios = np.array([0, 5, 1, 2**31, *rng.integers(0, 10**6, 20)], dtype=np.uint64)
        for with_scenario in (False, True):
            expected = []
            for r, s in zip(replicates, scenarios, strict=True):
                key = [seed, int(r), int(s)] if with_scenario else [seed, int(r)]
                lo, hi = np.random.SeedSequence(key).generate_state(2, dtype=np.uint32)
                expected.append((int(hi) << 32) | int(lo))
            got = replicate_seeds_of(seed, replicates, scenarios if with_scenario else None)
            assert got.tolist() == expected, (seed, with_scenario)


def test_a_1e8_replicate_design_computes_only_the_seeds_of_the_chunks_it_runs(smoke, monkeypatch):
    computed = []
    real = seeds_module.seed_sequence_states
    monkeypatch.setattr(
        seeds_module,
        "seed_sequence_states",
        lambda seed, columns: computed.append(columns[0].size) or real(seed, columns),
    )
    huge = smoke.with_options(replicates=10**8, chunk_size=10_000)
    design = Design(huge)
    first, last = design.chunks()[0], design.chunks()[-1]
    table = design.run_table(first)
    assert sum(computed) == 10_000  # this chunk's seeds only, never the 10^8 of the design up front
    assert len(table) == 10_000 and design.n_runs == 8 * 10**8 and last.stop == 8 * 10**8
    assert np.array_equal(table["seed"].to_numpy(), replicate_seeds(huge.seed, 10_000))
    tail = design.run_table(last)
    lo, hi = np.random.SeedSequence([huge.seed, 10**8 - 1]).generate_state(2, dtype=np.uint32)
    assert int(tail["seed"].iloc[-1]) == (int(hi) << 32) | int(lo)


# ---- damaged, foreign and duplicated chunks -------------------------------------------------


def flip_bit(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    bit = rng.randrange(len(data) * 8)
    data[bit // 8] ^= 1 << (bit % 8)
    path.write_bytes(bytes(data))


def test_any_flipped_bit_is_caught_and_the_sweep_recomputes_the_chunk(smoke, finished, tmp_path):
    out, reference = finished
    rng = random.Random(10)
    for trial in range(25):
        attacked = tmp_path / f"flip{trial}"
        shutil.copytree(out, attacked)
        victim = rng.choice(chunk_paths(attacked))
        flip_bit(victim, rng)
        with pytest.raises(Fault, match=f"{victim.name} is damaged"):
            ResultStore(attacked).load()
        again = run_sweep(smoke, attacked, workers=1, progress=False)
        assert again.chunks_run == 1 and again.complete
        pd.testing.assert_frame_equal(ResultStore(attacked).load(), reference, check_exact=True)
        shutil.rmtree(attacked)


def hash_in_schema_copy(data: bytes, config_hash: str) -> range:
    """Byte offsets (with a margin) of the base64 copy of the schema that spell the stored config
    hash: the copy the provenance is read from."""
    key = data.index(b"ARROW:schema")
    copy = re.compile(rb"[A-Za-z0-9+/]{100,}={0,2}").search(data, key + len(b"ARROW:schema"))
    at = base64.b64decode(copy.group()).index(config_hash.encode())
    return range(copy.start() + 4 * (at // 3) - 32, copy.start() + 4 * ((at + len(config_hash)) // 3 + 1) + 8)


def test_a_flipped_bit_in_the_stored_hash_is_damage_not_another_experiment(smoke, copy):
    store = ResultStore(copy)
    chunk = Design(smoke).chunks()[0]
    path, expected = store.chunk_path(chunk), store.expected()
    data = path.read_bytes()
    read_as_foreign = 0
    for offset in hash_in_schema_copy(data, smoke.config_hash()):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[offset] ^= 1 << bit
            with contextlib.suppress(ChunkProblem):
                read_as_foreign += chunk_provenance(path, bytes(flipped)).get("config_hash") != smoke.config_hash()
            path.write_bytes(bytes(flipped))
            with pytest.raises(ChunkProblem) as problem:
                read_chunk(path, chunk.start, chunk.stop, expected)
            assert not problem.value.foreign and "SHA-256" in problem.value.reason, (offset, bit, problem.value)
    assert read_as_foreign > 50  # the flips do reach the stored hash
    path.write_bytes(data)
    assert store.check(chunk)


def test_a_checksum_line_naming_another_file_is_not_trusted(smoke, finished, copy):
    first, second = chunk_paths(copy)[:2]
    line = checksum_path(first).read_text()
    checksum_path(first).write_text(line.replace(first.name, second.name))
    with pytest.raises(ChunkProblem, match="is not one sha256sum line naming it"):
        ResultStore(copy).check(Design(smoke).chunks()[0])
    again = run_sweep(smoke, copy, workers=1, progress=False)
    assert again.chunks_run == 1
    assert checksum_path(first).read_text().endswith(f"  {first.name}\n")
    pd.testing.assert_frame_equal(ResultStore(copy).load(), finished[1], check_exact=True)


def test_report_on_a_damaged_chunk_is_one_line_naming_it(copy, capsys):
    victim = chunk_paths(copy)[2]
    flip_bit(victim, random.Random(3))
    assert_one_line(call(capsys, "report", str(copy)), EXIT_FAULT, victim.name, "is damaged", "escalation sweep")


def test_garbage_in_the_middle_of_a_chunk_is_recomputed_not_counted_as_done(smoke, finished, copy, capsys):
    victim = chunk_paths(copy)[0]
    data = bytearray(victim.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 1024] = os.urandom(1024)
    victim.write_bytes(bytes(data))
    assert_one_line(call(capsys, "report", str(copy)), EXIT_FAULT, victim.name)
    result = call(capsys, "sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet")
    assert result.returncode == 0 and "1 chunks run, 6 already on disk" in result.stdout
    assert f"{victim.name} is damaged" in result.stderr and "recomputing it" in result.stderr
    pd.testing.assert_frame_equal(ResultStore(copy).load(), finished[1], check_exact=True)


def test_a_truncated_chunk_or_a_missing_checksum_is_recomputed(smoke, finished, copy):
    first, second = chunk_paths(copy)[:2]
    first.write_bytes(first.read_bytes()[:-100])
    checksum_path(second).unlink()
    again = run_sweep(smoke, copy, workers=1, progress=False)
    assert again.chunks_run == 2
    pd.testing.assert_frame_equal(ResultStore(copy).load(), finished[1], check_exact=True)


def test_a_chunk_of_another_experiment_is_refused_and_never_read(smoke, copy, tmp_path, capsys):
    other = tmp_path / "other"
    run_sweep(dataclasses.replace(smoke, seed=8), other, workers=1, progress=False)
    victim = chunk_paths(copy)[1]
    for path in (victim, checksum_path(victim)):
        shutil.copy(other / "chunks" / path.name, path)
    foreign = victim.read_bytes()
    assert_one_line_error(call(capsys, "report", str(copy)), victim.name, "belongs to another experiment")
    assert_one_line_error(
        call(capsys, "sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet"),
        victim.name,
        "belongs to another experiment",
        "move it out",
    )
    assert victim.read_bytes() == foreign  # refused, not overwritten


def test_a_copy_of_a_chunk_is_refused_so_no_run_is_counted_twice(copy, capsys):
    source = chunk_paths(copy)[0]
    shutil.copy(source, copy / "chunks" / "chunk-0000000000-0000000050 (copy).parquet")
    with pytest.raises(UserError, match="not written by this sweep"):
        ResultStore(copy).load()
    assert_one_line_error(call(capsys, "report", str(copy)), "(copy).parquet", "not written by this sweep")


def test_a_chunk_holding_another_chunks_runs_is_refused(smoke, copy):
    """A file whose checksums hold but whose run ids are not its chunk's (rows unique by run id)."""
    store = ResultStore(copy)
    chunk = Design(smoke).chunks()[1]
    rows = pd.read_parquet(chunk_paths(copy)[0])  # chunk 0's rows under chunk 1's name
    store.write_chunk(
        chunk, rows, {"config_hash": smoke.config_hash(), "model_fingerprint": store.manifest()["model_fingerprint"]}
    )
    with pytest.raises(ChunkProblem, match="does not hold runs 50 to 99 once each"):
        store.check(chunk)
    with pytest.raises(Fault, match="is damaged"):
        store.load()


@pytest.mark.parametrize("content", ["[]", '"x"', "{}", "not json", '{"format": 2}'])
def test_a_manifest_of_the_wrong_shape_is_one_line_and_overwrite_starts_again(smoke, finished, copy, capsys, content):
    (copy / "manifest.json").write_text(content)
    assert_one_line(call(capsys, "report", str(copy)), EXIT_FAULT, "manifest.json is damaged", "--overwrite")
    sweep = ("sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet")
    assert_one_line(call(capsys, *sweep), EXIT_FAULT, "manifest.json is damaged")
    assert call(capsys, *sweep, "--overwrite").returncode == 0
    pd.testing.assert_frame_equal(ResultStore(copy).load(), finished[1], check_exact=True)


def test_a_manifest_edited_to_another_layout_is_refused(copy, capsys):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "n_runs": manifest["n_runs"] + 50}))
    assert_one_line(
        call(capsys, "sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet"),
        EXIT_FAULT,
        "manifest.json is damaged",
        "'n_runs' is 370",
    )


@pytest.mark.parametrize("n_runs", [10**9, 10**30])
def test_an_impossible_run_count_is_one_line_in_report_as_in_sweep(copy, n_runs):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "n_runs": n_runs}))
    for args in (("report", str(copy)), ("sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet")):
        result = run_cli(*args, timeout=120)
        assert_one_line(result, EXIT_FAULT, "manifest.json is damaged", f"'n_runs' is {n_runs}")


@pytest.mark.parametrize(
    "edit, fragment",
    [
        ({"n_runs": 10**9, "n_points": 25 * 10**6}, "'n_points' is 25000000"),
        ({"n_runs": 8 * 10**8, "replicates": 10**8}, "more than 1000000 chunk files"),
        ({"n_runs": 16 * 10**8, "replicates": 2 * 10**8}, "'replicates' is 200000000"),
        ({"n_runs": 8 * 10**7, "replicates": 10**7, "chunk_size": 1000}, "its experiment's 40"),
        ({"n_runs": 10**5 * 40, "n_points": 10**5}, "its experiment's 8"),
        ({"chunk_size": 0}, "'chunk_size' is 0"),
    ],
)
def test_a_layout_edited_consistently_is_still_refused_before_anything_is_built(copy, capsys, edit, fragment):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, **edit}))
    assert_one_line(call(capsys, "report", str(copy)), EXIT_FAULT, "manifest.json is damaged", fragment)


def test_a_directory_of_the_older_format_gets_one_line(copy, capsys):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "format": 1}))
    assert_one_line_error(call(capsys, "report", str(copy)), "older version", "format 1", "--overwrite")


# ---- faults: a full disk, a killed worker, a dead scheduler, signals --------------------------


def patch_writes(monkeypatch, fake) -> None:
    """Make every module of experiments/ that writes files atomically call ``fake`` instead."""
    for name, module in list(sys.modules.items()):
        if name.startswith("experiments") and getattr(module, "atomic_write_bytes", None) is atomic_write_bytes:
            monkeypatch.setattr(module, "atomic_write_bytes", fake)


def test_a_full_disk_mid_sweep_is_one_line_and_the_directory_resumes(smoke, finished, tmp_path, capsys, monkeypatch):
    writes = []

    def fill_up(path, data):
        writes.append(path)
        if len(writes) == 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        return atomic_write_bytes(path, data)

    patch_writes(monkeypatch, fill_up)
    out = tmp_path / "full"
    args = ("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet")
    assert_one_line(call(capsys, *args), EXIT_FAULT, "disk is full", "rerun")
    assert len(writes) == 6 and not list(out.rglob(".tmp-*")) and not list(out.glob(".lock-*"))
    monkeypatch.undo()
    assert call(capsys, *args).returncode == 0
    pd.testing.assert_frame_equal(ResultStore(out).load(), finished[1], check_exact=True)


def test_a_full_disk_during_the_report_is_one_line_and_leaves_no_partial_file(copy, capsys, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    import experiments.analysis.report  # noqa: F401 - loads the figure-writing modules, so their writes are patched too

    patch_writes(monkeypatch, full)
    assert_one_line(call(capsys, "report", str(copy)), EXIT_FAULT, "disk is full", ".pdf")
    assert not list(copy.rglob(".tmp-*")) and not (copy / "report.md").exists()


def test_a_failed_first_manifest_write_leaves_a_directory_the_next_sweep_uses(smoke, finished, tmp_path, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    out = tmp_path / "first"
    patch_writes(monkeypatch, full)
    with pytest.raises(OSError):
        run_sweep(smoke, out, workers=1, progress=False)
    monkeypatch.undo()
    (out / "chunks").mkdir(exist_ok=True)  # what an older layout left: an empty chunks/ and no manifest
    (out / ".lock-0-of-1").write_text(json.dumps({"pid": 999999999, "host": socket.gethostname()}))  # a dead holder
    run_sweep(smoke, out, workers=1, progress=False)
    pd.testing.assert_frame_equal(ResultStore(out).load(), finished[1], check_exact=True)


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str):
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root?); the injected-OSError tests cover a full disk")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_real_full_disk_is_one_line_and_resumes_once_there_is_room(smoke, tmp_path, capsys):
    with small_tmpfs(tmp_path / "disk", "96k") as disk:
        args = ("sweep", str(SMOKE), "--out", str(disk / "r"), "--workers", "1", "--quiet", "--replicates", "200")
        assert_one_line(call(capsys, *args), EXIT_FAULT, "disk is full")
        kept = len(chunk_paths(disk / "r"))
        assert kept > 0 and not list((disk / "r").rglob(".tmp-*"))
        subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)
        again = call(capsys, *args)
        assert again.returncode == 0, again.stderr
        assert f"{kept} already on disk" in again.stdout
        rows = ResultStore(disk / "r").load()
        assert len(rows) == 1600 and rows["run"].is_unique
        reference = rows_of(smoke.with_options(replicates=200), tmp_path / "ref")
        pd.testing.assert_frame_equal(rows, reference, check_exact=True)


def rows_of(experiment, out, **kwargs):
    run_sweep(experiment, out, workers=1, progress=False, **kwargs)
    return ResultStore(out).load()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` now (children, grandchildren, ...)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        todo += kids
    return found


def slow_sweep(out: Path, *extra: str) -> subprocess.Popen:
    """A sweep that runs for a while (the Mesa engine, chunks of 10) started as a user would."""
    args = [
        PYTHON,
        "-m",
        "experiments.cli",
        "sweep",
        str(SMOKE),
        "--out",
        str(out),
        "--engine",
        "mesa",
        "--chunk-size",
        "10",
        "--quiet",
        *extra,
    ]
    return subprocess.Popen(args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_chunks(out: Path, process: subprocess.Popen, count: int = 2, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while len(chunk_paths(out)) < count:
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            raise AssertionError(f"the sweep did not write {count} chunks: {process.communicate()}")
        time.sleep(0.05)


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    deadline = time.time() + timeout
    while time.time() < deadline and any(process_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if process_alive(p)]


def finish_and_compare(finished, out: Path) -> None:
    """Resume the interrupted sweep (the batched engine: same rows, faster) and compare every row
    with the uninterrupted sweep's."""
    done = run_cli(
        "sweep", str(SMOKE), "--out", str(out), "--chunk-size", "10", "--quiet", "--workers", "1", timeout=300
    )
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(ResultStore(out).load(), finished[1], check_exact=True)


@pytest.mark.slow
def test_sigkill_of_the_main_process_alone_leaves_no_process_behind(finished, tmp_path):
    out = tmp_path / "sigkill"
    sweep = slow_sweep(out, "--workers", "2")
    try:
        wait_for_chunks(out, sweep)
        children = descendants(sweep.pid)
        assert children, "a pool sweep has worker processes"
        os.kill(sweep.pid, signal.SIGKILL)  # the main process only: its workers must notice by themselves
        sweep.wait(timeout=30)
        assert wait_gone(children) == [], "processes outlived the sweep"
    finally:
        sweep.kill()
        sweep.communicate()
    finish_and_compare(finished, out)


def test_sigterm_is_one_line_stops_the_workers_and_the_sweep_resumes(finished, tmp_path):
    out = tmp_path / "sigterm"
    sweep = slow_sweep(out, "--workers", "2")
    try:
        wait_for_chunks(out, sweep)
        children = descendants(sweep.pid)
        sweep.send_signal(signal.SIGTERM)
        _, stderr = sweep.communicate(timeout=60)
        assert_one_line(
            subprocess.CompletedProcess([], sweep.returncode, "", stderr),
            128 + signal.SIGTERM,
            "terminated (SIGTERM)",
            "rerun resumes",
        )
        assert wait_gone(children) == []
        assert not list(out.glob(".lock-*")) and not list(out.rglob(".tmp-*"))
    finally:
        sweep.kill()
        sweep.communicate()
    finish_and_compare(finished, out)


def test_a_killed_worker_is_one_line_and_the_sweep_resumes(finished, tmp_path):
    out = tmp_path / "killed_worker"
    sweep = slow_sweep(out, "--workers", "2")
    try:
        wait_for_chunks(out, sweep)
        below = descendants(sweep.pid)
        workers = [
            p
            for p in below
            if not descendants(p) and b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        assert workers, below
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = sweep.communicate(timeout=60)
        assert_one_line(
            subprocess.CompletedProcess([], sweep.returncode, "", stderr), EXIT_FAULT, "a worker process died", "rerun"
        )
        assert wait_gone(below) == []
    finally:
        sweep.kill()
        sweep.communicate()
    finish_and_compare(finished, out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_dead_dask_scheduler_is_one_line_and_the_sweep_resumes(finished, tmp_path):
    pytest.importorskip("distributed")
    dask = str(Path(PYTHON).with_name("dask"))
    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": ENV}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"], **quiet
    )
    worker = subprocess.Popen(
        [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], **quiet
    )
    out = tmp_path / "dask"
    sweep = None
    try:
        sweep = slow_sweep(out, "--dask", address)
        wait_for_chunks(out, sweep)
        scheduler.kill()
        _, stderr = sweep.communicate(timeout=120)
        assert_one_line(
            subprocess.CompletedProcess([], sweep.returncode, "", stderr),
            EXIT_FAULT,
            "lost the Dask scheduler",
            "rerun",
        )
    finally:
        for process in (sweep, scheduler, worker):
            if process is not None:
                process.kill()
                process.wait(timeout=30)
    finish_and_compare(finished, out)


# ---- one sweep per directory --------------------------------------------------------------------


def test_a_second_sweep_into_a_directory_in_use_is_refused_naming_the_holder(finished, copy, capsys):
    with DirectoryLock(copy):
        before = {p: p.stat().st_mtime_ns for p in copy.rglob("*")}
        result = call(capsys, "sweep", str(SMOKE), "--out", str(copy), "--workers", "1", "--quiet", "--overwrite")
        assert_one_line_error(result, "in use by another sweep", f"process {os.getpid()}")
        assert {p: p.stat().st_mtime_ns for p in copy.rglob("*")} == before
    assert not list(copy.glob(".lock-*"))


def test_a_stale_lock_of_a_dead_process_is_taken_over(smoke, finished, copy):
    dead = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    (copy / ".lock-0-of-1").write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "1"}))
    again = run_sweep(smoke, copy, workers=1, progress=False)
    assert again.chunks_skipped == 7 and not list(copy.glob(".lock-*"))


def test_shards_of_one_array_share_a_directory_but_other_shardings_do_not(tmp_path):
    with DirectoryLock(tmp_path, (0, 2)):
        with DirectoryLock(tmp_path, (1, 2)):
            for other in ((0, 2), (0, 1), (1, 3)):
                with pytest.raises(UserError, match=f"process {os.getpid()}"):
                    DirectoryLock(tmp_path, other).acquire()


def test_the_lock_works_on_file_systems_without_hard_links(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with DirectoryLock(tmp_path):
        assert json.loads((tmp_path / ".lock-0-of-1").read_text())["pid"] == os.getpid()
        with pytest.raises(UserError, match=f"process {os.getpid()}"):
            DirectoryLock(tmp_path).acquire()
    assert not list(tmp_path.iterdir())


# ---- strict readers and small things --------------------------------------------------------------


def test_a_quoted_false_is_not_read_as_true(tmp_path, capsys):

    path = tmp_path / "s.toml"
    path.write_text(SYNTHETIC.format(rate=0.0) + '[[sanctions]]\ndate = 2030-02-01\nlevel = 0.5\nannounce = "false"\n')
    assert_one_line_error(
        call(capsys, "replay", str(path), "--record", str(RECORD), "--replicates", "5"),
        "announce must be true or false",
        "'false'",
    )
    assert HISTORY.is_file()


def test_a_record_with_an_unbalanced_quote_is_refused_with_its_line(tmp_path, capsys):

    lines = RECORD.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("2017-03,"))
    lines[number] = lines[number].replace("2017-03,", '2017-03,"', 1)
    bad = tmp_path / "quote.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    assert_one_line_error(
        call(capsys, "replay", str(HISTORY), "--record", str(bad), "--replicates", "5"),
        "quote.csv",
        f"line {number + 1}",
    )
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("month,missile_launch_events,nuclear_tests\n2016-01,1,0\n2016-02,1,0,extra\n")
    assert_one_line_error(call(capsys, "replay", str(HISTORY), "--record", str(ragged)), "line 3", "4 fields")


def test_an_impossible_count_is_refused(tmp_path, capsys):

    bad = tmp_path / "huge.csv"
    bad.write_text("month,missile_launch_events,nuclear_tests\n2016-01," + "1" + "0" * 30 + ",0\n")
    assert_one_line_error(call(capsys, "replay", str(HISTORY), "--record", str(bad)), "not physically plausible")


def test_output_paths_and_configs_that_cannot_be_used_get_the_right_line(tmp_path, capsys):
    assert_one_line_error(call(capsys, "sweep", str(SMOKE), "--out", ""), "--out is empty")
    assert_one_line_error(
        call(capsys, "sweep", str(SMOKE), "--out", "/proc/escalation-test/x", "--quiet"),
        "cannot create the results directory",
        "choose another --out",
    )
    assert_one_line_error(call(capsys, "sweep", str(tmp_path)), "is a directory, not a config file")


def test_designs_too_big_to_start_are_refused_saying_why(tmp_path, capsys):
    config = tmp_path / "big.toml"
    config.write_text(
        SMOKE.read_text().replace(
            "sanctions_level = [0.5, 0.95]", "sanctions_level = {start = 0.0, stop = 1.0, num = 10000000}"
        )
    )
    assert_one_line_error(call(capsys, "sweep", str(config)), "num must be an integer from 1 to 100000")
    assert_one_line_error(
        call(capsys, "sweep", str(SMOKE), "--replicates", "100000000", "--chunk-size", "100"),
        "chunk files",
        "raise chunk_size",
    )
