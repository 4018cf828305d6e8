"""Philox4x32-10 compiled with numba, bit-identical to :mod:`model.rng`.

:mod:`model.rng` draws the uniforms of many runs at once with numpy; a compiled
weekly loop over runs instead needs the uniforms of *one* run and step, drawn
inline without a Python call or a temporary array.  This module provides that,
under the same mapping (see the :mod:`model.rng` header)::

    key     = (seed & 0xFFFFFFFF, seed >> 32)
    counter = (block, step, stream, 0)       slot s = word s % 4 of block s // 4
    uniform = (word + 0.5) * 2**-32

``(word + 0.5) * 2**-32`` is computed in float64 arithmetic here and by bit
assembly in :mod:`model.rng`; both are exact (``word + 0.5`` needs 33
significant bits, and the scaling is by a power of two), so they agree bit for bit.

All integer arithmetic is on ``uint64`` with ``uint64`` constants: numba types
``uint64 (op) int64`` as float64, which would silently lose the low bits of the
32x32->64-bit products.  The functions are compiled with ``nogil=True`` (a
thread pool can run them in parallel), without ``fastmath`` and without an
on-disk cache (the package may be installed read-only).

Public API
----------
``philox_block``       the raw bijection on one counter (compiled).
``week_uniforms``      the uniforms of one run and step into a given array (compiled).
``week_slots``         slots 0-7 of one run and step as a tuple (compiled).
``week_block``         the four slots of one block of one run and step as a tuple (compiled).
``uniforms_compiled``  Python-callable, same arguments and result as :func:`model.rng.uniforms`.
"""

from __future__ import annotations

import math

import numpy as np

from .compiled import jit
from .rng import _SEED_LIMIT, _STEP_LIMIT, _STREAM_LIMIT, N_SLOTS, _as_uint64, _check_small_int

__all__ = ["philox_block", "week_uniforms", "week_slots", "week_block", "uniforms_compiled"]

# Philox4x32 constants (Random123 philox.h), as uint64 so that no operand is ever int64.
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_THREE = np.uint64(3)
_LIMIT32 = np.uint64(1 << 32)
_ROUNDS = 10
_INV_2_32 = 2.0**-32


