"""The compiled week: the batched engine's runs advanced by machine code, run by run.

:func:`run_block` is :func:`model.week.run_week` and the actors' steps of :mod:`model.actors`
transcribed for one run's scalars, with every mechanism a call to the compiled rules of
:mod:`model.compiled` (the functions the Mesa agents call on the compiled path) and the week's
random numbers drawn inline (:func:`model.rng_compiled.week_slots`, bit for bit those of
:mod:`model.rng`). A run's state lives in one record of a structured array (:data:`STATE`), its
parameters in another (:func:`param_records`), its levers in a third (:func:`lever_records`);
each run's weeks are advanced in one pass, its tally kept as :class:`model.outcomes.OutcomeTally`
keeps it. The schedule's order is :func:`model.week.run_week`'s, step for step: the Mesa engine
runs that function with the same compiled rules, and tests hold the two to the same bits.

Adding a mechanism: its rule in :mod:`model.rules` and :mod:`model.compiled`, its call in
:func:`model.week.run_week` (or an actor's step) and at the same point in :func:`_week` here;
a new state variable is a field of :data:`STATE` and a line of :data:`STATE_LAYOUT`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .compiled import (
    accumulate_stress,
    alignment_factor,
    alliance_alignment,
    alliance_signal,
    baseline_test_rate,
    china_enforcement,
    china_test_memory,
    choose_offer,
    choose_rung,
    current_relief,
    depreciate_trust,
    dprk_talk_utility,
    effective_sanctions,
    escalate_sanctions,
    expected_relief,
    forced_event,
    idle_end_hazard,
    idle_weeks_after,
    jit,
    logit_choice,
    major_test,
    maximum,
    moratorium_break_hazard,
    moratorium_utility,
    next_moratorium,
    next_step,
    package_adopted,
    package_pending,
    perceived_threat,
    poisson_count,
    reactance,
    relief_needed_step,
    relief_signal,
    rung_progress,
    rung_weights,
    sanctions_adoption_probability,
    step_after_moratorium,
    step_signal,
    strategic_progress,
    summit_hazard,
    summit_outcome,
    summit_result,
    summit_trust_signal,
    suspension_hazard,
    talks_at_us_level,
    talks_memory,
    talks_open,
    talks_rates,
    talks_refused,
    talks_transition,
    talks_under_way,
    test_signal,
    track_excitation,
    track_factors,
    track_hazards,
    update_trust,
    us_talk_utility,
    weeks_since_summit_after,
)
from .policies import DUAL_SUSPENSION, SCALED_DOWN, SUSPENDED, SUSPENDED_DURING_TALKS
from .rng_compiled import week_block, week_slots
from .rules import (
    INTER_KOREAN,
    NEGOTIATIONS,
    NO_TALKS,
    PRELIMINARY,
    RUNGS,
    SUMMIT_DEAL,
    SUMMIT_FAILED,
    SUMMIT_NONE,
    SUMMIT_STATEMENT,
    SUSPENDED_TALKS,
)
from .week import (
    SLOT_ADVANCE,
    SLOT_EXIT,
    SLOT_MORATORIUM,
    SLOT_OFFER,
    SLOT_RUNG,
    SLOT_SANCTIONS,
    SLOT_STEP,
    SLOT_SUMMIT,
    SLOT_TESTS,
)

_SUMMIT_BLOCK = 2
"""The Philox block (slots 8-11) that holds the summit's two slots; every other slot the week
reads lies in blocks 0 and 1 (slots 0-7), drawn every week."""
assert SLOT_OFFER // 4 == SLOT_SUMMIT // 4 == _SUMMIT_BLOCK
assert max(SLOT_TESTS, SLOT_RUNG, SLOT_SANCTIONS, SLOT_EXIT, SLOT_ADVANCE, SLOT_STEP, SLOT_MORATORIUM) < 8

STATE_LAYOUT: tuple[tuple[str, str, str, str | None, str], ...] = (
    # (field, holder: "" the world or an actor, attribute, trust key or None, dtype)
    ("talks_stage", "", "talks_stage", None, "i8"),
    ("remembered_stage", "", "remembered_stage", None, "i8"),
    ("idle_weeks", "", "idle_weeks", None, "i8"),
    ("weeks_since_summit", "", "weeks_since_summit", None, "i8"),
    ("week_tests", "", "week_tests", None, "i8"),
    ("week_rung", "", "week_rung", None, "i8"),
    ("week_summit", "", "week_summit", None, "i8"),
    ("exercise_intensity", "", "exercise_intensity", None, "f8"),
    ("enforcement", "", "enforcement", None, "f8"),
    ("us_trust_dprk", "us", "trust", "DPRK", "f8"),
    ("us_sanctions", "us", "sanctions", None, "f8"),
    ("us_pending_package", "us", "pending_package", None, "?"),
    ("us_adopted_package", "us", "adopted_package", None, "?"),
    ("us_relief", "us", "relief", None, "f8"),
    ("us_snapped_back", "us", "snapped_back", None, "?"),
    ("us_talk_utility", "us", "talk_utility", None, "f8"),
    ("rok_trust_dprk", "rok", "trust", "DPRK", "f8"),
    ("rok_mediation", "rok", "mediation", None, "f8"),
    ("rok_alignment", "rok", "alignment", None, "f8"),
    ("dprk_trust_us", "dprk", "trust", "US", "f8"),
    ("dprk_trust_rok", "dprk", "trust", "ROK", "f8"),
    ("dprk_pressure", "dprk", "pressure", None, "f8"),
    ("dprk_stress", "dprk", "stress", None, "f8"),
    ("dprk_threat", "dprk", "threat", None, "f8"),
    ("dprk_reactance", "dprk", "reactance", None, "f8"),
    ("dprk_strategic", "dprk", "strategic", None, "f8"),
    ("dprk_excitation", "dprk", "excitation", None, "f8"),
    ("dprk_strategic_excitation", "dprk", "strategic_excitation", None, "f8"),
    ("dprk_hazard", "dprk", "hazard", None, "f8"),
    ("dprk_last_rung", "dprk", "last_rung", None, "i8"),
    ("dprk_step", "dprk", "step", None, "i8"),
    ("dprk_moratorium", "dprk", "moratorium", None, "?"),
    ("dprk_expected_relief", "dprk", "expected_relief", None, "f8"),
    ("dprk_cost_multiplier", "dprk", "cost_multiplier", None, "f8"),
    ("dprk_talks_memory", "dprk", "talks_memory", None, "f8"),
    ("dprk_talk_utility", "dprk", "talk_utility", None, "f8"),
    ("china_trust_dprk", "china", "trust", "DPRK", "f8"),
    ("china_enforcement", "china", "enforcement", None, "f8"),
    ("china_memory", "china", "memory", None, "f8"),
    ("japan_trust_dprk", "japan", "trust", "DPRK", "f8"),
)
"""Where each field of a run's state record comes from in the batched engine's world and
actors; the per-rung progress (``dprk.progress``, rungs on its last axis) is the five fields
``progress_1`` ... ``progress_5``. Trust toward the other states stays where it is: nothing in
the week changes it."""

STATE = np.dtype(
    [(field, dtype) for field, _, _, _, dtype in STATE_LAYOUT]
    + [(f"progress_{r}", "f8") for r in range(1, RUNGS + 1)]
    + [("weights_open", "i8")]
    + [(f"weight_{r}", "f8") for r in range(1, RUNGS + 1)],
    align=True,
)
"""One run's state, as the compiled week reads and writes it; ``weight_1`` ... ``weight_5`` keep
the rung weights of the last week, still the week's while no test has moved the progress or the
last rung and talks have not opened or ended (``weights_open``: whether talks were open when they
were computed, -1 when they must be computed again)."""


def pack_state(world: Any, n: int) -> np.ndarray:
    """Every run's state in ``world`` (a :class:`model.batched.BatchedEngine`) as records."""
    state = np.empty(n, dtype=STATE)
    for field, holder, attribute, key, _ in STATE_LAYOUT:
        value = getattr(getattr(world, holder) if holder else world, attribute)
        state[field] = value[key] if key is not None else value
    progress = np.broadcast_to(world.dprk.progress, (n, RUNGS))
    for r in range(RUNGS):
        state[f"progress_{r + 1}"] = progress[:, r]
    state["weights_open"] = -1
    return state


