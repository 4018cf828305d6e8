"""``escalation app [--port N] [--results DIR]``: serve the explorer on 127.0.0.1.

Light on imports (the command line loads it for every command); the server itself is
``solara run experiments.app.pages``, started in this process (``exec``), so the process id the
command was started with is the server's: stopping that process stops the server.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

from ..errors import UserError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "experiments.app.pages"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {value}")
    return value


def free_port(port: int = 0) -> int:
    """``port`` if it is free on 127.0.0.1 (0: any free port); :class:`UserError` if it is taken."""
    if port:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            if client.connect_ex((HOST, port)) == 0:  # something listens there (another server, say)
                raise UserError(f"port {port} on {HOST} is in use; choose another with --port (0 picks a free one)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds (TIME_WAIT is free)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise UserError(
                f"port {port} on {HOST} is in use; choose another with --port (0 picks a free one)"
            ) from None
        return probe.getsockname()[1]


def server_command(port: int) -> list[str]:
    """The command that serves the app on ``HOST:port``."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        HOST,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def cmd_app(args: argparse.Namespace) -> int:
    """Check the port (and the results directory, if given), print the addresses, become the server."""
    port = free_port(args.port)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}  # no calls home from the server
    if args.results is not None:
        env["ESCALATION_RESULTS"] = str(Path(args.results).resolve())
        from .sweep import open_view

        problem = open_view(args.results)[1]
        if problem:
            print(
                f"escalation app: note: {problem} (the sweep page says so; pick another directory there)",
                file=sys.stderr,
            )
    print(
        f"escalation app: starting the server on {HOST}:{port}; its address follows once it answers "
        "(up to a minute or two on a busy machine)",
        file=sys.stderr,
        flush=True,
    )
    announce_when_up(port, os.getpid())
    os.execve(sys.executable, server_command(port), env)
    return 0  # pragma: no cover (exec does not return)


STARTUP_LIMIT = 600
"""Seconds the announcer waits for the server to answer before it gives up silently."""


def address_line(port: int) -> str:
    """The line that tells the user where the explorer is."""
    return (
        f"escalation app: serving http://{HOST}:{port}/ (one run) and http://{HOST}:{port}/sweep (sweep explorer); "
        "Ctrl-C stops it"
    )


def announce_when_up(port: int, server: int) -> None:
    """Print :func:`address_line` once ``HOST:port`` accepts connections, from a detached process,
    so that this process can become the server (its process id stays the server's). The
    announcer gives up when the server's process ends or after :data:`STARTUP_LIMIT` seconds."""
    sys.stdout.flush()
    child = os.fork()
    if child:
        os.waitpid(child, 0)  # the first child exits at once; its child is adopted by init
        return
    if os.fork():
        os._exit(0)
    try:
        end = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < end:
            try:
                os.kill(server, 0)
            except OSError:
                break  # the server has ended
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
                client.settimeout(1)
                if client.connect_ex((HOST, port)) == 0:
                    print(address_line(port), flush=True)
                    break
            time.sleep(0.25)
    finally:
        os._exit(0)


def add_app_parser(sub) -> None:
    """Add the ``app`` sub-command to the command line's sub-parsers."""
    app = sub.add_parser(
        "app",
        help="the interactive explorer in the browser: one run, and a stored sweep",
        description="Serve the interactive explorer on 127.0.0.1 and print its address: '/' runs the model one week at "
        "a time with its levers and main uncertainties as controls (only the controls you move reach the model; "
        "they apply on Reset), '/sweep' browses a results directory written by `escalation sweep` (P(talks) heatmap "
        "with intervals, a policy's time to talks, testing cost and paired contrast with a baseline, the "
        "spread across posterior draws). It reads stored results and never re-runs a sweep. From a "
        "notebook: `from experiments.app.run import page; page`.",
    )
    app.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    app.add_argument(
        "--results",
        metavar="DIR",
        help="results directory the sweep page opens with (default results/policy_posterior, where `make run` writes)",
    )
    app.set_defaults(func=cmd_app)
