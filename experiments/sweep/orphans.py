"""Workers that never outlive the sweep that started them.

A pool worker runs :func:`guard_worker` first: it asks the kernel to kill it when its parent
dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, Linux) and starts a watcher thread that ends it
within half a second once its parent or the sweep's main process is gone (other systems, and
workers forked by a forkserver, whose parent is the forkserver). Workers ignore SIGINT and die
quietly on SIGTERM: the main process stops them itself, so Ctrl-C gives one line rather than a
traceback per worker.
With the workers gone, multiprocessing's resource tracker and forkserver see their pipes
close and exit too, so nothing is left running when the main process ends, even by SIGKILL.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path

from ..io import pid_exists

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # no /proc: whether the process exists at all
        return pid_exists(pid)
    return state not in ("Z", "X")


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the watcher thread does it
        pass


def guard_worker(main_pid: int) -> None:
    """Pool initializer: end this worker when its parent or the process ``main_pid`` (the
    sweep) ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the command's handler: end quietly
    parent = os.getppid()
    _die_with_parent()
    if not process_alive(main_pid) or os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(POLL_SECONDS)
            if os.getppid() != parent or not process_alive(main_pid):
                os._exit(1)

    threading.Thread(target=watch, name="escalation-orphan-watch", daemon=True).start()
