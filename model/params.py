"""The one parameter table of the model, and the validated ``Params`` object built from it.

Every number the model uses lives in :data:`TABLE`, with its default, allowed range, unit,
kind and source. Code reads defaults from here, ``docs/ODD.md`` prints this table (a test
fails when the two disagree), ``escalation params`` prints it, and the experiment machinery
samples uncertainties within the ranges given here.

Kinds follow the EMA Workbench vocabulary:

* ``lever`` -- a policy we choose (sanctions, exercise policy, engagement stance, mediation);
* ``uncertainty`` -- a behavioural parameter we do not know and should sweep or calibrate;
* ``constant`` -- a structural choice or a quantity fixed by the record.

Sources are a citation (Rogin 2018 is the column the model encodes; the others are in
``docs/ODD.md``'s references), ``record`` (the 2009-2018 monthly record in ``data/``) or
``assumption``. Where ``calibrated`` appears the default
comes from the fit described in ``docs/ODD.md``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

Kind = Literal["lever", "uncertainty", "constant"]

EXERCISE_POLICIES: tuple[str, ...] = (
    "as_scheduled",
    "scaled_down",
    "delayed",
    "suspended_during_talks",
    "suspended",
    "dual_suspension",
)
"""Exercise-policy lever values, in the order of their integer codes."""

ENGAGEMENT_STANCES: tuple[str, ...] = ("pressure_first", "pressure_and_engagement")
"""Engagement-stance lever values, in the order of their integer codes (0, 1)."""


DATE_RANGE = (_dt.date(1950, 1, 1), _dt.date(2100, 12, 31))
"""Dates the model accepts (start dates, scenario dates): the calendar is computed within them."""


class ParameterError(ValueError):
    """A parameter name or value that the table does not allow; the message is one line."""


@dataclass(frozen=True)
class Parameter:
    """One row of the parameter table.

    ``low``/``high`` bound numeric parameters (inclusive); ``choices`` lists the allowed
    values of a categorical one. ``dtype`` is one of ``float``, ``int``, ``bool``, ``str``
    or ``"date"``.
    """

    name: str
    default: Any
    kind: Kind
    unit: str
    meaning: str
    source: str
    dtype: Any = float
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    @property
    def allowed(self) -> str:
        """The allowed values in words, as error messages and the docs print them."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.dtype is bool:
            return "true or false"
        if self.dtype == "date":
            return f"a date YYYY-MM-DD from {DATE_RANGE[0]} to {DATE_RANGE[1]}"
        return f"{_fmt(self.low)} to {_fmt(self.high)}"

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (possibly a string from the command line) to this parameter's type
        and check it is allowed; raise :class:`ParameterError` with a one-line message."""
        try:
            value = self._convert(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{self.name}={value!r} is not valid: allowed {self.allowed} ({self.unit})") from None
        if self.choices is not None and value not in self.choices:
            hint = closest_name(str(value), self.choices)
            raise ParameterError(f"{self.name}={value!r} is not allowed{hint}: allowed {self.allowed}")
        if self.low is not None and not (self.low <= value <= self.high):
            raise ParameterError(f"{self.name}={_fmt(value)} is out of range: allowed {self.allowed} ({self.unit})")
        return value

    def _convert(self, value: Any) -> Any:
        if self.dtype is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"true", "1", "yes", "on"}:
                return True
            if text in {"false", "0", "no", "off"}:
                return False
            raise ValueError(value)
        if self.dtype is int:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if self.dtype is float:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if self.dtype == "date":
            date = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))
            if not DATE_RANGE[0] <= date <= DATE_RANGE[1]:
                raise ValueError(value)
            return date.isoformat()
        return str(value)


def _fmt(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def closest_name(name: str, options: Any) -> str:
    """ " (did you mean 'x'?)" for the option closest to ``name``, or "" when none is close."""
    match = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _p(name, default, kind, unit, meaning, source, low=None, high=None, dtype=float, choices=None):
    return Parameter(name, default, kind, unit, meaning, source, dtype, low, high, choices)


# fmt: off
TABLE: dict[str, Parameter] = {p.name: p for p in [
    # ---- levers: the policies users choose -------------------------------------------------
    _p("sanctions_level", 0.95, "lever", "share of DPRK exports banned",
       "Sanctions level at the start: share of DPRK exports under sanctions",
       "UNSC Resolution 2397 (Dec 2017): about 0.95 of exports banned; assumption for the share", 0.0, 1.0),
    _p("sanctions_escalation", 0.5, "lever", "share of remaining gap",
       "Each new sanctions package closes this share of the gap between the level and 1",
       "record: UNSCR 2270-2397 closed 0.28-0.71 of the gap (median about 0.5)", 0.0, 1.0),
    _p("endogenous_sanctions", True, "lever", "switch",
       "The US answers each ICBM or nuclear test with a new sanctions package (the automatic ratchet); "
       "false: sanctions stay at the policy's level, so sanctions_level 0 means no sanctions",
       "record (F2: each nuclear test or ICBM salvo drew a UNSC resolution within 1-12 weeks)", dtype=bool),
    _p("spoiler_week", 0, "lever", "week (0 = none)",
       "Week in which a new 'toughest ever' sanctions package is announced; 0 means no announcement",
       "Rogin (2018): Pence in Tokyo, Feb 2018", 0, 520, int),
    _p("exercise_policy", "as_scheduled", "lever", "policy",
       "US-ROK exercise policy", "Rogin (2018): the exercise delay Pyongyang wants", dtype=str, choices=EXERCISE_POLICIES),
    _p("exercise_delay_weeks", 4, "lever", "weeks",
       "Delay of the next exercise season under the 'delayed' policy",
       "record: spring 2018 exercises delayed about 4 weeks", 0, 26, int),
    _p("exercise_scale", 0.5, "lever", "share of full intensity",
       "Intensity of exercises held under the 'scaled_down' policy",
       "record: Foal Eagle 2018 about 4 weeks instead of 8, no strategic assets", 0.0, 1.0),
    _p("engagement_stance", "pressure_and_engagement", "lever", "stance",
       "US stance: talks only after concessions, or talks without preconditions while pressure continues",
       "Rogin (2018): Pence, 'maximum pressure and engagement at the same time'",
       dtype=str, choices=ENGAGEMENT_STANCES),
    _p("rok_mediation", 0.8, "lever", "effort 0-1",
       "South Korean mediation effort (Moon urging inter-Korean and US-DPRK contact)",
       "Rogin (2018); assumption for the level", 0.0, 1.0),

    # ---- constants: structure and quantities fixed by the record --------------------------
    _p("start_date", "2018-02-26", "constant", "date",
       "Date of the first simulated week (default: the week after the 2018 Winter Olympics)",
       "Rogin (2018); record", dtype="date"),
    _p("include_china", True, "constant", "switch",
       "China is an agent whose sanctions enforcement responds to DPRK tests",
       "assumption (model structure)", dtype=bool),
    _p("include_japan", True, "constant", "switch",
       "Japan is an agent that lobbies for new sanctions after tests",
       "assumption (model structure)", dtype=bool),
    _p("china_trade_share", 0.95, "constant", "share of DPRK trade",
       "Share of DPRK trade that runs through China",
       "assumption (about 95% of DPRK trade runs through China, trade statistics as reported in the record's sources)", 0.0, 1.0),
    _p("sanctions_trigger_rung", 4, "constant", "rung",
       "Lowest test rung that draws a new sanctions package (4 ICBM, 5 nuclear)",
       "record (F2: each nuclear test or ICBM salvo drew a UNSC resolution)", 1, 5, int),
    _p("initial_rung", 4, "constant", "rung",
       "Rung of the DPRK's last test before the run starts (0 = none)",
       "record: Hwasong-15 ICBM, 29 Nov 2017", 0, 5, int),

    # ---- uncertainties: testing (Hawkes hazard, escalation ladder) ------------------------
    _p("test_baseline_rate", 0.35, "uncertainty", "tests per week",
       "Baseline test rate mu0 before threat, reactance, progress and talks modify it",
       "record: 33 test events in 104 weeks of 2016-17; Hess (2018)", 0.0, 3.0),
    _p("hawkes_ratio", 0.4, "uncertainty", "tests per test",
       "Self-excitation: further tests each test triggers on average (Hawkes branching ratio alpha/beta; "
       "below 1 the process is stationary)",
       "Hess (2018): a recent provocation is the best predictor of the next", 0.0, 0.95),
    _p("hawkes_beta", 1.0, "uncertainty", "per week",
       "Decay rate of the self-excitation (Hawkes beta; the jump after a test is alpha = ratio * beta)",
       "record: median gap between launch days about 16 days", 0.05, 5.0),
    _p("threat_hazard_weight", 1.0, "uncertainty", "log-rate per unit threat",
       "How perceived threat raises the baseline test rate", "assumption", 0.0, 5.0),
    _p("reactance_hazard_weight", 1.5, "uncertainty", "log-rate per unit reactance",
       "How a new sanctions package raises the baseline test rate (spoiler)",
       "Rogin (2018): 'may resume testing ... as after past Olympic detentes'", 0.0, 5.0),
    _p("progress_hazard_weight", 2.5, "uncertainty", "log-rate per unit progress",
       "How completion of the strategic programme (mean progress at rungs 4-5) lowers the need to test",
       "record (F3: no launches after the declared completion, Nov 2017)", 0.0, 10.0),
    _p("reactance_decay", 0.25, "uncertainty", "per week",
       "Weekly decay of reactance to a sanctions package", "assumption", 0.0, 1.0),
    _p("reactance_per_package", 1.0, "uncertainty", "reactance units",
       "Reactance added by each new sanctions package", "assumption", 0.0, 5.0),
    _p("progress_per_test", 0.1, "uncertainty", "share of remaining gap",
       "Share of the remaining development gap at its rung that a test closes",
       "record: about 33 tests from 2016 to the Nov 2017 completion", 0.0, 1.0),
    _p("initial_progress", 0.9, "uncertainty", "share 0-1",
       "Development progress at every rung at the start (one value for the five rungs)",
       "record: completion declared Nov 2017", 0.0, 1.0),

    # ---- uncertainties: stress and threat -------------------------------------------------
    _p("stress_gain", 0.1, "uncertainty", "per week",
       "Rate at which effective sanctions raise DPRK economic stress",
       "record: exports $2.8bn (2016) -> $1.77bn (2017) -> $0.24bn (2018)", 0.0, 1.0),
    _p("stress_recovery", 0.05, "uncertainty", "per week",
       "Rate at which economic stress relaxes (adaptation, evasion)", "assumption", 0.0, 1.0),
    _p("initial_stress", 0.5, "uncertainty", "share 0-1",
       "DPRK economic stress at the start", "assumption", 0.0, 1.0),
    _p("threat_gain", 0.5, "uncertainty", "per week at full intensity",
       "Rate at which a held exercise raises threat perceived by the DPRK",
       "Rogin (2018): the exercises are the concession Pyongyang wants; assumption for the level", 0.0, 2.0),
    _p("threat_decay", 0.3, "uncertainty", "per week",
       "Weekly decay of perceived threat", "assumption", 0.0, 1.0),
    _p("initial_threat", 0.3, "uncertainty", "share 0-1",
       "Threat perceived by the DPRK at the start", "assumption", 0.0, 1.0),

    # ---- uncertainties: trust (Kydd 2005 Bayesian updating) -------------------------------
    _p("signal_test_llr", 0.2, "uncertainty", "log likelihood ratio per rung",
       "How strongly a test at rung r signals a greedy DPRK (log LR = value * r)",
       "Kydd (2005): costly signals move trust", 0.0, 5.0),
    _p("signal_quiet_llr", 0.02, "uncertainty", "log likelihood ratio per week",
       "How strongly a week without tests signals a security seeker (cheap signal)",
       "Kydd (2005): cheap signals barely move trust", 0.0, 1.0),
    _p("signal_exercise_llr", 0.05, "uncertainty", "log likelihood ratio per week",
       "How strongly a held exercise week signals a hostile alliance to the DPRK", "assumption", 0.0, 5.0),
    _p("signal_suspension_llr", 0.15, "uncertainty", "log likelihood ratio per week",
       "How strongly a scheduled exercise week forgone signals a benign alliance (costly signal)",
       "Kydd (2005); Osgood (1962) GRIT", 0.0, 5.0),
    _p("signal_sanctions_llr", 0.2, "uncertainty", "log likelihood ratio per package",
       "How strongly a new sanctions package signals a hostile alliance", "assumption", 0.0, 5.0),
    _p("trust_us_dprk", 0.2, "uncertainty", "probability",
       "US belief that the DPRK is a security seeker, at the start", "assumption", 0.0, 1.0),
    _p("trust_rok_dprk", 0.5, "uncertainty", "probability",
       "ROK belief that the DPRK is a security seeker, at the start",
       "Rogin (2018): Moon's engagement; assumption", 0.0, 1.0),
    _p("trust_china_dprk", 0.6, "uncertainty", "probability",
       "Chinese belief that the DPRK is a security seeker, at the start", "assumption", 0.0, 1.0),
    _p("trust_japan_dprk", 0.1, "uncertainty", "probability",
       "Japanese belief that the DPRK is a security seeker, at the start", "assumption", 0.0, 1.0),
    _p("trust_dprk_us", 0.2, "uncertainty", "probability",
       "DPRK belief that the US is a security seeker, at the start", "assumption", 0.0, 1.0),
    _p("trust_dprk_rok", 0.4, "uncertainty", "probability",
       "DPRK belief that the ROK is a security seeker, at the start", "assumption", 0.0, 1.0),
    _p("trust_allies", 0.85, "constant", "probability",
       "Trust between the US, ROK, Japan and China toward each other (held fixed)",
       "assumption", 0.0, 1.0),

    # ---- uncertainties: willingness to talk (logit choice) --------------------------------
    _p("logit_precision", 3.0, "uncertainty", "1/utility",
       "Precision lambda of the logit (quantal-response) choice", "Signorino (1999)", 0.0, 20.0),
    _p("dprk_talk_base", -0.5, "uncertainty", "utility",
       "DPRK utility of talking, before stress, trust and threat", "assumption", -5.0, 5.0),
    _p("dprk_talk_stress_weight", 1.5, "uncertainty", "utility per unit stress",
       "How economic stress raises the DPRK's wish to talk", "assumption (pressure brings the DPRK to talks)", 0.0, 5.0),
    _p("dprk_talk_trust_weight", 2.0, "uncertainty", "utility per unit trust",
       "How trust toward the US raises the DPRK's wish to talk", "Kydd (2005)", 0.0, 5.0),
    _p("dprk_talk_threat_weight", 1.0, "uncertainty", "utility per unit threat",
       "How perceived threat lowers the DPRK's wish to talk (spiral)", "Jervis (1976)", 0.0, 5.0),
    _p("dprk_talk_progress_weight", 1.0, "uncertainty", "utility per unit progress",
       "How a completed weapons programme raises the DPRK's wish to talk (bargaining from strength)",
       "record (Kim's 2018 New Year offer after the declared completion, Nov 2017)", 0.0, 5.0),
    _p("precondition_cost", 1.0, "uncertainty", "utility",
       "DPRK cost of talks that require concessions first (pressure_first)",
       "Rogin (2018): 'a bridge too far for the Kim regime'", 0.0, 5.0),
    _p("us_talk_base", 0.5, "uncertainty", "utility",
       "US utility of preliminary talks, before trust and stance", "assumption", -5.0, 5.0),
    _p("us_talk_trust_weight", 2.0, "uncertainty", "utility per unit trust",
       "How US trust toward the DPRK raises its willingness to talk", "Kydd (2005)", 0.0, 5.0),
    _p("pressure_first_penalty", 1.0, "uncertainty", "utility",
       "US reluctance to talk before concessions under pressure_first",
       "Rogin (2018): the previous US position", 0.0, 5.0),

    # ---- uncertainties: talks process -----------------------------------------------------
    _p("inter_korean_rate", 0.5, "uncertainty", "per week",
       "Rate of inter-Korean contact at full mediation and willingness",
       "record (F4: talks within a week of the exercise delay)", 0.0, 2.0),
    _p("us_dprk_rate", 0.04, "uncertainty", "per week",
       "Rate of US-DPRK preliminary talks after inter-Korean contact, at full willingness",
       "record (F4: US-DPRK summit about 5 months after the delay)", 0.0, 2.0),
    _p("direct_talks_rate", 0.02, "uncertainty", "per week",
       "Rate of US-DPRK talks without prior inter-Korean contact", "assumption", 0.0, 1.0),

    # ---- uncertainties: alliance, sanctions response, China, Japan ------------------------
    _p("initial_alignment", 0.6, "uncertainty", "share 0-1",
       "US-ROK alliance alignment at the start", "Rogin (2018): 'were not aligned' before the meetings", 0.0, 1.0),
    _p("alignment_rate", 0.3, "uncertainty", "per week",
       "Rate at which alignment moves toward its target", "assumption", 0.0, 1.0),
    _p("alignment_gap", 0.5, "uncertainty", "share 0-1",
       "Misalignment when the ROK mediates fully while the US insists on pressure_first",
       "Rogin (2018): Washington-Seoul dissonance before the meetings", 0.0, 1.0),
    _p("alignment_effect", 0.3, "uncertainty", "share 0-1",
       "Loss of pressure and of engagement at zero alignment", "assumption (misalignment weakens both pressure and engagement)", 0.0, 1.0),
    _p("sanctions_response_prob", 0.15, "uncertainty", "per week",
       "Weekly probability that a pending sanctions package is adopted (mean lag 1/p)",
       "record (F2: resolutions 1-12 weeks after a major test)", 0.0, 1.0),
    _p("china_enforcement", 0.7, "uncertainty", "share 0-1",
       "Share of sanctioned trade through China that China enforces, at its initial trust",
       "assumption", 0.0, 1.0),
    _p("china_trust_sensitivity", 0.5, "uncertainty", "enforcement per unit trust",
       "How much China's enforcement rises as its trust toward the DPRK falls",
       "record (China suspends coal imports after the Feb 2017 test)", 0.0, 2.0),
    _p("japan_lobby_weight", 0.5, "uncertainty", "relative increase",
       "Relative increase of the sanctions adoption probability when Japan lobbies",
       "Rogin (2018): new sanctions announced in Tokyo; assumption", 0.0, 2.0),

    # ---- version 2: rungs, steps, relief, summits, moratorium, trust, China ---------------
    _p("relief_threshold", 3, "lever", "step (1-4)",
       "Lowest DPRK step that counts as 'meaningful': no relief before it (1 moratorium, 2 test-site "
       "closure, 3 partial dismantlement, 4 full denuclearisation)",
       "Rogin (2018): 'no pressure comes off until ... a meaningful step'; record: the 2018 moratorium and "
       "site demolition brought no relief", 1, 4, int),
    _p("relief_sequencing", "step_for_step", "lever", "rule",
       "Relief granted step for step from the threshold on, or all at the end (full denuclearisation)",
       "Rogin (2018); Fearon (1995)", dtype=str, choices=("step_for_step", "all_at_end")),
    _p("relief_per_step", 0.34, "lever", "share of sanctions and exercises",
       "Relief granted per step at and above the threshold (step-for-step)",
       "assumption (three steps to full relief)", 0.0, 1.0),
    _p("rung_development_weight", 1.0, "uncertainty", "utility per unit gap",
       "How an unfinished capability makes its rung worth testing", "assumption", 0.0, 5.0),
    _p("rung_distance_cost", 0.8, "uncertainty", "utility per rung",
       "Cost of moving the test rung away from the last one", "Kahn (1965): mostly one rung at a time", 0.0, 5.0),
    _p("red_line_cost", 0.5, "uncertainty", "utility",
       "Cost of a test at the ICBM or nuclear rung (a declared red line)",
       "Kahn (1965)", 0.0, 5.0),
    _p("red_line_talks_multiplier", 2.0, "uncertainty", "multiple of the red-line cost",
       "Extra red-line cost while talks are open, under way or suspended (an ICBM or nuclear test ends them)",
       "assumption", 0.0, 10.0),
    _p("summit_rate", 0.08, "uncertainty", "per week",
       "Rate of summits from US-DPRK talks at full willingness of both sides",
       "record: summit accepted 8 Mar 2018, held 12 Jun (about 14 weeks)", 0.0, 1.0),
    _p("summit_spacing", 26, "uncertainty", "weeks",
       "Weeks after a summit until the summit hazard is back to full (it rises linearly from 0)",
       "record (2018: one US-DPRK summit; inter-Korean summits 4 and 16 weeks apart); assumption", 1, 260, int),
    _p("suspend_base", 0.005, "uncertainty", "per week",
       "Baseline hazard that talks in progress are suspended", "assumption", 0.0, 1.0),
    _p("suspend_per_package", 0.5, "uncertainty", "hazard per package",
       "Suspension hazard added by a new sanctions package during talks (spoiler)",
       "Rogin (2018): 'toughest ever' sanctions as a spoiler", 0.0, 5.0),
    _p("suspend_per_exercise", 0.1, "uncertainty", "hazard per week at full intensity",
       "Suspension hazard added by an exercise held during talks",
       "record (16 May 2018: DPRK cancels talks citing Max Thunder)", 0.0, 5.0),
    _p("suspend_per_test", 0.5, "uncertainty", "hazard per test",
       "Suspension hazard added by a test below the ICBM rung during talks",
       "Rogin (2018): 'would halt the diplomatic progress in its tracks'", 0.0, 10.0),
    _p("resume_rate", 0.3, "uncertainty", "per week",
       "Rate at which suspended talks resume at the stage they were in",
       "record (the May 2018 cancellation reversed within days)", 0.0, 2.0),
    _p("suspended_end_rate", 0.05, "uncertainty", "per week",
       "Rate at which suspended talks end for good", "assumption", 0.0, 1.0),
    _p("idle_end_rate", 0.02, "uncertainty", "per week",
       "Hazard that US-DPRK talks end when they have delivered nothing for idle_patience weeks",
       "assumption (talks that deliver nothing wither)", 0.0, 1.0),
    _p("idle_patience", 52, "uncertainty", "weeks",
       "Weeks without a summit, step or relief after which the withering hazard is full", "assumption", 1, 520, int),
    _p("step_cost_low_share", 0.25, "uncertainty", "share of step_cost_high",
       "Lowest DPRK private cost multiplier theta as a share of the highest (theta drawn per run, uniform)",
       "assumption", 0.0, 1.0),
    _p("step_cost_high", 2.0, "uncertainty", "multiplier",
       "Highest DPRK private cost multiplier theta (drawn per run, uniform)", "assumption", 0.0, 10.0),
    _p("step_cost_scale", 0.3, "uncertainty", "utility",
       "Cost of step k is theta * step_cost_scale * k^2", "assumption", 0.0, 5.0),
    _p("step_rate", 0.05, "uncertainty", "per week",
       "Weekly chance of considering the next step during US-DPRK talks", "assumption", 0.0, 1.0),
    _p("step_relief_weight", 2.0, "uncertainty", "utility per unit relief",
       "Value to the DPRK of the relief a step brings", "Fearon (1995); assumption for the level", 0.0, 5.0),
    _p("step_expectation_weight", 1.0, "uncertainty", "utility per unit expected relief",
       "Value to the DPRK of the relief it expects from talks, in the step choice and the summit offer",
       "assumption", 0.0, 5.0),
    _p("step_trust_weight", 1.0, "uncertainty", "utility per unit trust",
       "How trust toward the US makes steps and a moratorium more acceptable", "Kydd (2005)", 0.0, 5.0),
    _p("moratorium_rate", 0.1, "uncertainty", "per week",
       "Weekly chance of considering a test moratorium while talks are under way",
       "record: contact Jan 2018, moratorium declared 20 Apr 2018", 0.0, 1.0),
    _p("moratorium_base", -1.0, "uncertainty", "utility",
       "DPRK utility of declaring a moratorium before expectations, progress and trust", "assumption", -5.0, 5.0),
    _p("moratorium_expectation_weight", 1.0, "uncertainty", "utility per unit expected relief",
       "How expected relief makes a moratorium worth declaring", "assumption", 0.0, 5.0),
    _p("moratorium_progress_weight", 2.0, "uncertainty", "utility per unit progress",
       "How a completed strategic programme makes a moratorium cheap",
       "record (20 Apr 2018 halt after the Nov 2017 declared completion)", 0.0, 5.0),
    _p("moratorium_hazard_weight", 4.0, "uncertainty", "log-rate",
       "How much a declared moratorium lowers the test hazard", "record (no launch from Apr to Dec 2018)", 0.0, 10.0),
    _p("moratorium_break_rate", 0.05, "uncertainty", "per week",
       "Highest weekly hazard that a moratorium breaks when the expected relief falls short", "assumption", 0.0, 1.0),
    _p("moratorium_patience", 0.3, "uncertainty", "expected relief 0-1",
       "Expected relief below which a moratorium mostly erodes", "assumption", 0.0, 1.0),
    _p("summit_expectation", 0.6, "uncertainty", "expected relief 0-1",
       "Expected relief the DPRK holds at least after a summit", "assumption", 0.0, 1.0),
    _p("failure_expectation_cut", 0.5, "uncertainty", "share",
       "Share of expected relief lost after a failed summit", "assumption", 0.0, 1.0),
    _p("expectation_learning", 0.02, "uncertainty", "per week",
       "Rate at which expected relief adapts to the relief granted",
       "assumption (about a year to learn that talks deliver nothing)", 0.0, 1.0),
    _p("initial_expected_relief", 0.1, "uncertainty", "share 0-1",
       "DPRK's expected relief at the start", "assumption", 0.0, 1.0),
    _p("deal_trust_threshold", 0.3, "uncertainty", "probability",
       "Trust both sides need for a summit deal to be credible", "Kydd (2005): the assurance game", 0.0, 1.0),
    _p("signal_failure_llr", 0.5, "uncertainty", "log likelihood ratio",
       "How much a failed summit lowers the trust of both sides", "assumption", 0.0, 5.0),
    _p("failure_reactance", 1.0, "uncertainty", "reactance units",
       "Reactance added by a failed summit (testing resumes after it)", "assumption", 0.0, 5.0),
    _p("trust_depreciation", 0.02, "uncertainty", "per week",
       "Weekly depreciation of every trust toward its prior", "Kydd (2005): types can change; assumption", 0.0, 1.0),
    _p("trust_prior_dprk", 0.2, "uncertainty", "probability",
       "Prior the other states' trust toward the DPRK depreciates toward", "assumption", 0.0, 1.0),
    _p("trust_prior_us", 0.2, "uncertainty", "probability",
       "Prior the DPRK's trust toward the US and the ROK depreciates toward", "assumption", 0.0, 1.0),
    _p("signal_step_llr", 0.5, "uncertainty", "log likelihood ratio per step",
       "How strongly a DPRK step k (or a declared moratorium, k = 1) signals a security seeker",
       "Kydd (2005): costly signals", 0.0, 5.0),
    _p("signal_relief_llr", 1.0, "uncertainty", "log likelihood ratio per unit relief",
       "How strongly relief granted signals a benign US", "Osgood (1962) GRIT", 0.0, 5.0),
    _p("china_test_response", 0.2, "uncertainty", "enforcement per unit memory",
       "How China's enforcement rises with its memory of recent ICBM and nuclear tests",
       "record (coal imports suspended after the Feb 2017 test)", 0.0, 2.0),
    _p("china_talks_relief", 0.15, "uncertainty", "enforcement",
       "How much China relaxes enforcement while talks are under way",
       "record (Kim-Xi meetings Mar-Jun 2018)", 0.0, 1.0),
    _p("china_relief_follow", 0.5, "uncertainty", "enforcement per unit relief",
       "How much China relaxes enforcement as the US grants relief", "assumption", 0.0, 2.0),
    # ---- model version 3: testing tracks, spoilers, summit outcomes, memory of failed talks -----
    _p("substrategic_talks_weight", 1.0, "uncertainty", "log-rate",
       "How much talks under way lower the sub-strategic launch hazard (rungs 1-3), which no moratorium covers",
       "record (2009-2015: short-range launches around talks, four Scuds on 27 Feb 2014; none from Apr "
       "to Dec 2018); assumption for the level", 0.0, 10.0),
    _p("spoiler_reactance", 0.0, "uncertainty", "reactance units",
       "Reactance added by a sanctions package adopted while talks are under way (a spoiler's effect "
       "on testing; outside talks reactance_per_package applies)",
       "record (Max Thunder, May 2018: a meeting cancelled, restored within days, no test); to be calibrated", 0.0, 5.0),
    _p("deal_stress_weight", 2.0, "uncertainty", "utility per unit relief and stress",
       "How economic stress raises the value of relief to the DPRK (the cost of no deal, its "
       "reservation value) in steps and summit offers",
       "Fearon (1995); assumption for the level", 0.0, 5.0),
    _p("deal_trust_weight", 5.0, "uncertainty", "utility per unit trust",
       "How the lower of the two sides' trusts above deal_trust_threshold makes both accept a deal (logit)",
       "Kydd (2005): the assurance game; assumption for the level", 0.0, 20.0),
    _p("statement_base", 1.0, "uncertainty", "utility",
       "Utility of ending a summit without a deal in a statement of principles rather than a failure",
       "record (Singapore, 12 Jun 2018: principles without verified steps, then working-level talks); "
       "assumption for the level", -5.0, 5.0),
    _p("statement_gap_cost", 0.3, "uncertainty", "utility per step",
       "How each step between the DPRK's offer and the step the relief rule needs makes a failure likelier",
       "Fearon (1995): no bargaining range, breakdown; assumption for the level", 0.0, 5.0),
    _p("signal_statement_llr", 0.3, "uncertainty", "log likelihood ratio",
       "How much a summit statement raises the trust of both sides", "Kydd (2005); assumption", 0.0, 5.0),
    _p("dprk_talk_expectation_weight", 2.0, "uncertainty", "utility per unit expected relief",
       "How the relief the DPRK expects talks to bring raises its wish to talk",
       "Fearon (1995): a side bargains for what the other's rule can give; assumption for the level", 0.0, 5.0),
    _p("talks_memory_weight", 1.0, "uncertainty", "utility per remembered failure",
       "How the DPRK's memory of failed summits and collapsed talks lowers its wish to talk",
       "record (F6: years without US-DPRK negotiation after the 2009 and 2012 collapses)", 0.0, 5.0),
    _p("talks_memory_decay", 0.01, "uncertainty", "per week",
       "Weekly decay of the DPRK's memory of failed summits and collapsed talks (0.01: half-life 69 weeks)",
       "record (F6: one envoy visit in the 27 months after April 2009; no negotiation from April 2012 to 2018)",
       0.0, 0.2),
    _p("initial_talks_memory", 0.0, "uncertainty", "remembered failures",
       "The DPRK's memory of failed summits and collapsed talks at the start", "replayed state", 0.0, 10.0),
    _p("china_memory_decay", 0.1, "constant", "per week",
       "Weekly decay of China's memory of major tests", "assumption", 0.0, 1.0),
    _p("initial_stage", 1, "constant", "stage 0-4",
       "Talks stage at the start (0 none, 1 inter-Korean contact, 2 US-DPRK talks, 3 summit-level, 4 suspended)",
       "record: inter-Korean talks from 9 Jan 2018", 0, 4, int),
    _p("initial_resume_stage", 1, "constant", "stage 1-3",
       "Stage that talks suspended at the start resume at",
       "record: inter-Korean contact before the 23 Feb 2018 package", 1, 3, int),
    _p("initial_step", 0, "constant", "step 0-4",
       "DPRK step standing at the start (1 moratorium ... 4 full denuclearisation)", "record", 0, 4, int),
    _p("initial_moratorium", False, "constant", "switch",
       "A declared DPRK test moratorium holds at the start", "record (none before Apr 2018)", dtype=bool),
    _p("initial_excitation", 0.0, "uncertainty", "tests per week",
       "Self-excitation of the sub-strategic launch hazard at the start", "replayed state", 0.0, 5.0),
    _p("initial_strategic_excitation", 0.0, "uncertainty", "tests per week",
       "Self-excitation of the strategic (ICBM and nuclear) test hazard at the start", "replayed state", 0.0, 5.0),
    _p("initial_reactance", 0.0, "uncertainty", "reactance units",
       "Reactance to sanctions at the start", "replayed state", 0.0, 10.0),
    _p("initial_china_memory", 0.0, "uncertainty", "tests",
       "China's memory of recent major tests at the start", "replayed state", 0.0, 20.0),
]}
# fmt: on

CALIBRATED_FILE = Path(__file__).with_name("calibrated.toml")
"""Calibrated values (``escalation calibrate`` writes it): its ``[parameters]`` and
``[initial_state]`` replace the defaults above, and the table's source says so."""
_CALIBRATION_NOTES = {
    "parameters": "calibrated to {scenario} (ABC, model/calibrated.toml)",
    "initial_state": "replayed state on 2018-02-26 under the calibrated parameters (model/calibrated.toml)",
}


