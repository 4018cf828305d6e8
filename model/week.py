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

from collections.abc import Callable
from typing import Any

import numpy as np

from . import rules
from .actors import DPRK, ROK, US, Full
from .policies import forgone_exercise, held_exercise

# Decision slots: which of the week's uniforms each random decision uses. Every week draws
# all slots whatever happens, so runs under different policies share their random numbers.
SLOT_TESTS, SLOT_RUNG, SLOT_SANCTIONS, SLOT_EXIT, SLOT_ADVANCE, SLOT_STEP, SLOT_MORATORIUM = range(7)
SLOT_OFFER, SLOT_SUMMIT = 8, 9  # slot 7 is left unused, so the slots above keep their values
SLOT_COST = 0
"""The week-0 slot that draws the DPRK's private step-cost multiplier (once per run)."""


WORLD_STATE: tuple[str, ...] = (
    "talks_stage",
    "remembered_stage",
    "idle_weeks",
    "weeks_since_summit",
    "week_tests",
    "week_rung",
    "week_summit",
    "exercise_intensity",
    "enforcement",
)
"""The world's own state variables (set by :func:`begin`); with the actors' own (set in each
actor's ``start``), the whole state a run carries from one week to the next."""
START_PARAMETERS: tuple[str, ...] = (
    "sanctions_level",
    "trust_us_dprk",
    "trust_rok_dprk",
    "trust_china_dprk",
    "trust_japan_dprk",
    "trust_dprk_us",
    "trust_dprk_rok",
    "initial_rung",
    "initial_progress",
    "initial_stress",
    "initial_threat",
    "initial_alignment",
    "initial_expected_relief",
    "initial_stage",
    "initial_resume_stage",
    "initial_step",
    "initial_moratorium",
    "initial_excitation",
    "initial_strategic_excitation",
    "initial_reactance",
    "initial_china_memory",
    "initial_talks_memory",
)
"""The parameters that set a run's state at week 0 (in :func:`begin` and the actors' ``start``):
a run continued from another's state (``BatchedEngine(start=...)``) does not read them."""
ACTORS: tuple[str, ...] = ("us", "rok", "dprk", "china", "japan")
"""The world's attributes that hold an actor (``None`` for an actor the Mesa engine leaves out)."""


def begin(world, full: Full, u0) -> None:
    """The world's own state at week 0 (docs/ODD.md section 5): the talks stage of the start,
    empty records of the week, and the DPRK's private cost multiplier drawn from the run's
    week-0 uniforms ``u0`` (:func:`rules.draw_step_cost_multiplier`). (Each actor sets its own
    state in :meth:`~model.actors.Actor.start` when the engine creates it.) ``full(value,
    dtype)`` gives a value in the engine's form."""
    p, R = world.params, world.rules
    world.talks_stage = full(p.initial_stage, np.int64)
    world.remembered_stage = full(p.initial_resume_stage, np.int64)  # stage to resume after a suspension
    world.idle_weeks = full(0, np.int64)
    world.weeks_since_summit = full(p.summit_spacing, np.int64)  # no summit in recent memory at the start
    world.week_tests = full(0, np.int64)
    world.week_rung = full(0, np.int64)
    world.week_summit = full(0, np.int64)
    world.exercise_intensity = full(0.0)
    world.enforcement = full(p.china_enforcement)
    world.dprk.cost_multiplier = full(
        R.draw_step_cost_multiplier(u0[SLOT_COST], p.step_cost_low_share, p.step_cost_high)
    )