def unpack_state(state: np.ndarray, world: Any) -> None:
    """Set ``world``'s state arrays from the records of :func:`pack_state`."""
    for field, holder, attribute, key, _ in STATE_LAYOUT:
        target = getattr(world, holder) if holder else world
        value = state[field].copy()
        if key is not None:
            getattr(target, attribute)[key] = value
        else:
            setattr(target, attribute, value)
    world.dprk.progress = np.stack([state[f"progress_{r}"] for r in range(1, RUNGS + 1)], axis=-1)


def param_records(params: Any, names: list[str], dtypes: dict[str, Any], n: int) -> np.ndarray:
    """The runs' numeric parameters (:class:`model.batched.ParamArrays`) as one record per run."""
    kinds = {float: "f8", int: "i8", bool: "?"}
    records = np.empty(n, dtype=np.dtype([(name, kinds[dtypes[name]]) for name in names], align=True))
    for name in names:
        records[name] = getattr(params, name)
    return records


def lever_records(levers: dict[str, np.ndarray]) -> np.ndarray:
    """Lever schedules (arrays (weeks, L) per field) as records (weeks, L)."""
    fields = [(name, "i8" if np.asarray(v).dtype.kind in "iub" else "f8") for name, v in levers.items()]
    shape = next(iter(levers.values())).shape
    records = np.empty(shape, dtype=np.dtype(fields, align=True))
    for name, values in levers.items():
        records[name] = values
    return records


