"""Files written so that nothing already written is lost or half-written, and the user's TOML
files read with one-line errors. A leaf: imports nothing from the packages of experiments/.

Every file is written to a temporary file in the same directory and renamed into place, so a
killed process leaves the old file or the new one and, at worst, temporary files that
:func:`clean_temporary_files` removes later.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from .errors import UserError

TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 24 * 3600
_TMP_NAME = re.compile(rf"^{re.escape(TMP_PREFIX)}(?P<host>.+)-(?P<pid>\d+)-[A-Za-z0-9_]+(\.\w+)?$")


def _tmp_prefix() -> str:
    """Temporary files carry the writer's host and pid, so a cleaner can tell a dead writer's
    leftovers from a live writer's file in progress."""
    return f"{TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, fsync,
    then rename over the target, so a reader (or a crash) sees the old file or the new one,
    never a part of either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(), suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; results are meant to be shared
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:  # name the file in the one-line message (a full disk says nothing)
            raise type(error)(error.errno, error.strerror, str(path)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def pid_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (``kill(pid, 0)``: one we may not signal
    exists too; a zombie counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_temporary_files(*directories: Path) -> list[Path]:
    """Remove, directly inside ``directories``, the temporary files this program wrote and whose
    writer is gone (same host, process no longer running) or that are older than a day; return
    what was removed. Live writers' files, and files of other names, are left alone."""
    removed = []
    host = socket.gethostname()
    for directory in directories:
        for path in Path(directory).glob(f"{TMP_PREFIX}*"):
            match = _TMP_NAME.match(path.name)
            if match is None or not path.is_file():
                continue
            stale = time.time() - path.stat().st_mtime > STALE_TMP_SECONDS
            dead = match["host"] == host and not pid_exists(int(match["pid"]))
            if stale or dead:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def read_toml(path: str | Path, kind: str) -> dict[str, Any]:
    """A user's TOML file (``kind``: "config", "scenario") as a dict; a missing, unreadable or
    malformed file is a one-line :class:`UserError`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a {kind} file; give the {kind} file itself (TOML)")
    if not path.is_file():
        raise UserError(f"{kind} file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: malformed TOML: {error}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
