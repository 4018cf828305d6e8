"""Replay a historical scenario and set it beside the record, month by month; score it; check
the stylised facts F1-F5 (pattern-oriented validation, Grimm et al. 2005).

Weeks are assigned to the month of their first day. Simulated launch events are tests below
the top rung of the ladder (``model.rules.RUNGS``), nuclear tests those at the top rung (the
record counts them separately).

The scores can be computed over any window of months (``score_from``/``score_to``): coverage
of the 50% and 90% predictive intervals, the randomised PIT histogram and the CRPS of monthly
launches beside a naive baseline (a Poisson forecast at the fitted period's mean monthly rate),
see :mod:`experiments.history.scores`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.params import CALIBRATED_FILE, Params
from model.rules import INTER_KOREAN, NO_TALKS, PRELIMINARY, RUNGS

from ..errors import UserError
from ..seeds import replicate_seeds
from ..stats import wilson_interval
from .posterior import draw_particles
from .record import load_record_for, missing_months
from .scenario import Scenario, load_scenario
from .scores import coverage, crps_poisson, crps_sample, pit_histogram, randomised_pit
from .summaries import stage_under_way

PI_LEVELS = {50: (0.25, 0.75), 90: (0.05, 0.95)}
RESPONSE_WEEKS = 12  # F2: sanctions came 1-12 weeks after a major test
QUARTER_MONTHS = 3  # F2: launches in the quarter from a resolution's month vs the quarter before
PIT_STREAM = 0x917  # mixed into the seed for the PIT's randomisation
SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"


def parse_month(text: str | None, option: str) -> pd.Period | None:
    """A YYYY-MM month of a scoring window (None stays None); a one-line error otherwise."""
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}", str(text).strip()) or not 1 <= int(str(text).strip()[5:]) <= 12:
        raise UserError(f"{option} {text!r} is not a month YYYY-MM (e.g. 2018-01)")
    return pd.Period(str(text).strip(), freq="M")


def fitted_period_rate(calibrated: Path = CALIBRATED_FILE) -> tuple[float, str]:
    """The naive baseline's rate: the mean monthly launch count of the record over the period
    the installed calibration fitted (its ``[method] scenario``, a file in
    ``experiments/scenarios``), and a label naming that period."""
    name = tomllib.loads(calibrated.read_text(encoding="utf-8")).get("method", {}).get("scenario", "")
    path = SCENARIOS_DIR / f"{name}.toml"
    if not path.is_file():
        raise UserError(
            f"{calibrated} names the fitted scenario {name!r}, not found in {SCENARIOS_DIR}; "
            "pass a baseline rate explicitly"
        )
    scenario = load_scenario(path)
    record = load_record_for(scenario, None)
    months = week_months(scenario).unique()
    observed = record["launches"].reindex(months).dropna()
    return float(observed.mean()), f"{months[0]} to {months[-1]}"


def week_months(scenario: Scenario) -> pd.PeriodIndex:
    """The month of each simulated week (the month of its first day)."""
    return pd.PeriodIndex([pd.Period(d, freq="M") for d in scenario.week_starts()])


def by_month(weekly: np.ndarray, months_of_weeks: pd.PeriodIndex, how: str = "sum") -> np.ndarray:
    """(weeks, runs) -> (months, runs), summing (or taking the maximum) over each month's weeks."""
    starts = np.flatnonzero(np.r_[True, months_of_weeks[1:] != months_of_weeks[:-1]])
    return (np.add if how == "sum" else np.maximum).reduceat(weekly, starts, axis=0)


def launches_by_month(trajectory: dict[str, np.ndarray], months_of_weeks: pd.PeriodIndex) -> np.ndarray:
    """Simulated launch events (tests below the top rung) per month and run."""
    return by_month(np.where(trajectory["test_rung"] < RUNGS, trajectory["tests"], 0), months_of_weeks)


def nuclear_by_month(trajectory: dict[str, np.ndarray], months_of_weeks: pd.PeriodIndex) -> np.ndarray:
    """Simulated nuclear tests (tests at the top rung) per month and run."""
    return by_month(np.where(trajectory["test_rung"] == RUNGS, trajectory["tests"], 0), months_of_weeks)