def run_week(world, u, levers) -> None:
    """One week, in the order of the ODD schedule (docs/ODD.md section 3).

    ``u[slot]`` is the week's uniform for a decision slot and ``levers`` the week's levers
    (:meth:`model.policies.LeverSchedule.week`): scalars for one run, arrays over runs for many.
    """
    p, R = world.params, world.rules
    us, rok, dprk, china, japan = world.us, world.rok, world.dprk, world.china, world.japan
    stage_before = world.talks_stage
    talking = R.talks_under_way(stage_before)
    pressure_first = levers["pressure_first"]

    # 1. The alliance holds (or forgoes) the week's exercise under its exercise policy; relief
    #    includes exercise concessions.
    held = held_exercise(
        levers["scheduled_exercise"],
        levers["exercise_policy"],
        stage_before,
        levers["exercise_scale"],
        dprk.moratorium,
        us.relief,
    )
    forgone = forgone_exercise(levers["standard_exercise"], held)

    # 2. The US adopts pending or announced sanctions packages (Japan lobbying shortens the lag).
    packages = us.decide_sanctions(u[SLOT_SANCTIONS], levers, japan.present if japan is not None else False)

    # 3. China sets its enforcement; the alliance (re)aligns.
    enforcement = china.enforce(talking, us.relief) if china is not None else p.china_enforcement
    rok.align(pressure_first, levers["rok_mediation"])

    # 4. The DPRK feels pressure (sanctions minus relief) and threat, then tests (or not) on its
    #    two tracks at a rung chosen against its cost; a major test starts a package and China
    #    remembers it.
    dprk.feel_pressure(us.sanctions, us.relief, enforcement, rok.alignment, held, packages, talking)
    moratorium_before = dprk.moratorium
    tests, rung, major = dprk.test(u[SLOT_TESTS], u[SLOT_RUNG], talking, R.talks_open(stage_before))
    us.note_tests(tests, rung)
    if china is not None:
        china.remember(tests, rung)

    # 5. Trust depreciates toward its prior; everyone reads the week's tests and the alliance's week.
    test_llr = R.test_signal(tests, rung, p.signal_test_llr, p.signal_quiet_llr)
    for observer in (us, rok, china, japan):
        if observer is not None:
            observer.forget(DPRK, p.trust_prior_dprk)
            observer.observe(DPRK, test_llr)
    alliance_llr = R.alliance_signal(
        held,
        forgone,
        packages,
        p.signal_exercise_llr,
        p.signal_suspension_llr,
        p.signal_sanctions_llr,
    )
    for other in (US, ROK):
        dprk.forget(other, p.trust_prior_us)
        dprk.observe(other, alliance_llr)

    # 6. Talks: spoilers suspend, idle talks wither, a major test ends them; they advance,
    #    resume, or a summit is held: the DPRK makes an offer (logit, its private cost) and the
    #    summit ends in a deal, a statement or a failure.
    remembered_before = world.remembered_stage
    summit, suspended = advance_talks(
        world, u[SLOT_EXIT], u[SLOT_ADVANCE], tests, rung, major, held, packages, pressure_first, levers["forced_event"]
    )
    summit_expectation = np.maximum(dprk.expected_relief, p.summit_expectation)
    offer = dprk.offer(u[SLOT_OFFER], summit_expectation, levers)
    outcome = R.summit_outcome(
        offer,
        R.relief_needed_step(p.relief_threshold, levers["relief_all_at_end"]),
        u[SLOT_SUMMIT],
        p.logit_precision,
        us.trust[DPRK],
        dprk.trust[US],
        p.deal_trust_weight,
        p.deal_trust_threshold,
        p.statement_base,
        p.statement_gap_cost,
        world.forced_outcome,
    )
    outcome = R.where(summit, outcome, R.SUMMIT_NONE)
    deal = outcome == R.SUMMIT_DEAL
    world.talks_stage, world.remembered_stage, failed = R.summit_result(
        world.talks_stage, world.remembered_stage, outcome
    )
    dealt = dprk.commit(deal, offer)

    # 7. The DPRK's moratorium and steps; the US grants relief by rule (snapback after a major test).
    declared, _ = dprk.keep_or_break_moratorium(u[SLOT_MORATORIUM], R.talks_under_way(world.talks_stage), major)
    eligible = R.talks_at_us_level(world.talks_stage) & ~summit & ~major
    stepped = dprk.consider_step(u[SLOT_STEP], eligible, levers)
    taken = np.maximum(np.maximum(dealt, stepped), R.where(declared, 1, 0))
    relief_before = us.grant_relief(dprk.step, taken, major, levers)
    dprk.expect(us.relief, summit & ~failed, failed)

    # 8. Costly signals: steps (and a declared moratorium) read by everyone, relief by the DPRK;
    #    a statement raises both sides' trust, a failed summit lowers it and provokes (reactance);
    #    the DPRK remembers failed summits and collapsed talks.
    step_llr = R.step_signal(taken, p.signal_step_llr)
    for observer in (us, rok, china, japan):
        if observer is not None:
            observer.observe(DPRK, step_llr)
    relief_llr = R.relief_signal(relief_before, us.relief, p.signal_relief_llr)
    for other in (US, ROK):
        dprk.observe(other, relief_llr)
    summit_llr = R.summit_trust_signal(outcome, p.signal_statement_llr, p.signal_failure_llr)
    us.observe(DPRK, summit_llr)
    dprk.observe(US, summit_llr)
    dprk.reactance = dprk.reactance + R.where(failed, p.failure_reactance, 0.0)
    dprk.remember_talks(failed, stage_before, remembered_before, world.talks_stage)
    world.idle_weeks = R.idle_weeks_after(
        world.idle_weeks, world.talks_stage, summit, taken, us.relief != relief_before
    )
    world.weeks_since_summit = R.weeks_since_summit_after(world.weeks_since_summit, summit)

    # 9. Record the week.
    world.week_tests, world.week_rung = tests, R.where(tests > 0, rung, 0)
    world.week_summit = outcome
    world.exercise_intensity, world.enforcement = held, enforcement
    world.tally.record(
        world.steps,
        stage_before,
        world.talks_stage,
        world.week_summit,
        tests,
        rung,
        dprk.step,
        us.relief,
        moratorium_before,
        dprk.moratorium,
        R.talks_refused(stage_before, us.talk_utility, dprk.talk_utility),
    )


