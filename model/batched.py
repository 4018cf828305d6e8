"""The batched engine: the same model as :class:`model.model.EscalationModel`, with every run
of a block advanced together as numpy arrays.

Its actors are the classes of :mod:`model.actors` holding arrays over the runs (one element per
run) instead of one run's scalars; each week it runs :func:`model.week.run_week`, the schedule
``EscalationModel.step()`` runs, on the same counter-based random numbers per (seed, week,
slot). Each run may have its own parameter values, levers and seed, so a block can mix design
points; a run's results do not depend on which block it is in. Tests check run-by-run
identity with the Mesa engine, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import rules, week
from .actors import ChinaSteps, DPRKSteps, JapanSteps, ROKSteps, USSteps
from .backend import resolve
from .outcomes import OutcomeTally
from .params import TABLE, ParameterError, Params, lookup
from .policies import SCHEDULE_FIELDS, LeverSchedule
from .rng import uniforms

_NUMERIC = [name for name, row in TABLE.items() if row.dtype in (float, int, bool)]
_DTYPES = {name: TABLE[name].dtype for name in _NUMERIC}


class ParamArrays:
    """Numeric parameters of ``n`` runs.

    Each attribute is a Python scalar when every run shares the value (cheaper, and exactly
    the same arithmetic) and an array of shape ``(n,)`` otherwise. Build it from design points
    (:meth:`from_points`) or from a base parameter set and arrays of varying values
    (:meth:`from_arrays`, for calibration's hundreds of thousands of draws).
    """

    def __init__(self, values: dict[str, Any], by_point: tuple[dict[str, Any], int, np.ndarray] | None = None) -> None:
        self.__dict__.update(values)
        # (each parameter's value per design point, the number of points, each run's point), when
        # built from points: the compiled week then holds one parameter record per point, not per run
        self._by_point = by_point

    if TYPE_CHECKING:  # every parameter of the table is an attribute, set in __init__

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def from_points(cls, points: Sequence[Params], point_index: np.ndarray) -> ParamArrays:
        """Run ``i`` takes the values of ``points[point_index[i]]``."""
        values, per_point = {}, {}
        for name in _NUMERIC:
            column = [p[name] for p in points]
            first = column[0]
            shared = all(v == first for v in column)
            per_point[name] = first if shared else np.asarray(column)
            values[name] = first if shared else per_point[name][point_index]
        return cls(values, (per_point, len(points), np.asarray(point_index, dtype=np.intp)))

    @classmethod
    def from_arrays(cls, base: Params, varying: dict[str, np.ndarray]) -> ParamArrays:
        """``base`` with some numeric parameters given per run, each checked against the
        table's range (all runs at once; the table has no cross-parameter constraints)."""
        values = {name: base[name] for name in _NUMERIC}
        for name, array in varying.items():
            row = lookup(name)
            if name not in values:
                raise ParameterError(f"{name} is not numeric: it cannot vary per run")
            array = np.asarray(array, dtype=float if row.dtype is float else np.int64)
            outside = (array < row.low) | (array > row.high)
            if outside.any():
                raise ParameterError(f"{name}={array[outside][0]} is out of range: allowed {row.allowed} ({row.unit})")
            values[name] = array
        return cls(values)


Trajectories = bool | Collection[str]
"""Which weekly series a run keeps: none (False), all of :data:`model.week.SERIES` (True), or those named."""


def _series_asked(trajectories: Trajectories) -> tuple[str, ...]:
    """The series names ``trajectories`` asks for, in :data:`model.week.SERIES` order."""
    if isinstance(trajectories, bool):
        return tuple(week.SERIES) if trajectories else ()
    if isinstance(trajectories, str):  # one name, not its letters
        trajectories = (trajectories,)
    unknown = sorted(set(trajectories) - set(week.SERIES))
    if unknown:
        raise ValueError(f"no weekly series named {', '.join(unknown)}; the series are {', '.join(week.SERIES)}")
    return tuple(c for c in week.SERIES if c in set(trajectories))


@dataclass
class BatchResult:
    """Outcomes (and optionally weekly trajectories) of a block of runs.

    ``outcomes`` maps each outcome column to an array over runs; ``trajectory`` (when asked
    for) maps each series of :data:`model.week.SERIES` asked for to an array (weeks, runs).
    """

    outcomes: dict[str, np.ndarray]
    trajectory: dict[str, np.ndarray] | None = None
    state: dict[str, np.ndarray] | None = None  # every run's whole state at the end (when asked for)

    def outcomes_frame(self) -> pd.DataFrame:
        """Outcomes as a DataFrame, one row per run."""
        return pd.DataFrame(self.outcomes)

    def trajectory_frame(self, run_ids: Sequence[Any] | None = None) -> pd.DataFrame:
        """Weekly trajectories in the Mesa DataCollector's layout (``week`` then the series),
        stacked over runs with a leading ``run`` column."""
        if self.trajectory is None:
            raise ValueError("trajectories were not recorded: run with trajectories=True")
        weeks, n = next(iter(self.trajectory.values())).shape
        ids = np.arange(n) if run_ids is None else np.asarray(run_ids)
        frame = {"run": np.repeat(ids, weeks), "week": np.tile(np.arange(1, weeks + 1, dtype=np.int64), n)}
        for column in week.SERIES:
            if column in self.trajectory:
                frame[column] = self.trajectory[column].T.reshape(-1)
        return pd.DataFrame(frame)


def stack_schedules(schedules: Sequence[LeverSchedule], weeks: int) -> dict[str, np.ndarray]:
    """Lever schedules as arrays of shape (weeks, L), one column per schedule."""
    columns = [schedule.arrays(weeks) for schedule in schedules]
    return {field: np.stack([c[field] for c in columns], axis=1) for field in SCHEDULE_FIELDS}


class Replicates:
    """An actor's state over the runs of a block: the actor's class from :mod:`model.actors`,
    holding arrays of shape ``(n,)`` where a Mesa agent holds scalars."""

    start: Callable[..., None]  # from the actor's class in model.actors

    def __init__(self, params: ParamArrays, full, present=True) -> None:
        self.params = params
        self.present = present
        self.start(params, full)


class USReplicates(Replicates, USSteps):
    """The United States in every run."""


class ROKReplicates(Replicates, ROKSteps):
    """South Korea in every run."""


class DPRKReplicates(Replicates, DPRKSteps):
    """North Korea in every run."""


class ChinaReplicates(Replicates, ChinaSteps):
    """China, tracked in every run and present where ``include_china``."""


class JapanReplicates(Replicates, JapanSteps):
    """Japan, tracked in every run and present where ``include_japan``."""


class BatchedEngine:
    """State of ``n`` runs as arrays, advanced week by week by the Mesa model's schedule.

    Args:
        params: the runs' parameters (:class:`ParamArrays`).
        seeds: one seed per run.
        levers: lever schedules as arrays (weeks, L) per schedule field (:func:`stack_schedules`).
        lever_index: for each run, its column in ``levers`` (default: all runs use column 0).
        start: every run's whole state to start from (:meth:`state` of an engine that ran the
            same runs before), instead of the week-0 state the parameters set: a run continued.
        first_week: the week of the run the first step is (default 1). A continued run passes
            the weeks already run plus one, so it draws the random numbers it would have drawn
            had it run on in one piece: a run continued is the same run.
        backend: ``"compiled"`` (the compiled week of :mod:`model.kernel`, every run's weeks in
            machine code) or ``"numpy"`` (:func:`model.week.run_week` on arrays); default
            :func:`model.backend.resolve`'s. The Mesa engine on the same backend gives the same bits.
    """

    talks_stage: np.ndarray  # the world's state (model.week.WORLD_STATE), set by model.week.begin

    def __init__(
        self,
        params: ParamArrays,
        seeds: Sequence[int] | np.ndarray,
        levers: dict[str, np.ndarray],
        lever_index: Sequence[int] | np.ndarray | None = None,
        start: dict[str, np.ndarray] | None = None,
        first_week: int = 1,
        backend: str | None = None,
    ) -> None:
        self.backend = resolve(backend)
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.n = n = len(self.seeds)
        columns = levers["forced_event"].shape[1]
        self.lever_index = np.zeros(n, dtype=np.intp) if lever_index is None else np.asarray(lever_index, dtype=np.intp)
        if self.lever_index.shape != (n,) or self.lever_index.max(initial=0) >= columns:
            raise ValueError(f"need one lever column per seed ({n}) among {columns} schedules")
        self.single_schedule = columns == 1
        self.params = p = params
        self.levers = levers

        def full(value, dtype=np.float64):
            return np.full(n, value, dtype=dtype)

        self.us = USReplicates(p, full)
        self.rok = ROKReplicates(p, full)
        self.dprk = DPRKReplicates(p, full)
        self.china = ChinaReplicates(p, full, present=full(p.include_china, np.bool_))
        self.japan = JapanReplicates(p, full, present=full(p.include_japan, np.bool_))
        week.begin(self, full, uniforms(self.seeds, 0).T)
        if start is not None:
            self.restore(start)
        if first_week < 1:
            raise ValueError(f"first_week must be at least 1, got {first_week}")
        self.week_offset = first_week - 1
        self.tally = OutcomeTally(
            (n,),
            initial_stage=self.talks_stage if start is not None else p.initial_stage,
            initial_moratorium=self.dprk.moratorium if start is not None else p.initial_moratorium,
        )
        self.steps = 0
        self._param_records: np.ndarray | None = None
        self._lever_records: np.ndarray | None = None

    rules = rules  # the numpy path's rules (model.week.run_week calls world.rules)

    def _check_covered(self, weeks: int) -> None:
        """Refuse to run past the end of the lever schedule (:meth:`step` and :meth:`run` ask
        before either backend runs: the compiled loop checks no bounds)."""
        covered = self.levers["forced_event"].shape[0]
        if covered < self.steps + weeks:
            raise ValueError(
                f"the lever schedule covers {covered} weeks, not {self.steps + weeks}"
                + (f" ({self.steps} run, {weeks} more)" if self.steps else "")
            )

    def step(self) -> None:
        """One week for every run (:func:`model.week.run_week`, or the compiled week)."""
        self._check_covered(1)
        if self.backend == "compiled":
            self._run_compiled(1)
            return
        self.steps += 1
        week.run_week(self, uniforms(self.seeds, self.week_offset + self.steps).T, self.week_levers(self.steps))

    def _run_compiled(self, weeks: int, series: tuple[str, ...] = ()) -> dict[str, np.ndarray] | None:
        """Advance ``weeks`` weeks with the compiled week (:func:`model.kernel.run_block`): the
        state, parameters and levers as records, the tally's arrays updated in place; returns the
        weekly series named in ``series`` (each (weeks, runs)) when any is asked for. The loop
        records the integer and the float series each only when one of them is asked for."""
        from . import kernel

        if self._param_records is None or self._lever_records is None:
            by_point = getattr(self.params, "_by_point", None)
            if by_point is not None:  # one record per design point
                values, points, self._param_index = by_point
                self._param_records = kernel.param_records(SimpleNamespace(**values), _NUMERIC, _DTYPES, points)
            else:
                self._param_index = np.arange(self.n, dtype=np.intp)
                self._param_records = kernel.param_records(self.params, _NUMERIC, _DTYPES, self.n)
            self._lever_records = kernel.lever_records(self.levers)
        state = kernel.pack_state(self, self.n)
        t = self.tally
        counts = np.stack([t.collapses, t.suspensions, t.summits, t.under_moratorium, t.refused]).astype(np.int64)
        arrays = {
            name: np.ascontiguousarray(getattr(t, name))
            for name in (
                "first_weeks",
                "failure_week",
                "first_test_after_failure",
                "talks_began",
                "talks_collapsed",
                "by_rung",
                "highest_rung",
                "steps",
            )
        }
        relief = np.array(np.broadcast_to(t.relief, (self.n,)), dtype=float)
        int_weeks = weeks if set(series) & set(kernel.INT_SERIES) else 0
        float_weeks = weeks if set(series) & set(kernel.FLOAT_SERIES) else 0
        ints = np.empty((len(kernel.INT_SERIES), self.n, int_weeks), dtype=np.int64)
        floats = np.empty((len(kernel.FLOAT_SERIES), self.n, float_weeks))
        kernel.run_block(
            self._param_records,
            self._param_index,
            state,
            self._lever_records[self.steps : self.steps + weeks],
            self.lever_index,
            self.seeds,
            self.week_offset + self.steps,
            self.steps,
            weeks,
            arrays["first_weeks"],
            arrays["failure_week"],
            arrays["first_test_after_failure"],
            arrays["talks_began"],
            arrays["talks_collapsed"],
            counts,
            arrays["by_rung"],
            arrays["highest_rung"],
            arrays["steps"],
            relief,
            ints,
            floats,
        )
        kernel.unpack_state(state, self)
        for name, value in arrays.items():
            setattr(t, name, value)
        t.collapses, t.suspensions, t.summits, t.under_moratorium, t.refused = counts
        t.relief = relief
        self.steps += weeks
        if not series:
            return None
        # (weeks, runs) views of the rows the loop wrote run by run: no copy
        views = dict(zip(kernel.INT_SERIES, ints.transpose(0, 2, 1), strict=True))
        views.update(zip(kernel.FLOAT_SERIES, floats.transpose(0, 2, 1), strict=True))
        return {column: views[column] for column in series}

    def _holders(self):
        """``(prefix, object, names)`` for the world and each actor: whose attributes are state."""
        yield "", self, week.WORLD_STATE
        for name in week.ACTORS:
            actor = getattr(self, name)
            yield f"{name}.", actor, [k for k in vars(actor) if k not in ("params", "present")]

    def state(self) -> dict[str, np.ndarray]:
        """Every run's whole state now: each state variable of the world and of every actor
        (trust as one entry per other state), as an array with the runs first. Pass it as
        ``start`` to continue these runs in another engine (:class:`BatchedEngine`)."""
        out: dict[str, np.ndarray] = {}
        for prefix, holder, names in self._holders():
            for key in names:
                value = getattr(holder, key)
                if isinstance(value, dict):
                    for other, v in value.items():
                        out[f"{prefix}{key}.{other}"] = self._runs(v)
                else:
                    out[f"{prefix}{key}"] = self._runs(value)
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Set every run's whole state from :meth:`state` (of as many runs); a missing or
        unknown variable, or one of another shape, is an error (the state would be partial)."""
        expected = set()
        for prefix, holder, names in self._holders():
            for key in names:
                value = getattr(holder, key)
                if isinstance(value, dict):
                    for other in value:
                        expected.add(f"{prefix}{key}.{other}")
                        value[other] = self._take(state, f"{prefix}{key}.{other}", value[other])
                else:
                    expected.add(f"{prefix}{key}")
                    setattr(holder, key, self._take(state, f"{prefix}{key}", value))
        unknown = set(state) - expected
        if unknown:
            raise ValueError(f"the state has variables this engine does not: {', '.join(sorted(unknown)[:3])}")

    def _runs(self, value) -> np.ndarray:
        array = np.asarray(value)
        return np.array(np.broadcast_to(array, (self.n, *array.shape[1:]) if array.ndim else (self.n,)))

    def _take(self, state: dict[str, np.ndarray], key: str, current) -> np.ndarray:
        if key not in state:
            raise ValueError(f"the state to start from lacks {key}")
        value = np.asarray(state[key])
        like = self._runs(current)
        if value.shape != like.shape:
            raise ValueError(f"the state's {key} has shape {value.shape}, not {like.shape}")
        return value.astype(like.dtype, copy=True)

    def week_levers(self, w: int) -> dict[str, Any]:
        """Each run's levers in week ``w``: scalars when the block shares one schedule."""
        if self.single_schedule:
            return {k: v[w - 1, 0] for k, v in self.levers.items()}
        return {k: v[w - 1][self.lever_index] for k, v in self.levers.items()}

    def run(self, weeks: int, trajectories: Trajectories = False, keep_state: bool = False) -> BatchResult:
        """Advance ``weeks`` weeks and return the outcomes (and the trajectories, and every
        run's whole state at the end, if asked for). ``trajectories``: True for every series of
        :data:`model.week.SERIES`, or the names of the series to keep (fewer series, less memory
        and time: calibration keeps the few its summaries read)."""
        self._check_covered(weeks)
        series = _series_asked(trajectories)
        trajectory: dict[str, np.ndarray] | None = None
        if self.backend == "compiled":
            trajectory = self._run_compiled(weeks, series)
        else:
            if series:
                trajectory = {c: np.empty((weeks, self.n), dtype=week.SERIES[c]) for c in series}
            for w in range(weeks):
                self.step()
                if trajectory is not None:
                    for column, values in week.series(self).items():
                        if column in trajectory:
                            trajectory[column][w] = values
        return BatchResult(
            self.tally.result(week.final_state(self)),
            trajectory,
            self.state() if keep_state else None,
        )

    def quantity(self, name: str) -> np.ndarray:
        """The current value of a quantity of :data:`model.week.QUANTITIES` in every run."""
        return np.broadcast_to(week.QUANTITIES[name](self), (self.n,))


def simulate(
    params: Sequence[Params],
    seeds: Sequence[int] | np.ndarray,
    weeks: int,
    levers: Sequence[LeverSchedule] | None = None,
    trajectories: Trajectories = False,
    backend: str | None = None,
) -> BatchResult:
    """Run ``len(params)`` runs of ``weeks`` weeks together; run ``i`` uses ``params[i]``,
    ``seeds[i]`` and (optionally) ``levers[i]``.

    Equivalent, run by run, to ``EscalationModel(params[i], rng=seeds[i]).run(weeks)``. Runs
    with equal parameters (and the same lever schedule object) share one design point.
    """
    keys = [(q, id(levers[i]) if levers is not None else None) for i, q in enumerate(params)]
    index_of: dict[Any, int] = {}
    point_index = np.fromiter((index_of.setdefault(k, len(index_of)) for k in keys), dtype=np.intp, count=len(keys))
    first_run = {i: run for run, i in reversed(list(enumerate(point_index.tolist())))}
    points = [params[first_run[i]] for i in range(len(index_of))]
    schedules = [
        levers[first_run[i]] if levers is not None else LeverSchedule.from_params(points[i]) for i in range(len(points))
    ]
    return simulate_points(points, point_index, seeds, weeks, schedules, trajectories, backend=backend)


def simulate_points(
    points: Sequence[Params],
    point_index: Sequence[int] | np.ndarray,
    seeds: Sequence[int] | np.ndarray,
    weeks: int,
    schedules: Sequence[LeverSchedule] | None = None,
    trajectories: Trajectories = False,
    start: dict[str, np.ndarray] | None = None,
    first_week: int = 1,
    keep_state: bool = False,
    backend: str | None = None,
) -> BatchResult:
    """Run one run per seed; run ``i`` uses design point ``points[point_index[i]]`` (and its
    lever schedule ``schedules[point_index[i]]``). The efficient form for sweeps: parameters
    are stored per point, and schedules that are the same object are computed once.
    ``start``, ``first_week`` and ``keep_state`` continue runs, and ``backend`` chooses the
    path (see :class:`BatchedEngine`)."""
    if schedules is None:
        schedules = [LeverSchedule.from_params(q) for q in points]
    point_index = np.asarray(point_index, dtype=np.intp)
    column_of: dict[int, int] = {}
    unique: list[LeverSchedule] = []
    for schedule in schedules:
        if id(schedule) not in column_of:
            column_of[id(schedule)] = len(unique)
            unique.append(schedule)
    point_column = np.array([column_of[id(s)] for s in schedules], dtype=np.intp)
    engine = BatchedEngine(
        ParamArrays.from_points(points, point_index),
        seeds,
        stack_schedules(unique, weeks),
        point_column[point_index],
        start=start,
        first_week=first_week,
        backend=backend,
    )
    return engine.run(weeks, trajectories=trajectories, keep_state=keep_state)


def simulate_arrays(
    base: Params,
    varying: dict[str, np.ndarray],
    seeds: Sequence[int] | np.ndarray,
    weeks: int,
    schedule: LeverSchedule | None = None,
    trajectories: Trajectories = False,
    backend: str | None = None,
) -> BatchResult:
    """Run one run per seed with parameters ``base`` except ``varying`` (one value per run)
    and one shared lever schedule: the form calibration uses for many parameter draws."""
    params = ParamArrays.from_arrays(base, varying)
    schedule = schedule if schedule is not None else LeverSchedule.from_params(base)
    engine = BatchedEngine(params, seeds, stack_schedules([schedule], weeks), backend=backend)
    return engine.run(weeks, trajectories=trajectories)
