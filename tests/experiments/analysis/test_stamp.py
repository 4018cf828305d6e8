"""A report is redrawn only when it is not current: the stamp beside it records the SHA-256 of
the manifest and every chunk, the report code's version, the baseline and the files written."""

from __future__ import annotations

import random
import shutil

import pytest
from conftest import cli_call

from experiments.analysis import stamp
from experiments.analysis.report import REPORT, report_is_current, write_report
from experiments.errors import EXIT_FAULT
from experiments.sweep.integrity import checksum_path


@pytest.fixture
def reported(smoke_results, tmp_path):
    """A copy of the smoke sweep with its report written (and stamped)."""
    out = tmp_path / "smoke"
    shutil.copytree(smoke_results, out)
    (out / stamp.STAMP).unlink(missing_ok=True)
    write_report(out)
    return out


call = cli_call  # escalation ARGS in this process (tests/conftest.py)


def without_time(text: str) -> str:
    """report.md without the line that holds the time it was written."""
    return "\n".join(line for line in text.splitlines() if "report written:" not in line)


def mtimes(directory):
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir() if p.is_file()}


def test_a_current_report_is_not_redrawn_and_force_redraws_it_the_same(reported, capsys):
    assert report_is_current(reported)
    before, text = mtimes(reported), (reported / REPORT).read_text(encoding="utf-8")
    result = call(capsys, "report", str(reported))
    assert result.returncode == 0 and "up to date" in result.stdout and "--force" in result.stdout
    assert "wrote" not in result.stdout and mtimes(reported) == before  # nothing written
    result = call(capsys, "report", str(reported), "--force")
    assert result.returncode == 0 and result.stdout.count("wrote") >= 10
    assert mtimes(reported)[REPORT] > before[REPORT]
    assert without_time((reported / REPORT).read_text(encoding="utf-8")) == without_time(text)
    assert report_is_current(reported)


@pytest.mark.parametrize("part", ["chunk", "checksum file"])
def test_a_chunk_damaged_after_the_report_is_found_and_named(reported, capsys, part):
    victim = sorted((reported / "chunks").glob("chunk-*.parquet"))[1]
    target = victim if part == "chunk" else checksum_path(victim)
    data = bytearray(target.read_bytes())
    bit = random.Random(5).randrange(len(data) * 8)
    data[bit // 8] ^= 1 << (bit % 8)
    target.write_bytes(bytes(data))
    assert not report_is_current(reported)
    result = call(capsys, "report", str(reported))
    assert result.returncode == EXIT_FAULT and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and victim.name in lines[0] and "is damaged" in lines[0]


@pytest.mark.parametrize("change", ["report", "figure", "manifest", "stamp", "code", "missing figure"])
def test_any_change_to_what_the_report_was_drawn_from_makes_it_not_current(reported, monkeypatch, change):
    if change == "report":
        (reported / REPORT).write_text((reported / REPORT).read_text(encoding="utf-8") + " ", encoding="utf-8")
    elif change == "figure":
        (reported / "testing_cost.png").write_bytes((reported / "testing_cost.png").read_bytes() + b"\0")
    elif change == "missing figure":
        (reported / "trajectories_fan.pdf").unlink()
    elif change == "manifest":
        path = reported / "manifest.json"
        path.write_text(path.read_text(encoding="utf-8").replace('"smoke"', '"smoke" '), encoding="utf-8")
    elif change == "stamp":
        (reported / stamp.STAMP).write_text("{}", encoding="utf-8")
    else:
        monkeypatch.setattr(stamp, "code_version", lambda: "another version of the report code")
    assert not report_is_current(reported)


def test_another_baseline_is_not_the_current_report(reported):
    assert report_is_current(
        reported, "exercise_policy=as_scheduled,engagement_stance=pressure_first,sanctions_level=0.95"
    )
    assert not report_is_current(reported, "exercise_policy=suspended")
    write_report(reported, "exercise_policy=suspended")
    assert report_is_current(reported, "exercise_policy=suspended") and not report_is_current(reported)
