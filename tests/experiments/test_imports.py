"""The import graph of experiments/ runs one way, with no circles, and model/ imports nothing
from experiments/.

Every ``import`` and ``from ... import`` in the source is read with :mod:`ast`, at module level
and inside functions alike (a function-local import is still an arrow), and resolved to the
module it names. The declared order, top to bottom (an arrow may only point down, or within
one layer to another module of the same package)::

    cli                   the command
    app, bench, docs      its helpers (the explorer's pages, benchmarks, the ODD's generated blocks)
    analysis              estimates, contrasts, survival, plots, report
    sensitivity           plan, run, indices, report (beside analysis)
    sweep                 config, design, runner, store, results, peer
    history               scenario, record, replay, calibration, posterior
    io, seeds, provenance, stats, validation     leaves: import no other part of experiments/ but errors
    errors

(``model/`` has its own tests; here it only must not import experiments/.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "experiments"

LAYERS = {
    "cli": 6,
    "app": 5,
    "bench": 5,
    "docs": 5,
    "analysis": 4,
    "sensitivity": 4,
    "sweep": 3,
    "history": 2,
    "io": 1,
    "seeds": 1,
    "provenance": 1,
    "stats": 1,
    "validation": 1,
    "errors": 0,
}
"""Top-level part of experiments/ (module or package) -> its layer; an import may point only
to a lower layer, or to the same package."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` (dotted name -> file)."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``path`` (module ``name``) imports anywhere in its source.

    ``from . import x`` names the submodule ``x`` when there is one (else the package);
    ``from .a import b`` names ``a.b`` when that is a module, else ``a``."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:  # a name inside a module -> the module
            target = target.rpartition(".")[0]
        if target:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                full = f"{stem}.{alias.name}"
                add(full if full in known else stem)
    found.discard(name)
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """experiments/ and model/ modules -> the modules of either they import."""
    files = {**modules(root, "experiments"), **modules(root, "model")}
    known = set(files)
    return {name: imports(path, name, known) for name, path in files.items()}


def layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "experiments" or len(parts) < 2:
        return None  # experiments/__init__.py (a docstring) or a model module
    return LAYERS[parts[1]]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def against_direction(edges: dict[str, set[str]]) -> list[str]:
    """Arrows within experiments/ that point up, or sideways between two packages or leaves."""
    bad = []
    for source, targets in edges.items():
        for target in targets:
            a, b = layer(source), layer(target)
            if a is None or b is None:
                continue
            same_part = source.split(".")[1] == target.split(".")[1]
            if b > a or (b == a and not same_part):
                bad.append(f"{source} -> {target}")
    return sorted(bad)


def test_every_part_of_experiments_has_a_declared_layer():
    parts = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").is_file())
    }
    assert parts == set(LAYERS)


def experiments_only(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        s: {t for t in targets if t.startswith("experiments")}
        for s, targets in edges.items()
        if s.startswith("experiments")
    }


def test_no_import_circles_in_experiments():
    assert cycles(experiments_only(graph())) == []


def test_imports_point_down_the_declared_order():
    assert against_direction(graph()) == []


def test_model_imports_nothing_from_experiments():
    edges = graph()
    offending = sorted(
        f"{s} -> {t}"
        for s, targets in edges.items()
        if s.startswith("model")
        for t in targets
        if t.startswith("experiments")
    )
    assert offending == []


def test_the_walk_sees_function_level_imports_and_reports_circles_and_upward_arrows(tmp_path):
    """The checks would fail on the faults they exist for: a circle hidden in a function-local
    import, and a leaf importing a package above it."""
    (tmp_path / "experiments" / "sweep").mkdir(parents=True)
    (tmp_path / "model").mkdir()
    (tmp_path / "experiments" / "__init__.py").write_text("")
    (tmp_path / "model" / "__init__.py").write_text("")
    (tmp_path / "experiments" / "sweep" / "__init__.py").write_text("")
    (tmp_path / "experiments" / "sweep" / "results.py").write_text("def f():\n    from ..analysis import report\n")
    (tmp_path / "experiments" / "analysis").mkdir()
    (tmp_path / "experiments" / "analysis" / "__init__.py").write_text("")
    (tmp_path / "experiments" / "analysis" / "report.py").write_text("from ..sweep.results import f\n")
    (tmp_path / "experiments" / "stats.py").write_text("import experiments.sweep.results\n")
    edges = graph(tmp_path)
    assert edges["experiments.sweep.results"] == {"experiments.analysis.report"}
    assert cycles(edges) == [["experiments.analysis.report", "experiments.sweep.results"]]
    assert against_direction(edges) == [
        "experiments.stats -> experiments.sweep.results",
        "experiments.sweep.results -> experiments.analysis.report",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("from . import plots", {"experiments.analysis.plots"}),
        ("from .estimates import summary", {"experiments.analysis.estimates"}),
        ("from ..io import atomic_write_text", {"experiments.io"}),
        ("import experiments.sweep.results as r", {"experiments.sweep.results"}),
        ("from experiments import analysis", {"experiments.analysis"}),
    ],
)
def test_imports_resolve_to_modules(tmp_path, text, expected):
    path = tmp_path / "report.py"
    path.write_text(text + "\n")
    known = {
        "experiments",
        "experiments.io",
        "experiments.analysis",
        "experiments.analysis.plots",
        "experiments.analysis.estimates",
        "experiments.analysis.report",
        "experiments.sweep",
        "experiments.sweep.results",
    }
    assert imports(path, "experiments.analysis.report", known) == expected
