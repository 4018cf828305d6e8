"""Mesa agents: the states. Each keeps its pressure and its trust toward every other state;
the behaviour itself lives in :mod:`model.rules`, which every method here calls.

Trust is the belief that the other state is a security seeker rather than greedy (Kydd 2005).
``pressure`` is the pressure a state applies (US: sanctions level; China: the sanctions it
enforces) or, for the DPRK, the pressure it feels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from . import rules
from .policies import apply_sanctions_floor

if TYPE_CHECKING:
    from .model import EscalationModel

US, ROK, DPRK, CHINA, JAPAN = "US", "ROK", "DPRK", "China", "Japan"
ALL_STATES = (US, ROK, DPRK, CHINA, JAPAN)


class State(mesa.Agent):
    """A state: a name, the pressure it applies or feels, and its trust toward the others."""

    code: ClassVar[str] = ""

    def __init__(self, model: "EscalationModel", trust: dict[str, float], pressure: float = 0.0) -> None:
        super().__init__(model)
        self.pressure = pressure
        self.trust = dict(trust)

    @property
    def params(self):
        return self.model.params

    def observe(self, other: str, log_likelihood_ratio) -> None:
        """Update trust toward ``other`` on a signal (Kydd's Bayes rule, :func:`rules.update_trust`)."""
        self.trust[other] = rules.update_trust(self.trust[other], log_likelihood_ratio)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(pressure={float(self.pressure):.3f})"


def _trust_row(params, own: str, toward_dprk: float) -> dict[str, float]:
    """Initial trust of ``own`` toward every other state: ``toward_dprk`` for the DPRK and
    ``trust_allies`` toward the others."""
    return {s: (toward_dprk if s == DPRK else params.trust_allies) for s in ALL_STATES if s != own}


class UnitedStates(State):
    """Sets and escalates sanctions, chooses the engagement stance, responds to tests."""

    code = US

    def __init__(self, model: "EscalationModel") -> None:
        p = model.params
        super().__init__(model, _trust_row(p, US, p.trust_us_dprk), pressure=p.sanctions_level)
        self.pending_package = np.False_
        self.adopted_package = np.False_

    @property
    def sanctions_level(self) -> float:
        return self.pressure

    def decide_sanctions(self, u, levers, japan_present: bool):
        """Adopt a pending package (with the Japan-shortened lag), add exogenously announced
        ones, apply any scheduled floor; return the number of new packages this week."""
        p = self.params
        adopt_p = rules.sanctions_adoption_probability(p.sanctions_response_prob, p.japan_lobby_weight, japan_present)
        self.adopted_package = rules.package_adopted(self.pending_package, u, adopt_p, levers["endogenous_sanctions"])
        packages = self.adopted_package + levers["announced_packages"]
        level = rules.escalate_sanctions(self.pressure, packages, p.sanctions_escalation)
        self.pressure = apply_sanctions_floor(level, levers["sanctions_floor"])
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


class SouthKorea(State):
    """Mediates (inter-Korean contact first), pushes for exercise flexibility, aligns with the US."""

    code = ROK

    def __init__(self, model: "EscalationModel") -> None:
        p = model.params
        super().__init__(model, _trust_row(p, ROK, p.trust_rok_dprk))
        self.mediation = p.rok_mediation
        self.alignment = p.initial_alignment

    def align(self, pressure_first, mediation) -> None:
        """Set this week's mediation effort (a lever) and move alliance alignment toward its
        target (:func:`rules.alliance_alignment`)."""
        p = self.params
        self.mediation = mediation
        self.alignment = rules.alliance_alignment(
            self.alignment, self.mediation, pressure_first, p.alignment_rate, p.alignment_gap
        )


class NorthKorea(State):
    """Feels sanctions and exercises, tests on a self-exciting escalation ladder, decides whether to talk."""

    code = DPRK

    def __init__(self, model: "EscalationModel") -> None:
        p = model.params
        trust = {s: p.trust_allies for s in ALL_STATES if s != DPRK}
        trust[US], trust[ROK] = p.trust_dprk_us, p.trust_dprk_rok
        super().__init__(model, trust)
        self.stress = p.initial_stress
        self.threat = p.initial_threat
        self.reactance = 0.0
        self.progress = p.initial_progress
        self.excitation = 0.0
        self.hazard = 0.0
        self.last_rung = p.initial_rung

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
        tests = int(rules.poisson_count(self.hazard, u_count))
        rung = int(rules.next_rung(self.last_rung, tests, u_rung, p.ladder_up_prob, p.ladder_down_prob))
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


class China(State):
    """Enforces a share of the sanctions on trade through China; enforces more as it trusts the DPRK less."""

    code = CHINA

    def __init__(self, model: "EscalationModel") -> None:
        p = model.params
        super().__init__(model, _trust_row(p, CHINA, p.trust_china_dprk))
        self.enforcement = p.china_enforcement

    def enforce(self) -> None:
        """Set this week's enforcement from current trust (:func:`rules.china_enforcement`)."""
        p = self.params
        self.enforcement = rules.china_enforcement(
            p.china_enforcement, self.trust[DPRK], p.trust_china_dprk, p.china_trust_sensitivity
        )


class Japan(State):
    """Favours pressure: lobbies for faster sanctions after tests."""

    code = JAPAN

    def __init__(self, model: "EscalationModel") -> None:
        p = model.params
        super().__init__(model, _trust_row(p, JAPAN, p.trust_japan_dprk))
