"""The notebooks run top to bottom in a Jupyter kernel of this interpreter, and are committed
without outputs."""

from __future__ import annotations

import os
import sys

import nbformat
import pytest
from conftest import ROOT
from jupyter_client import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HANG_GUARD = 600  # seconds per cell before the kernel is considered stuck (not a speed target:
#                  notebook run times are reported by `pytest --durations`, never asserted)


def test_the_analysis_notebooks_are_there():
    assert {"01_single_run.ipynb", "02_policy_sweep.ipynb", "03_testing_cost.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_with_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        "clear the outputs before committing"
    )
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell holds the parameters"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_python3_kernel_is_this_interpreter():
    """The kernel that runs the notebooks is this interpreter, with the packages under test
    (jupyter_client starts a kernel spec whose command is `python` with its own interpreter)."""
    assert KernelManager(kernel_name="python3").format_kernel_cmd()[0] == sys.executable


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    """Every cell runs, the figures show, and the notebook leaves no results folder behind in
    the temporary directory (the kernel's TMPDIR is a fresh folder here)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=HANG_GUARD, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    figures = sum(
        "image/png" in o.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
    )
    assert figures >= 1, "the notebook should show its figures"
    assert not list(tmp_path.glob("policy_grid-*")), "the notebook left its temporary results folder behind"
