"""Periodic loops that end promptly when the node stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable


async def every(
    period_s: float,
    stop: asyncio.Event,
    step: Callable[[], Awaitable[None]],
    log: logging.Logger,
    what: str,
) -> None:
    """Run step() at most once per period until stop is set; a failing step is
    logged and the loop goes on (one bad cycle must not end the node)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            await step()
        except Exception:
            log.exception("%s failed", what)
        delay = max(0.0, period_s - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
