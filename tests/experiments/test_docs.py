"""The documentation agrees with the code."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from experiments.docs import ODD_PATH, validation_markdown, with_parameter_table
from model import EscalationModel, rules
from model.params import TABLE


def test_odd_parameter_table_is_generated_from_params():
    text = ODD_PATH.read_text(encoding="utf-8")
    assert text == with_parameter_table(text), "run `escalation params --update-odd`"
    for name in TABLE:
        assert f"| `{name}` |" in text


def test_odd_names_every_rule():
    text = ODD_PATH.read_text(encoding="utf-8")
    public = [
        n for n, f in vars(rules).items() if callable(f) and not n.startswith("_") and f.__module__ == rules.__name__
    ]
    missing = [n for n in public if n not in text]
    assert not missing, f"rules not described in docs/ODD.md: {missing}"


def test_odd_validation_results_are_a_fresh_replay():
    text = ODD_PATH.read_text(encoding="utf-8")
    assert validation_markdown() in text, "run `escalation params --update-odd`"


# ---------------------------------------------------------------------------------------------
# the README and the guides in docs/
# ---------------------------------------------------------------------------------------------

README = ODD_PATH.parents[1] / "README.md"
GUIDES = sorted(p for p in ODD_PATH.parent.glob("*.md") if p != ODD_PATH)
"""The guides in docs/ (the ODD has its own tests above)."""


def _code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_readme_answers_on_its_first_screen_and_stays_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160, "the README is the front door: move details to docs/"
    first_screen = " ".join(" ".join(lines[:45]).split())
    for needed in ("**The question.**", "**The answer so far**", "**The caveat:**", "P(talks within 52 weeks)"):
        assert needed in first_screen, needed
    assert "make run" in " ".join(lines[:60]) and "make test" in " ".join(lines[:60])


@pytest.mark.parametrize("path", [README, *GUIDES], ids=lambda p: p.name)
def test_no_reference_a_reader_cannot_follow(path):
    text = path.read_text(encoding="utf-8")
    for pattern in (r"\bissue \d", r"domain brief", r"\bDOMAIN\b"):
        assert not re.search(pattern, text, re.I if pattern != r"\bDOMAIN\b" else 0), (path.name, pattern)


@pytest.mark.parametrize("path", [README, *GUIDES], ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), (path.name, target)
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
            assert anchor in {_slug(h) for h in headings}, (path.name, target)


def test_the_readme_python_example_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (block,) = _code_blocks(README, "python")
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["m"].outcomes()["talks"] in (True, False)
    assert 0 <= namespace["res"].outcomes_frame()["talks"].mean() <= 1


def test_the_batch_run_recipe_gives_talks_within_the_horizon_without_a_warning():
    """docs/mesa.md's recipe runs under `python -W error` for deprecation warnings, and its
    P(talks within 52 weeks) is what the model's own outcomes give for the same seeds."""
    (block,) = _code_blocks(ODD_PATH.parent / "mesa.md", "python")
    assert "iterations=" not in block.replace("(replaces iterations=)", "")
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-W", "error::FutureWarning", "-c", block],
        capture_output=True,
        text=True,
        cwd=ODD_PATH.parents[1],
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    printed = dict(re.findall(r"^(pressure_\w+)\s+([0-9.]+)$", result.stdout, re.M))
    for stance in ("pressure_first", "pressure_and_engagement"):
        direct = np.mean(
            [EscalationModel(rng=s, engagement_stance=stance).run(52).outcomes()["talks"] for s in range(20)]
        )
        assert float(printed[stance]) == pytest.approx(direct), stance


def test_the_browser_is_opt_in_for_make_test_and_ci_brings_it():
    root = ODD_PATH.parents[1]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    (test_rule,) = re.findall(r"^test:(.*)$", makefile, re.M)
    assert "browser" not in test_rule
    ci = [line.strip() for line in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert ci.index("make browser") < ci.index("make test")
