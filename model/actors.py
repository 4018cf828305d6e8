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

from typing import Any, Callable, ClassVar

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
    present: Any = True
    params: Any
    trust: dict[str, Any]

    def start(self, p, full: Full) -> None:
        """Set the state at week 0 (each actor extends this)."""
        self.trust = {other: full(p.trust_allies) for other in ALL_STATES if other != self.code}

    def observe(self, other: str, log_likelihood_ratio) -> None:
        """Update trust toward ``other`` on a signal (Kydd's Bayes rule, :func:`rules.update_trust`)."""
        self.trust[other] = rules.update_trust(self.trust[other], log_likelihood_ratio)


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

    def decide_sanctions(self, u, levers, japan_lobbies):
        """Adopt a pending package (with the lag Japan's lobbying shortens), add exogenously
        announced ones, apply any scheduled floor; return the number of new packages this week."""
        p = self.params
        adopt_p = rules.sanctions_adoption_probability(p.sanctions_response_prob, p.japan_lobby_weight, japan_lobbies)
        self.adopted_package = rules.package_adopted(self.pending_package, u, adopt_p, levers["endogenous_sanctions"])
        packages = self.adopted_package + levers["announced_packages"]
        level = rules.escalate_sanctions(self.sanctions, packages, p.sanctions_escalation)
        self.sanctions = apply_sanctions_floor(level, levers["sanctions_floor"])
        return packages

    def note_tests(self, tests, rung) -> None:
        """A test at or above the trigger rung starts a new sanctions package on its way (F2)."""
        self.pending_package = rules.package_pending(
            self.pending_package, self.adopted_package, tests, rung, self.params.sanctions_trigger_rung
        )

    def willingness_to_talk(self, pressure_first):
        """Logit probability that the US agrees to preliminary talks this week."""
        p = self.params
        utility = rules.us_talk_utility(
            p.us_talk_base, self.trust[DPRK], pressure_first, p.us_talk_trust_weight, p.pressure_first_penalty
        )
        return rules.logit_choice(utility, p.logit_precision)


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
        self.alignment = rules.alliance_alignment(
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
        self.reactance = full(0.0)
        self.progress = full(p.initial_progress)  # weapons-programme progress
        self.excitation = full(0.0)  # Hawkes self-excitation
        self.hazard = full(0.0)  # test hazard of the week
        self.last_rung = full(p.initial_rung, np.int64)

    def feel_pressure(self, sanctions, enforcement, alignment, held_exercise, packages) -> None:
        """Update felt pressure, economic stress, perceived threat and reactance for the week."""
        p = self.params
        self.pressure = rules.effective_sanctions(
            sanctions, enforcement, p.china_trade_share, alignment, p.alignment_effect
        )
        self.stress = rules.accumulate_stress(self.stress, self.pressure, p.stress_gain, p.stress_recovery)
        self.threat = rules.perceived_threat(self.threat, held_exercise, p.threat_gain, p.threat_decay)
        self.reactance = rules.reactance(self.reactance, packages, p.reactance_decay, p.reactance_per_package)

    def test(self, u_count, u_rung, in_talks):
        """Draw this week's tests from the Hawkes hazard and their rung; return ``(tests, rung)``."""
        p = self.params
        baseline = rules.baseline_test_rate(
            p.test_baseline_rate, self.threat, self.reactance, self.progress, in_talks,
            p.threat_hazard_weight, p.reactance_hazard_weight, p.progress_hazard_weight, p.talks_hazard_weight,
        )
        self.hazard = baseline + self.excitation
        tests = rules.poisson_count(self.hazard, u_count)
        rung = rules.next_rung(self.last_rung, tests, u_rung, p.ladder_up_prob, p.ladder_down_prob)
        self.excitation = rules.self_excitation(self.excitation, tests, p.hawkes_alpha, p.hawkes_beta)
        self.progress = rules.programme_progress(self.progress, tests, rung, p.progress_per_test)
        self.last_rung = rung
        return tests, rung

    def willingness_to_talk(self, pressure_first):
        """Logit probability that the DPRK wants to talk this week."""
        p = self.params
        utility = rules.dprk_talk_utility(
            p.dprk_talk_base, self.stress, self.trust[US], self.threat, self.progress, pressure_first,
            p.dprk_talk_stress_weight, p.dprk_talk_trust_weight, p.dprk_talk_threat_weight,
            p.dprk_talk_progress_weight, p.precondition_cost,
        )
        return rules.logit_choice(utility, p.logit_precision)


class ChinaSteps(Actor):
    """China (optional): enforces a share of the sanctions on trade through China, more as it
    trusts the DPRK less."""

    code = CHINA

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_china_dprk)
        self.enforcement = full(p.china_enforcement)  # share of sanctioned trade enforced

    def enforce(self):
        """Set and return this week's enforcement (:func:`rules.china_enforcement`; the constant
        parameter in runs without China)."""
        p = self.params
        enforced = rules.china_enforcement(p.china_enforcement, self.trust[DPRK], p.trust_china_dprk, p.china_trust_sensitivity)
        self.enforcement = rules.where(self.present, enforced, p.china_enforcement)
        return self.enforcement


class JapanSteps(Actor):
    """Japan (optional): favours pressure; its lobbying shortens the lag of new sanctions."""

    code = JAPAN

    def start(self, p, full: Full) -> None:
        super().start(p, full)
        self.trust[DPRK] = full(p.trust_japan_dprk)
