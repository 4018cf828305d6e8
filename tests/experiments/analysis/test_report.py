"""Tests for experiments/analysis/report.py and `escalation report`: every figure and report.md from a
tiny results directory, with the right content, and one-line errors for bad input."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import assert_one_line_error, run_cli

from experiments import analysis
from experiments.analysis.report import write_report
from experiments.errors import UserError

FIGURES = [
    "p_talks_heatmap",
    "time_to_talks",
    "contrasts_forest",
    "testing_cost",
    "talks_testing_tradeoff",
    "trajectories_fan",
]


@pytest.fixture(scope="module")
def smoke_dir(smoke_results):
    return smoke_results


@pytest.fixture(scope="module")
def report(smoke_dir):
    """The default report of the smoke sweep: (paths written, text of report.md)."""
    paths = write_report(smoke_dir)
    return paths, (smoke_dir / "report.md").read_text(encoding="utf-8")


def test_every_figure_is_written_as_pdf_and_png(report, smoke_dir):
    paths, _ = report
    assert sorted(p.name for p in paths) == sorted(
        [f"{f}.{s}" for f in FIGURES for s in ("pdf", "png")] + ["report.md"]
    )
    for figure in FIGURES:
        png, pdf = (smoke_dir / f"{figure}.png").read_bytes(), (smoke_dir / f"{figure}.pdf").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, figure
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000, figure


def test_report_has_title_baseline_and_every_figure(report, smoke_dir):
    _, text = report
    assert text.startswith("# Report: smoke\n")
    assert "**How to read this.**" in text
    assert "**Baseline for the contrasts:** sanctions 0.95, as scheduled, pressure first." in text
    embedded = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert embedded == [f"{f}.png" for f in FIGURES]
    assert all((smoke_dir / name).is_file() for name in embedded)


def test_report_tables_have_a_row_per_policy_with_intervals(report, smoke_dir):
    _, text = report
    result = analysis.load(smoke_dir)
    estimates = text.split("## Estimates per policy")[1].split("## Contrasts")[0]
    contrasts = text.split("## Contrasts with the baseline")[1].split("## Provenance")[0]
    summary = analysis.summary(result)
    for _, point in summary.iterrows():
        cells = f"| {point['sanctions_level']:g} | {point['exercise_policy'].replace('_', ' ')} | "
        row = next(
            line
            for line in estimates.splitlines()
            if line.startswith(cells)
            and ("pressure first" if point["engagement_stance"] == "pressure_first" else "pressure + engagement")
            in line
        )
        assert f"{point['p_talks']:.2f} [{point['p_talks_low']:.2f}, {point['p_talks_high']:.2f}]" in row
        assert f"| {point['mean_tests']:.2f} [" in row
    table_rows = [line for line in estimates.splitlines() if line.startswith("| 0.")]
    assert len(table_rows) == 8
    contrast_rows = [line for line in contrasts.splitlines() if line.startswith("| 0.")]
    assert len(contrast_rows) == 8
    baseline_row = next(line for line in contrast_rows if line.startswith("| 0.95 | as scheduled | pressure first |"))
    assert "| 0.000 [0.000, 0.000] | 1.000 | 1.000 | 0 / 0 | 0.00 [0.00, 0.00] | 1.000 | 1.000 |" in baseline_row
    # the Holm-adjusted p-values are never below the unadjusted ones
    for line in contrast_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        p, holm = cells[4], cells[5]
        if p[0].isdigit() and holm[0].isdigit():
            assert float(holm) >= float(p)


def test_report_states_the_provenance(report, smoke_dir):
    _, text = report
    manifest = analysis.load(smoke_dir).manifest
    provenance = text.split("## Provenance")[1]
    assert manifest["config_hash"] in provenance
    assert manifest["provenance"]["git"]["commit"] in provenance
    assert "experiment seed 7" in provenance and "SeedSequence" in provenance
    assert "numpy " in provenance and "mesa " in provenance
    assert manifest["provenance"]["created"] in provenance


def test_an_incomplete_results_directory_is_refused(smoke_dir, tmp_path):
    copy = tmp_path / "smoke"
    shutil.copytree(smoke_dir, copy)
    next((copy / "chunks").glob("*.parquet")).unlink()
    with pytest.raises(UserError, match="of 160 runs"):
        write_report(copy)


@pytest.mark.parametrize(
    "baseline, fragment",
    [
        ("exercise_polcy=as_scheduled", "did you mean 'exercise_policy'"),
        ("sanctions_level=0.9", "sanctions_level takes 0.5, 0.95"),
        ("engagement_stance=talks_first", "engagement_stance takes pressure_first, pressure_and_engagement"),
    ],
)
def test_a_baseline_outside_the_design_is_refused(smoke_dir, baseline, fragment):
    with pytest.raises(UserError, match=re.escape(fragment)):
        write_report(smoke_dir, baseline)


def test_cli_writes_the_report_against_a_partial_baseline(smoke_dir, tmp_path):
    """A baseline that names only the exercise policy is matched on the other levers: each
    policy is compared with 'as scheduled' at its own sanctions level and stance."""
    copy = tmp_path / "smoke"
    shutil.copytree(smoke_dir, copy)
    for figure in FIGURES:
        (copy / f"{figure}.png").unlink(missing_ok=True)
    done = run_cli("report", str(copy), "--baseline", "exercise_policy=as_scheduled")
    assert done.returncode == 0, done.stderr
    assert f"wrote {copy / 'report.md'}" in done.stdout
    assert all((copy / f"{figure}.png").is_file() for figure in FIGURES)
    text = (copy / "report.md").read_text(encoding="utf-8")
    assert "as scheduled, each policy compared with it at the same sanctions level and engagement stance" in text
    rows = [line for line in text.split("## Contrasts")[1].splitlines() if "| as scheduled |" in line]
    assert len(rows) == 4 and all("| 0.000 [0.000, 0.000] |" in line for line in rows)


def test_cli_errors_are_one_line(tmp_path):
    assert_one_line_error(run_cli("report", str(tmp_path / "missing")), "results directory not found")


def test_everything_the_report_writes_is_a_declared_derived_file(report, smoke_dir):
    """`sweep --overwrite` deletes only files the program wrote (DERIVED_FILES, which the CLI
    hands to the sweep): the report and the summary write no other."""
    from experiments.analysis.report import DERIVED_FILES

    paths, _ = report
    assert {p.name for p in paths} | {"summary.csv"} <= set(DERIVED_FILES)