INT_SERIES: tuple[str, ...] = ("talks_stage", "tests", "test_rung", "summit", "dprk_step", "moratorium")
FLOAT_SERIES: tuple[str, ...] = (
    "exercise_intensity",
    "sanctions",
    "relief",
    "effective_pressure",
    "enforcement",
    "dprk_stress",
    "dprk_threat",
    "test_hazard",
    "expected_relief",
    "trust_us_in_dprk",
    "trust_dprk_in_us",
    "alignment",
)
"""The weekly series (:data:`model.week.SERIES`), integer and float, in the order the compiled
week records them."""


@jit
def _held_exercise(scheduled, policy, stage, scale, moratorium, relief):
    """:func:`model.policies.held_exercise` for one run."""
    held = scheduled * scale if policy == SCALED_DOWN else scheduled
    talks = stage == PRELIMINARY or stage == NEGOTIATIONS
    off = (
        policy == SUSPENDED
        or (policy == SUSPENDED_DURING_TALKS and talks)
        or (policy == DUAL_SUSPENSION and moratorium)
    )
    return 0.0 if off else held * (1.0 - relief)


@jit
def _fmax(level, floor):
    """``np.fmax``: the floor unless it is NaN."""
    if floor != floor or level >= floor:
        return level
    return floor


@jit
def _out_rate_bound(stage, s, p, share):
    """An upper bound of the rate out of talks stage ``stage`` over every willingness in [0, 1]
    (what :func:`talks_transition` compares its uniform with): each rate computed at full
    willingness, which rounding cannot exceed while every factor is non-negative (else inf: no
    bound). Suspended talks leave at rates the willingness does not enter: 0."""
    if stage == SUSPENDED_TALKS:
        return 0.0
    factors = (s.rok_mediation, share, p.inter_korean_rate, p.direct_talks_rate, p.us_dprk_rate, p.summit_rate)
    for factor in factors:
        if not factor >= 0.0:
            return np.inf
    if stage == NO_TALKS or stage == INTER_KOREAN:
        r01, r02, r12 = talks_rates(
            s.rok_mediation, 1.0, 1.0, share, p.inter_korean_rate, p.direct_talks_rate, p.us_dprk_rate
        )
        return r01 + r02 if stage == NO_TALKS else r12
    if stage == PRELIMINARY or stage == NEGOTIATIONS:
        return summit_hazard(p.summit_rate, 1.0, 1.0, s.weeks_since_summit, p.summit_spacing)
    return np.inf


