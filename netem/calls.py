"""One command through a Runner, bounded in time, logged, errors wrapped."""

from __future__ import annotations

import logging
import shlex
import threading

from netem.errors import CommandFailed, CommandTimeout
from netem.plan import Runner

log = logging.getLogger("netem")


def call(run: Runner, argv: list[str], timeout_s: float) -> tuple[int, str]:
    """The runner's (exit code, output) for argv. A runner that raises is a
    command that could not run (CommandFailed with code None); one that
    gives no answer within timeout_s raises CommandTimeout, and is left to
    finish in the background: a Runner cannot be cancelled from outside."""
    log.debug("run: %s", shlex.join(argv))
    answer: list[tuple[int, str]] = []
    failure: list[Exception] = []

    def target() -> None:
        try:
            answer.append(run(argv))
        except Exception as exc:
            failure.append(exc)

    worker = threading.Thread(target=target, name="netem-command", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise CommandTimeout(argv, timeout_s)
    if failure:
        raise CommandFailed(argv, None, repr(failure[0])) from failure[0]

    code, output = answer[0]
    if code != 0:
        log.debug("exit %d: %s", code, output.strip())
    return code, output


def must(run: Runner, argv: list[str], timeout_s: float) -> str:
    """The output of argv; CommandFailed unless it exits 0."""
    code, output = call(run, argv, timeout_s)
    if code != 0:
        raise CommandFailed(argv, code, output)
    return output
