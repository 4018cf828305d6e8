"""The sweep explorer page: a stored sweep's estimates with their intervals, browsed by policy.

It reads a results directory written by ``escalation sweep`` and never re-runs anything:

* the P(talks) heatmap (estimate and 95% interval half-width in each cell) and the table of
  estimates per policy, with readable column names, from the estimates table ``summary.csv``
  (computed from the runs only when it is missing or older than them);
* for a policy chosen lever by lever: its time-to-talks curve (Kaplan-Meier with its band), its
  testing cost, and its paired contrast with a baseline policy (common random numbers);
* for a ``[posterior]`` sweep, the spread of P(talks) across the posterior draws.

For a sweep over posterior draws (or sampled scenarios) with several runs each, P(talks), mean
tests and the contrasts are taken over the draws as the report takes them (the mean of the
per-draw estimates with a t interval over the draws; contrasts paired by draw and seeds), so
their intervals include what the record leaves unknown; pooled intervals would treat every run
as independent.

The page opens on the estimates, read first; the runs themselves (for the panels of a chosen
policy) are read in the background, so that a large sweep shows its estimates at once.

Bad input (a directory that is missing, is not a results directory, or holds an unfinished
sweep) shows, in the page, the one-line message that ``escalation report`` prints for it.
The functions here are plain (a directory in, DataFrames and PNG bytes out); :func:`SweepPage`
is the Solara component around them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import solara

from .. import analysis
from ..analysis import plots
from ..analysis.estimates import (
    GRID_LEVERS,
    SUMMARY_FILE,
    over_draws,
    policy_estimates,
    scenario_spreads,
    scenario_unit,
    summary_is_current,
)
from ..analysis.report import require_finished
from ..analysis.robustness import contrasts_over_draws
from ..errors import UserError
from ..sweep.results import SweepResult

RESULTS_ENV = "ESCALATION_RESULTS"
"""Environment variable through which ``escalation app --results DIR`` names the directory the
page opens with."""
DEFAULT_RESULTS = "results/policy_posterior"
"""The directory the page opens with otherwise (where ``make run`` writes: the policy grid over
the calibration posterior)."""


HEADLINE_COLUMNS = ("talks", "tests")
"""The outcome columns the page reads first: enough for P(talks) and mean tests per draw."""


def load_sweep(directory: str | Path, columns=HEADLINE_COLUMNS) -> SweepResult:
    """A finished sweep's results (only the outcome ``columns``), checked as ``escalation report``
    checks them.

    Raises :class:`UserError` with the report's one-line message for a directory that is
    missing, is not a results directory or holds an unfinished sweep, and for a design that no
    longer rebuilds from its manifest."""
    text = str(directory).strip()
    if not text:
        raise UserError("give a results directory written by `escalation sweep`")
    return require_finished(analysis.load(text, columns=columns))


def error_message(error: Exception) -> str:
    """The one line the command line prints for ``error`` (without the ``escalation: error:`` prefix)."""
    if isinstance(error, FileNotFoundError):
        return f"file not found: {error.filename or error}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _value(values: list[Any], text: str) -> Any:
    """The design value whose text is ``text``."""
    return next(v for v in values if str(v) == str(text))


@dataclass
class SweepView:
    """What the page shows for one results directory: the estimates table (``summary.csv``, or
    computed from the runs), and the runs read when a policy's panels need them."""

    result: SweepResult
    _contrasts: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def by(self) -> list[str]:
        return self.result.policy_columns

    @property
    def levers(self) -> dict[str, list[Any]]:
        return self.result.levers or {"design_point": sorted(self.result.rows["design_point"].unique().tolist())}

    @cached_property
    def runs(self) -> SweepResult:
        """The sweep with every outcome column the analysis reads (loaded on first use)."""
        if set(analysis.ANALYSIS_COLUMNS) <= set(self.result.rows.columns):
            return self.result
        return analysis.load(self.result.directory, columns=analysis.ANALYSIS_COLUMNS)

    @cached_property
    def unit(self) -> str | None:
        """``"draw"`` or ``"scenario"`` when P(talks) and mean tests are taken over the draws (or
        scenarios) of the sweep, with several runs each; else None (pooled over runs)."""
        if self.result.manifest["replicates"] < 2:
            return None
        return scenario_unit(self.result)

    @property
    def over_draws(self) -> bool:
        """Whether P(talks), mean tests and the contrasts are taken over the draws (or scenarios)."""
        return self.unit is not None

    @cached_property
    def stored_summary(self) -> bool:
        """Whether the page reads ``summary.csv`` (present, newer than every chunk, one row per policy)."""
        return list(self.result.factors) == list(self.by) and summary_is_current(self.result)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per policy: P(talks) and the other estimates with their intervals, from ``summary.csv``
        when it is current; over the draws for a sweep over draws (as the report takes them:
        :func:`~experiments.analysis.estimates.policy_estimates`)."""
        if not self.stored_summary:
            return policy_estimates(self.runs, self.by)[0]
        table = pd.read_csv(self.result.directory / SUMMARY_FILE)
        for column in self.by:  # the design's own values (and types) for the levers
            values = {str(v): v for v in self.levers[column]}
            table[column] = [values.get(str(v), v) for v in table[column]]
        if self.over_draws:
            table = over_draws(table, scenario_spreads(self.result, self.by), self.by)
        return table

    def interval_note(self) -> str:
        """What the intervals of the table and heatmap are, in words."""
        if self.unit == "draw":
            draws = self.result.rows["scenario"].nunique()
            return f"mean over the {draws} posterior draws, 95% t interval over the draws"
        if self.unit == "scenario":
            return f"mean over the {self.result.rows['scenario'].nunique()} scenarios, 95% t interval over them"
        return "95% Wilson intervals, runs pooled"

    def estimates_table(self) -> pd.DataFrame:
        """The summary's main columns for the page: values in words, numbers rounded, column names
        in words (:func:`~experiments.analysis.plots.column_label`), a median beyond the horizon
        written as such."""
        table = self.summary
        out = pd.DataFrame({plots.column_label(c): table[c].map(plots.nice) for c in self.by})
        out[plots.column_label("n")] = table["n"]
        for column in ("p_talks", "mean_tests"):
            out[plots.column_label(column)] = table[column].round(3)
            out["95% interval" + " " * (column == "mean_tests")] = [
                f"{low:.3f} to {high:.3f}"
                for low, high in zip(table[column + "_low"], table[column + "_high"], strict=True)
            ]
            if column == "p_talks":
                out[plots.column_label("median_weeks_to_talks")] = [
                    f"beyond {self.result.horizon}" if pd.isna(w) else f"{w:.0f}"
                    for w in table["median_weeks_to_talks"]
                ]
        return out

    def heatmap_png(self) -> bytes | None:
        """The P(talks) heatmap with intervals, or None when the design lacks its levers."""
        if not set(GRID_LEVERS) <= set(self.summary.columns):
            return None
        return png(plots.p_talks_heatmap(self.summary, horizon=self.result.horizon, over=self.interval_note()))

    def default_baseline(self) -> dict[str, Any]:
        """The report's default baseline (:func:`analysis.default_baseline`)."""
        return analysis.default_baseline(self.levers)

    def default_policy(self) -> dict[str, Any]:
        """The policy the page opens with: the last value of each lever in the config (the
        sanctions level at its highest, as in the baseline), so that it differs from the baseline."""
        return {
            name: (max(values) if name == "sanctions_level" else values[-1]) for name, values in self.levers.items()
        }

    def _rows_of(self, policy: Mapping[str, Any]) -> pd.DataFrame:
        rows = self.runs.rows
        return rows[analysis.matches(rows, policy)]

    def survival(self, policy: Mapping[str, Any]) -> pd.DataFrame:
        """The policy's Kaplan-Meier curve of time to talks with its 95% band."""
        return analysis.survival_curves(self._rows_of(policy), self.by, self.result.horizon)

    def survival_png(self, policy: Mapping[str, Any]) -> bytes:
        return png(
            plots.survival_plot(
                self.survival(policy), self.result.horizon, self.result.start_date, hue=None, facet=None
            )
        )

    def testing_cost(self, policy: Mapping[str, Any]) -> pd.DataFrame:
        """The policy's testing cost (mean tests with its interval, P(any test), highest rungs)."""
        return analysis.testing_cost(self._rows_of(policy), self.by)

    def all_contrasts(self, baseline: Mapping[str, Any]) -> pd.DataFrame:
        """Every policy minus the baseline on the same replicates, for P(talks) and mean tests,
        as the report computes them (its multiplicity adjustments count every policy); kept per
        baseline, so that choosing another policy only filters."""
        key = tuple(sorted(baseline.items(), key=lambda item: item[0]))
        if key not in self._contrasts:
            rows, horizon = self.runs.rows, self.result.horizon
            self._contrasts[key] = pd.concat(
                [
                    contrasts_over_draws(rows, self.by, dict(baseline), outcome, horizon)
                    if self.over_draws
                    else analysis.paired_contrasts(rows, baseline, self.by, outcome)
                    for outcome in ("talks", "tests")
                ],
                ignore_index=True,
            )
        return self._contrasts[key]

    def contrasts(self, policy: Mapping[str, Any], baseline: Mapping[str, Any]) -> pd.DataFrame:
        """The chosen policy's rows of :meth:`all_contrasts`."""
        table = self.all_contrasts(baseline)
        return table[analysis.matches(table, policy)]

    @property
    def is_posterior(self) -> bool:
        return bool(self.result.provenance["experiment"].get("posterior"))

    def posterior_spread(self) -> pd.DataFrame | None:
        """For a ``[posterior]`` sweep with several runs per draw, P(talks) per policy across the
        draws (:func:`analysis.posterior_spread`); else None."""
        if not self.is_posterior or self.result.manifest["replicates"] < 2:
            return None
        return analysis.posterior_spread(self.result.rows, self.by, "talks")

    def posterior_png(self) -> bytes | None:
        spread = self.posterior_spread()
        return None if spread is None else png(plots.posterior_range_plot(spread, self.by, self.result.horizon))


