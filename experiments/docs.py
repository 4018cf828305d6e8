"""Keep the generated parts of ``docs/ODD.md`` in step with the code: the parameter table (from
``model/params.py``) and the validation results (a replay of the shipped historical scenario
under the current defaults). ``escalation params --update-odd`` rewrites both; a test fails
when either is stale."""

from __future__ import annotations

import re
from pathlib import Path

from model.params import table_markdown

from .history.calibration import (
    credible_intervals,
    prior_bounds,
    read_calibrated,
    strongest_pairs,
    weighted_correlations,
)
from .history.checks import CHECKS_FILE
from .history.posterior import POSTERIOR_FILE, fitted_scenario
from .history.record import load_record_for
from .history.replay import Replay
from .history.scenario import load_scenario
from .io import atomic_write_text

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
VALIDATION_REPLICATES, VALIDATION_SEED = 1000, 2016


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- BEGIN {name}[^>]*-->\n)(.*?)(<!-- END {name} -->)", re.S)


def _replace(text: str, name: str, content: str) -> str:
    pattern = _block(name)
    if not pattern.search(text):
        raise ValueError(f"no BEGIN/END {name} markers found")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(3), text)


def with_parameter_table(text: str) -> str:
    """``text`` with the PARAMETER TABLE block replaced by the current parameter table."""
    return _replace(text, "PARAMETER TABLE", table_markdown())


def validation_markdown() -> str:
    """The replay of the scenario the installed calibration fitted, under the current defaults, as Markdown."""
    history = fitted_scenario()
    scenario = load_scenario(history)
    replay = Replay(scenario, VALIDATION_REPLICATES, VALIDATION_SEED, load_record_for(scenario, None))
    s = replay.summary()
    lines = [
        f"Replay of `{history.name}` under the calibrated defaults, {VALIDATION_REPLICATES} "
        f"replicates, seed {VALIDATION_SEED} (`escalation replay {history.relative_to(ODD_PATH.parents[1])} "
        f"--replicates {VALIDATION_REPLICATES}`), over {s['months_compared']} months:",
        "",
        f"* coverage of the observed monthly launch counts: {s['coverage_50']:.2f} by the 50% intervals, "
        f"{s['coverage_90']:.2f} by the 90% intervals;",
        f"* mean absolute error of the monthly launch rate: {s['mae_monthly_launches']:.2f} launch events a month;",
        f"* CRPS of the monthly launch counts {s['crps']:.3f}, against {s['crps_baseline']:.3f} for the naive baseline "
        f"(Poisson at the fitted period's mean rate, {s['baseline_rate']:.2f} a month): skill {'n/a' if s['crps_skill'] is None else format(s['crps_skill'], '+.2f')};",
        f"* total launches {s['total_launches_observed']}, simulated 90% interval [{s['total_launches_90_low']:g}, "
        f"{s['total_launches_90_high']:g}]; randomised PIT histogram (10 bins, flat if calibrated): "
        f"{', '.join(map(str, s['pit_histogram']))}.",
        "",
        "| fact | verdict | detail |",
        "|---|---|---|",
        *[f"| {name} | {verdict} | {s['fact_details'][name]} |" for name, verdict in s["facts"].items()],
    ]
    return "\n".join(lines)