def without_resolutions(scenario: Scenario) -> Scenario:
    """The counterfactual of fact F2: ``scenario`` without the sanctions steps within it that set
    a level (the UNSC resolutions); unilateral packages stay, and so does the level reached
    before the scenario starts."""
    return replace(scenario, sanctions=[s for s in scenario.sanctions if s.level is None or s.date < scenario.start])


def resolution_windows(scenario: Scenario, months: pd.PeriodIndex) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each sanctions step that sets a level (a resolution), the positions in ``months`` of
    the quarter starting with its month and of the quarter before; resolutions whose six months
    are not all in ``months`` are left out. The record is monthly, so both the record and the
    simulation are compared on these calendar months."""
    position = {m: i for i, m in enumerate(months)}
    windows = []
    for step in scenario.sanctions:
        if step.level is None:
            continue
        month = pd.Period(step.date, freq="M")
        after = [month + k for k in range(QUARTER_MONTHS)]
        before = [month - QUARTER_MONTHS + k for k in range(QUARTER_MONTHS)]
        if all(m in position for m in after + before):
            windows.append((np.array([position[m] for m in after]), np.array([position[m] for m in before])))
    return windows


def launches_after_resolutions(launches: np.ndarray, windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Launch events in the quarters from the resolutions' months, summed (F2's statistic;
    ``launches``: months first, one series or (months, runs))."""
    return launches[np.concatenate([after for after, _ in windows])].sum(axis=0)


