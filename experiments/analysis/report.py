"""``escalation report RESULTS_DIR [--baseline POLICY]``: every figure (PDF and PNG) and
``report.md`` for a results directory written by ``escalation sweep``.

The report holds the estimates per policy with 95% intervals, the paired contrasts of every
policy with a baseline policy (common random numbers), the figures (embedded by relative path)
and the provenance of the results. Figures that show policies one by one show the exercise
policies and engagement stances at one value of the other levers: the baseline's (for the
sanctions level, its highest value unless the baseline names one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UserError
from ..history.replay import Replay, replicate_table
from ..io import atomic_write_bytes, atomic_write_text
from ..sweep.results import SweepResult
from ..sweep.store import ResultStore
from . import assumptions, compact, plots, robustness, stamp
from .contrasts import default_baseline, matches, paired_contrasts, parse_policy
from .estimates import (
    HEATMAP,
    HEATMAP_FILES,
    SUMMARY_FILE,
    draw_heatmap,
    has_heatmap,
    is_current,
    load,
    over_draws,
    scenario_spreads,
    scenario_unit,
    summarise,
)
from .stamp import STAMP
from .survival import survival_curves
from .trajectories import ModelChangedWarning, trajectories

REPORT = "report.md"
FIGURES = (
    "p_talks_heatmap",
    "time_to_talks",
    "contrasts_forest",
    "testing_cost",
    "talks_testing_tradeoff",
    "p_talks_across_posterior",
    "trajectories_fan",
)
"""Every figure the sweep and the report may draw at the top of a results directory (PDF and PNG)."""
ROBUST_FILES = ("robust_talks.csv", "robust_tests.csv")
"""The tables of the robust rankings (a sweep over scenarios with several policies)."""
DERIVED_FILES = (
    SUMMARY_FILE,
    REPORT,
    STAMP,
    *ROBUST_FILES,
    *(f"{stem}{suffix}" for stem in FIGURES for suffix in (".png", ".pdf")),
)
"""Every file the analysis writes into a results directory: ``escalation sweep --overwrite``
removes these (with ``chunks/`` and the manifest), never anything else."""
DISPLAY_LEVERS = ("exercise_policy", "engagement_stance")
"""Levers that figures of single policies show side by side; the others are held at one value."""
FAN_SERIES = ("cumulative_tests", "test_hazard", "dprk_stress", "trust_dprk_in_us")
"""Weekly series of the fan chart."""
FAN_REPLICATES = 200
"""Replicates re-run with trajectories for the fan chart (at most the sweep's)."""


def posterior_reading(posterior: dict, replicates: int) -> str:
    """How to read estimates pooled over posterior draws (for the report's first paragraph)."""
    draws = posterior["samples"]
    if replicates == 1:
        return (
            f" under each of {draws} draws from the calibration posterior, one run per draw, so each estimate "
            "is averaged over the posterior and its interval is the Monte Carlo error of that average (how far "
            "an outcome moves across the posterior needs more than one run per draw)"
        )
    return (
        f' under each of {draws} draws from the calibration posterior (the section "Across the posterior" '
        "gives the spread across the draws)"
    )


POSTERIOR_OUTCOMES = {
    "talks": "P(talks)",
    "summit": "P(summit)",
    "deal": "P(deal)",
    "any_test": "P(any test)",
    "nuclear_test": "P(nuclear test)",
    "tests": "mean tests",
}
"""Outcomes of the section "Across the posterior" -> their column label."""


def _posterior_section(result: SweepResult, by: list[str], spreads: dict[str, pd.DataFrame]) -> list[str]:
    """For a sweep over scenarios: per policy, the P(talks) and mean tests averaged over the
    posterior draws (or the [uncertainties] scenarios) with intervals over them, and the central
    90% range of the per-scenario estimates."""
    experiment = result.provenance["experiment"]
    if not (experiment.get("posterior") or experiment.get("uncertainties")):
        return []
    posterior = bool(experiment.get("posterior"))
    where, draw = ("the posterior", "draw") if posterior else ("the scenarios", "scenario")
    lines = [f"## Across {where}", ""]
    if not spreads:
        return lines + [
            f"With one run per {draw}, how far an outcome moves across {where} cannot be told apart "
            "from the runs' chance; rerun with `replicates` of 20 or more to see it.",
            "",
        ]
    talks = spreads["talks"]
    table = _lever_cells(talks, by)
    for outcome, label in POSTERIOR_OUTCOMES.items():
        if outcome not in spreads:
            continue
        spread = spreads[outcome]
        mean_label = "posterior mean" if posterior else "mean over scenarios"
        table[f"{label}: {mean_label} [95% CI]"] = [
            _interval(*v) for v in zip(spread["mean"], spread["ci_low"], spread["ci_high"], strict=True)
        ]
        table[f"{label}: 90% of {draw}s"] = [
            f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(spread["range_low"], spread["range_high"], strict=True)
        ]
    runs, draws = int(talks["runs_per_draw"].iloc[0]), int(talks["draws"].iloc[0])
    allowed = "parameter values the record allows" if posterior else "the ranges of the config's [uncertainties]"
    return lines + [
        f"Each of the {draws} {draw}{'s' if draws != 1 else ''} gives its own estimate from its {runs} runs"
        + (f" (with so few {draw}s the intervals below are rough)" if draws < 20 else "")
        + f". The {mean_label}'s "
        f"interval is a t interval over the {draw}s (it counts the spread across {where} as well as the "
        f'runs\' chance); "90% of {draw}s" is the central range of the per-{draw} estimates, how far the outcome moves '
        f"across {allowed} (each per-{draw} estimate also carries the chance of {runs} runs, "
        f"so this range is somewhat wider than {where}' alone).",
        "",
        _markdown_table(table),
        "",
    ]


def main(args: argparse.Namespace) -> int:
    """The ``report`` sub-command: write the report of ``args.results`` against
    ``args.baseline`` (None: :func:`~experiments.analysis.contrasts.default_baseline`) and list
    the files; when the report there is current (:func:`report_is_current`) and not
    ``args.force``, say so and write nothing."""
    progress = not getattr(args, "quiet", False)
    if not getattr(args, "force", False) and report_is_current(args.results, args.baseline, progress=progress):
        print(
            f"{Path(args.results) / REPORT} and its figures are up to date (drawn by this code, against this "
            "baseline, from these very chunks); --force redraws them"
        )
        return 0
    for path in write_report(args.results, args.baseline, progress=progress):
        print(f"wrote {path}")
    return 0


def resolve_baseline(levers: Mapping[str, list], baseline: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The baseline policy as ``{lever: value}``: ``baseline`` parsed (``"lever=value,..."``) or
    as given, or the default (:func:`~experiments.analysis.contrasts.default_baseline`)."""
    if isinstance(baseline, str):
        baseline = parse_policy(baseline, dict(levers))
    return dict(default_baseline(dict(levers)) if baseline is None else baseline)


def report_is_current(
    directory: str | Path, baseline: Mapping[str, Any] | str | None = None, *, progress: bool = False
) -> bool:
    """Whether the report in ``directory`` was drawn by this code against ``baseline`` from the
    manifest and chunk files there now (:func:`~experiments.analysis.stamp.is_current`; every
    chunk's bytes hashed afresh). A directory that cannot hold a report is not current: writing
    the report then says why."""
    store = ResultStore(directory)
    manifest = store.manifest() if (store.directory / STAMP).is_file() else None
    if manifest is None:
        return False
    store.refuse_strays()
    levers = {name: list(values) for name, values in manifest["provenance"]["experiment"]["levers"].items()}
    if not levers:
        return False
    return stamp.is_current(store, resolve_baseline(levers, baseline), progress=progress)


def require_finished(result: SweepResult) -> SweepResult:
    """``result`` if its sweep is finished and its design still rebuilds from the manifest;
    otherwise :class:`UserError` with the one line the report (and the app) print."""
    if not result.complete:
        raise UserError(
            f"{result.directory} holds {len(result.rows)} of {result.manifest['n_runs']} runs; "
            "finish the sweep (rerun it, or run the missing shards) before the report"
        )
    _ = result.experiment  # rebuilding the design checks it before anything is written
    return result


def write_report(
    result: SweepResult | str | Path, baseline: Mapping[str, Any] | str | None = None, *, progress: bool = False
) -> list[Path]:
    """Write every figure and ``report.md`` into the results directory; return the paths written.

    ``baseline`` is a policy as ``{lever: value}`` or ``"lever=value,..."``; levers it leaves
    out are matched (each policy is compared with the baseline's values at its own value of
    those levers). Default: :func:`~experiments.analysis.contrasts.default_baseline`.
    Given a directory, the chunks are read and verified on every core (a progress bar on stderr
    when ``progress``) and a stamp (:mod:`~experiments.analysis.stamp`) records what the report
    was drawn from, so that :func:`report_is_current` can tell when it needs no redrawing.
    Raises :class:`UserError` for a directory that is missing, not a results directory or
    incomplete, and for a baseline with an unknown lever or a value not in the design.
    """
    chunks = None
    if not isinstance(result, SweepResult):
        store = ResultStore(result)
        if store.manifest_path.is_file():  # the chunks' checksums before reading verifies the chunks against them
            chunks = stamp.recorded_chunks(store)
        result = load(result, progress=progress)
    require_finished(result)
    (result.directory / STAMP).unlink(missing_ok=True)  # whatever happens next, the old stamp no longer holds
    levers = result.levers
    if not levers:
        raise UserError(f"{result.directory}: the design has no levers, so there are no policies to compare")
    baseline = resolve_baseline(levers, baseline)
    by = list(levers)
    rows, horizon = result.rows, result.horizon

    contrasts = pd.concat(
        [paired_contrasts(rows, baseline, by, outcome) for outcome in ("talks", "tests")], ignore_index=True
    )
    estimates = summarise(rows, by, horizon)
    curves = survival_curves(rows, by, horizon)
    focus = _focus(levers, baseline)
    spreads = scenario_spreads(result, by)
    if spreads:  # a sweep over draws or scenarios: intervals over them, not pooled over the runs
        estimates = over_draws(estimates, spreads, by)
        contrasts = pd.concat(
            [robustness.contrasts_over_draws(rows, by, baseline, outcome, horizon) for outcome in ("talks", "tests")],
            ignore_index=True,
        )
    figures, notes = _figures(result, baseline, focus, estimates, curves, contrasts, spreads)
    written = [path for paths in figures.values() for path in paths]

    text = _markdown(result, baseline, focus, estimates, contrasts, figures, notes, spreads)
    path = result.directory / REPORT
    atomic_write_text(path, text)
    written = [*written, *(p for p in (result.directory / name for name in ROBUST_FILES) if p.is_file()), path]
    if chunks is not None:
        stamp.write_stamp(ResultStore(result.directory), baseline, chunks, written)
    return written


def _focus(levers: Mapping[str, list], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The value at which figures of single policies hold each lever other than the displayed
    ones: the baseline's, else the default baseline's (the highest sanctions level)."""
    display = [name for name in DISPLAY_LEVERS if name in levers] or list(levers)[:1]
    default = default_baseline(levers)
    return {name: baseline.get(name, default[name]) for name in levers if name not in display}


def _figures(
    result: SweepResult,
    baseline: dict[str, Any],
    focus: dict[str, Any],
    estimates: pd.DataFrame,
    curves: pd.DataFrame,
    contrasts: pd.DataFrame,
    spreads: dict[str, pd.DataFrame],
) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """Draw and save the figures; return {figure name: [pdf, png]} and notes to add to their
    captions {figure name: text}."""
    by, horizon, directory = list(result.levers), result.horizon, result.directory
    figures: dict[str, list[Path]] = {}
    notes: dict[str, str] = {}
    has_grid = has_heatmap(result)
    if has_grid:  # the sweep drew it from the same table; `make run` need not draw it twice
        current = is_current(result, HEATMAP_FILES)  # over draws too: both take over_draw_table's intervals
        figures[HEATMAP] = [directory / name for name in HEATMAP_FILES] if current else draw_heatmap(result, estimates)

    where = f"at {plots.policy_label(focus)}" if focus else None
    shown_curves = curves[matches(curves, focus)]
    hue = "exercise_policy" if "exercise_policy" in by else next(c for c in by if c not in focus)
    facet = "engagement_stance" if "engagement_stance" in by else None
    figures["time_to_talks"] = plots.save(
        plots.survival_plot(shown_curves, horizon, result.start_date, hue=hue, facet=facet, where=where),
        directory / "time_to_talks",
    )

    shown = contrasts[matches(contrasts, focus) & ~matches(contrasts, baseline)]
    if not shown.empty:
        figures["contrasts_forest"] = plots.save(
            plots.forest_plot(shown, by, baseline, horizon, where=where), directory / "contrasts_forest"
        )

    figures["testing_cost"] = plots.save(
        plots.testing_cost_plot(estimates[matches(estimates, focus)], by, horizon, where=where),
        directory / "testing_cost",
    )
    if has_grid:
        figures["talks_testing_tradeoff"] = plots.save(
            plots.tradeoff_plot(estimates, horizon), directory / "talks_testing_tradeoff"
        )
    if spreads:
        talks = spreads["talks"]
        figures["p_talks_across_posterior"] = plots.save(
            plots.posterior_range_plot(talks[matches(talks, focus)], by, horizon),
            directory / "p_talks_across_posterior",
        )

    reference = {**default_baseline(result.levers), **baseline}
    talks = shown[shown["outcome"] == "talks"]
    policies = [reference]
    if not talks.empty:
        contrast = talks.loc[talks["difference"].abs().idxmax()]
        policies.append({name: contrast[name] for name in by})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelChangedWarning)
        fan = trajectories(result, policies, replicates=min(FAN_REPLICATES, result.manifest["replicates"]))
    for warning in caught:
        if issubclass(warning.category, ModelChangedWarning):
            notes["trajectories_fan"] = f"**Warning:** {warning.message}."
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    figures["trajectories_fan"] = plots.save(
        plots.fan_chart(fan, FAN_SERIES, by, result.start_date), directory / "trajectories_fan"
    )
    return figures, notes


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _number(value: float, digits: int) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _interval(estimate: float, low: float, high: float, digits: int = 2) -> str:
    return f"{_number(estimate, digits)} [{_number(low, digits)}, {_number(high, digits)}]"


def _weeks(estimate: float, low: float, high: float, horizon: int) -> str:
    def week(value: float) -> str:
        return f"> {horizon}" if math.isnan(value) else f"{value:.0f}"

    return f"{week(estimate)} [{week(low)}, {week(high)}]"


def _p_value(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _lever_cells(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return pd.DataFrame({plots.lever_name(c): frame[c].map(plots.nice) for c in by})


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, frame.columns)) + " |", "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _label(estimates: pd.DataFrame, column: str, over: str | None) -> str:
    """How a column's interval is taken: over the draws (or scenarios) when the table has their
    range for it, else pooled over the runs (said so in a sweep over draws)."""
    if over is None:
        return "[95% CI]"
    if f"{column}_range_low" in estimates.columns:
        return f"[95% t over {over}s]"
    return "[95% CI, pooled over runs]"


def _estimates_table(estimates: pd.DataFrame, by: list[str], horizon: int, over: str | None = None) -> str:
    e = estimates
    table = _lever_cells(e, by)
    table[f"P(talks) {_label(e, 'p_talks', over)}"] = [
        _interval(*v) for v in zip(e["p_talks"], e["p_talks_low"], e["p_talks_high"], strict=True)
    ]
    table[f"median weeks to talks {_label(e, 'median_weeks_to_talks', over)}"] = [
        _weeks(*v, horizon)
        for v in zip(
            e["median_weeks_to_talks"], e["median_weeks_to_talks_low"], e["median_weeks_to_talks_high"], strict=True
        )
    ]
    table[f"P(summit) {_label(e, 'p_summit', over)}"] = [
        _interval(*v) for v in zip(e["p_summit"], e["p_summit_low"], e["p_summit_high"], strict=True)
    ]
    table[f"P(deal) {_label(e, 'p_deal', over)}"] = [
        _interval(*v) for v in zip(e["p_deal"], e["p_deal_low"], e["p_deal_high"], strict=True)
    ]
    if "p_statement" in e.columns:
        table[f"P(statement) {_label(e, 'p_statement', over)}"] = [
            _interval(*v) for v in zip(e["p_statement"], e["p_statement_low"], e["p_statement_high"], strict=True)
        ]
    table["mean highest step"] = e["mean_steps"].map("{:.2f}".format)
    table["mean relief"] = e["mean_relief"].map("{:.2f}".format)
    table[f"P(any test) {_label(e, 'p_any_test', over)}"] = [
        _interval(*v) for v in zip(e["p_any_test"], e["p_any_test_low"], e["p_any_test_high"], strict=True)
    ]
    table[f"mean tests {_label(e, 'mean_tests', over)}"] = [
        _interval(*v) for v in zip(e["mean_tests"], e["mean_tests_low"], e["mean_tests_high"], strict=True)
    ]
    table[f"P(nuclear test) {_label(e, 'p_nuclear_test', over)}"] = [
        _interval(*v) for v in zip(e["p_nuclear_test"], e["p_nuclear_test_low"], e["p_nuclear_test_high"], strict=True)
    ]
    for column, words in (
        ("mean_strategic_tests", "mean strategic tests"),
        ("mean_substrategic_tests", "mean sub-strategic launches"),
        ("mean_tests_under_moratorium", "mean launches under a moratorium"),
    ):
        if column in e.columns:
            table[words] = e[column].map("{:.2f}".format)
    table["highest rung (median)"] = e["median_highest_rung"].map(lambda rung: plots.RUNG_NAMES[int(rung)])
    table["share ICBM or nuclear"] = (e["share_rung_4"] + e["share_rung_5"]).map("{:.2f}".format)
    if over is not None and "p_talks_range_low" in e.columns:
        table[f"P(talks): 90% of {over}s"] = [
            f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(e["p_talks_range_low"], e["p_talks_range_high"], strict=True)
        ]
    return _markdown_table(table)


def _contrasts_table(contrasts: pd.DataFrame, by: list[str]) -> str:
    talks = contrasts[contrasts["outcome"] == "talks"].set_index(by)
    tests = contrasts[contrasts["outcome"] == "tests"].set_index(by).reindex(talks.index)
    table = _lever_cells(talks.reset_index(), by)
    if "draws" in contrasts.columns:  # over the draws (or scenarios): paired t over them
        table["Δ P(talks) [95% CI]"] = [
            _interval(*v, digits=3) for v in zip(talks["difference"], talks["ci_low"], talks["ci_high"], strict=True)
        ]
        table["p"] = talks["p_value"].map(_p_value).to_numpy()
        table["Holm p"] = talks["p_holm"].map(_p_value).to_numpy()
        table["Δ mean tests [95% CI]"] = [
            _interval(*v) for v in zip(tests["difference"], tests["ci_low"], tests["ci_high"], strict=True)
        ]
        table["p (tests)"] = tests["p_value"].map(_p_value).to_numpy()
        table["Holm p (tests)"] = tests["p_holm"].map(_p_value).to_numpy()
        return _markdown_table(table)
    table["Δ P(talks) [95% CI]"] = [
        _interval(*v, digits=3) for v in zip(talks["difference"], talks["ci_low"], talks["ci_high"], strict=True)
    ]
    table["McNemar p"] = talks["p_value"].map(_p_value).to_numpy()
    table["Holm p"] = talks["p_holm"].map(_p_value).to_numpy()
    table["discordant pairs (policy only / baseline only)"] = [
        f"{f:.0f} / {g:.0f}" for f, g in zip(talks["policy_only"], talks["baseline_only"], strict=True)
    ]
    table["Δ mean tests [95% CI]"] = [
        _interval(*v) for v in zip(tests["difference"], tests["ci_low"], tests["ci_high"], strict=True)
    ]
    table["paired t p"] = tests["p_value"].map(_p_value).to_numpy()
    table["Holm p (tests)"] = tests["p_holm"].map(_p_value).to_numpy()
    return _markdown_table(table)


def matches_any(frame: pd.DataFrame, policies: list[dict[str, Any]]) -> pd.Series:
    """Rows of ``frame`` that match any of ``policies``."""
    mask = pd.Series(False, index=frame.index)
    for policy in policies:
        mask |= matches(frame, policy)
    return mask


def _range(row: pd.Series, over: str) -> str:
    """After a mean over draws: the central 90% of the per-draw P(talks), when the table has it."""
    if "p_talks_range_low" not in row.index:
        return ""
    return (
        f" (mean over the {over}s and its t interval; the per-{over} P(talks) runs "
        f"{row['p_talks_range_low']:.2f} to {row['p_talks_range_high']:.2f} over the central 90% of {over}s)"
    )


def _headlines(
    estimates: pd.DataFrame, contrasts: pd.DataFrame, baseline: dict[str, Any], by: list[str], over: str = "draw"
) -> list[str]:
    talks = contrasts[contrasts["outcome"] == "talks"]
    full_baseline = set(baseline) == set(by)
    lines = []
    if full_baseline:
        row = estimates[matches(estimates, baseline)].iloc[0]
        lines.append(
            f"Baseline ({plots.policy_label(baseline)}): P(talks) "
            f"{_interval(row['p_talks'], row['p_talks_low'], row['p_talks_high'])}{_range(row, over)}, mean tests "
            f"{_interval(row['mean_tests'], row['mean_tests_low'], row['mean_tests_high'])}."
        )
    test = f"paired t over the {over}s" if "draws" in contrasts.columns else "McNemar"
    value, tied = compact.ties(estimates, "p_talks", by)
    if len(tied) > 1:  # many policies at P = 1.00: name the tie rather than pick one of them
        fewest_of_tied = estimates[matches_any(estimates, tied)].sort_values("mean_tests", kind="stable").iloc[0]
        lines.append(
            f"Highest P(talks): {value:.2f}, a tie among {len(tied)} policies at the precision shown "
            f"(the compact table above marks them); of these, {plots.policy_label({c: fewest_of_tied[c] for c in by})} "
            f"has the fewest tests, mean {_interval(fewest_of_tied['mean_tests'], fewest_of_tied['mean_tests_low'], fewest_of_tied['mean_tests_high'])}."
        )
    else:
        best = estimates.loc[estimates["p_talks"].idxmax()]
        best_policy = {c: best[c] for c in by}
        contrast = talks[matches(talks, best_policy)].iloc[0]
        tests = contrasts[(contrasts["outcome"] == "tests") & matches(contrasts, best_policy)].iloc[0]
        lines.append(
            f"Highest P(talks): {plots.policy_label(best_policy)}, "
            f"{_interval(best['p_talks'], best['p_talks_low'], best['p_talks_high'])}; against the baseline "
            f"{_interval(contrast['difference'], contrast['ci_low'], contrast['ci_high'], 3)} "
            f"({test}, Holm p {_p_value(contrast['p_holm'])} over the policies, since this one was picked "
            "as the highest), mean tests "
            f"{_interval(tests['difference'], tests['ci_low'], tests['ci_high'])}."
        )
    fewest = estimates.loc[estimates["mean_tests"].idxmin()]
    lines.append(
        f"Fewest tests: {plots.policy_label({c: fewest[c] for c in by})}, mean "
        f"{_interval(fewest['mean_tests'], fewest['mean_tests_low'], fewest['mean_tests_high'])}, "
        f"P(talks) {_interval(fewest['p_talks'], fewest['p_talks_low'], fewest['p_talks_high'])}."
    )
    return [f"* {line}" for line in lines]


CAPTIONS = {
    "p_talks_heatmap": "P(US–DPRK talks within {horizon} weeks) by sanctions level, exercise policy and engagement "
    "stance. Each cell: the estimate and ± half the width of its 95% Wilson interval.",
    "time_to_talks": "Time to US–DPRK talks {focus}: Kaplan–Meier estimate of P(no talks yet) by week, runs "
    "without talks censored at week {horizon}; bands are pointwise 95% log(−log) intervals.",
    "contrasts_forest": "Paired contrasts with the baseline ({baseline}) {focus}: difference in P(talks) with "
    "Newcombe's paired 95% interval, and in mean tests with a paired t interval; every policy "
    "ran the baseline's replicate seeds.",
    "contrasts_forest_over": "Paired contrasts with the baseline ({baseline}) {focus}: mean over the {draw}s of the "
    "difference in P(talks) and in mean tests, with 95% t intervals over the {draw}s; every "
    "policy ran the baseline's {draw}s and replicate seeds.",
    "testing_cost": "What each policy costs in North Korean testing {focus}: share of runs by the highest rung "
    "tested within {horizon} weeks, and the mean number of tests with its 95% interval.",
    "talks_testing_tradeoff": "Talks against testing over the whole design: each line runs through the sanctions "
    "levels of one exercise policy and stance (open marker: lowest level, filled: highest); "
    "thin bars are the 95% intervals of both estimates.",
    "p_talks_across_posterior": "P(US–DPRK talks within {horizon} weeks) across {across} {focus}: "
    "the average (dot) with its 95% t interval over the {draw}s (thick bar), "
    "and the central 90% of the per-{draw} estimates (thin bar): how far P(talks) moves "
    "across {allowed}.",
    "trajectories_fan": "Weekly trajectories of the baseline and of the policy that differs most from it in "
    "P(talks) {focus} ({replicates} replicates each, re-run with the sweep's seeds): the share of "
    "runs with US–DPRK talks under way (top row), then the median, central 50% and 90% of runs "
    "of each series (a log axis where the values span decades).",
}


def _markdown(
    result: SweepResult,
    baseline: dict[str, Any],
    focus: dict[str, Any],
    estimates: pd.DataFrame,
    contrasts: pd.DataFrame,
    figures: dict[str, list[Path]],
    notes: dict[str, str],
    spreads: dict[str, pd.DataFrame],
) -> str:
    by, horizon, manifest, prov = list(result.levers), result.horizon, result.manifest, result.provenance
    start = f"{result.start_date.day} {result.start_date:%B %Y}"
    fields = {
        "horizon": horizon,
        "baseline": plots.policy_label(baseline),
        "focus": f"at {plots.policy_label(focus)}" if focus else "for every policy",
        "replicates": min(FAN_REPLICATES, manifest["replicates"]),
        **(
            {"across": "the calibration posterior", "draw": "draw", "allowed": "parameter values the record allows"}
            if prov["experiment"].get("posterior")
            else {
                "across": "the scenarios of the uncertainties",
                "draw": "scenario",
                "allowed": "the ranges of the config's [uncertainties]",
            }
        ),
    }
    experiment = prov["experiment"]
    over = "draw" if experiment.get("posterior") else "scenario"
    effects = assumptions.relevant(result.levers, list(estimates.columns))
    effect_notes = assumptions.brief(effects)
    lines = [
        f"# Report: {result.name}",
        "",
        *([f"_{experiment['description']}_", ""] if experiment.get("description") else []),
        *(
            [compact.markdown(estimates, by, horizon, scenario_unit(result) if spreads else None, effect_notes), ""]
            if "sanctions_level" in by or len(by) > 1
            else []
        ),
        f"**How to read this.** Each policy ran {manifest['replicates']} replicate{'s' if manifest['replicates'] != 1 else ''} "
        f"of {horizon} weeks from {start}"
        + (
            f" in each of {experiment['samples']} scenarios of the uncertainties"
            if experiment.get("uncertainties")
            else ""
        )
        + (posterior_reading(experiment["posterior"], manifest["replicates"]) if experiment.get("posterior") else "")
        + "; "
        "every policy ran the same replicate seeds (common random numbers), so policies are compared pair by pair. "
        "Brackets are 95% confidence intervals: Wilson for probabilities, Kaplan–Meier (runs without talks "
        f"censored at week {horizon}) for median weeks; "
        + (
            f"for P(talks), P(summit), P(deal), P(any test), P(nuclear test), mean tests and the contrasts with the "
            f"baseline, means over the {over}s with t intervals over them (paired by {over} and seeds for the "
            f"contrasts): they say how precisely the average over the {over}s is known, counting the spread across "
            f"the {over}s as well as the runs' chance; how far an outcome moves from one {over} to another is the "
            f"per-{over} range beside them. The median weeks to talks is pooled over the runs, and labelled so."
            if spreads
            else "quasi-Poisson (overdispersion-scaled exact Poisson) for mean tests, which are skewed low counts where a "
            "t interval undercovers; Newcombe's paired interval with the exact McNemar test for differences in "
            "P(talks), and the paired t "
            "interval and test for differences in mean tests."
        )
        + ' "Talks" means US–DPRK talks (stage 2 or higher) began within the horizon.',
        "",
        f"**Baseline for the contrasts:** {plots.policy_label(baseline)}"
        + (
            ""
            if set(baseline) == set(by)
            else f", each policy compared with it at the same {' and '.join(plots.lever_name(c).lower() for c in by if c not in baseline)}"
        )
        + ".",
        "",
        "## At a glance",
        "",
        *_headlines(estimates, contrasts, baseline, by, over),
        "",
        *assumptions.section(effects, experiment),
        "## Figures",
        "",
    ]
    for name, paths in figures.items():
        png = next(p for p in paths if p.suffix == ".png")
        caption = CAPTIONS[name + "_over" if name == "contrasts_forest" and spreads else name].format(**fields)
        if name == HEATMAP and spreads:
            caption = caption.replace("its 95% Wilson interval", f"its 95% t interval over the {over}s")
        if name == "time_to_talks" and {"as_scheduled", "suspended_during_talks"} <= set(
            result.levers.get("exercise_policy", [])
        ):
            caption += (
                ' "Suspended in talks" holds the exercises as scheduled until talks begin, so its curves '
                'coincide with "as scheduled".'
            )
        lines += [
            f"![{name}]({png.name})",
            "",
            " ".join(filter(None, [caption, notes.get(name)])) + f" (PDF: [{name}.pdf]({name}.pdf))",
            "",
        ]
    lines += [
        "## Estimates per policy",
        "",
        *(
            [
                f'Intervals marked "t over {over}s" are t intervals over the {over}s: how precisely the average '
                f'over them is known. "90% of {over}s" is the central 90% of the per-{over} estimates: how far the '
                f'outcome moves across them. Intervals marked "pooled over runs" treat every run as independent '
                f"and are too narrow for an average over {over}s.",
                "",
            ]
            if spreads
            else []
        ),
        _estimates_table(estimates, by, horizon, over if spreads else None),
        "",
        *_posterior_section(result, by, spreads),
        *_robustness_section(result, by, baseline),
        f"## Contrasts with the baseline ({plots.policy_label(baseline)})",
        "",
        (
            "Δ is the mean over the " + over + "s of the policy minus the baseline in each " + over + " (same seeds); "
            if spreads
            else "Δ is the policy minus the baseline on the same replicates; "
        )
        + "the baseline itself shows 0. With "
        f"{int((contrasts['outcome'] == 'talks').sum()) - 1} contrasts per outcome some unadjusted p-values fall "
        "below 0.05 by chance alone: the Holm columns adjust them over the contrasts of each outcome (family-wise "
        "error rate; reject where Holm p < 0.05).",
        "",
        _contrasts_table(contrasts, by),
        "",
        "## Provenance",
        "",
        *_provenance(result),
        "",
    ]
    return "\n".join(lines)


def _robustness_section(result: SweepResult, by: list[str], baseline: Mapping[str, Any]) -> list[str]:
    """For a sweep over scenarios with several policies: the robust ranking by P(talks) and by
    mean tests (regret per draw, share best, paired comparisons with the baseline fixed in
    advance, and with a best chosen on half of the draws judged on the other half); the full
    tables go to robust_<outcome>.csv."""
    if "scenario" not in result.rows.columns or len(result.rows[by].drop_duplicates()) < 2:
        return []
    fixed = {**default_baseline(result.levers), **baseline}
    reference = tuple(fixed[c] for c in by)
    lines = []
    for outcome, larger in (("talks", True), ("tests", False)):
        unit = "draw" if result.provenance["experiment"].get("posterior") else "scenario"
        text, tables = robustness.section(
            result.rows, by, outcome, larger_is_better=larger, horizon=result.horizon, unit=unit, reference=reference
        )
        atomic_write_text(result.directory / f"robust_{outcome}.csv", tables["regret"].to_csv(index=False))
        lines += [text, ""]
    return lines


def _provenance(result: SweepResult) -> list[str]:
    manifest, prov = result.manifest, result.provenance
    experiment, git = prov["experiment"], prov.get("git", {})
    dirty = {True: " (with uncommitted changes)", False: "", None: ""}.get(git.get("dirty"), "")
    levers = "; ".join(f"{name} = {', '.join(map(plots.nice, values))}" for name, values in result.levers.items())
    lines = [
        f"* config: `{experiment.get('source', '?')}`, hash `{manifest['config_hash']}`",
        f"* design: {manifest['n_points']} design points × {manifest['replicates']} replicates = {manifest['n_runs']} runs "
        f"of {manifest['weeks']} weeks, {experiment.get('engine', '?')} engine",
        f"* levers: {levers}",
        f"* fixed parameters: {', '.join(f'{k} = {v}' for k, v in experiment['params'].items()) or 'all at their defaults'}",
    ]
    if experiment.get("uncertainties"):
        ranges = ", ".join(f"{k} in [{lo}, {hi}]" for k, (lo, hi) in experiment["uncertainties"].items())
        lines.append(f"* uncertainties ({experiment['samples']} Latin hypercube scenarios): {ranges}")
    if experiment.get("posterior"):
        post = experiment["posterior"]
        lines.append(
            f"* posterior: {post['samples']} draws by weight from `{post.get('file') or 'the installed posterior'}` "
            f"(SHA-256 `{post.get('sha256', '?')}`), each with its own replayed start state"
        )
    seeds = prov.get("seeds", {})
    lines += [
        f"* seeds: experiment seed {seeds.get('experiment_seed', experiment.get('seed'))}; replicate seed = "
        f"{seeds.get('replicate_seed', '?')}; random numbers: {seeds.get('random_numbers', '?')}",
        f"* git commit: `{git.get('commit', 'unknown')}`{dirty}",
        f"* packages: {', '.join(f'{k} {v}' for k, v in prov.get('packages', {}).items())}",
        f"* platform: {prov.get('platform', {}).get('system', '?')}",
        f"* results created: {prov.get('created', '?')}; report written: "
        f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
    ]
    return lines


def write_replay(replay: Replay, out: Path) -> list[Path]:
    """Write the comparison table (CSV), every replicate's monthly counts (Parquet), the scores
    and facts (JSON) and the figure into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    comparison = out / "replay_monthly.csv"
    atomic_write_text(comparison, replay.comparison().to_csv())
    replicates = out / "replay_replicates.parquet"
    buffer = io.BytesIO()
    replicate_table(replay).to_parquet(buffer, index=False)
    atomic_write_bytes(replicates, buffer.getvalue())
    scores = out / "replay_scores.json"
    atomic_write_text(scores, json.dumps(replay.summary(), indent=2) + "\n")
    return [comparison, replicates, scores, *plots.save(plots.replay_figure(replay), out / "replay_launches")]
