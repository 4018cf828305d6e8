"""The replicate seeds: how an experiment seed becomes one 64-bit seed per run. A leaf (numpy
only). This file decides which random numbers each run draws, so it is part of the model
fingerprint (:data:`experiments.provenance.ROW_CODE`): results from another derivation never mix.

The seeds are numpy's ``SeedSequence(entropy).generate_state(2, uint32)``, computed here on whole
arrays of replicates at once. Built one at a time in Python that costs about 17 microseconds a
seed: 28 minutes before the first chunk of a 10^8-replicate sweep. The algorithm is specified
by numpy (``numpy/random/bit_generator.pyx``: ``hashmix``, ``mix``, ``mix_entropy`` and
``generate_state`` over a pool of four 32-bit words), so the vectorised copy gives the same
numbers bit for bit (``tests/experiments/sweep/test_integrity.py`` compares them with numpy's own SeedSequence
over random seeds, replicates and scenarios).
"""

from __future__ import annotations

import numpy as np

POOL_SIZE = 4
INIT_A = 0x43B0D7E5
MULT_A = 0x931E8875
INIT_B = 0x8B51F9DD
MULT_B = 0x58F38DED
MIX_MULT_L = 0xCA01F9DD
MIX_MULT_R = 0x4973F715
XSHIFT = 16
MASK32 = 0xFFFFFFFF


def _words(value: int) -> list[int]:
    """numpy's ``_int_to_uint32_array``: little-endian 32-bit words, ``[0]`` for zero."""
    if value < 0:
        raise ValueError("seeds, replicates and scenarios are non-negative")
    if value == 0:
        return [0]
    words = []
    while value > 0:
        words.append(value & MASK32)
        value >>= 32
    return words


def _word_columns(values: np.ndarray) -> list[np.ndarray]:
    """The 32-bit words of each value as columns; every value must need the same number of
    words (one for values below 2**32, which is all that replicates and scenarios reach)."""
    values = np.asarray(values, dtype=np.uint64)
    if values.size and int(values.max()) > MASK32:
        raise ValueError("vectorised replicate and scenario numbers must be below 2**32")
    return [values.astype(np.uint32)]


def seed_sequence_states(seed: int, columns: list[np.ndarray]) -> np.ndarray:
    """``SeedSequence([seed, *row]).generate_state(2, uint32)`` read as ``hi << 32 | lo``, for
    every row of ``columns`` (arrays of equal length, each value below 2**32)."""
    n = len(columns[0]) if columns else 1
    entropy = [np.full(n, w, dtype=np.uint32) for w in _words(int(seed))]
    for column in columns:
        entropy += _word_columns(column)
    if len(entropy) > POOL_SIZE:  # never for a seed below 2**64 with a replicate and a scenario
        raise ValueError("more entropy words than the pool holds")
    with np.errstate(over="ignore"):
        hash_const = INIT_A

        def hashmix(value: np.ndarray) -> np.ndarray:
            nonlocal hash_const
            value = value ^ np.uint32(hash_const)
            hash_const = (hash_const * MULT_A) & MASK32
            value = value * np.uint32(hash_const)
            return np.bitwise_xor(value, np.right_shift(value, np.uint32(XSHIFT)))

        def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            result = np.uint32(MIX_MULT_L) * x - np.uint32(MIX_MULT_R) * y
            return np.bitwise_xor(result, np.right_shift(result, np.uint32(XSHIFT)))

        zero = np.zeros(n, dtype=np.uint32)
        mixer = [hashmix(entropy[i] if i < len(entropy) else zero) for i in range(POOL_SIZE)]
        for i_src in range(POOL_SIZE):
            for i_dst in range(POOL_SIZE):
                if i_src != i_dst:
                    mixer[i_dst] = mix(mixer[i_dst], hashmix(mixer[i_src]))
        state, hash_const_b = [], INIT_B
        for i_dst in range(2):
            value = mixer[i_dst % POOL_SIZE] ^ np.uint32(hash_const_b)
            hash_const_b = (hash_const_b * MULT_B) & MASK32
            value = value * np.uint32(hash_const_b)
            state.append(value ^ (value >> np.uint32(XSHIFT)))
    lo, hi = state
    return (hi.astype(np.uint64) << np.uint64(32)) | lo.astype(np.uint64)


def replicate_seeds_of(seed: int, replicates: np.ndarray, scenarios: np.ndarray | None = None) -> np.ndarray:
    """The uint64 seed of each replicate number in ``replicates`` (with its scenario number, when
    ``scenarios`` is given): ``SeedSequence([seed, r])`` or ``SeedSequence([seed, r, s])``."""
    replicates = np.asarray(replicates)
    columns = [replicates] if scenarios is None else [replicates, np.asarray(scenarios)]
    if replicates.size == 0:
        return np.empty(0, dtype=np.uint64)
    return seed_sequence_states(seed, columns)


def replicate_seeds(seed: int, replicates: int, first: int = 0, scenario: int | None = None) -> np.ndarray:
    """The 64-bit seeds of replicates ``first .. first + replicates - 1``: replicate ``r`` gets
    ``SeedSequence([seed, r])`` (``[seed, r, scenario]`` for a sampled scenario)
    ``.generate_state(2)`` read as one uint64. Stable across numpy versions (SeedSequence's
    hashing is specified) and independent of how many are asked for. Computed on whole arrays
    (:func:`seed_sequence_states`): ten million seeds take about three seconds."""
    numbers = np.arange(first, first + replicates, dtype=np.uint64)
    return replicate_seeds_of(
        seed, numbers, None if scenario is None else np.full(replicates, scenario, dtype=np.uint64)
    )
