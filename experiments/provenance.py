"""Provenance stored with every result: config, seeds, package versions, git commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from model.backend import resolve

PACKAGES = ("mesa", "numpy", "numba", "pandas", "scipy", "pyarrow", "dask", "distributed", "matplotlib", "seaborn")
REPO_ROOT = Path(__file__).resolve().parents[1]


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers and files."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """The commit of the code that ran, and whether the working tree had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": dirty}


MODEL_DIR = REPO_ROOT / "model"
ROW_CODE = (Path(__file__).with_name("seeds.py"),)  # seed derivation: also decides the rows


@lru_cache(maxsize=1)
def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([*MODEL_DIR.glob("*.py"), *MODEL_DIR.glob("*.toml"), *ROW_CODE]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the model's source files, its calibrated values, the seed
    derivation and the backend that computes the rules (:func:`model.backend.resolve`: the two
    backends differ in the last bits of continuous values): results from different code, defaults
    or backends must never be mixed in one results directory."""
    return hashlib.sha256(f"{resolve()} {_source_digest()}".encode()).hexdigest()[:16]


def cpu_features() -> list[str]:
    """The SIMD features numpy uses on this machine: they can change the last bit of ``exp`` and
    ``log`` (never, in our tests, a discrete outcome)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - a numpy that moved it
        return ["unknown"]
    return sorted(name for name, on in features.items() if on)


def provenance(experiment: Any, **extra: Any) -> dict[str, Any]:
    """Everything needed to reproduce a result: the experiment (an
    :class:`experiments.sweep.config.Experiment`, read through its ``as_dict``, ``config_hash``
    and ``seed``: this leaf imports nothing above it), its config hash, how the seeds were
    derived, package versions, the git commit, the platform and the time."""
    return {
        "experiment": experiment.as_dict(),
        "config_hash": experiment.config_hash(),
        "model_fingerprint": model_fingerprint(),
        "backend": resolve(),
        "seeds": {
            "experiment_seed": experiment.seed,
            "replicate_seed": "uint64 of numpy SeedSequence([experiment_seed, replicate]).generate_state(2, uint32) (hi << 32 | lo)",
            "random_numbers": "Philox4x32-10 with key = run seed, counter = (slot block, week, stream, 0)",
        },
        "packages": package_versions(),
        "git": git_state(),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "executable": sys.executable,
            "numpy_cpu_features": cpu_features(),
        },
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **extra,
    }
