"""Probe a link: ping a peer through this node's own transport, and so
through its link faults, and report what came back and how fast."""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import Counter

from node.faults import FaultError
from node.transport import PeerUnavailable, Transport
from protos import heal_pb2

log = logging.getLogger("node.faults")

MAX_PINGS = 10_000
MAX_TIMEOUT_S = 600.0
PING_GRACE_S = 1.0  # past a ping's own deadline, before the probe gives up on it


def check_probe(
    request: heal_pb2.ProbeRequest, me: int, max_message_bytes: int
) -> heal_pb2.PingRequest:
    """The ping that request asks for; FaultError naming a bad field."""
    host, _, port = request.address.rpartition(":")
    if not host or not port.isdigit():
        raise FaultError(f"address: '{request.address}' is not host:port")
    if not 1 <= request.count <= MAX_PINGS:
        raise FaultError(f"count: {request.count} is not within 1..{MAX_PINGS}")
    if not 0 < request.timeout_s <= MAX_TIMEOUT_S:
        raise FaultError(
            f"timeout_s: {request.timeout_s:g} is not within (0, {MAX_TIMEOUT_S:g}]"
        )
    if not 0 <= request.concurrency <= MAX_PINGS:
        raise FaultError(
            f"concurrency: {request.concurrency} is not within 0..{MAX_PINGS}"
        )
    if request.payload_bytes < 0:
        raise FaultError(f"payload_bytes: {request.payload_bytes} is negative")
    ping = heal_pb2.PingRequest(sender_id=me, padding=bytes(request.payload_bytes))
    if ping.ByteSize() > max_message_bytes:
        raise FaultError(
            f"payload_bytes: a ping with {request.payload_bytes} bytes of padding "
            f"is {ping.ByteSize()} bytes, more than max_message_bytes "
            f"({max_message_bytes})"
        )
    return ping


async def probe(
    transport: Transport,
    request: heal_pb2.ProbeRequest,
    me: int,
    max_message_bytes: int,
) -> heal_pb2.ProbeReply:
    ping = check_probe(request, me, max_message_bytes)
    rtts_ms: list[float] = []
    failures: Counter[str] = Counter()
    turns = iter(range(request.count))  # shared: each ping is taken once

    async def pinger() -> None:
        for _ in turns:
            start = time.perf_counter()
            call = transport.call(
                request.address, "ping", lambda s: s.Ping, ping, request.timeout_s
            )
            try:
                # The RPC's own deadline has been seen not to fire on a
                # channel whose peer was just cut off; bound it here too.
                await asyncio.wait_for(call, request.timeout_s + PING_GRACE_S)
            except PeerUnavailable as exc:
                failures[exc.code.name] += 1
            except TimeoutError:
                failures["DEADLINE_EXCEEDED"] += 1
            else:
                rtts_ms.append((time.perf_counter() - start) * 1000)

    workers = min(max(1, request.concurrency), request.count)
    await asyncio.gather(*(pinger() for _ in range(workers)))
    log.info(
        "probe %s: %d of %d back%s, failures %s",
        request.address,
        len(rtts_ms),
        request.count,
        f" (median {statistics.median(rtts_ms):.1f} ms)" if rtts_ms else "",
        dict(failures) or "none",
    )
    return heal_pb2.ProbeReply(
        rtt_ms=rtts_ms, failures=failures.total(), failure_codes=dict(failures)
    )
