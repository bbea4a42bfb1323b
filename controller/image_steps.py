"""Errors of the node image build, and running its steps with output logged.

A step is an external command (debootstrap, pip) or the engine's build.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections import deque
from typing import Any

import docker
import requests

from controller.errors import ControllerError

TAIL_LINES = 20
BUILD_TIMEOUT_S = 1800


class ImageError(ControllerError):
    """Building the node image, or its base image, failed."""


def run_step(
    argv: list[str],
    *,
    what: str,
    log: logging.Logger,
    env: dict[str, str] | None = None,
) -> None:
    """Run one command, its output to the log at DEBUG.

    Raises ImageError carrying the command and its last output lines when it
    cannot start or exits non-zero.
    """
    log.debug("%s: running %s", what, shlex.join(argv))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
    except OSError as exc:
        raise ImageError(f"{what}: cannot run {argv[0]!r}: {exc}") from exc

    assert proc.stdout is not None
    with proc:
        for raw in proc.stdout:
            line = raw.rstrip()
            log.debug("%s: %s", what, line)
            tail.append(line)
    if proc.returncode != 0:
        raise ImageError(
            f"{what} failed with exit code {proc.returncode}: {shlex.join(argv)}\n"
            + last_lines(tail)
        )


def engine_build(
    client: docker.DockerClient,
    *,
    context: str,
    tag: str,
    buildargs: dict[str, str],
    labels: dict[str, str],
    nocache: bool,
    log: logging.Logger,
) -> None:
    """Build context into tag with the engine, its output to the log.

    Each Dockerfile step is logged at INFO, everything else at DEBUG; a
    failure raises ImageError with the last lines of output.
    """
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        chunks = client.api.build(
            path=context,
            tag=tag,
            buildargs=buildargs,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            nocache=nocache,
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        for chunk in chunks:
            error = _log_chunk(chunk, tail, log)
            if error is not None:
                tail.append(error)
                raise ImageError(f"building {tag} failed:\n{last_lines(tail)}")
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ImageError(f"building {tag} failed: {exc}\n{last_lines(tail)}") from exc


def _log_chunk(
    chunk: dict[str, Any], tail: deque[str], log: logging.Logger
) -> str | None:
    """Log one decoded build message; return the engine's error if it is one."""
    if "error" in chunk:
        return str(chunk["error"]).rstrip()
    for line in str(chunk.get("stream", "")).splitlines():
        if not line.strip():
            continue
        tail.append(line)
        # The classic builder announces each Dockerfile instruction so.
        if line.startswith("Step "):
            log.info("build %s", _shorten(line))
        else:
            log.debug("build: %s", line)
    return None


def _shorten(line: str, width: int = 100) -> str:
    flat = " ".join(line.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def last_lines(lines: deque[str] | list[str]) -> str:
    """The given output lines, indented, for an error message."""
    if not lines:
        return "  (no output)"
    return "\n".join(f"  | {line}" for line in lines)
