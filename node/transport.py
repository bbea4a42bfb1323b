"""Outgoing gRPC calls to peers: one channel per address, deadlines, counting.

Every message a node sends goes through `Transport.call`, so that the wire
counters and the egress side of in-node link faults live in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from node.faults import EGRESS, PEER_METADATA, LinkFaults
from node.metrics import NodeMetrics
from protos import heal_pb2_grpc

log = logging.getLogger("node.transport")

Reply = TypeVar("Reply", bound=Message)


class PeerUnavailable(Exception):
    """A call to a peer failed or ran past its deadline."""

    def __init__(self, address: str, kind: str, code: grpc.StatusCode) -> None:
        super().__init__(f"{kind} to {address}: {code.name}")
        self.address = address
        self.code = code


def channel_options(max_message_bytes: int) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        # Peers come and go; reconnect quickly instead of backing off for
        # minutes, so that a restarted node is reachable again within a cycle.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1000),
        ("grpc.enable_retries", 0),
    ]


class Transport:
    def __init__(
        self,
        metrics: NodeMetrics,
        max_message_bytes: int,
        address: str,
        faults: LinkFaults,
    ) -> None:
        """address: this node's advertised host:port, sent with every call so
        that the peer's link faults know where it comes from."""
        self._metrics = metrics
        self._options = channel_options(max_message_bytes)
        self._metadata = ((PEER_METADATA, address),)
        self._faults = faults
        self._stubs: dict[str, heal_pb2_grpc.NodeStub] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._duplicates: set[asyncio.Task[None]] = set()

    def stub(self, address: str) -> heal_pb2_grpc.NodeStub:
        stub = self._stubs.get(address)
        if stub is None:
            channel = grpc.aio.insecure_channel(address, options=self._options)
            self._channels[address] = channel
            stub = heal_pb2_grpc.NodeStub(channel)
            self._stubs[address] = stub
        return stub

    async def call(
        self,
        address: str,
        kind: str,
        method: Callable[[heal_pb2_grpc.NodeStub], Callable[..., Awaitable[Reply]]],
        request: Message,
        timeout: float,
        reply_kind: str | None = None,
    ) -> Reply:
        """Send one request through this node's egress link faults; count it;
        raise PeerUnavailable on any RPC error.

        reply_kind names the reply as a message of its own (a model coming
        back); otherwise its bytes count under the request's kind.
        """
        m = self._metrics
        size = request.ByteSize()
        m.sent.labels(kind).inc()
        m.bytes_sent.labels(kind).inc(size)

        fate = self._faults.fate(EGRESS, address, size)
        if not await fate.hold(timeout):
            raise self._failed(address, kind, grpc.StatusCode.DEADLINE_EXCEEDED)
        send = method(self.stub(address))
        timeout -= fate.wait_s
        if fate.duplicate:
            task = asyncio.create_task(self._duplicate(send, request, timeout))
            self._duplicates.add(task)
            task.add_done_callback(self._duplicates.discard)
        try:
            reply = await send(request, timeout=timeout, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise self._failed(address, kind, exc.code()) from exc

        size = reply.ByteSize()
        if reply_kind is not None and size:
            m.received.labels(reply_kind).inc()
            m.bytes_received.labels(reply_kind).inc(size)
        else:
            m.bytes_received.labels(kind).inc(size)
        return reply

    def _failed(
        self, address: str, kind: str, code: grpc.StatusCode
    ) -> PeerUnavailable:
        self._metrics.rpc_failures.labels(kind, code.name).inc()
        log.debug("%s to %s failed: %s", kind, address, code.name)
        return PeerUnavailable(address, kind, code)

    async def _duplicate(
        self, send: Callable[..., Awaitable[Message]], request: Message, timeout: float
    ) -> None:
        """The second copy of a duplicated request; its reply is ignored, as
        the caller already has one."""
        try:
            await send(request, timeout=timeout, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            log.debug("duplicate request failed: %s", exc.code().name)

    async def close(self) -> None:
        for task in list(self._duplicates):
            task.cancel()
        for channel in self._channels.values():
            await channel.close(grace=None)
        self._channels.clear()
        self._stubs.clear()
