"""EscalationModel: the Mesa model of pressure, engagement and talks on the Korean peninsula.

One step is one week. ``step()`` follows the schedule of ``docs/ODD.md`` (section 3); every
mechanism it invokes is a function in :mod:`model.rules`, called through the agents.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import rules
from .agents import DPRK, ROK, US, China, Japan, NorthKorea, SouthKorea, UnitedStates
from .outcomes import OutcomeTally, as_python
from .params import Params
from .policies import LeverSchedule, forgone_exercise, held_exercise
from .rng import RandomStreams

# Decision slots: which of the week's uniforms each random decision uses. Every week draws
# all slots whatever happens, so runs under different policies share their random numbers.
SLOT_TESTS, SLOT_RUNG, SLOT_SANCTIONS, SLOT_COLLAPSE, SLOT_ADVANCE = range(5)

TRAJECTORY_COLUMNS: tuple[str, ...] = (
    "talks_stage",
    "tests",
    "test_rung",
    "exercise_intensity",
    "sanctions_level",
    "effective_pressure",
    "china_enforcement",
    "dprk_stress",
    "dprk_threat",
    "test_hazard",
    "trust_us_dprk",
    "trust_dprk_us",
    "alignment",
)
"""Weekly series collected by the DataCollector, in order (the batched engine uses the same)."""


def new_seed() -> int:
    """A fresh 64-bit seed from the operating system's entropy (recorded on the model)."""
    return secrets.randbits(64)