@jit
def _week(p, s, lv, u, seed, step):
    """One week of one run (:func:`model.week.run_week`, step for step). ``p`` the run's
    parameters, ``s`` its state (updated in place), ``lv`` the week's levers, ``u`` the week's
    uniforms in slots 0-7 (:func:`week_slots`); the summit's slots, in block 2, are drawn only in
    a summit week, from the run's ``seed`` and the week's ``step``. Returns what the tally records: ``(stage_before, outcome, tests, rung,
    moratorium_before, refused)``."""
    stage_before = s.talks_stage
    talking = talks_under_way(stage_before)
    pressure_first = lv.pressure_first

    # 1. exercises
    held = _held_exercise(
        lv.scheduled_exercise, lv.exercise_policy, stage_before, lv.exercise_scale, s.dprk_moratorium, s.us_relief
    )
    forgone = maximum(lv.standard_exercise - held, 0.0)

    # 2. sanctions (USSteps.decide_sanctions)
    adopt_p = sanctions_adoption_probability(p.sanctions_response_prob, p.japan_lobby_weight, p.include_japan)
    s.us_adopted_package = package_adopted(s.us_pending_package, u[SLOT_SANCTIONS], adopt_p, lv.endogenous_sanctions)
    packages = s.us_adopted_package + lv.announced_packages
    level = escalate_sanctions(s.us_sanctions, packages, p.sanctions_escalation)
    s.us_sanctions = _fmax(level, lv.sanctions_floor)

    # 3. China's enforcement (ChinaSteps.enforce); the alliance (ROKSteps.align)
    enforced = 0.0
    if p.include_china:
        enforced = china_enforcement(
            p.china_enforcement,
            s.china_trust_dprk,
            p.trust_china_dprk,
            p.china_trust_sensitivity,
            p.china_test_response,
            s.china_memory,
            p.china_talks_relief,
            talking,
            p.china_relief_follow,
            s.us_relief,
        )
    enforcement = enforced if p.include_china else p.china_enforcement * 1.0
    s.china_enforcement = enforcement
    s.rok_mediation = lv.rok_mediation
    s.rok_alignment = alliance_alignment(
        s.rok_alignment, s.rok_mediation, pressure_first, p.alignment_rate, p.alignment_gap
    )

    # 4. the DPRK feels pressure (DPRKSteps.feel_pressure) and tests (DPRKSteps.test)
    s.dprk_pressure = effective_sanctions(
        maximum(s.us_sanctions - s.us_relief, 0.0),
        enforcement,
        p.china_trade_share,
        s.rok_alignment,
        p.alignment_effect,
    )
    s.dprk_stress = accumulate_stress(s.dprk_stress, s.dprk_pressure, p.stress_gain, p.stress_recovery)
    s.dprk_threat = perceived_threat(s.dprk_threat, held, p.threat_gain, p.threat_decay)
    s.dprk_reactance = reactance(
        s.dprk_reactance,
        packages,
        p.reactance_decay,
        p.reactance_per_package,
        s.dprk_trust_us,
        talking,
        p.spoiler_reactance,
    )
    moratorium_before = s.dprk_moratorium
    baseline = baseline_test_rate(
        p.test_baseline_rate,
        s.dprk_threat,
        s.dprk_reactance,
        s.dprk_strategic,
        p.threat_hazard_weight,
        p.reactance_hazard_weight,
        p.progress_hazard_weight,
    )
    progress = (s.progress_1, s.progress_2, s.progress_3, s.progress_4, s.progress_5)
    open_now = talks_open(stage_before)
    if s.weights_open != open_now:  # rung_weights of the same arguments as last week's: the same weights
        weights = rung_weights(
            progress,
            s.dprk_last_rung,
            open_now,
            p.logit_precision,
            p.rung_development_weight,
            p.rung_distance_cost,
            p.red_line_cost,
            p.red_line_talks_multiplier,
        )
        s.weight_1, s.weight_2, s.weight_3, s.weight_4, s.weight_5 = weights
        s.weights_open = open_now
    weights = (s.weight_1, s.weight_2, s.weight_3, s.weight_4, s.weight_5)
    f_sub, f_strat = track_factors(s.dprk_moratorium, p.moratorium_hazard_weight, talking, p.substrategic_talks_weight)
    sub, strat = track_hazards(baseline, s.dprk_excitation, s.dprk_strategic_excitation, weights, f_sub, f_strat)
    s.dprk_hazard = sub + strat
    tests = poisson_count(s.dprk_hazard, u[SLOT_TESTS])
    rung = choose_rung(weights, sub, strat, tests, u[SLOT_RUNG], s.dprk_last_rung)
    major = major_test(tests, rung)
    s.dprk_excitation, s.dprk_strategic_excitation = track_excitation(
        s.dprk_excitation, s.dprk_strategic_excitation, tests, major, p.hawkes_ratio, p.hawkes_beta
    )
    progress = rung_progress(progress, tests, rung, p.progress_per_test)
    s.progress_1, s.progress_2, s.progress_3, s.progress_4, s.progress_5 = progress
    if tests > 0:  # the progress and the last rung move: next week's rung weights are new
        s.weights_open = -1
    s.dprk_strategic = strategic_progress(progress)
    s.dprk_last_rung = rung
    s.us_pending_package = package_pending(
        s.us_pending_package, s.us_adopted_package, tests, rung, p.sanctions_trigger_rung
    )
    s.china_memory = china_test_memory(s.china_memory, tests, rung, p.china_memory_decay)

    # 5. trust depreciates and reads the week's tests and the alliance's week
    test_llr = test_signal(tests, rung, p.signal_test_llr, p.signal_quiet_llr)
    d, prior = p.trust_depreciation, p.trust_prior_dprk
    s.us_trust_dprk = update_trust(depreciate_trust(s.us_trust_dprk, prior, d), test_llr)
    s.rok_trust_dprk = update_trust(depreciate_trust(s.rok_trust_dprk, prior, d), test_llr)
    s.china_trust_dprk = update_trust(depreciate_trust(s.china_trust_dprk, prior, d), test_llr)
    s.japan_trust_dprk = update_trust(depreciate_trust(s.japan_trust_dprk, prior, d), test_llr)
    alliance_llr = alliance_signal(
        held, forgone, packages, p.signal_exercise_llr, p.signal_suspension_llr, p.signal_sanctions_llr
    )
    s.dprk_trust_us = update_trust(depreciate_trust(s.dprk_trust_us, p.trust_prior_us, d), alliance_llr)
    s.dprk_trust_rok = update_trust(depreciate_trust(s.dprk_trust_rok, p.trust_prior_us, d), alliance_llr)

    # 6. talks (model.week.advance_talks), then any summit's offer and outcome
    remembered_before = s.remembered_stage
    s.dprk_talk_utility = dprk_talk_utility(
        p.dprk_talk_base,
        s.dprk_stress,
        s.dprk_trust_us,
        s.dprk_threat,
        s.dprk_strategic,
        pressure_first,
        p.dprk_talk_stress_weight,
        p.dprk_talk_trust_weight,
        p.dprk_talk_threat_weight,
        p.dprk_talk_progress_weight,
        p.precondition_cost,
        s.dprk_talks_memory,
        p.talks_memory_weight,
        s.dprk_expected_relief,
        p.dprk_talk_expectation_weight,
    )
    s.us_talk_utility = us_talk_utility(
        p.us_talk_base, s.us_trust_dprk, pressure_first, p.us_talk_trust_weight, p.pressure_first_penalty
    )
    # The willingness (two exp) is read only by the rate out of this stage. Most weeks its upper
    # bound, at full willingness, already lies below the uniform: no move, whatever the
    # willingness (talks_transition moves only below the rate), so the rates are passed as 0.
    share = alignment_factor(s.rok_alignment, p.alignment_effect)
    u_advance = u[SLOT_ADVANCE]
    dprk_willing, us_willing, r01, r02, r12 = 0.0, 0.0, 0.0, 0.0, 0.0
    if u_advance < _out_rate_bound(stage_before, s, p, share):
        dprk_willing = logit_choice(s.dprk_talk_utility, p.logit_precision)
        us_willing = logit_choice(s.us_talk_utility, p.logit_precision)
        r01, r02, r12 = talks_rates(
            s.rok_mediation,
            dprk_willing,
            us_willing,
            share,
            p.inter_korean_rate,
            p.direct_talks_rate,
            p.us_dprk_rate,
        )
    suspend = suspension_hazard(
        p.suspend_base, packages, held, tests, rung, p.suspend_per_package, p.suspend_per_exercise, p.suspend_per_test
    )
    idle = idle_end_hazard(s.idle_weeks, p.idle_end_rate, p.idle_patience)
    stage, remembered, summit, _, _ = talks_transition(
        s.talks_stage,
        s.remembered_stage,
        u[SLOT_EXIT],
        u_advance,
        major,
        suspend,
        idle,
        r01,
        r02,
        r12,
        summit_hazard(p.summit_rate, dprk_willing, us_willing, s.weeks_since_summit, p.summit_spacing),
        p.resume_rate,
        p.suspended_end_rate,
    )
    stage, remembered, forced_summit, forced_outcome = forced_event(stage, remembered, lv.forced_event)
    summit = summit or forced_summit

    # a summit's offer and outcome (computed only in a summit week: elsewhere neither is used)
    offer, outcome = 0, SUMMIT_NONE
    if summit:
        late = week_block(seed, step, 0, _SUMMIT_BLOCK)
        offer = choose_offer(
            s.dprk_step,
            late[SLOT_OFFER - 4 * _SUMMIT_BLOCK],
            p.logit_precision,
            maximum(s.dprk_expected_relief, p.summit_expectation),
            s.dprk_stress,
            s.dprk_cost_multiplier,
            p.relief_threshold,
            lv.relief_all_at_end,
            p.relief_per_step,
            p.step_cost_scale,
            p.step_relief_weight,
            p.deal_stress_weight,
            p.step_expectation_weight,
        )
        outcome = summit_outcome(
            offer,
            relief_needed_step(p.relief_threshold, lv.relief_all_at_end),
            late[SLOT_SUMMIT - 4 * _SUMMIT_BLOCK],
            p.logit_precision,
            s.us_trust_dprk,
            s.dprk_trust_us,
            p.deal_trust_weight,
            p.deal_trust_threshold,
            p.statement_base,
            p.statement_gap_cost,
            forced_outcome,
        )
    deal = outcome == SUMMIT_DEAL
    stage, remembered, failed = summit_result(stage, remembered, outcome)
    s.talks_stage, s.remembered_stage = stage, remembered
    # DPRKSteps.commit
    step_before = s.dprk_step
    new = max(max(step_before, offer), 1) if deal else step_before
    dealt = new if new > step_before else 0
    s.dprk_step = new
    s.dprk_moratorium = s.dprk_moratorium or deal

    # 7. moratorium (DPRKSteps.keep_or_break_moratorium), steps, relief
    # the declaration's probability and the erosion's hazard, each only where next_moratorium reads it
    in_talks_after = talks_under_way(stage)
    declare, erode = 0.0, 0.0
    if not s.dprk_moratorium and in_talks_after and not major:
        declare = p.moratorium_rate * logit_choice(
            moratorium_utility(
                p.moratorium_base,
                s.dprk_expected_relief,
                s.dprk_strategic,
                s.dprk_trust_us,
                p.moratorium_expectation_weight,
                p.moratorium_progress_weight,
                p.step_trust_weight,
            ),
            p.logit_precision,
        )
    if s.dprk_moratorium:
        erode = moratorium_break_hazard(
            s.dprk_expected_relief, p.moratorium_patience, p.moratorium_break_rate, p.logit_precision
        )
    s.dprk_moratorium, declared, broken = next_moratorium(
        s.dprk_moratorium, u[SLOT_MORATORIUM], in_talks_after, declare, erode, major
    )
    s.dprk_step = step_after_moratorium(s.dprk_step, declared, broken, 0)
    eligible = talks_at_us_level(stage) and not summit and not major
    s.dprk_step, stepped = next_step(
        s.dprk_step,
        u[SLOT_STEP],
        eligible,
        p.step_rate,
        p.logit_precision,
        s.dprk_expected_relief,
        s.dprk_stress,
        s.dprk_trust_us,
        s.dprk_cost_multiplier,
        p.relief_threshold,
        lv.relief_all_at_end,
        p.relief_per_step,
        p.step_cost_scale,
        p.step_relief_weight,
        p.deal_stress_weight,
        p.step_expectation_weight,
        p.step_trust_weight,
    )
    s.dprk_moratorium = s.dprk_moratorium or stepped > 0
    taken = max(max(dealt, stepped), 1 if declared else 0)
    # USSteps.grant_relief
    s.us_snapped_back = False if taken > 0 else (s.us_snapped_back or major)
    relief_before = s.us_relief
    s.us_relief = current_relief(
        s.dprk_step, s.us_snapped_back, p.relief_threshold, lv.relief_all_at_end, p.relief_per_step
    )
    s.dprk_expected_relief = expected_relief(
        s.dprk_expected_relief,
        s.us_relief,
        summit and not failed,
        failed,
        p.expectation_learning,
        p.summit_expectation,
        p.failure_expectation_cut,
    )

    # 8. costly signals, reactance to a failed summit, the memory of talks
    step_llr = step_signal(taken, p.signal_step_llr)
    s.us_trust_dprk = update_trust(s.us_trust_dprk, step_llr)
    s.rok_trust_dprk = update_trust(s.rok_trust_dprk, step_llr)
    s.china_trust_dprk = update_trust(s.china_trust_dprk, step_llr)
    s.japan_trust_dprk = update_trust(s.japan_trust_dprk, step_llr)
    relief_llr = relief_signal(relief_before, s.us_relief, p.signal_relief_llr)
    s.dprk_trust_us = update_trust(s.dprk_trust_us, relief_llr)
    s.dprk_trust_rok = update_trust(s.dprk_trust_rok, relief_llr)
    summit_llr = summit_trust_signal(outcome, p.signal_statement_llr, p.signal_failure_llr)
    s.us_trust_dprk = update_trust(s.us_trust_dprk, summit_llr)
    s.dprk_trust_us = update_trust(s.dprk_trust_us, summit_llr)
    s.dprk_reactance = s.dprk_reactance + (p.failure_reactance if failed else 0.0)
    s.dprk_talks_memory = talks_memory(
        s.dprk_talks_memory, failed, stage_before, remembered_before, stage, p.talks_memory_decay
    )
    s.idle_weeks = idle_weeks_after(s.idle_weeks, stage, summit, taken, s.us_relief != relief_before)
    s.weeks_since_summit = weeks_since_summit_after(s.weeks_since_summit, summit)

    # 9. the week's records
    s.week_tests = tests
    s.week_rung = rung if tests > 0 else 0
    s.week_summit = outcome
    s.exercise_intensity = held
    s.enforcement = enforcement
    refused = talks_refused(stage_before, s.us_talk_utility, s.dprk_talk_utility)
    return stage_before, outcome, tests, rung, moratorium_before, refused


