"""The week, written once: the order of the week's steps, the state at week 0 and at the end,
the weekly series, and the decision slots of the random numbers.

Both engines run :func:`run_week` on a *world*: the Mesa model (:class:`model.model.EscalationModel`,
its agents holding one run's state) and the batched engine (:class:`model.batched.BatchedEngine`,
the same actors holding arrays over replicates). A world has the actors ``us``, ``rok``,
``dprk``, ``china``, ``japan`` (:mod:`model.actors`; an optional actor the Mesa engine leaves
out is ``None``, the batched engine masks it per run with ``present``), ``params``, ``steps``
(the current week, 1-based), the talks stage and the week's records, and ``tally`` (an
:class:`~model.outcomes.OutcomeTally`).

Adding a mechanism is one rule in :mod:`model.rules`, called from one place here or from an
actor's step in :mod:`model.actors`; a new state variable is one line in the actor's
``start``; a new weekly series or ``final_*`` outcome is one line in :data:`QUANTITIES` and
:data:`SERIES` or :data:`FINAL_STATE`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import rules
from .actors import DPRK, ROK, US, Full
from .policies import forgone_exercise, held_exercise

# Decision slots: which of the week's uniforms each random decision uses. Every week draws
# all slots whatever happens, so runs under different policies share their random numbers.
SLOT_TESTS, SLOT_RUNG, SLOT_SANCTIONS, SLOT_COLLAPSE, SLOT_ADVANCE = range(5)


def begin(world, full: Full) -> None:
    """The world's own state at week 0 (docs/ODD.md section 5): no talks, empty records of the
    week. (Each actor sets its own state in :meth:`~model.actors.Actor.start` when the engine
    creates it.) ``full(value, dtype)`` gives a value in the engine's form."""
    p = world.params
    world.talks_stage = full(rules.NO_TALKS, np.int64)
    world.week_tests = full(0, np.int64)
    world.week_rung = full(0, np.int64)
    world.exercise_intensity = full(0.0)
    world.enforcement = full(p.china_enforcement)


def run_week(world, u, levers) -> None:
    """One week, in the order of the ODD schedule (docs/ODD.md section 3).

    ``u[slot]`` is the week's uniform for a decision slot and ``levers`` the week's levers
    (:meth:`model.policies.LeverSchedule.week`): scalars for one run, arrays over runs for many.
    """
    p = world.params
    us, rok, dprk, china, japan = world.us, world.rok, world.dprk, world.china, world.japan
    stage_before = world.talks_stage
    pressure_first = levers["pressure_first"]

    # 1. The alliance holds (or forgoes) the week's exercise under its exercise policy.
    held = held_exercise(levers["scheduled_exercise"], levers["exercise_policy"], stage_before, levers["exercise_scale"])
    forgone = forgone_exercise(levers["standard_exercise"], held)

    # 2. The US adopts pending or announced sanctions packages (Japan lobbying shortens the lag).
    packages = us.decide_sanctions(u[SLOT_SANCTIONS], levers, japan.present if japan is not None else False)

    # 3. China sets its enforcement; the alliance (re)aligns.
    enforcement = china.enforce() if china is not None else p.china_enforcement
    rok.align(pressure_first, levers["rok_mediation"])

    # 4. The DPRK feels pressure and threat, then tests (or not); a major test starts a package.
    dprk.feel_pressure(us.sanctions, enforcement, rok.alignment, held, packages)
    tests, rung = dprk.test(u[SLOT_TESTS], u[SLOT_RUNG], stage_before >= rules.INTER_KOREAN)
    us.note_tests(tests, rung)

    # 5. Everyone reads the week's signals and updates trust (Kydd).
    test_llr = rules.test_signal(tests, rung, p.signal_test_llr, p.signal_quiet_llr)
    for observer in (us, rok, china, japan):
        if observer is not None:
            observer.observe(DPRK, test_llr)
    alliance_llr = rules.alliance_signal(
        held, forgone, packages, p.signal_exercise_llr, p.signal_suspension_llr, p.signal_sanctions_llr,
    )
    dprk.observe(US, alliance_llr)
    dprk.observe(ROK, alliance_llr)

    # 6. Talks advance, stall or collapse.
    stage, collapsed = advance_talks(world, u[SLOT_COLLAPSE], u[SLOT_ADVANCE], tests, held, pressure_first)
    world.talks_stage = np.maximum(stage, levers["forced_stage"])

    # 7. Record the week.
    world.week_tests, world.week_rung = tests, rules.where(tests > 0, rung, 0)
    world.exercise_intensity, world.enforcement = held, enforcement
    world.tally.record(world.steps, stage_before, world.talks_stage, collapsed, tests, rung)


