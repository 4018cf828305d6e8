"""CPU time per run-week of the week's uniforms: compiled ``week_uniforms`` vs numpy ``uniforms``.

Usage:  python benchmarks/bench_rng.py [--runs 20000 1000] [--repeats K]

For each number of runs N, times (CPU time of this process, best of ``--repeats`` after a
warm-up) one step's ``N_SLOTS`` uniforms for N seeds, drawn

* ``compiled``: by a compiled loop over runs calling :func:`model.rng_compiled.week_uniforms`
  into row i of a preallocated (N, N_SLOTS) array (as a compiled weekly loop would), and
* ``numpy``: by ``model.rng.uniforms(seeds, step)`` (one vectorised call),

and prints nanoseconds per run-week and the ratio, with the load average (the machine may be
shared; CPU time is less sensitive to that than wall time, not immune).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.rng import N_SLOTS, uniforms  # noqa: E402
from model.rng_compiled import week_uniforms  # noqa: E402


@njit(cache=False, nogil=True)
def _week_loop(seeds, step, out):
    for i in range(seeds.shape[0]):
        week_uniforms(seeds[i], step, 0, out[i])


def _best_cpu(fn, repeats: int, inner: int) -> float:
    """Best CPU seconds per call of ``fn(step)`` over ``repeats`` batches of ``inner`` calls."""
    fn(0)  # warm-up (and compilation)
    best = float("inf")
    for r in range(repeats):
        t0 = time.process_time()
        for k in range(inner):
            fn(r * inner + k)
        best = min(best, (time.process_time() - t0) / inner)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[20_000, 1_000])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for n in args.runs:
        seeds = np.random.default_rng(1).integers(0, 2**64, size=n, dtype=np.uint64)
        out = np.empty((n, N_SLOTS))
        _week_loop(seeds, 1, out)
        if not np.array_equal(out.view(np.uint64), uniforms(seeds, 1).view(np.uint64)):
            raise SystemExit("compiled and numpy uniforms differ: benchmark aborted")
        inner = max(1, 200_000 // n)
        t_c = _best_cpu(lambda step: _week_loop(seeds, step, out), args.repeats, inner)  # noqa: B023
        t_n = _best_cpu(lambda step: uniforms(seeds, step), args.repeats, inner)  # noqa: B023
        print(
            f"runs {n:>7}: compiled {t_c / n * 1e9:7.1f} ns/run-week, numpy {t_n / n * 1e9:7.1f} ns/run-week, "
            f"numpy/compiled {t_n / t_c:5.2f}x"
        )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
