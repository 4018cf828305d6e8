"""``escalation bench``: throughput and memory of the engines, the sweep, the calibration and the
sensitivity analysis, as one JSON object.

The benchmark is a list of measurements (:data:`MEASUREMENTS`), each a function of the sizes
(:class:`Sizes`) returning its top-level keys; ``--quick`` runs those marked quick at the
:data:`QUICK` sizes (under two minutes on 2 shared cores), the full benchmark all of them at
:data:`FULL`. A new figure is one function and one line in :data:`MEASUREMENTS`.

Every timed figure is an object with what was run (``runs`` or ``simulations``, and ``weeks``),
``wall_s`` and ``cpu_s`` (the best of the repeats for each; CPU time counts this process and its
finished child processes, so workers are included), ``load`` (``os.getloadavg()``: the 1, 5 and
15 minute load averages when it finished), and rates per wall second and per CPU second. On a
shared machine the wall time moves with the load; the CPU time much less.

Keys:

* ``mesa``, ``batched`` -- the Mesa engine and the batched engine on the policy_grid design, in
  this process (outcomes only, as sweeps run them); ``batched_vs_mesa`` -- the ratio of their
  runs per CPU second;
* ``batch_run`` (full only) -- ``mesa.batch_run`` on the same design, 1 process, in its
  cheapest mode;
* ``sweep_2w`` -- ``run_sweep`` of the policy grid with the batched engine and 2 workers, writing
  Parquet, timed from the call to its return in a fresh process (pool start-up included);
* ``calibration`` -- calibration blocks as ABC-SMC runs them: particles drawn from the prior of
  the 2009-2018 scenario (experiments/scenarios/history_2009_2018.toml, its default summaries and
  parameters), each replayed 10 times on the batched engine over its 522 weeks, summaries
  included, in this process: simulations and run-weeks per CPU second;
* ``memory_sweep`` (full only) -- ``escalation sweep`` of 10^6 runs of the policy grid with 2
  workers (summary and heatmap included): peak resident memory summed over its processes,
  sampled every 20 ms from outside (``peak_rss_mib``), and its wall and CPU time;
* ``sensitivity`` (full only) -- ``escalation sensitivity`` on experiments/configs/sensitivity.toml
  with 2 workers, in a fresh process, tables and figures included;
* ``compiled_vs_numpy`` (to come with the compiled batched engine) -- its runs per CPU second
  over the numpy engine's on the policy grid, both run in this process: a measurement calling
  :func:`engine_figure` for each engine (each warmed up untimed, so compiling is not timed) and
  returning both figures and their ratio, as :func:`engines` does.

Beside them: ``sizes`` (``quick`` or ``full``), ``measurements`` (the names run), ``design``
(the config of the engine and sweep figures), ``cpus``, ``load_at_start`` and ``total`` (the
whole benchmark's wall and CPU time). Speed targets live here, never in the tests.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.backend import BACKENDS, ENVIRONMENT

from .errors import Fault, UserError
from .history.abc.prior import CALIBRATED_PARAMETERS, DECADE_PARAMETERS, UniformPrior
from .history.calibration import Block, block_seeds, run_block_replicates
from .history.record import load_record_for
from .history.scenario import load_scenario
from .history.summaries import decade_by_default, recorded_rungs, summary_table
from .sweep.config import load_experiment
from .sweep.design import Design
from .sweep.peer import batch_run_design
from .sweep.runner import make_task, run_chunk, run_sweep

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "policy_grid.toml"
SENSITIVITY_CONFIG = HERE / "configs" / "sensitivity.toml"
CALIBRATION_SCENARIO = HERE / "scenarios" / "history_2009_2018.toml"
CALIBRATION_REPLICATES = 10
"""Replays per particle, as ``escalation calibrate`` runs by default."""


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def cpu_seconds(own: bool = True) -> float:
    """CPU seconds (user and system) used so far by the child processes this process has waited
    for, and with ``own`` by this process too (all its threads)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime + (time.process_time() if own else 0.0)


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of a job and the load averages when it finished."""

    wall_s: float
    cpu_s: float
    load: tuple[float, float, float]

    def as_dict(self) -> dict[str, Any]:
        """``wall_s`` and ``cpu_s`` to four significant figures (a tiny job stays above zero) and
        ``load`` to two decimals."""
        return {"wall_s": _sig(self.wall_s), "cpu_s": _sig(self.cpu_s), "load": [round(x, 2) for x in self.load]}

    def figure(self, count: int, unit: str, weeks: int | None = None) -> dict[str, Any]:
        """The timing as a figure: ``count`` things of ``unit`` (``runs``, ``simulations``) done,
        with their rates per wall and CPU second (and run-weeks per CPU second given ``weeks``)."""
        out: dict[str, Any] = {unit: count}
        if weeks is not None:
            out["weeks"] = weeks
        out |= self.as_dict()
        out[f"{unit}_per_s"] = _rate(count, self.wall_s)
        out[f"{unit}_per_cpu_s"] = _rate(count, self.cpu_s)
        if weeks is not None:
            out["run_weeks_per_cpu_s"] = _rate(count * weeks, self.cpu_s, None)
        return out


def _sig(x: float) -> float:
    """``x`` to four significant figures."""
    return float(f"{x:.4g}")


def _rate(count: int, seconds: float, digits: int | None = 1) -> float | None:
    """``count / seconds`` rounded, or None (JSON null) for a job too short to time."""
    return round(count / seconds, digits) if seconds > 0 else None


def timed(fn: Callable[[], object], own: bool = True) -> Timing:
    """Time one call of ``fn`` (``own=False``: count only the CPU of the child processes it runs)."""
    wall, cpu = time.perf_counter(), cpu_seconds(own)
    fn()
    wall, cpu = time.perf_counter() - wall, cpu_seconds(own) - cpu
    return Timing(wall, cpu, os.getloadavg())


def best_of(timings: list[Timing]) -> Timing:
    """The shortest wall time and the shortest CPU time of several repeats, with the last load."""
    return Timing(min(t.wall_s for t in timings), min(t.cpu_s for t in timings), timings[-1].load)


def repeated(fn: Callable[[], object], repeats: int, warm_up: Callable[[], object] | None = None) -> Timing:
    """:func:`best_of` ``repeats`` calls of ``fn``, after one untimed call of ``warm_up`` (a small
    job on the same code: what is compiled or loaded on first use is not timed)."""
    if warm_up is not None:
        warm_up()
    return best_of([timed(fn) for _ in range(repeats)])


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How much each measurement runs."""

    name: str
    repeats: int
    mesa_replicates: int  # replicates per design point (the policy grid has 288)
    batched_replicates: int
    sweep_replicates: int
    calibration_particles: int  # each replayed CALIBRATION_REPLICATES times
    memory_runs: int  # at least this many runs in the memory sweep
    sensitivity_args: tuple[str, ...] = ()  # options added to `escalation sensitivity`
    config: Path = CONFIG  # the design of the engine, sweep and memory measurements


