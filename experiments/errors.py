"""The one error type the command line turns into a one-line message and exit status 2."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user (config, scenario, record file, option): the message is one
    line naming the problem and what is allowed."""