def advance_talks(world, u_collapse, u_advance, tests, held, pressure_first):
    """The talks process of the week: both sides' willingness (logit), the transition rates,
    and the stage transition; returns ``(stage, collapsed)``."""
    p, us, rok, dprk = world.params, world.us, world.rok, world.dprk
    rates = rules.talks_rates(
        rok.mediation, dprk.willingness_to_talk(pressure_first), us.willingness_to_talk(pressure_first),
        rules.alignment_factor(rok.alignment, p.alignment_effect),
        dprk.trust[US], us.trust[DPRK],
        p.inter_korean_rate, p.direct_talks_rate, p.us_dprk_rate, p.negotiation_rate,
    )
    collapse = rules.collapse_hazard(p.collapse_base, tests, held, p.collapse_per_test, p.collapse_per_exercise)
    return rules.next_talks_stage(world.talks_stage, u_collapse, u_advance, collapse, *rates)


def _of(actor_name: str, read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A quantity of an optional actor: NaN in runs without it."""
    def quantity(world):
        actor = getattr(world, actor_name)
        return np.nan if actor is None else rules.where(actor.present, read(actor), np.nan)
    return quantity


QUANTITIES: dict[str, Callable[[Any], Any]] = {
    # the week's records
    "talks_stage": lambda w: w.talks_stage,
    "tests": lambda w: w.week_tests,
    "test_rung": lambda w: w.week_rung,
    "exercise_intensity": lambda w: w.exercise_intensity,
    "enforcement": lambda w: w.enforcement,
    # the actors' state
    "sanctions": lambda w: w.us.sanctions,
    "trust_us_in_dprk": lambda w: w.us.trust[DPRK],
    "alignment": lambda w: w.rok.alignment,
    "trust_rok_in_dprk": lambda w: w.rok.trust[DPRK],
    "effective_pressure": lambda w: w.dprk.pressure,
    "dprk_stress": lambda w: w.dprk.stress,
    "dprk_threat": lambda w: w.dprk.threat,
    "dprk_progress": lambda w: w.dprk.progress,
    "test_hazard": lambda w: w.dprk.hazard,
    "trust_dprk_in_us": lambda w: w.dprk.trust[US],
    "trust_dprk_in_rok": lambda w: w.dprk.trust[ROK],
    "trust_china_in_dprk": _of("china", lambda a: a.trust[DPRK]),
    "trust_japan_in_dprk": _of("japan", lambda a: a.trust[DPRK]),
}
"""Every quantity a user can read off a world, by name: ``QUANTITIES[name](world)``."""

SERIES: dict[str, type] = {
    "talks_stage": np.int64,
    "tests": np.int64,
    "test_rung": np.int64,
    "exercise_intensity": np.float64,
    "sanctions": np.float64,
    "effective_pressure": np.float64,
    "enforcement": np.float64,
    "dprk_stress": np.float64,
    "dprk_threat": np.float64,
    "test_hazard": np.float64,
    "trust_us_in_dprk": np.float64,
    "trust_dprk_in_us": np.float64,
    "alignment": np.float64,
}
"""The weekly series (quantities collected every week), in order, with their dtypes. No name
is a parameter's: a Mesa ``batch_run`` row holds both, and a series must not overwrite an input."""

FINAL_STATE: dict[str, str] = {
    "final_sanctions_level": "sanctions",
    "final_dprk_stress": "dprk_stress",
    "final_dprk_threat": "dprk_threat",
    "final_alignment": "alignment",
    "final_trust_us_dprk": "trust_us_in_dprk",
    "final_trust_dprk_us": "trust_dprk_in_us",
    "final_trust_rok_dprk": "trust_rok_in_dprk",
    "final_trust_china_dprk": "trust_china_in_dprk",  # NaN when China is not in the model
    "final_trust_japan_dprk": "trust_japan_in_dprk",  # NaN when Japan is not in the model
}
"""The ``final_*`` outcomes, each the value of a quantity after the last week."""


def final_state(world) -> dict[str, Any]:
    """The ``final_*`` outcome values of ``world``'s current state."""
    return {name: QUANTITIES[quantity](world) for name, quantity in FINAL_STATE.items()}


def series(world) -> dict[str, Any]:
    """This week's values of the weekly series."""
    return {name: QUANTITIES[name](world) for name in SERIES}