QUICK = Sizes(
    "quick",
    repeats=1,
    mesa_replicates=1,
    batched_replicates=100,
    sweep_replicates=200,
    calibration_particles=200,
    memory_runs=0,
)
FULL = Sizes(
    "full",
    repeats=2,
    mesa_replicates=3,
    batched_replicates=1000,
    sweep_replicates=2000,
    calibration_particles=1000,
    memory_runs=1_000_000,
)


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


def _design(config: Path, replicates: int, engine: str = "batched") -> Design:
    return Design(load_experiment(config).with_options(replicates=replicates, engine=engine))


def engine_figure(engine: str, replicates: int, repeats: int, config: Path = CONFIG) -> dict[str, Any]:
    """One engine on the design of ``config`` (the policy grid) in this process (outcomes only,
    as a sweep runs it), after two runs untimed."""
    design = _design(config, replicates, engine)
    tasks = [make_task(design, c, engine) for c in design.chunks()]
    first = tasks[0]
    two = replace(first, runs=first.runs.iloc[:2], point_index=first.point_index[:2])
    timing = repeated(lambda: [run_chunk(t) for t in tasks], repeats, warm_up=lambda: run_chunk(two))
    return timing.figure(design.n_runs, "runs", design.weeks)


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` to one decimal, or None if either is missing (a job too short to time)."""
    return round(a / b, 1) if a and b else None


def engines(sizes: Sizes) -> dict[str, Any]:
    """The Mesa and batched engines, and the batched engine's speed-up per CPU second."""
    mesa = engine_figure("mesa", sizes.mesa_replicates, sizes.repeats, config=sizes.config)
    batched = engine_figure("batched", sizes.batched_replicates, sizes.repeats, config=sizes.config)
    return {
        "mesa": mesa,
        "batched": batched,
        "batched_vs_mesa": ratio(batched["runs_per_cpu_s"], mesa["runs_per_cpu_s"]),
    }


@contextmanager
def backend(name: str) -> Iterator[None]:
    """Run the model on backend ``name`` (:mod:`model.backend`) inside the block."""
    before = os.environ.get(ENVIRONMENT)
    os.environ[ENVIRONMENT] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ[ENVIRONMENT]
        else:
            os.environ[ENVIRONMENT] = before


def compiled_vs_numpy(sizes: Sizes) -> dict[str, Any]:
    """The batched engine on each backend, in this process, on the same design: the compiled
    week's speed-up per CPU second over the numpy engine it replaces (the reference)."""
    figures = {}
    for name in BACKENDS:
        with backend(name):
            figures[name] = engine_figure("batched", sizes.batched_replicates, sizes.repeats, config=sizes.config)
    return {
        "batched_compiled": figures["compiled"],
        "batched_numpy": figures["numpy"],
        "compiled_vs_numpy": ratio(figures["compiled"]["runs_per_cpu_s"], figures["numpy"]["runs_per_cpu_s"]),
    }


def batch_run(sizes: Sizes) -> dict[str, Any]:
    """``mesa.batch_run`` (1 process, only the last step extracted) on the policy grid."""
    design = _design(sizes.config, sizes.mesa_replicates)
    timing = repeated(lambda: batch_run_design(design, 1, data_collection_period=-1), sizes.repeats)
    return {"batch_run": timing.figure(design.n_runs, "runs", design.weeks)}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.cli", *args]


def _failure(what: str, status: int, stderr: str) -> str:
    """One line for a measurement's child process that failed: its last line of errors."""
    last = (stderr.strip().splitlines() or ["no message"])[-1]
    return f"the benchmark's {what} exited with status {status} ({last}); fix that and rerun escalation bench"


def _run(what: str, command: list[str]) -> str:
    """Run ``command`` in a child process and return its standard output (its standard error
    kept from the benchmark's progress lines); a failure is a one-line :class:`Fault`."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise Fault(_failure(what, done.returncode, done.stderr))
    return done.stdout


def timed_sweep(replicates: int, workers: int, config: str | Path = CONFIG) -> Timing:
    """:func:`run_sweep` of ``config`` (the chunks only: no summary) in this process, timed with
    its workers' CPU."""
    experiment = load_experiment(config).with_options(replicates=replicates)
    with tempfile.TemporaryDirectory() as out:
        return timed(lambda: run_sweep(experiment, out, workers=workers, progress=False))


def _fresh_sweep(replicates: int, workers: int, config: Path) -> Timing:
    """:func:`timed_sweep` in a fresh Python process (the command line's process settings)."""
    code = (
        "import json, experiments.cli\n"
        "from experiments.bench import timed_sweep\n"
        f"t = timed_sweep({replicates}, {workers}, {str(config)!r})\n"
        "print(json.dumps([t.wall_s, t.cpu_s, t.load]))"
    )
    wall, cpu, load = json.loads(_run("the sweep", [sys.executable, "-c", code]).splitlines()[-1])
    return Timing(wall, cpu, tuple(load))


def sweep_2w(sizes: Sizes) -> dict[str, Any]:
    """A sweep of the policy grid with the batched engine and 2 workers, in a fresh process."""
    design = _design(sizes.config, sizes.sweep_replicates)
    timing = best_of([_fresh_sweep(sizes.sweep_replicates, 2, sizes.config) for _ in range(sizes.repeats)])
    return {"sweep_2w": timing.figure(design.n_runs, "runs", design.weeks)}


def calibration_block(particles: int) -> Block:
    """A calibration block of the 2009-2018 scenario as ``escalation calibrate`` builds it by
    default: ``particles`` prior draws, each replayed :data:`CALIBRATION_REPLICATES` times."""
    scenario = load_scenario(CALIBRATION_SCENARIO)
    record = load_record_for(scenario, None)
    parameters = DECADE_PARAMETERS if decade_by_default(scenario) else CALIBRATED_PARAMETERS
    prior = UniformPrior.over(scenario.params, parameters)
    n = particles * CALIBRATION_REPLICATES
    return Block(
        scenario,
        prior.names,
        prior.sample(np.random.default_rng(0), particles),
        CALIBRATION_REPLICATES,
        block_seeds(0, 0, 0, n),
        tuple(summary_table(scenario, record)),
        recorded_rungs(record),
    )


def calibration(sizes: Sizes) -> dict[str, Any]:
    """Simulations and run-weeks per CPU second of calibration blocks, in this process."""
    block = calibration_block(sizes.calibration_particles)
    one = calibration_block(1)
    timing = repeated(lambda: run_block_replicates(block), sizes.repeats, warm_up=lambda: run_block_replicates(one))
    figure = timing.figure(len(block.seeds), "simulations", block.scenario.weeks)
    return {"calibration": {"scenario": block.scenario.name, "parameters": len(block.names), **figure}}


def peak_rss_mib(command: list[str], what: str = "command", interval: float = 0.02) -> tuple[float, Timing]:
    """Peak of the summed resident memory of ``command`` (called ``what`` in errors) and its
    child processes (MiB), and the command's timing (its CPU time and its children's, not this
    sampling loop's)."""
    import psutil

    peak = 0
    with tempfile.TemporaryFile("w+") as stderr:
        wall, cpu = time.perf_counter(), cpu_seconds(own=False)
        process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        while process.poll() is None:
            total = 0
            try:
                for p in [process, *process.children(recursive=True)]:
                    total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
            peak = max(peak, total)
            time.sleep(interval)
        timing = Timing(time.perf_counter() - wall, cpu_seconds(own=False) - cpu, os.getloadavg())
        if process.returncode != 0:
            stderr.seek(0)
            raise Fault(_failure(what, process.returncode, stderr.read()))
    return peak / 2**20, timing


def memory_sweep(sizes: Sizes) -> dict[str, Any]:
    """Peak memory, wall and CPU time of ``escalation sweep`` of at least ``memory_runs`` runs."""
    design = _design(sizes.config, 1)
    replicates = max(1, math.ceil(sizes.memory_runs / design.n_points))
    with tempfile.TemporaryDirectory() as out:
        command = _command("sweep", str(sizes.config), "--out", out, "--replicates", str(replicates), "--workers", "2")
        rss, timing = peak_rss_mib([*command, "--quiet"], "escalation sweep")
    return {
        "memory_sweep": {
            "peak_rss_mib": round(rss, 1),
            **timing.figure(design.n_points * replicates, "runs", design.weeks),
        }
    }


def sensitivity(sizes: Sizes) -> dict[str, Any]:
    """``escalation sensitivity`` on the shipped config with 2 workers, in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        args = ("sensitivity", str(SENSITIVITY_CONFIG), "--out", out, "--workers", "2", "--quiet")
        command = _command(*args, *sizes.sensitivity_args)
        timing = timed(lambda: _run("escalation sensitivity", command), own=False)
    options = {"options": " ".join(sizes.sensitivity_args)} if sizes.sensitivity_args else {}
    return {"sensitivity": {"config": SENSITIVITY_CONFIG.name, **options, **timing.as_dict()}}


@dataclass(frozen=True)
class Measurement:
    """A named measurement: a function of the sizes returning its keys; ``quick`` if
    ``escalation bench --quick`` runs it."""

    name: str
    measure: Callable[[Sizes], dict[str, Any]]
    quick: bool


MEASUREMENTS = (
    Measurement("engines", engines, quick=True),
    Measurement("compiled_vs_numpy", compiled_vs_numpy, quick=True),
    Measurement("batch_run", batch_run, quick=False),
    Measurement("sweep_2w", sweep_2w, quick=True),
    Measurement("calibration", calibration, quick=True),
    Measurement("memory_sweep", memory_sweep, quick=False),
    Measurement("sensitivity", sensitivity, quick=False),
)
"""Every measurement, in the order run."""


def select(quick: bool = False, only: list[str] | None = None) -> list[Measurement]:
    """The measurements named in ``only`` (in :data:`MEASUREMENTS` order), else the quick ones
    with ``quick``, else all."""
    names = [m.name for m in MEASUREMENTS]
    unknown = [n for n in only or [] if n not in names]
    if unknown:
        raise UserError(f"no measurement named {', '.join(map(repr, unknown))}; choose from {', '.join(names)}")
    if only:
        return [m for m in MEASUREMENTS if m.name in only]
    return [m for m in MEASUREMENTS if m.quick or not quick]


def run_benchmarks(
    measurements: list[Measurement], sizes: Sizes, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run ``measurements`` at ``sizes`` and gather their keys (``progress`` is told each one's
    name and wall time as it finishes)."""
    out: dict[str, Any] = {
        "sizes": sizes.name,
        "measurements": [m.name for m in measurements],
        "design": sizes.config.name,
        "cpus": os.cpu_count(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    start, cpu = time.perf_counter(), cpu_seconds()
    for m in measurements:
        begun = time.perf_counter()
        out |= m.measure(sizes)
        if progress is not None:
            progress(f"{m.name}: {time.perf_counter() - begun:.1f} s (load {os.getloadavg()[0]:.2f})")
    out["total"] = {"wall_s": round(time.perf_counter() - start, 1), "cpu_s": round(cpu_seconds() - cpu, 1)}
    return out


def main(quick: bool = False, only: list[str] | None = None) -> int:
    """Print the benchmark's JSON (progress, one line per measurement, on standard error)."""
    measurements = select(quick, only)
    result = run_benchmarks(
        measurements, QUICK if quick else FULL, lambda line: print(f"bench: {line}", file=sys.stderr, flush=True)
    )
    print(json.dumps(result, indent=2))
    return 0
