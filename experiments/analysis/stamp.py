"""Whether a results directory's report is current: a stamp beside ``report.md``.

The stamp (:data:`STAMP`, JSON) records what the report was drawn from: the SHA-256 of
``manifest.json``, of the stored design's scenarios, of every chunk file (as verified in full when the report read them), the
version of the code that draws reports (:func:`code_version`: the source of ``experiments/``,
the model's fingerprint and the versions of the packages that shape the numbers and figures),
the baseline, and the SHA-256 of every file the report wrote. The report is current when all of
these are what they are now, the chunks' bytes hashed afresh: nothing in it can go stale, and a
chunk damaged since (its bytes no longer those that were verified) makes the report read, and
so check, every chunk again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..io import atomic_write_text
from ..provenance import REPO_ROOT, model_fingerprint, package_versions
from ..sweep.integrity import chunk_name, read_checksum
from ..sweep.store import ResultStore
from ..sweep.verify import file_digests

STAMP = "report.stamp.json"
STAMP_FORMAT = 1
CODE_DIR = REPO_ROOT / "experiments"


@lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of everything that shapes a report besides its inputs: the source of
    ``experiments/`` (analysis, figures, statistics, design), the model's fingerprint (the fan
    chart re-runs the model) and the installed versions of the packages that compute and draw."""
    digest = hashlib.sha256()
    for path in sorted(CODE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(CODE_DIR)).encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(model_fingerprint().encode())
    digest.update(json.dumps(package_versions(), sort_keys=True).encode())
    return digest.hexdigest()


def _chunk_files(store: ResultStore) -> list[Path]:
    return [store.chunk_dir / chunk_name(a, b) for a, b in store.chunk_ranges()]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def recorded_chunks(store: ResultStore) -> dict[str, str | None]:
    """Each chunk file's SHA-256 as its ``.sha256`` file holds it (None: no file or no line);
    read before the report reads, and so verifies, the chunks against these."""
    return {path.name: read_checksum(path) if path.is_file() else None for path in _chunk_files(store)}


def _combined(names: Sequence[str], digests: Sequence[str | None]) -> str | None:
    """One SHA-256 over every chunk's name and SHA-256 (None when a chunk has none)."""
    if any(digest is None for digest in digests):
        return None
    lines = "".join(f"{digest}  {name}\n" for name, digest in zip(names, digests, strict=True))
    return hashlib.sha256(lines.encode()).hexdigest()


def stamp(
    store: ResultStore, baseline: Mapping[str, Any], chunks: Mapping[str, str | None], written: Sequence[Path]
) -> dict[str, Any]:
    """The stamp of a report just written from ``store``'s chunks ``chunks`` (see
    :func:`recorded_chunks`) against ``baseline``, ``written`` being the files it wrote."""
    return {
        "format": STAMP_FORMAT,
        "code": code_version(),
        "baseline": json.loads(json.dumps(dict(baseline), default=str)),
        "manifest": _sha256(store.manifest_path),
        "design": _sha256(store.design_path),
        "chunks": _combined(list(chunks), list(chunks.values())),
        "files": {path.name: _sha256(path) for path in written},
    }


def write_stamp(
    store: ResultStore, baseline: Mapping[str, Any], chunks: Mapping[str, str | None], written: Sequence[Path]
) -> Path:
    """Write the stamp (:func:`stamp`) beside the report; return its path."""
    path = store.directory / STAMP
    atomic_write_text(path, json.dumps(stamp(store, baseline, chunks, written), indent=1, sort_keys=True) + "\n")
    return path


def is_current(store: ResultStore, baseline: Mapping[str, Any], *, progress: bool = False) -> bool:
    """Whether the report in ``store``'s directory was drawn by this code, against ``baseline``,
    from exactly the manifest and chunk files there now (every chunk's bytes hashed, on every
    core, a progress bar on stderr when ``progress``), and its files are those it wrote."""
    try:
        recorded = json.loads((store.directory / STAMP).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(recorded, dict) or recorded.get("format") != STAMP_FORMAT:
        return False
    if recorded.get("code") != code_version():
        return False
    if recorded.get("baseline") != json.loads(json.dumps(dict(baseline), default=str)):
        return False
    if recorded.get("manifest") != _sha256(store.manifest_path) or recorded.get("design") != _sha256(store.design_path):
        return False
    files = recorded.get("files")
    if not isinstance(files, dict) or not files:
        return False
    if any(_sha256(store.directory / name) != digest for name, digest in files.items()):
        return False
    chunks = _chunk_files(store)
    if not isinstance(recorded.get("chunks"), str):
        return False
    actual = file_digests(chunks, progress=progress, desc="checking chunks")
    if any(read_checksum(path) != digest for path, digest in zip(chunks, actual, strict=True)):
        return False  # a checksum file damaged since: the report reads, and names, the chunk
    return _combined([path.name for path in chunks], actual) == recorded["chunks"]
