"""What the reported effects rest on: the parameters behind the stance effect, the exercise
policies' effects and P(deal), with the source the parameter table gives each.

The report and the one-screen table quote effects; a referee asks which numbers make them. For
each effect this module names the parameters through which the lever (or the outcome) acts in
the model (``docs/ODD.md``, section 7), reads their value in the sweep and their source from
:data:`model.params.TABLE`, and says which are assumptions and which the calibration fits. A
posterior sweep draws the calibrated ones with each draw and holds the others at one value in
every draw: its intervals do not include their uncertainty (``escalation sensitivity`` varies
them). The parameter lists are checked in ``tests/experiments/analysis/test_assumptions.py``: with
the stance's (or the exercises') parameters at zero, the lever changes no outcome of any run, so
the effect rests on these parameters and on no others; the deal's parameters govern P(deal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.params import TABLE


@dataclass(frozen=True)
class Effect:
    """One reported effect: the lever that makes it (or the outcome it is), how it acts, and the
    parameters it rests on."""

    name: str
    what: str  # how the report names it
    lever: str | None  # the lever whose values the effect compares (None: an outcome)
    column: str | None  # the estimates column the effect is (None: a lever's contrast)
    mechanism: str
    parameters: tuple[str, ...]


EFFECTS = (
    Effect(
        "stance",
        "The stance effect",
        "engagement_stance",
        None,
        "under pressure first the DPRK's utility of talks falls by `precondition_cost` and the US's by "
        "`pressure_first_penalty`, and a mediating South Korea drifts from the US by `alignment_gap` "
        "(ODD 7.3, 7.8)",
        ("precondition_cost", "pressure_first_penalty", "alignment_gap"),
    ),
    Effect(
        "exercises",
        "The exercise-policy effect",
        "exercise_policy",
        None,
        "an exercise held raises the threat the DPRK perceives (`threat_gain`) and signals a hostile "
        "alliance (`signal_exercise_llr`), one forgone signals a benign one (`signal_suspension_llr`), and "
        "one held during talks may suspend them (`suspend_per_exercise`) (ODD 7.1, 7.4, 7.6, 7.8)",
        ("threat_gain", "signal_exercise_llr", "signal_suspension_llr", "suspend_per_exercise"),
    ),
    Effect(
        "deal",
        "P(deal)",
        None,
        "p_deal",
        "a summit ends in a deal when the DPRK's offer (a logit choice) reaches the relief threshold (a lever), "
        "weighing the relief a step brings (`step_relief_weight`, `relief_per_step`, worth more under economic "
        "stress: `deal_stress_weight`) and the relief it expects (`step_expectation_weight`, `summit_expectation`) "
        "against the step's cost (`step_cost_scale`, `step_cost_low_share`, `step_cost_high`), and both sides accept "
        "as far as their trust exceeds `deal_trust_threshold` (`deal_trust_weight`) (ODD 7.9)",
        (
            "deal_trust_threshold",
            "deal_trust_weight",
            "deal_stress_weight",
            "step_cost_scale",
            "step_cost_low_share",
            "step_cost_high",
            "step_relief_weight",
            "relief_per_step",
            "step_expectation_weight",
            "summit_expectation",
        ),
    ),
)
"""The effects the report checks, in the order it lists them."""


def is_assumption(name: str) -> bool:
    """Whether the parameter table marks the parameter's value an assumption (its source says
    "assumption" and the calibration does not fit it)."""
    source = TABLE[name].source
    return "assumption" in source and not is_calibrated(name)


def is_calibrated(name: str) -> bool:
    """Whether the parameter's default comes from the calibration to the record."""
    return TABLE[name].source.startswith("calibrated")


def relevant(levers: Mapping[str, Sequence[Any]], columns: Sequence[str]) -> list[Effect]:
    """The effects a sweep reports: a lever's when the design varies it, an outcome's when the
    estimates table has its column."""
    return [
        effect
        for effect in EFFECTS
        if (effect.lever is not None and len(levers.get(effect.lever, ())) > 1)
        or (effect.column is not None and effect.column in columns)
    ]


