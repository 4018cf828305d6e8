"""Storage: each finished generation of a run saved as a file pair (a Parquet table of the
population, then a JSON of its metadata, written last so it marks the generation done), read
back by a rerun with the same settings; and the result written or installed."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from model.params import CALIBRATED_FILE

from ...errors import UserError
from ...io import atomic_write_bytes, atomic_write_text
from ..posterior import POSTERIOR_FILE
from .result import Calibration


def _state_paths(out: Path, generation: int) -> tuple[Path, Path]:
    return out / f"generation_{generation:02d}.parquet", out / f"generation_{generation:02d}.json"


def save_generation(out: Path, generation: int, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Save generation ``generation`` (its population and metadata) in ``out``."""
    table, info = _state_paths(out, generation)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(table, buffer.getvalue())
    atomic_write_text(info, json.dumps(meta, indent=1) + "\n")  # written last: marks the generation done


def load_generations(out: Path, fingerprint: dict[str, Any]) -> list[tuple[pd.DataFrame | None, dict[str, Any]]]:
    """The finished generations saved in ``out`` by a run with the same settings, in order."""
    done: list[tuple[pd.DataFrame | None, dict[str, Any]]] = []
    while True:
        table, info = _state_paths(out, len(done))
        if not info.is_file():
            return done
        try:
            meta = json.loads(info.read_text(encoding="utf-8"))
            frame = pd.read_parquet(table) if meta.get("filled", True) else None
        except (OSError, ValueError) as error:
            raise UserError(
                f"{info}: an unreadable calibration state ({str(error).splitlines()[0]}); delete "
                f"{out}'s generation files to start afresh"
            ) from None
        if meta.get("fingerprint") != fingerprint:
            differ = sorted(
                k
                for k in set(fingerprint) | set(meta.get("fingerprint", {}))
                if fingerprint.get(k) != meta.get("fingerprint", {}).get(k)
            )
            raise UserError(
                f"{out} holds a calibration with other settings ({', '.join(differ[:4])} differ); "
                "use another --out, or --restart to discard them"
            )
        done.append((frame, meta))


def write_calibration(result: Calibration, out: Path) -> list[Path]:
    """Write the posterior sample (``posterior.csv``) and the calibrated parameter file
    (``calibrated.toml``) into ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    posterior, calibrated = out / "posterior.csv", out / "calibrated.toml"
    atomic_write_text(posterior, result.posterior.to_csv(index=False))
    atomic_write_text(calibrated, result.toml())
    return [posterior, calibrated]


def install_calibration(result: Calibration) -> list[Path]:
    """Make ``result`` the parameter table's defaults (:data:`model.params.CALIBRATED_FILE`) and
    its posterior sample the one ``[posterior]`` sweeps draw from (:data:`POSTERIOR_FILE`);
    return both paths. The parameter table reads its file at import: a running process keeps
    the old defaults."""
    atomic_write_text(CALIBRATED_FILE, result.toml())
    atomic_write_text(POSTERIOR_FILE, result.posterior.to_csv(index=False))
    return [CALIBRATED_FILE, POSTERIOR_FILE]


def read_calibrated(path: Path = CALIBRATED_FILE) -> dict[str, Any]:
    """The calibrated parameter file as a dict."""
    return tomllib.loads(path.read_text(encoding="utf-8"))
