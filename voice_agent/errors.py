"""Errors that reach the user as one line: shared by the CLI and the commands it runs."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""