def fit_markdown() -> str:
    """The installed posterior (``data/calibration_posterior.csv``, ``model/calibrated.toml``):
    how far each parameter's 90% credible interval narrows its prior, the effective sample size,
    the strongest correlations, as Markdown."""
    import pandas as pd

    method = read_calibrated()["method"]
    posterior = pd.read_csv(POSTERIOR_FILE)
    names = tuple(c for c in posterior.columns if c in read_calibrated()["parameters"])
    low, high = prior_bounds(load_scenario(fitted_scenario()).params, names)
    table = credible_intervals(posterior, names, low, high)
    w = posterior["weight"].to_numpy()
    ess = w.sum() ** 2 / (w**2).sum()
    lines = [
        f"The installed calibration (`model/calibrated.toml`: {method.get('population')} particles, "
        f"{method.get('replicates_per_particle', 1)} replay(s) each, {method.get('generations')} generations, "
        f"{method.get('simulations'):,} simulations; effective sample size {ess:.0f}). Per parameter, the prior "
        "sampled, the posterior median and 90% credible interval, and the interval's share of the prior's width:",
        "",
        "| parameter | prior | median | 90% interval | width share |",
        "|---|---|---|---|---|",
        *[
            f"| `{n}` | {r.prior_low:.3g} to {r.prior_high:.3g} | {r['median']:.3g} | {r.low:.3g} to {r.high:.3g} "
            f"| {r.width_ratio:.2f} |"
            for n, r in table.iterrows()
        ],
        "",
        f"{int((table['width_ratio'] >= 0.69).sum())} of {len(table)} intervals keep at least 69% of the prior's "
        "width. Strongest posterior correlations: "
        + "; ".join(
            f"`{a}` and `{b}` {r:+.2f}" for a, b, r in strongest_pairs(weighted_correlations(posterior, names), 4)
        )
        + ".",
    ]
    return "\n".join(lines)


def checks_markdown(path: Path | None = None) -> str:
    """The simulation-based calibration figures of ``data/calibration_checks.json``, as Markdown."""
    import json

    path = CHECKS_FILE if path is None else path
    if not path.is_file():
        return (
            "Not computed yet: `escalation calibrate experiments/scenarios/history_2016_2018.toml --sbc 20 "
            "--install` writes `data/calibration_checks.json`."
        )
    c = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    if "identification" in c:
        ident = c["identification"]
        ratios = ident["width_ratio"]
        lines += [
            f"What the record informs (`data/calibration_checks.json`, `identification`, of the installed fit to "
            f"`{ident['scenario']}`): {len(ratios) - len(ident['not_informed'])} of {len(ratios)} calibrated "
            f"parameters have a 90% credible interval at most {ident['identified_width']:g} of their prior's width"
            + "".join(f" (`{n}` {r:.2f})" for n, r in ratios.items() if r <= ident["identified_width"])
            + f" (the widest keeps {max(ratios.values()):.2f}, the narrowest {min(ratios.values()):.2f})"
            + f"; the effective sample size is {ident['effective_sample_size']:.0f}; pairs correlated at 0.5 or more: "
            + ("; ".join(f"`{a}` and `{b}` {r:+.2f}" for a, b, r in ident["correlated_pairs"]) or "none")
            + ".",
            "",
        ]
    if "truths" not in c:
        return "\n".join(lines + ["Simulation-based calibration: not computed for the installed fit."])
    budget = ", ".join(f"{k} {v}" for k, v in c["budget"].items())
    worst = sorted(c["per_parameter_90"].items(), key=lambda kv: kv[1])[:3]
    return "\n".join(
        lines
        + [
            f"Simulation-based calibration (`data/calibration_checks.json`) of the fit to `{c['scenario']}`: "
            f"{c['truths']} truths drawn from the prior (seed {c['seed']}), each fitted to its own synthetic record "
            f"({budget}):",
            "",
            f"* the 50% credible intervals contain the truth in {c['sbc_coverage_50']:.2f} of the cases "
            f"(SE {c['sbc_coverage_50_se']:.2f});",
            f"* the 90% credible intervals in {c['sbc_coverage_90']:.2f} (SE {c['sbc_coverage_90_se']:.2f});",
            "* lowest 90% coverage by parameter: " + ", ".join(f"`{k}` {v:.2f}" for k, v in worst) + ".",
        ]
    )


def with_generated_blocks(text: str) -> str:
    """``text`` with every generated block brought up to date."""
    text = _replace(with_parameter_table(text), "VALIDATION RESULTS", validation_markdown())
    return _replace(_replace(text, "CALIBRATION FIT", fit_markdown()), "CALIBRATION CHECKS", checks_markdown())


def update_odd(path: Path = ODD_PATH) -> bool:
    """Rewrite the ODD's generated blocks in place; return whether anything changed."""
    old = path.read_text(encoding="utf-8")
    new = with_generated_blocks(old)
    if new != old:
        atomic_write_text(path, new)
    return new != old
