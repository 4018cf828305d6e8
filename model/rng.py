"""Counter-based random numbers for the model: Philox4x32-10 in vectorised numpy.

Why counter-based
-----------------
A conventional generator (Mersenne Twister, PCG, ...) is a *sequence*: the
k-th number depends on how many numbers were drawn before it.  Two runs that
differ in anything that changes the number of draws (a policy that skips a
decision, an extra agent, a reordered loop) silently fall out of step and stop
sharing their random numbers.  A counter-based generator (Salmon, Moraes,
Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", Proc. SC'11,
2011, doi:10.1145/2063384.2063405) is instead a keyed bijection
``f_key(counter)``: every random number is a *pure function* of its
coordinates.  Here the coordinates are ``(seed, step, slot)``, so

* two policies run with one seed see the same number in the same decision
  slot at the same step (common random numbers), whatever else they do;
* an engine that advances many replicates as arrays can draw the whole
  ``(replicates x slots)`` block of one step -- or a whole horizon -- in one
  vectorised call, and reproduce each single run exactly;
* there is no generator state to carry, seed, split or pickle.

The bijection is Philox4x32 with 10 rounds, Random123's default (the paper
found fewer rounds already pass TestU01's BigCrush, so 10 leaves a safety
margin): a 128-bit counter of four 32-bit words and a 64-bit key of two
32-bit words give four 32-bit output words.

Mapping (the contract other code relies on; do not change it silently)
---------------------------------------------------------------------
* ``seed``: integer in ``[0, 2**64)``.  ``key = (seed & 0xFFFFFFFF, seed >> 32)``.
* ``step``: integer in ``[0, 2**32)`` (the model week, or any step index).
* ``stream``: integer in ``[0, 2**32)``; 0 is the weekly decisions, other
  values are independent streams for other purposes (e.g. sampling).
* Philox block ``b = 0, 1, ...`` uses ``counter = (b, step, stream, 0)``; its
  four output words are slots ``4b, 4b+1, 4b+2, 4b+3``.  Drawing ``n_slots``
  evaluates ``ceil(n_slots / 4)`` blocks and drops the surplus words, so slot
  ``s`` has the same value whatever ``n_slots`` is.
* ``uniform = (word + 0.5) * 2**-32``: exactly representable in float64, lies
  strictly inside (0, 1) (smallest ``2**-33``, largest ``1 - 2**-33``), so
  ``-log(u)`` and ``-log(1 - u)`` are always finite.

Public API
----------
``N_SLOTS``        decision slots drawn per step (three Philox blocks).
``philox4x32``     the raw bijection, broadcast over arrays (checked against
                   the Random123 known-answer vectors in tests/test_rng.py).
``uniforms``       (seeds, steps) -> float64 array ``shape + (n_slots,)``.
``RandomStreams``  per-run cached view for the single-run (Mesa) engine.

Implementation notes
--------------------
The 32x32->64-bit multiplies are done in uint64 numpy arrays.  The state is
kept as two paired arrays, ``x = (c0, c2)`` and ``lo = (c1 << 32, c3 << 32)``,
and the key as ``(k0 << 32, k1 << 32)``, so one round is five in-place ufunc
calls on the pair with no masking::

    p  = x * (M0, M1)                   # mulhilo32 of both words at once
    x  = (p[::-1] ^ lo ^ key) >> 32     # (hi1 ^ c1 ^ k0, hi0 ^ c3 ^ k1)
    lo = p[::-1] << 32                  # (lo1, lo0)

and the key bump ``key += (W0 << 32, W1 << 32)`` wraps modulo 2**64, i.e.
modulo 2**32 in the high half, for free.  In :func:`uniforms` the first two
rounds are specialised to the counter ``(b, step, stream, 0)`` (round 1 is a
few XORs; half of round 2 does not depend on the block ``b``), words are
turned into doubles by bit assembly (``(word << 20) | bits(1.0)`` is
``1 + word * 2**-32``; subtracting ``1 - 2**-33`` is exact), and large
requests are processed in chunks with scratch arrays that are reused across
calls (one set per thread, a few MB) to avoid page-fault and allocation costs.
Measured on the development machine (AMD EPYC, numpy 2.5, one core): about
7.4 ns per uniform, i.e. ~90 ns per run-step of 12 slots, for
``uniforms(np.arange(10_000), step)`` and for a 10**4 x 52 horizon alike.
"""

