"""The error types the command line turns into one line on stderr: :class:`UserError` (bad input,
exit status 2), :class:`Fault` (a fault that is not the input, exit status 3) and
:class:`Terminated` (SIGTERM, exit status 143)."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user (config, scenario, record file, option): the message is one
    line naming the problem and what is allowed."""


EXIT_FAULT = 3
"""Exit status of a fault that is not the user's input: a worker or the Dask scheduler died, the
disk is full, a results file is damaged. Finished chunks are kept; rerunning resumes."""


class Fault(RuntimeError):
    """Something went wrong that is not bad input (see :data:`EXIT_FAULT`): the message is one
    line naming what happened and what to do."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the sweep unwinds as for Ctrl-C (workers stopped,
    finished chunks kept, the lock released)."""
