"""The prior: independent uniforms over the parameter table's ranges of the calibrated
parameters (the table's ranges need no repair: ``hawkes_ratio`` below 0.95 keeps the test
process stationary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.params import TABLE, Params

from ...errors import UserError

CALIBRATED_PARAMETERS = (
    "test_baseline_rate",
    "hawkes_ratio",
    "threat_hazard_weight",
    "reactance_hazard_weight",
    "progress_hazard_weight",
    "moratorium_hazard_weight",
    "red_line_cost",
    "progress_per_test",
    "dprk_talk_base",
    "dprk_talk_progress_weight",
    "dprk_talk_stress_weight",
    "stress_gain",
    "inter_korean_rate",
    "us_dprk_rate",
    "rung_distance_cost",
    "suspend_per_package",
    "summit_rate",
)
"""The uncertainties the 2016-2018 record can inform: testing (baseline, self-excitation,
reactance to new sanctions, threat, completion, the moratorium), the ladder's red line, and the
talks process."""

DECADE_PARAMETERS = CALIBRATED_PARAMETERS + (
    # what the headline effects rest on: the stance, the exercise policy, the US's willingness
    "precondition_cost",
    "pressure_first_penalty",
    "alignment_gap",
    "threat_gain",
    "signal_exercise_llr",
    "signal_suspension_llr",
    "suspend_per_exercise",
    "us_talk_base",
    "dprk_talk_threat_weight",
    # model version 3's testing tracks and the DPRK's reasons to talk or stay away
    "dprk_talk_expectation_weight",
    "substrategic_talks_weight",
    "talks_memory_weight",
    "talks_memory_decay",
)
"""The uncertainties a record of several years (2009-2018) is asked to inform: those of
:data:`CALIBRATED_PARAMETERS`, the parameters the stance, exercise and talks effects rest on, and
model version 3's testing tracks and memory of failed talks. The deal's parameters
(``step_cost_scale``, ``deal_trust_threshold``, ``deal_trust_weight``, ``deal_stress_weight``,
``statement_base``) and ``spoiler_reactance`` are left out: the record holds no summit deal and one
summit (a statement), and its one spoiler during talks drew no test, so they keep their stated
defaults (assumptions, flagged wherever P(deal) is reported) rather than values drawn from a prior
the record does not narrow (a fit that included them left each at 0.82-0.90 of its prior's width
and put the point estimate where no deal is possible)."""


@dataclass(frozen=True)
class UniformPrior:
    """Independent uniforms on ``[low, high]`` per parameter of ``names``."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def over(cls, base: Params, parameters: tuple[str, ...] = CALIBRATED_PARAMETERS) -> UniformPrior:
        """The prior of ``parameters`` (only uncertainties can be calibrated) given the other
        values ``base`` (unused since the table's ranges need no repair; kept for priors that do)."""
        unknown = [name for name in parameters if name not in TABLE or TABLE[name].kind != "uncertainty"]
        if unknown:
            raise UserError(f"cannot calibrate {unknown}: only uncertainties can be calibrated")
        low, high = _prior_bounds(base, tuple(parameters))
        return cls(tuple(parameters), low, high)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws (rows) from the prior."""
        return rng.uniform(self.low, self.high, size=(n, len(self.low)))

    def bounds(self) -> tuple[dict[str, float], dict[str, float]]:
        """The bounds as two dicts (name -> low, name -> high)."""
        return (
            dict(zip(self.names, self.low.tolist(), strict=True)),
            dict(zip(self.names, self.high.tolist(), strict=True)),
        )


def prior_bounds(base: Params, parameters: tuple[str, ...]) -> tuple[dict[str, float], dict[str, float]]:
    """The uniform prior's bounds actually sampled for each parameter, as two dicts."""
    low, high = _prior_bounds(base, parameters)
    return dict(zip(parameters, low.tolist(), strict=True)), dict(zip(parameters, high.tolist(), strict=True))


def _prior_bounds(base: Params, parameters: tuple[str, ...] = CALIBRATED_PARAMETERS) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the uniform prior of each calibrated parameter."""
    low, high = [], []
    for name in parameters:
        row = TABLE[name]
        lo, hi = row.low, row.high
        low.append(lo)
        high.append(hi)
    return np.array(low, dtype=float), np.array(high, dtype=float)
