"""Errors a user can act on, and the CLI's exit codes."""

from __future__ import annotations

# Exit codes of `python -m controller`.
EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed (nodes unhealthy, ...)
EXIT_USAGE = 2  # bad flags, files or values; nothing was started
EXIT_NO_TESTBED = 3  # no run directory or testbed state where one was expected
EXIT_CONFLICT = 4  # ports in use, a testbed of that name already up


class ControllerError(Exception):
    """An error with a message for the user and the exit code to leave with."""

    exit_code = EXIT_FAILED


class UsageError(ControllerError):
    exit_code = EXIT_USAGE


class NoTestbedError(ControllerError):
    exit_code = EXIT_NO_TESTBED


class ConflictError(ControllerError):
    exit_code = EXIT_CONFLICT


class StartError(ControllerError):
    """Nodes did not come up; everything started has been stopped again."""

    exit_code = EXIT_FAILED