@jit
def _round(c0, c1, c2, c3, k0, k1):
    """One Philox4x32 round (Random123 ``_philox4x32round``) on uint64 words < 2**32."""
    p0 = _M0 * c0  # hi:lo = mulhilo32(M0, c0)
    p1 = _M1 * c2
    return (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK32


@jit
def _philox10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on uint64 words each < 2**32; returns four uint64 words < 2**32."""
    for r in range(_ROUNDS):
        if r > 0:  # the key is bumped before every round but the first
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1)
    return c0, c1, c2, c3


@jit
def _philox10_x2(b, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counters ``(b, c1, c2, c3)`` and ``(b + 1, c1, c2, c3)``, under one key: 8 words.

    The two blocks are independent chains of multiplies; running their rounds side by side lets
    the processor overlap them (faster than one block after another).
    """
    a0, a1, a2, a3 = b, c1, c2, c3
    d0, d1, d2, d3 = b + _ONE, c1, c2, c3
    for r in range(_ROUNDS):
        if r > 0:
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        a0, a1, a2, a3 = _round(a0, a1, a2, a3, k0, k1)
        d0, d1, d2, d3 = _round(d0, d1, d2, d3, k0, k1)
    return a0, a1, a2, a3, d0, d1, d2, d3


@jit
def _philox10_x3(b, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counters ``(b + j, c1, c2, c3)``, j = 0, 1, 2, under one key: 12 words."""
    a0, a1, a2, a3, d0, d1, d2, d3 = _philox10_x2(b, c1, c2, c3, k0, k1)
    e0, e1, e2, e3 = _philox10(b + _TWO, c1, c2, c3, k0, k1)
    return a0, a1, a2, a3, d0, d1, d2, d3, e0, e1, e2, e3


@jit
def _uniform(word):
    """``(word + 0.5) * 2**-32`` for a uint64 word < 2**32: exact in float64."""
    return (np.float64(word) + 0.5) * _INV_2_32


@jit
def philox_block(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 bijection of Random123 (Salmon et al. 2011) on one counter.

    Parameters
    ----------
    c0, c1, c2, c3 : int
        Counter words, each in ``[0, 2**32)`` (any integer type; taken as uint64).
    k0, k1 : int
        Key words, each in ``[0, 2**32)``.

    Returns
    -------
    tuple of four uint32
        The output words, equal to ``model.rng.philox4x32(counter, key)`` (numba hands
        them to a Python caller as Python ints, to a compiled caller as uint32).

    Words outside ``[0, 2**32)`` are not checked (this runs inside compiled loops);
    their high bits corrupt the result.
    """
    w0, w1, w2, w3 = _philox10(np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3), np.uint64(k0), np.uint64(k1))
    return np.uint32(w0), np.uint32(w1), np.uint32(w2), np.uint32(w3)


@jit
def _key_and_counter(seed, step, stream):
    """The Philox key words of ``seed`` and the counter words of ``step`` and ``stream`` (checked)."""
    s = np.uint64(seed)
    st = np.uint64(step)  # a negative int64 becomes >= 2**32 and is caught below
    sm = np.uint64(stream)
    if st >= _LIMIT32:
        raise ValueError("step must be an integer in [0, 2**32)")
    if sm >= _LIMIT32:
        raise ValueError("stream must be an integer in [0, 2**32)")
    return s & _MASK32, s >> _S32, st, sm


@jit
def week_uniforms(seed, step, stream, out):
    """Fill ``out`` with the uniforms of one run and step: ``model.rng.uniforms(seed, step, len(out), stream)``.

    Parameters
    ----------
    seed : uint64
        Run seed in ``[0, 2**64)``; pass ``numpy.uint64`` (an int64 is taken modulo 2**64).
    step : int
        Step in ``[0, 2**32)``.
    stream : int
        Stream id in ``[0, 2**32)``; 0 = weekly decisions.
    out : 1-d float64 array
        Receives slot ``s`` in ``out[s]`` for ``s < len(out)`` (any length; slot ``s``
        does not depend on it).

    Raises ValueError if ``step`` or ``stream`` lies outside ``[0, 2**32)``; the
    seed is not checked (every uint64 is a valid seed).
    """
    k0, k1, st, sm = _key_and_counter(seed, step, stream)
    n = out.shape[0]
    b = _ZERO
    i = 0
    while i < n:  # three blocks (12 slots) per pass: N_SLOTS = 12 is one pass
        w = _philox10_x3(b, st, sm, _ZERO, k0, k1)
        if n - i >= 12:
            out[i] = _uniform(w[0])
            out[i + 1] = _uniform(w[1])
            out[i + 2] = _uniform(w[2])
            out[i + 3] = _uniform(w[3])
            out[i + 4] = _uniform(w[4])
            out[i + 5] = _uniform(w[5])
            out[i + 6] = _uniform(w[6])
            out[i + 7] = _uniform(w[7])
            out[i + 8] = _uniform(w[8])
            out[i + 9] = _uniform(w[9])
            out[i + 10] = _uniform(w[10])
            out[i + 11] = _uniform(w[11])
        else:  # the last, partial pass: surplus words are dropped
            for j in range(n - i):
                out[i + j] = _uniform(w[j])
        b += _THREE
        i += 12


@jit
def week_slots(seed, step, stream):
    """Slots 0-7 of one run and step (blocks 0 and 1) as a tuple of eight floats:
    ``model.rng.uniforms(seed, step, 8, stream)``. A compiled week that reads the later slots only
    in some weeks draws them then, with :func:`week_block`; the arguments are
    :func:`week_uniforms`'s."""
    k0, k1, st, sm = _key_and_counter(seed, step, stream)
    w = _philox10_x2(_ZERO, st, sm, _ZERO, k0, k1)
    return (
        _uniform(w[0]),
        _uniform(w[1]),
        _uniform(w[2]),
        _uniform(w[3]),
        _uniform(w[4]),
        _uniform(w[5]),
        _uniform(w[6]),
        _uniform(w[7]),
    )


@jit
def week_block(seed, step, stream, block):
    """Slots ``4 * block`` to ``4 * block + 3`` of one run and step as a tuple of four floats:
    ``model.rng.uniforms(seed, step, 4 * block + 4, stream)[4 * block:]``."""
    k0, k1, st, sm = _key_and_counter(seed, step, stream)
    w = _philox10(np.uint64(block), st, sm, _ZERO, k0, k1)
    return _uniform(w[0]), _uniform(w[1]), _uniform(w[2]), _uniform(w[3])


@jit
def _fill(seeds, steps, stream, out):
    """``out[i] = uniforms(seeds[i], steps[i], out.shape[1], stream)`` for every row ``i``."""
    for i in range(out.shape[0]):
        week_uniforms(seeds[i], steps[i], stream, out[i])


def uniforms_compiled(seeds, steps, n_slots: int = N_SLOTS, stream: int = 0) -> np.ndarray:
    """:func:`model.rng.uniforms` computed by the compiled :func:`week_uniforms`, one run at a time.

    Same arguments, checks, errors and result (bit for bit) as :func:`model.rng.uniforms`:
    ``seeds`` in ``[0, 2**64)`` and ``steps`` in ``[0, 2**32)`` broadcast against each
    other; the result is float64 of shape ``broadcast(seeds, steps).shape + (n_slots,)``.
    Meant for tests and benchmarks of the compiled path; a compiled loop calls
    :func:`week_uniforms` directly.
    """
    seeds = _as_uint64(seeds, "seed", _SEED_LIMIT)
    steps = _as_uint64(steps, "step", _STEP_LIMIT)
    n_slots = _check_small_int(n_slots, "n_slots", 2**31)
    stream = _check_small_int(stream, "stream", _STREAM_LIMIT)
    shape = np.broadcast_shapes(seeds.shape, steps.shape)
    size = math.prod(shape)
    out = np.empty((size, n_slots), dtype=np.float64)
    if size and n_slots:
        s = np.ascontiguousarray(np.broadcast_to(seeds, shape).reshape(-1))
        t = np.ascontiguousarray(np.broadcast_to(steps, shape).reshape(-1))
        _fill(s, t, np.uint64(stream), out)
    return out.reshape(shape + (n_slots,))