def _value(name: str, experiment: Mapping[str, Any]) -> str:
    """The parameter's value in the sweep, as text: a fixed override, a sampled range, or the default."""
    uncertain = experiment.get("uncertainties") or {}
    if experiment.get("posterior") and is_calibrated(name):
        return "drawn from the posterior"
    if name in uncertain:
        low, high = uncertain[name]
        return f"sampled over [{low:g}, {high:g}]"
    value = (experiment.get("params") or {}).get(name, TABLE[name].default)
    return f"= {value:g}" if isinstance(value, int | float) else f"= {value}"


def _parameter(name: str, experiment: Mapping[str, Any]) -> str:
    flag = "**an assumption**; " if is_assumption(name) else ""
    return f"`{name}` {_value(name, experiment)} ({flag}source: {TABLE[name].source})"


def _held(experiment: Mapping[str, Any]) -> str:
    if experiment.get("posterior"):
        return (
            "every posterior draw holds them at these values, so the intervals over the draws do not include "
            "their uncertainty"
        )
    if experiment.get("uncertainties"):
        return 'the scenarios vary only those whose value reads "sampled"'
    return "the intervals are Monte Carlo error at these values"


def section(effects: Sequence[Effect], experiment: Mapping[str, Any]) -> list[str]:
    """Markdown lines for the report: per effect, how it acts and what it rests on, each
    parameter with its value in the sweep and its source, assumptions marked."""
    if not effects:
        return []
    named = [name for effect in effects for name in effect.parameters]
    fitted_any = any(is_calibrated(name) for name in named)
    levers = [effect for effect in effects if effect.lever is not None]
    lines = [
        "## What the effects rest on",
        "",
        "Each effect acts through the parameters below"
        + (" (for a lever's effect: set them to zero and the lever changes no outcome of any run)" if levers else "")
        + ". "
        + ("Those not marked calibrated are" if fitted_any else "None of them is")
        + " fitted to the record: "
        + _held(experiment)
        + "; `escalation sensitivity` varies them.",
        "",
    ]
    for effect in effects:
        fitted = [name for name in effect.parameters if is_calibrated(name)]
        assumed = [name for name in effect.parameters if is_assumption(name)]
        if assumed:
            verdict = (
                f"It rests on {len(assumed)} parameter{'s' if len(assumed) != 1 else ''} marked as an assumption "
                f"({', '.join(f'`{n}`' for n in assumed)})"
            )
        elif len(fitted) == len(effect.parameters):
            verdict = (
                "All of them are calibrated to the record, which narrows them little (docs/ODD.md section 9); "
                "a posterior sweep draws them with the other calibrated parameters"
            )
        else:
            verdict = "None of them is marked as an assumption, but not all their levels are fitted to the record"
        if fitted and len(fitted) < len(effect.parameters):
            verdict += f"; {', '.join(f'`{n}`' for n in fitted)} calibrated"
        lines += [
            f"* **{effect.what}**: {effect.mechanism}. {verdict}. Values: "
            + "; ".join(_parameter(name, experiment) for name in effect.parameters)
            + ".",
        ]
    return [*lines, ""]


def brief(effects: Sequence[Effect]) -> list[str]:
    """One note per effect for the one-screen table: the parameters it rests on, assumptions named."""
    notes = []
    for effect in effects:
        assumed = [name for name in effect.parameters if is_assumption(name)]
        fitted = [name for name in effect.parameters if name not in assumed and is_calibrated(name)]
        others = [name for name in effect.parameters if name not in assumed and name not in fitted]
        parts = []
        if assumed:
            parts.append(f"the assumptions {', '.join(f'`{n}`' for n in assumed)}")
        if others:
            parts.append(f"the uncalibrated {', '.join(f'`{n}`' for n in others)}")
        if fitted:
            parts.append(
                f"the calibrated {', '.join(f'`{n}`' for n in fitted)} (see their width in docs/ODD.md section 9)"
            )
        notes.append(f'{effect.what} rests on {" and ".join(parts)} (report.md: "What the effects rest on").')
    return notes