def advance_talks(world, u_exit, u_advance, tests, rung, major, held, packages, pressure_first, forced):
    """The talks process of the week before any summit's outcome: both sides' willingness
    (logit), the transition rates and hazards, the stage transition and a forced event of a
    historical scenario. Sets the stage; returns ``(summit, suspended)`` and leaves a forced
    summit outcome in ``world.forced_outcome`` (-1: the model decides; see
    :func:`rules.forced_event`)."""
    p, R, us, rok, dprk = world.params, world.rules, world.us, world.rok, world.dprk
    dprk_willing, us_willing = dprk.willingness_to_talk(pressure_first), us.willingness_to_talk(pressure_first)
    r01, r02, r12 = R.talks_rates(
        rok.mediation,
        dprk_willing,
        us_willing,
        R.alignment_factor(rok.alignment, p.alignment_effect),
        p.inter_korean_rate,
        p.direct_talks_rate,
        p.us_dprk_rate,
    )
    suspend = R.suspension_hazard(
        p.suspend_base, packages, held, tests, rung, p.suspend_per_package, p.suspend_per_exercise, p.suspend_per_test
    )
    idle = R.idle_end_hazard(world.idle_weeks, p.idle_end_rate, p.idle_patience)
    stage, remembered, summit, suspended, _ = R.talks_transition(
        world.talks_stage,
        world.remembered_stage,
        u_exit,
        u_advance,
        major,
        suspend,
        idle,
        r01,
        r02,
        r12,
        R.summit_hazard(p.summit_rate, dprk_willing, us_willing, world.weeks_since_summit, p.summit_spacing),
        p.resume_rate,
        p.suspended_end_rate,
    )
    stage, remembered, forced_summit, world.forced_outcome = R.forced_event(stage, remembered, forced)
    world.talks_stage, world.remembered_stage = stage, remembered
    return summit | forced_summit, suspended


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
    "summit": lambda w: w.week_summit,
    "resume_stage": lambda w: w.remembered_stage,
    "exercise_intensity": lambda w: w.exercise_intensity,
    "enforcement": lambda w: w.enforcement,
    # the actors' state
    "sanctions": lambda w: w.us.sanctions,
    "relief": lambda w: w.us.relief,
    "trust_us_in_dprk": lambda w: w.us.trust[DPRK],
    "alignment": lambda w: w.rok.alignment,
    "trust_rok_in_dprk": lambda w: w.rok.trust[DPRK],
    "effective_pressure": lambda w: w.dprk.pressure,
    "dprk_stress": lambda w: w.dprk.stress,
    "dprk_threat": lambda w: w.dprk.threat,
    "dprk_reactance": lambda w: w.dprk.reactance,
    "dprk_progress": lambda w: w.dprk.strategic,
    "dprk_talks_memory": lambda w: w.dprk.talks_memory,
    "dprk_excitation": lambda w: w.dprk.excitation,
    "dprk_strategic_excitation": lambda w: w.dprk.strategic_excitation,
    "dprk_last_rung": lambda w: w.dprk.last_rung,
    "test_hazard": lambda w: w.dprk.hazard,
    "dprk_step": lambda w: w.dprk.step,
    "moratorium": lambda w: w.dprk.moratorium,
    "expected_relief": lambda w: w.dprk.expected_relief,
    "trust_dprk_in_us": lambda w: w.dprk.trust[US],
    "trust_dprk_in_rok": lambda w: w.dprk.trust[ROK],
    "trust_china_in_dprk": _of("china", lambda a: a.trust[DPRK]),
    "trust_japan_in_dprk": _of("japan", lambda a: a.trust[DPRK]),
    "china_memory": _of("china", lambda a: a.memory),
}
"""Every quantity a user can read off a world, by name: ``QUANTITIES[name](world)``
(``dprk_progress`` is the strategic programme's, the mean over rungs 4-5)."""

SERIES: dict[str, type] = {
    "talks_stage": np.int64,
    "tests": np.int64,
    "test_rung": np.int64,
    "summit": np.int64,
    "exercise_intensity": np.float64,
    "sanctions": np.float64,
    "relief": np.float64,
    "effective_pressure": np.float64,
    "enforcement": np.float64,
    "dprk_stress": np.float64,
    "dprk_threat": np.float64,
    "test_hazard": np.float64,
    "dprk_step": np.int64,
    "moratorium": np.int64,
    "expected_relief": np.float64,
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
    "final_expected_relief": "expected_relief",
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