from __future__ import annotations

import math
import threading
from numbers import Integral

import numpy as np

__all__ = ["N_SLOTS", "philox4x32", "uniforms", "RandomStreams"]

N_SLOTS: int = 12
"""Decision slots drawn per step (three Philox blocks of four words)."""

# Philox4x32 constants (Random123 philox.h: PHILOX_M4x32_0/1, PHILOX_W32_0/1).
_M0 = 0xD2511F53
_M1 = 0xCD9E8D57
_W0 = 0x9E3779B9  # golden ratio
_W1 = 0xBB67AE85  # sqrt(3) - 1
_MASK32 = 0xFFFFFFFF

_U64 = np.uint64
_M0_U = _U64(_M0)
_M1_U = _U64(_M1)
_S32 = _U64(32)
_S12 = _U64(12)
_S20 = _U64(20)
# float64 bit pattern of 1.0; (word << 20) | _ONE_BITS is the double 1 + word * 2**-32.
_ONE_BITS = _U64(0x3FF0000000000000)
# 1 + word*2**-32 - (1 - 2**-33) = (word + 0.5) * 2**-32, exact (Sterbenz).
_OFFSET = 1.0 - 2.0**-33

_SEED_LIMIT = 2**64
_STEP_LIMIT = 2**32
_STREAM_LIMIT = 2**32

# Elements of broadcast(seeds, steps) processed per chunk inside ``uniforms``.
# Measured: throughput plateaus from ~12k upwards (per-call ufunc overhead is
# amortised); smaller chunks are markedly slower, larger ones only cost memory.
_CHUNK = 16384

DEFAULT_BLOCK_STEPS = 64
"""Steps generated at once by :class:`RandomStreams`."""


# --------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------
def _range_text(limit: int) -> str:
    return f"[0, 2**{limit.bit_length() - 1})"


def _as_uint64(x, name: str, limit: int) -> np.ndarray:
    """Validate non-negative integers ``< limit`` and return them as uint64.

    Accepts Python ints, numpy integer scalars, integer arrays (signed ones
    must be >= 0) and sequences of Python ints (converted without going
    through float64, which would lose precision above 2**53).
    """
    rng_txt = _range_text(limit)
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer in {rng_txt}, got a bool")
    if isinstance(x, Integral):  # python int, numpy integer scalar
        v = int(x)
        if not 0 <= v < limit:
            raise ValueError(f"{name} must be an integer in {rng_txt}; got {v}")
        return np.asarray(v, dtype=_U64)
    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=object)
    kind = x.dtype.kind
    if kind == "u":
        if x.size and limit < 2 ** (8 * x.dtype.itemsize) and int(x.max()) >= limit:
            raise ValueError(f"{name} must lie in {rng_txt}; got max {int(x.max())}")
        return x.astype(_U64, copy=False)
    if kind == "i":
        if x.size:
            lo, hi = int(x.min()), int(x.max())
            if lo < 0:
                raise ValueError(f"{name} must lie in {rng_txt}; got negative value {lo}")
            if hi >= limit:
                raise ValueError(f"{name} must lie in {rng_txt}; got max {hi}")
        return x.astype(_U64)
    if kind == "O":
        vals = []
        for v in x.flat:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
                raise TypeError(f"{name} must be integers in {rng_txt}; got {v!r}")
            v = int(v)
            if not 0 <= v < limit:
                raise ValueError(f"{name} must lie in {rng_txt}; got {v}")
            vals.append(v)
        return np.array(vals, dtype=_U64).reshape(x.shape)
    raise TypeError(f"{name} must be integers in {rng_txt}; got dtype {x.dtype}")