def launch_change(launches: np.ndarray, windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Launches in the quarter after minus the quarter before, summed over resolutions
    (``launches``: months first; works for one series or for (months, runs))."""
    total = np.zeros(launches.shape[1:])
    for after, before in windows:
        total = total + launches[after].sum(axis=0) - launches[before].sum(axis=0)
    return total


def predictive_interval(samples: np.ndarray, level: int, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Central predictive interval of simulated counts: the ``(1-level)/2`` and ``(1+level)/2``
    quantiles (inverted-CDF quantiles, so the bounds are attainable counts; for discrete counts
    the interval covers at least ``level``)."""
    low, high = PI_LEVELS[level]
    return (
        np.quantile(samples, low, axis=axis, method="inverted_cdf"),
        np.quantile(samples, high, axis=axis, method="inverted_cdf"),
    )


@dataclass
class Fact:
    """One stylised fact's verdict: ``passed`` is None when the scenario does not cover it."""

    name: str
    claim: str
    passed: bool | None
    detail: str

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else ("pass" if self.passed else "fail")


class Replay:
    """A scenario run for many replicates on the batched engine, with its weekly series.

    By default every replicate uses the scenario's parameters (the calibrated point). With a
    ``posterior`` sample (:func:`experiments.history.posterior.read_posterior`), each replicate
    draws a particle in proportion to its weight, so the predictive intervals include what the
    record leaves unknown about the parameters (the posterior predictive distribution)."""

    def __init__(
        self,
        scenario: Scenario,
        replicates: int = 500,
        seed: int = 2016,
        record: pd.DataFrame | None = None,
        score_from: str | None = None,
        score_to: str | None = None,
        baseline_rate: float | None = None,
        posterior: pd.DataFrame | None = None,
    ) -> None:
        if replicates < 1:
            raise UserError(f"replicates must be at least 1, got {replicates}")
        self.scenario, self.replicates, self.seed, self.record = scenario, replicates, seed, record
        self.posterior = posterior
        self.particles = None if posterior is None else draw_particles(posterior, replicates, seed)
        """The posterior row each replicate uses (None: the scenario's own parameters)."""
        self.week_months = week_months(scenario)
        self.months = self.week_months.unique()
        self.window = self._window(parse_month(score_from, "--score-from"), parse_month(score_to, "--score-to"))
        self.baseline_rate = baseline_rate
        self.weekly = self._simulate(scenario)

    def _window(self, first: pd.Period | None, last: pd.Period | None) -> tuple[pd.Period, pd.Period]:
        """The scored months [first, last], checked against the scenario (and the record)."""
        first = self.months[0] if first is None else first
        last = self.months[-1] if last is None else last
        if first < self.months[0] or last > self.months[-1]:
            raise UserError(
                f"the scored window {first} to {last} is not inside the scenario's months "
                f"{self.months[0]} to {self.months[-1]}; choose --score-from/--score-to inside them"
            )
        if first > last:
            raise UserError(f"--score-from {first} is after --score-to {last}")
        if self.record is not None:
            gaps = missing_months(pd.PeriodIndex(self.record.index), first, last)
            if gaps:
                raise UserError(
                    f"the record lacks month(s) {gaps} of the scored window {first} to {last}; add their rows to the "
                    "record, or score only months it has (--score-from/--score-to)"
                )
        return first, last

    @property
    def in_window(self) -> np.ndarray:
        """Mask over ``months``: inside the scored window."""
        return np.asarray((self.months >= self.window[0]) & (self.months <= self.window[1]))

    # -- monthly series -------------------------------------------------------------------------

    def _by_month(self, weekly: np.ndarray, how: str = "sum") -> np.ndarray:
        return by_month(weekly, self.week_months, how)

    @cached_property
    def launches(self) -> np.ndarray:
        """Simulated launch events per month and run (tests at rungs 1-4)."""
        return launches_by_month(self.weekly, self.week_months)

    @cached_property
    def nuclear(self) -> np.ndarray:
        """Simulated nuclear tests per month and run."""
        return nuclear_by_month(self.weekly, self.week_months)

    @cached_property
    def talks_active(self) -> np.ndarray:
        """Whether talks were under way (not suspended) in some week of the month, per run."""
        return self._by_month(
            stage_under_way(self.weekly["talks_stage"], INTER_KOREAN).astype(np.int64), how="max"
        ).astype(bool)

    def first_month(self, stage: int) -> np.ndarray:
        """Index (into ``months``) of the first month each run reached ``stage`` (NaN if never)."""
        reached = self._by_month(stage_under_way(self.weekly["talks_stage"], stage).astype(np.int64), how="max").astype(
            bool
        )
        first = reached.argmax(axis=0).astype(float)
        first[~reached.any(axis=0)] = np.nan
        return first

    def first_week(self, stage: int, exactly: bool = False) -> np.ndarray:
        """First week (1-based) each run entered ``stage`` (or ``>= stage``), NaN if never."""
        s = self.weekly["talks_stage"]
        hit = (s == stage) if exactly else stage_under_way(s, stage)
        first = hit.argmax(axis=0).astype(float) + 1
        first[~hit.any(axis=0)] = np.nan
        return first

    def comparison(self) -> pd.DataFrame:
        """Month by month: observed launches, nuclear tests and talks events beside the simulated
        mean, median, 50% and 90% predictive intervals, and P(talks under way)."""
        frame = pd.DataFrame(index=pd.PeriodIndex(self.months, name="month"))
        frame["sim_launches_mean"] = self.launches.mean(axis=1)
        frame["sim_launches_median"] = np.median(self.launches, axis=1)
        for level in PI_LEVELS:
            frame[f"sim_launches_{level}_low"], frame[f"sim_launches_{level}_high"] = predictive_interval(
                self.launches, level, axis=1
            )
        frame["sim_nuclear_mean"] = self.nuclear.mean(axis=1)
        frame["sim_p_talks"] = self.talks_active.mean(axis=1)
        if self.record is not None:
            observed = self.record.reindex(frame.index)
            frame["obs_launches"] = observed["launches"]
            frame["obs_nuclear"] = observed["nuclear_tests"]
            frame["obs_talks"] = observed["talks"]
        return frame

    # -- scores ---------------------------------------------------------------------------------

    def _observed_months(self) -> pd.DataFrame:
        if self.record is None:
            raise UserError("no record to compare with: pass --record CSV or set `record` in the scenario")
        frame = self.comparison()[self.in_window].dropna(subset=["obs_launches"])
        if frame.empty:
            raise UserError(f"the record has no month inside the scored window ({self.window[0]} to {self.window[1]})")
        return frame

    def scores(self) -> dict[str, Any]:
        """Scores of the monthly launch counts over the scored window's months of the record:
        coverage by the 50% and 90% predictive intervals, the mean absolute error of the
        simulated mean, the randomised PIT histogram (10 bins), the mean CRPS of the replicates'
        sample (``crps``) beside that of the naive baseline (a Poisson forecast at the fitted
        period's mean monthly rate, ``crps_baseline``) and the skill score
        ``1 - crps / crps_baseline`` (above 0: better than the baseline); and the window's total
        launches, observed and the simulated 90% interval."""
        frame = self._observed_months()
        obs = frame["obs_launches"].to_numpy(dtype=float)
        rows = np.flatnonzero(self.months.isin(frame.index))
        sample = self.launches[rows]
        cover = {f"coverage_{level}": coverage(sample, obs, *PI_LEVELS[level]) for level in PI_LEVELS}
        rate, period = (self.baseline_rate, "given") if self.baseline_rate is not None else fitted_period_rate()
        crps, baseline = float(crps_sample(sample, obs).mean()), float(crps_poisson(rate, obs).mean())
        pit = randomised_pit(sample, obs, np.random.default_rng([self.seed, PIT_STREAM]))
        total_low, total_high = predictive_interval(sample.sum(axis=0), 90)
        return {
            **cover,
            "mae_monthly_launches": float(np.mean(np.abs(obs - frame["sim_launches_mean"]))),
            "months_compared": int(len(frame)),
            "score_from": str(frame.index[0]),
            "score_to": str(frame.index[-1]),
            "crps": crps,
            "crps_baseline": baseline,
            "crps_skill": float(1 - crps / baseline) if baseline > 0 else None,  # None: a perfect baseline
            "baseline_rate": rate,
            "baseline_period": period,
            "pit_histogram": pit_histogram(pit),
            "total_launches_observed": int(obs.sum()),
            "total_launches_90_low": float(total_low),
            "total_launches_90_high": float(total_high),
            "total_launches_covered": bool(total_low <= obs.sum() <= total_high),
        }

    # -- stylised facts -------------------------------------------------------------------------

    def _months_mask(self, first: str, last: str) -> np.ndarray | None:
        """Mask over ``months`` for [first, last] if the scenario and the record cover all of it."""
        wanted = pd.period_range(first, last, freq="M")
        if not set(wanted) <= set(self.months) or self.record is None or not set(wanted) <= set(self.record.index):
            return None
        if wanted[0] < self.window[0] or wanted[-1] > self.window[1]:
            return None  # outside the scored window
        return np.isin(self.months, wanted)

    def facts(self) -> list[Fact]:
        """F1-F5 of the domain brief, each checked against the record and the simulation."""
        return [self._f1(), self._f2(), self._f3(), self._f4(), self._f5()]

    def _f1(self) -> Fact:
        claim = "2016-17 surge: launches, months with a launch and nuclear tests as observed"
        mask = self._months_mask("2016-01", "2017-12")
        if mask is None or self.record is None:  # no mask without a record
            return Fact("F1", claim, None, "the scored window, the scenario or the record does not cover 2016-17")
        obs = self.record.loc[self.months[mask]]
        checks = {
            "launch events": (obs["launches"].sum(), self.launches[mask].sum(axis=0)),
            "months with a launch": ((obs["launches"] > 0).sum(), (self.launches[mask] > 0).sum(axis=0)),
            "nuclear tests": (obs["nuclear_tests"].sum(), self.nuclear[mask].sum(axis=0)),
        }
        return self._within_fact("F1", claim, checks)

    def _within_fact(self, name: str, claim: str, checks: dict[str, tuple[float, np.ndarray]]) -> Fact:
        parts, ok = [], True
        for label, (observed, samples) in checks.items():
            low, high = predictive_interval(samples, 90)
            inside = low <= observed <= high
            ok &= bool(inside)
            parts.append(f"{label}: observed {observed:g}, simulated 90% PI [{low:g}, {high:g}]")
        return Fact(name, claim, ok, "; ".join(parts))

    def _simulate(self, scenario: Scenario) -> dict[str, np.ndarray]:
        """Weekly series of ``scenario`` for this replay's replicate seeds and parameters (common
        random numbers)."""
        seeds = replicate_seeds(self.seed, self.replicates)
        if self.posterior is None or self.particles is None:
            result = scenario.simulate(seeds, trajectories=True)
        else:
            unique, inverse = np.unique(self.particles, return_inverse=True)
            names = [c for c in self.posterior.columns if c != "weight"]
            points = [Params().replace(**self.posterior.iloc[i][names].to_dict()) for i in unique]
            result = scenario.simulate(seeds, points=points, point_index=inverse, trajectories=True)
        assert result.trajectory is not None  # asked for
        return result.trajectory

    def _f2(self) -> Fact:
        claim = (
            "sanctions follow major tests within about 12 weeks, without suppressing testing: the quarters "
            "from the resolutions' months see no fewer launches than without those resolutions"
        )
        p = self.scenario.params
        factor = 1 + p.japan_lobby_weight * p.include_japan
        respond = 1 - (1 - min(1.0, p.sanctions_response_prob * factor)) ** RESPONSE_WEEKS
        windows = resolution_windows(self.scenario, self.months[self.in_window])
        if not windows:
            return Fact("F2", claim, None, "no resolution with a full quarter before and after in the scored window")
        windows = resolution_windows(self.scenario, self.months)
        windows = [(a, b) for a, b in windows if self.in_window[a].all() and self.in_window[b].all()]
        # The counterfactual: the same runs (same seeds) without the resolutions.
        counterfactual = launches_by_month(self._simulate(without_resolutions(self.scenario)), self.week_months)
        effect = launches_after_resolutions(self.launches, windows) - launches_after_resolutions(
            counterfactual, windows
        )
        se = effect.std(ddof=1) / np.sqrt(effect.size) if effect.size > 1 else np.inf
        ok = bool(respond >= 0.75 and effect.mean() >= -2 * se)
        detail = (
            f"P(package within {RESPONSE_WEEKS} weeks of a major test) = {respond:.2f} (needs >= 0.75); "
            f"launches in the quarters from {len(windows)} resolutions' months, with minus without the "
            f"resolutions (paired runs): mean {effect.mean():+.2f} (SE {se:.2f}; needs >= -2 SE)"
        )
        if self.record is not None and set(self.months[np.r_[tuple(np.r_[a, b] for a, b in windows)]]) <= set(
            self.record.index
        ):
            sim = launch_change(self.launches, windows)
            observed = float(launch_change(self.record["launches"].reindex(self.months).to_numpy(dtype=float), windows))
            low, high = predictive_interval(sim, 90)
            detail += (
                f". Reported, not judged: launches in those quarters minus the quarters before, observed "
                f"{observed:g}, simulated 90% PI [{low:g}, {high:g}]"
            )
        return Fact("F2", claim, ok, detail)

    def _f3(self) -> Fact:
        claim = "pause without relief: no launches in 2018, well below the 2016-17 rate"
        pause, surge = self._months_mask("2018-01", "2018-12"), self._months_mask("2016-01", "2017-12")
        if pause is None or surge is None or self.record is None:  # no mask without a record
            return Fact("F3", claim, None, "the scored window, the scenario or the record does not cover 2016-18")
        observed = self.record.loc[self.months[pause], "launches"].sum()
        sim_2018 = self.launches[pause].sum(axis=0)
        rate_2018, rate_surge = self.launches[pause].mean(), self.launches[surge].mean()
        low, high = predictive_interval(sim_2018, 90)
        ok = bool(low <= observed <= high and rate_2018 <= 0.5 * rate_surge)
        return Fact(
            "F3",
            claim,
            ok,
            f"2018 launches: observed {observed:g}, simulated 90% PI [{low:g}, {high:g}]; simulated monthly "
            f"rate 2018 {rate_2018:.2f} vs 2016-17 {rate_surge:.2f} (needs <= half)",
        )

    def _f4(self) -> Fact:
        claim = "detente leads to talks: first inter-Korean and US-DPRK talks months as observed"
        if self.record is None:
            return Fact("F4", claim, None, "no record")
        checks, already = {}, []
        end = len(self.months)  # no talks within the scenario counts as "after the end"
        for label, column, stage in (
            ("first inter-Korean talks", "inter_korean_talks", INTER_KOREAN),
            ("first US-DPRK talks", "us_dprk_talks", PRELIMINARY),
        ):
            if (self.record.index[self.record[column]] < self.window[0]).any():
                already.append(label.removeprefix("first "))  # under way before the start: no "first" to judge
                continue
            observed_months = self.record.index[self.record[column]].intersection(self.months[self.in_window])
            if len(observed_months) == 0:
                continue
            observed = float(self.months.get_loc(observed_months[0]))
            checks[f"{label} (month index, {self.months[0]} = 0)"] = (
                observed,
                np.nan_to_num(self.first_month(stage), nan=end),
            )
        before = f"the record shows {' and '.join(already)} before the scenario starts" if already else ""
        if not checks:
            return Fact("F4", claim, None, before or "the record shows no talks within the scenario")
        fact = self._within_fact("F4", claim, checks)
        return replace(fact, detail=f"{fact.detail}; not judged: {before}") if before else fact

    def _f5(self) -> Fact:
        claim = "the mediator moves first: inter-Korean contact before US-DPRK talks in at least 80% of runs with talks"
        if self.scenario.continue_from is not None:
            return Fact("F5", claim, None, "F5 judges the first opening; these runs continue a period with talks")
        if self.scenario.params.initial_stage != NO_TALKS:
            return Fact("F5", claim, None, "F5 judges the first opening; these runs start with talks under way")
        talks = self.first_week(PRELIMINARY)
        contact = self.first_week(INTER_KOREAN, exactly=True)
        with_talks = ~np.isnan(talks)
        if with_talks.sum() == 0:
            return Fact("F5", claim, None, "no simulated run reached US-DPRK talks")
        first = (contact < talks)[with_talks]
        low, high = wilson_interval(first.sum(), first.size)
        return Fact(
            "F5",
            claim,
            bool(low >= 0.8),
            f"{first.mean():.2f} of {first.size} runs with talks (95% CI {low:.2f}-{high:.2f}; "
            "needs the lower bound >= 0.80)",
        )

    # -- output ---------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Scores and facts as one JSON-ready dict (the keys ``escalation replay --json`` prints)."""
        facts = self.facts()
        return {
            "scenario": self.scenario.name,
            "start": self.scenario.start.isoformat(),
            "end": self.scenario.end.isoformat(),
            "replicates": self.replicates,
            "seed": self.seed,
            "parameters": "calibrated point" if self.posterior is None else "posterior draws",
            "notes": list(self.scenario.notes),
            **self.scores(),
            "facts": {f.name: f.verdict for f in facts},
            "fact_details": {f.name: f"{f.claim}. {f.detail}" for f in facts},
        }


def replicate_table(replay: Replay) -> pd.DataFrame:
    """The simulated monthly counts of every replicate, long form: ``month`` (YYYY-MM),
    ``replicate`` (0-based; its seed is ``replicate_seeds(seed, replicates)[replicate]``),
    ``launches``, ``nuclear_tests`` and ``talks`` (talks under way in some week of the month)."""
    months, runs = replay.launches.shape
    return pd.DataFrame(
        {
            "month": np.repeat(replay.months.astype(str).to_numpy(), runs),
            "replicate": np.tile(np.arange(runs, dtype=np.int64), months),
            "launches": replay.launches.reshape(-1).astype(np.int64),
            "nuclear_tests": replay.nuclear.reshape(-1).astype(np.int64),
            "talks": replay.talks_active.reshape(-1),
        }
    )