class EscalationModel(mesa.Model):
    """Weekly model of US, ROK, DPRK, China and Japan, with a talks process.

    Args:
        params: a :class:`~model.params.Params` or a mapping of overrides (validated).
        rng: the integer seed (0 <= seed < 2**64). Every random number of the run is a pure
            function of (seed, week, decision slot); ``None`` draws a fresh seed, kept in
            ``self.seed``.
        levers: a :class:`~model.policies.LeverSchedule` (default: built from the parameters;
            historical scenarios pass their own).
        collect: collect the weekly series with the DataCollector (default). Sweeps that only
            need the outcomes pass ``False``; the outcomes are the same either way.
        **overrides: parameter values overriding ``params`` (``EscalationModel(sanctions_level=0.5)``).

    Example:
        >>> m = EscalationModel(rng=7, engagement_stance="pressure_first").run(52)
        >>> m.outcomes()["talks"] in (True, False)
        True
    """

    def __init__(
        self,
        params: Params | Mapping[str, Any] | None = None,
        rng: int | None = None,
        levers: LeverSchedule | None = None,
        collect: bool = True,
        **overrides: Any,
    ) -> None:
        seed = new_seed() if rng is None else _check_seed(rng)
        super().__init__(rng=seed)
        self.seed = seed
        base = params if isinstance(params, Params) else Params(params or {})
        self.params = base.replace(**overrides) if overrides else base
        self.streams = RandomStreams(seed)
        self.levers = levers if levers is not None else LeverSchedule.from_params(self.params)

        p = self.params
        self.us = UnitedStates(self)
        self.rok = SouthKorea(self)
        self.dprk = NorthKorea(self)
        self.china = China(self) if p.include_china else None
        self.japan = Japan(self) if p.include_japan else None

        self.talks_stage = 0
        self.week_tests = 0
        self.week_rung = 0
        self.exercise_intensity = 0.0
        self._tally = OutcomeTally()
        self.datacollector = mesa.DataCollector(model_reporters=_REPORTERS) if collect else None

    # -- the schedule -------------------------------------------------------------------------

    def step(self) -> None:
        """One week, in the order of the ODD schedule."""
        week = self.steps
        u = self.streams.week(week)
        levers = self.levers.week(week)
        stage_before = self.talks_stage
        pressure_first = levers["pressure_first"]

        # 1. The alliance holds (or forgoes) the week's exercise under its exercise policy.
        held = held_exercise(levers["scheduled_exercise"], levers["exercise_policy"], stage_before, levers["exercise_scale"])
        forgone = forgone_exercise(levers["standard_exercise"], held)

        # 2. The US adopts pending or announced sanctions packages.
        packages = self.us.decide_sanctions(u[SLOT_SANCTIONS], levers, self.japan is not None)

        # 3. China sets its enforcement; the alliance (re)aligns.
        enforcement = self.enforcement()
        self.rok.align(pressure_first, levers["rok_mediation"])

        # 4. The DPRK feels pressure and threat, then tests (or not).
        self.dprk.feel_pressure(self.us.sanctions_level, enforcement, self.rok.alignment, held, packages)
        tests, rung = self.dprk.test(u[SLOT_TESTS], u[SLOT_RUNG], stage_before >= rules.INTER_KOREAN)
        self.us.note_tests(tests, rung)

        # 5. Everyone reads the week's signals and updates trust (Kydd).
        test_llr = rules.test_signal(tests, rung, self.params.signal_test_llr, self.params.signal_quiet_llr)
        for observer in self.observers_of_dprk():
            observer.observe(DPRK, test_llr)
        alliance_llr = rules.alliance_signal(
            held, forgone, packages, self.params.signal_exercise_llr,
            self.params.signal_suspension_llr, self.params.signal_sanctions_llr,
        )
        self.dprk.observe(US, alliance_llr)
        self.dprk.observe(ROK, alliance_llr)

        # 6. Talks advance, stall or collapse.
        stage, collapsed = self.advance_talks(u[SLOT_COLLAPSE], u[SLOT_ADVANCE], tests, held, pressure_first)
        self.talks_stage = int(max(stage, levers["forced_stage"]))
        collapsed = bool(collapsed)

        # 7. Record.
        self.week_tests, self.week_rung, self.exercise_intensity = tests, (rung if tests > 0 else 0), float(held)
        self._tally.record(week, stage_before, self.talks_stage, collapsed, tests, rung)
        self._update_pressures(enforcement)
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def enforcement(self):
        """China's enforcement this week (the constant parameter when China is not modelled)."""
        if self.china is None:
            return self.params.china_enforcement
        self.china.enforce()
        return self.china.enforcement

    def observers_of_dprk(self) -> list:
        """The states that read the DPRK's testing as a signal."""
        return [s for s in (self.us, self.rok, self.china, self.japan) if s is not None]

    def advance_talks(self, u_collapse, u_advance, tests, held, pressure_first):
        """Willingness of both sides (logit), transition rates and the week's stage transition."""
        p = self.params
        dprk_willing = self.dprk.willingness_to_talk(pressure_first)
        us_willing = self.us.willingness_to_talk(pressure_first)
        rates = rules.talks_rates(
            self.rok.mediation, dprk_willing, us_willing,
            rules.alignment_factor(self.rok.alignment, p.alignment_effect),
            self.dprk.trust[US], self.us.trust[DPRK],
            p.inter_korean_rate, p.direct_talks_rate, p.us_dprk_rate, p.negotiation_rate,
        )
        collapse = rules.collapse_hazard(p.collapse_base, tests, held, p.collapse_per_test, p.collapse_per_exercise)
        return rules.next_talks_stage(self.talks_stage, u_collapse, u_advance, collapse, *rates)

    def _update_pressures(self, enforcement) -> None:
        s = self.us.sanctions_level
        self.rok.pressure = s * self.rok.alignment
        if self.china is not None:
            self.china.pressure = s * enforcement
        if self.japan is not None:
            self.japan.pressure = s

    # -- running and results ------------------------------------------------------------------

    def run(self, weeks: int = 52) -> "EscalationModel":
        """Advance ``weeks`` weeks; returns the model so calls chain."""
        for _ in range(int(weeks)):
            self.step()
        return self

    def outcomes(self) -> dict[str, Any]:
        """This run's outcomes as a flat dict (see :data:`model.outcomes.OUTCOME_COLUMNS`)."""
        return as_python(self._tally.result(self.final_state()))

    def final_state(self) -> dict[str, float]:
        """The ``final_*`` outcome values from the current state."""
        nan = float("nan")
        return {
            "final_sanctions_level": self.us.sanctions_level,
            "final_dprk_stress": self.dprk.stress,
            "final_dprk_threat": self.dprk.threat,
            "final_alignment": self.rok.alignment,
            "final_trust_us_dprk": self.us.trust[DPRK],
            "final_trust_dprk_us": self.dprk.trust[US],
            "final_trust_rok_dprk": self.rok.trust[DPRK],
            "final_trust_china_dprk": self.china.trust[DPRK] if self.china is not None else nan,
            "final_trust_japan_dprk": self.japan.trust[DPRK] if self.japan is not None else nan,
        }

    def trajectory(self) -> pd.DataFrame:
        """Weekly series as a tidy DataFrame: one row per week, ``week`` first, then
        :data:`TRAJECTORY_COLUMNS`."""
        if self.datacollector is None:
            raise ValueError("this model was built with collect=False: no weekly series were collected")
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "week", np.arange(1, len(df) + 1, dtype=np.int64))
        return df.astype({"talks_stage": "int64", "tests": "int64", "test_rung": "int64"})


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2**64-1, got {seed!r}")
    return int(seed)


_REPORTERS = {
    "talks_stage": "talks_stage",
    "tests": "week_tests",
    "test_rung": "week_rung",
    "exercise_intensity": "exercise_intensity",
    "sanctions_level": lambda m: float(m.us.sanctions_level),
    "effective_pressure": lambda m: float(m.dprk.pressure),
    "china_enforcement": lambda m: float(m.china.enforcement if m.china is not None else m.params.china_enforcement),
    "dprk_stress": lambda m: float(m.dprk.stress),
    "dprk_threat": lambda m: float(m.dprk.threat),
    "test_hazard": lambda m: float(m.dprk.hazard),
    "trust_us_dprk": lambda m: float(m.us.trust[DPRK]),
    "trust_dprk_us": lambda m: float(m.dprk.trust[US]),
    "alignment": lambda m: float(m.rok.alignment),
}
assert tuple(_REPORTERS) == TRAJECTORY_COLUMNS
