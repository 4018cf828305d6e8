"""Tests for model.rng_compiled: the numba Philox4x32-10 must equal model.rng bit for bit.

Identity is exact (compared on the uint64 bit patterns), never within a tolerance: the
compiled weekly loop and the numpy engine must see the same random numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import types
from test_rng import KAT

from model.rng import N_SLOTS, philox4x32, uniforms
from model.rng_compiled import philox_block, uniforms_compiled, week_block, week_slots, week_uniforms

EDGE_SEEDS = [0, 1, 2**32 - 1, 2**32, 2**32 + 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]


def _seeds(n: int) -> np.ndarray:
    """``n`` seeds: the edge cases, then random ones over the whole uint64 range."""
    rand = np.random.default_rng(20261207).integers(0, 2**64, size=n - len(EDGE_SEEDS), dtype=np.uint64)
    return np.concatenate([np.array(EDGE_SEEDS, dtype=np.uint64), rand])


def _assert_identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float64
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint64), b.view(np.uint64))


@pytest.mark.parametrize("ctr,key,expected", [r[1:] for r in KAT if r[0] == 10])
def test_philox_block_known_answers(ctr, key, expected):
    assert list(philox_block(*ctr, *key)) == expected
    # compiled callers get four uint32 words (numba boxes them as Python ints for Python callers)
    assert {sig.return_type for sig in philox_block.nopython_signatures} == {types.UniTuple(types.uint32, 4)}


def test_philox_block_equals_numpy_bijection():
    rng = np.random.default_rng(7)
    ctr = rng.integers(0, 2**32, size=(2000, 4), dtype=np.uint32)
    key = rng.integers(0, 2**32, size=(2000, 2), dtype=np.uint32)
    ref = philox4x32(ctr, key)
    got = np.array([philox_block(*c, *k) for c, k in zip(ctr, key, strict=True)], dtype=np.uint32)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("step", [0, 1, 2**31, 2**32 - 1])
@pytest.mark.parametrize("stream", [0, 2**32 - 1])
def test_uniforms_identical_on_50000_seeds(step, stream):
    seeds = _seeds(50_000)
    _assert_identical(uniforms_compiled(seeds, step, N_SLOTS, stream), uniforms(seeds, step, N_SLOTS, stream))


@pytest.mark.parametrize("n_slots", range(1, 14))
def test_uniforms_identical_for_every_slot_count(n_slots):
    seeds = _seeds(2_000)
    for step, stream in [(0, 0), (2**32 - 1, 2**32 - 1), (52, 3)]:
        got = uniforms_compiled(seeds, step, n_slots, stream)
        _assert_identical(got, uniforms(seeds, step, n_slots, stream))
        # slot s does not depend on how many slots are drawn
        _assert_identical(got, uniforms_compiled(seeds, step, 16, stream)[:, :n_slots])


def test_week_uniforms_one_run_into_a_given_array():
    out = np.full(N_SLOTS + 2, -1.0)
    for seed in EDGE_SEEDS:
        week_uniforms(np.uint64(seed), 17, 5, out[:N_SLOTS])
        _assert_identical(out[:N_SLOTS], uniforms(seed, 17, N_SLOTS, 5))
        assert (out[N_SLOTS:] == -1.0).all()  # nothing written past the end
    empty = np.empty(0)
    week_uniforms(np.uint64(3), 0, 0, empty)  # nothing to write, no error


def test_week_slots_and_blocks_are_the_week_s_uniforms():
    """The compiled week's tuples: slots 0-7 and any later block, bit for bit the slots of
    model.rng.uniforms (edge seeds and 3,000 random ones, edge steps and streams)."""
    seeds = list(_seeds(3_000))  # the edge seeds first
    for step, stream in [(0, 0), (1, 0), (2**32 - 1, 2**32 - 1), (52, 3)]:
        reference = uniforms(np.array(seeds, dtype=np.uint64), step, 16, stream)
        got = np.array([week_slots(np.uint64(seed), step, stream) for seed in seeds])
        _assert_identical(got, reference[:, :8])
        for block in (0, 1, 2, 3):
            got = np.array([week_block(np.uint64(seed), step, stream, block) for seed in seeds])
            _assert_identical(got, reference[:, 4 * block : 4 * block + 4])


@pytest.mark.parametrize("function", [week_slots, week_block])
@pytest.mark.parametrize("step,stream", [(2**32, 0), (-1, 0), (0, 2**32), (0, -1)])
def test_week_tuples_reject_step_or_stream_out_of_range(function, step, stream):
    extra = (2,) if function is week_block else ()
    with pytest.raises(ValueError, match="step" if step != 0 else "stream"):
        function(np.uint64(1), step, stream, *extra)


@pytest.mark.parametrize("step,stream", [(2**32, 0), (-1, 0), (0, 2**32), (0, -1)])
def test_week_uniforms_rejects_step_or_stream_out_of_range(step, stream):
    with pytest.raises(ValueError, match="step" if step != 0 else "stream"):
        week_uniforms(np.uint64(1), step, stream, np.empty(N_SLOTS))


def test_uniforms_compiled_shapes_and_broadcasting():
    _assert_identical(uniforms_compiled(2**64 - 1, 9), uniforms(2**64 - 1, 9))
    seeds = _seeds(50)
    steps = np.arange(1, 53, dtype=np.uint64)
    _assert_identical(uniforms_compiled(seeds[:, None], steps[None, :]), uniforms(seeds[:, None], steps[None, :]))
    assert uniforms_compiled(seeds, 0, 0).shape == (50, 0)
    assert uniforms_compiled(np.empty(0, dtype=np.uint64), 0).shape == (0, N_SLOTS)
    _assert_identical(uniforms_compiled([0, 2**64 - 1], [5]), uniforms([0, 2**64 - 1], [5]))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((-1, 0), {}),
        ((2**64, 0), {}),
        ((np.array([1, -2]), 0), {}),
        ((1, 2**32), {}),
        ((1, -1), {}),
        ((1, 0), {"stream": 2**32}),
        ((1, 0), {"n_slots": -1}),
        ((True, 0), {}),
        ((1.0, 0), {}),
        ((1, 0), {"n_slots": 2.0}),
        ((np.array([1.0]), 0), {}),
    ],
)
def test_uniforms_compiled_rejects_what_uniforms_rejects(args, kwargs):
    with pytest.raises((TypeError, ValueError)) as ref:
        uniforms(*args, **kwargs)
    with pytest.raises(type(ref.value)) as got:
        uniforms_compiled(*args, **kwargs)
    assert str(got.value) == str(ref.value)