def _apply_calibration(table: dict[str, Parameter], path: Path = CALIBRATED_FILE) -> None:
    if not path.is_file():
        return
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    scenario = data.get("method", {}).get("scenario", "the record")
    for section, note in _CALIBRATION_NOTES.items():
        for name, value in data.get(section, {}).items():
            row = table[name]
            source = f"{note.format(scenario=scenario)}; anchor: {row.source}"
            table[name] = replace(row, default=row.coerce(value), source=source)


_apply_calibration(TABLE)


def levers() -> list[str]:
    """Names of the levers (policies users choose)."""
    return [p.name for p in TABLE.values() if p.kind == "lever"]


def uncertainties() -> list[str]:
    """Names of the uncertain behavioural parameters (for sweeps, sensitivity and calibration)."""
    return [p.name for p in TABLE.values() if p.kind == "uncertainty"]


def lookup(name: str) -> Parameter:
    """The table row called ``name``; an unknown name raises :class:`ParameterError`
    suggesting the closest known one."""
    try:
        return TABLE[name]
    except KeyError:
        raise ParameterError(
            f"unknown parameter {name!r}{closest_name(name, TABLE)}; `escalation params` lists them all"
        ) from None


class Params(Mapping[str, Any]):
    """A complete, validated set of parameter values.

    ``Params()`` holds the defaults; ``Params(sanctions_level=0.5)`` overrides some. Values
    are checked against the table when the object is built (unknown names, types and ranges;
    the table has no cross-parameter constraints: a constrained pair is written as a share, such as
    ``hawkes_ratio`` and ``step_cost_low_share``), so a ``Params`` that exists is valid. Read values as
    attributes (``p.sanctions_level``) or as a mapping (``p["sanctions_level"]``).
    """

    __slots__ = ("_values", "_hash")

    def __init__(self, values: Mapping[str, Any] | None = None, /, **overrides: Any) -> None:
        merged = {name: row.default for name, row in TABLE.items()}
        for name, value in {**(values or {}), **overrides}.items():
            merged[name] = lookup(name).coerce(value)
        object.__setattr__(self, "_values", merged)
        object.__setattr__(self, "_hash", hash(tuple(sorted(merged.items()))))

    @classmethod
    def from_strings(cls, assignments: list[str] | Mapping[str, str]) -> Params:
        """Build from ``NAME=VALUE`` strings (the command line's ``--set``) or a mapping of strings."""
        if isinstance(assignments, Mapping):
            return cls(dict(assignments))
        values: dict[str, str] = {}
        for item in assignments:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ParameterError(f"--set expects NAME=VALUE, got {item!r}")
            values[name.strip()] = value.strip()
        return cls(values)

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed (validated again)."""
        return Params(self._values, **changes)

    def as_dict(self) -> dict[str, Any]:
        """All values as a plain dict (JSON-serialisable)."""
        return dict(self._values)

    def changed(self) -> dict[str, Any]:
        """Only the values that differ from the table's defaults."""
        return {k: v for k, v in self._values.items() if v != TABLE[k].default}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is immutable; use .replace(...)")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Params) and self._values == other._values

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self.changed().items())
        return f"Params({changed})"

    def __reduce__(self):
        return (Params, (self._values,))


def table_markdown() -> str:
    """The parameter table as a Markdown table (used by ``docs/ODD.md`` and ``escalation params``)."""
    lines = [
        "| name | kind | default | allowed | unit | meaning | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in TABLE.values():
        default = str(p.default).lower() if p.dtype is bool else _fmt(p.default)
        lines.append(f"| `{p.name}` | {p.kind} | {default} | {p.allowed} | {p.unit} | {p.meaning} | {p.source} |")
    return "\n".join(lines)
