"""Replicate seeds: a replicate's seed does not depend on how many are asked for, scenarios get
their own, and the seeds are numpy's SeedSequence (the bit-for-bit comparison over many seeds is
in tests/experiments/sweep/test_integrity.py)."""

import numpy as np

from experiments.seeds import replicate_seeds, replicate_seeds_of


def test_a_replicates_seed_does_not_depend_on_how_many_are_asked_for():
    whole = replicate_seeds(42, 20)
    assert whole.dtype == np.uint64 and len(set(whole.tolist())) == 20
    assert np.array_equal(replicate_seeds(42, 7, first=13), whole[13:])
    assert np.array_equal(replicate_seeds_of(42, np.array([19, 0, 5])), whole[[19, 0, 5]])


def test_scenarios_and_experiment_seeds_give_other_seeds():
    plain = replicate_seeds(42, 50)
    # SeedSequence pads its entropy with zeros, so scenario 0 has the plain design's seeds; the
    # two never meet in one sweep (a design has scenarios or has none)
    assert np.array_equal(replicate_seeds(42, 50, scenario=0), plain)
    assert not set(plain.tolist()) & set(replicate_seeds(42, 50, scenario=1).tolist())
    assert not set(replicate_seeds(42, 50, scenario=1).tolist()) & set(replicate_seeds(42, 50, scenario=2).tolist())
    assert not set(plain.tolist()) & set(replicate_seeds(43, 50).tolist())


def test_the_seed_is_seed_sequence_state_read_as_one_uint64():
    lo, hi = np.random.SeedSequence([7, 3, 2]).generate_state(2, dtype=np.uint32)
    assert int(replicate_seeds(7, 1, first=3, scenario=2)[0]) == (int(hi) << 32) | int(lo)


def test_no_replicates_is_an_empty_array_of_seeds():
    empty = replicate_seeds_of(1, np.array([], dtype=np.uint64))
    assert empty.dtype == np.uint64 and empty.size == 0
