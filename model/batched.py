"""The batched engine: the same model as :class:`model.model.EscalationModel`, with every run
of a block advanced together as numpy arrays.

It holds the state of ``n`` runs as arrays (one element per run), calls the same functions of
:mod:`model.rules` and :mod:`model.policies` in the same order as ``EscalationModel.step()``,
and draws the same counter-based random numbers per (seed, week, slot). Each run may have its
own parameter values, levers and seed, so a block can mix design points; a run's results do
not depend on which block it is in. Tests check run-by-run identity with the Mesa engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import rules
from .model import SLOT_ADVANCE, SLOT_COLLAPSE, SLOT_RUNG, SLOT_SANCTIONS, SLOT_TESTS, TRAJECTORY_COLUMNS
from .outcomes import OutcomeTally
from .params import TABLE, ParameterError, Params, check_constraints, lookup
from .policies import SCHEDULE_FIELDS, LeverSchedule, apply_sanctions_floor, forgone_exercise, held_exercise
from .rng import uniforms

_NUMERIC = [name for name, row in TABLE.items() if row.dtype in (float, int, bool)]


class ParamArrays:
    """Numeric parameters of ``n`` runs.

    Each attribute is a Python scalar when every run shares the value (cheaper, and exactly
    the same arithmetic) and an array of shape ``(n,)`` otherwise. Build it from design points
    (:meth:`from_points`) or from a base parameter set and arrays of varying values
    (:meth:`from_arrays`, for calibration's hundreds of thousands of draws).
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    @classmethod
    def from_points(cls, points: Sequence[Params], point_index: np.ndarray) -> "ParamArrays":
        """Run ``i`` takes the values of ``points[point_index[i]]``."""
        values = {}
        for name in _NUMERIC:
            column = [p[name] for p in points]
            first = column[0]
            values[name] = first if all(v == first for v in column) else np.asarray(column)[point_index]
        return cls(values)

    @classmethod
    def from_arrays(cls, base: Params, varying: dict[str, np.ndarray]) -> "ParamArrays":
        """``base`` with some numeric parameters given per run, each checked against the
        table's range and the cross-parameter constraints (all runs at once)."""
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
        check_constraints(values)
        return cls(values)


@dataclass
class BatchResult:
    """Outcomes (and optionally weekly trajectories) of a block of runs.

    ``outcomes`` maps each outcome column to an array over runs; ``trajectory`` (when asked
    for) maps each :data:`~model.model.TRAJECTORY_COLUMNS` name to an array (weeks, runs).
    """

    outcomes: dict[str, np.ndarray]
    trajectory: dict[str, np.ndarray] | None = None

    def outcomes_frame(self) -> pd.DataFrame:
        """Outcomes as a DataFrame, one row per run."""
        return pd.DataFrame(self.outcomes)

    def trajectory_frame(self, run_ids: Sequence[Any] | None = None) -> pd.DataFrame:
        """Weekly trajectories in the Mesa DataCollector's layout (``week`` then the series),
        stacked over runs with a leading ``run`` column."""
        if self.trajectory is None:
            raise ValueError("trajectories were not recorded: run with trajectories=True")
        weeks, n = self.trajectory["talks_stage"].shape
        ids = np.arange(n) if run_ids is None else np.asarray(run_ids)
        frame = {"run": np.repeat(ids, weeks), "week": np.tile(np.arange(1, weeks + 1, dtype=np.int64), n)}
        for column in TRAJECTORY_COLUMNS:
            frame[column] = self.trajectory[column].T.reshape(-1)
        return pd.DataFrame(frame)


def stack_schedules(schedules: Sequence[LeverSchedule], weeks: int) -> dict[str, np.ndarray]:
    """Lever schedules as arrays of shape (weeks, L), one column per schedule."""
    columns = [schedule.arrays(weeks) for schedule in schedules]
    return {field: np.stack([c[field] for c in columns], axis=1) for field in SCHEDULE_FIELDS}


class BatchedEngine:
    """State of ``n`` runs as arrays, advanced week by week exactly as the Mesa model does.

    Args:
        params: the runs' parameters (:class:`ParamArrays`).
        seeds: one seed per run.
        levers: lever schedules as arrays (weeks, L) per schedule field (:func:`stack_schedules`).
        lever_index: for each run, its column in ``levers`` (default: all runs use column 0).
    """

    def __init__(self, params: ParamArrays, seeds: Sequence[int] | np.ndarray, levers: dict[str, np.ndarray],
                 lever_index: Sequence[int] | np.ndarray | None = None) -> None:
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.n = n = len(self.seeds)
        columns = levers["forced_stage"].shape[1]
        self.lever_index = np.zeros(n, dtype=np.intp) if lever_index is None else np.asarray(lever_index, dtype=np.intp)
        if self.lever_index.shape != (n,) or self.lever_index.max(initial=0) >= columns:
            raise ValueError(f"need one lever column per seed ({n}) among {columns} schedules")
        self.single_schedule = columns == 1
        self.p = p = params
        self.levers = levers
        full = lambda value: np.full(n, value, dtype=float)  # noqa: E731
        # United States
        self.sanctions = full(p.sanctions_level)
        self.pending = np.zeros(n, dtype=bool)
        self.trust_us_dprk = full(p.trust_us_dprk)
        # South Korea
        self.alignment = full(p.initial_alignment)
        self.trust_rok_dprk = full(p.trust_rok_dprk)
        # North Korea
        self.pressure = np.zeros(n)
        self.stress = full(p.initial_stress)
        self.threat = full(p.initial_threat)
        self.reactance = np.zeros(n)
        self.progress = full(p.initial_progress)
        self.excitation = np.zeros(n)
        self.hazard = np.zeros(n)
        self.last_rung = np.full(n, p.initial_rung, dtype=np.int64)
        self.trust_dprk_us = full(p.trust_dprk_us)
        self.trust_dprk_rok = full(p.trust_dprk_rok)
        # China and Japan (tracked for every run, used where present)
        self.china_present = np.broadcast_to(np.asarray(p.include_china, dtype=bool), (n,))
        self.japan_present = np.broadcast_to(np.asarray(p.include_japan, dtype=bool), (n,))
        self.enforcement = full(p.china_enforcement)
        self.trust_china_dprk = full(p.trust_china_dprk)
        self.trust_japan_dprk = full(p.trust_japan_dprk)
        # Talks and records
        self.stage = np.zeros(n, dtype=np.int64)
        self.week_tests = np.zeros(n, dtype=np.int64)
        self.week_rung = np.zeros(n, dtype=np.int64)
        self.held = np.zeros(n)
        self.tally = OutcomeTally((n,))
        self.steps = 0

    def step(self) -> None:
        """One week for every run, in the order of ``EscalationModel.step()``."""
        self.steps += 1
        week = self.steps
        p = self.p
        u = uniforms(self.seeds, week)
        lv = self.week_levers(week)
        stage_before = self.stage
        pressure_first = lv["pressure_first"]

        # 1. Exercise held or forgone.
        held = held_exercise(lv["scheduled_exercise"], lv["exercise_policy"], stage_before, lv["exercise_scale"])
        forgone = forgone_exercise(lv["standard_exercise"], held)

        # 2. Sanctions packages.
        adopt_p = rules.sanctions_adoption_probability(p.sanctions_response_prob, p.japan_lobby_weight, self.japan_present)
        adopted = rules.package_adopted(self.pending, u[:, SLOT_SANCTIONS], adopt_p, lv["endogenous_sanctions"])
        packages = adopted + lv["announced_packages"]
        level = rules.escalate_sanctions(self.sanctions, packages, p.sanctions_escalation)
        self.sanctions = apply_sanctions_floor(level, lv["sanctions_floor"])

        # 3. China's enforcement; alliance alignment.
        self.enforcement = np.where(
            self.china_present,
            rules.china_enforcement(p.china_enforcement, self.trust_china_dprk, p.trust_china_dprk, p.china_trust_sensitivity),
            p.china_enforcement,
        )
        mediation = lv["rok_mediation"]
        self.alignment = rules.alliance_alignment(self.alignment, mediation, pressure_first, p.alignment_rate, p.alignment_gap)

        # 4. DPRK pressure, stress, threat, reactance; tests.
        self.pressure = rules.effective_sanctions(self.sanctions, self.enforcement, p.china_trade_share, self.alignment, p.alignment_effect)
        self.stress = rules.accumulate_stress(self.stress, self.pressure, p.stress_gain, p.stress_recovery)
        self.threat = rules.perceived_threat(self.threat, held, p.threat_gain, p.threat_decay)
        self.reactance = rules.reactance(self.reactance, packages, p.reactance_decay, p.reactance_per_package)
        baseline = rules.baseline_test_rate(
            p.test_baseline_rate, self.threat, self.reactance, self.progress, stage_before >= rules.INTER_KOREAN,
            p.threat_hazard_weight, p.reactance_hazard_weight, p.progress_hazard_weight, p.talks_hazard_weight,
        )
        self.hazard = baseline + self.excitation
        tests = rules.poisson_count(self.hazard, u[:, SLOT_TESTS])
        rung = rules.next_rung(self.last_rung, tests, u[:, SLOT_RUNG], p.ladder_up_prob, p.ladder_down_prob)
        self.excitation = rules.self_excitation(self.excitation, tests, p.hawkes_alpha, p.hawkes_beta)
        self.progress = rules.programme_progress(self.progress, tests, rung, p.progress_per_test)
        self.last_rung = rung
        self.pending = rules.package_pending(self.pending, adopted, tests, rung, p.sanctions_trigger_rung)

        # 5. Trust.
        test_llr = rules.test_signal(tests, rung, p.signal_test_llr, p.signal_quiet_llr)
        self.trust_us_dprk = rules.update_trust(self.trust_us_dprk, test_llr)
        self.trust_rok_dprk = rules.update_trust(self.trust_rok_dprk, test_llr)
        self.trust_china_dprk = rules.update_trust(self.trust_china_dprk, test_llr)
        self.trust_japan_dprk = rules.update_trust(self.trust_japan_dprk, test_llr)
        alliance_llr = rules.alliance_signal(held, forgone, packages, p.signal_exercise_llr, p.signal_suspension_llr, p.signal_sanctions_llr)
        self.trust_dprk_us = rules.update_trust(self.trust_dprk_us, alliance_llr)
        self.trust_dprk_rok = rules.update_trust(self.trust_dprk_rok, alliance_llr)

        # 6. Talks.
        dprk_willing = rules.logit_choice(rules.dprk_talk_utility(
            p.dprk_talk_base, self.stress, self.trust_dprk_us, self.threat, self.progress, pressure_first,
            p.dprk_talk_stress_weight, p.dprk_talk_trust_weight, p.dprk_talk_threat_weight,
            p.dprk_talk_progress_weight, p.precondition_cost,
        ), p.logit_precision)
        us_willing = rules.logit_choice(rules.us_talk_utility(
            p.us_talk_base, self.trust_us_dprk, pressure_first, p.us_talk_trust_weight, p.pressure_first_penalty,
        ), p.logit_precision)
        rates = rules.talks_rates(
            mediation, dprk_willing, us_willing, rules.alignment_factor(self.alignment, p.alignment_effect),
            self.trust_dprk_us, self.trust_us_dprk,
            p.inter_korean_rate, p.direct_talks_rate, p.us_dprk_rate, p.negotiation_rate,
        )
        collapse = rules.collapse_hazard(p.collapse_base, tests, held, p.collapse_per_test, p.collapse_per_exercise)
        stage, collapsed = rules.next_talks_stage(stage_before, u[:, SLOT_COLLAPSE], u[:, SLOT_ADVANCE], collapse, *rates)
        self.stage = np.maximum(stage, lv["forced_stage"])

        # 7. Record.
        self.week_tests, self.week_rung, self.held = tests, np.where(tests > 0, rung, 0), held
        self.tally.record(week, stage_before, self.stage, collapsed, tests, rung)

    def week_levers(self, week: int) -> dict[str, Any]:
        """Each run's levers in ``week``: scalars when the block shares one schedule."""
        if self.single_schedule:
            return {k: v[week - 1, 0] for k, v in self.levers.items()}
        return {k: v[week - 1][self.lever_index] for k, v in self.levers.items()}

    def run(self, weeks: int, trajectories: bool = False) -> BatchResult:
        """Advance ``weeks`` weeks and return the outcomes (and trajectories if asked for)."""
        if self.levers["forced_stage"].shape[0] < weeks:
            raise ValueError(f"the lever schedule covers {self.levers['forced_stage'].shape[0]} weeks, not {weeks}")
        trajectory = {c: np.empty((weeks, self.n)) for c in TRAJECTORY_COLUMNS} if trajectories else None
        for w in range(weeks):
            self.step()
            if trajectory is not None:
                for column, values in self.series().items():
                    trajectory[column][w] = values
        if trajectory is not None:
            for column in ("talks_stage", "tests", "test_rung"):
                trajectory[column] = trajectory[column].astype(np.int64)
        return BatchResult(self.tally.result(self.final_state()), trajectory)

    def series(self) -> dict[str, np.ndarray]:
        """This week's values of the trajectory columns."""
        return {
            "talks_stage": self.stage,
            "tests": self.week_tests,
            "test_rung": self.week_rung,
            "exercise_intensity": self.held,
            "sanctions_level": self.sanctions,
            "effective_pressure": self.pressure,
            "china_enforcement": self.enforcement,
            "dprk_stress": self.stress,
            "dprk_threat": self.threat,
            "test_hazard": self.hazard,
            "trust_us_dprk": self.trust_us_dprk,
            "trust_dprk_us": self.trust_dprk_us,
            "alignment": self.alignment,
        }

    def final_state(self) -> dict[str, np.ndarray]:
        """The ``final_*`` outcome values of every run."""
        return {
            "final_sanctions_level": self.sanctions,
            "final_dprk_stress": self.stress,
            "final_dprk_threat": self.threat,
            "final_alignment": self.alignment,
            "final_trust_us_dprk": self.trust_us_dprk,
            "final_trust_dprk_us": self.trust_dprk_us,
            "final_trust_rok_dprk": self.trust_rok_dprk,
            "final_trust_china_dprk": np.where(self.china_present, self.trust_china_dprk, np.nan),
            "final_trust_japan_dprk": np.where(self.japan_present, self.trust_japan_dprk, np.nan),
        }


def simulate(params: Sequence[Params], seeds: Sequence[int] | np.ndarray, weeks: int,
             levers: Sequence[LeverSchedule] | None = None, trajectories: bool = False) -> BatchResult:
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
    schedules = [levers[first_run[i]] if levers is not None else LeverSchedule.from_params(points[i])
                 for i in range(len(points))]
    return simulate_points(points, point_index, seeds, weeks, schedules, trajectories)


def simulate_points(points: Sequence[Params], point_index: Sequence[int] | np.ndarray,
                    seeds: Sequence[int] | np.ndarray, weeks: int,
                    schedules: Sequence[LeverSchedule] | None = None, trajectories: bool = False) -> BatchResult:
    """Run one run per seed; run ``i`` uses design point ``points[point_index[i]]`` (and its
    lever schedule ``schedules[point_index[i]]``). The efficient form for sweeps: parameters
    are stored per point, and schedules that are the same object are computed once."""
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
    engine = BatchedEngine(ParamArrays.from_points(points, point_index), seeds,
                           stack_schedules(unique, weeks), point_column[point_index])
    return engine.run(weeks, trajectories=trajectories)


def simulate_arrays(base: Params, varying: dict[str, np.ndarray], seeds: Sequence[int] | np.ndarray, weeks: int,
                    schedule: LeverSchedule | None = None, trajectories: bool = False) -> BatchResult:
    """Run one run per seed with parameters ``base`` except ``varying`` (one value per run)
    and one shared lever schedule: the form calibration uses for many parameter draws."""
    params = ParamArrays.from_arrays(base, varying)
    schedule = schedule if schedule is not None else LeverSchedule.from_params(base)
    return BatchedEngine(params, seeds, stack_schedules([schedule], weeks)).run(weeks, trajectories=trajectories)
