"""Propagating the calibration posterior into policy experiments.

A policy sweep at the calibrated point answers "what if the calibrated values were true?"; its
intervals are Monte Carlo error only. A config's ``[posterior]`` table asks instead "what does
the record, through the calibration, let us say?": each *scenario* of the design is one draw
from the posterior sample (``data/calibration_posterior.csv``, written by
``escalation calibrate --install``), drawn by weight, and it carries

* the drawn particle's values of the calibrated uncertainties, and
* the start state (stress, threat, progress, alignment, trust) that the particle's own replay
  of the calibration scenario reaches on 26 February 2018 (the median of
  :data:`STATE_REPLICATES` replays, as for the calibrated point), so that each draw starts
  where its own history leaves off.

Every policy runs the same draws with the same seeds (common random numbers), so contrasts stay
paired. With ``replicates = 1`` each run is an independent draw from the posterior predictive
distribution and the pooled Wilson intervals of the analysis are intervals for the posterior
predictive (posterior-averaged) probability; with more replicates per draw the pooled intervals
are conditional on the drawn particles (narrower than the posterior uncertainty warrants), and
:func:`experiments.analysis.posterior_spread` gives the posterior average with a t interval over
the draws and the spread of the per-draw estimates (the report's "Across the posterior").

Where this module sits: it holds everything a ``[posterior]`` sweep needs from the calibration
(the installed sample's path and reader, the draws, the start-state parameters and the replay
that gives each draw its start state), and nothing of the ABC-SMC itself
(:mod:`experiments.history.calibration` imports it, not the reverse). The sweep's config and
design import it: a posterior sweep is a sweep over what the history taught, so
:mod:`experiments.sweep` sits above :mod:`experiments.history`, which needs from below only the
replicate seeds (:mod:`experiments.seeds`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from model.batched import BatchedEngine, ParamArrays, stack_schedules
from model.params import CALIBRATED_FILE, TABLE, ParameterError, Params
from model.rules import SUSPENDED_TALKS

from ..errors import UserError
from ..seeds import replicate_seeds
from .scenario import Scenario, load_scenario

POSTERIOR_STREAM = 0x9057
"""Mixed into the experiment seed for the posterior draws (never coincides with the replicate seeds)."""
STATE_REPLICATES = 100
"""Replays per draw whose median state on 26 February 2018 is the draw's start state."""
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
HISTORY_SCENARIO = SCENARIOS / "history_2016_2018.toml"
"""The scenario replayed for each draw's start state when the installed calibration names none."""


def fitted_scenario() -> Path:
    """The scenario the installed calibration fitted (``model/calibrated.toml``'s ``[method]
    scenario``), replayed for each draw's start state: the state on 26 February 2018 is the one
    the fitted history reaches under the draw's parameters."""
    if CALIBRATED_FILE.is_file():
        name = tomllib.loads(CALIBRATED_FILE.read_text(encoding="utf-8")).get("method", {}).get("scenario")
        if name and (SCENARIOS / f"{name}.toml").is_file():
            return SCENARIOS / f"{name}.toml"
    return HISTORY_SCENARIO


STATE_DATE = dt.date(2018, 2, 26)
STATE_PARAMETERS = {  # parameter table name -> the quantity it starts (model.week.QUANTITIES)
    "initial_stress": "dprk_stress",
    "initial_threat": "dprk_threat",
    "initial_reactance": "dprk_reactance",
    "initial_progress": "dprk_progress",
    "initial_excitation": "dprk_excitation",
    "initial_strategic_excitation": "dprk_strategic_excitation",
    "initial_talks_memory": "dprk_talks_memory",
    "initial_rung": "dprk_last_rung",
    "initial_step": "dprk_step",
    "initial_moratorium": "moratorium",
    "initial_expected_relief": "expected_relief",
    "initial_alignment": "alignment",
    "initial_stage": "talks_stage",
    "initial_resume_stage": "resume_stage",
    "initial_china_memory": "china_memory",
    "trust_us_dprk": "trust_us_in_dprk",
    "trust_dprk_us": "trust_dprk_in_us",
    "trust_rok_dprk": "trust_rok_in_dprk",
    "trust_china_dprk": "trust_china_in_dprk",
    "trust_japan_dprk": "trust_japan_in_dprk",
    "trust_dprk_rok": "trust_dprk_in_rok",
}
"""Every state variable a run starts from, as the parameter that sets it and the quantity that
reads it. Continuous ones take the replays' median, discrete ones (stage, step, moratorium, last
rung) their most common value; the stage suspended talks resume at, its most common value among
the replays with talks suspended. ``initial_progress`` is one value for the five rungs: the
strategic programme's (rungs 4-5), the one the hazard, the moratorium and the talks read."""
POSTERIOR_FILE = Path(__file__).resolve().parents[2] / "data" / "calibration_posterior.csv"
"""The installed posterior sample (``escalation calibrate --install`` writes it beside the record)."""


