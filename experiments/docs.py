"""Keep the generated parts of ``docs/ODD.md`` in step with the code: the parameter table (from
``model/params.py``) and the validation results (a replay of the shipped historical scenario
under the current defaults). ``escalation params --update-odd`` rewrites both; a test fails
when either is stale."""

from __future__ import annotations

import re
from pathlib import Path

from model.params import table_markdown

from .history.record import load_record_for
from .history.replay import Replay
from .history.scenario import load_scenario
from .io import atomic_write_text

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
HISTORY_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "history_2016_2018.toml"
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
    """The replay of the 2016-2018 scenario under the current defaults, as Markdown."""
    scenario = load_scenario(HISTORY_SCENARIO)
    replay = Replay(scenario, VALIDATION_REPLICATES, VALIDATION_SEED, load_record_for(scenario, None))
    s = replay.summary()
    lines = [
        f"Replay of `{HISTORY_SCENARIO.name}` under the calibrated defaults, {VALIDATION_REPLICATES} "
        f"replicates, seed {VALIDATION_SEED} (`escalation replay {HISTORY_SCENARIO.relative_to(ODD_PATH.parents[1])} "
        f"--replicates {VALIDATION_REPLICATES}`), over {s['months_compared']} months:",
        "",
        f"* coverage of the observed monthly launch counts: {s['coverage_50']:.2f} by the 50% intervals, "
        f"{s['coverage_90']:.2f} by the 90% intervals;",
        f"* mean absolute error of the monthly launch rate: {s['mae_monthly_launches']:.2f} launch events a month.",
        "",
        "| fact | verdict | detail |",
        "|---|---|---|",
        *[f"| {name} | {verdict} | {s['fact_details'][name]} |" for name, verdict in s["facts"].items()],
    ]
    return "\n".join(lines)


def with_generated_blocks(text: str) -> str:
    """``text`` with every generated block brought up to date."""
    return _replace(with_parameter_table(text), "VALIDATION RESULTS", validation_markdown())


def update_odd(path: Path = ODD_PATH) -> bool:
    """Rewrite the ODD's generated blocks in place; return whether anything changed."""
    old = path.read_text(encoding="utf-8")
    new = with_generated_blocks(old)
    if new != old:
        atomic_write_text(path, new)
    return new != old
