"""The actors (states) of the model: their state variables and their steps, written once.

Each ``*Steps`` class holds what one actor is and does: :meth:`start` sets its state at week 0
from the parameters, and its methods are the actor's steps of the week, each a call to the
rules of :mod:`model.rules`. Both engines use these classes as they are:

* the Mesa engine's agents (:mod:`model.agents`) are ``mesa.Agent`` subclasses that inherit
  them, so an agent holds one run's state (numpy scalars);
* the batched engine (:mod:`model.batched`) holds each actor's state as arrays over the
  replicates of a block, in plain objects that inherit the same classes.

A state variable's value is therefore a numpy scalar in the one engine and an array of shape
``(n,)`` in the other (a vector-valued variable adds a trailing axis: ``(k,)`` and ``(n, k)``);
the rules compute the same bits on both. ``self.params`` is the run's parameters (the Mesa
model's :class:`~model.params.Params`, or the batched engine's per-run arrays), and
``present`` says whether an optional actor (China, Japan) takes part: ``True`` for a Mesa
agent (the Mesa engine leaves an absent actor out), a mask over runs in the batched engine.

Trust is the belief that the other state is a security seeker rather than greedy (Kydd 2005):
``trust[other]``, one value per other state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from . import rules
from .policies import apply_sanctions_floor

US, ROK, DPRK, CHINA, JAPAN = "US", "ROK", "DPRK", "China", "Japan"
ALL_STATES = (US, ROK, DPRK, CHINA, JAPAN)

Full = Callable[..., Any]
"""``full(value, dtype=np.float64)``: a week-0 value in the engine's form (a numpy scalar, or
an array over the runs; ``value`` may already be an array over the runs)."""


class Actor:
    """What every state has: a code, trust toward every other state, and Bayesian updating."""

    code: ClassVar[str] = ""
    rules: Any = rules  # the rules the steps call: model.rules, or the compiled ones (model.compiled.MESA_RULES)
    present: Any = True
    params: Any
    trust: dict[str, Any]

    def start(self, p, full: Full) -> None:
        """Set the state at week 0 (each actor extends this)."""
        self.trust = {other: full(p.trust_allies) for other in ALL_STATES if other != self.code}

    def observe(self, other: str, log_likelihood_ratio) -> None:
        """Update trust toward ``other`` on a signal (Kydd's Bayes rule, :func:`rules.update_trust`)."""
        self.trust[other] = self.rules.update_trust(self.trust[other], log_likelihood_ratio)

    def forget(self, other: str, prior) -> None:
        """Let trust toward ``other`` depreciate toward ``prior`` for a week
        (:func:`rules.depreciate_trust`: the other side's type may have changed)."""
        self.trust[other] = self.rules.depreciate_trust(self.trust[other], prior, self.params.trust_depreciation)


class USSteps(Actor):
    """The United States: sets and escalates sanctions, answers major tests with new packages,
    decides whether to talk."""

    code = US

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_us_dprk)
        self.sanctions = full(p.sanctions_level)  # share of DPRK exports under sanctions
        self.pending_package = full(False, np.bool_)  # a package on its way after a major test
        self.adopted_package = full(False, np.bool_)
        self.relief = full(0.0)  # relief granted by rule (share of sanctions and exercises lifted)
        self.snapped_back = full(False, np.bool_)  # a major test took relief back until a further step
        self.talk_utility = full(0.0)  # utility of talking this week (> 0: a standing offer)

    def decide_sanctions(self, u, levers, japan_lobbies):
        """Adopt a pending package (with the lag Japan's lobbying shortens), add exogenously
        announced ones, apply any scheduled floor; return the number of new packages this week."""
        p = self.params
        adopt_p = self.rules.sanctions_adoption_probability(
            p.sanctions_response_prob, p.japan_lobby_weight, japan_lobbies
        )
        self.adopted_package = self.rules.package_adopted(
            self.pending_package, u, adopt_p, levers["endogenous_sanctions"]
        )
        packages = self.adopted_package + levers["announced_packages"]
        level = self.rules.escalate_sanctions(self.sanctions, packages, p.sanctions_escalation)
        self.sanctions = apply_sanctions_floor(level, levers["sanctions_floor"])
        return packages

    def note_tests(self, tests, rung) -> None:
        """A test at or above the trigger rung starts a new sanctions package on its way (F2)."""
        self.pending_package = self.rules.package_pending(
            self.pending_package, self.adopted_package, tests, rung, self.params.sanctions_trigger_rung
        )

    def grant_relief(self, step, step_taken, major, levers):
        """Relief by rule for the DPRK's standing step (:func:`rules.current_relief`): a major test
        snaps it back to 0 until a further step is taken. Returns the relief granted this week
        (the increase, 0 when none)."""
        p = self.params
        self.snapped_back = self.rules.where(step_taken > 0, False, self.snapped_back | major)
        before = self.relief
        self.relief = self.rules.current_relief(
            step, self.snapped_back, p.relief_threshold, levers["relief_all_at_end"], p.relief_per_step
        )
        return before

    def willingness_to_talk(self, pressure_first):
        """Logit probability that the US agrees to preliminary talks this week (its utility is kept
        in ``talk_utility``: a positive one is a standing offer)."""
        p = self.params
        self.talk_utility = self.rules.us_talk_utility(
            p.us_talk_base, self.trust[DPRK], pressure_first, p.us_talk_trust_weight, p.pressure_first_penalty
        )
        return self.rules.logit_choice(self.talk_utility, p.logit_precision)


