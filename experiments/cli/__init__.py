"""The ``escalation`` command. Thin: parses arguments, calls the library, prints.

One module per command, each registered the same way: it defines

* ``add_parser(subparsers) -> argparse.ArgumentParser``: add the command, its help and options;
* ``run(args) -> int``: do it, returning the exit status;

and is listed in :data:`COMMANDS`. A new command is a new module and one line there.

The top of the import graph (``cli -> app -> analysis -> sweep -> history -> leaves -> model``).
The commands import the library inside ``run``, for start-up speed only (``--help`` and a bad
argument answer before numpy, pandas and matplotlib load).

Bad input of any kind (unknown parameter, value out of range, malformed config, missing file)
ends with one line on standard error naming the problem and what is allowed, and exit
status 2; nothing already written is touched. A fault that is not the input (a worker or the
Dask scheduler died, the disk is full, a results file is damaged) ends with one line and exit
status 3; SIGTERM with one line and 143, Ctrl-C with 130. Finished chunks are kept in every
case, and rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

# The model does no linear algebra, and sweeps parallelise over processes: BLAS thread pools and
# pyarrow's jemalloc background thread would only oversubscribe the cores and make this process
# multi-threaded, which rules out forking workers (the fastest start). Set before numpy loads;
# a user's explicit settings win.
for _name, _value in (
    ("OPENBLAS_NUM_THREADS", "1"),
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("JE_ARROW_MALLOC_CONF", "background_thread:false"),
):
    os.environ.setdefault(_name, _value)
# After a SIGKILL of the sweep, multiprocessing's resource tracker cleans up the pool's semaphores
# and would warn about each "leak" on our stderr; the cleaning is its job, the warning noise.
sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")

from model.params import ParameterError  # noqa: E402  (after the thread settings above)

from ..errors import EXIT_FAULT, Fault, Terminated, UserError  # noqa: E402
from . import app, bench, calibrate, discover, params, replay, report, run, sensitivity, sweep, validate  # noqa: E402
from .common import EXIT_USAGE, Parser  # noqa: E402

EXIT_TERMINATED = 128 + signal.SIGTERM

COMMANDS = (run, sweep, params, replay, calibrate, validate, report, bench, sensitivity, discover, app)
"""The command modules, in the order ``escalation --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The ``escalation`` argument parser, one sub-command per module of :data:`COMMANDS`."""
    parser = Parser(
        prog="escalation",
        description=(
            "Agent-based model of pressure, engagement and talks on the Korean peninsula: single runs, "
            "policy sweeps, reports, historical replay and calibration."
        ),
        epilog="Run `escalation COMMAND --help` for the options of a command. Exit status: 0 done; 2 bad input "
        "(one line says what and what is allowed); 3 a fault that is not the input (a worker or the Dask "
        "scheduler died, the disk is full, a results file is damaged: rerun the same command to resume); "
        "130 Ctrl-C; 143 SIGTERM.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(subparsers).set_defaults(func=command.run)
    return parser


def _fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    print(f"escalation: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(status)


def _os_error(error: OSError) -> str:
    """One line for an operating-system error while reading or writing files."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"the disk is full{where}: free some space and rerun the same command (nothing half-written is kept "
            "or used; a sweep resumes from its finished chunks)"
        )
    reason = error.strerror or (str(error).splitlines() or [type(error).__name__])[0]
    return f"{reason}{where}: fix the cause and rerun the same command (a sweep resumes from its finished chunks)"


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``escalation`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded use): leave SIGTERM alone
        previous = None
    try:
        return int(args.func(args) or 0)
    except (ParameterError, UserError) as error:
        _fail(str(error))
    except Fault as error:
        _fail(str(error), EXIT_FAULT)
    except FileNotFoundError as error:
        _fail(f"file not found: {error.filename or error}")
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as error:  # a full disk, an I/O error, a file we may not write
        _fail(_os_error(error), EXIT_FAULT)
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("escalation: terminated (SIGTERM); finished chunks are kept and a rerun resumes", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("escalation: interrupted; finished chunks are kept and a rerun resumes", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