@jit
def run_block(
    params,
    param_index,
    state,
    levers,
    lever_index,
    seeds,
    rng_offset,
    tally_offset,
    weeks,
    first_weeks,
    failure_week,
    first_test_after_failure,
    talks_began,
    talks_collapsed,
    counts,
    by_rung,
    highest_rung,
    steps,
    relief,
    ints,
    floats,
):
    """Advance every run ``weeks`` weeks and tally them (:class:`model.outcomes.OutcomeTally`'s
    arrays, updated in place; ``counts`` holds its collapses, suspensions, summits, tests under a
    moratorium and refusals as rows). Run ``i`` has parameters ``params[param_index[i]]``, state ``state[i]``
    (updated in place), levers ``levers[w, lever_index[i]]`` in its ``w``-th week (from 0), the
    random numbers of ``(seeds[i], rng_offset + w + 1)``, and is tallied as week ``tally_offset + w + 1``. ``ints`` and ``floats`` (series, runs, weeks: each run's weeks
    side by side in memory, as the loop writes them) record the weekly series of
    :data:`INT_SERIES` and of :data:`FLOAT_SERIES`, each only when it has weeks."""
    n = state.shape[0]
    record_ints, record_floats = ints.shape[2] > 0, floats.shape[2] > 0
    for i in range(n):
        p = params[param_index[i]]
        s = state[i]
        for w in range(weeks):
            week = float(tally_offset + w + 1)
            # slots 0-7 as a tuple of scalars (no array, no reference counting); 8-11 drawn in summit weeks
            slots = week_slots(seeds[i], rng_offset + w + 1, 0)
            stage_before, summit, tests, rung, moratorium_before, refused = _week(
                p, s, levers[w, lever_index[i]], slots, seeds[i], rng_offset + w + 1
            )
            stage = s.talks_stage
            # OutcomeTally.record
            reached = (
                stage == 1,
                stage == PRELIMINARY or stage == NEGOTIATIONS,
                summit != SUMMIT_NONE,
                summit == SUMMIT_DEAL,
                tests > 0,
                summit == SUMMIT_STATEMENT,
                s.dprk_moratorium,
            )
            for j in range(7):
                if reached[j] and np.isnan(first_weeks[j, i]):
                    first_weeks[j, i] = week
            if np.isnan(first_test_after_failure[i]) and not np.isnan(failure_week[i]) and tests > 0:
                first_test_after_failure[i] = week
            if np.isnan(failure_week[i]) and summit == SUMMIT_FAILED:
                failure_week[i] = week
            ended = stage_before != NO_TALKS and stage == NO_TALKS
            talks_collapsed[i] = talks_collapsed[i] or (ended and talks_began[i])
            talks_began[i] = talks_began[i] or stage == PRELIMINARY or stage == NEGOTIATIONS
            counts[0, i] += ended
            counts[1, i] += stage == SUSPENDED_TALKS and stage_before != SUSPENDED_TALKS
            counts[2, i] += summit != SUMMIT_NONE
            counts[3, i] += tests if (moratorium_before and rung < 4) else 0
            counts[4, i] += refused
            steps[i] = max(steps[i], s.dprk_step)
            relief[i] = s.us_relief
            if tests > 0:
                by_rung[rung - 1, i] += tests
                highest_rung[i] = max(highest_rung[i], rung)
            if record_ints:  # in the order of INT_SERIES
                ints[0, i, w] = stage
                ints[1, i, w] = s.week_tests
                ints[2, i, w] = s.week_rung
                ints[3, i, w] = s.week_summit
                ints[4, i, w] = s.dprk_step
                ints[5, i, w] = s.dprk_moratorium
            if record_floats:  # in the order of FLOAT_SERIES
                floats[0, i, w] = s.exercise_intensity
                floats[1, i, w] = s.us_sanctions
                floats[2, i, w] = s.us_relief
                floats[3, i, w] = s.dprk_pressure
                floats[4, i, w] = s.enforcement
                floats[5, i, w] = s.dprk_stress
                floats[6, i, w] = s.dprk_threat
                floats[7, i, w] = s.dprk_hazard
                floats[8, i, w] = s.dprk_expected_relief
                floats[9, i, w] = s.us_trust_dprk
                floats[10, i, w] = s.dprk_trust_us
                floats[11, i, w] = s.rok_alignment