class ROKSteps(Actor):
    """South Korea: mediates (inter-Korean contact first) and keeps the alliance aligned, or not."""

    code = ROK

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_rok_dprk)
        self.mediation = full(p.rok_mediation)  # mediation effort (0-1), a lever
        self.alignment = full(p.initial_alignment)  # US-ROK alignment (0-1)

    def align(self, pressure_first, mediation) -> None:
        """Set this week's mediation effort and move alliance alignment toward its target
        (:func:`rules.alliance_alignment`)."""
        p = self.params
        self.mediation = mediation
        self.alignment = self.rules.alliance_alignment(
            self.alignment, self.mediation, pressure_first, p.alignment_rate, p.alignment_gap
        )


class DPRKSteps(Actor):
    """North Korea: feels sanctions and exercises, tests on a self-exciting escalation ladder,
    decides whether to talk."""

    code = DPRK

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[US], self.trust[ROK] = full(p.trust_dprk_us), full(p.trust_dprk_rok)
        self.pressure = full(0.0)  # sanctions pressure felt this week
        self.stress = full(p.initial_stress)
        self.threat = full(p.initial_threat)
        self.reactance = full(p.initial_reactance)
        self.progress = np.repeat(
            np.asarray(full(p.initial_progress))[..., None], self.rules.RUNGS, axis=-1
        )  # per rung
        self.strategic = full(p.initial_progress)  # the strategic programme's progress (rungs 4-5)
        self.excitation = full(p.initial_excitation)  # Hawkes self-excitation of sub-strategic launches
        self.strategic_excitation = full(p.initial_strategic_excitation)  # ... of strategic tests
        self.hazard = full(0.0)  # test hazard of the week
        self.last_rung = full(p.initial_rung, np.int64)
        self.step = full(p.initial_step, np.int64)  # highest step standing (1 moratorium ... 4 full)
        self.moratorium = full(p.initial_moratorium, np.bool_)  # a declared test moratorium holds
        self.expected_relief = full(p.initial_expected_relief)
        self.cost_multiplier = full(1.0)  # theta, drawn per run in model.week.begin
        self.talks_memory = full(p.initial_talks_memory)  # memory of failed summits and collapsed talks
        self.talk_utility = full(0.0)  # utility of talking this week

    def feel_pressure(self, sanctions, relief, enforcement, alignment, held_exercise, packages, in_talks) -> None:
        """Update felt pressure (sanctions minus relief), economic stress, perceived threat and
        reactance (scaled by distrust of the US, Jervis's spiral; a package during talks is a
        spoiler with its own effect) for the week."""
        p = self.params
        self.pressure = self.rules.effective_sanctions(
            np.maximum(sanctions - relief, 0.0), enforcement, p.china_trade_share, alignment, p.alignment_effect
        )
        self.stress = self.rules.accumulate_stress(self.stress, self.pressure, p.stress_gain, p.stress_recovery)
        self.threat = self.rules.perceived_threat(self.threat, held_exercise, p.threat_gain, p.threat_decay)
        self.reactance = self.rules.reactance(
            self.reactance,
            packages,
            p.reactance_decay,
            p.reactance_per_package,
            self.trust[US],
            in_talks,
            p.spoiler_reactance,
        )

    def test(self, u_count, u_rung, in_talks, talks_open):
        """Draw this week's tests from the two tracks' hazards (sub-strategic, lowered by talks under
        way; strategic, lowered by a moratorium) and their rung by the rung logit, in which a red
        line costs more while talks are open (under way or suspended); return ``(tests, rung, major)``,
        ``major`` whether they were strategic (:func:`rules.major_test`)."""
        p = self.params
        baseline = self.rules.baseline_test_rate(
            p.test_baseline_rate,
            self.threat,
            self.reactance,
            self.strategic,
            p.threat_hazard_weight,
            p.reactance_hazard_weight,
            p.progress_hazard_weight,
        )
        weights = self.rules.rung_weights(
            self.progress,
            self.last_rung,
            talks_open,
            p.logit_precision,
            p.rung_development_weight,
            p.rung_distance_cost,
            p.red_line_cost,
            p.red_line_talks_multiplier,
        )
        f_sub, f_strat = self.rules.track_factors(
            self.moratorium, p.moratorium_hazard_weight, in_talks, p.substrategic_talks_weight
        )
        sub, strat = self.rules.track_hazards(
            baseline, self.excitation, self.strategic_excitation, weights, f_sub, f_strat
        )
        self.hazard = sub + strat
        tests = self.rules.poisson_count(self.hazard, u_count)
        rung = self.rules.choose_rung(weights, sub, strat, tests, u_rung, self.last_rung)
        major = self.rules.major_test(tests, rung)
        self.excitation, self.strategic_excitation = self.rules.track_excitation(
            self.excitation, self.strategic_excitation, tests, major, p.hawkes_ratio, p.hawkes_beta
        )
        self.progress = self.rules.rung_progress(self.progress, tests, rung, p.progress_per_test)
        self.strategic = self.rules.strategic_progress(self.progress)
        self.last_rung = rung
        return tests, rung, major

    def keep_or_break_moratorium(self, u, in_talks, major):
        """Declare a moratorium (logit on :func:`rules.moratorium_utility`) while talks are under way,
        or let a standing one erode as the expected relief falls short; a major test breaks it.
        Returns ``(declared, broken)``."""
        p = self.params
        declare = p.moratorium_rate * self.rules.logit_choice(
            self.rules.moratorium_utility(
                p.moratorium_base,
                self.expected_relief,
                self.strategic,
                self.trust[US],
                p.moratorium_expectation_weight,
                p.moratorium_progress_weight,
                p.step_trust_weight,
            ),
            p.logit_precision,
        )
        erode = self.rules.moratorium_break_hazard(
            self.expected_relief, p.moratorium_patience, p.moratorium_break_rate, p.logit_precision
        )
        self.moratorium, declared, broken = self.rules.next_moratorium(
            self.moratorium, u, in_talks, declare, erode, major
        )
        self.step = self.rules.step_after_moratorium(self.step, declared, broken, 0)
        return declared, broken

    def consider_step(self, u, eligible, levers):
        """Take the next step toward denuclearisation (logit on :func:`rules.step_utility`) while
        US-DPRK talks are under way; a step keeps the moratorium. Returns the step taken (0: none)."""
        p = self.params
        self.step, taken = self.rules.next_step(
            self.step,
            u,
            eligible,
            p.step_rate,
            p.logit_precision,
            self.expected_relief,
            self.stress,
            self.trust[US],
            self.cost_multiplier,
            p.relief_threshold,
            levers["relief_all_at_end"],
            p.relief_per_step,
            p.step_cost_scale,
            p.step_relief_weight,
            p.deal_stress_weight,
            p.step_expectation_weight,
            p.step_trust_weight,
        )
        self.moratorium = self.moratorium | (taken > 0)
        return taken

    def offer(self, u, expected, levers):
        """The step the DPRK offers at a summit (:func:`rules.choose_offer`, a logit choice with its
        private cost), given the relief it expects."""
        p = self.params
        return self.rules.choose_offer(
            self.step,
            u,
            p.logit_precision,
            expected,
            self.stress,
            self.cost_multiplier,
            p.relief_threshold,
            levers["relief_all_at_end"],
            p.relief_per_step,
            p.step_cost_scale,
            p.step_relief_weight,
            p.deal_stress_weight,
            p.step_expectation_weight,
        )

    def commit(self, deal, offer):
        """A deal: the DPRK takes the offered step at once and the moratorium holds (at least
        step 1). Returns the step taken (0: none)."""
        new = self.rules.where(deal, np.maximum(np.maximum(self.step, offer), 1), self.step)
        taken = self.rules.where(new > self.step, new, 0)
        self.step = new
        self.moratorium = self.moratorium | deal
        return taken

    def expect(self, relief, summit, failed):
        """Update the relief the DPRK expects from talks (:func:`rules.expected_relief`)."""
        p = self.params
        self.expected_relief = self.rules.expected_relief(
            self.expected_relief,
            relief,
            summit,
            failed,
            p.expectation_learning,
            p.summit_expectation,
            p.failure_expectation_cut,
        )

    def remember_talks(self, failed, stage_before, remembered_before, stage_after) -> None:
        """Update the memory of failed summits and collapsed talks (:func:`rules.talks_memory`)."""
        self.talks_memory = self.rules.talks_memory(
            self.talks_memory, failed, stage_before, remembered_before, stage_after, self.params.talks_memory_decay
        )

    def willingness_to_talk(self, pressure_first):
        """Logit probability that the DPRK wants to talk this week (its utility is kept in
        ``talk_utility``: at or below 0 it refuses a standing offer)."""
        p = self.params
        self.talk_utility = self.rules.dprk_talk_utility(
            p.dprk_talk_base,
            self.stress,
            self.trust[US],
            self.threat,
            self.strategic,
            pressure_first,
            p.dprk_talk_stress_weight,
            p.dprk_talk_trust_weight,
            p.dprk_talk_threat_weight,
            p.dprk_talk_progress_weight,
            p.precondition_cost,
            self.talks_memory,
            p.talks_memory_weight,
            self.expected_relief,
            p.dprk_talk_expectation_weight,
        )
        return self.rules.logit_choice(self.talk_utility, p.logit_precision)