def _check_small_int(v, name: str, limit: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be an integer in {_range_text(limit)}; got {v!r}")
    v = int(v)
    if not 0 <= v < limit:
        raise ValueError(f"{name} must be an integer in {_range_text(limit)}; got {v}")
    return v


# --------------------------------------------------------------------------
# the Philox rounds, paired "high-half" representation
# --------------------------------------------------------------------------
# The multipliers and Weyl increments as (2, 1, ..., 1) arrays so that one
# ufunc call handles the pair (c0, c2) resp. (k0, k1).
def _pair(a: int, b: int, ndim: int) -> np.ndarray:
    return np.array([a, b], dtype=_U64).reshape((2,) + (1,) * (ndim - 1))


def _rounds_hi(x, lo, kh, n_rounds, p=None):
    """Run ``n_rounds`` Philox4x32 rounds in place on paired state arrays.

    ``x``  : uint64, shape (2, ...), contiguous: ``x[0] = c0``, ``x[1] = c2``.
    ``lo`` : uint64, same shape: ``lo[0] = c1 << 32``, ``lo[1] = c3 << 32``.
    ``kh`` : uint64, shape (2, ...) broadcastable to ``x``: ``kh[0] = k0 << 32``,
             ``kh[1] = k1 << 32`` for the key of the *first* round to run; it is
             bumped in place between rounds.
    ``p``  : optional scratch array shaped like ``x``.

    A round is then five ufunc calls on the pair (the key bump is a sixth)::

        p  = x * (M0, M1)           # (hi0:lo0, hi1:lo1) = mulhilo32(M0, c0), mulhilo32(M1, c2)
        x  = (p[::-1] ^ lo ^ kh) >> 32   # c0' = hi1^c1^k0, c2' = hi0^c3^k1 (lo parts shift out)
        lo = p[::-1] << 32               # c1' = lo1, c3' = lo0
    """
    if p is None:
        p = np.empty_like(x)
    m = _pair(_M0, _M1, x.ndim)
    w = _pair(_W0 << 32, _W1 << 32, x.ndim)
    pr = p[::-1]  # (p1, p0): a view, inner axis still contiguous
    for r in range(n_rounds):
        if r:
            kh += w  # wraps mod 2**64, i.e. mod 2**32 in the high half
        np.multiply(x, m, out=p)
        np.bitwise_xor(pr, lo, out=x)
        np.bitwise_xor(x, kh, out=x)
        np.right_shift(x, _S32, out=x)
        np.left_shift(pr, _S32, out=lo)


def philox4x32(counter, key, rounds: int = 10) -> np.ndarray:
    """Philox4x32-R bijection of Random123 (Salmon et al. 2011), vectorised.

    Parameters
    ----------
    counter : array_like of uint32, shape (..., 4)
        Counter words (c0, c1, c2, c3).
    key : array_like of uint32, shape (..., 2)
        Key words (k0, k1).  Broadcast against ``counter`` over the leading axes.
    rounds : int
        Number of rounds (10 is the Random123 default; 7 is also published).

    Returns
    -------
    numpy.ndarray of uint32, shape ``broadcast(counter[..., 0], key[..., 0]).shape + (4,)``.

    One round, as in Random123's ``_philox4x32round`` (philox.h)::

        (hi0, lo0) = mulhilo32(0xD2511F53, c0)
        (hi1, lo1) = mulhilo32(0xCD9E8D57, c2)
        c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)

    and before every round but the first the key is bumped by
    ``(0x9E3779B9, 0xBB67AE85)`` modulo 2**32.
    """
    rounds = _check_small_int(rounds, "rounds", 2**31)
    counter = np.asarray(counter)
    key = np.asarray(key)
    if counter.shape[-1:] != (4,) or key.shape[-1:] != (2,):
        raise ValueError(f"counter must have shape (..., 4) and key (..., 2); got {counter.shape} and {key.shape}")
    for name, a in (("counter", counter), ("key", key)):
        if a.dtype.kind not in "ui":
            raise TypeError(f"{name} must be an integer array (uint32 words); got {a.dtype}")
        if a.size and (int(a.min()) < 0 or int(a.max()) > _MASK32):
            raise ValueError(f"{name} words must lie in [0, 2**32)")
    shape = np.broadcast_shapes(counter.shape[:-1], key.shape[:-1])
    c = np.moveaxis(np.broadcast_to(counter, shape + (4,)), -1, 0).astype(_U64)  # (4, *shape)
    k = np.moveaxis(np.broadcast_to(key, shape + (2,)), -1, 0).astype(_U64)  # (2, *shape)
    x = np.empty((2,) + shape, _U64)
    lo = np.empty((2,) + shape, _U64)
    x[...] = c[0::2]
    lo[...] = c[1::2] << _S32
    kh = k << _S32
    _rounds_hi(x, lo, kh, rounds)
    out = np.empty(shape + (4,), dtype=np.uint32)
    out[..., 0::2] = np.moveaxis(x, 0, -1)
    out[..., 1::2] = np.moveaxis(lo >> _S32, 0, -1)
    return out


# --------------------------------------------------------------------------
# uniforms
# --------------------------------------------------------------------------
class _Workspace:
    """Scratch arrays for one chunk of ``uniforms``, reused across calls.

    Allocating fresh arrays of a few hundred kB on every call costs page faults
    (glibc serves them with mmap); keeping one workspace per thread and per
    number of Philox blocks avoids that and keeps the working set warm.
    """

    def __init__(self, n_blocks: int, chunk: int):
        self.n_blocks = n_blocks
        self.chunk = chunk
        big = 2 * n_blocks * chunk  # x, lo, p: (2, n_blocks, chunk); buf: (n_blocks, 4, chunk)
        self._mem = np.empty(5 * big + 8 * chunk, dtype=_U64)

    def get(self, c: int):
        nb, mem = self.n_blocks, self._mem
        n = 2 * nb * c
        x = mem[0:n].reshape(2, nb, c)
        lo = mem[n : 2 * n].reshape(2, nb, c)
        p = mem[2 * n : 3 * n].reshape(2, nb, c)
        buf = mem[3 * n : 5 * n].reshape(nb, 4, c)
        o = 5 * n
        kh = mem[o : o + 2 * c].reshape(2, 1, c)
        o += 2 * c
        small = [mem[o + i * c : o + (i + 1) * c] for i in range(6)]
        return x, lo, p, buf, kh, small


_tls = threading.local()


def _workspace(n_blocks: int) -> _Workspace:
    cache = getattr(_tls, "ws", None)
    if cache is None:
        cache = _tls.ws = {}
    ws = cache.get(n_blocks)
    if ws is None or ws.chunk != _CHUNK:
        if len(cache) > 8:  # unusual n_slots values: do not hoard memory
            cache.clear()
        ws = cache[n_blocks] = _Workspace(n_blocks, _CHUNK)
    return ws


def _mulhilo(m: int, a: int) -> tuple[int, int]:
    p = m * a
    return p >> 32, p & _MASK32


def _fill_uniforms(out_bits, k0, k1, step, n_slots, stream, ws):
    """Fill ``out_bits`` (uint64 view, shape (c, n_slots)) with the float64 bit
    patterns of ``1 + word * 2**-32``, for 1-D uint64 inputs ``k0, k1, step`` of
    length c <= ws.chunk.  Philox4x32-10 with counter (b, step, stream, 0)."""
    xor, mul, rsh, lsh = np.bitwise_xor, np.multiply, np.right_shift, np.left_shift
    n_blocks = ws.n_blocks
    c = k0.shape[0]
    x, lo, p, buf, kh, (a0, q0, kk, l1k0, hq, tmp) = ws.get(c)
    # Round 1 (key k) on counter (b, step, stream, 0) reduces to
    #   c0 = hi(M1*stream) ^ step ^ k0 ; c1 = lo(M1*stream)
    #   c2 = hi(M0*b) ^ k1             ; c3 = lo(M0*b)
    hs, ls = _mulhilo(_M1, stream)
    xor(step, k0, out=a0)  # block independent
    if hs:
        xor(a0, _U64(hs), out=a0)
    # Round 2 (key k' = k + W).  mulhilo(M0, c0) does not depend on the block.
    mul(a0, _M0_U, out=q0)
    np.add(k0, _U64(_W0), out=kk)
    np.bitwise_and(kk, _U64(_MASK32), out=kk)  # k0'
    xor(kk, _U64(ls), out=l1k0)
    lsh(l1k0, _S32, out=l1k0)  # (c1 ^ k0') << 32
    np.add(k1, _U64(_W1), out=kk)
    np.bitwise_and(kk, _U64(_MASK32), out=kk)  # k1'
    rsh(q0, _S32, out=hq)
    xor(hq, kk, out=hq)  # hi0 ^ k1', still to be xored with c3 = lo(M0*b)
    lsh(q0, _S32, out=q0)  # lo0 << 32 = c3 after round 2, block independent
    for b in range(n_blocks):
        hb, lb = _mulhilo(_M0, b)
        if hb:
            xor(k1, _U64(hb), out=tmp)
            mul(tmp, _M1_U, out=tmp)  # mulhilo(M1, c2) with c2 = hi(M0*b) ^ k1
        else:
            mul(k1, _M1_U, out=tmp)
        xor(tmp, l1k0, out=x[0, b])
        rsh(x[0, b], _S32, out=x[0, b])  # c0 = hi1 ^ c1 ^ k0'
        lsh(tmp, _S32, out=lo[0, b])  # c1 = lo1
        if lb:
            xor(hq, _U64(lb), out=x[1, b])  # c2 = hi0 ^ c3 ^ k1'
        else:
            np.copyto(x[1, b], hq)
    np.copyto(lo[1], q0)  # c3 = lo0, same for every block
    # Rounds 3..10 with keys k + 2W, k + 3W, ...
    np.add(k0, _U64(2 * _W0), out=kh[0, 0])
    np.add(k1, _U64(2 * _W1), out=kh[1, 0])
    lsh(kh, _S32, out=kh)  # (2, 1, c): broadcast over the blocks
    _rounds_hi(x, lo, kh, 8, p)
    # word -> bits of the double 1 + word * 2**-32, i.e. (word << 20) | bits(1.0).
    # buf is (block, word, c); slot s = 4*block + word.  x holds words 0, 2 and
    # lo holds words 1, 3 shifted left by 32 (>> 12 leaves word << 20 exactly).
    lsh(x.transpose(1, 0, 2), _S20, out=buf[:, 0::2])
    rsh(lo.transpose(1, 0, 2), _S12, out=buf[:, 1::2])
    np.bitwise_or(buf.reshape(4 * n_blocks, c)[:n_slots].T, _ONE_BITS, out=out_bits)


def uniforms(seeds, steps, n_slots: int = N_SLOTS, stream: int = 0) -> np.ndarray:
    """Uniform(0, 1) numbers as a pure function of (seed, step, slot).

    Parameters
    ----------
    seeds : int or array_like of int
        Run seeds in ``[0, 2**64)`` (Python ints, uint64, or non-negative int64).
    steps : int or array_like of int
        Steps in ``[0, 2**32)``; broadcast against ``seeds``, so e.g.
        ``uniforms(seeds[:, None], np.arange(1, 53)[None, :])`` draws a whole
        52-week horizon for every seed at once, shape (N, 52, n_slots).
    n_slots : int
        Number of slots per (seed, step); slot ``s`` does not depend on it.
    stream : int
        Stream id in ``[0, 2**32)``; 0 = weekly decisions.

    Returns
    -------
    numpy.ndarray, float64, shape ``np.broadcast_shapes(seeds.shape, steps.shape) + (n_slots,)``,
    every value ``(word + 0.5) * 2**-32`` strictly inside (0, 1), where ``word`` is
    output word ``s % 4`` of Philox4x32-10 with key ``(seed mod 2**32, seed >> 32)``
    and counter ``(s // 4, step, stream, 0)``.
    """
    seeds = _as_uint64(seeds, "seed", _SEED_LIMIT)
    steps = _as_uint64(steps, "step", _STEP_LIMIT)
    n_slots = _check_small_int(n_slots, "n_slots", 2**31)
    stream = _check_small_int(stream, "stream", _STREAM_LIMIT)
    shape = np.broadcast_shapes(seeds.shape, steps.shape)
    out = np.empty(shape + (n_slots,), dtype=np.float64)
    size = math.prod(shape)
    if n_slots == 0 or size == 0:
        return out
    k0 = seeds & _U64(_MASK32)
    k1 = seeds >> _S32
    k0 = np.broadcast_to(k0, shape).reshape(-1)  # copies only when broadcasting
    k1 = np.broadcast_to(k1, shape).reshape(-1)
    st = np.broadcast_to(steps, shape).reshape(-1)
    bits = out.reshape(size, n_slots).view(_U64)
    ws = _workspace(-(-n_slots // 4))
    for lo in range(0, size, ws.chunk):
        hi = min(lo + ws.chunk, size)
        _fill_uniforms(bits[lo:hi], k0[lo:hi], k1[lo:hi], st[lo:hi], n_slots, stream, ws)
    out -= _OFFSET
    return out


# --------------------------------------------------------------------------
# per-run view for the single-run engine
# --------------------------------------------------------------------------
class RandomStreams:
    """Cached per-run view of :func:`uniforms` for a single-run (Mesa) engine.

    ``RandomStreams(seed).week(step)`` returns the float64 array of shape
    ``(N_SLOTS,)`` equal to ``uniforms(seed, step)`` (for ``stream=0``).  Steps
    are generated ``block_steps`` at a time (default 64) the first time any
    step of a block is asked for, and cached, so a 52-week run costs one
    Philox evaluation rather than 52.  The returned array is a read-only view
    into the cache; copy it if you need to modify it.
    """

    __slots__ = ("seed", "stream", "block_steps", "_blocks")

    def __init__(self, seed, stream: int = 0, block_steps: int = DEFAULT_BLOCK_STEPS):
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, Integral):
            raise TypeError(f"seed must be an integer in {_range_text(_SEED_LIMIT)}; got {seed!r}")
        self.seed = int(seed)
        if not 0 <= self.seed < _SEED_LIMIT:
            raise ValueError(f"seed must be an integer in {_range_text(_SEED_LIMIT)}; got {self.seed}")
        self.stream = _check_small_int(stream, "stream", _STREAM_LIMIT)
        self.block_steps = _check_small_int(block_steps, "block_steps", 2**20)
        if self.block_steps == 0:
            raise ValueError("block_steps must be positive")
        self._blocks: dict[int, tuple] = {}

    def week(self, step) -> np.ndarray:
        """Uniforms of shape ``(N_SLOTS,)`` for ``step`` (read-only view)."""
        if type(step) is not int:  # fast path for plain ints; validate the rest
            if isinstance(step, (bool, np.bool_)) or not isinstance(step, Integral):
                raise TypeError(f"step must be an integer in {_range_text(_STEP_LIMIT)}; got {step!r}")
            step = int(step)
        if step < 0 or step >= _STEP_LIMIT:
            raise ValueError(f"step must be an integer in {_range_text(_STEP_LIMIT)}; got {step}")
        b, i = divmod(step, self.block_steps)
        rows = self._blocks.get(b)
        if rows is None:
            rows = self._generate(b)
        return rows[i]

    def _generate(self, b: int) -> tuple:
        start = b * self.block_steps
        stop = min(start + self.block_steps, _STEP_LIMIT)
        block = uniforms(self.seed, np.arange(start, stop, dtype=_U64), N_SLOTS, self.stream)
        block.flags.writeable = False
        rows = tuple(block)  # one read-only view per step: week() is then a tuple lookup
        self._blocks[b] = rows
        return rows

    __call__ = week

    def __repr__(self) -> str:
        return f"RandomStreams(seed={self.seed}, stream={self.stream})"
