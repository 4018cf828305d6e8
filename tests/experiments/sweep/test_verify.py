"""Chunk verification on every core gives the serial verdicts, and a sweep's stored design
scenarios rebuild the very design the sweep ran."""

import dataclasses
import random
import shutil

import pandas as pd
import pytest

from experiments.provenance import model_fingerprint
from experiments.sweep.config import load_experiment
from experiments.sweep.design import Design
from experiments.sweep.integrity import ChunkProblem, checksum_path, read_chunk
from experiments.sweep.runner import run_sweep
from experiments.sweep.store import ResultStore
from experiments.sweep.verify import Verdict, check_chunk, read_chunks, verify_chunks


@pytest.fixture(scope="module")
def finished(smoke, tmp_path_factory):
    out = tmp_path_factory.mktemp("verify") / "smoke"
    run_sweep(smoke, out, workers=1, progress=False)
    return out


def serial_verdict(path, start, stop, expected):
    """The verdict straight from read_chunk in this thread: the reference."""
    try:
        read_chunk(path, start, stop, expected)
    except ChunkProblem as problem:
        return Verdict(path, False, problem.reason, problem.foreign)
    return Verdict(path, True)


def test_parallel_verification_gives_the_serial_verdicts(smoke, finished, tmp_path):
    out = tmp_path / "smoke"
    shutil.copytree(finished, out)
    other = tmp_path / "other"
    run_sweep(dataclasses.replace(smoke, seed=8), other, workers=1, progress=False)
    store = ResultStore(out)
    chunks = Design(smoke).chunks()
    files = [(store.chunk_path(c), c.start, c.stop) for c in chunks]
    rng = random.Random(4)
    data = bytearray(files[1][0].read_bytes())  # a flipped bit
    bit = rng.randrange(len(data) * 8)
    data[bit // 8] ^= 1 << (bit % 8)
    files[1][0].write_bytes(bytes(data))
    files[2][0].write_bytes(files[2][0].read_bytes()[:-100])  # a truncated tail
    for path in (files[3][0], checksum_path(files[3][0])):  # another experiment's chunk
        shutil.copy(other / "chunks" / path.name, path)
    checksum_path(files[5][0]).unlink()  # no checksum file
    expected = store.expected()
    reference = [serial_verdict(*f, expected) for f in files]
    assert [v.sound for v in reference] == [True, False, False, False, True, False, True]
    assert reference[3].foreign and not reference[1].foreign
    for workers in (1, 2, 4):
        assert list(verify_chunks(files, expected, workers=workers, progress=False)) == reference, workers
    assert [check_chunk(f, expected) for f in files] == reference
    frames = list(read_chunks(files, expected, None, workers=3, progress=False))
    assert [isinstance(f, pd.DataFrame) for f in frames] == [v.sound for v in reference]
    assert [f for f in frames if isinstance(f, Verdict)] == [v for v in reference if not v.sound]


def test_a_resumed_sweep_recomputes_exactly_the_chunks_verification_rejects(smoke, finished, tmp_path, capsys):
    out = tmp_path / "smoke"
    shutil.copytree(finished, out)
    reference = ResultStore(finished).load()
    victims = sorted((out / "chunks").glob("chunk-*.parquet"))[1::3]
    for victim in victims:
        victim.write_bytes(victim.read_bytes()[:-1])
    done = run_sweep(smoke, out, workers=2, progress=False)
    assert done.chunks_run == len(victims) and done.chunks_skipped == len(Design(smoke).chunks()) - len(victims)
    err = capsys.readouterr().err
    assert all(f"{victim} is damaged" in err for victim in victims)
    pd.testing.assert_frame_equal(ResultStore(out).load(workers=3), reference, check_exact=True)


@pytest.fixture(scope="module")
def posterior_experiment(tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "post.toml"
    config.write_text(
        "[experiment]\nname = 'post'\nweeks = 10\nreplicates = 2\nseed = 5\nchunk_size = 20\n"
        "[levers]\nexercise_policy = ['as_scheduled', 'suspended']\n[posterior]\nsamples = 3\n"
    )
    return load_experiment(config)


def test_stored_scenarios_rebuild_the_design_the_sweep_ran(posterior_experiment, tmp_path):
    out = tmp_path / "post"
    run_sweep(posterior_experiment, out, workers=1, progress=False)
    store = ResultStore(out)
    fresh = Design(posterior_experiment)
    stored = store.stored_scenarios(posterior_experiment.config_hash(), model_fingerprint())
    assert stored is not None
    pd.testing.assert_frame_equal(stored, fresh.scenarios, check_exact=True)
    rebuilt = Design(posterior_experiment, stored, validate=False)
    pd.testing.assert_frame_equal(rebuilt.points, fresh.points, check_exact=True)
    assert [rebuilt.point_params(d) for d in range(fresh.n_points)] == fresh.params
    assert rebuilt.params == fresh.params
    # anything but the sweep's own sound file is ignored: the design is built afresh
    assert store.stored_scenarios("0" * 16, model_fingerprint()) is None
    assert store.stored_scenarios(posterior_experiment.config_hash(), "another model") is None
    data = bytearray(store.design_path.read_bytes())
    data[len(data) // 2] ^= 0x10
    store.design_path.write_bytes(bytes(data))
    assert store.stored_scenarios(posterior_experiment.config_hash(), model_fingerprint()) is None
    # the next sweep (nothing to run) builds the design afresh and stores it again; its rows stay the same
    rows = store.load()
    run_sweep(posterior_experiment, out, workers=1, progress=False)
    again = store.stored_scenarios(posterior_experiment.config_hash(), model_fingerprint())
    pd.testing.assert_frame_equal(again, fresh.scenarios, check_exact=True)
    pd.testing.assert_frame_equal(store.load(), rows, check_exact=True)