def open_view(directory: str) -> tuple[SweepView | None, str | None]:
    """(the view, None) for a good results directory, else (None, the CLI's one-line message)."""
    try:
        return SweepView(load_sweep(directory)), None
    except (UserError, FileNotFoundError, ValueError, OSError) as error:
        return None, error_message(error)


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------


def _policy_picker(title: str, levers: Mapping[str, list[Any]], policy: solara.Reactive[dict]) -> None:
    """One list per lever, named and valued in words."""
    with solara.Card(title):
        for name, values in levers.items():
            words = {plots.nice(v): v for v in values}

            def choose(text, name=name, words=words):
                policy.set({**policy.value, name: words[text]})

            solara.Select(
                label=plots.lever_name(name),
                values=list(words),
                value=plots.nice(policy.value.get(name, values[0])),
                on_value=choose,
            )


def _readable(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    """A table for the page: values in words, numbers rounded, column names in words."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(digits)
        elif out[column].dtype == object:
            out[column] = out[column].map(plots.nice)
    return out.rename(columns=plots.column_label)


COST_COLUMNS = ("n", "mean_tests", "mean_tests_low", "mean_tests_high", "p_any_test", "p_nuclear_test")
CONTRAST_COLUMNS = (
    "outcome",
    "n_pairs",
    "draws",
    "policy_estimate",
    "baseline_estimate",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
)


@solara.component
def PolicyDetails(view: SweepView, policy: dict, baseline: dict):
    """The chosen policy's time to talks, testing cost and paired contrast with the baseline,
    computed from the runs in the background (the first time, reading them takes a while)."""
    label = plots.policy_label(policy)

    def compute():
        curve = view.survival_png(policy)
        cost = view.testing_cost(policy)
        contrast = view.contrasts(policy, baseline)
        return curve, cost, contrast

    key = [view, tuple(policy.items()), tuple(baseline.items())]
    result = solara.use_thread(compute, dependencies=key)
    if result.state != solara.ResultState.FINISHED or result.value is None:
        if result.state == solara.ResultState.ERROR:
            assert result.error is not None  # set with the ERROR state
            solara.Error(f"could not compute the policy's panels: {error_message(result.error)}")
            return
        with solara.Card(f"Reading the runs for the policy {label}"):
            solara.Text(f"reading the {view.result.manifest['n_runs']:,} runs for this policy's panels ...")
            solara.ProgressLinear(True)
        return
    curve, cost, contrast = result.value
    with solara.Card(f"Time to talks: {label}"):
        solara.Image(curve)
    with solara.Card(f"Testing cost: {label}"):
        solara.DataFrame(_readable(cost[[c for c in COST_COLUMNS if c in cost]], 3), items_per_page=5)
    with solara.Card(f"Paired contrast with the baseline ({plots.policy_label(baseline)})"):
        shown = contrast[[c for c in CONTRAST_COLUMNS if c in contrast]]
        solara.DataFrame(_readable(shown, 4), items_per_page=5)
        over = " over the draws (t interval)" if view.over_draws else ", paired by replicate"
        solara.Text(f"policy minus baseline{over}; p (Holm) adjusts for every policy of the design")


@solara.component
def SweepPage(results: str | None = None):
    """The sweep explorer: pick a results directory, browse its estimates."""
    start = results if results is not None else os.environ.get(RESULTS_ENV, DEFAULT_RESULTS)
    directory = solara.use_reactive(start)
    view, problem = solara.use_memo(lambda: open_view(directory.value), [directory.value])
    policy: solara.Reactive[dict] = solara.use_reactive({})
    baseline: solara.Reactive[dict] = solara.use_reactive({})

    def reset_choices():
        if view is not None:
            policy.set(view.default_policy())
            baseline.set(view.default_baseline())

    solara.use_effect(reset_choices, [view])
    heatmap = solara.use_memo(lambda: view.heatmap_png() if view is not None else None, [view])
    table = solara.use_memo(lambda: view.estimates_table() if view is not None else None, [view])
    spread = solara.use_memo(lambda: view.posterior_png() if view is not None else None, [view])

    solara.Title("Korea escalation: sweep explorer")
    with solara.Column(style={"padding": "12px"}):
        solara.InputText("results directory (written by `escalation sweep`)", value=directory, continuous_update=False)
        if problem is not None:
            solara.Error(problem)
            return
        assert view is not None  # open_view gives a view whenever it gives no problem
        result = view.result
        source = "summary.csv" if view.stored_summary else "the runs (summary.csv is missing or older than them)"
        solara.Markdown(
            f"**{result.name}**: {result.manifest['n_runs']:,} runs, {result.horizon} weeks, "
            f"policies by {', '.join(plots.lever_name(c).lower() for c in view.by)}; estimates read from "
            f"{source} in `{result.directory}` (nothing is re-run)"
        )
        with solara.Card(f"P(talks) within {result.horizon} weeks: {view.interval_note()}"):
            if heatmap is not None:
                solara.Image(heatmap)
            solara.DataFrame(table, items_per_page=12)
        if view.unit == "draw":
            with solara.Card("Across the posterior: P(talks) over the draws"):
                if spread is None:
                    solara.Text(
                        "one run per draw: the spread across the posterior cannot be told apart from the "
                        "runs' chance (rerun with 20 or more replicates)"
                    )
                else:
                    solara.Image(spread)
        if set(policy.value) != set(view.levers) or set(baseline.value) != set(view.levers):
            return  # the choices are reset to the default baseline after this render
        with solara.Columns([1, 1]):
            _policy_picker("Policy", view.levers, policy)
            _policy_picker("Baseline", view.levers, baseline)
        PolicyDetails(view, policy.value, baseline.value)