class ChinaSteps(Actor):
    """China (optional): enforces a share of the sanctions on trade through China, more as it
    trusts the DPRK less."""

    code = CHINA

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_china_dprk)
        self.enforcement = full(p.china_enforcement)  # share of sanctioned trade enforced
        self.memory = full(p.initial_china_memory)  # memory of recent ICBM and nuclear tests

    def enforce(self, in_talks, relief):
        """Set and return this week's enforcement (:func:`rules.china_enforcement`: trust, recent
        major tests, talks, US relief; the constant parameter in runs without China)."""
        p = self.params
        enforced = self.rules.china_enforcement(
            p.china_enforcement,
            self.trust[DPRK],
            p.trust_china_dprk,
            p.china_trust_sensitivity,
            p.china_test_response,
            self.memory,
            p.china_talks_relief,
            in_talks,
            p.china_relief_follow,
            relief,
        )
        self.enforcement = self.rules.where(self.present, enforced, p.china_enforcement)
        return self.enforcement

    def remember(self, tests, rung) -> None:
        """Update China's memory of major tests (:func:`rules.china_test_memory`)."""
        self.memory = self.rules.china_test_memory(self.memory, tests, rung, self.params.china_memory_decay)


class JapanSteps(Actor):
    """Japan (optional): favours pressure; its lobbying shortens the lag of new sanctions."""

    code = JAPAN

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_japan_dprk)