def default_posterior_file() -> Path:
    """The installed posterior sample."""
    return POSTERIOR_FILE


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits): part of the config hash, so results from
    another posterior are never mixed with these."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def read_posterior(path: str | Path) -> pd.DataFrame:
    """A posterior sample as written by ``escalation calibrate``: one row per particle, a
    ``weight`` column and one column per calibrated uncertainty. Columns not named after a
    parameter (the simulated summaries, the distance) are ignored; one naming a lever, a
    constant or a start-state parameter (which each draw replays) is an error, as is any other
    problem: a one-line :class:`UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"posterior file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not a readable CSV file ({str(error).splitlines()[0]})") from None
    for column in raw.columns:
        if column in STATE_PARAMETERS:
            raise UserError(
                f"{path}: column '{column}' is part of the start state, which each draw replays rather "
                "than samples; remove the column"
            )
        if column in TABLE and (TABLE[column].kind != "uncertainty" or TABLE[column].dtype is not float):
            kind = TABLE[column].kind
            what = (
                "a lever"
                if kind == "lever"
                else "a constant"
                if kind == "constant"
                else "an integer-valued uncertainty"
            )
            raise UserError(
                f"{path}: column '{column}' names {what}; a posterior sample holds real-valued "
                "uncertainties only (`escalation params` lists them)"
            )
    names = [c for c in raw.columns if c in TABLE]
    if "weight" not in raw.columns or not names:
        raise UserError(
            f"{path}: a posterior sample needs a 'weight' column and at least one column named after a "
            "real-valued uncertainty (`escalation params` lists them)"
        )
    frame = raw[[*names, "weight"]]
    if frame.isna().any().any() or not all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame):
        raise UserError(f"{path}: the weight and parameter columns must hold numbers in every row")
    weights = frame["weight"].to_numpy(dtype=float)
    with np.errstate(over="ignore"):
        total = weights.sum()
    if (weights < 0).any() or not np.isfinite(total) or total <= 0:
        raise UserError(f"{path}: weights must be finite and non-negative with a positive (finite) sum")
    try:  # ranges and cross-parameter constraints, all particles at once
        ParamArrays.from_arrays(Params(), {name: frame[name].to_numpy(dtype=float) for name in names})
    except ParameterError as error:
        raise UserError(f"{path}: {error}") from None
    return frame.reset_index(drop=True)


def draw_particles(posterior: pd.DataFrame, samples: int, seed: int, stream: int = POSTERIOR_STREAM) -> np.ndarray:
    """Row numbers of ``samples`` particles drawn with replacement, in proportion to their weights
    (random numbers from ``[seed, stream]``)."""
    weights = posterior["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng([seed, stream])
    return rng.choice(len(posterior), size=samples, p=weights / weights.sum())


def posterior_scenarios(posterior: pd.DataFrame, samples: int, seed: int) -> pd.DataFrame:
    """The design's scenarios: one row per draw with ``particle`` (the row of the posterior
    sample), the particle's parameter values and its own start state on 26 February 2018."""
    drawn = draw_particles(posterior, samples, seed)
    names = [c for c in posterior.columns if c != "weight"]
    values = posterior.iloc[drawn][names].reset_index(drop=True)
    history = load_scenario(fitted_scenario())
    unique, inverse = np.unique(drawn, return_inverse=True)
    points = [history.params.replace(**posterior.iloc[i][names].to_dict()) for i in unique]
    states = start_states(history, points, replicates=STATE_REPLICATES).iloc[inverse].reset_index(drop=True)
    frame = pd.concat([pd.Series(drawn, name="particle"), values, states[list(STATE_PARAMETERS)]], axis=1)
    return frame


def start_state(
    scenario: Scenario, replicates: int = 1000, seed: int = 2018, date: dt.date = STATE_DATE
) -> dict[str, float]:
    """State of the replay at the start of the week containing ``date`` (the median of the
    replays; the most common value of a discrete state variable: see :data:`STATE_PARAMETERS`)."""
    return start_states(scenario, [scenario.params], replicates, seed, date).iloc[0].to_dict()


def start_states(
    scenario: Scenario, points: list[Params], replicates: int = 1000, seed: int = 2018, date: dt.date = STATE_DATE
) -> pd.DataFrame:
    """For each parameter set of ``points`` (with ``scenario``'s lever schedule), the state of
    ``replicates`` replays at the start of the week containing ``date`` (median, or most common
    value; :data:`STATE_PARAMETERS`): one row per point,
    one column per :data:`STATE_PARAMETERS` name. Every point replays the same seeds."""
    weeks = scenario.week_of(date) - 1
    if weeks < 1:
        raise UserError(f"{date} is not after the scenario's start {scenario.start}")
    point_index = np.repeat(np.arange(len(points), dtype=np.intp), replicates)
    seeds = np.tile(replicate_seeds(seed, replicates), len(points))
    engine = BatchedEngine(
        ParamArrays.from_points(points, point_index), seeds, stack_schedules([scenario.schedule()], weeks)
    )
    engine.run(weeks)
    out = {}
    for name, quantity in STATE_PARAMETERS.items():
        values = engine.quantity(quantity).reshape(len(points), replicates)
        row = TABLE[name]
        if row.dtype is float:
            out[name] = np.median(values, axis=1)
        else:
            per_point = list(values)
            if name == "initial_resume_stage":  # among the runs suspended on the date (the default if none)
                stages = engine.quantity("talks_stage").reshape(len(points), replicates)
                per_point = [
                    v[s == SUSPENDED_TALKS] if (s == SUSPENDED_TALKS).any() else np.array([row.default])
                    for v, s in zip(values, stages, strict=True)
                ]
            modes = [int(np.bincount(np.asarray(v, dtype=np.int64)).argmax()) for v in per_point]
            out[name] = [bool(m) if row.dtype is bool else m for m in modes]
    return pd.DataFrame(out)
